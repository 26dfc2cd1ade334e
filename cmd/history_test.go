package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/appstore/appstoretest"
	"github.com/s2s-dev/s2s/fixtures"
	"github.com/s2s-dev/s2s/store"
)

// seedHistory puts five notifications in the stand-in: three delivered, one retried into success,
// one never delivered.
func seedHistory(t *testing.T, e *appleEnv) time.Time {
	t.Helper()
	base := time.Now().Add(-6 * time.Hour).Truncate(time.Second)
	ok := func(d time.Time) appstore.SendAttempt {
		return appstore.SendAttempt{AttemptDate: appstore.ToMillis(d), SendAttemptResult: appstore.ResultSuccess}
	}
	fail := func(d time.Time, r appstore.SendAttemptResult) appstore.SendAttempt {
		return appstore.SendAttempt{AttemptDate: appstore.ToMillis(d), SendAttemptResult: r}
	}
	for i, n := range []struct {
		typ, sub string
		tx       string
		attempts []appstore.SendAttempt
	}{
		{"SUBSCRIBED", "INITIAL_BUY", "2000000000000001", []appstore.SendAttempt{ok(base)}},
		{"DID_RENEW", "", "2000000000000002", []appstore.SendAttempt{fail(base.Add(time.Hour), appstore.ResultTimedOut), ok(base.Add(2 * time.Hour))}},
		{"DID_CHANGE_RENEWAL_STATUS", "AUTO_RENEW_DISABLED", "2000000000000003", []appstore.SendAttempt{ok(base.Add(2 * time.Hour))}},
		{"REFUND", "", "2000000000000004", []appstore.SendAttempt{fail(base.Add(3*time.Hour), appstore.ResultTLSIssue)}},
		{"EXPIRED", "VOLUNTARY", "2000000000000005", []appstore.SendAttempt{ok(base.Add(4 * time.Hour))}},
	} {
		// The refund is another customer's: a transactionId filter stands for the whole customer,
		// as at Apple.
		original := "2000000000000001"
		if n.typ == "REFUND" {
			original = n.tx
		}
		if _, err := e.srv.AddNotification(appstoretest.Notification{
			Type: n.typ, Subtype: n.sub, TransactionID: n.tx, OriginalTransactionID: original,
			SignedDate: base.Add(time.Duration(i) * time.Hour),
		}, n.attempts...); err != nil {
			t.Fatal(err)
		}
	}
	return base
}

func TestHistoryTable(t *testing.T) {
	e := newAppleEnv(t, appstoretest.Options{PageSize: 2})
	base := seedHistory(t, e)
	code, stdout, stderr := e.run("history", "--since", "1d", "--bundle-id", appleTestBundleID)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "SIGNED (UTC)") || !strings.Contains(lines[0], "SEND ATTEMPTS") {
		t.Fatalf("header: %q", lines[0])
	}
	want := []string{
		base.UTC().Format("2006-01-02 15:04:05") + "  SUBSCRIBED/INITIAL_BUY",
		"DID_RENEW ",
		"TIMED_OUT " + base.Add(time.Hour).UTC().Format("01-02 15:04") + " → SUCCESS " + base.Add(2*time.Hour).UTC().Format("01-02 15:04"),
		"DID_CHANGE_RENEWAL_STATUS/AUTO_RENEW_DISABLED",
		"REFUND ",
		"EXPIRED/VOLUNTARY",
	}
	for _, w := range want {
		if !strings.Contains(stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, stdout)
		}
	}
	for _, l := range lines[1:6] {
		if !strings.Contains(l, "simulated") {
			t.Errorf("row not labelled simulated: %q", l)
		}
	}
	for _, w := range []string{"TIMED_OUT: Apple's connection to your server timed out", "TLS_ISSUE: The TLS handshake failed.", "SUCCESS: Your server answered"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("legend lacks %q:\n%s", w, stdout)
		}
	}
	for _, w := range []string{"page 1: 2 notifications (2 so far, more to come)", "page 3: 1 notification (5 so far)", "5 notifications, 1 never delivered."} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
}

