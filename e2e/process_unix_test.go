//go:build !windows

package e2e

import (
	"errors"
	"syscall"
)

// terminate sends SIGTERM to pid, as a service manager or `kill` would.
func terminate(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }

// processAlive reports whether pid still exists (signal 0 checks without signalling).
func processAlive(pid int) bool { return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) }
