package probe

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/s2s-dev/s2s/appstore"
)

// maxAnswerBody is how much of an answer's body the probe reads; receivers answer with little or
// nothing, and reading the body is what reveals a connection closed in its middle.
const maxAnswerBody = 1 << 20

// answer is a complete HTTP answer.
type answer struct {
	proto   string
	status  int
	header  http.Header
	body    []byte
	ttfb    time.Duration // from the end of the request to the first byte of the answer
	elapsed time.Duration // from the first byte of the request to the last of the answer
}

// exchange writes one request on conn and reads the whole answer, mapping each way it can break to
// the sendAttemptResult Apple would record.
func (p *prober) exchange(ctx context.Context, conn net.Conn, u *url.URL, method string, body []byte) (*answer, *outcome) {
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl) // a conn that refuses deadlines still ends with ctx, through the dialer
	}
	var rb io.Reader
	if body != nil {
		rb = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rb)
	if err != nil {
		return nil, &outcome{verdict: Other, reason: "the request cannot be built: " + err.Error()}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", p.o.UserAgent)
	req.Header.Set("X-S2S-Probe", "1")
	req.Close = true

	start := time.Now()
	werr := req.Write(conn)
	sent := time.Now()
	br := bufio.NewReader(conn)
	// A server may answer (413, say) and close before reading the whole body, so an answer is
	// looked for even after a failed write.
	first, perr := br.Peek(len("HTTP/"))
	switch {
	case len(first) > 0 && !bytes.HasPrefix([]byte("HTTP/"), first):
		more, _ := br.Peek(min(br.Buffered(), 40))
		return nil, &outcome{verdict: NoResponse, reason: fmt.Sprintf("the server answered with bytes that are not HTTP: %q", more),
			fix: "Make sure the URL reaches an HTTP server, not another protocol behind the TLS port."}
	case perr != nil && werr != nil && !isTimeout(ctx, werr) && !errors.Is(werr, syscall.ECONNRESET):
		return nil, &outcome{verdict: PrematureClose, reason: "the connection closed while the notification was being sent (" + werr.Error() + ")",
			fix: "Let the receiver read the whole request body (real notifications reach about 20 KB) before it answers."}
	case perr != nil:
		if werr != nil {
			perr = werr
		}
		return nil, p.readFailure(ctx, perr, len(first) == 0, "waiting for the answer")
	}

	resp, err := http.ReadResponse(br, req)
	for err == nil && resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
		resp, err = http.ReadResponse(br, req)
	}
	if err != nil {
		return nil, p.readFailure(ctx, err, false, "reading the status line and headers")
	}
	ans := &answer{proto: resp.Proto, status: resp.StatusCode, header: resp.Header, ttfb: time.Since(sent)}
	ans.body, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswerBody))
	ans.elapsed = time.Since(start)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			reason := "the connection closed in the middle of the answer's body"
			if resp.ContentLength > 0 {
				reason = fmt.Sprintf("the connection closed after %d of the %d body bytes the answer announced", len(ans.body), resp.ContentLength)
			}
			return nil, &outcome{verdict: PrematureClose, status: ans.status, reason: reason,
				fix: "Send the whole answer before closing; an empty 200 is all Apple needs."}
		}
		return nil, p.readFailure(ctx, err, false, "reading the answer's body")
	}
	return ans, nil
}

