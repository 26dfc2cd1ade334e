package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/store"
)

func testEvents() []events.Event {
	at := time.Date(2026, 11, 23, 12, 4, 5, 0, time.UTC)
	return []events.Event{
		{Kind: events.Ready, URL: "http://127.0.0.1:8080/", Store: "/tmp/c.db"},
		{Kind: events.Notification, Capture: &store.Capture{
			ID: 7, ReceivedAt: at, Subject: decode.Subject{Type: "DID_RENEW", Subtype: "BILLING_RECOVERY", Environment: "Sandbox", ProductID: "com.example.pro"},
			Trust: "verified", ResponseStatus: 200, Latency: 1200 * time.Microsecond,
			DuplicateOf: 3, SignedDate: at.Add(-2 * time.Hour), // Apple's retry two hours on
		}},
		{Kind: events.Notification, Capture: &store.Capture{
			ID: 8, ReceivedAt: at, Trust: "invalid", TrustClass: "format", ResponseStatus: 200,
			TrustMessage: "not a compact JWS: expected 3 dot-separated parts, found 1",
		}},
		{Kind: events.Notification, Capture: &store.Capture{
			ID: 9, ReceivedAt: at, Subject: decode.Subject{Type: "TEST", Environment: "Production"}, Trust: "invalid", TrustClass: "identity",
			ResponseStatus: 200, IdentityMismatch: "bundleId com.other is not the expected com.example",
			SignedDate: at.Add(-420 * time.Millisecond),
		}},
		{Kind: events.Delivery, Delivery: &store.Delivery{
			CaptureID: 7, Target: "http://localhost:3000/", Attempt: 1, StartedAt: at, State: store.DeliveryPending,
			Error: "nothing listening on 127.0.0.1:3000", NextRetryAt: at.Add(time.Second),
		}},
		{Kind: events.Error, Err: "could not store a notification"},
	}
}

func TestEventPrinterLines(t *testing.T) {
	ios, _, out, errOut := TestIO()
	p := newEventPrinter(ios, "lines")
	for _, e := range testEvents() {
		p.print(e)
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("stdout has %d lines, want one per notification and delivery:\n%s", len(lines), out)
	}
	for i, want := range [][]string{
		{"DID_RENEW/BILLING_RECOVERY", "Sandbox", "com.example.pro", "verified ✓", "200", "1.2ms", "#7  delay 2h0m LATE  duplicate of #3"},
		{"(not a notification)", "invalid ✗ format", "#8  not a compact JWS: expected 3 dot-separated parts, found 1"},
		{"TEST", "invalid ✗ identity", "#9  delay 420ms  bundleId com.other is not the expected com.example"},
		{"forward #7 → http://localhost:3000/", "failed", "attempt 1", "nothing listening on 127.0.0.1:3000", "retry at"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("line %d %q lacks %q", i, lines[i], w)
			}
		}
	}
	if strings.Contains(out.String(), "\x1b[") {
		t.Error("colour codes written to a stream that is not a terminal")
	}
	for _, w := range []string{"listening on http://127.0.0.1:8080/", "stored in /tmp/c.db", "error: could not store"} {
		if !strings.Contains(errOut.String(), w) {
			t.Errorf("stderr lacks %q:\n%s", w, errOut)
		}
	}
}

func TestEventPrinterJSON(t *testing.T) {
	ios, _, out, errOut := TestIO()
	p := newEventPrinter(ios, "json")
	events := make(chan events.Event, 16)
	for _, e := range testEvents() {
		events <- e
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // already stopped: run must still drain what was published
	if err := p.run(ctx, events, make(chan error)); err != nil {
		t.Fatal(err)
	}
	var kinds, delays []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not one JSON object per line: %q", line)
		}
		kinds = append(kinds, e["event"].(string))
		if c, ok := e["capture"].(map[string]any); ok {
			delays = append(delays, fmt.Sprint(c["delayMs"]))
		}
	}
	// delayMs is there exactly when the capture has a signedDate.
	if got := strings.Join(delays, ","); got != "7.2e+06,<nil>,420" {
		t.Errorf("delayMs of the notifications: %s", got)
	}
	if got := strings.Join(kinds, ","); got != "ready,notification,notification,notification,delivery,error" {
		t.Errorf("events %s", got)
	}
	if errOut.Len() != 0 {
		t.Errorf("json mode wrote to stderr: %s", errOut)
	}
}

// TestEventPrinterReportsDrops: when the output is read too slowly and the bus drops events, the
// printer says how many, once, in both outputs, instead of looking complete.
func TestEventPrinterReportsDrops(t *testing.T) {
	for _, output := range []string{"lines", "json"} {
		ios, _, out, errOut := TestIO()
		bus := events.NewBus()
		events, cancel := bus.Subscribe(1)
		p := newEventPrinter(ios, output)
		p.dropped = func() uint64 { return bus.Dropped(events) }
		for _, e := range testEvents()[1:4] { // three notifications into a buffer of one
			bus.Publish(e)
		}
		cancel()
		if err := p.run(context.Background(), events, make(chan error)); err != nil {
			t.Fatal(err)
		}
		all := out.String() + errOut.String()
		if strings.Count(all, "2 events were not printed") != 1 || !strings.Contains(all, "s2s captures list") {
			t.Errorf("%s: drops not reported once:\n%s", output, all)
		}
		if output == "json" && !strings.Contains(out.String(), `"event":"error"`) {
			t.Errorf("json: the report is not an error event on stdout:\n%s", out.String())
		}
	}
}

// The hub's lines say which listener acknowledged a capture, its name made safe for a terminal.
func TestEventPrinterHubAck(t *testing.T) {
	ios, _, out, _ := TestIO()
	p := newEventPrinter(ios, "lines")
	p.print(events.Event{Kind: events.HubAck, CaptureID: 12, Consumer: "alice\x1b[2J"})
	if got := out.String(); !strings.HasPrefix(got, "#12 acknowledged by alice") || strings.Contains(got, "\x1b") {
		t.Fatalf("hub-ack line %q", got)
	}
}
