package tui

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/testpki"
	"github.com/s2s-dev/s2s/store"
)

// TestRealtimeRequestInListAndDetail: a real-time request has its own mark in the list, and the
// detail shows the answer body and what is wrong with it (through the sanitiser).
func TestRealtimeRequestInListAndDetail(t *testing.T) {
	c := store.Capture{ID: 1, Method: "POST", ReceivedAt: base, Kind: decode.KindRealtimeRequest, Trust: "simulated",
		Subject: decode.Subject{Environment: "Sandbox", ProductID: "com.example.monthly", OriginalTransactionID: "2000001234567890"}, ResponseStatus: 200,
		Answer: []byte(`{"message":{"messageIdentifier":"m-1"},"note":"\x1b[31mred"}`), AnswerProblems: []string{`the answer has the key "note", which Apple's response body does not have`}}
	h := newHarness(t, Config{}, c)
	h.send(tea.WindowSizeMsg{Width: 120, Height: 50})
	if scr := h.plain(); !strings.Contains(scr, "REAL-TIME REQUEST") {
		t.Fatalf("list:\n%s", scr)
	}
	h.press("enter")
	scr := h.plain()
	for _, want := range []string{"INVALID", `the key "note"`, `"messageIdentifier":"m-1"`} {
		if !strings.Contains(scr, want) {
			t.Errorf("detail lacks %q:\n%s", want, scr)
		}
	}
	if strings.Contains(scr, "\x1b[31m") {
		t.Errorf("the answer reached the terminal raw:\n%q", scr)
	}
}

// TestRealtimeRequestAnsweredByTheHub: a real-time request a hub received was answered there: the
// detail says so rather than calling an answer that never was here valid.
func TestRealtimeRequestAnsweredByTheHub(t *testing.T) {
	c := store.Capture{ID: 1, Method: "POST", ReceivedAt: base, Kind: decode.KindRealtimeRequest, Trust: "simulated",
		Subject: decode.Subject{Environment: "Sandbox", ProductID: "com.example.monthly"}, HubOrigin: "hub1/7"}
	h := newHarness(t, Config{}, c)
	h.send(tea.WindowSizeMsg{Width: 120, Height: 50})
	h.press("enter")
	scr := h.plain()
	if !strings.Contains(scr, "none here (answered by the hub)") || strings.Contains(scr, "valid") {
		t.Errorf("detail:\n%s", scr)
	}
}

// TestRealtimeRequestDecodedAsListenReadIt: the Decoded tab (and y's copy) read a stored body as
// the receiver read it, so a real-time request carries the Summary's label there too rather than
// invalid/format ("not a notification").
func TestRealtimeRequestDecodedAsListenReadIt(t *testing.T) {
	chain := testpki.MustNew(testpki.Options{})
	signed := time.Date(2025, 10, 16, 5, 22, 2, 0, time.UTC)
	jws := chain.SignJSON(map[string]any{
		"originalTransactionId": "2000001234567890", "appAppleId": 6450000001, "productId": "com.example.monthly",
		"userLocale": "ja-JP", "requestIdentifier": "3db5c98d-8acf-4e29-831e-8e1f82f9f6e9",
		"signedDate": signed.UnixMilli(), "environment": "Sandbox",
	})
	body := []byte(`{"signedPayload":"` + jws + `"}`)
	c := store.Capture{ID: 1, Method: "POST", Path: "/", ReceivedAt: signed.Add(time.Second), Body: body, BodySize: len(body),
		Kind: decode.KindRealtimeRequest, Trust: "simulated", SignedDate: signed, ResponseStatus: 200,
		Subject: decode.Subject{Environment: "Sandbox", ProductID: "com.example.monthly", OriginalTransactionID: "2000001234567890", AppAppleID: 6450000001},
		Answer:  []byte(`{"message":{"messageIdentifier":"m1"}}`)}
	v := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{chain.Root}})
	h := newHarness(t, Config{Decode: VerifierDecoder(v), Location: time.UTC, NoColor: true}, c)
	h.send(tea.WindowSizeMsg{Width: 120, Height: 50})
	h.press("enter")
	scr := ansi.Strip(h.m.vp.GetContent())
	for _, want := range []string{"Request            ⏱ REAL-TIME REQUEST\n", "Verdict            simulated",
		"Request ID         3db5c98d-8acf-4e29-831e-8e1f82f9f6e9\n", "User locale        ja-JP\n"} {
		if !strings.Contains(scr, want) {
			t.Errorf("Summary lacks %q:\n%s", want, scr)
		}
	}
	if strings.Contains(scr, "Notification ") {
		t.Errorf("Summary calls the request a notification:\n%s", scr)
	}
	h.press("2")
	scr = ansi.Strip(h.m.vp.GetContent())
	for _, bad := range []string{"UNVERIFIED", "invalid", "not a notification"} {
		if strings.Contains(scr, bad) {
			t.Errorf("Decoded tab says %q:\n%s", bad, scr)
		}
	}
	for _, want := range []string{"trust: simulated", `"requestIdentifier": "3db5c98d-8acf-4e29-831e-8e1f82f9f6e9"`} {
		if !strings.Contains(scr, want) {
			t.Errorf("Decoded tab lacks %q:\n%s", want, scr)
		}
	}
	h.press("y")
	if len(h.clipboard) != 1 || strings.Contains(h.clipboard[0], "not a notification") || !strings.Contains(h.clipboard[0], "simulated") {
		t.Errorf("y copied:\n%v", h.clipboard)
	}
}

// TestRealtimeRequestSummaryIsSanitised: the request's own fields come from the payload, not from
// the cleaned capture: they reach the screen through the sanitiser.
func TestRealtimeRequestSummaryIsSanitised(t *testing.T) {
	chain := testpki.MustNew(testpki.Options{})
	jws := chain.SignJSON(map[string]any{
		"originalTransactionId": "2000001234567890", "appAppleId": 6450000001, "productId": "com.example.monthly",
		"userLocale": "ja-JP\x1b[2J", "requestIdentifier": "r-1\x1b]0;x\x07",
		"signedDate": base.UnixMilli(), "environment": "Sandbox",
	})
	body := []byte(`{"signedPayload":"` + jws + `"}`)
	c := store.Capture{ID: 1, Method: "POST", Path: "/", ReceivedAt: base, Body: body, BodySize: len(body),
		Kind: decode.KindRealtimeRequest, Trust: "simulated", Subject: decode.Subject{Environment: "Sandbox"}}
	v := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{chain.Root}})
	h := newHarness(t, Config{Decode: VerifierDecoder(v), NoColor: true}, c)
	h.send(tea.WindowSizeMsg{Width: 120, Height: 50})
	h.press("enter")
	scr := h.m.vp.GetContent()
	if strings.ContainsAny(scr, "\x1b\x07") || !strings.Contains(scr, `ja-JP\x1b[2J`) || !strings.Contains(scr, "Request ID") {
		t.Errorf("Summary:\n%q", scr)
	}
}
