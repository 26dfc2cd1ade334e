package appstoretest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Apple marks its intermediate and its App Store signing leaf with these extensions; a verifier
// that follows Apple's libraries insists on both, so the stand-in's chain carries them too.
var (
	oidAppleIntermediate = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 2, 1}
	oidAppleLeaf         = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 11, 1}
	asn1Null             = []byte{0x05, 0x00}
)

// Chain is a throw-away signing chain (root, intermediate, leaf) shaped like Apple's, minted in
// memory. Payloads it signs are simulated: only a verifier told to trust Root accepts them.
type Chain struct {
	root, intermediate, leaf *x509.Certificate
	leafKey                  *ecdsa.PrivateKey
}

// NewChain mints a chain valid from an hour ago for a year.
func NewChain() (*Chain, error) {
	now := time.Now()
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	interKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := func(serial int64, cn string) *x509.Certificate {
		return &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn, Organization: []string{"s2s App Store stand-in (not Apple)"}},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(365 * 24 * time.Hour),
		}
	}
	rootT := tmpl(1, "s2s stand-in Root CA")
	rootT.IsCA, rootT.BasicConstraintsValid = true, true
	rootT.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	rootDER, err := x509.CreateCertificate(rand.Reader, rootT, rootT, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	root, _ := x509.ParseCertificate(rootDER)

	interT := tmpl(2, "s2s stand-in Intermediate")
	interT.IsCA, interT.BasicConstraintsValid, interT.MaxPathLenZero = true, true, true
	interT.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	interT.ExtraExtensions = []pkix.Extension{{Id: oidAppleIntermediate, Value: asn1Null}}
	interDER, err := x509.CreateCertificate(rand.Reader, interT, root, &interKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	inter, _ := x509.ParseCertificate(interDER)

	leafT := tmpl(3, "s2s stand-in App Store Signing")
	leafT.KeyUsage = x509.KeyUsageDigitalSignature
	leafT.ExtraExtensions = []pkix.Extension{{Id: oidAppleLeaf, Value: asn1Null}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafT, inter, &leafKey.PublicKey, interKey)
	if err != nil {
		return nil, err
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	return &Chain{root: root, intermediate: inter, leaf: leaf, leafKey: leafKey}, nil
}

// Root is the chain's trust anchor.
func (c *Chain) Root() *x509.Certificate { return c.root }

// RootPEM is Root in PEM form.
func (c *Chain) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.root.Raw})
}

// Sign makes a compact JWS of a JSON object the way Apple does: ES256, x5c = [leaf, intermediate,
// root], the payload signed byte for byte.
func (c *Chain) Sign(raw []byte) (string, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return "", fmt.Errorf("payload must be a JSON object")
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, rawClaims(raw))
	t.Header["x5c"] = []string{
		base64.StdEncoding.EncodeToString(c.leaf.Raw),
		base64.StdEncoding.EncodeToString(c.intermediate.Raw),
		base64.StdEncoding.EncodeToString(c.root.Raw),
	}
	return t.SignedString(c.leafKey)
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
	signed := appleMillis(n.SignedDate)
	data := map[string]any{
		"bundleId":    n.BundleID,
		"environment": n.Environment,
	}
	if n.Environment == "Production" {
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

func appleMillis(t time.Time) int64 { return t.UnixMilli() }

// transactionPayload is a JWSTransaction payload for n's subscription.
func transactionPayload(n Notification) map[string]any {
	signed := appleMillis(n.SignedDate)
	return map[string]any{
		"transactionId":         n.TransactionID,
		"originalTransactionId": n.OriginalTransactionID,
		"bundleId":              n.BundleID,
		"productId":             n.ProductID,
		"purchaseDate":          signed,
		"originalPurchaseDate":  signed,
		"expiresDate":           signed + int64(30*24*time.Hour/time.Millisecond),
		"quantity":              1,
		"type":                  "Auto-Renewable Subscription",
		"inAppOwnershipType":    "PURCHASED",
		"signedDate":            signed,
		"environment":           n.Environment,
		"transactionReason":     "PURCHASE",
		"storefront":            "USA",
		"storefrontId":          "143441",
		"price":                 9990,
		"currency":              "USD",
	}
}

// rawClaims signs a payload byte for byte (a MapClaims round trip would turn every number into a
// float64). Apple's payloads carry no registered claims, so the getters report none.
type rawClaims []byte

func (r rawClaims) MarshalJSON() ([]byte, error)               { return r, nil }
func (rawClaims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (rawClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (rawClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (rawClaims) GetIssuer() (string, error)                   { return "", nil }
func (rawClaims) GetSubject() (string, error)                  { return "", nil }
func (rawClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }
