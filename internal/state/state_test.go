package state

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// liveURL is a URL something answers at until the test ends.
func liveURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return "http://" + ln.Addr().String() + "/"
}

// deadURL is a URL nothing answers at any more (its listener was closed).
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String() + "/"
	ln.Close()
	return u
}

func TestRegisterReadRemove(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub", "listeners")
	if _, err := Read(dir); !errors.Is(err, ErrNoListener) {
		t.Fatalf("no directory: %v, want ErrNoListener", err)
	}
	me := Listener{PID: os.Getpid(), URL: liveURL(t), Store: "/tmp/c.db", Started: time.Unix(1700000000, 0).UTC(),
		Forward: []string{"env=Sandbox=>3000/apple"}, HubFed: true}
	remove, err := Register(dir, me)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, strconv.Itoa(me.PID)+".json")
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("state file mode: %v %v, want 0600", fi.Mode(), err)
		}
	}
	got, err := Read(dir)
	if err != nil || !reflect.DeepEqual(got, me) {
		t.Fatalf("Read = %+v, %v; want %+v", got, err, me)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("listeners dir holds %d entries, want only the record", len(entries))
	}
	remove()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("remove left the file: %v", err)
	}
	if _, err := Read(dir); !errors.Is(err, ErrNoListener) {
		t.Fatalf("after remove: %v, want ErrNoListener", err)
	}
}

// Two listeners run; the later one stops without removing its file (SIGKILL): the first is
// still found, and the dead one's file is cleaned up. With the single state file of old, the
// later listener's record replaced the first's, so nothing was found.
func TestRunningSeveralAndStale(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Unix(1700000000, 0).UTC()
	alice := Listener{PID: 101, URL: liveURL(t), Started: t0}
	bob := Listener{PID: 102, URL: deadURL(t), Started: t0.Add(time.Minute)}
	for _, l := range []Listener{alice, bob} {
		if _, err := Register(dir, l); err != nil {
			t.Fatal(err)
		}
	}
	// A damaged entry is skipped, not fatal.
	if err := os.WriteFile(filepath.Join(dir, "103.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	ls, err := Running(context.Background(), dir)
	if err != nil || len(ls) != 1 || ls[0].URL != alice.URL {
		t.Fatalf("Running = %+v, %v; want only alice", ls, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "102.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the dead listener's file was not cleaned: %v", err)
	}
	if got, err := Read(dir); err != nil || got.URL != alice.URL {
		t.Errorf("Read = %+v, %v; want alice", got, err)
	}
}

func TestRunningOrder(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Unix(1700000000, 0).UTC()
	for _, pid := range []int{201, 203, 202} {
		if _, err := Register(dir, Listener{PID: pid, URL: liveURL(t), Started: t0.Add(time.Duration(pid-200) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	ls, err := Running(context.Background(), dir)
	if err != nil || len(ls) != 3 {
		t.Fatalf("Running = %+v, %v", ls, err)
	}
	for i, want := range []int{203, 202, 201} {
		if ls[i].PID != want {
			t.Errorf("Running[%d].PID = %d, want %d (most recently started first)", i, ls[i].PID, want)
		}
	}
}

func TestChoose(t *testing.T) {
	t0 := time.Unix(1700000000, 0).UTC()
	hub := Listener{PID: 1, URL: "http://127.0.0.1:8080/", Hub: true, Started: t0}
	alice := Listener{PID: 2, URL: "http://127.0.0.1:8081/", HubFed: true, Started: t0.Add(time.Minute)}
	bob := Listener{PID: 3, URL: "http://127.0.0.1:8082/", HubFed: true, Started: t0.Add(2 * time.Minute)}
	for _, c := range []struct {
		name       string
		ls         []Listener // most recent first, as Running returns them
		want       int
		wantOthers int
	}{
		{"the hub over its later listeners", []Listener{bob, alice, hub}, 1, 2},
		{"the only listener", []Listener{alice}, 2, 0},
		{"the most recent of several", []Listener{bob, alice}, 3, 1},
	} {
		got, others, err := Choose(c.ls)
		if err != nil || got.PID != c.want || len(others) != c.wantOthers {
			t.Errorf("%s: Choose = %d, %d others, %v; want %d, %d others", c.name, got.PID, len(others), err, c.want, c.wantOthers)
		}
	}
	if _, _, err := Choose(nil); !errors.Is(err, ErrNoListener) {
		t.Errorf("Choose(nil) = %v, want ErrNoListener", err)
	}
}

// A listener bound to every address is asked on loopback (Windows cannot dial 0.0.0.0).
func TestAnswersUnspecifiedAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Skipf("cannot bind every address here: %v", err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	if !answers(context.Background(), "http://0.0.0.0:"+port+"/") {
		t.Error("a listener on 0.0.0.0 does not count as answering")
	}
}
