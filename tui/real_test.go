package tui

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/decodeview"
	"github.com/s2s-dev/s2s/internal/testpki"
	"github.com/s2s-dev/s2s/store"
)

// The Summary and Decoded tabs on a real Apple notification decoded by the real verifier: the
// fields come out of whatever document decode produces, not out of a fixture's shape.
func TestRealRefundThroughTheVerifier(t *testing.T) {
	jws, err := os.ReadFile(filepath.Join("..", "testdata", "vectors", "real", "19-notification-2025-10-16-REFUND-sandbox.jws"))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"signedPayload":"` + strings.TrimSpace(string(jws)) + `"}`)
	c := store.Capture{ID: 1, ReceivedAt: base, Method: "POST", Path: "/", Body: body, BodySize: len(body),
		Subject: decode.Subject{Type: "REFUND", Environment: "Sandbox", ProductID: "com.getsession.org.pro_sub",
			OriginalTransactionID: "2000001024993299"},
		Trust: "verified", SignedDate: time.UnixMilli(1760592122788), ResponseStatus: 200}
	h := newHarness(t, Config{Decode: VerifierDecoder(decode.NewVerifier(decode.Options{})), Location: time.UTC}, c)
	h.send(keyMsg("enter"))
	scr := h.plain()
	for _, want := range []string{
		"Signed             2025-10-16 05:22:02 UTC\n", // one time when local is UTC
		"Revoked            2025-10-16 05:19:59 UTC",
		"Refund reason      0 (another reason)",
		"Renews into        com.getsession.org.pro_sub_3_months",
		"Price              1.99 AUD",
		"Renewal price      5.99 AUD", // the renewal info's: it renews into the 3-month product
	} {
		if !strings.Contains(scr, want) {
			t.Errorf("Summary lacks %q:\n%s", want, scr)
		}
	}
	h.press("2")
	scr = ansi.Strip(h.m.vp.GetContent()) // the whole document, not just the screen
	for _, want := range []string{"REFUND  Sandbox  com.loki-project.loki-messenger", "\ntrust: verified  ", `"revocationReason": 0`} {
		if !strings.Contains(scr, want) {
			t.Errorf("Decoded lacks %q", want)
		}
	}
	h.press("y")
	if len(h.clipboard) != 1 || !strings.Contains(h.clipboard[0], strings.TrimSpace(string(jws))[:200]) {
		t.Errorf("y did not copy the whole decoded document")
	}
}

// TestDecodedTabIsWhatDecodePrints: the Decoded tab is s2s decode's view of the same body (one
// renderer), for a notification, a transaction, an invalid payload and a body that is no JSON;
// on a window too narrow for its summary line only the line breaks differ.
func TestDecodedTabIsWhatDecodePrints(t *testing.T) {
	v := decode.NewVerifier(decode.Options{})
	for _, name := range []string{
		"05-notification-2025-10-01-DID_RENEW-sandbox.jws",
		"02-notification-2022-03-04-DID_RENEW-sandbox.jws", // invalid/chain: UNVERIFIED markers
		"27-transaction-2025-02-10-consumable-sandbox.jws",
		"",
	} {
		body := []byte("not an App Store payload \x1b[2J")
		if name != "" {
			jws, err := os.ReadFile(filepath.Join("..", "testdata", "vectors", "real", name))
			if err != nil {
				t.Fatal(err)
			}
			body = []byte(`{"signedPayload":"` + strings.TrimSpace(string(jws)) + `"}`)
		}
		var want strings.Builder
		if err := decodeview.Write(&want, v.DecodeBody(body), decodeview.Styles{}); err != nil {
			t.Fatal(err)
		}
		c := store.Capture{ID: 1, ReceivedAt: base, Method: "POST", Path: "/", Body: body, BodySize: len(body), Trust: "verified"}
		for _, width := range []int{400, 100} {
			h := newHarness(t, Config{Decode: VerifierDecoder(v), NoColor: true}, c)
			h.send(tea.WindowSizeMsg{Width: width, Height: 30})
			h.press("enter", "2")
			got := ansi.Strip(h.m.vp.GetContent())
			if width == 400 && got != strings.TrimRight(want.String(), "\n") {
				t.Errorf("%s: the Decoded tab differs from s2s decode:\n%s\nwant:\n%s", name, got, want.String())
			}
			if width == 100 && !slices.Equal(strings.Fields(got), strings.Fields(want.String())) {
				t.Errorf("%s at 100 columns: not the same words as s2s decode:\n%s", name, got)
			}
		}
	}
}

// TestSummaryReadsEachFieldFromItsObject: the transaction and the renewal info both carry a
// currency and an offerType, with different values (the next renewal is in another currency,
// with another offer). The Summary takes the transaction's for what was paid and the renewal
// info's for what comes next; a search of the document by key took the renewal's for both.
func TestSummaryReadsEachFieldFromItsObject(t *testing.T) {
	chain := testpki.MustNew(testpki.Options{})
	signed := time.Date(2025, 10, 16, 5, 22, 2, 0, time.UTC)
	tx := chain.SignJSON(map[string]any{
		"transactionId": "2000000000000002", "originalTransactionId": "2000000000000001", "bundleId": "com.example.app",
		"productId": "com.example.monthly", "purchaseDate": signed.Add(-time.Hour).UnixMilli(), "expiresDate": signed.Add(720 * time.Hour).UnixMilli(),
		"type": "Auto-Renewable Subscription", "inAppOwnershipType": "PURCHASED", "environment": "Sandbox", "signedDate": signed.UnixMilli(),
		"price": 2990, "currency": "EUR", "offerType": 1, "revocationDate": signed.Add(-time.Minute).UnixMilli(), "revocationReason": 1,
	})
	ri := chain.SignJSON(map[string]any{
		"originalTransactionId": "2000000000000001", "productId": "com.example.monthly", "autoRenewProductId": "com.example.yearly",
		"autoRenewStatus": 1, "environment": "Sandbox", "signedDate": signed.UnixMilli(), "renewalDate": signed.Add(720 * time.Hour).UnixMilli(),
		"renewalPrice": 39990, "currency": "USD", "offerType": 2, "expirationIntent": 1, "revocationReason": 0,
	})
	jws := chain.SignJSON(map[string]any{
		"notificationType": "DID_CHANGE_RENEWAL_PREF", "subtype": "UPGRADE", "notificationUUID": "7b1a2f4e-0000-4000-8000-000000000001",
		"version": "2.0", "signedDate": signed.UnixMilli(),
		"data": map[string]any{"environment": "Sandbox", "bundleId": "com.example.app", "status": 1,
			"signedTransactionInfo": tx, "signedRenewalInfo": ri},
	})
	body := []byte(`{"signedPayload":"` + jws + `"}`)
	c := store.Capture{ID: 1, ReceivedAt: signed.Add(time.Second), Method: "POST", Path: "/", Body: body, BodySize: len(body),
		Subject: decode.Subject{Type: "DID_CHANGE_RENEWAL_PREF", Subtype: "UPGRADE", Environment: "Sandbox",
			ProductID: "com.example.monthly", OriginalTransactionID: "2000000000000001"},
		SignedDate: signed, Trust: "simulated", ResponseStatus: 200}
	v := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{chain.Root}})
	h := newHarness(t, Config{Decode: VerifierDecoder(v), Location: time.UTC}, c)
	h.press("enter")
	scr := ansi.Strip(h.m.vp.GetContent())
	for _, want := range []string{
		"Price              2.99 EUR\n",
		"Renewal price      39.99 USD\n",
		"Offer type         1 (introductory)\n",
		"Refund reason      1 (an issue in your app)\n",
		"Renews into        com.example.yearly\n",
		"Auto-renew         on\n",
		"Why it expired     1 (the customer cancelled)\n",
		"Revoked            2025-10-16 05:21:02 UTC\n",
		"Renews             2025-11-15 05:22:02 UTC\n",
		"Subscription       1 (active)",
	} {
		if !strings.Contains(scr, want) {
			t.Errorf("Summary lacks %q:\n%s", want, scr)
		}
	}
}
