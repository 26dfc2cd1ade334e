package sender

import (
	"testing"
	"time"
)

func TestLatencies(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- { // 1..100 ms, reversed: Latencies sorts
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	got := Latencies(lat)
	want := LatencyStats{Average: 50500 * time.Microsecond, P50: 50 * time.Millisecond, P90: 90 * time.Millisecond,
		P95: 95 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if got != want {
		t.Errorf("1..100 ms: %+v, want %+v", got, want)
	}
	if got := Latencies([]time.Duration{7 * time.Millisecond}); got.P50 != 7*time.Millisecond || got.P99 != 7*time.Millisecond || got.Average != 7*time.Millisecond {
		t.Errorf("one: %+v", got)
	}
	if got := Latencies([]time.Duration{1, 2, 3}); got.P50 != 2 || got.P90 != 3 || got.Average != 2 {
		t.Errorf("1,2,3: %+v", got)
	}
	if got := Latencies(nil); got != (LatencyStats{}) {
		t.Errorf("none: %+v", got)
	}
}
