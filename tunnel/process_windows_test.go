//go:build windows

package tunnel

import "os"

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
