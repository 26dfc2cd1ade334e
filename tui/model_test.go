package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/store"
)

func ids(rows []*store.Capture) []int64 {
	out := make([]int64, len(rows))
	for i := range rows {
		out[i] = rows[i].ID
	}
	return out
}

func TestStartLoadsNewestFirst(t *testing.T) {
	h := newHarness(t, Config{}, lifeOfASubscription()...)
	if got, want := fmt.Sprint(ids(h.m.rows)), "[9 8 7 6 5 4 3 2 1]"; got != want {
		t.Fatalf("rows = %s, want %s", got, want)
	}
	if h.m.total != 9 || h.m.totalAll != 9 || h.m.byTrust["verified"] != 7 || h.m.byTrust["invalid"] != 1 {
		t.Errorf("total %d, all %d, byTrust %v", h.m.total, h.m.totalAll, h.m.byTrust)
	}
	if !h.m.follow || h.m.cursor != 0 {
		t.Errorf("follow %v cursor %d, want following at the top", h.m.follow, h.m.cursor)
	}
	scr := h.plain()
	for _, want := range []string{"7 verified ✓", "1 simulated", "1 invalid ✗", "REFUND", "EXPIRED · VOLUNTARY", "PROD", "FOLLOW"} {
		if !strings.Contains(scr, want) {
			t.Errorf("screen lacks %q:\n%s", want, scr)
		}
	}
}

func TestMovingStopsFollowAndFKeyResumes(t *testing.T) {
	h := newHarness(t, Config{}, lifeOfASubscription()...)
	h.press("j", "j")
	if h.m.cursor != 2 || h.m.follow {
		t.Fatalf("after j j: cursor %d follow %v", h.m.cursor, h.m.follow)
	}
	h.press("k")
	if h.m.cursor != 1 {
		t.Fatalf("after k: cursor %d", h.m.cursor)
	}
	h.press("f")
	if h.m.cursor != 0 || !h.m.follow {
		t.Fatalf("after f: cursor %d follow %v", h.m.cursor, h.m.follow)
	}
	h.press("up")
	if h.m.cursor != 0 {
		t.Errorf("up at the top moved the cursor to %d", h.m.cursor)
	}
}

func notification(id int64, typ string) events.Event {
	c := store.Capture{ID: id, ReceivedAt: base.Add(time.Duration(id) * time.Second),
		Subject: decode.Subject{
			Type:                  typ,
			Environment:           "Sandbox",
			ProductID:             "com.example.monthly",
			OriginalTransactionID: "7000000000000001",
		},
		Trust: "simulated", ResponseStatus: 200}
	return events.Event{Kind: events.Notification, Time: c.ReceivedAt, Capture: &c}
}

func TestLiveArrivals(t *testing.T) {
	tests := []struct {
		name       string
		keys       []string
		wantCursor int
		wantSelID  int64
	}{
		{"following keeps the newest selected", nil, 0, 11},
		{"after moving the selection stays on its capture", []string{"j", "j"}, 4, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{}, lifeOfASubscription()...)
			h.press(tt.keys...)
			h.send(eventsMsg{events: []events.Event{notification(10, "DID_RENEW"), notification(11, "SUBSCRIBED")}})
			if got := fmt.Sprint(ids(h.m.rows[:3])); got != "[11 10 9]" {
				t.Fatalf("top rows %s", got)
			}
			if h.m.cursor != tt.wantCursor || h.m.rows[h.m.cursor].ID != tt.wantSelID {
				t.Errorf("cursor %d on #%d, want %d on #%d", h.m.cursor, h.m.rows[h.m.cursor].ID, tt.wantCursor, tt.wantSelID)
			}
			if h.m.total != 11 || h.m.totalAll != 11 || h.m.byTrust["simulated"] != 3 {
				t.Errorf("counts not updated: total %d all %d %v", h.m.total, h.m.totalAll, h.m.byTrust)
			}
		})
	}
}

func TestEventsFromChannel(t *testing.T) {
	ch := make(chan events.Event, 8)
	ch <- events.Event{Kind: events.Ready, URL: "http://127.0.0.1:8080/"}
	ch <- notification(1, "TEST")
	ch <- events.Event{Kind: events.Probe, Verdict: "SUCCESS", Time: base}
	close(ch)
	h := newHarness(t, Config{Events: ch})
	if !h.m.ready || len(h.m.rows) != 1 || h.m.probeVerdict != "SUCCESS" || !h.m.closed {
		t.Fatalf("ready %v rows %d probe %q closed %v", h.m.ready, len(h.m.rows), h.m.probeVerdict, h.m.closed)
	}
	if scr := h.plain(); !strings.Contains(scr, "probe ✓ SUCCESS 07:30:00") {
		t.Errorf("header lacks the probe verdict in local time:\n%s", scr)
	}
}

func TestPagingByKeyset(t *testing.T) {
	var caps []store.Capture
	for i := int64(1); i <= 1000; i++ {
		caps = append(caps, store.Capture{ID: i, ReceivedAt: base.Add(time.Duration(i) * time.Second), Subject: decode.Subject{Type: "DID_RENEW"}, Trust: "verified"})
	}
	h := newHarness(t, Config{PageSize: 50}, caps...)
	if len(h.m.rows) != 50 || !h.m.hasMore {
		t.Fatalf("start loaded %d rows (hasMore %v), want one page of 50", len(h.m.rows), h.m.hasMore)
	}
	for i := 0; i < 6; i++ {
		h.press("pgdown")
	}
	calls := h.src.listCalls()
	if len(h.m.rows) >= 1000 || len(h.m.rows) < 100 {
		t.Fatalf("after 6 pages down %d rows are loaded", len(h.m.rows))
	}
	for i, f := range calls {
		if f.Limit != 50 {
			t.Errorf("call %d limit %d", i, f.Limit)
		}
		if i > 0 && f.BeforeID != h.m.rows[i*50-1].ID {
			t.Errorf("call %d BeforeID %d, want the last loaded ID %d", i, f.BeforeID, h.m.rows[i*50-1].ID)
		}
	}
	for i := 1; i < len(h.m.rows); i++ {
		if h.m.rows[i].ID != h.m.rows[i-1].ID-1 {
			t.Fatalf("rows out of order at %d: %d after %d", i, h.m.rows[i].ID, h.m.rows[i-1].ID)
		}
	}
	if want := 1000 - h.m.cursor; h.m.rows[h.m.cursor].ID != int64(want) {
		t.Errorf("cursor %d on #%d", h.m.cursor, h.m.rows[h.m.cursor].ID)
	}
}

func TestStaleAnswersAreDropped(t *testing.T) {
	h := newHarness(t, Config{}, lifeOfASubscription()...)
	h.press("/")
	h.typeText("type:REFUND")
	h.press("enter")
	// An answer to the previous (unfiltered) generation arrives late.
	h.send(pageMsg{gen: h.m.gen - 1, rows: lifeOfASubscription()})
	h.send(countMsg{gen: h.m.gen - 1, count: 99})
	if got := fmt.Sprint(ids(h.m.rows)); got != "[8]" || h.m.total != 1 {
		t.Errorf("rows %s total %d after stale answers", got, h.m.total)
	}
}

