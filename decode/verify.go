package decode

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Apple's marker extensions (presence only): the App Store receipt-signing leaf and the Apple
// Worldwide Developer Relations intermediate.
var (
	OIDAppStoreLeaf     = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 11, 1}
	OIDWWDRIntermediate = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 2, 1}
)

// xcodeKeyID is the kid StoreKit Testing in Xcode puts in its headers.
const xcodeKeyID = "Apple_Xcode_Key"

// Verifier verifies and decodes; safe for concurrent use; caches verified chains.
type Verifier struct {
	opts      Options
	roots     *x509.CertPool
	rootCerts []*x509.Certificate
	cache     *boundedCache[chainKey, *chainEntry] // leaf and intermediate → their verified chain
	headers   *boundedCache[string, *parsedHeader] // encoded header segment → its decoded form
	walks     atomic.Int64                         // full chain verifications, for tests
}

// NewVerifier returns a Verifier trusting Apple Root CA G3 plus o.ExtraRoots.
func NewVerifier(o Options) *Verifier {
	v := &Verifier{opts: o, roots: x509.NewCertPool(), cache: newBoundedCache[chainKey, *chainEntry](256),
		headers: newBoundedCache[string, *parsedHeader](256)}
	v.roots.AddCert(appleRoot)
	v.rootCerts = append(v.rootCerts, appleRoot)
	for _, r := range o.ExtraRoots {
		if r == nil || r.Equal(appleRoot) {
			continue
		}
		v.roots.AddCert(r)
		v.rootCerts = append(v.rootCerts, r)
	}
	if v.opts.Clock == nil {
		v.opts.Clock = time.Now
	}
	return v
}

// Options returns the options the Verifier was built with.
func (v *Verifier) Options() Options { return v.opts }

// chainEntry is a verified (leaf, intermediate, root) chain and the window in which every one of
// its three certificates is valid: inside it, the chain is valid without another walk.
type chainEntry struct {
	key       *ecdsa.PublicKey
	leaf      CertInfo
	root      *x509.Certificate
	rootName  string
	rootSHA   string
	notBefore time.Time
	notAfter  time.Time
}

// chainKey identifies a chain by its leaf and intermediate exactly as sent. The map compares the
// whole strings, so equal keys are equal certificates; hashing them is the map's fast hash.
type chainKey struct{ leaf, intermediate string }

// jws is one parsed compact JWS.
type jws struct {
	*parsedHeader // shared through the cache: read only
	header        map[string]any
	payload       []byte
	signed        []byte // "header.payload", what the signature covers
	signature     []byte
}

// parsedHeader is a decoded JWS header. Headers repeat (every JWS signed by one leaf carries
// the same one), so they are cached by their encoded text.
type parsedHeader struct {
	fields   map[string]any
	alg, kid string
	x5c      []string
	x5cOK    bool // x5c present and an array of strings
}

// boundedCache is a map that forgets its oldest entries beyond max; safe for concurrent use.
// Verified chains and parsed headers both repeat across notifications signed by one leaf.
type boundedCache[K comparable, V any] struct {
	mu    sync.RWMutex
	max   int
	m     map[K]V
	order []K
}

func newBoundedCache[K comparable, V any](max int) *boundedCache[K, V] {
	return &boundedCache[K, V]{max: max, m: make(map[K]V, max)}
}

func (c *boundedCache[K, V]) get(k K) V {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[k]
}

