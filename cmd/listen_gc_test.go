package cmd

import (
	"runtime/debug"
	"testing"
)

func gcSettings() (percent int, limit int64) {
	percent = debug.SetGCPercent(100)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}

// TestCollectLessOften: listen runs the collector less often within a memory limit, and restores
// the process's settings on return; a GOGC or GOMEMLIMIT from the environment wins.
func TestCollectLessOften(t *testing.T) {
	percent, limit := gcSettings()
	restore := collectLessOften(func(string) string { return "" })
	p, l := gcSettings()
	restore()
	if p != listenGCPercent || l != listenMemoryLimit {
		t.Errorf("while listening: GOGC %d, memory limit %d; want %d, %d", p, l, listenGCPercent, listenMemoryLimit)
	}
	if p, l := gcSettings(); p != percent || l != limit {
		t.Errorf("after: GOGC %d, memory limit %d; want them restored to %d, %d", p, l, percent, limit)
	}
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		restore := collectLessOften(func(k string) string {
			if k == env {
				return "200"
			}
			return ""
		})
		p, l := gcSettings()
		restore()
		if p != percent || l != limit {
			t.Errorf("with %s set: GOGC %d, memory limit %d; want them left at %d, %d", env, p, l, percent, limit)
		}
	}
}
