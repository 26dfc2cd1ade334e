//go:build windows

package e2e

import "os"

// terminate ends pid. Windows has no SIGTERM; the tests that need a graceful signal skip there.
func terminate(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

// processAlive reports whether pid still exists: on Windows, FindProcess opens a handle only to a
// running process.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	_ = p.Release()
	return true
}
