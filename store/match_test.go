package store

import (
	"slices"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
)

// TestMatchAgreesWithWhere: for every filter, the captures Match keeps are exactly those List
// selects, so a live arrival judged in memory lands where a reload would put it.
func TestMatchAgreesWithWhere(t *testing.T) {
	s := openTemp(t)
	ctx := testCtx(t)
	base := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	const n = 60
	kinds := []decode.Kind{decode.KindNotification, decode.KindRealtimeRequest, decode.KindNotificationV1, decode.KindUnknown, ""}
	bulkInsert(t, s, n, func(i int) *Capture {
		c := synthetic(i, []byte(`{}`), base)
		c.Kind = kinds[i%len(kinds)]
		if i%3 == 0 {
			c.AppAppleID = 42
		}
		return c
	})
	all, err := s.List(ctx, Filter{Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	at := func(i int) time.Time { return base.Add(time.Duration(i) * 17 * time.Second) }
	for _, f := range []Filter{
		{},
		{Types: []string{"DID_RENEW"}},
		{Types: []string{"DID_RENEW"}, Subtypes: []string{"BILLING_RECOVERY"}},
		{Environments: []decode.Environment{"Production"}, Trusts: []decode.Label{"verified"}},
		{BundleIDs: []string{"com.example.app1"}, Products: []string{"com.example.sub.yearly"}},
		{OriginalTransactionIDs: []string{"20000000000007"}},
		{NotificationUUIDs: []string{"00000000-0000-4000-8000-000000000012"}},
		{Since: at(10), Until: at(20)},
		{Since: at(10).Add(time.Nanosecond)},
		{Until: at(0)},
		{BeforeID: 30, AfterID: 5},
		{Text: "MONTHLY"},
		{Text: " weekly "},
		{Text: "1470168868"},
		{Text: "notifications", Trusts: []decode.Label{"invalid"}},
		{Text: "no such thing"},
		{Types: []string{"DID_RENEW", "EXPIRED"}},
		{Types: []string{"DID_RENEW/BILLING_RECOVERY", "SUBSCRIBED"}, Environments: []decode.Environment{"Sandbox", "Production"}},
		{Products: []string{"YEARLY"}},
		{Products: []string{"sub.week", "monthly"}, Trusts: []decode.Label{"verified", "invalid"}},
		{Products: []string{"%"}},
		{Kinds: []decode.Kind{decode.KindRealtimeRequest}},
		{Kinds: []decode.Kind{decode.KindNotification}},
		{Kinds: []decode.Kind{decode.KindNotificationV1, decode.KindUnknown}},
		{AppAppleIDs: []int64{42}},
		{AppAppleIDs: []int64{42, 1470168868}, Kinds: []decode.Kind{decode.KindRealtimeRequest}},
	} {
		f.Limit = -1
		listed, err := s.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var want, got []int64
		for _, c := range listed {
			want = append(want, c.ID)
		}
		for i := range all {
			if f.Match(&all[i]) {
				got = append(got, all[i].ID)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%+v: Match keeps %v, List selects %v", f, got, want)
		}
	}
}
