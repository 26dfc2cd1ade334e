package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/appstore/appstoretest"
	"github.com/s2s-dev/s2s/subscription"
)

// A stand-in that signs with a chain of its own: without --root everything it returns is
// invalid(chain) and shown UNVERIFIED; with --root its data is simulated, never verified.
func TestSubscriptionRootLabelsStandInSimulated(t *testing.T) {
	e := newAppleEnv(t, appstoretest.Options{})
	key, err := appstore.LoadPrivateKey(appleTestKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := appstoretest.Start(t, appstoretest.Options{KeyID: appleTestKeyID, IssuerID: appleTestIssuer, BundleID: appleTestBundleID, PublicKey: key.Public(), PageSize: 1})
	e.srv = srv
	// The stand-in's own chain is valid from an hour ago: everything is signed since.
	srv.AddTransactions(
		appstoretest.Notification{TransactionID: "2000000000000500", SignedDate: time.Now().Add(-50 * time.Minute)},
		appstoretest.Notification{TransactionID: "2000000000000501", OriginalTransactionID: "2000000000000500", SignedDate: time.Now().Add(-40 * time.Minute)},
	)
	if _, err := srv.AddNotification(appstoretest.Notification{Type: "DID_RENEW", TransactionID: "2000000000000501", OriginalTransactionID: "2000000000000500", SignedDate: time.Now().Add(-30 * time.Minute)},
		appstore.SendAttempt{AttemptDate: appstore.ToMillis(time.Now().Add(-30 * time.Minute)), SendAttemptResult: appstore.ResultTimedOut}); err != nil {
		t.Fatal(err)
	}

	code, out, stderr := e.run("subscription", "2000000000000500", "--bundle-id", appleTestBundleID)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(out, "simulated") || strings.Contains(out, "verified") || !strings.Contains(out, "UNVERIFIED DID_RENEW") || !strings.Contains(out, "invalid(chain)") {
		t.Errorf("without --root:\n%s", out)
	}

	rootFile := filepath.Join(t.TempDir(), "root.pem")
	if err := os.WriteFile(rootFile, srv.Chain().RootPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = e.run("subscription", "2000000000000501", "--bundle-id", appleTestBundleID, "--root", rootFile, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var v subscription.View
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if len(v.Statuses) != 1 || v.Statuses[0].StatusName != "ACTIVE" || v.Statuses[0].Transaction.Label != "simulated" || v.Statuses[0].Renewal.Label != "simulated" {
		t.Errorf("statuses %+v", v.Statuses)
	}
	if len(v.Transactions) != 2 || v.Transactions[0].TransactionID != "2000000000000500" || v.Transactions[1].Label != "simulated" {
		t.Errorf("transactions %+v", v.Transactions)
	}
	if len(v.Notifications) != 1 || !v.Notifications[0].NeverReceived || v.Notifications[0].LastResult != appstore.ResultTimedOut ||
		v.Notifications[0].Notification.Label != "simulated" || !strings.HasPrefix(v.Notifications[0].Fix, "Answer within a few seconds") {
		t.Errorf("notifications %+v", v.Notifications)
	}
	if !strings.Contains(stderr, "Get Transaction History page 2: 2 transactions so far") {
		t.Errorf("progress: %s", stderr)
	}
}

// Usage mistakes are caught before any request.
func TestSubscriptionUsage(t *testing.T) {
	e := newAppleEnv(t, appstoretest.Options{})
	for _, args := range [][]string{
		{"subscription"},
		{"subscription", "1", "2"},
		{"subscription", "abc"},
		{"subscription", "1", "--environment", "Xcode"},
		{"subscription", "1", "--root", filepath.Join(t.TempDir(), "missing.pem")},
	} {
		code, _, stderr := e.run(args...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
	}
	if n := len(e.srv.Requests()); n != 0 {
		t.Errorf("%d requests for usage errors", n)
	}
}
