package tui

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/store"
)

// TestLiveMatchAgreesWithStore checks that a capture arriving live is kept or dropped by the
// filter exactly as the store's own query would, so the list does not change on a reload.
func TestLiveMatchAgreesWithStore(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	caps := []store.Capture{
		{Subject: decode.Subject{Type: "DID_RENEW", Environment: "Sandbox", ProductID: "com.example.pro", BundleID: "com.example", OriginalTransactionID: "1000"}, Trust: "verified"},
		{Subject: decode.Subject{Type: "REFUND", Environment: "Production", ProductID: "com.example.PRO", BundleID: "Com.Example", OriginalTransactionID: "1000"}, Trust: "simulated"},
		{Subject: decode.Subject{Type: "DID_RENEW", Subtype: "BILLING_RECOVERY", Environment: "Sandbox", ProductID: "com.other.basic", BundleID: "com.other"}, Trust: "invalid"},
		{Trust: "invalid", Path: "/apple/Notifications"},
	}
	for i := range caps {
		caps[i].ReceivedAt = time.Now()
		caps[i].Method = "POST"
		if err := st.Insert(ctx, &caps[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, text := range []string{
		"type:did_renew", "env:prod", "trust:sim", "product:com.example.pro", "product:com.example.PRO",
		"bundle:com.example", "otid:1000", "subtype:billing_recovery", "example", "EXAMPLE", "notifications",
		"type:DID_RENEW env:sandbox pro", "type:REFUND type:DID_RENEW", "product:PRO", "product:basic,pro",
		"type:DID_RENEW/BILLING_RECOVERY", "env:sb,prod trust:invalid|verified",
	} {
		f, err := parseFilter(text)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		f.Limit = 100
		fromStore, err := st.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var want, got []int64
		for _, c := range fromStore {
			want = append(want, c.ID)
		}
		for i := len(caps) - 1; i >= 0; i-- {
			if f.Match(&caps[i]) {
				got = append(got, caps[i].ID)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: live match keeps %v, the store %v", text, got, want)
		}
	}
}