// readFailure maps an error met while reading an answer. nothing says no byte had arrived yet.
func (p *prober) readFailure(ctx context.Context, err error, nothing bool, doing string) *outcome {
	switch {
	case isTimeout(ctx, err):
		return &outcome{verdict: TimedOut, reason: fmt.Sprintf("no complete answer within %s (%s)", p.o.Timeout, doing),
			fix: "Answer within a few seconds: store the notification, answer 200, and process it afterwards."}
	case errors.Is(err, syscall.ECONNRESET):
		return &outcome{verdict: SocketIssue, reason: "the server reset the connection (" + doing + ")",
			fix: "Look in the receiver's (or its proxy's) logs for a crash or a refused request; it must answer every POST."}
	case isTLSAlert(err):
		return &outcome{verdict: TLSIssue, reason: "the server ended the TLS session with an alert: " + err.Error(),
			fix: "Do not require client certificates (mutual TLS) on the notification URL; Apple presents none."}
	case errors.Is(err, io.EOF) && nothing:
		return &outcome{verdict: PrematureClose, reason: "the server closed the connection without answering",
			fix: "Make the receiver answer every POST with a status (200 once the notification is stored); look in its logs for a crash or a size limit."}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &outcome{verdict: PrematureClose, reason: "the connection closed in the middle of the answer (" + doing + ")",
			fix: "Send the whole answer before closing the connection."}
	}
	return &outcome{verdict: InvalidResponse, reason: "the answer is not valid HTTP: " + err.Error(),
		fix: "Answer with a well-formed HTTP/1.1 response, e.g. \"HTTP/1.1 200 OK\" and an empty body."}
}

// netFailure maps an error of the lookup or the connection.
func (p *prober) netFailure(ctx context.Context, err error, doing string) *outcome {
	if isTimeout(ctx, err) {
		return &outcome{verdict: TimedOut, reason: fmt.Sprintf("%s: nothing within %s", doing, p.o.Timeout),
			fix: "A firewall may be dropping the packets, or the host is down; allow inbound HTTPS from Apple (17.0.0.0/8)."}
	}
	out := &outcome{verdict: SocketIssue}
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		out.reason = doing + ": no such host"
		out.fix = "Check the host name for typos, and that its public DNS record (A or AAAA) exists."
	case errors.As(err, &dnsErr):
		out.reason = doing + ": the DNS lookup failed (" + dnsErr.Err + ")"
		out.fix = "Check the domain's DNS servers: the name must resolve from the public internet."
	case errors.Is(err, syscall.ECONNREFUSED):
		out.reason = doing + ": connection refused, nothing listens on that port"
		out.fix = "Start the receiver, or point the port (firewall, port forwarding, proxy) at it."
	case errors.Is(err, syscall.ECONNRESET):
		out.reason = doing + ": the connection was reset"
		out.fix = "Something between Apple and the receiver drops the connection; check firewalls and proxies."
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		out.reason = doing + ": the host is unreachable"
		out.fix = "The host must be reachable from the internet; check its routing and firewall."
	default:
		out.reason = doing + ": " + err.Error()
		out.fix = "The host must be reachable from the internet on this port."
	}
	return out
}

// isTLSAlert recognises an alert the server sent, which crypto/tls reports as a "remote error".
func isTLSAlert(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}

