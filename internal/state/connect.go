package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Connect records what `s2s listen --connect` replaced in App Store Connect: the app's sandbox
// notification URL and version before the change. It is written before the change is made and
// removed once the old value is back, so after a crash (even SIGKILL) the next `listen --connect`
// or `connect restore` finds it and puts the old value back.
type Connect struct {
	BundleID string `json:"bundleId"`
	AppID    string `json:"appId"` // Apple's id of the app
	// The sandbox setting before listen changed it; "" is null at Apple (no sandbox URL).
	PreviousURL     string `json:"previousUrl"`
	PreviousVersion string `json:"previousVersion"`
	// SetURL is the URL listen set (its public URL); "" until the change is made.
	SetURL string `json:"setUrl"`
	// PendingURL is a URL listen is setting right now (written before the request, cleared after).
	PendingURL string    `json:"pendingUrl,omitempty"`
	PID        int       `json:"pid"` // the listen that made the change
	Started    time.Time `json:"started"`
}

// Running reports whether the listen that recorded c is still running.
func (c Connect) Running() bool { return alive(c.PID) }

// WriteConnect records c at path atomically and durably: a temporary file in the same directory,
// synced, then renamed over the old record, so a crash leaves the old record or the new one, never
// a torn one.
func WriteConnect(path string, c Connect) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename durable where the platform allows it (not on Windows, where opening a
// directory fails; the rename is then as durable as the file system makes it).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// ReadConnect returns the record at path; an error wrapping os.ErrNotExist when there is none.
func ReadConnect(path string) (Connect, error) {
	var c Connect
	data, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("the App Store Connect restore record %s is damaged: %w", path, err)
	}
	if c.AppID == "" || c.BundleID == "" {
		return c, fmt.Errorf("the App Store Connect restore record %s is incomplete", path)
	}
	return c, nil
}

// RemoveConnect deletes the record; one that is already gone is fine.
func RemoveConnect(path string) error {
	err := os.Remove(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err == nil {
		syncDir(filepath.Dir(path))
	}
	return err
}
