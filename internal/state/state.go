// Package state is the small files through which each running `s2s listen` or `s2s hub` tells other s2s commands
// (send-test, the TUI's own test key, replay) where it can be reached and where it forwards.
package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Listener describes a running `s2s listen` or `s2s hub`. Each running one records itself in a file
// of its own in the listeners directory, so several can run at once and stopping one leaves the
// others findable.
type Listener struct {
	PID       int    `json:"pid"`
	URL       string `json:"url"`                 // local URL notifications are posted to
	PublicURL string `json:"publicUrl,omitempty"` // tunnel URL, when one runs
	Store     string `json:"store"`
	// Hub is set for `s2s hub`: where Apple's notifications enter, and listeners get them from it.
	Hub bool `json:"hub,omitempty"`
	// HubFed is set for `s2s listen --hub`: it also receives what its hub receives.
	HubFed bool `json:"hubFed,omitempty"`
	// Forward are its --forward-to targets as given (rules included), so that s2s replay
	// delivers to them the way listen would, and takes over listen's pending retries.
	Forward []string  `json:"forward,omitempty"`
	Started time.Time `json:"started"`
}

// ErrNoListener means no running listener was found.
var ErrNoListener = errors.New("no running `s2s listen` found; start one, or give a URL")

// maxEntry bounds how much of one state file is read (they are a few hundred bytes).
const maxEntry = 64 << 10

// dialTimeout bounds the liveness check of one recorded listener.
const dialTimeout = 500 * time.Millisecond

// Register records l as a file of its own (named by its PID) in dir, atomically, and returns the
// function that removes it when the listener stops.
func Register(dir string, l Listener) (remove func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return func() {}, err
	}
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return func() {}, err
	}
	path := filepath.Join(dir, strconv.Itoa(l.PID)+".json")
	tmp, err := os.CreateTemp(dir, strconv.Itoa(l.PID)+".*.tmp")
	if err != nil {
		return func() {}, err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return func() {}, err
	}
	if err := tmp.Close(); err != nil {
		return func() {}, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return func() {}, err
	}
	return func() { _ = os.Remove(path) }, nil
}

// Running returns the listeners recorded in dir that still answer, most recently started first.
// Liveness is judged by a quick TCP dial to the recorded URL's address: portable (no /proc, no
// signals, which Windows lacks) and truthful (a reused PID does not make a dead listener look
// alive). The file of a listener that no longer answers is removed.
func Running(ctx context.Context, dir string) ([]Listener, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading listener state %s: %w", dir, err)
	}
	var out []Listener
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		l, err := read(path)
		if err != nil {
			continue // damaged or being replaced: not a listener to send to
		}
		if !answers(ctx, l.URL) {
			_ = os.Remove(path)
			continue
		}
		out = append(out, l)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Started.After(out[j].Started) })
	return out, nil
}

// Choose picks where a notification with no URL goes, from listeners ordered most recent first:
// a running hub (where Apple's notifications enter; its listeners get them from it), else the
// only listener, else the most recently started one. others are the ones not chosen, for a note
// saying how to pick another.
func Choose(ls []Listener) (chosen Listener, others []Listener, err error) {
	if len(ls) == 0 {
		return Listener{}, nil, ErrNoListener
	}
	pick := 0
	for i, l := range ls {
		if l.Hub {
			pick = i
			break
		}
	}
	for i, l := range ls {
		if i != pick {
			others = append(others, l)
		}
	}
	return ls[pick], others, nil
}

// Read returns the listener a command with no URL should use (see Choose) from those running in dir.
func Read(dir string) (Listener, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ls, err := Running(ctx, dir)
	if err != nil {
		return Listener{}, err
	}
	l, _, err := Choose(ls)
	return l, err
}

// answers reports whether something accepts TCP connections at rawURL's address.
func answers(ctx context.Context, rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return false
	}
	name, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	// A listener bound to every address (--addr 0.0.0.0:8080) records that address; Windows
	// refuses to dial it, so ask the loopback address, which it also serves.
	if ip := net.ParseIP(name); ip != nil && ip.IsUnspecified() {
		name = "127.0.0.1"
		if ip.To4() == nil {
			name = "::1"
		}
	}
	host := net.JoinHostPort(name, port)
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func read(path string) (Listener, error) {
	var l Listener
	f, err := os.Open(path)
	if err != nil {
		return l, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxEntry))
	if err != nil {
		return l, err
	}
	err = json.Unmarshal(data, &l)
	return l, err
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, os.ErrPermission)
}
