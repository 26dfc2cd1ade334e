package tui

import (
	"context"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/store"
)

// TestGoldenViews pins whole screens at a fixed size. The plain ones are what a NO_COLOR
// terminal shows; regenerate with: go test ./tui -run TestGoldenViews -update
func TestGoldenViews(t *testing.T) {
	replay := func(context.Context, int64) error { return nil }
	withDelivery := func(h *harness) {
		d := store.Delivery{ID: 1, CaptureID: 8, Target: "http://localhost:3000/apple/notifications", Attempt: 1, StartedAt: base,
			Status: 200, Latency: 41e6, Response: `{"received":true}`, State: store.DeliverySucceeded}
		h.src.deliveries[8] = []store.Delivery{d}
		h.send(eventsMsg{events: []events.Event{{Kind: events.Delivery, Delivery: &d}}})
	}
	hubAcks := func(h *harness) {
		h.send(eventsMsg{events: []events.Event{
			{Kind: events.HubAck, CaptureID: 9, Consumer: "alice"},
			{Kind: events.HubAck, CaptureID: 8, Consumer: "bob"},
			{Kind: events.HubAck, CaptureID: 8, Consumer: "alice"},
			{Kind: events.HubAck, CaptureID: 8, Consumer: "alice"}, // a second poll says it again
		}})
	}
	tests := []struct {
		name    string
		cfg     Config
		caps    []store.Capture // nil: lifeOfASubscription
		size    [2]int
		setup   func(*harness)
		keys    []string
		profile colorprofile.Profile
	}{
		{name: "tab_timeline_retries_80x24", caps: retriedRenewal(), size: [2]int{80, 24}, keys: []string{"enter", "6"}},
		{name: "list_retries_80x24", caps: retriedRenewal(), size: [2]int{80, 24}},
		{name: "list", keys: []string{"j"}},
		{name: "list_80x24", size: [2]int{80, 24}, keys: []string{"j"}},
		{name: "list_forwarding", cfg: Config{Replay: replay, PublicURL: "https://s2s-demo.ngrok.app", Forward: []string{"http://localhost:3000/apple/notifications"}},
			setup: func(h *harness) {
				withDelivery(h)
				h.send(eventsMsg{events: []events.Event{{Kind: events.Ready}, {Kind: events.Probe, Verdict: "SUCCESS", Time: base}}})
			}},
		{name: "list_empty", setup: func(h *harness) {
			h.m.cfg.Source = newFake()
			h.run(h.m.applyFilter(""))
			h.m.status = ""
		}},
		{name: "filter_editing", keys: []string{"/", "t", "y", "p", "e", ":", "E", "X"}},
		{name: "filter_applied", keys: []string{"/", "o", "t", "i", "d", ":", "2", "0", "0", "0", "0", "0", "1", "0", "3", "4", "5", "8", "2", "9", "2", "5", "enter"}},
		{name: "tab_summary", keys: []string{"j", "enter"}},
		{name: "tab_decoded", keys: []string{"j", "enter", "2"}},
		{name: "tab_raw", keys: []string{"j", "enter", "3"}},
		{name: "tab_headers", keys: []string{"j", "enter", "4"}},
		{name: "tab_deliveries", cfg: Config{Replay: replay}, setup: withDelivery, keys: []string{"j", "enter", "5"}},
		{name: "tab_timeline", keys: []string{"j", "enter", "6"}},
		{name: "tab_summary_invalid", keys: []string{"enter"}},
		{name: "help", keys: []string{"?"}},
		{name: "help_80x24", size: [2]int{80, 24}, keys: []string{"?"}},
		{name: "tab_timeline_80x24", size: [2]int{80, 24}, keys: []string{"j", "enter", "6"}},
		{name: "url_changed", cfg: Config{PublicURL: "https://old-name.trycloudflare.com"}, setup: func(h *harness) {
			h.send(eventsMsg{events: []events.Event{{Kind: events.Tunnel, PublicURL: "https://new-name.trycloudflare.com", Time: base}}})
		}},
		{name: "list_ansi", keys: []string{"j"}, profile: colorprofile.TrueColor},
		{name: "tab_decoded_ansi", keys: []string{"j", "enter", "2"}, profile: colorprofile.ANSI},
		{name: "list_light_ansi", setup: func(h *harness) { h.send(tea.BackgroundColorMsg{Color: lightBg{}}) }, keys: []string{"j"},
			profile: colorprofile.ANSI256},
		{name: "hub_list", cfg: Config{Hub: true}, setup: hubAcks, keys: []string{"j"}},
		{name: "hub_list_80x24", cfg: Config{Hub: true}, size: [2]int{80, 24}, setup: hubAcks},
		{name: "hub_tab_summary", cfg: Config{Hub: true}, setup: hubAcks, keys: []string{"j", "enter"}},
		{name: "hub_tab_summary_none", cfg: Config{Hub: true}, setup: hubAcks, keys: []string{"j", "j", "enter"}},
		{name: "list_nocolor_ascii", cfg: Config{NoColor: true}, keys: []string{"j"}, profile: colorprofile.ASCII},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caps := tt.caps
			if caps == nil {
				caps = lifeOfASubscription()
			}
			h := newHarness(t, tt.cfg, caps...)
			if tt.size != [2]int{} {
				h.send(tea.WindowSizeMsg{Width: tt.size[0], Height: tt.size[1]})
			}
			if tt.setup != nil {
				tt.setup(h)
			}
			h.press(tt.keys...)
			p := tt.profile
			if p == colorprofile.Unknown {
				p = colorprofile.NoTTY
			}
			golden(t, tt.name, h.screen(p))
		})
	}
}
