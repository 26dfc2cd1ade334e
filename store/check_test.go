package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/s2s-dev/s2s/internal/testfs"
)

// fillAndDamage writes captures to a new store at path, closes it, and overwrites the middle of
// the file (capture and body pages; the schema at the start and the planner's statistics at the
// end stay readable, so it still opens).
func fillAndDamage(t *testing.T, path string) {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	bulkInsert(t, s, 300, func(i int) *Capture {
		return &Capture{Method: "POST", Path: "/", Body: bytes.Repeat([]byte{byte(i)}, 4000)}
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(b) * 3 / 10; i < len(b)*6/10; i++ {
		b[i] = 0xA5
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCheckWritable(t *testing.T) {
	ctx := testCtx(t)

	t.Run("a good store passes and keeps nothing of the check", func(t *testing.T) {
		s := openTemp(t)
		if err := s.CheckWritable(ctx); err != nil {
			t.Fatal(err)
		}
		c := &Capture{Method: "POST", Path: "/"}
		if err := s.Insert(ctx, c); err != nil {
			t.Fatal(err)
		}
		if c.ID != 1 {
			t.Errorf("the first capture after the check got ID %d, want 1: the trial insert used an ID", c.ID)
		}
		if n, err := s.Count(ctx, Filter{}); err != nil || n != 1 {
			t.Errorf("%d captures (%v), want 1", n, err)
		}
	})

	t.Run("damaged pages", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "captures.db")
		fillAndDamage(t, path)
		s, err := Open(path) // as before: it opens, and every insert would have failed
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer s.Close()
		if err := s.CheckWritable(ctx); !errors.Is(err, ErrCorrupt) {
			t.Errorf("a damaged store: %v, want ErrCorrupt", err)
		}
	})

	t.Run("directory cannot be written (injected)", func(t *testing.T) {
		// Root ignores permission bits; the fault is injected here, and made for real in
		// "directory cannot be written" below and in the e2e tests.
		path := filepath.Join(t.TempDir(), "captures.db")
		seed(t, path)
		checkReadOnlyStore(t, path, func(o *options) { o.dirWritable = func(string) bool { return false } })
	})

	t.Run("directory cannot be written", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "captures.db")
		seed(t, path)
		testfs.MakeDirReadOnly(t, dir)
		checkReadOnlyStore(t, path)
	})
}

// seed writes one capture to a new store at path and closes it (the WAL is checkpointed away).
func seed(t *testing.T, path string) {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Insert(testCtx(t), &Capture{Method: "POST", Path: "/", Body: []byte("kept")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// checkReadOnlyStore: the store at path opens read-only, reads its capture, and refuses writes
// and the start-up check with ErrReadOnly.
func checkReadOnlyStore(t *testing.T, path string, opts ...Option) {
	t.Helper()
	ctx := testCtx(t)
	s, err := Open(path, opts...)
	if err != nil {
		t.Fatalf("Open of a store in a directory that cannot be written: %v", err)
	}
	defer s.Close()
	if !s.ReadOnly() {
		t.Error("ReadOnly() = false")
	}
	got, err := s.Get(ctx, 1)
	if err != nil || string(got.Body) != "kept" {
		t.Errorf("reading: %v", err)
	}
	if err := s.CheckWritable(ctx); !errors.Is(err, ErrReadOnly) {
		t.Errorf("CheckWritable = %v, want ErrReadOnly", err)
	}
	if err := s.Insert(ctx, &Capture{Method: "POST", Path: "/"}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Insert = %v, want ErrReadOnly", err)
	}
}
