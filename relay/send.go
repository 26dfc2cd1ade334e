package relay

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/store"
)

const (
	// DefaultTimeout bounds one attempt. Apple gives up after roughly 30 s; a developer's server
	// that needs more than 10 s will fail against Apple too.
	DefaultTimeout = 10 * time.Second
	// ResponsePrefix is how much of the target's answer is kept with each attempt.
	ResponsePrefix = 1024

	HeaderCaptureID = "X-S2S-Capture-Id"
	HeaderTrust     = "X-S2S-Trust"
	HeaderAttempt   = "X-S2S-Attempt"
	HeaderReplay    = "X-S2S-Replay"
	// HeaderHops counts the s2s forwards a request has been through, so a target that points
	// back at s2s listen itself ends in a message instead of a loop.
	HeaderHops = "X-S2S-Hops"
	// MaxHops is where forwarding stops.
	MaxHops = 5
)

// Hops is how many s2s forwards the captured request had already been through.
func Hops(c *store.Capture) int {
	n, err := strconv.Atoi(c.Headers.Get(HeaderHops))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// forwardedHeaders are the request headers passed on as Apple sent them. Host, Content-Length and
// the hop-by-hop headers belong to each connection, and Accept-Encoding would let the target
// compress an answer s2s only shows the start of.
var forwardedHeaders = []string{"Content-Type", "Content-Encoding", "User-Agent", "Accept", "Accept-Language"}

// Outcome is what a target answered one HTTP attempt (or the error that stopped it).
type Outcome struct {
	Status   int // 0 when there was no answer
	Latency  time.Duration
	Response string // start of the answer's body
	Location string // Location of a redirect, which s2s does not follow
	Err      error  // transport error; nil when the target answered
	// Answer is the whole answer (up to MaxAnswer) for a real-time request, whose answer is
	// passed on to Apple; nil for notifications, whose answer body means nothing to Apple.
	Answer []byte
}

// OK reports whether the attempt counts as delivered, by Apple's rule.
func (r Outcome) OK() bool { return r.Err == nil && appstore.Accepted(r.Status) }

// TimedOut reports whether the target did not answer in time.
func (r Outcome) TimedOut() bool {
	var ne net.Error
	return errors.Is(r.Err, context.DeadlineExceeded) || (errors.As(r.Err, &ne) && ne.Timeout())
}

// Refused reports whether nothing was listening at the target.
func (r Outcome) Refused() bool { return errors.Is(r.Err, syscall.ECONNREFUSED) }

// Poster makes single delivery attempts of stored captures, with the forwarding headers; it is
// safe for concurrent use. (s2s has three HTTP posters, each for its own question: sender posts a
// body the way Apple does, with Apple's retry schedule and a load mode, to rehearse a receiver;
// relay posts stored captures on to the developer's servers and records each attempt; probe
// drives the connection step by step to name the sendAttemptResult Apple would record.)
type Poster struct {
	Client  *http.Client  // nil: NewClient()
	Timeout time.Duration // 0: DefaultTimeout
	Now     func() time.Time
}

// maxAnswerHeader bounds the headers of a target's answer.
const maxAnswerHeader = 64 << 10

// NewClient returns the client forwarding uses: no automatic compression (it would add an
// Accept-Encoding header Apple did not send) and no redirects (a 3xx is reported, as Apple
// records it, rather than silently followed).
func NewClient() *http.Client { return NewClientTrusting(nil) }

// NewClientTrusting is NewClient that also trusts roots (a development CA) besides the system's
// authorities; nil trusts the system's only.
func NewClientTrusting(roots *x509.CertPool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if roots != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: roots}
	}
	tr.DisableCompression = true
	tr.MaxIdleConnsPerHost = 8
	// The transport's default allows 10 MiB of answer headers for each attempt in flight; a
	// server's answer to a notification needs a few hundred bytes of them.
	tr.MaxResponseHeaderBytes = maxAnswerHeader
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Meta is what the identifying headers say about a request.
type Meta struct {
	Trust   decode.Label // X-S2S-Trust; the capture's own label when empty
	Attempt int          // X-S2S-Attempt, from 1
	Replay  bool
}

// Request builds the HTTP request that carries body to target: a POST, as Apple always sends (a
// capture imported from Apple's history carries the method IMPORT), with the capture's
// Apple-relevant headers, forwarding headers and s2s's identifying headers.
func Request(ctx context.Context, c *store.Capture, body []byte, target string, m Meta) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for _, k := range forwardedHeaders {
		if v := c.Headers.Values(k); len(v) > 0 {
			req.Header[k] = append([]string(nil), v...)
		}
	}
	if req.Header.Get("User-Agent") == "" {
		// An empty value stops Go from announcing itself in place of the original sender.
		req.Header["User-Agent"] = []string{""}
	}
	if xff := forwardedFor(c); xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	proto := c.Headers.Get("X-Forwarded-Proto")
	if proto == "" {
		proto = "http"
	}
	req.Header.Set("X-Forwarded-Proto", proto)
	if h := c.Headers.Get("X-Forwarded-Host"); h != "" {
		req.Header.Set("X-Forwarded-Host", h)
	} else if h := c.Headers.Get("Host"); h != "" {
		req.Header.Set("X-Forwarded-Host", h)
	}
	if c.ID != 0 {
		req.Header.Set(HeaderCaptureID, strconv.FormatInt(c.ID, 10))
	}
	trust := m.Trust
	if trust == "" {
		trust = c.Trust
	}
	if trust != "" {
		req.Header.Set(HeaderTrust, string(trust))
	}
	if m.Attempt > 0 {
		req.Header.Set(HeaderAttempt, strconv.Itoa(m.Attempt))
	}
	if m.Replay {
		req.Header.Set(HeaderReplay, "true")
	}
	req.Header.Set(HeaderHops, strconv.Itoa(Hops(c)+1))
	return req, nil
}

