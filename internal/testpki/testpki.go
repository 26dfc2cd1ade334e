// Package testpki mints throw-away certificate chains shaped like Apple's App Store signing chain
// (root, intermediate and P-256 leaf, with Apple's marker OIDs) and signs compact JWS with them,
// so tests can build good and bad signed payloads without Apple's keys.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"sync/atomic"
	"time"
)

// Apple's marker extensions: App Store signing leaf, WWDR intermediate.
var (
	OIDLeaf         = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 11, 1}
	OIDIntermediate = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 2, 1}
)

// Options shape a chain. The zero value gives a chain valid from 2020 to 2040 with both OIDs.
type Options struct {
	RootName string // common name of the root; default "s2s Test Root"
	// RootRawSubject, when set, is the root's exact DER subject (and so the intermediate's issuer),
	// to forge a root with the same name as a trusted one.
	RootRawSubject []byte
	RootKey        *ecdsa.PrivateKey // reuse a key; nil: a fresh one
	// CACurve is the curve of fresh root and intermediate keys; nil: P-256. Apple's real chain
	// uses P-384 for both (the leaf is always P-256, as ES256 needs), which costs more to walk.
	CACurve elliptic.Curve

	NoLeafOID         bool
	NoIntermediateOID bool

	NotBefore, NotAfter         time.Time // root and intermediate; default 2020-01-01 .. 2040-01-01
	LeafNotBefore, LeafNotAfter time.Time // default: NotBefore .. NotAfter
	IntermediateNotAfter        time.Time // default: NotAfter

	// IntermediateNotCA mints an intermediate, genuinely signed by the root, whose basic
	// constraints say it is not a CA.
	IntermediateNotCA bool
}

// Chain is a root, an intermediate and a leaf with their keys.
type Chain struct {
	Root, Intermediate, Leaf          *x509.Certificate
	RootKey, IntermediateKey, LeafKey *ecdsa.PrivateKey
}

var serial atomic.Int64

// New mints a chain.
func New(o Options) (*Chain, error) {
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.LeafNotBefore.IsZero() {
		o.LeafNotBefore = o.NotBefore
	}
	if o.LeafNotAfter.IsZero() {
		o.LeafNotAfter = o.NotAfter
	}
	if o.RootName == "" {
		o.RootName = "s2s Test Root"
	}
	if o.CACurve == nil {
		o.CACurve = elliptic.P256()
	}
	c := &Chain{RootKey: o.RootKey}
	var err error
	if c.RootKey == nil {
		if c.RootKey, err = ecdsa.GenerateKey(o.CACurve, rand.Reader); err != nil {
			return nil, err
		}
	}
	if c.IntermediateKey, err = ecdsa.GenerateKey(o.CACurve, rand.Reader); err != nil {
		return nil, err
	}
	if c.LeafKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	root := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1)),
		Subject:               pkix.Name{CommonName: o.RootName, Organization: []string{"s2s tests"}},
		RawSubject:            o.RootRawSubject,
		NotBefore:             o.NotBefore,
		NotAfter:              o.NotAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	if c.Root, err = create(root, root, &c.RootKey.PublicKey, c.RootKey); err != nil {
		return nil, fmt.Errorf("root: %w", err)
	}
	if o.IntermediateNotAfter.IsZero() {
		o.IntermediateNotAfter = o.NotAfter
	}
	inter := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1)),
		Subject:               pkix.Name{CommonName: "s2s Test Intermediate", OrganizationalUnit: []string{"G6"}},
		NotBefore:             o.NotBefore,
		NotAfter:              o.IntermediateNotAfter,
		IsCA:                  !o.IntermediateNotCA,
		BasicConstraintsValid: true,
		MaxPathLenZero:        !o.IntermediateNotCA,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	if !o.NoIntermediateOID {
		inter.ExtraExtensions = []pkix.Extension{{Id: OIDIntermediate, Value: []byte{0x05, 0x00}}}
	}
	if c.Intermediate, err = create(inter, c.Root, &c.IntermediateKey.PublicKey, c.RootKey); err != nil {
		return nil, fmt.Errorf("intermediate: %w", err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)),
		Subject:      pkix.Name{CommonName: "s2s Test App Store Signing"},
		NotBefore:    o.LeafNotBefore,
		NotAfter:     o.LeafNotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if !o.NoLeafOID {
		leaf.ExtraExtensions = []pkix.Extension{{Id: OIDLeaf, Value: []byte{0x05, 0x00}}}
	}
	if c.Leaf, err = create(leaf, c.Intermediate, &c.LeafKey.PublicKey, c.IntermediateKey); err != nil {
		return nil, fmt.Errorf("leaf: %w", err)
	}
	return c, nil
}

// MustNew is New for tests and benchmarks: it panics on error.
func MustNew(o Options) *Chain {
	c, err := New(o)
	if err != nil {
		panic(err)
	}
	return c
}

func create(tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, key *ecdsa.PrivateKey) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// X5C is the header's certificate list: leaf, intermediate, root in standard base64.
func (c *Chain) X5C() []string {
	return []string{B64(c.Leaf), B64(c.Intermediate), B64(c.Root)}
}

// B64 is a certificate's DER in standard base64, as x5c carries it.
func B64(cert *x509.Certificate) string { return base64.StdEncoding.EncodeToString(cert.Raw) }

// Header is the JWS header Apple sends: alg ES256 and the three certificates.
func (c *Chain) Header() map[string]any {
	return map[string]any{"alg": "ES256", "x5c": c.X5C()}
}

// Sign returns a compact JWS of payload with the App Store header, signed by the leaf.
func (c *Chain) Sign(payload []byte) string {
	return EncodeJWS(c.Header(), payload, ES256(c.LeafKey))
}

// SignJSON marshals v and signs it.
func (c *Chain) SignJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return c.Sign(b)
}

// RootPEM is the root in PEM form, for --root.
func (c *Chain) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Root.Raw})
}

// EncodeJWS builds header.payload.signature; sign gets the signing input and returns the raw
// signature bytes (nil for an empty signature).
func EncodeJWS(header map[string]any, payload []byte, sign func([]byte) []byte) string {
	hb, err := json.Marshal(header)
	if err != nil {
		panic(err)
	}
	return EncodeJWSRawHeader(hb, payload, sign)
}

// EncodeJWSRawHeader is EncodeJWS with the header's JSON text as given, for headers that
// json.Marshal cannot produce (a duplicate key).
func EncodeJWSRawHeader(hb, payload []byte, sign func([]byte) []byte) string {
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(payload)
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// ES256 signs with key and returns the JWS form: r and s, 32 bytes each.
func ES256(key *ecdsa.PrivateKey) func([]byte) []byte {
	return func(input []byte) []byte {
		h := sha256.Sum256(input)
		r, s, err := ecdsa.Sign(rand.Reader, key, h[:])
		if err != nil {
			panic(err)
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out
	}
}

// ES256DER signs with key and returns the ASN.1 DER form, which a JWS must not use.
func ES256DER(key *ecdsa.PrivateKey) func([]byte) []byte {
	return func(input []byte) []byte {
		h := sha256.Sum256(input)
		sig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
		if err != nil {
			panic(err)
		}
		return sig
	}
}
