//go:build !windows

package tunnel

import (
	"errors"
	"syscall"
)

// processAlive reports whether pid still exists (signal 0 checks without signalling).
func processAlive(pid int) bool { return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) }