func TestFilterBar(t *testing.T) {
	h := newHarness(t, Config{}, lifeOfASubscription()...)
	h.press("/")
	if !h.m.editing {
		t.Fatal("/ did not open the filter bar")
	}
	h.typeText("type:expired env:sbx")
	if c := h.m.View().Cursor; c == nil || c.Y != 4 || c.X != len("/ type:expired env:sbx") {
		t.Errorf("filter bar cursor %+v, want at the end of the text on line 4", c)
	}
	h.press("enter")
	if h.m.View().Cursor != nil {
		t.Error("the cursor stays shown after the filter is applied")
	}
	if got := fmt.Sprint(ids(h.m.rows)); got != "[3]" {
		t.Fatalf("filtered rows %s", got)
	}
	last := h.src.listCalls()[len(h.src.listCalls())-1]
	if !slices.Equal(last.Types, []string{"EXPIRED"}) || !slices.Equal(last.Environments, []decode.Environment{"Sandbox"}) {
		t.Errorf("store asked with %+v", last)
	}
	if scr := h.plain(); !strings.Contains(scr, "filter type:expired env:sbx  1 matching") {
		t.Errorf("filter line missing:\n%s", scr)
	}
	// A live arrival that does not match stays out of the list but counts in the header.
	ev := notification(20, "DID_RENEW")
	h.src.add(*ev.Capture) // the receiver stores before it publishes
	h.send(eventsMsg{events: []events.Event{ev}})
	if len(h.m.rows) != 1 || h.m.totalAll != 10 {
		t.Errorf("rows %d all %d after a non-matching arrival", len(h.m.rows), h.m.totalAll)
	}
	h.press("esc")
	if h.m.filterTx != "" || len(h.m.rows) != 10 {
		t.Errorf("esc left filter %q and %d rows", h.m.filterTx, len(h.m.rows))
	}
	// esc while editing cancels without applying.
	h.press("/")
	h.typeText("REFUND")
	h.press("esc")
	if h.m.editing || h.m.filterTx != "" {
		t.Errorf("cancelled edit applied %q", h.m.filterTx)
	}
}

// TestFilterMistakes: a filter the grammar refuses is not applied; the editor stays open and the
// status line names the bad key or value and the valid ones, where the list used to say
// "0 matching" and nothing else.
func TestFilterMistakes(t *testing.T) {
	for _, tt := range []struct {
		text     string
		mentions []string
	}{
		{"foo:bar", []string{`"foo"`, "type", "env", "trust", "product", "bundle", "otid", "uuid"}},
		{"trust:bogus", []string{"bogus", "verified", "simulated", "invalid"}},
		{"env:", []string{"env", "Sandbox", "Production", "Xcode"}},
	} {
		// 80x24 is enough (README): the message wraps there rather than losing the valid keys.
		for _, size := range [][2]int{{100, 30}, {80, 24}} {
			testFilterMistake(t, tt.text, tt.mentions, size[0], size[1])
		}
	}
}

func testFilterMistake(t *testing.T, text string, mentions []string, width, height int) {
	t.Helper()
	h := newHarness(t, Config{}, lifeOfASubscription()...)
	h.send(tea.WindowSizeMsg{Width: width, Height: height})
	h.press("/")
	h.typeText(text)
	h.press("enter")
	if !h.m.editing || h.m.filterTx != "" || len(h.m.rows) != 9 {
		t.Errorf("%q: editing %v, applied %q, %d rows: want the editor open and nothing applied", text, h.m.editing, h.m.filterTx, len(h.m.rows))
	}
	scr := h.plain()
	for _, m := range mentions {
		if !strings.Contains(scr, m) {
			t.Errorf("%q: the screen does not mention %q:\n%s", text, m, scr)
		}
	}
	if !h.m.statusBad {
		t.Errorf("%q: the message is not shown as an error", text)
	}
	if n := len(lines(scr)); n != height {
		t.Errorf("%q: the screen has %d lines with the message at %dx%d, want %d", text, n, width, height, height)
	}
	// esc leaves the editor, and the column titles come back.
	h.press("esc")
	if scr := h.plain(); !strings.Contains(scr, "TYPE · SUBTYPE") {
		t.Errorf("%q: no column titles after esc:\n%s", text, scr)
	}
}

// TestFilterUnknownType: a type Apple does not document is a valid filter (Apple adds types) but
// most likely a typo, and the status line says so.
func TestFilterUnknownType(t *testing.T) {
	h := newHarness(t, Config{}, lifeOfASubscription()...)
	h.send(tea.WindowSizeMsg{Width: 160, Height: 30})
	h.press("/")
	h.typeText("type:REFUN")
	h.press("enter")
	if scr := h.plain(); !strings.Contains(scr, "REFUN is not a type Apple documents") {
		t.Errorf("no hint for a misspelt type:\n%s", scr)
	}
}

// TestFilterGrammar: repeated keys are alternatives, TYPE/SUBTYPE as forwarding rules write it
// works, and product: matches part of the (truncated on screen) product ID.
func TestFilterGrammar(t *testing.T) {
	for text, want := range map[string]string{
		"type:REFUND type:EXPIRED":      "[8 3]",
		"type:SUBSCRIBED/RESUBSCRIBE":   "[4]",
		"type:EXPIRED/VOLUNTARY,REFUND": "[8 3]",
		"product:keysns":                "[7]",
		"product:MONTHLY trust:invalid": "[9]",
	} {
		h := newHarness(t, Config{}, lifeOfASubscription()...)
		h.press("/")
		h.typeText(text)
		h.press("enter")
		if got := fmt.Sprint(ids(h.m.rows)); got != want {
			t.Errorf("%q: rows %s, want %s", text, got, want)
		}
	}
}

func TestDetailTabsAndTimeline(t *testing.T) {
	h := newHarness(t, Config{}, lifeOfASubscription()...)
	h.press("j") // #8 REFUND
	h.press("enter")
	if h.m.screen != screenDetail || h.m.det == nil || h.m.det.id != 8 {
		t.Fatalf("enter did not open #8: screen %v det %+v", h.m.screen, h.m.det)
	}
	wantTabs := []string{"verified ✓ — signed by Apple", `"notificationType": "REFUND"`, `{"signedPayload":"eyJhbGciOiJFUzI1NiJ9.capture-8.sig"}`,
		"Content-Type: application/json", "Not forwarded", "Original transaction 2000001034582925 · 5 notifications by signed date"}
	for i, want := range wantTabs {
		if h.m.tab != tab(i) {
			t.Fatalf("tab %d, want %d", h.m.tab, i)
		}
		if scr := h.plain(); !strings.Contains(scr, want) {
			t.Errorf("tab %s lacks %q:\n%s", tabNames[i], want, scr)
		}
		h.press("tab")
	}
	if h.m.tab != tabSummary {
		t.Errorf("tab after wrapping: %d", h.m.tab)
	}
	h.press("6")
	var order []int64
	for _, c := range h.m.det.timeline {
		order = append(order, c.ID)
	}
	if got := fmt.Sprint(order); got != "[2 3 4 5 8]" {
		t.Errorf("timeline %s, want the subscription's notifications in signed order", got)
	}
	if h.m.tlCursor != 4 {
		t.Errorf("timeline cursor %d, want on the open capture", h.m.tlCursor)
	}
	h.press("k", "k", "enter")
	if h.m.detID != 4 || h.m.det == nil || h.m.det.id != 4 || h.m.tab != tabTimeline {
		t.Fatalf("enter on the timeline opened #%d (tab %d)", h.m.detID, h.m.tab)
	}
	h.press("shift+tab")
	if h.m.tab != tabDeliveries {
		t.Errorf("shift+tab went to %d", h.m.tab)
	}
	h.press("esc")
	if h.m.screen != screenList {
		t.Errorf("esc did not close the detail")
	}
	// Back in the list on the capture opened last (#4 from the Timeline), not #8 where it began.
	if h.m.rows[h.m.cursor].ID != 4 || h.m.follow {
		t.Errorf("after esc the list selects #%d (follow %v), want #4", h.m.rows[h.m.cursor].ID, h.m.follow)
	}
	if rows := listRowsOf(h.plain()); !slices.ContainsFunc(rows, func(r string) bool {
		return strings.HasPrefix(r, "▸") && strings.Contains(r, "SUBSCRIBED · RESUBSCRIBE")
	}) {
		t.Errorf("the selected row on screen is not #4:\n%s", strings.Join(rows, "\n"))
	}
}

// listRowsOf are the list's lines on a plain screen, between the column header and the status bar.
func listRowsOf(screen string) []string {
	var rows []string
	in := false
	for _, l := range strings.Split(screen, "\n") {
		switch {
		case strings.Contains(l, "TIME") && strings.Contains(l, "TRUST"):
			in = true
		case in && (strings.Contains(l, "FOLLOW") || strings.Contains(l, "follow off")):
			return rows
		case in && strings.TrimSpace(l) != "":
			rows = append(rows, l)
		}
	}
	return rows
}

