package decode

import (
	"crypto/sha256"
	"crypto/x509"
	_ "embed"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// appleRootPEM is Apple Root CA - G3 (apple.com/certificateauthority, AppleRootCA-G3.cer), SHA-256
// fingerprint 63:34:3A:BF:B8:9A:6A:03:EB:B5:7E:9B:3F:5F:A7:BE:7C:4F:5C:75:6F:30:17:B3:A8:C4:88:C3:65:3E:91:79.
//
//go:embed AppleRootCA-G3.pem
var appleRootPEM []byte

// appleRootFingerprint pins the embedded file: a changed copy must not compile into a trusted root.
const appleRootFingerprint = "63343abfb89a6a03ebb57e9b3f5fa7be7c4f5c756f3017b3a8c488c3653e9179"

var appleRoot = mustAppleRoot()

func mustAppleRoot() *x509.Certificate {
	certs, err := ParseRootsPEM(appleRootPEM)
	if err != nil || len(certs) != 1 {
		panic("decode: embedded Apple Root CA - G3 is unreadable")
	}
	if Fingerprint(certs[0]) != appleRootFingerprint {
		panic("decode: embedded Apple Root CA - G3 has the wrong fingerprint")
	}
	return certs[0]
}

// AppleRootG3 returns the embedded Apple Root CA - G3, the only root that yields LabelVerified.
func AppleRootG3() *x509.Certificate { return appleRoot }

// Fingerprint is the lower-case hex SHA-256 of a certificate's DER.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// ParseRootsPEM reads every CERTIFICATE block of a PEM file (a raw DER certificate is accepted
// too, since Apple publishes its roots as .cer files).
func ParseRootsPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("reading certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		if c, err := x509.ParseCertificate(data); err == nil {
			return []*x509.Certificate{c}, nil
		}
		if strings.Contains(string(data), "PRIVATE KEY") {
			return nil, errors.New("this file holds a private key, not a certificate")
		}
		return nil, errors.New("no PEM CERTIFICATE block and not a DER certificate")
	}
	return certs, nil
}