func TestHistoryJSONAndFilters(t *testing.T) {
	e := newAppleEnv(t, appstoretest.Options{})
	seedHistory(t, e)
	tests := []struct {
		name  string
		args  []string
		types []string
	}{
		{"all", nil, []string{"SUBSCRIBED", "DID_RENEW", "DID_CHANGE_RENEWAL_STATUS", "REFUND", "EXPIRED"}},
		{"only failures", []string{"--only-failures"}, []string{"REFUND"}},
		{"type and subtype", []string{"--type", "expired", "--subtype", "voluntary"}, []string{"EXPIRED"}},
		{"any transaction of the customer", []string{"--transaction", "2000000000000002"}, []string{"SUBSCRIBED", "DID_RENEW", "DID_CHANGE_RENEWAL_STATUS", "EXPIRED"}},
		{"customer", []string{"--transaction", "2000000000000001"}, []string{"SUBSCRIBED", "DID_RENEW", "DID_CHANGE_RENEWAL_STATUS", "EXPIRED"}},
		{"another customer", []string{"--transaction", "2000000000000004"}, []string{"REFUND"}},
		{"until", []string{"--until", time.Now().Add(-4*time.Hour - 30*time.Minute).Format(time.RFC3339)}, []string{"SUBSCRIBED", "DID_RENEW"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"history", "--since", "12h", "--bundle-id", appleTestBundleID, "--json"}, tt.args...)
			code, stdout, stderr := e.run(args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
				if line == "" {
					continue
				}
				var row historyRow
				if err := json.Unmarshal([]byte(line), &row); err != nil {
					t.Fatalf("not JSON: %q", line)
				}
				if row.Notification.Label != "simulated" || row.SignedPayload == "" || len(row.SendAttempts) == 0 || row.SendAttempts[0].Meaning == "" {
					t.Errorf("row %+v", row)
				}
				if row.Delivered != (row.Notification.Type != "REFUND") {
					t.Errorf("%s delivered = %v", row.Notification.Type, row.Delivered)
				}
				got = append(got, row.Notification.Type)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.types) {
				t.Errorf("types %v, want %v", got, tt.types)
			}
		})
	}
}

