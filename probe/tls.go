package probe

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// atsSuites are the TLS 1.2 cipher suites App Transport Security accepts that Go implements (9 of
// ATS's 11: Go has no *_AES_256_CBC_SHA384). All carry ECDHE forward secrecy and AES-GCM or AES-CBC.
// TLS 1.3 suites all qualify and Go does not let them be chosen, so they need no list.
var atsSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
}

// expiryWarning is how close to its end a certificate's validity draws a warning.
const expiryWarning = 30 * 24 * time.Hour

func atsConfig(host string) *tls.Config {
	return &tls.Config{
		ServerName: host,
		// The certificate is checked afterwards, one property at a time, so that a report names
		// every problem instead of the first one Go's verifier meets.
		InsecureSkipVerify: true,
		MinVersion:         tls.VersionTLS12,
		MaxVersion:         tls.VersionTLS13,
		CipherSuites:       atsSuites,
		NextProtos:         []string{"http/1.1"},
	}
}

// permissiveConfig accepts anything Go can speak, to learn what a server offers once the ATS
// handshake has failed.
func permissiveConfig(host string) *tls.Config {
	var suites []uint16
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		suites = append(suites, s.ID)
	}
	return &tls.Config{
		ServerName:         host,
		InsecureSkipVerify: true,
		MinVersion:         tls.VersionTLS10,
		MaxVersion:         tls.VersionTLS13,
		CipherSuites:       suites,
		NextProtos:         []string{"http/1.1"},
	}
}

// handshake runs the TLS handshake restricted to what ATS allows, then checks the certificate.
func (p *prober) handshake(ctx context.Context, conn net.Conn, host, addr string) (*tls.Conn, []Step, *outcome) {
	t := time.Now()
	tc := tls.Client(conn, atsConfig(host))
	err := tc.HandshakeContext(ctx)
	d := since(t)
	if err != nil {
		if isTimeout(ctx, err) {
			out := &outcome{verdict: TimedOut, reason: fmt.Sprintf("the TLS handshake did not finish within %s", p.o.Timeout),
				fix: "Check that the port serves HTTPS and that nothing between Apple and the server holds the connection."}
			return nil, []Step{failStep("tls", "TLS handshake", d, out)}, out
		}
		out, certs := p.explainHandshake(ctx, err, host, addr)
		steps := []Step{failStep("tls", "TLS handshake", d, out)}
		if certs != nil {
			certSteps, _ := p.checkCertificates(certs, host)
			steps = append(steps, certSteps...)
		}
		return nil, steps, out
	}
	cs := tc.ConnectionState()
	steps := []Step{{Name: "tls", Title: "TLS handshake", Status: StatusOK, Duration: d,
		Detail: fmt.Sprintf("%s, %s (allowed by App Transport Security)", tls.VersionName(cs.Version), tls.CipherSuiteName(cs.CipherSuite))}}
	certSteps, out := p.checkCertificates(cs.PeerCertificates, host)
	return tc, append(steps, certSteps...), out
}