func TestCopyUsesOSC52(t *testing.T) {
	caps := lifeOfASubscription()
	h := newHarness(t, Config{}, caps...)
	h.press("Y") // from the list: read in a Cmd
	h.press("enter", "y")
	if len(h.clipboard) != 2 {
		t.Fatalf("clipboard writes %d", len(h.clipboard))
	}
	if h.clipboard[0] != string(caps[8].Body) {
		t.Errorf("Y copied %q", h.clipboard[0])
	}
	if !strings.HasPrefix(h.clipboard[1], "{\n  \"payload\": {\n    \"notificationType\": \"DID_RENEW\"") {
		t.Errorf("y copied %q", h.clipboard[1])
	}
	if !strings.Contains(h.m.status, "copied the decoded JSON of #9") {
		t.Errorf("status %q", h.m.status)
	}
}

func TestExportWritesNewFiles(t *testing.T) {
	dir := t.TempDir()
	caps := lifeOfASubscription()
	h := newHarness(t, Config{ExportDir: dir}, caps...)
	h.press("x", "x", "enter", "X")
	for name, want := range map[string]string{
		"s2s-9-raw.json":   string(caps[8].Body),
		"s2s-9-raw-1.json": string(caps[8].Body),
	} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v", name, got, err)
		}
	}
	got, err := os.ReadFile(filepath.Join(dir, "s2s-9-decoded.json"))
	if err != nil || !strings.Contains(string(got), `"originalTransactionId": "7000000000000001"`) {
		t.Errorf("decoded export %q, %v", got, err)
	}
	if h.m.status != "exported the decoded JSON of #9 to s2s-9-decoded.json" {
		t.Errorf("status %q", h.m.status)
	}
	// A raw body can hold a v1 shared secret: exports are as private as the store.
	for _, name := range []string{"s2s-9-raw.json", "s2s-9-decoded.json"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", name, fi.Mode().Perm(), err)
		}
	}
}

func TestSendTestAndReplay(t *testing.T) {
	var sent int
	var replayed []int64
	cfg := Config{
		SendTest: func(context.Context) error { sent++; return nil },
		Replay: func(_ context.Context, id int64) error {
			replayed = append(replayed, id)
			if id == 8 {
				return errors.New("connection refused")
			}
			return nil
		},
	}
	h := newHarness(t, cfg, lifeOfASubscription()...)
	h.press("t", "r", "j", "r")
	if sent != 1 || fmt.Sprint(replayed) != "[9 8]" {
		t.Fatalf("sent %d replayed %v", sent, replayed)
	}
	if !h.m.statusBad || !strings.Contains(h.m.status, "replay #8: connection refused") {
		t.Errorf("status %q bad %v", h.m.status, h.m.statusBad)
	}

	h2 := newHarness(t, Config{}, lifeOfASubscription()...)
	h2.press("r", "t")
	if !strings.Contains(h2.m.status, "send test is not available") {
		t.Errorf("t without SendTest: %q", h2.m.status)
	}
	h2.press("r")
	if !strings.Contains(h2.m.status, "--forward-to") || !h2.m.statusBad {
		t.Errorf("r without targets: %q", h2.m.status)
	}
}

func TestHeaderEvents(t *testing.T) {
	h := newHarness(t, Config{PublicURL: "https://old.ngrok.app"}, lifeOfASubscription()...)
	h.send(eventsMsg{events: []events.Event{
		{Kind: events.Ready},
		{Kind: events.Tunnel, PublicURL: "https://new.ngrok.app", Time: base},
		{Kind: events.Probe, Verdict: "TIMED_OUT", Message: "no answer in 5s", Time: base},
		{Kind: events.Error, Err: "disk full", Time: base},
	}})
	scr := h.plain()
	for _, want := range []string{"● receiving", "PUBLIC URL CHANGED at 07:30:00: paste it in App Store Connect", "now https://new.ngrok.app", "was https://old.ngrok.app",
		"probe ✗ TIMED_OUT", "receiver error at 07:30:00: disk full"} {
		if !strings.Contains(scr, want) {
			t.Errorf("header lacks %q:\n%s", want, scr)
		}
	}
	if got := len(lines(scr)); got != 30 {
		t.Errorf("screen has %d lines with a taller header, want 30", got)
	}
}

func TestDeliveryEvents(t *testing.T) {
	caps := lifeOfASubscription()
	h := newHarness(t, Config{Replay: func(context.Context, int64) error { return nil }}, caps...)
	d := store.Delivery{ID: 1, CaptureID: 9, Target: "http://localhost:3000/apple", Attempt: 1, StartedAt: base, Status: 503,
		Latency: 38 * time.Millisecond, Response: `{"error":"db down"}`, State: store.DeliveryPending, NextRetryAt: base.Add(time.Minute)}
	h.src.deliveries[9] = []store.Delivery{d}
	h.press("enter", "5")
	h.send(eventsMsg{events: []events.Event{{Kind: events.Delivery, Delivery: &d}}})
	scr := h.plain()
	for _, want := range []string{"503", "38ms", "http://localhost:3000/apple", `response: {"error":"db down"}`, "next retry at 07:31:00"} {
		if !strings.Contains(scr, want) {
			t.Errorf("deliveries tab lacks %q:\n%s", want, scr)
		}
	}
	h.press("esc")
	if scr := h.plain(); !strings.Contains(scr, "503 38ms") {
		t.Errorf("list lacks the forward column:\n%s", scr)
	}
}

// TestForwardColumnKeepsTheBest: a capture delivered with 200, then replayed while the target is
// down, shows both in FORWARD ("200 · replay failed"), not "error" as if it had never been
// delivered: read from the store, and live as the replay's event arrives.
func TestForwardColumnKeepsTheBest(t *testing.T) {
	ok := store.Delivery{ID: 1, CaptureID: 9, Target: "http://localhost:3000/apple", Attempt: 1, StartedAt: base, Status: 200,
		Latency: 4 * time.Millisecond, State: store.DeliverySucceeded}
	failed := store.Delivery{ID: 2, CaptureID: 9, Target: "http://localhost:3000/apple", Attempt: 1, StartedAt: base.Add(time.Minute),
		State: store.DeliveryFailed, Error: "nothing listening on 127.0.0.1:3000", Replay: true}
	t.Run("stored", func(t *testing.T) {
		h := newHarness(t, Config{Replay: func(context.Context, int64) error { return nil }}, lifeOfASubscription()...)
		h.src.deliveries[9] = []store.Delivery{ok, failed}
		h.press("/") // a filter reads the list again, with its deliveries
		h.typeText("env:sb")
		h.press("enter")
		if scr := h.plain(); !strings.Contains(scr, "200 · replay failed") {
			t.Errorf("FORWARD lacks the best and the latest:\n%s", scr)
		}
	})
	t.Run("live", func(t *testing.T) {
		h := newHarness(t, Config{Replay: func(context.Context, int64) error { return nil }}, lifeOfASubscription()...)
		h.send(eventsMsg{events: []events.Event{{Kind: events.Delivery, Delivery: &ok}}})
		if scr := h.plain(); !strings.Contains(scr, "200 4ms") {
			t.Fatalf("FORWARD after the delivery:\n%s", scr)
		}
		h.send(eventsMsg{events: []events.Event{{Kind: events.Delivery, Delivery: &failed}}})
		scr := h.plain()
		if !strings.Contains(scr, "200 · replay failed") || strings.Contains(scr, " error ") {
			t.Errorf("FORWARD after a failed replay:\n%s", scr)
		}
	})
}

