package state

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestConnectRecord(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "connect-com.example.app.json")
	if _, err := ReadConnect(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("no record: %v, want ErrNotExist", err)
	}
	rec := Connect{BundleID: "com.example.app", AppID: "1001", PreviousURL: "https://api.example.com/sandbox",
		PreviousVersion: "V2", PID: os.Getpid(), Started: time.Unix(1700000000, 0).UTC()}
	if err := WriteConnect(path, rec); err != nil {
		t.Fatal(err)
	}
	rec.SetURL = "https://tunnel.example/"
	if err := WriteConnect(path, rec); err != nil { // replaces the record
		t.Fatal(err)
	}
	got, err := ReadConnect(path)
	if err != nil || got != rec {
		t.Fatalf("ReadConnect = %+v, %v; want %+v", got, err, rec)
	}
	if !got.Running() {
		t.Error("this process's record does not count as running")
	}
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("record mode %v %v, want 0600", fi.Mode(), err)
		}
	}
	// No temporary file is left beside it.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("state dir holds %d entries, want only the record", len(entries))
	}
	if err := RemoveConnect(path); err != nil {
		t.Fatal(err)
	}
	if err := RemoveConnect(path); err != nil {
		t.Errorf("removing a record twice: %v", err)
	}
	if _, err := ReadConnect(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after remove: %v", err)
	}
}

func TestConnectRecordDamaged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "connect-x.json")
	for _, body := range []string{"{", `{"bundleId":"com.example.app"}`} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadConnect(path); err == nil || errors.Is(err, os.ErrNotExist) {
			t.Errorf("ReadConnect(%q) = %v, want an error naming the damage", body, err)
		}
	}
}
