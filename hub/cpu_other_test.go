//go:build !unix

package hub

import "time"

// processCPU is not measured here: the benchmark reports no CPU per message.
func processCPU() (time.Duration, bool) { return 0, false }
