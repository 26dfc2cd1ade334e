package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/s2s-dev/s2s/decode"
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
