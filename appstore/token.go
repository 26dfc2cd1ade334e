// Package appstore is a client of Apple's App Store Server API: the ES256 token it requires,
// test notifications, notification history, transaction info and subscription statuses, with
// Apple's error codes decoded and its rate limits honoured. It knows nothing of the terminal.
package appstore

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Audience is the aud claim Apple requires on every App Store Server API token.
const Audience = "appstoreconnect-v1"

// DefaultTokenLifetime is what Apple's own libraries use; Apple allows more, but a short-lived token
// limits the damage if one leaks into a log somewhere.
const DefaultTokenLifetime = 5 * time.Minute

// PrivateKey is an App Store Connect key — the In-App Purchase key, or the team API key of the
// App Store Connect API (a P-256 key from a PKCS#8 .p8 file). It formats as
// "[REDACTED]" whatever verb is used, so it cannot end up in an error message or a log line.
type PrivateKey struct{ k *ecdsa.PrivateKey }

func (PrivateKey) String() string   { return "[REDACTED]" }
func (PrivateKey) GoString() string { return "appstore.PrivateKey{[REDACTED]}" }

// Format keeps %v, %+v, %#v and %s from walking into the ecdsa struct.
func (p PrivateKey) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, p.GoString())
		return
	}
	fmt.Fprint(f, p.String())
}

// Public returns the public half, which the stand-in server and tests use to check tokens.
func (p *PrivateKey) Public() *ecdsa.PublicKey {
	if p == nil || p.k == nil {
		return nil
	}
	return &p.k.PublicKey
}

// NewPrivateKey wraps an existing P-256 key (tests mint their own).
func NewPrivateKey(k *ecdsa.PrivateKey) (*PrivateKey, error) {
	if k == nil || k.Curve != elliptic.P256() {
		return nil, errors.New("the key must be a P-256 (ES256) key")
	}
	return &PrivateKey{k: k}, nil
}

// ParsePrivateKey reads a PEM-encoded PKCS#8 P-256 key, as App Store Connect hands out in .p8
// files. Errors never quote the input.
func ParsePrivateKey(pemBytes []byte) (*PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("not a PEM file: a .p8 key from App Store Connect starts with -----BEGIN PRIVATE KEY-----")
	}
	if block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("PEM block is %q, want \"PRIVATE KEY\" (the .p8 file from App Store Connect)", block.Type)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("not a PKCS#8 private key: use the .p8 file downloaded from App Store Connect")
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the key is %T, want an ECDSA P-256 key (the .p8 file from App Store Connect)", key)
	}
	return NewPrivateKey(ec)
}

// LoadPrivateKey reads a .p8 file.
func LoadPrivateKey(path string) (*PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the private key: %w", err)
	}
	k, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// Credentials identify the caller to Apple: the key (and its id) and the issuer from App Store
// Connect → Users and Access → Integrations → In-App Purchase, plus the app's bundle id.
type Credentials struct {
	KeyID    string
	IssuerID string
	BundleID string // case-sensitive; Apple rejects a token whose bid does not match exactly
	Key      *PrivateKey
}

// Validate says what is missing.
func (c Credentials) Validate() error {
	var missing []string
	if c.KeyID == "" {
		missing = append(missing, "key id")
	}
	if c.IssuerID == "" {
		missing = append(missing, "issuer id")
	}
	if c.BundleID == "" {
		missing = append(missing, "bundle id")
	}
	if c.Key == nil || c.Key.k == nil {
		missing = append(missing, "private key")
	}
	if len(missing) > 0 {
		return fmt.Errorf("App Store Server API credentials incomplete: missing %v", missing)
	}
	return nil
}

// SignToken mints a token valid from now for lifetime (DefaultTokenLifetime when zero).
func (c Credentials) SignToken(now time.Time, lifetime time.Duration) (string, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	if lifetime <= 0 {
		lifetime = DefaultTokenLifetime
	}
	// MapClaims keeps aud a plain string, as Apple's libraries send it, without touching
	// golang-jwt's package-wide MarshalSingleStringAsArray switch that other packages share.
	claims := jwt.MapClaims{
		"iss": c.IssuerID,
		"iat": now.Unix(),
		"exp": now.Add(lifetime).Unix(),
		"aud": Audience,
		"bid": c.BundleID,
	}
	s, err := c.Key.SignES256(c.KeyID, claims)
	if err != nil {
		return "", errors.New("signing the App Store Server API token failed")
	}
	return s, nil
}

// SignES256 mints a compact JWS of claims with the header Apple's APIs require (alg ES256, kid,
// typ JWT). The App Store Server API and the App Store Connect API both sign their tokens here.
func (p *PrivateKey) SignES256(kid string, claims jwt.Claims) (string, error) {
	if p == nil || p.k == nil {
		return "", errors.New("no private key")
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["kid"] = kid
	t.Header["typ"] = "JWT"
	s, err := t.SignedString(p.k)
	if err != nil {
		// jwt's signing errors do not carry key material, but keep the message generic anyway.
		return "", errors.New("signing the token failed")
	}
	return s, nil
}