// explainHandshake says why the ATS handshake failed, with a second, permissive handshake to learn
// what the server does offer. It returns that handshake's certificates, if any, for inspection.
func (p *prober) explainHandshake(ctx context.Context, err error, host, addr string) (*outcome, []*x509.Certificate) {
	out := &outcome{verdict: TLSIssue}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		if bytes.HasPrefix(rh.RecordHeader[:], []byte("HTTP/")) {
			out.reason = "the server answered in plain HTTP: it does not speak TLS on this port"
			out.fix = "Serve HTTPS on this port (terminate TLS in the receiver or a reverse proxy in front of it), or use the port that serves HTTPS."
		} else {
			out.reason = fmt.Sprintf("the server does not speak TLS on this port (its first bytes: %q)", rh.RecordHeader[:])
			out.fix = "Point the URL at the port that serves HTTPS."
		}
		return out, nil
	}
	if isTLSAlert(err) && (strings.Contains(err.Error(), "certificate required") || strings.Contains(err.Error(), "bad certificate")) {
		out.reason = "the server demands a client certificate (" + err.Error() + "); Apple presents none"
		out.fix = "Do not require client certificates (mutual TLS) on the notification URL."
		return out, nil
	}

	conn, derr := p.o.Dialer.DialContext(ctx, "tcp", addr)
	if derr != nil {
		out.reason = "the TLS handshake failed under App Transport Security settings: " + err.Error()
		out.fix = "Enable TLS 1.2 or 1.3 with ECDHE cipher suites (AES-GCM) on the server."
		return out, nil
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	tc := tls.Client(conn, permissiveConfig(host))
	if perr := tc.HandshakeContext(ctx); perr != nil {
		out.reason = "the TLS handshake failed, even with every version and cipher suite Go knows: " + err.Error()
		out.fix = "Check the server's TLS set-up: TLS 1.2 or 1.3, ECDHE cipher suites with AES-GCM, and a certificate with its private key."
		return out, nil
	}
	cs := tc.ConnectionState()
	version, suite := tls.VersionName(cs.Version), tls.CipherSuiteName(cs.CipherSuite)
	switch {
	case cs.Version < tls.VersionTLS12:
		out.reason = fmt.Sprintf("the server speaks at most %s (with %s); Apple requires TLS 1.2 or later", version, suite)
		out.fix = "Enable TLS 1.2 and TLS 1.3 on the server (and switch off TLS 1.0 and 1.1)."
	case cs.Version == tls.VersionTLS12 && !slices.Contains(atsSuites, cs.CipherSuite):
		why := "which App Transport Security does not accept"
		if !strings.Contains(suite, "ECDHE") {
			why = "which has no forward secrecy (RSA key exchange, no ECDHE)"
		}
		out.reason = fmt.Sprintf("with TLS 1.2 the server only agrees on %s, %s", suite, why)
		out.fix = "Enable ECDHE cipher suites with AES-GCM, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 or TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, or TLS 1.3."
	default:
		out.reason = fmt.Sprintf("the handshake under App Transport Security settings failed (%v), though a permissive one agreed on %s, %s", err, version, suite)
		out.fix = "Enable TLS 1.2 or 1.3 with ECDHE cipher suites (AES-GCM) on the server."
	}
	return out, cs.PeerCertificates
}

// checkCertificates checks the served chain the way ATS does: trusted, for this host, in date,
// SHA-256 or better signatures, a strong enough key. Every property gets its own step.
func (p *prober) checkCertificates(certs []*x509.Certificate, host string) ([]Step, *outcome) {
	var steps []Step
	var first *outcome
	add := func(s Step) {
		steps = append(steps, s)
		if s.Status == StatusFail && first == nil {
			first = &outcome{verdict: TLSIssue, reason: s.Detail, fix: s.Fix}
		}
	}
	if len(certs) == 0 {
		add(Step{Name: "trust", Title: "Certificate", Status: StatusFail, Detail: "the server sent no certificate",
			Fix: "Configure the server with a certificate for this host."})
		return steps, first
	}
	leaf := certs[0]
	now := p.now()
	add(p.trustStep(certs, now))
	add(hostnameStep(leaf, host))
	add(validityStep(leaf, now))
	add(signatureStep(certs))
	add(keyStep(leaf))
	return steps, first
}

func (p *prober) trustStep(certs []*x509.Certificate, now time.Time) Step {
	leaf := certs[0]
	s := Step{Name: "trust", Title: "Certificate chain"}
	times := judgingTimes(leaf, now)
	chains, err := verifyChain(certs, p.roots, times)
	if err == nil {
		s.Status, s.Detail = StatusOK, "issued by "+name(leaf.Issuer.CommonName, leaf.Issuer.String())+", chains to "+rootName(chains)
		return s
	}
	if len(p.o.ExtraRoots) > 0 {
		if chains, err2 := verifyChain(certs, p.withExtra, times); err2 == nil {
			s.Status = StatusWarn
			s.Detail = "trusted only through --ca (root " + rootName(chains) + ")"
			s.Fix = "Fine for a local test; for Apple, use a certificate from a public certificate authority."
			return s
		} else {
			err = err2
		}
	}
	if isDateError(err) && len(times) > 1 {
		s.Status = StatusWarn
		s.Detail = "the chain cannot be judged apart from the out-of-date certificate (" + err.Error() + ")"
		s.Fix = "Renew the certificate, then probe again."
		return s
	}
	return untrustedStep(s, certs, err)
}

