package decode

import (
	"encoding/json"
	"testing"
	"time"
)

// TestSummaryJSON pins a Summary's JSON byte for byte (s2s decode --json, s2s subscription
// --json). Fields are assigned one by one, so the test reads the same whatever Summary's layout.
func TestSummaryJSON(t *testing.T) {
	var s Summary
	s.Kind, s.NotificationUUID, s.Type, s.Subtype = KindNotification, "u-1", "DID_RENEW", "BILLING_RECOVERY"
	s.Environment, s.BundleID, s.AppAppleID = "Sandbox", "com.example", 42
	s.OriginalTransactionID, s.TransactionID, s.ProductID, s.AppAccountToken = "1000", "1001", "p.monthly", "acct"
	s.RequestIdentifier, s.UserLocale = "req-1", "en_US"
	s.SignedDate = time.Date(2025, 10, 1, 9, 30, 15, 123e6, time.UTC)
	s.PurchaseDate = time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	s.ExpiresDate = time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	s.Label, s.Class, s.Message = LabelInvalid, ClassChain, "bad chain"
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"kind":"notification","notificationUUID":"u-1","notificationType":"DID_RENEW","subtype":"BILLING_RECOVERY",` +
		`"environment":"Sandbox","bundleId":"com.example","appAppleId":42,"originalTransactionId":"1000","transactionId":"1001",` +
		`"productId":"p.monthly","appAccountToken":"acct","requestIdentifier":"req-1","userLocale":"en_US",` +
		`"signedDate":"2025-10-01T09:30:15.123Z","purchaseDate":"2025-09-01T00:00:00Z","expiresDate":"2025-11-01T00:00:00Z",` +
		`"label":"invalid","class":"chain","message":"bad chain"}`
	if string(b) != want {
		t.Errorf("summary JSON changed\n got: %s\nwant: %s", b, want)
	}
	if b, _ := json.Marshal(Summary{}); string(b) != `{"kind":"","label":""}` {
		t.Errorf("empty summary JSON changed: %s", b)
	}
}