// A capture the trust filter kept from the targets was not delivered, but nothing failed: the
// list must not say "error", and the Deliveries tab says why instead of inviting an attempt.
func TestSkippedDeliveryIsNotAnError(t *testing.T) {
	caps := lifeOfASubscription()
	h := newHarness(t, Config{Replay: func(context.Context, int64) error { return nil }}, caps...)
	why := "not forwarded: capture 1 is invalid (format); only verified and simulated notifications are forwarded unless listen runs with --forward-invalid"
	d := store.Delivery{CaptureID: 9, Target: "http://localhost:3000/apple", StartedAt: base, State: store.DeliveryFailed, Error: why}
	h.send(eventsMsg{events: []events.Event{{Kind: events.Delivery, Delivery: &d}}})
	scr := h.plain()
	if !strings.Contains(scr, "skipped") || strings.Contains(scr, "error") {
		t.Errorf("list should say skipped:\n%s", scr)
	}
	h.press("enter", "5")
	if scr := h.plain(); !strings.Contains(scr, "--forward-invalid") {
		t.Errorf("deliveries tab does not say why it was skipped:\n%s", scr)
	}
	h.press("1")
	if scr := ansi.Strip(h.m.vp.GetContent()); !strings.Contains(scr, "Forwarded          no\n                   not forwarded: capture 1 is invalid") {
		t.Errorf("summary does not say it was not forwarded:\n%s", scr)
	}
}

// The newest attempt (what r just did) comes first, and a long explanation wraps at words
// under its row at 80 columns.
func TestDeliveriesNewestFirstAndWrapped(t *testing.T) {
	caps := lifeOfASubscription()
	h := newHarness(t, Config{Replay: func(context.Context, int64) error { return nil }}, caps...)
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	long := "nothing listening on 127.0.0.1:60105; gave up after 3 attempts; the notification is stored (capture 9); start your server, then press r in the TUI or run s2s replay 9"
	h.src.deliveries[9] = []store.Delivery{
		{ID: 1, CaptureID: 9, Target: "http://localhost:60105/apple", Attempt: 1, StartedAt: base, State: store.DeliveryFailed, Error: long},
		{ID: 2, CaptureID: 9, Target: "http://localhost:60105/apple", Attempt: 1, StartedAt: base.Add(time.Minute), Status: 200,
			Latency: 6 * time.Millisecond, State: store.DeliverySucceeded, Replay: true, Response: "ok"},
	}
	h.press("enter", "5")
	scr := h.plain()
	if i, j := strings.Index(scr, "succeeded"), strings.Index(scr, "failed"); i < 0 || j < 0 || i > j {
		t.Errorf("the newest attempt should come first:\n%s", scr)
	}
	for _, l := range lines(scr) {
		if strings.HasPrefix(l, "ture") || strings.HasPrefix(l, "2s replay") || strings.HasPrefix(l, "otification") {
			t.Errorf("line cut inside a word: %q\n%s", l, scr)
		}
	}
	if !strings.Contains(scr, "    error: nothing listening on 127.0.0.1:60105;") || !strings.Contains(scr, "\n           ") {
		t.Errorf("the error should wrap indented under its row:\n%s", scr)
	}
	h.press("1")
	scr = ansi.Strip(h.m.vp.GetContent()) // the whole tab: these lines are below an 80x24 screen
	if !strings.Contains(scr, "Forwarded          http://localhost:60105/apple\n                   200 in 6ms · 2 attempts, see Deliveries") {
		t.Errorf("summary's forwarding lines:\n%s", scr)
	}
	h.src.deliveries[9] = h.src.deliveries[9][:1]
	h.press("esc", "enter") // read again
	if scr := ansi.Strip(h.m.vp.GetContent()); !strings.Contains(scr, "                   failed: nothing listening on 127.0.0.1:60105 · 1 attempt,") {
		t.Errorf("summary of a failed delivery:\n%s", scr)
	}
}

func TestResizeKeepsTheScreenInBounds(t *testing.T) {
	sizes := [][2]int{{80, 24}, {100, 30}, {120, 40}, {80, 12}, {30, 8}}
	for _, sz := range sizes {
		for _, keys := range [][]string{nil, {"enter"}, {"enter", "2"}, {"enter", "6"}, {"?"}, {"/"}} {
			h := newHarness(t, Config{}, lifeOfASubscription()...)
			h.press(keys...)
			h.send(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			scr := h.plain()
			ls := lines(scr)
			if sz[0] >= minWidth && sz[1] >= minHeight && len(ls) != sz[1] {
				t.Errorf("%dx%d %v: %d lines", sz[0], sz[1], keys, len(ls))
			}
			for i, l := range ls {
				if w := ansi.StringWidth(l); w > sz[0] {
					t.Errorf("%dx%d %v: line %d is %d wide: %q", sz[0], sz[1], keys, i, w, l)
				}
			}
		}
	}
}

func TestSelectionStaysVisible(t *testing.T) {
	var caps []store.Capture
	for i := int64(1); i <= 60; i++ {
		caps = append(caps, store.Capture{ID: i, ReceivedAt: base, Subject: decode.Subject{Type: "DID_RENEW"}, Trust: "verified"})
	}
	h := newHarness(t, Config{}, caps...)
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	for i := 0; i < 30; i++ {
		h.press("j")
	}
	if h.m.cursor != 30 || h.m.cursor < h.m.offset || h.m.cursor >= h.m.offset+h.m.listHeight() {
		t.Fatalf("cursor %d offset %d height %d", h.m.cursor, h.m.offset, h.m.listHeight())
	}
	if scr := h.plain(); !strings.Contains(scr, "▸") {
		t.Errorf("selected row not on screen:\n%s", scr)
	}
}

func TestHelpQuitAndBackground(t *testing.T) {
	h := newHarness(t, Config{}, lifeOfASubscription()...)
	h.press("?")
	if !h.m.showHelp || !strings.Contains(h.plain(), "copy decoded JSON") {
		t.Fatalf("help overlay not shown:\n%s", h.plain())
	}
	h.press("j") // ignored while help is up
	if h.m.cursor != 0 {
		t.Errorf("j moved the list under the help overlay")
	}
	h.press("?")
	if h.m.showHelp {
		t.Fatal("? did not close help")
	}
	h.send(tea.BackgroundColorMsg{Color: lightBg{}})
	if h.m.dark {
		t.Error("a white background left the dark palette on")
	}
	h.press("q")
	if !h.quit || h.m.Interrupted() {
		t.Errorf("q: quit %v, interrupted %v; want a normal quit", h.quit, h.m.Interrupted())
	}
	// ctrl+c is an interrupt wherever it is pressed (listen exits 130), q a normal quit.
	for _, keys := range [][]string{{"ctrl+c"}, {"/", "ctrl+c"}, {"?", "ctrl+c"}, {"enter", "ctrl+c"}} {
		h2 := newHarness(t, Config{}, lifeOfASubscription()...)
		h2.press(keys...)
		if !h2.quit || !h2.m.Interrupted() {
			t.Errorf("%v: quit %v, interrupted %v; want an interrupt", keys, h2.quit, h2.m.Interrupted())
		}
	}
}

type lightBg struct{}

func (lightBg) RGBA() (r, g, b, a uint32) { return 0xffff, 0xffff, 0xffff, 0xffff }

func TestUnreadableCapture(t *testing.T) {
	h := newHarness(t, Config{}, lifeOfASubscription()...)
	h.send(detailMsg{})
	h.m.screen, h.m.detID = screenDetail, 42
	h.send(detailMsg{d: &detail{id: 42, err: store.ErrNotFound}})
	if scr := h.plain(); !strings.Contains(scr, "cannot read capture #42: not found") {
		t.Errorf("missing error:\n%s", scr)
	}
}

// Events the bus dropped are found by the periodic refresh: the list catches up from the store
// with AfterID, and the header counts are read again.
func TestRefreshCatchesUpWithTheStore(t *testing.T) {
	tests := []struct {
		name    string
		missed  int
		keys    []string
		wantTop int64
	}{
		{"a few missed are patched in", 3, nil, 12},
		{"a page missed reloads the top", 250, nil, 259},
		{"the selection stays put when not following", 3, []string{"j"}, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{}, lifeOfASubscription()...)
			h.press(tt.keys...)
			sel := h.m.rows[h.m.cursor].ID
			for i := 0; i < tt.missed; i++ {
				h.src.add(*notification(int64(10+i), "DID_RENEW").Capture)
			}
			h.send(refreshMsg{})
			if h.m.rows[0].ID != tt.wantTop || h.m.totalAll != 9+tt.missed || h.m.total != 9+tt.missed {
				t.Fatalf("top #%d, all %d, total %d", h.m.rows[0].ID, h.m.totalAll, h.m.total)
			}
			for i := 1; i < len(h.m.rows); i++ {
				if h.m.rows[i].ID >= h.m.rows[i-1].ID {
					t.Fatalf("rows out of order at %d", i)
				}
			}
			if len(tt.keys) > 0 && h.m.rows[h.m.cursor].ID != sel {
				t.Errorf("selection moved from #%d to #%d", sel, h.m.rows[h.m.cursor].ID)
			}
			last := h.src.listCalls()[len(h.src.listCalls())-1]
			if tt.missed < 200 && (last.AfterID != 9 || !last.Ascending) {
				t.Errorf("catch-up asked %+v", last)
			}
		})
	}
}

