// Package state is the small file through which a running `s2s listen` tells other s2s commands
// (send-test, the TUI's own test key, replay) where it can be reached and where it forwards.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Listener describes a running `s2s listen`.
type Listener struct {
	PID       int    `json:"pid"`
	URL       string `json:"url"`                 // local URL notifications are posted to
	PublicURL string `json:"publicUrl,omitempty"` // tunnel URL, when one runs
	Store     string `json:"store"`
	// Forward are its --forward-to targets as given (rules included), so that s2s replay
	// delivers to them the way listen would, and takes over listen's pending retries.
	Forward []string  `json:"forward,omitempty"`
	Started time.Time `json:"started"`
}

// ErrNoListener means no running listener was found.
var ErrNoListener = errors.New("no running `s2s listen` found; start one, or give a URL")

// Write records l at path atomically.
func Write(path string, l Listener) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Remove deletes the state file if it still names this process.
func Remove(path string, pid int) {
	if l, err := read(path); err == nil && l.PID == pid {
		_ = os.Remove(path)
	}
}

// Read returns the running listener recorded at path; a file left by a dead process is ignored.
func Read(path string) (Listener, error) {
	l, err := read(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Listener{}, ErrNoListener
		}
		return Listener{}, fmt.Errorf("reading listener state %s: %w", path, err)
	}
	if !alive(l.PID) {
		return Listener{}, ErrNoListener
	}
	return l, nil
}

func read(path string) (Listener, error) {
	var l Listener
	data, err := os.ReadFile(path)
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
