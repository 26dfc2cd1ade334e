package relay

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseRate reads a pace such as "5/s", "30/m", "100/h" or a bare "5" (per second) and returns the
// interval between two sends; "" and "0" mean no limit (0).
func ParseRate(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	num, unit, hasUnit := strings.Cut(s, "/")
	per := time.Second
	if hasUnit {
		switch strings.ToLower(strings.TrimSpace(unit)) {
		case "s", "sec", "second":
			per = time.Second
		case "m", "min", "minute":
			per = time.Minute
		case "h", "hour":
			per = time.Hour
		default:
			return 0, fmt.Errorf("rate %q: the unit after / must be s, m or h (e.g. 5/s)", s)
		}
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || !(n > 0 && n <= 1e6) {
		return 0, fmt.Errorf("rate %q: write a positive number of sends per s, m or h, e.g. 5/s or 30/m", s)
	}
	every := time.Duration(float64(per) / n)
	if every <= 0 {
		every = time.Nanosecond
	}
	return every, nil
}

// Pacer spaces sends at least Every apart; the first send is not delayed.
type Pacer struct {
	Every time.Duration
	next  time.Time
}

// Wait blocks until the next send may start, or ctx ends.
func (p *Pacer) Wait(ctx context.Context) error {
	if p.Every <= 0 {
		return ctx.Err()
	}
	now := time.Now()
	if p.next.After(now) {
		t := time.NewTimer(p.next.Sub(now))
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		now = p.next
	}
	p.next = now.Add(p.Every)
	return ctx.Err()
}

// ParseBackoff reads a retry schedule such as "1s,5s,30s,2m,10m"; "none" or "0" means no retries.
func ParseBackoff(s string) ([]time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if s == "none" || s == "0" {
		return []time.Duration{}, nil
	}
	var out []time.Duration
	for part := range strings.SplitSeq(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("retry schedule %q: each wait is a duration such as 500ms, 5s or 2m, separated by commas; or none", s)
		}
		out = append(out, d)
	}
	if len(out) > 20 {
		return nil, fmt.Errorf("retry schedule %q: at most 20 retries", s)
	}
	return out, nil
}

func mustParseBackoff(s string) []time.Duration {
	b, err := ParseBackoff(s)
	if err != nil {
		panic(err)
	}
	return b
}