func (c *boundedCache[K, V]) put(k K, v V) {
	if c.max <= 0 {
		return // a cache of size 0 keeps nothing
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok {
		c.m[k] = v
		return
	}
	for len(c.order) >= c.max {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.m[k] = v
	c.order = append(c.order, k)
}

// len is for tests.
func (c *boundedCache[K, V]) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// maxCachedHeader is the largest encoded header kept in the header cache. Apple's, with its three
// certificates, is about 5 KB; headers are cached before any signature is checked, so a larger
// one, which only a forger sends, is parsed each time rather than kept.
const maxCachedHeader = 16 << 10

func parseHeader(seg string) (*parsedHeader, error) {
	hb, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return nil, errors.New("the JWS header is not base64url")
	}
	h := &parsedHeader{}
	// A header with a duplicate alg or x5c would name one chain to one reader and another to
	// the next: refused like any ambiguous JSON (headers are cached, so this costs nothing per
	// notification).
	if _, err := checkJSON(hb, "the JWS header", nil, nil); err != nil {
		return nil, err
	}
	if err := unmarshalObject(hb, &h.fields); err != nil {
		return nil, fmt.Errorf("the JWS header is not a JSON object: %w", err)
	}
	h.alg, _ = h.fields["alg"].(string)
	h.kid, _ = h.fields["kid"].(string)
	if raw, ok := h.fields["x5c"].([]any); ok {
		h.x5cOK = true
		for _, e := range raw {
			s, ok := e.(string)
			if !ok {
				h.x5cOK = false
				break
			}
			h.x5c = append(h.x5c, s)
		}
	}
	return h, nil
}

// parseJWS splits and decodes a trimmed compact JWS, given as s and as b, the same text: the
// header cache is keyed by substrings of s, which cost no copy, and the digest is taken over b.
// The error is a sentence for the format class.
func (v *Verifier) parseJWS(s string, b []byte) (*jws, error) {
	if n := bytes.Count(b, []byte(".")); n != 2 {
		return nil, fmt.Errorf("not a compact JWS: expected 3 dot-separated parts, found %d", n+1)
	}
	hEnd := bytes.IndexByte(b, '.')
	pEnd := hEnd + 1 + bytes.IndexByte(b[hEnd+1:], '.')
	j := &jws{signed: b[:pEnd]}
	h := v.headers.get(s[:hEnd])
	if h == nil {
		var err error
		if h, err = parseHeader(s[:hEnd]); err != nil {
			return nil, err
		}
		if hEnd <= maxCachedHeader {
			// A copy: a substring of s would keep the whole JWS, as large as a body, alive.
			v.headers.put(strings.Clone(s[:hEnd]), h)
		}
	}
	j.parsedHeader = h
	// Each result gets its own copy of the top level, so a caller may rewrite its header.
	j.header = make(map[string]any, len(h.fields))
	for k, val := range h.fields {
		j.header[k] = val
	}
	var err error
	if j.payload, err = decodeSegment(base64.RawURLEncoding, b[hEnd+1:pEnd]); err != nil {
		return nil, errors.New("the JWS payload is not base64url")
	}
	if j.signature, err = decodeSegment(base64.RawURLEncoding.Strict(), b[pEnd+1:]); err != nil {
		return nil, errors.New("the JWS signature is not base64url")
	}
	return j, nil
}

// decodeSegment is DecodeString for a []byte segment, so the text is not copied to a string
// first; the result has the same length and capacity.
func decodeSegment(enc *base64.Encoding, src []byte) ([]byte, error) {
	dst := make([]byte, enc.DecodedLen(len(src)))
	n, err := enc.Decode(dst, src)
	return dst[:n], err
}

// checkTime is the effective time of one JWS and where it came from.
type checkTime struct {
	t      time.Time
	source string
	signed time.Time // the payload's own date, when it has one (for messages)
	hint   time.Time // a date to suggest with --at when the payload has none
	hintOf string    // where hint comes from, e.g. "its signed transaction"
}

func (v *Verifier) effectiveTime(payloadDate time.Time, dateField string, hint time.Time, hintOf string) checkTime {
	ct := checkTime{signed: payloadDate, hint: hint, hintOf: hintOf}
	switch {
	case !v.opts.At.IsZero():
		ct.t, ct.source = v.opts.At, "at"
	case v.opts.Now:
		ct.t, ct.source = v.opts.Clock(), "now"
	case !payloadDate.IsZero():
		ct.t, ct.source = payloadDate, dateField
	default:
		ct.t, ct.source = v.opts.Clock(), "now-fallback"
	}
	ct.t = ct.t.UTC()
	return ct
}

// isXcode reports whether j is StoreKit Testing in Xcode data: Xcode's key id, one self-signed
// certificate, and the Xcode environment in the payload. Only such data is labelled
// unsigned-xcode; anything else is verified as App Store data.
func isXcode(j *jws, env Environment) bool {
	if j.kid != xcodeKeyID || len(j.x5c) != 1 || env != EnvXcode {
		return false
	}
	der, err := base64.StdEncoding.DecodeString(j.x5c[0])
	if err != nil {
		return false
	}
	c, err := x509.ParseCertificate(der)
	return err == nil && bytes.Equal(c.RawSubject, c.RawIssuer)
}

// verifySignature runs §3.2 steps 3-10 for an App Store JWS: alg, chain shape, chain to a
// trusted root at the effective time (cached), Apple OIDs, raw ES256 signature.
func (v *Verifier) verifySignature(j *jws, ct checkTime) Verification {
	res := Verification{EffectiveTime: ct.t, TimeSource: ct.source}
	fail := func(c Class, format string, args ...any) Verification {
		res.Label, res.Class, res.Message = LabelInvalid, c, fmt.Sprintf(format, args...)
		return res
	}
	if j.alg != "ES256" {
		if j.alg == "" {
			return fail(ClassSignature, "the JWS header has no alg; App Store data is always signed with ES256")
		}
		return fail(ClassSignature, "the JWS is signed with alg %q; App Store data is always signed with ES256", j.alg)
	}
	if !j.x5cOK || len(j.x5c) == 0 {
		return fail(ClassChain, "the JWS header has no x5c certificate chain; App Store data always carries leaf, intermediate and root certificates")
	}
	if len(j.x5c) != 3 {
		return fail(ClassChain, "the x5c chain holds %d certificates; App Store data always carries exactly 3 (leaf, intermediate, root)", len(j.x5c))
	}
	// The cache is keyed on the certificates as sent, so a cached chain costs no base64 or DER
	// decoding; equal strings are equal DER. x5c[2] is not part of the key: it is never trusted.
	key := chainKey{j.x5c[0], j.x5c[1]}
	e := v.cache.get(key)
	if e == nil || ct.t.Before(e.notBefore) || ct.t.After(e.notAfter) {
		leafDER, err := base64.StdEncoding.DecodeString(j.x5c[0])
		if err != nil {
			return fail(ClassChain, "x5c[0] (the leaf certificate) is not standard base64")
		}
		intermDER, err := base64.StdEncoding.DecodeString(j.x5c[1])
		if err != nil {
			return fail(ClassChain, "x5c[1] (the intermediate certificate) is not standard base64")
		}
		var bad Verification
		e, bad = v.verifyChain(leafDER, intermDER, ct)
		if e == nil {
			bad.EffectiveTime, bad.TimeSource = res.EffectiveTime, res.TimeSource
			return bad
		}
		v.cache.put(key, e)
	}
	leaf := e.leaf
	res.Leaf = &leaf
	res.Root, res.RootSHA256 = e.rootName, e.rootSHA
	if len(j.signature) != 64 {
		return fail(ClassSignature, "the signature is %d bytes; ES256 in a JWS is the raw 64-byte r||s pair (a DER-encoded signature is not valid)", len(j.signature))
	}
	digest := sha256.Sum256(j.signed)
	r := new(big.Int).SetBytes(j.signature[:32])
	s := new(big.Int).SetBytes(j.signature[32:])
	if !ecdsa.Verify(e.key, digest[:], r, s) {
		return fail(ClassSignature, "the ES256 signature does not match the header and payload: the data was changed after signing, or signed by another key than the leaf certificate's")
	}
	if e.root.Equal(appleRoot) {
		res.Label = LabelVerified
		res.Message = fmt.Sprintf("signed by the App Store: chain to Apple Root CA - G3 checked at %s (%s)", ct.t.Format(time.RFC3339), describeSource(ct.source))
	} else {
		res.Label = LabelSimulated
		res.Message = fmt.Sprintf("signed by a test chain whose root %q you trust, not by Apple; chain checked at %s (%s)", e.rootName, ct.t.Format(time.RFC3339), describeSource(ct.source))
	}
	return res
}

func describeSource(src string) string {
	switch src {
	case "signedDate":
		return "its signedDate"
	case "receiptCreationDate":
		return "its receiptCreationDate"
	case "at":
		return "--at"
	case "now":
		return "the current time, --now"
	case "now-fallback":
		return "the current time: the payload has no signedDate"
	}
	return src
}

// verifyChain walks leaf -> intermediate -> a trusted root at the effective time. It returns the
// entry to cache, or a failed Verification with the reason.
func (v *Verifier) verifyChain(leafDER, intermDER []byte, ct checkTime) (*chainEntry, Verification) {
	fail := func(c Class, format string, args ...any) (*chainEntry, Verification) {
		return nil, Verification{Label: LabelInvalid, Class: c, Message: fmt.Sprintf(format, args...)}
	}
	v.walks.Add(1)
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return fail(ClassChain, "x5c[0] (the leaf certificate) is not a DER certificate: %v", err)
	}
	interm, err := x509.ParseCertificate(intermDER)
	if err != nil {
		return fail(ClassChain, "x5c[1] (the intermediate certificate) is not a DER certificate: %v", err)
	}
	info := certInfo(leaf)
	key, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || key.Curve != elliptic.P256() {
		return fail(ClassSignature, "the leaf certificate's key is not an ECDSA P-256 key, so it cannot make an ES256 signature")
	}
	inter := x509.NewCertPool()
	inter.AddCert(interm)
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         v.roots,
		Intermediates: inter,
		CurrentTime:   ct.t,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		e, res := fail(ClassChain, "%s", v.chainMessage(err, leaf, interm, ct))
		res.Leaf = &info
		return e, res
	}
	var chain []*x509.Certificate
	for _, c := range chains {
		if len(c) == 3 && c[1].Equal(interm) {
			chain = c
			break
		}
	}
	if chain == nil {
		e, res := fail(ClassChain, "the leaf certificate does not chain through x5c[1] to a trusted root in exactly three steps (leaf, intermediate, root)")
		res.Leaf = &info
		return e, res
	}
	if !hasExtension(leaf, OIDAppStoreLeaf) {
		e, res := fail(ClassChain, "the leaf certificate lacks Apple's App Store signing marker (OID %s): it is not an App Store signing certificate", OIDAppStoreLeaf)
		res.Leaf = &info
		return e, res
	}
	if !hasExtension(interm, OIDWWDRIntermediate) {
		e, res := fail(ClassChain, "the intermediate certificate lacks Apple's WWDR marker (OID %s): it is not Apple's App Store intermediate", OIDWWDRIntermediate)
		res.Leaf = &info
		return e, res
	}
	root := chain[2]
	e := &chainEntry{key: key, leaf: info, root: root, rootName: subjectName(root), rootSHA: Fingerprint(root)}
	e.notBefore, e.notAfter = leaf.NotBefore, leaf.NotAfter
	for _, c := range chain[1:] {
		if c.NotBefore.After(e.notBefore) {
			e.notBefore = c.NotBefore
		}
		if c.NotAfter.Before(e.notAfter) {
			e.notAfter = c.NotAfter
		}
	}
	return e, Verification{}
}

