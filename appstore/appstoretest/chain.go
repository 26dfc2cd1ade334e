package appstoretest

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/testpki"
)

// Chain is a throw-away signing chain (root, intermediate, leaf) shaped like Apple's, with Apple's
// two marker OIDs, minted in memory. Payloads it signs are simulated: only a verifier told to
// trust Root accepts them.
type Chain struct{ pki *testpki.Chain }

// NewChain mints a chain valid from an hour ago for a year.
func NewChain() (*Chain, error) {
	now := time.Now()
	c, err := testpki.New(testpki.Options{
		RootName:  "s2s App Store stand-in root (not Apple)",
		NotBefore: now.Add(-time.Hour),
		NotAfter:  now.Add(365 * 24 * time.Hour),
	})
	if err != nil {
		return nil, err
	}
	return &Chain{pki: c}, nil
}

// Root is the chain's trust anchor.
func (c *Chain) Root() *x509.Certificate { return c.pki.Root }

// RootPEM is Root in PEM form.
func (c *Chain) RootPEM() []byte { return c.pki.RootPEM() }

// Sign makes a compact JWS of a JSON object the way Apple does: ES256, x5c = [leaf, intermediate,
// root], the payload signed byte for byte.
func (c *Chain) Sign(raw []byte) (string, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return "", fmt.Errorf("payload must be a JSON object")
	}
	return c.pki.Sign(raw), nil
}

// signJSON marshals v and signs it with s.
func signJSON(s Signer, v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return s.Sign(raw)
}

// signNotification signs a realistic payload for n: a TEST notification carries only the app's
// identity; any other type carries a signed transaction.
func signNotification(c Signer, n Notification) (string, error) {
	signed := n.SignedDate.UnixMilli()
	data := map[string]any{
		"bundleId":    n.BundleID,
		"environment": string(n.Environment),
	}
	if n.Environment == decode.EnvProduction {
		data["appAppleId"] = n.AppAppleID
	}
	if n.Type != "TEST" {
		data["bundleVersion"] = "1"
		data["status"] = 1
		tx := transactionPayload(n)
		stx, err := signJSON(c, tx)
		if err != nil {
			return "", err
		}
		data["signedTransactionInfo"] = stx
	}
	p := map[string]any{
		"notificationType": n.Type,
		"notificationUUID": n.UUID,
		"data":             data,
		"version":          "2.0",
		"signedDate":       signed,
	}
	if n.Subtype != "" {
		p["subtype"] = n.Subtype
	}
	return signJSON(c, p)
}

// transactionPayload is a JWSTransaction payload for n's subscription.
func transactionPayload(n Notification) map[string]any {
	signed := n.SignedDate.UnixMilli()
	return map[string]any{
		"transactionId":               n.TransactionID,
		"originalTransactionId":       n.OriginalTransactionID,
		"bundleId":                    n.BundleID,
		"productId":                   n.ProductID,
		"subscriptionGroupIdentifier": SubscriptionGroup,
		"purchaseDate":                signed,
		"originalPurchaseDate":        signed,
		"expiresDate":                 signed + int64(30*24*time.Hour/time.Millisecond),
		"quantity":                    1,
		"type":                        "Auto-Renewable Subscription",
		"inAppOwnershipType":          "PURCHASED",
		"signedDate":                  signed,
		"environment":                 string(n.Environment),
		"transactionReason":           "PURCHASE",
		"storefront":                  "USA",
		"storefrontId":                "143441",
		"price":                       9990,
		"currency":                    "USD",
	}
}
