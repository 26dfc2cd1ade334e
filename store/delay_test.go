package store

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
)

func TestDelay(t *testing.T) {
	signed := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		c       Capture
		want    time.Duration
		ok      bool
		unusual bool
		text    string
	}{
		{"seconds after signing", Capture{Method: "POST", SignedDate: signed, ReceivedAt: signed.Add(850 * time.Millisecond)}, 850 * time.Millisecond, true, false, "850ms"},
		{"Apple's third retry", Capture{Method: "POST", SignedDate: signed, ReceivedAt: signed.Add(3*24*time.Hour + 5*time.Hour)}, 77 * time.Hour, true, true, "3d5h"},
		{"a retry an hour later", Capture{Method: "POST", SignedDate: signed, ReceivedAt: signed.Add(time.Hour + 3*time.Minute)}, time.Hour + 3*time.Minute, true, true, "1h3m"},
		{"exactly a minute is late", Capture{Method: "POST", SignedDate: signed, ReceivedAt: signed.Add(time.Minute)}, time.Minute, true, true, "1m0s"},
		{"a clock a little behind", Capture{Method: "POST", SignedDate: signed, ReceivedAt: signed.Add(-2 * time.Second)}, -2 * time.Second, true, false, "-2.0s"},
		{"signed in the future", Capture{Method: "POST", SignedDate: signed, ReceivedAt: signed.Add(-5 * time.Minute)}, -5 * time.Minute, true, true, "-5m0s"},
		{"an old vector posted today", Capture{Method: "POST", SignedDate: signed, ReceivedAt: signed.Add(75 * 24 * time.Hour)}, 75 * 24 * time.Hour, true, true, "75d"},
		{"forged far future saturates", Capture{Method: "POST", SignedDate: time.UnixMilli(253402300799000), ReceivedAt: signed}, time.Duration(-1 << 63), true, true, ""},
		{"no signedDate", Capture{Method: "POST", ReceivedAt: signed}, 0, false, false, ""},
		{"imported from history", Capture{Method: MethodImport, SignedDate: signed, ReceivedAt: signed.Add(30 * 24 * time.Hour)}, 0, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := tt.c.Delay()
			if d != tt.want || ok != tt.ok || tt.c.DelayUnusual() != tt.unusual {
				t.Errorf("Delay = %v, %v; unusual %v; want %v, %v, %v", d, ok, tt.c.DelayUnusual(), tt.want, tt.ok, tt.unusual)
			}
			if tt.text != "" && FormatDelay(d) != tt.text {
				t.Errorf("FormatDelay(%v) = %q, want %q", d, FormatDelay(d), tt.text)
			}
			b, err := json.Marshal(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			ms, has := doc["delayMs"]
			if has != ok || (ok && ms.(float64) != float64(d.Milliseconds())) {
				t.Errorf("JSON delayMs = %v (present %v), want %d (present %v): %s", ms, has, d.Milliseconds(), ok, b)
			}
		})
	}
	if got := FormatDelay(time.Duration(-1 << 63)); !strings.HasPrefix(got, "-") {
		t.Errorf("FormatDelay(min) = %q", got)
	}
}

// TestCaptureJSONKeepsItsFields: the derived member is added, none of the stored ones lost, and a
// document embedding CaptureJSON keeps its own members (export --json adds the body).
func TestCaptureJSONKeepsItsFields(t *testing.T) {
	c := Capture{ID: 7, Method: "POST", Path: "/", Subject: decode.Subject{Type: "DID_RENEW"}, Trust: "verified", Body: []byte("secret"),
		SignedDate: time.UnixMilli(1000), ReceivedAt: time.UnixMilli(2500)}
	b, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"id":7`, `"notificationType":"DID_RENEW"`, `"trust":"verified"`, `"delayMs":1500`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	if strings.Contains(string(b), "secret") {
		t.Errorf("the body leaked into the JSON: %s", b)
	}
	doc, err := json.Marshal(struct {
		CaptureJSON
		Body string `json:"body"`
	}{c.JSON(), "x"})
	if err != nil || !strings.Contains(string(doc), `"body":"x"`) || !strings.Contains(string(doc), `"delayMs":1500`) {
		t.Errorf("embedded: %s, %v", doc, err)
	}
	var back Capture
	if err := json.Unmarshal(b, &back); err != nil || back.ID != 7 || back.Type != "DID_RENEW" {
		t.Errorf("round trip: %+v, %v", back, err)
	}
}

func TestAgoText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Hour: "just now", 59 * time.Second: "just now", 14*time.Minute + 59*time.Second: "14 min ago",
		time.Hour: "1 h ago", 47 * time.Hour: "47 h ago", 72 * time.Hour: "3 days ago",
	} {
		if got := AgoText(d); got != want {
			t.Errorf("AgoText(%v) = %q, want %q", d, got, want)
		}
	}
}