func certInfo(c *x509.Certificate) CertInfo {
	return CertInfo{
		Subject:   subjectName(c),
		Serial:    strings.ToUpper(hex.EncodeToString(c.SerialNumber.Bytes())),
		NotBefore: c.NotBefore.UTC(),
		NotAfter:  c.NotAfter.UTC(),
	}
}

func hasExtension(c *x509.Certificate, oid asn1.ObjectIdentifier) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(oid) {
			return true
		}
	}
	return false
}

// chainMessage turns a crypto/x509 error into a sentence: which certificate, what is wrong, at
// what time it was checked and what to try.
func (v *Verifier) chainMessage(err error, leaf, interm *x509.Certificate, ct checkTime) string {
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) && inv.Reason == x509.Expired {
		if msg := v.validityMessage(ct, namedCert{"leaf", leaf}, namedCert{"intermediate", interm}); msg != "" {
			return msg
		}
		for _, r := range v.rootCerts {
			if ct.t.After(r.NotAfter) || ct.t.Before(r.NotBefore) {
				return fmt.Sprintf("root certificate %q is valid only from %s to %s%s", subjectName(r), day(r.NotBefore), day(r.NotAfter), v.timeAdvice(ct, r))
			}
		}
		return fmt.Sprintf("a certificate of the chain is outside its validity period at %s: %v", ct.t.Format(time.RFC3339), err)
	}
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		for _, r := range v.rootCerts {
			if bytes.Equal(r.RawSubject, interm.RawIssuer) {
				if r.CheckSignature(interm.SignatureAlgorithm, interm.RawTBSCertificate, interm.Signature) != nil {
					return fmt.Sprintf("the intermediate certificate names %q as its issuer but is not signed by that trusted root's key: a forged chain (x5c[2] is never trusted)", subjectName(r))
				}
				return v.genuineIntermediateMessage(err, leaf, interm, r, ct)
			}
		}
		if !bytes.Equal(leaf.RawIssuer, interm.RawSubject) {
			return fmt.Sprintf("the leaf certificate was not issued by x5c[1] (leaf issuer %q, intermediate %q)", leaf.Issuer.CommonName, interm.Subject.CommonName)
		}
		return fmt.Sprintf("the certificate chain does not lead to Apple Root CA - G3: the intermediate was issued by %q, which is not a trusted root (trust a test root with --root)", issuerName(interm))
	}
	if errors.As(err, &inv) {
		return fmt.Sprintf("the certificate chain is invalid: %v", err)
	}
	return fmt.Sprintf("the certificate chain does not verify: %v", err)
}