func TestHistoryUsageErrors(t *testing.T) {
	e := newAppleEnv(t, appstoretest.Options{})
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no since", []string{}, "history needs --since"},
		{"bad since", []string{"--since", "yesterday"}, `invalid --since "yesterday"`},
		{"subtype without type", []string{"--since", "1h", "--subtype", "VOLUNTARY"}, "a subtype filter needs a notification type"},
		{"transaction with type", []string{"--since", "1h", "--transaction", "1", "--type", "REFUND"}, "cannot be combined"},
		{"older than sandbox keeps", []string{"--since", "45d"}, "older than the 30 days of history Apple keeps in Sandbox"},
		{"older than production keeps", []string{"--since", "200d", "--environment", "Production"}, "180 days"},
		{"since after until", []string{"--since", "1h", "--until", "2h"}, "must come before"},
		{"bad environment", []string{"--since", "1h", "--environment", "Xcode"}, "invalid --environment"},
		{"no bundle id", []string{"--since", "1h", "--bundle-id", ""}, "history needs --bundle-id"},
		{"argument", []string{"--since", "1h", "extra"}, `history takes no arguments; 1 given: "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"history", "--bundle-id", appleTestBundleID}, tt.args...)
			code, _, stderr := e.run(args...)
			// The error handler capitalises and wraps messages; compare words, ignoring case.
			flat := strings.ToLower(strings.Join(strings.Fields(stderr), " "))
			if code != ExitUsage || !strings.Contains(flat, strings.ToLower(tt.want)) {
				t.Errorf("exit %d, stderr %q; want exit 2 with %q", code, stderr, tt.want)
			}
		})
	}
	if n := len(e.srv.Requests()); n != 0 {
		t.Errorf("%d requests reached Apple; every mistake should be caught before", n)
	}
}

func TestHistoryWindowEdge(t *testing.T) {
	// "--since 30d" in Sandbox asks for everything Apple keeps; it must not fail by a millisecond.
	e := newAppleEnv(t, appstoretest.Options{})
	code, _, stderr := e.run("history", "--since", "30d", "--bundle-id", appleTestBundleID)
	if code != 0 || !strings.Contains(stderr, "the oldest history Apple keeps in Sandbox") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

func TestHistoryImport(t *testing.T) {
	e := newAppleEnv(t, appstoretest.Options{PageSize: 3})
	seedHistory(t, e)
	code, stdout, stderr := e.run("history", "--since", "1d", "--bundle-id", appleTestBundleID, "--import")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "CAPTURE") || !strings.Contains(stderr, "imported 5 into") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	st, err := store.Open(e.vars["S2S_STORE"])
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	caps, err := st.List(ctx, store.Filter{Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(caps) != 5 {
		t.Fatalf("%d captures, want 5", len(caps))
	}
	for i, want := range []string{"SUBSCRIBED", "DID_RENEW", "DID_CHANGE_RENEWAL_STATUS", "REFUND", "EXPIRED"} {
		c, err := st.Get(ctx, caps[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ SignedPayload string }
		if err := json.Unmarshal(c.Body, &body); err != nil || !strings.HasPrefix(body.SignedPayload, "eyJ") {
			t.Errorf("capture %d body %q is not Apple's {\"signedPayload\"} shape", c.ID, c.Body)
		}
		if c.Method != "IMPORT" || c.Path != "/history" || c.Type != want || c.Trust != "simulated" || c.NotificationUUID == "" || c.BundleID != appleTestBundleID {
			t.Errorf("capture %d = %+v", c.ID, c)
		}
	}
	st.Close()

	// A second import finds them all in the store already.
	code, stdout, stderr = e.run("history", "--since", "1d", "--bundle-id", appleTestBundleID, "--import", "--json")
	if code != 0 || !strings.Contains(stderr, "imported 0 into") || !strings.Contains(stderr, "(5 were already there)") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var row historyRow
		if err := json.Unmarshal([]byte(line), &row); err != nil || row.CaptureID == 0 || row.Imported {
			t.Errorf("second import row: %s", line)
		}
	}
	st, _ = store.Open(e.vars["S2S_STORE"])
	defer st.Close()
	if n, err := st.Count(ctx, store.Filter{}); err != nil || n != 5 {
		t.Errorf("%d captures after the second import, want 5 (%v)", n, err)
	}
}

func TestHistoryAPIErrors(t *testing.T) {
	tests := []struct {
		name   string
		faults []appstoretest.Fault
		now    func() time.Time
		want   string
	}{
		{"5xx retried then failing", []appstoretest.Fault{appstoretest.InternalError(), appstoretest.InternalError(), appstoretest.InternalError(), appstoretest.InternalError()}, nil, "HTTP 500 GeneralInternal (5000000)"},
		{"rate limited beyond the wait cap", []appstoretest.Fault{appstoretest.RateLimited(time.Now().Add(time.Hour))}, nil, "HTTP 429 RateLimitExceeded (4290000)"},
		{"expired token", nil, func() time.Time { return time.Now().Add(-2 * time.Hour) }, "HTTP 401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAppleEnv(t, appstoretest.Options{})
			e.srv.InjectFaults("", tt.faults...)
			if tt.now != nil {
				e.now = tt.now
			}
			f, out, errOut := e.factory()
			e.vars["S2S_DEBUG"] = "1"
			o := &historyOptions{f: f, creds: e.creds(), BundleID: appleTestBundleID, Environment: "Sandbox", Since: "1h"}
			err := runHistory(testCtx(t), o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			var ue *UsageError
			if errors.As(err, &ue) || ExitCode(err) != ExitError {
				t.Errorf("exit code %d, want %d", ExitCode(err), ExitError)
			}
			assertNoKeyMaterial(t, err.Error(), out.String(), errOut.String())
		})
	}
}

func TestHistoryParseTime(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"24h", now.Add(-24 * time.Hour)},
		{"7d", now.Add(-7 * 24 * time.Hour)},
		{"90m", now.Add(-90 * time.Minute)},
		{"2026-11-20T08:00:00Z", time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)},
		{"2026-11-20", time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		{"1763899200000", time.UnixMilli(1763899200000)},
	}
	for _, tt := range tests {
		got, err := historyParseTime(tt.in, now)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("%q: %s %v, want %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "-1h", "12"} {
		if _, err := historyParseTime(bad, now); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestHistoryCompletion(t *testing.T) {
	e := newAppleEnv(t, appstoretest.Options{})
	_, stdout, _ := e.run("__complete", "history", "--type", "")
	if !strings.Contains(stdout, "REFUND\n") || !strings.Contains(stdout, "DID_RENEW\n") {
		t.Errorf("--type completion:\n%s", stdout)
	}
	_, stdout, _ = e.run("__complete", "history", "--type", "EXPIRED", "--subtype", "")
	if !strings.Contains(stdout, "VOLUNTARY\n") || strings.Contains(stdout, "INITIAL_BUY") {
		t.Errorf("--subtype completion after --type EXPIRED:\n%s", stdout)
	}
}

// TestHistoryTransactionIsNotANotification: a history item whose signedPayload is a signed
// transaction (trusted signature and all) is not a notification: invalid/format in the table and
// in the imported capture, never simulated or verified.
func TestHistoryTransactionIsNotANotification(t *testing.T) {
	e := newAppleEnv(t, appstoretest.Options{})
	chain, err := fixtures.LoadOrCreateChain(e.vars["S2S_CONFIG_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	signed := time.Now().Add(-time.Hour).Truncate(time.Second)
	payload, _ := json.Marshal(map[string]any{"transactionId": "2000000000000009", "originalTransactionId": "2000000000000009",
		"bundleId": appleTestBundleID, "productId": "com.example.monthly", "environment": "Sandbox",
		"purchaseDate": signed.UnixMilli(), "signedDate": signed.UnixMilli()})
	tx, err := chain.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.AddHistory(appstoretest.HistoryRecord{SignedPayload: tx, SignedDate: signed,
		SendAttempts: []appstore.SendAttempt{{AttemptDate: appstore.ToMillis(signed), SendAttemptResult: appstore.ResultSuccess}}})
	code, stdout, stderr := e.run("history", "--since", "1d", "--bundle-id", appleTestBundleID, "--import", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var row historyRow
	if err := json.Unmarshal([]byte(strings.TrimSpace(stdout)), &row); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if row.Notification.Label != "invalid" || row.Notification.Class != "format" || !strings.Contains(row.Notification.Message, "a signed transaction, not a notification") {
		t.Errorf("history row %+v", row.Notification)
	}
	st, err := store.Open(e.vars["S2S_STORE"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.Get(testCtx(t), row.CaptureID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Trust != "invalid" || c.TrustClass != "format" {
		t.Errorf("imported capture is %s/%s %q", c.Trust, c.TrustClass, c.TrustMessage)
	}
}