// forwardedFor is the sender as s2s saw it: the client address it recorded (Apple's, behind a
// tunnel) or the TCP peer.
func forwardedFor(c *store.Capture) string {
	if c.SourceIP != "" {
		return c.SourceIP
	}
	if host, _, err := net.SplitHostPort(c.RemoteAddr); err == nil {
		return host
	}
	return c.RemoteAddr
}

// Send makes one attempt to deliver body (the capture's bytes, or a re-signed version) to target.
func (s *Poster) Send(ctx context.Context, c *store.Capture, body []byte, target string, m Meta) Outcome {
	now := s.Now
	if now == nil {
		now = time.Now
	}
	timeout := s.timeout()
	client := s.Client
	if client == nil {
		client = defaultClient
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := now()
	req, err := Request(ctx, c, body, target, m)
	if err != nil {
		return Outcome{Err: err}
	}
	resp, err := client.Do(req)
	if err != nil {
		return Outcome{Err: err, Latency: now().Sub(start)}
	}
	defer resp.Body.Close()
	var answer []byte
	if c != nil && c.Kind == decode.KindRealtimeRequest {
		answer, _ = io.ReadAll(io.LimitReader(resp.Body, decode.MaxRealtimeResponse+1))
	}
	prefix := answer[:min(len(answer), ResponsePrefix)]
	if answer == nil {
		prefix, _ = io.ReadAll(io.LimitReader(resp.Body, ResponsePrefix))
	}
	// Draining a little more lets the connection be reused; a huge answer is cut off.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	r := Outcome{Status: resp.StatusCode, Latency: now().Sub(start), Response: printable(prefix), Answer: answer}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		r.Location = resp.Header.Get("Location")
	}
	return r
}

var defaultClient = NewClient()

func (s *Poster) timeout() time.Duration {
	if s.Timeout <= 0 {
		return DefaultTimeout
	}
	return s.Timeout
}

// printable keeps the answer's text as it came, with invalid UTF-8 replaced so that it stores
// and encodes as a string. It is not terminal-safe: printers pass it through termsafe
// (store.Delivery.Printable), JSON output keeps it exact.
func printable(b []byte) string {
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// Cause explains in one phrase why an attempt failed, in words that say where to look.
func Cause(r Outcome, target string, timeout time.Duration) string {
	if r.Err == nil {
		if r.OK() {
			return ""
		}
		text := http.StatusText(r.Status)
		msg := fmt.Sprintf("%s answered %d", hostOf(target), r.Status)
		if text != "" {
			msg += " " + text
		}
		if r.Location != "" {
			msg += fmt.Sprintf(" (a redirect to %s, which s2s does not follow: point the target at the final URL)", r.Location)
		}
		return msg
	}
	switch {
	case errors.Is(r.Err, context.Canceled):
		// Cancelled on s2s's side (Ctrl-C, shutdown, the sender hung up): not the target's fault.
		return "interrupted before " + hostOf(target) + " answered"
	case r.Refused():
		return "nothing listening on " + dialAddr(r.Err, target)
	case r.TimedOut():
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		return fmt.Sprintf("%s did not answer within %s", hostOf(target), timeout)
	}
	var dnsErr *net.DNSError
	if errors.As(r.Err, &dnsErr) {
		return fmt.Sprintf("cannot resolve %s: %s", dnsErr.Name, dnsErr.Err)
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(r.Err, &certErr) {
		msg := fmt.Sprintf("%s presented a certificate that is not trusted: %v", hostOf(target), certErr.Err)
		var unknown x509.UnknownAuthorityError
		if errors.As(certErr.Err, &unknown) {
			msg += "; for a development CA, trust it with --ca FILE (or " + EnvCAFile + ")"
		}
		return msg
	}
	var recordErr tls.RecordHeaderError
	// net/http reports an HTTP answer to a TLS hello only in words.
	if errors.As(r.Err, &recordErr) || strings.Contains(r.Err.Error(), "server gave HTTP response to HTTPS client") {
		return fmt.Sprintf("%s does not speak TLS; use http:// for it", hostOf(target))
	}
	if errors.Is(r.Err, syscall.ECONNRESET) || errors.Is(r.Err, io.EOF) || errors.Is(r.Err, io.ErrUnexpectedEOF) {
		return fmt.Sprintf("%s closed the connection without answering", hostOf(target))
	}
	var ue *url.Error
	if errors.As(r.Err, &ue) {
		return ue.Err.Error()
	}
	return r.Err.Error()
}

// Explain says in one phrase why a request to target got no answer (err, as http.Client.Do
// returned it): the same words for send-test, replay and forwarding.
func Explain(err error, target string, timeout time.Duration) string {
	return Cause(Outcome{Err: err}, target, timeout)
}

// EnvCAFile names a PEM file of extra certificate authorities that send-test, replay, probe and
// listen's forwarding trust (their --ca), so a local HTTPS server with a development CA works
// without changing the system's trust store.
const EnvCAFile = "S2S_CA_FILE"

// dialAddr is the address the refused dial went to (127.0.0.1:3000 rather than localhost:3000).
func dialAddr(err error, target string) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Addr != nil {
		return op.Addr.String()
	}
	return hostOf(target)
}

func hostOf(target string) string {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return target
	}
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return u.Host + ":443"
	}
	return u.Host + ":80"
}
