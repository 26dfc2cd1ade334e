//go:build !unix

package benchgen

import "time"

// ProcessCPU is 0 where the process's CPU time is not read; benchmarks then report wall rates only.
func ProcessCPU() time.Duration { return 0 }
