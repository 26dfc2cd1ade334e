package hub

import (
	"testing"
	"time"

	"github.com/s2s-dev/s2s/store"
)

// TestEncodeSummaryHeader pins the summary a hub message carries for people, byte for byte.
func TestEncodeSummaryHeader(t *testing.T) {
	c := &store.Capture{ID: 7, Method: "POST", Path: "/", Body: []byte("{}"), ReceivedAt: time.Unix(0, 0)}
	c.Type, c.Subtype, c.Environment, c.BundleID, c.Trust = "DID_RENEW", "BILLING_RECOVERY", "Sandbox", "com.example", "verified"
	m, err := Encode("hub1", c)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"Type":"DID_RENEW","Subtype":"BILLING_RECOVERY","Environment":"Sandbox","BundleID":"com.example","Trust":"verified"}`
	if got := m.Header.Get(hSummary); got != want {
		t.Errorf("summary header\n got: %s\nwant: %s", got, want)
	}
}
