package store

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/s2s-dev/s2s/decode"
)

// MethodImport is the method of a capture imported from Apple's notification history
// (s2s history --import): it did not arrive over HTTP, so its arrival time says nothing of
// Apple's delivery.
const MethodImport = "IMPORT"

// LateAfter is when a delivery stops being usual: Apple sends a notification within seconds of
// the event, so a minute or more means a retry, a replay of an old payload, or a queue at Apple.
const LateAfter = time.Minute

// Delay is how long after its signedDate the notification arrived here (ReceivedAt − SignedDate),
// the one place every output takes it from. ok is false when there is nothing to measure: no
// signedDate (not decoded, version 1, not a notification) or no arrival (imported from history).
// It is negative when the signedDate is later than the arrival: the signer's clock or this
// machine's is off, or the date was forged. Dates beyond ±292 years saturate.
func (c *Capture) Delay() (d time.Duration, ok bool) {
	if c.SignedDate.IsZero() || c.ReceivedAt.IsZero() || c.Method == MethodImport {
		return 0, false
	}
	return c.ReceivedAt.Sub(c.SignedDate), true
}

// DelayUnusual reports a delay worth pointing at: an arrival LateAfter or more after the
// signedDate, or a signedDate LateAfter or more in the future. A few seconds either way are
// clocks and networks.
func (c *Capture) DelayUnusual() bool {
	d, ok := c.Delay()
	return ok && (d >= LateAfter || d <= -LateAfter)
}

// DelayMs is Delay in milliseconds for JSON, nil when there is none.
func (c *Capture) DelayMs() *int64 {
	d, ok := c.Delay()
	if !ok {
		return nil
	}
	ms := d.Milliseconds()
	return &ms
}

// FormatDelay writes a delay short and to the precision that matters at its size: "850ms",
// "3.2s", "14m5s", "2h3m", "3d4h", "75d"; negative ones with a leading "-".
func FormatDelay(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign = "-"
		if d == time.Duration(-1<<63) {
			d++
		}
		d = -d
	}
	var s string
	switch {
	case d < time.Second:
		s = fmt.Sprintf("%dms", d.Milliseconds())
	case d < 10*time.Second:
		s = fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		s = d.Round(time.Second).String()
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		s = fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	case d < 10*24*time.Hour:
		d = d.Round(time.Hour)
		s = fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
	default:
		s = fmt.Sprintf("%dd", int(d.Round(24*time.Hour).Hours())/24)
	}
	return sign + s
}

// captureFields is Capture without its MarshalJSON, so its fields can be marshalled by it.
type captureFields Capture

// CaptureJSON is a capture as its JSON shows it: the stored fields and the derived delayMs. It has
// no MarshalJSON of its own, so a document can embed it to add members to a capture's.
type CaptureJSON struct {
	captureFields
	// LatencyMs is Latency in milliseconds (to the microsecond), absent until s2s answered: every
	// duration in s2s's JSON names its unit.
	LatencyMs *float64 `json:"latencyMs,omitempty"`
	DelayMs   *int64   `json:"delayMs,omitempty"` // see Capture.Delay
	// The answer to a real-time request, byte for byte: "answer" when it is UTF-8 text,
	// "answerBase64" otherwise; neither when none was recorded (or in list results).
	decode.AnswerJSON
}

// JSON returns the capture as its JSON shows it.
func (c Capture) JSON() CaptureJSON {
	j := CaptureJSON{captureFields: captureFields(c), DelayMs: c.DelayMs(), AnswerJSON: decode.NewAnswerJSON(c.Answer)}
	if c.Latency > 0 {
		ms := Millis(c.Latency)
		j.LatencyMs = &ms
	}
	return j
}

// UnmarshalJSON reads a capture as MarshalJSON writes it (latencyMs back into Latency).
func (c *Capture) UnmarshalJSON(b []byte) error {
	v := struct {
		*captureFields
		LatencyMs float64 `json:"latencyMs"`
		decode.AnswerJSON
	}{captureFields: (*captureFields)(c)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	c.Latency = FromMillis(v.LatencyMs)
	answer, err := v.AnswerJSON.Bytes()
	if err != nil {
		return fmt.Errorf("capture %d: %w", c.ID, err)
	}
	c.Answer = answer
	return nil
}

// deliveryFields is Delivery without its JSON methods.
type deliveryFields Delivery

// MarshalJSON writes the delivery with its latency as latencyMs.
func (d Delivery) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		deliveryFields
		LatencyMs float64 `json:"latencyMs"`
	}{deliveryFields(d), Millis(d.Latency)})
}

// UnmarshalJSON reads a delivery as MarshalJSON writes it.
func (d *Delivery) UnmarshalJSON(b []byte) error {
	v := struct {
		*deliveryFields
		LatencyMs float64 `json:"latencyMs"`
	}{deliveryFields: (*deliveryFields)(d)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	d.Latency = FromMillis(v.LatencyMs)
	return nil
}

// Millis is d in milliseconds, to the microsecond: how s2s's JSON writes a duration.
func Millis(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)) / 1000 }

// FromMillis is the duration Millis wrote.
func FromMillis(ms float64) time.Duration {
	return time.Duration(math.Round(ms * float64(time.Millisecond)))
}

// MarshalJSON adds the derived delayMs to the stored fields, wherever a capture is written as
// JSON (captures list and show, listen --output json).
func (c Capture) MarshalJSON() ([]byte, error) { return json.Marshal(c.JSON()) }

// AgoText says how long ago something happened, at the precision a person waiting for it needs:
// "just now", "14 min ago", "3 h ago", "5 days ago". A time in the future (clocks) is "just now".
func AgoText(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// DelayWords is the delay in a phrase for people ("" when there is none): how long after its
// signedDate the notification arrived, and what an unusual delay likely means.
func (c *Capture) DelayWords() string {
	d, ok := c.Delay()
	switch {
	case !ok:
		return ""
	case d <= -LateAfter:
		return "signed " + FormatDelay(-d) + " after it arrived: a clock is off, or the signedDate is not Apple's"
	case d < 0:
		return "signed " + FormatDelay(-d) + " after it arrived (the clocks differ a little)"
	case d >= LateAfter:
		return "arrived " + FormatDelay(d) + " after its signedDate: late (Apple sends within seconds; a retry, or an old payload sent again)"
	}
	return "arrived " + FormatDelay(d) + " after its signedDate"
}
