package probe

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"
)

// testCA is a certificate authority minted for one test run.
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

var serial int64 = 1

func newSerial() *big.Int { serial++; return big.NewInt(serial) }

func newCA(t testing.TB, cn string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          newSerial(),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-48 * time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: c, key: key}
}

// leafSpec describes a server certificate; the zero value is a sound one for 127.0.0.1 and
// receiver.test, valid for a year, with an ECDSA P-256 key.
type leafSpec struct {
	names     []string // DNS names or IP addresses
	rsaBits   int      // 0: ECDSA P-256
	notBefore time.Time
	notAfter  time.Time
	sigAlg    x509.SignatureAlgorithm
	signer    *testCA // nil: self-signed
}

var rsaKeys = map[int]*rsa.PrivateKey{}

func (s leafSpec) key(t testing.TB) crypto.Signer {
	t.Helper()
	if s.rsaBits == 0 {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	// RSA keys are slow to generate; one per size serves every test of the run.
	if k, ok := rsaKeys[s.rsaBits]; ok {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, s.rsaBits)
	if err != nil {
		t.Fatalf("RSA %d: %v", s.rsaBits, err)
	}
	rsaKeys[s.rsaBits] = k
	return k
}

func (s leafSpec) mint(t testing.TB) tls.Certificate {
	t.Helper()
	if s.names == nil {
		s.names = []string{"127.0.0.1", "receiver.test"}
	}
	if s.notBefore.IsZero() {
		s.notBefore = time.Now().Add(-time.Hour)
	}
	if s.notAfter.IsZero() {
		s.notAfter = time.Now().Add(365 * 24 * time.Hour)
	}
	key := s.key(t)
	tmpl := &x509.Certificate{
		SerialNumber:       newSerial(),
		Subject:            pkix.Name{CommonName: s.names[0]},
		NotBefore:          s.notBefore,
		NotAfter:           s.notAfter,
		KeyUsage:           x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		SignatureAlgorithm: s.sigAlg,
	}
	for _, n := range s.names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	parent, signKey := tmpl, key
	if s.signer != nil {
		parent, signKey = s.signer.cert, s.signer.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}
