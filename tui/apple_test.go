package tui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/store"
	"github.com/s2s-dev/s2s/subscription"
)

// On the Timeline, a asks for Apple's view (in a Cmd), shows the status from Apple above, and a
// notification Apple sent that never arrived becomes a marked row with Apple's attempts; i imports
// it, and the timeline then holds the imported capture, which enter opens (and r would replay).
func TestTimelineAppleView(t *testing.T) {
	caps := lifeOfASubscription()
	const otid = "2000001034582925"
	missingUUID := "ffffffff-0000-4000-8000-000000000001"
	active, on := appstore.StatusActive, 1
	var asked []string
	view := func() *subscription.View {
		return &subscription.View{
			Statuses: []subscription.Status{{OriginalTransactionID: otid, Status: active, StatusName: active.String(), Meaning: active.Meaning(),
				Transaction: decode.Summary{Label: decode.LabelVerified},
				Renewal:     subscription.Renewal{AutoRenewStatus: &on, RenewalDate: time.Date(2025, 11, 2, 7, 6, 16, 0, time.UTC)}}},
			Notifications: []subscription.Notification{
				{Notification: decode.Summary{Subject: decode.Subject{NotificationUUID: caps[1].NotificationUUID, Type: "DID_RENEW"},
					Label: decode.LabelVerified, SignedDate: caps[1].SignedDate}},
				{Notification: decode.Summary{Subject: decode.Subject{NotificationUUID: missingUUID, Type: "DID_FAIL_TO_RENEW", OriginalTransactionID: otid},
					Label: decode.LabelVerified, SignedDate: time.Date(2025, 10, 1, 7, 20, 0, 0, time.UTC)},
					SendAttempts:  []appstore.SendAttempt{{AttemptDate: 1_759_303_200_000, SendAttemptResult: appstore.ResultTLSIssue}},
					NeverReceived: true, LastResult: appstore.ResultTLSIssue, Fix: appstore.ResultTLSIssue.Info().Fix},
				// An unverified payload's UUID is not trusted to make a row.
				{Notification: decode.Summary{Subject: decode.Subject{NotificationUUID: "eeeeeeee-0000-4000-8000-000000000001", Type: "REFUND"},
					Label: decode.LabelInvalid}, NeverReceived: true},
			},
		}
	}
	var h *harness
	cfg := Config{
		AppleView: func(_ context.Context, id string) (*subscription.View, error) {
			asked = append(asked, id)
			return view(), nil
		},
		ImportApple: func(_ context.Context, n subscription.Notification) (int64, error) {
			c := caps[1]
			c.ID, c.Method, c.NotificationUUID, c.Type, c.SignedDate = 10, store.MethodImport, n.Notification.NotificationUUID, n.Notification.Type, n.Notification.SignedDate
			h.src.add(c)
			return 10, nil
		},
	}
	h = newHarness(t, cfg, caps...)
	h.run(h.m.openDetail(2))
	h.press("6")
	if scr := h.plain(); !strings.Contains(scr, "a: Apple's view") {
		t.Errorf("no hint for a:\n%s", scr)
	}
	h.press("a")
	if len(asked) != 1 || asked[0] != otid {
		t.Fatalf("asked Apple about %v", asked)
	}
	scr := h.plain()
	for _, want := range []string{
		"Apple now: ACTIVE — the subscription is active · auto-renew on · renews 2025-11-02",
		"NEVER CAME · TLS_ISSUE",
		" Apple",
	} {
		if !strings.Contains(scr, want) {
			t.Errorf("missing %q:\n%s", want, scr)
		}
	}
	if strings.Contains(scr, "REFUND") && strings.Count(scr, "REFUND") > 1 {
		t.Errorf("an invalid payload made a row:\n%s", scr)
	}
	// The never-arrived row sorts by its signed date: after the renewal (#2), before #3.
	row := -1
	for i, e := range h.m.det.timeline {
		if e.apple != nil {
			row = i
		}
	}
	if row != 1 {
		t.Fatalf("never-arrived row at %d", row)
	}
	h.press("j")
	scr = h.plain()
	if !strings.Contains(scr, "Apple's attempts: TLS_ISSUE") || !strings.Contains(scr, "i imports it") {
		t.Errorf("selected never-arrived row:\n%s", scr)
	}
	h.press("enter")
	if h.m.detID != 2 {
		t.Errorf("enter on a row with no capture opened #%d", h.m.detID)
	}
	h.press("i")
	if !strings.Contains(h.m.status, "imported as #10") {
		t.Errorf("status %q", h.m.status)
	}
	// The import is a capture now, still marked: Apple's own delivery never came.
	for _, e := range h.m.det.timeline {
		if e.apple != nil && e.ID != 10 {
			t.Errorf("row #%d marked as Apple's", e.ID)
		}
	}
	if scr := h.plain(); !strings.Contains(scr, "NEVER CAME · imported") || !strings.Contains(scr, "#10") {
		t.Errorf("imported row:\n%s", scr)
	}
	h.press("i") // nothing more to import
	if !strings.Contains(h.m.status, "i imports a notification") {
		t.Errorf("i on an imported row: %q", h.m.status)
	}
	h.m.tlCursor = 1
	h.press("enter")
	if h.m.detID != 10 {
		t.Errorf("enter on the imported row opened #%d", h.m.detID)
	}
}

// Without the key, a says what it needs; an error from Apple is shown, not fatal.
func TestTimelineAppleViewUnavailable(t *testing.T) {
	h := newHarness(t, Config{}, lifeOfASubscription()...)
	h.run(h.m.openDetail(2))
	h.press("6", "a")
	if !strings.Contains(h.m.status, "In-App Purchase key") {
		t.Errorf("status %q", h.m.status)
	}
	h = newHarness(t, Config{AppleView: func(context.Context, string) (*subscription.View, error) {
		return nil, errors.New("HTTP 401")
	}}, lifeOfASubscription()...)
	h.run(h.m.openDetail(2))
	h.press("6", "a")
	if scr := h.plain(); !strings.Contains(scr, "Apple: HTTP 401") {
		t.Errorf("error not shown:\n%s", scr)
	}
}
