package appstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/appstore/appstoretest"
)

// BenchmarkSignToken is the cost the client pays per request for a fresh ES256 token.
func BenchmarkSignToken(b *testing.B) {
	creds := testCreds(b)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := creds.SignToken(now, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHistoryPage is one Get Notification History page of 20 signed notifications over
// loopback: token, request, stand-in's token check, JSON both ways.
func BenchmarkHistoryPage(b *testing.B) {
	srv := standIn(b, appstoretest.Options{})
	for range 20 {
		if _, err := srv.AddNotification(appstoretest.Notification{Type: "DID_RENEW", SignedDate: time.Now().Add(-time.Minute)},
			appstore.SendAttempt{AttemptDate: appstore.ToMillis(time.Now()), SendAttemptResult: appstore.ResultSuccess}); err != nil {
			b.Fatal(err)
		}
	}
	c := newClient(b, srv.URL, nil)
	req := appstore.NotificationHistoryRequest{StartDate: appstore.ToMillis(time.Now().Add(-time.Hour)), EndDate: appstore.ToMillis(time.Now().Add(time.Hour))}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		p, err := c.GetNotificationHistory(ctx, req, "")
		if err != nil || len(p.NotificationHistory) != 20 {
			b.Fatal(err)
		}
	}
}
