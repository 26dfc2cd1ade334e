package probe

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Status is the outcome of one step.
type Status string

const (
	StatusOK   Status = "ok"
	StatusWarn Status = "warn" // Apple would still deliver, but something deserves attention
	StatusFail Status = "fail" // Apple's delivery would fail here
)

// Step is one check of the probe, printed as one line.
type Step struct {
	Name     string   `json:"name"`  // stable identifier: url, port, dns, address, connect, tls, ...
	Title    string   `json:"title"` // short human label
	Status   Status   `json:"status"`
	Duration Duration `json:"durationMs,omitempty"` // zero for checks that take no network time
	Detail   string   `json:"detail"`
	Fix      string   `json:"fix,omitempty"` // for warn and fail: what to change
}

// Attempt is one try of the delivery; --retries makes more than one.
type Attempt struct {
	Verdict    Verdict  `json:"verdict"`
	Reason     string   `json:"reason"`
	HTTPStatus int      `json:"httpStatus,omitempty"`
	Duration   Duration `json:"durationMs"`
}

// Report is everything the probe found; it marshals to the JSON that `s2s probe --json` prints.
type Report struct {
	URL        string    `json:"url"`
	Verdict    Verdict   `json:"verdict"`
	Meaning    string    `json:"meaning"` // Apple's meaning of the verdict
	Reason     string    `json:"reason"`  // what happened here
	Fix        string    `json:"fix,omitempty"`
	HTTPStatus int       `json:"httpStatus,omitempty"`
	Steps      []Step    `json:"steps"`
	Attempts   []Attempt `json:"attempts"`
	// Realtime is set by a real-time probe (Options.Realtime): the answer, its validation and
	// its time against the budget.
	Realtime *RealtimeAnswer `json:"realtime,omitempty"`
	Started  time.Time       `json:"started"`
	Duration Duration        `json:"durationMs"`
}

// OK reports whether Apple would record SUCCESS.
func (r *Report) OK() bool { return r.Verdict == Success }

// Warnings counts the steps that passed with a warning.
func (r *Report) Warnings() int {
	n := 0
	for _, s := range r.Steps {
		if s.Status == StatusWarn {
			n++
		}
	}
	return n
}

// Step returns the first step with the given name, or nil.
func (r *Report) Step(name string) *Step {
	for i := range r.Steps {
		if r.Steps[i].Name == name {
			return &r.Steps[i]
		}
	}
	return nil
}

// Duration is a time.Duration that travels through JSON as milliseconds with microsecond precision,
// which scripts can compare without parsing Go's duration syntax.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) {
	ms := float64(d) / float64(time.Millisecond)
	return json.Marshal(math.Round(ms*1000) / 1000)
}

func (d *Duration) UnmarshalJSON(b []byte) error {
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return err
	}
	*d = Duration(ms * float64(time.Millisecond))
	return nil
}

// String prints the duration rounded for people: 0.4ms, 12ms, 1.25s.
func (d Duration) String() string {
	t := time.Duration(d)
	switch {
	case t < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(t)/float64(time.Millisecond))
	case t < time.Second:
		return fmt.Sprintf("%dms", t.Milliseconds())
	default:
		return fmt.Sprintf("%.2fs", t.Seconds())
	}
}
