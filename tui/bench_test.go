package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/store"
)

func manyCaptures(n int) []store.Capture {
	types := []string{"DID_RENEW", "SUBSCRIBED", "EXPIRED", "REFUND", "DID_FAIL_TO_RENEW", "TEST"}
	caps := make([]store.Capture, n)
	for i := range caps {
		caps[i] = store.Capture{ID: int64(i + 1), ReceivedAt: base.Add(time.Duration(i) * time.Second),
			Subject: decode.Subject{
				Type:                  types[i%len(types)],
				Environment:           "Sandbox",
				ProductID:             "com.example.monthly",
				OriginalTransactionID: fmt.Sprint(2000000000000000 + i%500),
			},
			Trust: "verified", ResponseStatus: 200,
		}
	}
	return caps
}

// benchHarness is a harness on a store of n captures, outside testing.T.
func benchHarness(b *testing.B, n int) *harness {
	b.Helper()
	h := newHarness(b, Config{}, manyCaptures(n)...)
	h.send(tea.WindowSizeMsg{Width: 100, Height: 30})
	return h
}

// BenchmarkRenderList draws the whole screen with 100,000 captures in the store: only the first
// page is read and only the visible rows are rendered.
func BenchmarkRenderList(b *testing.B) {
	h := benchHarness(b, 100_000)
	b.ReportAllocs()
	for b.Loop() {
		_ = h.m.Render()
	}
	b.ReportMetric(float64(len(h.m.rows)), "rows-loaded")
}

// BenchmarkPageDown moves through 100,000 captures a page at a time, reading pages as needed.
func BenchmarkPageDown(b *testing.B) {
	h := benchHarness(b, 100_000)
	key := keyMsg("pgdown")
	b.ReportAllocs()
	for b.Loop() {
		if h.m.cursor >= 99_000 {
			h.send(keyMsg("home"))
		}
		h.send(key)
		_ = h.m.Render()
	}
}

// BenchmarkLiveArrival adds one notification and redraws, with 100,000 rows already loaded
// (the worst case: the user scrolled through everything).
func BenchmarkLiveArrival(b *testing.B) {
	h := benchHarness(b, 1)
	caps := manyCaptures(100_000)
	h.m.rows = nil
	for i := len(caps) - 1; i >= 0; i-- {
		h.m.rows = append(h.m.rows, &caps[i])
	}
	next := int64(200_000)
	b.ReportAllocs()
	for b.Loop() {
		next++
		c := store.Capture{ID: next, ReceivedAt: base, Subject: decode.Subject{Type: "DID_RENEW"}, Trust: "verified"}
		h.send(eventsMsg{events: []events.Event{{Kind: events.Notification, Capture: &c}}})
		_ = h.m.Render()
	}
}

// realNotification is a capture of a real Apple notification (a REFUND with its transaction and
// renewal info), decoded by the real verifier.
func realNotification(b *testing.B) (store.Capture, Decoder) {
	b.Helper()
	jws, err := os.ReadFile(filepath.Join("..", "testdata", "vectors", "real", "19-notification-2025-10-16-REFUND-sandbox.jws"))
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"signedPayload":"` + strings.TrimSpace(string(jws)) + `"}`)
	c := store.Capture{ID: 1, ReceivedAt: base, Method: "POST", Path: "/", Body: body, BodySize: len(body),
		Subject: decode.Subject{Type: "REFUND", Environment: "Sandbox", ProductID: "com.getsession.org.pro_sub",
			OriginalTransactionID: "2000001024993299"},
		Trust: "verified", SignedDate: time.UnixMilli(1760592122788), ResponseStatus: 200}
	return c, VerifierDecoder(decode.NewVerifier(decode.Options{}))
}

// BenchmarkDetailOpen opens a real notification's detail: read, verify, decode, render.
func BenchmarkDetailOpen(b *testing.B) {
	c, dec := realNotification(b)
	h := newHarness(b, Config{Decode: dec}, c)
	b.ReportAllocs()
	for b.Loop() {
		h.send(keyMsg("enter"))
		_ = h.m.Render()
		h.send(keyMsg("esc"))
	}
}

// BenchmarkDetailTabs switches between the Summary and the Decoded tab of an open real
// notification: each switch renders the tab again.
func BenchmarkDetailTabs(b *testing.B) {
	c, dec := realNotification(b)
	h := newHarness(b, Config{Decode: dec}, c)
	h.send(keyMsg("enter"))
	b.ReportAllocs()
	for b.Loop() {
		h.send(keyMsg("2"))
		_ = h.m.Render()
		h.send(keyMsg("1"))
		_ = h.m.Render()
	}
}
