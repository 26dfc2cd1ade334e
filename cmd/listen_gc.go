package cmd

import (
	"math"
	"runtime/debug"
)

// Collector settings of s2s listen, unless GOGC or GOMEMLIMIT say otherwise.
const (
	// listenGCPercent: the receiver's live heap is small (bodies in flight are bounded by the body
	// budget), so at Go's default of 100 the collector runs every few dozen notifications; at
	// 400 a notification costs 4–7% less CPU at 32 in flight (peak RSS 45 → 60 MB).
	listenGCPercent = 400
	// listenMemoryLimit caps what the larger target lets the heap grow to: near it the collector
	// runs as often as it must. With 400 uploads stalled one byte short of 1 MiB (the body budget
	// full), s2s peaks at 113–116 MB with it, 129 MB at Go's defaults, 143–145 MB with 128 MiB.
	listenMemoryLimit = 96 << 20
)

// collectLessOften applies listen's collector settings and returns what restores the previous
// ones. A GOGC or GOMEMLIMIT the user set is left alone, and so is everything when either is set:
// they were chosen together.
func collectLessOften(getenv func(string) string) (restore func()) {
	if getenv == nil || getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	limit := debug.SetMemoryLimit(-1) // reads the current limit
	if limit != math.MaxInt64 {
		return func() {} // set by the program's embedder: keep it
	}
	debug.SetMemoryLimit(listenMemoryLimit)
	percent := debug.SetGCPercent(listenGCPercent)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}