// judgingTimes are the instants the chain is judged at: now and, for an out-of-date leaf, one
// inside its validity. An out-of-date leaf is the validity step's finding; judging the chain
// again inside the leaf's validity lets the report say "expired" rather than "untrusted".
func judgingTimes(leaf *x509.Certificate, now time.Time) []time.Time {
	times := []time.Time{now}
	if now.After(leaf.NotAfter) {
		times = append(times, leaf.NotAfter.Add(-time.Second))
	} else if now.Before(leaf.NotBefore) {
		times = append(times, leaf.NotBefore.Add(time.Second))
	}
	return times
}

// verifyChain verifies certs (leaf first, then the intermediates the server sent) against roots at
// each of times, and succeeds if any instant does.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool, times []time.Time) ([][]*x509.Certificate, error) {
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	var errs []error
	for _, at := range times {
		chains, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at})
		if err == nil {
			return chains, nil
		}
		errs = append(errs, err)
	}
	// Prefer an error that is not about dates: that is the one the validity step misses.
	for _, err := range errs {
		if !isDateError(err) {
			return nil, err
		}
	}
	return nil, errs[len(errs)-1]
}

// untrustedStep fails s with the reason the chain did not verify, err, in the user's words.
func untrustedStep(s Step, certs []*x509.Certificate, err error) Step {
	leaf := certs[0]
	s.Status = StatusFail
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case strings.Contains(err.Error(), "insecure algorithm"):
		s.Detail = "the chain cannot be verified: a certificate is signed with an insecure algorithm (" + err.Error() + ")"
		s.Fix = "Reissue the certificate with a SHA-256 (or stronger) signature."
	case errors.As(err, &unknown) && selfSigned(leaf):
		s.Detail = "the certificate is self-signed (" + name(leaf.Subject.CommonName, leaf.Subject.String()) + ")"
		s.Fix = "Use a certificate from a public certificate authority such as Let's Encrypt (for a local test, pass it with --ca)."
	case errors.As(err, &unknown):
		s.Detail = "issued by " + name(leaf.Issuer.CommonName, leaf.Issuer.String()) + ", which is not a trusted certificate authority"
		s.Fix = "Use a certificate from a public certificate authority and serve the full chain; Apple fetches no missing intermediates. (To probe a local server whose certificate a development CA issued, trust that CA with --ca FILE or S2S_CA_FILE.)"
		if len(certs) == 1 {
			s.Detail += ", and the server sends no intermediate certificate"
		}
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		s.Detail = "a certificate in the chain is out of date: " + err.Error()
		s.Fix = "Serve current intermediate certificates from your certificate authority."
	default:
		s.Detail = "the chain does not verify: " + err.Error()
		s.Fix = "Serve a certificate from a public certificate authority together with its intermediates."
	}
	return s
}

func isDateError(err error) bool {
	var invalid x509.CertificateInvalidError
	return errors.As(err, &invalid) && invalid.Reason == x509.Expired
}

func hostnameStep(leaf *x509.Certificate, host string) Step {
	s := Step{Name: "hostname", Title: "Host name"}
	if err := leaf.VerifyHostname(host); err == nil {
		s.Status, s.Detail = StatusOK, "the certificate is valid for "+host
		return s
	}
	names := append([]string{}, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	s.Status = StatusFail
	if len(names) == 0 {
		s.Detail = "the certificate names no host (no subject alternative names; the common name alone does not count)"
	} else {
		s.Detail = "the certificate is valid for " + strings.Join(names, ", ") + ", not for " + host
	}
	s.Fix = "Use a certificate whose subject alternative names include " + host + "."
	return s
}

func validityStep(leaf *x509.Certificate, now time.Time) Step {
	s := Step{Name: "validity", Title: "Validity"}
	day := func(t time.Time) string { return t.UTC().Format("2006-01-02") }
	days := func(d time.Duration) int { return int(d.Hours() / 24) }
	switch left := leaf.NotAfter.Sub(now); {
	case now.Before(leaf.NotBefore):
		s.Status, s.Detail = StatusFail, "the certificate is not valid before "+leaf.NotBefore.UTC().Format(time.RFC3339)
		s.Fix = "Check the server's clock, or wait until the certificate's start date."
	case left < 0:
		s.Status, s.Detail = StatusFail, fmt.Sprintf("the certificate expired on %s (%d days ago)", day(leaf.NotAfter), days(-left))
		s.Fix = "Renew the certificate, and automate renewal (e.g. ACME)."
	case left < expiryWarning:
		s.Status, s.Detail = StatusWarn, fmt.Sprintf("the certificate expires on %s, in %d days", day(leaf.NotAfter), days(left))
		s.Fix = "Renew it soon, and automate renewal: an expired certificate makes every delivery a TLS_ISSUE."
	default:
		s.Status, s.Detail = StatusOK, fmt.Sprintf("valid until %s (%d days left)", day(leaf.NotAfter), days(left))
	}
	return s
}

func weakSignature(a x509.SignatureAlgorithm) bool {
	switch a {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return true
	}
	return false
}

func signatureStep(certs []*x509.Certificate) Step {
	s := Step{Name: "signature", Title: "Signature", Status: StatusOK}
	var algs []string
	for i, c := range certs {
		// A root's signature on itself is not checked by anyone, so a served root does not count.
		if i > 0 && selfSigned(c) {
			continue
		}
		if weakSignature(c.SignatureAlgorithm) {
			s.Status = StatusFail
			s.Detail = fmt.Sprintf("%s is signed with %s; App Transport Security requires SHA-256 or better", name(c.Subject.CommonName, c.Subject.String()), c.SignatureAlgorithm)
			s.Fix = "Reissue the certificate with a SHA-256 (or stronger) signature."
			return s
		}
		if a := c.SignatureAlgorithm.String(); !slices.Contains(algs, a) {
			algs = append(algs, a)
		}
	}
	s.Detail = strings.Join(algs, ", ")
	return s
}

func keyStep(leaf *x509.Certificate) Step {
	s := Step{Name: "key", Title: "Key", Status: StatusOK}
	switch k := leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		bits := k.N.BitLen()
		s.Detail = fmt.Sprintf("RSA %d bits", bits)
		if bits < 2048 {
			s.Status = StatusFail
			s.Detail += "; App Transport Security requires RSA keys of 2048 bits or more"
			s.Fix = "Reissue the certificate with an RSA 2048-bit (or larger) or an ECDSA P-256 key."
		}
	case *ecdsa.PublicKey:
		bits := k.Curve.Params().BitSize
		s.Detail = "ECDSA " + k.Curve.Params().Name
		if bits < 256 {
			s.Status = StatusFail
			s.Detail += "; App Transport Security requires elliptic-curve keys of 256 bits or more"
			s.Fix = "Reissue the certificate with an ECDSA P-256 (or larger) key."
		}
	case ed25519.PublicKey:
		s.Status, s.Detail = StatusWarn, "Ed25519, which is not among the key types App Transport Security documents (RSA, ECDSA)"
		s.Fix = "Prefer an ECDSA P-256 or RSA 2048-bit key."
	default:
		s.Status, s.Detail = StatusFail, fmt.Sprintf("an unsupported key type (%T)", k)
		s.Fix = "Reissue the certificate with an ECDSA P-256 or RSA 2048-bit key."
	}
	return s
}

func selfSigned(c *x509.Certificate) bool {
	// CheckSignatureFrom would also demand that c be a CA, which a self-signed leaf is not.
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

func rootName(chains [][]*x509.Certificate) string {
	if len(chains) == 0 || len(chains[0]) == 0 {
		return "?"
	}
	r := chains[0][len(chains[0])-1]
	return name(r.Subject.CommonName, r.Subject.String())
}

func name(cn, full string) string {
	if cn != "" {
		return cn
	}
	return full
}
