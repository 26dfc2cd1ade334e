package hub

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/s2s-dev/s2s/internal/termsafe"
)

// LoadServerCertificate reads the embedded server's --nats-cert (PEM, the leaf first, then any
// intermediates) and --nats-key, and checks before anything opens that they belong together, that
// the certificate is current and that it may serve TLS.
func LoadServerCertificate(certFile, keyFile string, now time.Time) (tls.Certificate, error) {
	certPEM, err := readSmallFile(certFile, "--nats-cert", false)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := readSmallFile(keyFile, "--nats-key", false)
	if err != nil {
		return tls.Certificate{}, err
	}
	defer clear(keyPEM)
	if !bytes.Contains(certPEM, []byte("-----BEGIN CERTIFICATE-----")) {
		return tls.Certificate{}, fmt.Errorf("--nats-cert %s holds no PEM certificate", certFile)
	}
	if !bytes.Contains(keyPEM, []byte("PRIVATE KEY-----")) {
		return tls.Certificate{}, fmt.Errorf("--nats-key %s holds no PEM private key", keyFile)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// crypto/tls's messages speak of the files' kinds, never of their content.
		return tls.Certificate{}, fmt.Errorf("--nats-cert %s with --nats-key %s: %w", certFile, keyFile, err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return tls.Certificate{}, fmt.Errorf("--nats-cert %s: %w", certFile, err)
		}
		cert.Leaf = leaf
	}
	switch {
	case now.After(leaf.NotAfter):
		return tls.Certificate{}, fmt.Errorf("--nats-cert %s expired on %s", certFile, leaf.NotAfter.UTC().Format(time.DateOnly))
	case now.Before(leaf.NotBefore):
		return tls.Certificate{}, fmt.Errorf("--nats-cert %s is valid only from %s", certFile, leaf.NotBefore.UTC().Format(time.RFC3339))
	case len(leaf.ExtKeyUsage) > 0 && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageAny):
		return tls.Certificate{}, fmt.Errorf("--nats-cert %s is not for servers (its extended key usage lacks serverAuth)", certFile)
	case len(leaf.DNSNames) == 0 && len(leaf.IPAddresses) == 0:
		return tls.Certificate{}, fmt.Errorf("--nats-cert %s names no host (no DNS or IP subject alternative name): clients could not verify it", certFile)
	}
	return cert, nil
}

// SelfSigned reports whether cert's leaf is its own issuer: teammates then trust the certificate
// file itself (listen --hub-ca CERT).
func SelfSigned(cert tls.Certificate) bool {
	l := cert.Leaf
	return l != nil && bytes.Equal(l.RawIssuer, l.RawSubject) && l.CheckSignature(l.SignatureAlgorithm, l.RawTBSCertificate, l.Signature) == nil
}

// serverTLSConfig is the embedded server's TLS: TLS 1.2 at least, no client certificates.
func serverTLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}

// urlHost is the host the hub's URL names for a server listening on host: the host itself unless
// TLS is on and the certificate does not cover it (a wildcard or loopback listen address), then
// the certificate's first DNS name or IP address, which clients verify.
func urlHost(host string, leaf *x509.Certificate) string {
	if leaf == nil || (host != "" && !net.ParseIP(host).IsUnspecified() && leaf.VerifyHostname(host) == nil) {
		return host
	}
	if len(leaf.DNSNames) > 0 {
		return strings.TrimPrefix(leaf.DNSNames[0], "*.")
	}
	if len(leaf.IPAddresses) > 0 {
		return leaf.IPAddresses[0].String()
	}
	return host
}

// TrustCAs is the client option that verifies the server's certificate against roots (the
// system's and a development CA, say) and the URL's host name, with TLS 1.2 at least. It asks for
// TLS: a server without it is refused, never used in clear.
func TrustCAs(roots *x509.CertPool) nats.Option {
	return nats.Secure(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12})
}

// ErrUntrusted is a NATS server whose TLS certificate this machine does not trust.
var ErrUntrusted = errors.New("the NATS server's TLS certificate is not trusted")

// ErrWrongHost is a NATS server whose TLS certificate is not for the URL's host name, whoever
// signed it: trusting another authority would not help, a host name the certificate names would.
// It comes with ErrUntrusted.
var ErrWrongHost = errors.New("it is not for the host name in the URL")

// tlsError explains a failed TLS handshake; nil when err is not one.
func tlsError(err error, url string) error {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &unknown):
		return fmt.Errorf("%w at %s: no known authority signed it (a private CA or a self-signed certificate)", ErrUntrusted, Redact(url))
	case errors.As(err, &hostname):
		// (Not hostname.Error(): it quotes the names the server's certificate claims, unescaped.)
		return fmt.Errorf("%w at %s: %w%s", ErrUntrusted, Redact(url), ErrWrongHost, certNames(hostname.Certificate))
	case errors.As(err, &invalid):
		return fmt.Errorf("%w at %s: %s", ErrUntrusted, Redact(url), invalid.Error())
	}
	return nil
}

// certNames is " (it names A, B)": the host names a server's certificate claims, escaped (they are
// the remote's words), at most three; "" when it names none.
func certNames(c *x509.Certificate) string {
	if c == nil {
		return ""
	}
	names := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return ""
	}
	more := ""
	if len(names) > 3 {
		names, more = names[:3], ", …"
	}
	for i, n := range names {
		names[i] = termsafe.Limit(n, 253)
	}
	return " (it names " + strings.Join(names, ", ") + more + ")"
}
