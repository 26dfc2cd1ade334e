//go:build unix

package benchgen

import (
	"syscall"
	"time"
)

// ProcessCPU is the CPU time this process has used (user + system), so benchmarks can report a
// rate per CPU-second that does not depend on how busy the machine is.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
