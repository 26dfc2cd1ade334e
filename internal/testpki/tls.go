package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"time"
)

// TLSOptions shape a TLS server certificate. The zero value is a certificate for localhost and
// 127.0.0.1 that a fresh development CA signed, valid from an hour ago for a day.
type TLSOptions struct {
	Hosts      []string // DNS names or IP addresses; default localhost and 127.0.0.1
	SelfSigned bool     // the leaf is its own issuer (no CA)
	NotBefore  time.Time
	NotAfter   time.Time
}

// TLSServer is a server certificate with its key and the CA that signed it, in PEM as files hold
// them.
type TLSServer struct {
	CAPEM   []byte // the CA's certificate; the leaf itself when self-signed
	CertPEM []byte // the leaf
	KeyPEM  []byte // the leaf's private key (PKCS #8)
}

// NewTLSServer mints a server certificate (and its CA).
func NewTLSServer(o TLSOptions) (*TLSServer, error) {
	if len(o.Hosts) == 0 {
		o.Hosts = []string{"localhost", "127.0.0.1"}
	}
	now := time.Now()
	if o.NotBefore.IsZero() {
		o.NotBefore = now.Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = now.Add(24 * time.Hour)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: o.Hosts[0]},
		NotBefore: o.NotBefore, NotAfter: o.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range o.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			leaf.IPAddresses = append(leaf.IPAddresses, ip)
		} else {
			leaf.DNSNames = append(leaf.DNSNames, h)
		}
	}
	var leafDER, caDER []byte
	if o.SelfSigned {
		leaf.KeyUsage |= x509.KeyUsageCertSign
		if leafDER, err = x509.CreateCertificate(rand.Reader, leaf, leaf, &leafKey.PublicKey, leafKey); err != nil {
			return nil, err
		}
		caDER = leafDER
	} else {
		caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		caTmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: "s2s test development CA"},
			NotBefore: o.NotBefore, NotAfter: now.Add(48 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}
		if caDER, err = x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey); err != nil {
			return nil, err
		}
		ca, err := x509.ParseCertificate(caDER)
		if err != nil {
			return nil, err
		}
		if leafDER, err = x509.CreateCertificate(rand.Reader, leaf, ca, &leafKey.PublicKey, caKey); err != nil {
			return nil, err
		}
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		return nil, err
	}
	return &TLSServer{
		CAPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}
