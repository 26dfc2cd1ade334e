package decode

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// TestHeaderCacheHoldsNoHostileBytes: the cache of parsed JWS headers outlives the requests
// that filled it, so it must not hold what an anonymous client sends. A header is cached before
// any signature is checked: a key that is a substring of the JWS kept the whole body alive (up to
// --max-body each, 256 of them), and a huge header was kept whole, outside the receiver's budget
// for bodies in flight.
func TestHeaderCacheHoldsNoHostileBytes(t *testing.T) {
	v := NewVerifier(Options{})
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"notificationType":"TEST","pad":"` + strings.Repeat("p", 256<<10) + `"}`))
	small := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","x5c":[]}`))
	d := v.DecodeBody([]byte(`{"signedPayload":"` + small + "." + payload + `.c2ln"}`))
	if d.Verification.Label != LabelInvalid {
		t.Fatalf("%s %q", d.Verification.Label, d.Verification.Message)
	}
	if v.headers.len() != 1 {
		t.Fatalf("a small header is cached: %d entries", v.headers.len())
	}
	body := unsafe.StringData(d.JWS)
	for k := range v.headers.m {
		p := uintptr(unsafe.Pointer(unsafe.StringData(k)))
		if start := uintptr(unsafe.Pointer(body)); p >= start && p < start+uintptr(len(d.JWS)) {
			t.Fatalf("the cached header's key is a substring of the %d-byte JWS and keeps all of it", len(d.JWS))
		}
	}

	pad := strings.Repeat("a", 64<<10)
	for i := range 20 {
		h := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, `{"alg":"ES256","n":%d,"pad":"%s"}`, i, pad))
		if d := v.DecodeBody([]byte(`{"signedPayload":"` + h + `.e30.c2ln"}`)); d.Verification.Label != LabelInvalid {
			t.Fatalf("%s %q", d.Verification.Label, d.Verification.Message)
		}
	}
	held := 0
	for k := range v.headers.m {
		held += len(k)
	}
	if held > 2*maxCachedHeader {
		t.Errorf("the header cache holds %d bytes of headers after 20 hostile ones of 64 KiB", held)
	}
}

// TestCertSummaryCacheKeepsNoHugeCertificate: x5c certificates are summarised (the TUI's JSON
// view of a capture) before anything is verified; one larger than any real certificate is not
// kept in the process-wide cache.
func TestCertSummaryCacheKeepsNoHugeCertificate(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "huge"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0),
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Value: make([]byte, 64<<10)}},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	s := base64.StdEncoding.EncodeToString(der)
	if sum := summarizeCert(s); sum.Subject != "huge" {
		t.Fatalf("summary %+v", sum)
	}
	if certSummaries.get(s) != nil {
		t.Errorf("a %d-byte certificate is kept in the summary cache", len(s))
	}
}
