package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/internal/testfs"
	"github.com/s2s-dev/s2s/store"
)

// listenOnStore runs s2s listen on the store at path until it exits (30 s at most) and returns
// its exit code and stderr; a listener that starts serving is a failure of the caller's check.
func listenOnStore(t *testing.T, dir, path string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary, "listen", "--output", "lines", "--addr", "127.0.0.1:0", "--store", path)
	cmd.Env = Env(dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("s2s listen started on the store and served: %s", stderr.String())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	t.Logf("s2s listen: exit %d\n%s", cmd.ProcessState.ExitCode(), stderr.String())
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// seedStore writes n captures to a new store at path.
func seedStore(t *testing.T, path string, n int) {
	t.Helper()
	s, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range n {
		c := &store.Capture{Method: "POST", Path: "/", Body: bytes.Repeat([]byte{'a' + byte(i%26)}, 8000)}
		if err := s.Insert(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestListenRefusesAStoreItCannotKeep: a store that is damaged, an empty file, or in a directory
// that cannot be written makes s2s listen refuse to start, exit 1, and say what to do, where it
// used to start and answer every notification 500 (or make a new store of the empty file); the
// read-only store still reads with s2s captures list.
func TestListenRefusesAStoreItCannotKeep(t *testing.T) {
	t.Run("damaged", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "captures.db")
		seedStore(t, path, 150)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := len(b) * 3 / 10; i < len(b)*6/10; i++ { // the capture pages; the header and schema stay readable
			b[i] = 0xA5
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		code, stderr := listenOnStore(t, dir, path)
		if code != 1 || !strings.Contains(stderr, "the capture store "+path+" is damaged") || !strings.Contains(stderr, "move it aside") {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
	})

	t.Run("empty file", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "captures.db")
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		code, stderr := listenOnStore(t, dir, path)
		if code != 1 || !strings.Contains(stderr, "is an empty file (0 bytes), not a capture store") {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
		if st, err := os.Stat(path); err != nil || st.Size() != 0 {
			t.Errorf("the empty file was made into a store: %v %v", st, err)
		}
	})

	t.Run("read-only directory", func(t *testing.T) {
		dir := t.TempDir()
		roDir := filepath.Join(dir, "ro")
		path := filepath.Join(roDir, "captures.db")
		seedStore(t, path, 1)
		testfs.MakeDirReadOnly(t, roDir)
		code, stderr := listenOnStore(t, dir, path)
		if code != 1 || !strings.Contains(stderr, "s2s listen cannot write to the capture store "+path) || !strings.Contains(stderr, "choose another store with --store") {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
		// Reads work, as docs/captures.md promises.
		if got := capturesListJSON(t, dir, "--store", path); len(got) != 1 {
			t.Errorf("captures list on the read-only store: %d captures, want 1", len(got))
		}
	})
}
