package appstore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/appstore/appstoretest"
)

// Get Transaction History v2 follows every revision, oldest first, and the stand-in checks that a
// revision belongs to the same customer and query.
func TestTransactionHistoryPages(t *testing.T) {
	srv := standIn(t, appstoretest.Options{PageSize: 2})
	start := time.Now().Add(-100 * 24 * time.Hour)
	for i := range 5 {
		srv.AddTransactions(appstoretest.Notification{
			TransactionID: "200000000000030" + string(rune('0'+i)), OriginalTransactionID: "2000000000000300",
			SignedDate: start.Add(time.Duration(i) * 30 * 24 * time.Hour),
		})
	}
	c := newClient(t, srv.URL, nil)
	ctx := ctxT(t)
	var ids []string
	pages := 0
	err := c.TransactionHistory(ctx, "2000000000000302", appstore.TransactionHistoryRequest{Sort: "ASCENDING"}, func(n int, p *appstore.TransactionHistoryResponse) error {
		pages = n
		for _, jws := range p.SignedTransactions {
			ids = append(ids, verifyWithChain(t, jws, srv.Chain().Root())["transactionId"].(string))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if pages != 3 || strings.Join(ids, ",") != "2000000000000300,2000000000000301,2000000000000302,2000000000000303,2000000000000304" {
		t.Errorf("pages %d, ids %v", pages, ids)
	}
	reqs := srv.Requests()
	if q := reqs[1].Query; !strings.Contains(q, "revision=") || !strings.Contains(q, "sort=ASCENDING") {
		t.Errorf("second page query = %q", q)
	}
	_, err = c.GetTransactionHistory(ctx, "2000000000000302", appstore.TransactionHistoryRequest{}, "not-a-revision")
	if !appstore.IsCode(err, 4000005) || !strings.Contains(err.Error(), "InvalidRequestRevision") {
		t.Errorf("foreign revision: %v", err)
	}
	_, err = c.GetTransactionHistory(ctx, "2000000000000999", appstore.TransactionHistoryRequest{}, "")
	if !appstore.IsCode(err, appstore.CodeTransactionIDNotFound) || !strings.Contains(err.Error(), "Apple knows no transaction with this id") {
		t.Errorf("unknown id: %v", err)
	}
	// An id that is not digits never reaches Apple.
	n := len(srv.Requests())
	if _, err := c.GetTransactionHistory(ctx, "12/../x", appstore.TransactionHistoryRequest{}, ""); err == nil {
		t.Error("a non-numeric id was sent")
	}
	if len(srv.Requests()) != n {
		t.Error("a request was spent on an invalid id")
	}
}

// The statuses of the customer: the newest transaction, the status the stand-in was told.
func TestSubscriptionStatusesOfCustomer(t *testing.T) {
	srv := standIn(t, appstoretest.Options{})
	old := time.Now().Add(-40 * 24 * time.Hour)
	srv.AddTransactions(
		appstoretest.Notification{TransactionID: "2000000000000400", SignedDate: old},
		appstoretest.Notification{TransactionID: "2000000000000401", OriginalTransactionID: "2000000000000400", SignedDate: old.Add(30 * 24 * time.Hour)},
	)
	srv.SetSubscriptionStatus("2000000000000400", appstore.StatusBillingRetry)
	c := newClient(t, srv.URL, nil)
	st, err := c.GetAllSubscriptionStatuses(ctxT(t), "2000000000000401")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Data) != 1 || len(st.Data[0].LastTransactions) != 1 {
		t.Fatalf("statuses %+v", st)
	}
	last := st.Data[0].LastTransactions[0]
	if appstore.SubscriptionStatus(last.Status) != appstore.StatusBillingRetry || last.OriginalTransactionID != "2000000000000400" {
		t.Errorf("last %+v", last)
	}
	if got := verifyWithChain(t, last.SignedTransactionInfo, srv.Chain().Root())["transactionId"]; got != "2000000000000401" {
		t.Errorf("last transaction %v", got)
	}
	verifyWithChain(t, last.SignedRenewalInfo, srv.Chain().Root())
}

// Apple's envelope is read with exact keys: a duplicate or case-variant hasMore would be read one
// way by Go and another by Apple's libraries, so the answer is refused.
func TestEnvelopeExactKeys(t *testing.T) {
	for name, body := range map[string]string{
		"duplicate":    `{"revision":"r","hasMore":false,"hasMore":true,"signedTransactions":[]}`,
		"case variant": `{"revision":"r","HasMore":true,"signedTransactions":[]}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(body))
			}))
			defer srv.Close()
			c := newClient(t, srv.URL, nil)
			_, err := c.GetTransactionHistory(context.Background(), "1", appstore.TransactionHistoryRequest{}, "")
			if err == nil || !strings.Contains(err.Error(), "decoding the answer") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestSubscriptionStatusNames(t *testing.T) {
	for s, want := range map[appstore.SubscriptionStatus]string{1: "ACTIVE", 2: "EXPIRED", 3: "BILLING_RETRY", 4: "BILLING_GRACE_PERIOD", 5: "REVOKED", 9: "status 9"} {
		if s.String() != want || s.Meaning() == "" {
			t.Errorf("%d: %q %q", s, s.String(), s.Meaning())
		}
	}
}
