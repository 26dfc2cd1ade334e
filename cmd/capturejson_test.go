package cmd

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/store"
)

var updateCaptureJSON = flag.Bool("update-capture-json", false, "rewrite testdata/capturejson/*.golden")

// goldenCapture is a capture with every stored field set. Fields are assigned one by one, so the
// test reads the same whatever the layout of store.Capture.
func goldenCapture(now time.Time) *store.Capture {
	jws, err := os.ReadFile("../testdata/vectors/real/05-notification-2025-10-01-DID_RENEW-sandbox.jws")
	if err != nil {
		panic(err)
	}
	c := &store.Capture{}
	c.ReceivedAt = now.Add(-time.Hour)
	c.Method, c.Path, c.Query = http.MethodPost, "/apple", "team=a&x=1"
	c.Headers = http.Header{"Content-Type": {"application/json"}, "User-Agent": {"AppStore-Notifications/1.0"}}
	c.RemoteAddr, c.SourceIP, c.AppleRange = "127.0.0.1:54321", "17.58.0.9", "17.0.0.0/8"
	c.Body = []byte(`{"signedPayload":"` + strings.TrimSpace(string(jws)) + `"}`)
	c.NotificationUUID = "6f3b1c2e-0d5a-4c1e-9a77-2b6d3e8f4a10"
	c.Type, c.Subtype = "DID_RENEW", "BILLING_RECOVERY"
	c.Environment = "Production"
	c.BundleID, c.AppAppleID = "com.example.app", 1234567890
	c.OriginalTransactionID, c.TransactionID = "2000000123456789", "2000000987654321"
	c.ProductID, c.AppAccountToken = "com.example.monthly", "7e3fb20b-4cdb-47cc-936d-99d65f608138"
	c.SignedDate = time.Date(2025, 10, 1, 9, 30, 15, 123e6, time.UTC)
	c.Trust, c.TrustClass = "invalid", "environment"
	c.TrustMessage = "the notification is from the Sandbox environment, not Production (--environment)"
	c.IdentityMismatch = "environment Sandbox, expected Production"
	c.ResponseStatus, c.Latency = 200, 3811864*time.Nanosecond
	c.Kind = "notification"
	c.HubPending, c.HubOrigin = true, "hub-1/42"
	return c
}

// TestCaptureJSONGolden pins the JSON of captures byte for byte wherever s2s writes it: captures
// list --json (and the MCP tools list_captures and timeline that run it), captures show --json
// (show_capture), captures export --json, and listen --output json.
func TestCaptureJSONGolden(t *testing.T) {
	e := newCapturesEnv(t)
	s, err := store.Open(e.store)
	if err != nil {
		t.Fatal(err)
	}
	full := goldenCapture(e.now)
	if err := s.Insert(context.Background(), full); err != nil {
		t.Fatal(err)
	}
	dup := goldenCapture(e.now) // the same notificationUUID: duplicateOf
	dup.ReceivedAt = e.now.Add(-30 * time.Minute)
	dup.HubPending, dup.HubOrigin = false, ""
	if err := s.Insert(context.Background(), dup); err != nil {
		t.Fatal(err)
	}
	bare := &store.Capture{ReceivedAt: e.now.Add(-10 * time.Minute), Method: http.MethodGet, Path: "/", RemoteAddr: "127.0.0.1:1"}
	if err := s.Insert(context.Background(), bare); err != nil {
		t.Fatal(err)
	}
	del := &store.Delivery{CaptureID: full.ID, Target: "http://127.0.0.1:9/hook", Attempt: 1, StartedAt: e.now.Add(-59 * time.Minute),
		Status: 200, Latency: 1500 * time.Microsecond, Response: "ok", State: store.DeliverySucceeded}
	if err := s.AddDelivery(context.Background(), del); err != nil {
		t.Fatal(err)
	}
	s.Close()

	outputs := map[string]string{}
	for name, args := range map[string][]string{
		"list":        {"list", "--json"},
		"show-full":   {"show", "--json", idStr(full.ID)},
		"show-bare":   {"show", "--json", idStr(bare.ID)},
		"export-full": {"export", "--json", idStr(full.ID)},
	} {
		code, out, stderr := e.run(args...)
		if code != 0 && code != 3 {
			t.Fatalf("captures %v: exit %d: %s", args, code, stderr)
		}
		outputs[name] = out
	}

	ios, _, out, _ := TestIO()
	p := newEventPrinter(ios, "json")
	for _, c := range []*store.Capture{full, dup, bare} {
		p.print(events.Event{Kind: events.Notification, Time: e.now, Capture: c})
	}
	outputs["listen"] = out.String()

	for name, got := range outputs {
		path := filepath.Join("testdata", "capturejson", name+".golden")
		if *updateCaptureJSON {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update-capture-json to write it)", err)
		}
		if !bytes.Equal([]byte(got), want) {
			t.Errorf("%s: the JSON changed\n got: %s\nwant: %s", name, got, want)
		}
	}
}