// The timeline's WHAT HAPPENED column is 24 wide; every phrase must fit whole.
func TestLifecyclePhrasesFit(t *testing.T) {
	types := map[string][]string{
		"SUBSCRIBED": {"", "INITIAL_BUY", "RESUBSCRIBE"}, "DID_RENEW": {"", "BILLING_RECOVERY"},
		"DID_FAIL_TO_RENEW": {"", "GRACE_PERIOD"}, "EXPIRED": {"VOLUNTARY", "BILLING_RETRY", "PRICE_INCREASE", "PRODUCT_NOT_FOR_SALE"},
		"DID_CHANGE_RENEWAL_STATUS": {"AUTO_RENEW_ENABLED", "AUTO_RENEW_DISABLED"}, "DID_CHANGE_RENEWAL_PREF": {"", "UPGRADE", "DOWNGRADE"},
		"GRACE_PERIOD_EXPIRED": {""}, "REFUND": {""}, "REFUND_DECLINED": {""}, "REFUND_REVERSED": {""}, "REVOKE": {""},
		"CONSUMPTION_REQUEST": {""}, "OFFER_REDEEMED": {""}, "PRICE_INCREASE": {""}, "RENEWAL_EXTENDED": {""},
		"ONE_TIME_CHARGE": {""}, "TEST": {""},
	}
	for typ, subs := range types {
		for _, sub := range subs {
			if p := lifecycle(typ, sub); ansi.StringWidth(p) > 24 || p == "" {
				t.Errorf("lifecycle(%s, %s) = %q", typ, sub, p)
			}
		}
	}
}

// A hostile sender controls headers, body, path and (in an invalid payload) every decoded field:
// none of it may reach the terminal as an escape sequence.
func TestEscapeSequencesStayText(t *testing.T) {
	const evil = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\x9b31m"
	c := lifeOfASubscription()[8]
	c.ProductID, c.Path, c.Type = "com.x"+evil, "/"+evil, "DID_RENEW"+evil
	c.Headers = map[string][]string{"X-Evil" + evil: {evil}}
	c.Body = []byte(`{"signedPayload":"` + evil + `"}`)
	h := newHarness(t, Config{Decode: func([]byte) *decode.Decoded {
		// Every field the Summary and the Decoded tab read from the payload carries an escape.
		return decodedNotification(decode.Verification{Label: decode.LabelInvalid, Class: decode.ClassSignature, Message: "bad \x1b[2J"},
			`{"notificationType":"DID_RENEW\u001b[2J","subtype":"\u009b31m","data":{"status":1,"signedTransactionInfo":"x.y.z","signedRenewalInfo":"x.y.z"},"\u001b]0;key\u0007":1}`,
			`{"productId":"\u001b]0;title\u0007","price":2990,"currency":"\u001b[31mred","inAppOwnershipType":"\u009b31m","revocationReason":1}`,
			`{"autoRenewProductId":"\u001b[31mred","autoRenewStatus":1,"renewalPrice":3990,"currency":"\u001b[31mred"}`)
	}}, c)
	h.send(eventsMsg{events: []events.Event{{Kind: events.Probe, Verdict: "SUCCESS", Message: evil}, {Kind: events.Error, Err: evil}}})
	screens := []string{h.m.Render()}
	h.press("enter")
	for _, k := range []string{"1", "2", "3", "4", "5", "6"} {
		h.press(k)
		screens = append(screens, h.m.Render())
	}
	for i, scr := range screens {
		for _, bad := range []string{"\x1b]", "\x07", "\x1b[2J", "\x9b", "\x1b[31mred"} {
			if strings.Contains(scr, bad) {
				t.Errorf("screen %d lets %q through:\n%q", i, bad, scr)
			}
		}
	}
	if !strings.Contains(h.plain(), `\x1b]52;c;ZXZpbA==\x07`) {
		t.Errorf("the escape is not shown as text:\n%s", h.plain())
	}
}

// An action's message lasts until the next key, not for the rest of the session.
func TestStatusClearsOnTheNextKey(t *testing.T) {
	h := newHarness(t, Config{SendTest: func(context.Context) error { return nil }}, lifeOfASubscription()...)
	h.press("t")
	if !strings.Contains(h.m.status, "sent a TEST") {
		t.Fatalf("status %q", h.m.status)
	}
	h.press("j")
	if h.m.status != "" || strings.Contains(h.plain(), "sent a TEST") {
		t.Errorf("status %q after moving on", h.m.status)
	}
}

// Where notifications go is as much part of the setup as where they come from: the header
// names the forward targets, with their rules.
func TestHeaderNamesForwardTargets(t *testing.T) {
	h := newHarness(t, Config{Replay: func(context.Context, int64) error { return nil },
		Forward: []string{"http://localhost:3000/apple (env=Sandbox)", "http://localhost:4000"}}, lifeOfASubscription()...)
	if scr := h.plain(); !strings.Contains(scr, "\nforward http://localhost:3000/apple (env=Sandbox), http://localhost:4000\n") {
		t.Errorf("header lacks the targets:\n%s", scr)
	}
	if h := newHarness(t, Config{}, lifeOfASubscription()...); strings.Contains(h.plain(), "\nforward") {
		t.Errorf("a forward line without targets:\n%s", h.plain())
	}
}

func TestJumpToOldest(t *testing.T) {
	var caps []store.Capture
	for i := int64(1); i <= 500; i++ {
		caps = append(caps, store.Capture{ID: i, ReceivedAt: base.Add(time.Duration(i) * time.Second), Subject: decode.Subject{Type: "DID_RENEW"}, Trust: "verified"})
	}
	h := newHarness(t, Config{PageSize: 50}, caps...)
	h.press("G")
	if h.m.loading || h.m.hasMore || len(h.m.rows) != 500 {
		t.Fatalf("after G: %d rows loaded, hasMore %v; want all 500", len(h.m.rows), h.m.hasMore)
	}
	if got := h.m.rows[h.m.cursor].ID; got != 1 {
		t.Errorf("after G the cursor is on #%d, want the oldest #1", got)
	}
	if h.m.follow || h.m.toOldest {
		t.Errorf("after G: follow %v, toOldest %v; want both off", h.m.follow, h.m.toOldest)
	}
	if scr := h.plain(); !strings.Contains(scr, "▸ 10-16 07:30:01") {
		t.Errorf("the oldest capture is not the selected row on screen:\n%s", scr)
	}
	// A new arrival does not move the selection off the oldest.
	h.send(eventsMsg{events: []events.Event{notification(501, "DID_RENEW")}})
	if got := h.m.rows[h.m.cursor].ID; got != 1 {
		t.Errorf("after an arrival the cursor is on #%d, want #1", got)
	}
	h.press("g")
	if h.m.cursor != 0 {
		t.Errorf("g: cursor %d, want 0", h.m.cursor)
	}
}

func TestJumpToOldestIsBounded(t *testing.T) {
	caps := make([]store.Capture, 0, oldestJumpRows+100)
	for i := int64(1); i <= oldestJumpRows+100; i++ {
		caps = append(caps, store.Capture{ID: i, ReceivedAt: base.Add(time.Duration(i) * time.Second), Subject: decode.Subject{Type: "TEST"}, Trust: "simulated"})
	}
	h := newHarness(t, Config{PageSize: 1000}, caps...)
	h.press("end")
	if len(h.m.rows) != oldestJumpRows || !h.m.hasMore {
		t.Fatalf("after end: %d rows loaded (hasMore %v), want the bound %d", len(h.m.rows), h.m.hasMore, oldestJumpRows)
	}
	if h.m.cursor != len(h.m.rows)-1 {
		t.Errorf("cursor %d, want the last loaded row %d", h.m.cursor, len(h.m.rows)-1)
	}
	if !strings.Contains(h.m.status, "filter with /") {
		t.Errorf("status %q does not say how to reach older captures", h.m.status)
	}
	// Pressing it again at the bound reads nothing more.
	calls := len(h.src.listCalls())
	h.press("G")
	if len(h.src.listCalls()) != calls || len(h.m.rows) != oldestJumpRows {
		t.Errorf("G at the bound read on: %d reads (was %d), %d rows", len(h.src.listCalls()), calls, len(h.m.rows))
	}
}

func TestOtherKeyStopsTheJumpToOldest(t *testing.T) {
	var caps []store.Capture
	for i := int64(1); i <= 300; i++ {
		caps = append(caps, store.Capture{ID: i, Subject: decode.Subject{Type: "TEST"}, Trust: "simulated"})
	}
	h := newHarness(t, Config{PageSize: 50}, caps...)
	// Feed the key without running its reads, as when the user presses on before a page arrives.
	h.m.Update(keyMsg("G"))
	if !h.m.toOldest {
		t.Fatal("G did not start the jump")
	}
	h.m.Update(keyMsg("k"))
	if h.m.toOldest {
		t.Error("another key did not end the jump")
	}
}

func TestBottomInDetail(t *testing.T) {
	h := newHarness(t, Config{}, lifeOfASubscription()...)
	h.press("j", "enter", "2") // #8's decoded JSON
	if h.m.vp.TotalLineCount() <= h.m.vp.Height() {
		t.Fatalf("the decoded tab fits on one screen (%d lines); the test needs it to scroll", h.m.vp.TotalLineCount())
	}
	h.press("G")
	if !h.m.vp.AtBottom() || h.m.vp.AtTop() {
		t.Error("G in the detail did not scroll to the bottom")
	}
	h.press("g")
	if !h.m.vp.AtTop() {
		t.Error("g in the detail did not scroll back to the top")
	}
	h.press("6", "g")
	if h.m.tlCursor != 0 {
		t.Errorf("g in the timeline: cursor %d, want 0", h.m.tlCursor)
	}
	h.press("G")
	if want := len(h.m.det.timeline) - 1; want < 1 || h.m.tlCursor != want {
		t.Errorf("G in the timeline: cursor %d, want the last entry %d", h.m.tlCursor, want)
	}
}

// A failed read ends the jump to the oldest: a later page (read for a resize, say) must not
// carry the cursor to the end unasked.
func TestFailedPageEndsTheJumpToOldest(t *testing.T) {
	var caps []store.Capture
	for i := int64(1); i <= 300; i++ {
		caps = append(caps, store.Capture{ID: i, ReceivedAt: base.Add(time.Duration(i) * time.Second), Subject: decode.Subject{Type: "TEST"}, Trust: "simulated"})
	}
	h := newHarness(t, Config{PageSize: 50}, caps...)
	// Feed the key without running its read, then answer that read with an error.
	h.m.Update(keyMsg("G"))
	h.send(pageMsg{gen: h.m.gen, beforeID: h.m.rows[len(h.m.rows)-1].ID, err: errors.New("database is locked")})
	if h.m.toOldest {
		t.Fatal("a failed page left the jump to the oldest running")
	}
	sel := h.m.rows[h.m.cursor].ID
	h.send(tea.WindowSizeMsg{Width: 100, Height: 31})
	if h.m.toOldest || h.m.rows[h.m.cursor].ID != sel || len(h.m.rows) == len(caps) {
		t.Errorf("after a resize: toOldest %v, cursor on #%d (was #%d), %d rows loaded", h.m.toOldest, h.m.rows[h.m.cursor].ID, sel, len(h.m.rows))
	}
}

// A receiver error adds a header line: the list shrinks by one and the selection stays on screen.
func TestReceiverErrorKeepsTheSelectionVisible(t *testing.T) {
	var caps []store.Capture
	for i := int64(1); i <= 60; i++ {
		caps = append(caps, store.Capture{ID: i, ReceivedAt: base.Add(time.Duration(i) * time.Second), Subject: decode.Subject{Type: "DID_RENEW"}, Trust: "verified"})
	}
	h := newHarness(t, Config{}, caps...)
	for h.m.cursor < h.m.listHeight()-1 {
		h.press("j")
	}
	h.send(eventsMsg{events: []events.Event{{Kind: events.Error, Err: "disk full", Time: base}}})
	scr := h.plain()
	if got := len(lines(scr)); got != h.m.height {
		t.Errorf("screen has %d lines, want %d", got, h.m.height)
	}
	if !strings.Contains(scr, "receiver error at 07:30:00: disk full") || !strings.Contains(scr, "▸") {
		t.Errorf("the error line or the selected row is missing:\n%s", scr)
	}
	if h.m.cursor < h.m.offset || h.m.cursor >= h.m.offset+h.m.listHeight() {
		t.Errorf("cursor %d outside the list (offset %d, height %d)", h.m.cursor, h.m.offset, h.m.listHeight())
	}
}

// TestHeaderCountsByImportance: at 80x24 with the store path of a real home, the counts that
// matter come first and none is cut off: invalid, then verified, then simulated; the path gives
// way to them.
func TestHeaderCountsByImportance(t *testing.T) {
	var caps []store.Capture
	for i := int64(1); i <= 326; i++ {
		trust := decode.LabelSimulated
		switch {
		case i <= 17:
			trust = decode.LabelVerified
		case i <= 19:
			trust = decode.LabelInvalid
		}
		caps = append(caps, store.Capture{ID: i, ReceivedAt: base.Add(-time.Duration(400-i) * time.Minute), Subject: decode.Subject{Type: "DID_RENEW"}, Trust: trust, Method: "POST"})
	}
	h := newHarness(t, Config{StorePath: "/Users/developer/Library/Application Support/s2s/captures.db"}, caps...)
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	store := lines(h.plain())[2]
	if want := "326 captures: 2 invalid ✗ · 17 verified ✓ · 307 simulated"; !strings.HasSuffix(store, want) {
		t.Errorf("store line %q, want it to end with %q", store, want)
	}
	for _, w := range []int{100, 80, 60, 44} {
		h.send(tea.WindowSizeMsg{Width: w, Height: 24})
		if l := lines(h.plain())[2]; !strings.Contains(l, "2 invalid ✗") {
			t.Errorf("at %d columns the invalid count is cut off: %q", w, l)
		}
	}
}

