package state

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestWriteReadRemove(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "listener.json")
	if _, err := Read(path); !errors.Is(err, ErrNoListener) {
		t.Fatalf("no file: %v, want ErrNoListener", err)
	}
	me := Listener{PID: os.Getpid(), URL: "http://127.0.0.1:8080/", Store: "/tmp/c.db", Started: time.Unix(1700000000, 0).UTC(),
		Forward: []string{"env=Sandbox=>3000/apple"}}
	if err := Write(path, me); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode: %v %v, want 0600", fi.Mode(), err)
	}
	got, err := Read(path)
	if err != nil || !reflect.DeepEqual(got, me) {
		t.Fatalf("Read = %+v, %v; want %+v", got, err, me)
	}
	// Another process's file is left alone; this process's own is removed.
	Remove(path, me.PID+1)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("Remove with another PID deleted the file: %v", err)
	}
	Remove(path, me.PID)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Remove with this PID left the file: %v", err)
	}
}

// A file left behind by a listener that died (SIGKILL) does not send s2s send-test to a dead URL.
func TestReadIgnoresDeadProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "listener.json")
	// Above Linux's largest pid_max, so no process can have it.
	if err := Write(path, Listener{PID: 1 << 30, URL: "http://127.0.0.1:1/"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path); !errors.Is(err, ErrNoListener) {
		t.Fatalf("Read of a dead listener's file: %v, want ErrNoListener", err)
	}
}