// genuineIntermediateMessage says what is wrong with a chain whose intermediate the trusted root
// r did sign: crypto/x509 reports it as an unknown authority, but nothing in it is forged.
func (v *Verifier) genuineIntermediateMessage(err error, leaf, interm, r *x509.Certificate, ct checkTime) string {
	if !interm.BasicConstraintsValid || !interm.IsCA {
		return fmt.Sprintf("the intermediate certificate %q is signed by the trusted root %q, but it is not a CA certificate (its basic constraints do not allow it to issue certificates), so the leaf it issued is not valid", subjectName(interm), subjectName(r))
	}
	if msg := v.validityMessage(ct, namedCert{"intermediate", interm}, namedCert{"root", r}); msg != "" {
		return msg
	}
	if !bytes.Equal(leaf.RawIssuer, interm.RawSubject) {
		return fmt.Sprintf("the leaf certificate was not issued by x5c[1] (leaf issuer %q, intermediate %q)", leaf.Issuer.CommonName, interm.Subject.CommonName)
	}
	if leaf.CheckSignatureFrom(interm) != nil {
		return fmt.Sprintf("the leaf certificate names the intermediate %q as its issuer but is not signed by its key", subjectName(interm))
	}
	return fmt.Sprintf("the intermediate certificate is signed by the trusted root %q, but the chain does not verify: %v", subjectName(r), err)
}