func isTimeout(ctx context.Context, err error) bool {
	// A context that ran out may leave an error that says nothing of time (a closed connection, say).
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// judgeAnswer maps a complete answer that is not a redirect.
func judgeAnswer(a *answer) *outcome {
	if appstore.Accepted(a.status) {
		if cs, class := answerCharset(a.header); class == charsetUnknown {
			return &outcome{verdict: UnsupportedCharset, status: a.status,
				reason: fmt.Sprintf("the answer declares charset=%s, which Apple's sender does not know", cs),
				fix:    "Answer with an empty body, or declare charset=utf-8 (or no charset) in Content-Type."}
		}
		return &outcome{verdict: Success, status: a.status, reason: fmt.Sprintf("answered %s in %s", statusText(a.status), Duration(a.elapsed))}
	}
	return &outcome{verdict: UnsuccessfulHTTPResponseCode, status: a.status,
		reason: "the server answered " + statusText(a.status), fix: statusFix(a.status)}
}

func statusFix(code int) string {
	const signedLocally = "The probe's TEST notification is signed by s2s's local test chain, not by Apple: a receiver that verifies signatures rightly refuses it, and Apple's own notifications may still pass (try --via-apple). Otherwise read the receiver's logs for why it refused the request."
	switch {
	case code == 400 || code == 422:
		return signedLocally
	case code == 401 || code == 403:
		return "Apple sends no credentials; do not require authentication, and if you filter by source address allow Apple's 17.0.0.0/8. " + signedLocally
	case code == 404:
		return "Nothing answers on this path: check the path and any key or token segment of the URL against what the receiver (or service) expects."
	case code == 405:
		return "The path does not accept POST; Apple POSTs, so route POST requests to the receiver."
	case code == 408:
		return "Something between Apple and the receiver gave up waiting for the request; check proxy time-outs."
	case code == 411 || code == 413:
		return "The request was refused for its size; accept JSON bodies of at least 1 MiB (real notifications reach about 20 KB)."
	case code == 415:
		return "Accept Content-Type: application/json."
	case code == 429:
		return "Do not rate-limit Apple's deliveries."
	case code == 502 || code == 503 || code == 504 || (code >= 520 && code <= 530):
		return "A proxy, load balancer or tunnel could not get an answer from the receiver: check that the receiver runs and that the proxy points at it."
	case code >= 500:
		return "The receiver failed: read its logs. Answer 5xx only when a notification cannot be stored, so that Apple retries (in Production)."
	case code >= 300 && code < 400:
		return "Do not redirect: answer 200 at the configured URL."
	}
	return "Answer with a status from 200 to 206 (200 once the notification is stored)."
}

func isRedirect(code int) bool {
	switch code {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// followRedirects follows a redirect only to see where it leads. Apple's sendAttemptResult has a
// CIRCULAR_REDIRECT value, so its sender follows redirects at least some of the time; how far, and
// whether it keeps the POST, is not documented. The probe therefore reports a loop (a URL seen
// twice, or more than maxRedirects hops) as CIRCULAR_REDIRECT, and any other redirect as
// UNSUCCESSFUL_HTTP_RESPONSE_CODE with the redirect's status, naming the final URL to configure.
func (p *prober) followRedirects(ctx context.Context, start *url.URL, first *answer) ([]Step, *outcome) {
	status := first.status
	out := &outcome{verdict: UnsuccessfulHTTPResponseCode, status: status}
	chain := []string{start.String()}
	seen := map[string]bool{redirectKey(start): true}
	cur, ans, method := start, first, "POST"
	step := func() []Step {
		return []Step{{Name: "redirect", Title: "Redirect", Status: StatusFail, Detail: out.reason, Fix: out.fix}}
	}
	for hop := 1; ; hop++ {
		loc := ans.header.Get("Location")
		if loc == "" {
			out.reason = fmt.Sprintf("the server answered %s without a Location", statusText(status))
			if hop > 1 {
				out.reason = fmt.Sprintf("the server redirects (%s) along %s, which ends in %s without a Location", statusText(status), strings.Join(chain, " → "), statusText(ans.status))
			}
			out.fix = "Answer 200 at the configured URL; Apple does not reliably follow redirects."
			return step(), out
		}
		next, err := cur.Parse(loc)
		if err != nil {
			out.reason = fmt.Sprintf("the server redirects (%s) to %q, which is not a URL", statusText(ans.status), loc)
			out.fix = "Answer 200 at the configured URL; Apple does not reliably follow redirects."
			return step(), out
		}
		chain = append(chain, next.String())
		if seen[redirectKey(next)] || hop > maxRedirects {
			out.verdict = CircularRedirect
			out.reason = "the redirects loop: " + strings.Join(chain, " → ")
			if !seen[redirectKey(next)] {
				out.reason = fmt.Sprintf("more than %d redirects: %s …", maxRedirects, strings.Join(chain[:4], " → "))
			}
			out.fix = "Remove the redirect loop, and configure the final URL in App Store Connect so that no redirect is needed."
			return step(), out
		}
		seen[redirectKey(next)] = true
		if ans.status != 307 && ans.status != 308 {
			method = "GET" // as every HTTP client does for 301, 302 and 303
		}
		nextAns, failed := p.fetch(ctx, next, method)
		if failed != nil {
			out.reason = fmt.Sprintf("the server redirects (%s) to %s, which fails: %s", statusText(status), strings.Join(chain[1:], " → "), failed.reason)
			out.fix = "Configure a URL that answers 200 itself; Apple does not reliably follow redirects."
			return step(), out
		}
		if !isRedirect(nextAns.status) {
			out.reason = fmt.Sprintf("the server redirects (%s) to %s, which answers %s", statusText(status), strings.Join(chain[1:], " → "), statusText(nextAns.status))
			out.fix = fmt.Sprintf("Configure %s in App Store Connect: Apple does not reliably follow redirects and records the redirect itself as an unsuccessful answer.", next)
			return step(), out
		}
		cur, ans = next, nextAns
	}
}

func redirectKey(u *url.URL) string {
	return strings.ToLower(u.Scheme+"://"+u.Host) + u.RequestURI()
}

// fetch makes one request to a redirect's target: the same network path and ATS settings, with
// Go's certificate verification standing in for the step-by-step checks.
func (p *prober) fetch(ctx context.Context, u *url.URL, method string) (*answer, *outcome) {
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if port == "" {
		return nil, &outcome{verdict: Other, reason: "the scheme " + u.Scheme + " cannot be followed"}
	}
	addrs, err := p.resolve(ctx, host)
	if err != nil {
		return nil, p.netFailure(ctx, err, "looking up "+host)
	}
	conn, _, err := p.dial(ctx, addrs, port)
	if err != nil {
		return nil, p.netFailure(ctx, err, "connecting to "+net.JoinHostPort(host, port))
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	var c net.Conn = conn
	if u.Scheme == "https" {
		cfg := atsConfig(host)
		cfg.InsecureSkipVerify, cfg.RootCAs = false, p.withExtra
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			if isTimeout(ctx, err) {
				return nil, &outcome{verdict: TimedOut, reason: "the TLS handshake timed out"}
			}
			return nil, &outcome{verdict: TLSIssue, reason: "TLS: " + err.Error()}
		}
		c = tc
	}
	var body []byte
	if method == "POST" {
		body = p.o.Body
	}
	return p.exchange(ctx, c, u, method, body)
}

var titleRE = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

// detectProxy recognises an answer that comes from, or passed through, something other than the
// receiver: a proxy, a CDN, a load balancer or a tunnel.
func detectProxy(a *answer) string {
	h := a.header
	var signs []string
	if v := h.Get("Via"); v != "" {
		signs = append(signs, "Via: "+v)
	}
	if v := h.Get("Ngrok-Error-Code"); v != "" {
		signs = append(signs, "ngrok error "+v+" (the tunnel could not reach the receiver)")
	}
	if v := h.Get("X-Squid-Error"); v != "" {
		signs = append(signs, "Squid error "+v)
	}
	if h.Get("Cf-Ray") != "" && a.status >= 500 {
		signs = append(signs, "Cloudflare answered "+statusText(a.status))
	}
	if v := h.Get("X-Cache"); v != "" {
		signs = append(signs, "X-Cache: "+v)
	}
	if v := h.Get("X-Amzn-Errortype"); v != "" {
		signs = append(signs, "AWS error "+v)
	}
	if a.status >= 300 && isHTML(a) {
		page := "an HTML page"
		if m := titleRE.FindSubmatch(a.body); m != nil {
			page += fmt.Sprintf(" titled %q", strings.Join(strings.Fields(string(m[1])), " "))
		}
		if srv := h.Get("Server"); srv != "" {
			page += " from " + srv
		}
		signs = append(signs, "the answer is "+page+", typical of a proxy, load balancer or tunnel answering instead of the receiver")
	}
	if len(signs) == 0 {
		return ""
	}
	return "a proxy stands between Apple and the receiver: " + strings.Join(signs, "; ")
}

func isHTML(a *answer) bool {
	if strings.HasPrefix(strings.ToLower(a.header.Get("Content-Type")), "text/html") {
		return true
	}
	b := strings.ToLower(strings.TrimSpace(string(a.body[:min(len(a.body), 64)])))
	return strings.HasPrefix(b, "<!doctype html") || strings.HasPrefix(b, "<html")
}

func statusText(code int) string {
	return strings.TrimSpace(fmt.Sprintf("%d %s", code, http.StatusText(code)))
}

func size(n int) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f KB", float64(n)/1024)
}