// TestHeaderSaysHowLongSinceTheLastNotification: the header tells a developer waiting for Apple
// how long nothing has arrived, kept current by clock ticks (read in Cmds, never in Update) and by
// arrivals.
func TestHeaderSaysHowLongSinceTheLastNotification(t *testing.T) {
	h := newHarness(t, Config{}, lifeOfASubscription()...) // the newest arrived a minute before base
	if first := lines(h.plain())[0]; !strings.HasSuffix(first, "last notification 1 min ago") {
		t.Errorf("header %q", first)
	}
	h.send(clockMsg(base.Add(13*time.Minute + 30*time.Second)))
	if first := lines(h.plain())[0]; !strings.HasSuffix(first, "last notification 14 min ago") {
		t.Errorf("after the clock moved on: %q", first)
	}
	h.send(eventsMsg{events: []events.Event{notification(10, "DID_RENEW")}}) // received at base+10s
	if first := lines(h.plain())[0]; !strings.HasSuffix(first, "last notification 13 min ago") {
		t.Errorf("after an arrival: %q", first)
	}
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.send(eventsMsg{events: []events.Event{{Kind: events.Probe, Verdict: "SUCCESS", Time: base}}})
	if first := lines(h.plain())[0]; !strings.HasSuffix(first, "last 13 min ago  probe ✓") {
		t.Errorf("at 80 columns with a probe: %q", first)
	}

	// The clock ticks on only when asked to, and the tick is a Cmd: Update reads no clock.
	m := New(Config{Source: newFake(), Clock: time.Minute, Now: func() time.Time { return base }})
	if _, cmd := m.Update(clockMsg(base)); cmd == nil {
		t.Error("no next tick scheduled with Clock set")
	}
	m = New(Config{Source: newFake(), Now: func() time.Time { return base }})
	if _, cmd := m.Update(clockMsg(base)); cmd != nil {
		t.Error("a tick scheduled without Clock")
	}

	// Nothing received yet: no silence to speak of.
	empty := newHarness(t, Config{})
	if first := lines(empty.plain())[0]; strings.Contains(first, "last") {
		t.Errorf("empty store: %q", first)
	}
}

// TestDecodedTabSpellsOutDates: millisecond dates read as s2s decode prints them (the same
// renderer); other numbers and strings are left alone.
func TestDecodedTabSpellsOutDates(t *testing.T) {
	h := newHarness(t, Config{}, lifeOfASubscription()...)
	h.press("j", "enter", "2")
	scr := ansi.Strip(h.m.vp.GetContent())
	for _, want := range []string{
		`"signedDate": 1760592122000,  // 2025-10-16T05:22:02.000Z`,
		`"purchaseDate": 1760588522000,  // 2025-10-16T04:22:02.000Z`,
	} {
		if !strings.Contains(scr, want) {
			t.Errorf("Decoded tab lacks %q:\n%s", want, scr)
		}
	}
	for _, l := range lines(scr) {
		if strings.Contains(l, "  // ") && !strings.Contains(l, "Date\"") {
			t.Errorf("a note on a field that is no date: %q", l)
		}
	}
}

// TestSummaryKeepsTokensWholeAndTheVerdictOnce: at any width the Summary moves a date, an ID or
// the verifier's timestamp to the next line rather than cutting it, says the verdict once, and
// says how long after its signedDate the notification arrived.
func TestSummaryKeepsTokensWholeAndTheVerdictOnce(t *testing.T) {
	caps := lifeOfASubscription()
	caps[7].TrustMessage = "signed by the App Store: chain to Apple Root CA - G3 checked at 2025-10-16T05:22:02Z (its signedDate)"
	for _, w := range []int{60, 72, 80, 100} {
		h := newHarness(t, Config{}, caps...)
		h.send(tea.WindowSizeMsg{Width: w, Height: 60})
		h.press("j", "enter")
		scr := h.plain()
		body := strings.Join(lines(scr)[7:], "\n")
		for _, whole := range []string{"2025-10-16T05:22:02Z", "2025-10-16 07:22:02 CEST", "(2025-10-16 05:22:02 UTC)",
			"a0b1c2d3-0000-4000-8000-000000000008", "com.loki-project.loki-messenger", "(App Apple ID 1470168868)",
			"Delay              arrived 5m58s after its signedDate: late"} {
			if !strings.Contains(body, whole) {
				t.Errorf("at %d columns %q is cut:\n%s", w, whole, body)
			}
		}
		if n := strings.Count(strings.ToLower(body), "verified ✓") + strings.Count(body, "Verified:"); n != 1 {
			t.Errorf("at %d columns the verdict is said %d times:\n%s", w, n, body)
		}
	}
}

// TestDelayColumnOnlyWhenUnusual: deliveries within seconds of their signedDate need no column;
// once one arrives a minute or more off, the list shows DELAY with the unusual ones filled in.
func TestDelayColumnOnlyWhenUnusual(t *testing.T) {
	var caps []store.Capture
	for i := int64(1); i <= 3; i++ {
		at := base.Add(time.Duration(i) * time.Minute)
		caps = append(caps, store.Capture{ID: i, Method: "POST", ReceivedAt: at, SignedDate: at.Add(-1200 * time.Millisecond),
			Subject: decode.Subject{Type: "DID_RENEW"}, Trust: "verified", ResponseStatus: 200})
	}
	h := newHarness(t, Config{}, caps...)
	if scr := h.plain(); strings.Contains(scr, "DELAY") {
		t.Errorf("a DELAY column for usual delays:\n%s", scr)
	}
	late := store.Capture{ID: 4, Method: "POST", ReceivedAt: base.Add(5 * time.Minute), SignedDate: base.Add(5*time.Minute - 2*time.Hour),
		Subject: decode.Subject{Type: "DID_RENEW"}, Trust: "verified", ResponseStatus: 200}
	h.src.add(late)
	h.send(eventsMsg{events: []events.Event{{Kind: events.Notification, Capture: &late}}})
	rows := listRowsOf(h.plain())
	if len(rows) != 4 || !strings.Contains(rows[0], " 2h0m ") || strings.Contains(rows[1], "1.2s") {
		t.Errorf("rows:\n%s", strings.Join(rows, "\n"))
	}
	if scr := h.plain(); !strings.Contains(scr, "TIME           DELAY  ENV") {
		t.Errorf("no DELAY column:\n%s", scr)
	}
}

// retriedRenewal is one subscription whose renewal Apple delivered six times (s2s answered 503
// five times, as under listen --respond 503, then 200), after the purchase.
func retriedRenewal() []store.Capture {
	signed := base.Add(-3 * time.Hour)
	caps := []store.Capture{{ID: 10, Method: "POST", ReceivedAt: signed.Add(-time.Hour + time.Second), SignedDate: signed.Add(-time.Hour),
		Subject: decode.Subject{
			NotificationUUID:      "u-subscribed",
			Type:                  "SUBSCRIBED",
			Subtype:               "INITIAL_BUY",
			Environment:           "Sandbox",
			OriginalTransactionID: "2000001991973893",
			ProductID:             "com.example.monthly",
		},
		Trust:          "simulated",
		ResponseStatus: 200}}
	for i, wait := range []time.Duration{0, time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 2 * time.Hour} {
		status := 503
		if i == 5 {
			status = 200
		}
		caps = append(caps, store.Capture{ID: int64(11 + i), Method: "POST", ReceivedAt: signed.Add(wait + time.Second), SignedDate: signed,
			Subject: decode.Subject{
				NotificationUUID:      "u-renew",
				Type:                  "DID_RENEW",
				Environment:           "Sandbox",
				OriginalTransactionID: "2000001991973893",
				ProductID:             "com.example.monthly",
			},
			Trust:          "simulated",
			ResponseStatus: status, DuplicateOf: map[bool]int64{true: 11}[i > 0]})
	}
	return caps
}