// namedCert is a certificate with its place in the chain, for messages.
type namedCert struct {
	name string
	cert *x509.Certificate
}

// nodeSkew is the clock skew Apple's Node library allows on certificate validity (MAX_SKEW);
// its Python, Java and Swift libraries allow none, and neither does s2s.
const nodeSkew = 60 * time.Second

// validityMessage says which of certs is outside its validity period at the effective time, or
// "" when all are inside it. A payload that fails only by Node's skew allowance is told so.
func (v *Verifier) validityMessage(ct checkTime, certs ...namedCert) string {
	for _, c := range certs {
		after := ct.t.Sub(c.cert.NotAfter)
		before := c.cert.NotBefore.Sub(ct.t)
		switch {
		case after > 0 && after <= nodeSkew:
			return fmt.Sprintf("%s certificate expired at %s, %s before the time it was checked%s%s", c.name, c.cert.NotAfter.UTC().Format(time.RFC3339), seconds(after), skewNote, v.timeAdvice(ct, c.cert))
		case after > 0:
			return fmt.Sprintf("%s certificate expired on %s%s", c.name, day(c.cert.NotAfter), v.timeAdvice(ct, c.cert))
		case before > 0 && before <= nodeSkew:
			return fmt.Sprintf("%s certificate is not valid before %s, %s after the time it was checked%s%s", c.name, c.cert.NotBefore.UTC().Format(time.RFC3339), seconds(before), skewNote, v.timeAdvice(ct, c.cert))
		case before > 0:
			return fmt.Sprintf("%s certificate is not valid before %s%s", c.name, day(c.cert.NotBefore), v.timeAdvice(ct, c.cert))
		}
	}
	return ""
}

const skewNote = ": Apple's Node library, which allows 60 s of clock skew, would accept it; its Python, Java and Swift libraries would not, nor does s2s"

// seconds is a short duration as "30 s" or "30.5 s".
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}

func issuerName(c *x509.Certificate) string {
	if c.Issuer.CommonName != "" {
		return c.Issuer.CommonName
	}
	return c.Issuer.String()
}

// subjectName is a certificate's common name, or its whole subject when it has none (Apple's
// test CA has no CN).
func subjectName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	return c.Subject.String()
}

// timeAdvice explains the effective time used and suggests how to check at the right one.
func (v *Verifier) timeAdvice(ct checkTime, c *x509.Certificate) string {
	inside := func(t time.Time) bool { return !t.IsZero() && !t.Before(c.NotBefore) && !t.After(c.NotAfter) }
	switch ct.source {
	case "now-fallback":
		s := "; this payload has no signedDate, so it was checked at the current time"
		if inside(ct.hint) {
			return s + "; try --at " + ct.hint.Format(time.RFC3339) + " (the signedDate of " + ct.hintOf + ")"
		}
		return s + "; try --at with the time it was signed"
	case "now":
		if inside(ct.signed) {
			return fmt.Sprintf("; it was checked at the current time (--now), but it was signed on %s, when the certificate was valid; drop --now to check it at its signing time", ct.signed.Format(time.RFC3339))
		}
		return "; it was checked at the current time (--now)"
	case "at":
		return fmt.Sprintf("; it was checked at --at %s", ct.t.Format(time.RFC3339))
	default:
		return fmt.Sprintf("; it was checked at its %s %s, so the App Store could not have signed it then", ct.source, ct.t.Format(time.RFC3339))
	}
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }
