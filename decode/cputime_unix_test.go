//go:build unix

package decode_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used (user + system), so benchmarks can report a
// per-core rate that does not depend on how busy the machine is.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