// TestTimelineCountsNotificationsNotDeliveries: Apple's retries of one notification are one row
// with how often it came and what s2s answered, and the count is of notifications.
func TestTimelineCountsNotificationsNotDeliveries(t *testing.T) {
	h := newHarness(t, Config{}, retriedRenewal()...)
	h.press("enter", "6") // #16, the sixth delivery of the renewal
	scr := h.plain()
	if !strings.Contains(scr, "Original transaction 2000001991973893 · 2 notifications (7 deliveries) by signed date") {
		t.Errorf("timeline header:\n%s", scr)
	}
	if n := strings.Count(scr, "renewed"); n != 1 {
		t.Errorf("%d renewed rows, want one:\n%s", n, scr)
	}
	if !strings.Contains(scr, "6× 503→200 ●#16") || !strings.Contains(scr, "1× 200      #10") {
		t.Errorf("rows lack the deliveries and answers:\n%s", scr)
	}
	if h.m.tlCursor != 1 {
		t.Errorf("cursor %d, want on the renewal", h.m.tlCursor)
	}
	h.press("enter") // the renewal is open already: nothing to do
	if h.m.detID != 16 {
		t.Errorf("enter on the open notification opened #%d", h.m.detID)
	}
	h.press("k", "enter")
	if h.m.detID != 10 {
		t.Fatalf("enter on the purchase opened #%d", h.m.detID)
	}
	h.press("j", "enter") // the renewal opens at its first delivery
	if h.m.detID != 11 {
		t.Errorf("enter on the renewal opened #%d, want its first delivery #11", h.m.detID)
	}
}

// TestTimelineTitleIsOneLine: the cursor's place in the viewport counts on a one-line title.
func TestTimelineTitleIsOneLine(t *testing.T) {
	h := newHarness(t, Config{}, retriedRenewal()...)
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.press("enter", "6")
	l := lines(h.plain())
	if l[7] != "Original transaction 2000001991973893 · 2 notifications (7 deliveries)" || !strings.HasPrefix(l[8], "  SIGNED") {
		t.Errorf("title:\n%s", strings.Join(l, "\n"))
	}
}

// TestHelpFitsAt80x24: the ? overlay loses no line at 80x24, the last one (where the log file is
// and how to close it) included, from the list and from the detail.
func TestHelpFitsAt80x24(t *testing.T) {
	for _, keys := range [][]string{{"?"}, {"enter", "?"}} {
		h := newHarness(t, Config{}, lifeOfASubscription()...)
		h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
		h.press(keys...)
		if n := len(h.m.helpLines()); n > h.m.bodyHeight() {
			t.Errorf("%v: %d help lines for a body of %d", keys, n, h.m.bodyHeight())
		}
		if scr := h.plain(); !strings.Contains(scr, "Logs go to /home/dev/.local/share/s2s/s2s.log · ? or esc closes this help") {
			t.Errorf("%v: the help's last line is cut:\n%s", keys, scr)
		}
	}
}

// Bidi controls and zero-width characters in a field would reorder the row or take no column
// while counted as one: shown escaped, every row of the list keeps the same width and the line
// reads left to right.
func TestBidiAndZeroWidthKeepColumns(t *testing.T) {
	caps := lifeOfASubscription()
	caps[1].ProductID = "com.x\u202eevil\u2066\u200b\u200d\ufeff"
	caps[2].Type = "DID_RENEW\u200b\u200b\u200b"
	h := newHarness(t, Config{}, caps...)
	scr := h.plain()
	if strings.ContainsAny(scr, "\u202e\u2066\u200b\u200d\ufeff") {
		t.Fatalf("a bidi or zero-width character reached the screen:\n%q", scr)
	}
	if !strings.Contains(scr, `com.x\u202eevil`) {
		t.Errorf("the product is not shown escaped:\n%s", scr)
	}
	col := func(line, word string) int { return ansi.StringWidth(line[:strings.Index(line, word)]) }
	trust, rows := -1, 0
	for _, line := range strings.Split(scr, "\n") {
		switch {
		case strings.Contains(line, "TRUST"):
			trust = col(line, "TRUST")
		case strings.Contains(line, "10-16 ") && strings.Contains(line, "verified"):
			rows++
			if c := col(line, "verified"); c != trust {
				t.Errorf("the trust column starts at %d, not %d, in %q", c, trust, line)
			}
		}
	}
	if trust < 0 || rows < 3 {
		t.Fatalf("no list on screen:\n%s", scr)
	}
}

// TestHubAcks: s2s hub's UI names the listeners that acknowledged each capture, live in the list
// and in an open detail; a name is shown escaped, once however often the hub repeats it; only
// the latest hubAckLimit captures are remembered.
func TestHubAcks(t *testing.T) {
	h := newHarness(t, Config{Hub: true}, lifeOfASubscription()...)
	h.press("enter")
	if scr := h.plain(); !strings.Contains(scr, "Acknowledged by    no listener yet") {
		t.Fatalf("detail before any acknowledgement:\n%s", scr)
	}
	ack := func(id int64, name string) {
		h.send(eventsMsg{events: []events.Event{{Kind: events.HubAck, CaptureID: id, Consumer: name}}})
	}
	ack(9, "bob")
	ack(9, "al\x1b[2Jice")
	ack(9, "bob")
	scr := h.plain()
	if !strings.Contains(scr, `Acknowledged by    al\x1b[2Jice, bob`) || strings.Contains(scr, "\x1b[2J") {
		t.Fatalf("the open detail after acknowledgements:\n%s", scr)
	}
	h.press("esc")
	h.send(tea.WindowSizeMsg{Width: 120, Height: 30})
	if scr := h.plain(); !strings.Contains(scr, `ACKED BY`) || !strings.Contains(scr, `al\x1b[2Jic…`) {
		t.Fatalf("list after acknowledgements:\n%s", scr)
	}
	// Under 100 columns the column gives way to TYPE and PRODUCT; the Summary still names them.
	h.send(tea.WindowSizeMsg{Width: 99, Height: 30})
	if scr := h.plain(); strings.Contains(scr, `ACKED BY`) || strings.Contains(scr, `al\x1b`) {
		t.Fatalf("list at 99 columns:\n%s", scr)
	}
	for id := int64(100); id < 100+hubAckLimit; id++ {
		ack(id, "carol")
	}
	if _, ok := h.m.hubAcks[9]; ok || len(h.m.hubAcks) != hubAckLimit {
		t.Fatalf("remembered %d captures, capture 9 among them: %v", len(h.m.hubAcks), ok)
	}
	// listen's own UI has no such column.
	l := newHarness(t, Config{}, lifeOfASubscription()...)
	l.send(eventsMsg{events: []events.Event{{Kind: events.HubAck, CaptureID: 9, Consumer: "bob"}}})
	if scr := l.plain(); strings.Contains(scr, "ACKED BY") || strings.Contains(scr, "bob") {
		t.Fatalf("listen's list shows acknowledgements:\n%s", scr)
	}
}

// The header names the hub: s2s hub's teammate URL (redacted by the caller) while the UI covers
// stderr, or a listener's source; what it is given is shown as text.
func TestHeaderShowsTheHub(t *testing.T) {
	h := newHarness(t, Config{Hub: true, HubURL: "nats://***@127.0.0.1:4222\x1b[2J"})
	h.send(tea.WindowSizeMsg{Width: 160, Height: 30})
	scr := h.plain()
	if !strings.Contains(scr, `hub     nats://***@127.0.0.1:4222\x1b[2J  ← teammates: s2s listen --hub`) || strings.Contains(scr, "\x1b[2J") {
		t.Fatalf("hub header:\n%s", scr)
	}
	h = newHarness(t, Config{HubURL: "nats://***@127.0.0.1:4222"})
	if scr := h.plain(); !strings.Contains(scr, "hub     nats://***@127.0.0.1:4222  ← the captures' source") {
		t.Fatalf("listener header:\n%s", scr)
	}
	h = newHarness(t, Config{})
	if scr := h.plain(); strings.Contains(scr, "hub     ") {
		t.Fatalf("header without a hub:\n%s", scr)
	}
}

func TestHubHeaderFitsEightyColumns(t *testing.T) {
	h := newHarness(t, Config{Hub: true, HubURL: "nats://***@127.0.0.1:4222"})
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	scr := h.plain()
	if !strings.Contains(scr, "hub     nats://***@127.0.0.1:4222  ← for teammates (s2s hub status)") {
		t.Fatalf("hub header at 80 columns:\n%s", scr)
	}
	for _, l := range strings.Split(scr, "\n") {
		if ansi.StringWidth(l) > 80 {
			t.Fatalf("a line wider than 80 columns: %q", l)
		}
	}
}
