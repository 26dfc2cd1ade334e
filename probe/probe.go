package probe

import (
	"cmp"
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds one attempt, from the DNS lookup to the last byte of the answer. Apple
// documents no number; its engineers say an answer after tens of seconds is too late and that a
// receiver should answer within a few seconds.
const DefaultTimeout = 5 * time.Second

// maxRedirects is where a chain of redirects counts as continual even without a repeated URL.
const maxRedirects = 10

// Dialer opens TCP connections; *net.Dialer is one. Tests inject their own.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Resolver looks host names up; *net.Resolver is one. Tests inject their own.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options configure one probe.
type Options struct {
	URL string
	// Body is what the probe POSTs, with Content-Type application/json: normally a signed TEST
	// notification, {"signedPayload":"..."}. Nil sends {}.
	Body []byte
	// Timeout bounds each attempt (DefaultTimeout when zero).
	Timeout time.Duration
	// Roots are the trusted roots; nil means the system's. ExtraRoots are added to them (--ca), and
	// a certificate that chains only to one of those is reported with a warning, since Apple trusts
	// public certificate authorities only.
	Roots      *x509.CertPool
	ExtraRoots []*x509.Certificate
	// Retries is how many more attempts follow a transient failure (no answer, network trouble, a
	// time out, a 5xx), waiting RetryDelay, then twice that, and so on (500ms when zero).
	Retries    int
	RetryDelay time.Duration
	// Dialer and Resolver default to the network's.
	Dialer   Dialer
	Resolver Resolver
	// Now is the clock certificates are checked against (time.Now when nil).
	Now       func() time.Time
	UserAgent string
	// Realtime, when set, probes a Get Retention Message endpoint: the POST is timed against its
	// budget and the answer judged as Apple's response body (see Realtime).
	Realtime *Realtime
}

type prober struct {
	o         Options
	roots     *x509.CertPool // what Apple would trust: the system's (or Options.Roots)
	withExtra *x509.CertPool // the same plus --ca
	now       func() time.Time
}

func newProber(o Options) *prober {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = 500 * time.Millisecond
	}
	if o.Dialer == nil {
		o.Dialer = &net.Dialer{}
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.Body == nil {
		o.Body = []byte("{}")
	}
	if o.UserAgent == "" {
		o.UserAgent = "s2s-probe"
	}
	p := &prober{o: o, now: o.Now}
	if p.now == nil {
		p.now = time.Now
	}
	p.roots = o.Roots
	if p.roots == nil {
		if sys, err := x509.SystemCertPool(); err == nil {
			p.roots = sys
		} else {
			p.roots = x509.NewCertPool()
		}
	}
	p.withExtra = p.roots.Clone()
	for _, c := range o.ExtraRoots {
		p.withExtra.AddCert(c)
	}
	return p
}

// Run probes the URL the way Apple delivers a notification and returns the report. It never
// returns nil; a cancelled ctx ends the probe with the verdict OTHER.
func Run(ctx context.Context, o Options) *Report {
	p := newProber(o)
	start := time.Now()
	r := &Report{URL: strings.TrimSpace(o.URL), Started: p.now()}
	u, steps, end := checkURL(o.URL, o.Realtime != nil)
	r.Steps = steps
	if u != nil {
		attemptSteps, out := p.attempts(ctx, u, r)
		r.Steps = append(r.Steps, attemptSteps...)
		r.Realtime = out.realtime
		if end == nil {
			end = out
		} else {
			end = overPlainHTTP(end, out)
		}
	}
	r.Verdict, r.Meaning, r.Reason, r.Fix, r.HTTPStatus = end.verdict, cmp.Or(end.meaning, end.verdict.Meaning()), end.reason, end.fix, end.status
	if o.Realtime != nil && r.Realtime == nil { // no answer to judge: the transport failed first
		r.Realtime = &RealtimeAnswer{Budget: Duration(o.Realtime.Budget)}
	}
	r.Duration = Duration(time.Since(start))
	return r
}

// overPlainHTTP keeps Apple's verdict for a plain-http URL (end) and says what the delivery over
// plain http found (out): whether the server works and only lacks HTTPS, or fails anyway.
func overPlainHTTP(end, out *outcome) *outcome {
	o := *end
	if out.verdict == Success {
		o.reason += fmt.Sprintf(" Over plain http, the server answered %s: it works, and needs HTTPS in front of it.", statusText(out.status))
		return &o
	}
	o.reason += " Over plain http, it fails too: " + out.reason + "."
	if out.fix != "" {
		o.fix = out.fix + " Then: " + end.fix
	}
	return &o
}

// attempts runs the delivery once, and again after transient failures while retries remain.
func (p *prober) attempts(ctx context.Context, u *url.URL, r *Report) ([]Step, *outcome) {
	delay := p.o.RetryDelay
	for i := 0; ; i++ {
		t := time.Now()
		steps, out := p.attempt(ctx, u)
		if ctx.Err() != nil {
			out = &outcome{verdict: Other, reason: "the probe was interrupted"}
		}
		r.Attempts = append(r.Attempts, Attempt{Verdict: out.verdict, Reason: out.reason, HTTPStatus: out.status, Duration: since(t)})
		if i >= p.o.Retries || !retryable(out) || ctx.Err() != nil {
			if i > 0 {
				steps = append(steps, Step{Name: "retries", Title: "Retries", Status: StatusOK,
					Detail: fmt.Sprintf("%d attempts; the last one is shown", i+1)})
				if out.verdict == Success {
					steps[len(steps)-1].Status = StatusWarn
					steps[len(steps)-1].Detail = fmt.Sprintf("succeeded on attempt %d of %d after %s", i+1, i+1, r.Attempts[0].Verdict)
					steps[len(steps)-1].Fix = "Apple retries only in Production and only hours later; make the first attempt succeed."
				}
			}
			return steps, out
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
		case <-timer.C:
		}
		delay = min(2*delay, 8*time.Second)
	}
}

func retryable(o *outcome) bool {
	return transient(o.verdict) || (o.verdict == UnsuccessfulHTTPResponseCode && o.status >= 500)
}

// attempt is one delivery: DNS, TCP, TLS under App Transport Security, the certificate, the POST.
func (p *prober) attempt(parent context.Context, u *url.URL) ([]Step, *outcome) {
	ctx, cancel := context.WithTimeout(parent, p.o.Timeout)
	defer cancel()
	host, port, plain := target(u)

	addrs, steps, out := p.lookup(ctx, host)
	if out != nil {
		return steps, out
	}

	conn, addr, connStep, out := p.connect(ctx, addrs, host, port)
	steps = append(steps, connStep)
	if out != nil {
		return steps, out
	}
	defer conn.Close()
	// Closing the connection is what unblocks reads and writes when the deadline passes or the
	// user interrupts; the error then says which of the two it was.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	var tc net.Conn = conn
	if !plain {
		hc, tlsSteps, out := p.handshake(ctx, conn, host, addr)
		steps = append(steps, tlsSteps...)
		if out != nil {
			return steps, out
		}
		tc = hc
	}

	postSteps, out := p.post(ctx, tc, u)
	return append(steps, postSteps...), out
}

// target is the host and port a delivery to u connects to, and whether it goes without TLS.
func target(u *url.URL) (host, port string, plain bool) {
	host, port = u.Hostname(), u.Port()
	plain = strings.EqualFold(u.Scheme, "http") // Apple's verdict is already known: see checkURL
	if port == "" {
		port = "443"
		if plain {
			port = "80"
		}
	}
	return host, port, plain
}

// lookup resolves host: the DNS step, and a warning when an address is one Apple cannot reach.
func (p *prober) lookup(ctx context.Context, host string) ([]netip.Addr, []Step, *outcome) {
	t := time.Now()
	addrs, err := p.resolve(ctx, host)
	if err != nil {
		out := p.netFailure(ctx, err, "looking up "+host)
		return nil, []Step{failStep("dns", "DNS", since(t), out)}, out
	}
	dnsStep := Step{Name: "dns", Title: "DNS", Status: StatusOK, Duration: since(t), Detail: joinAddrs(addrs)}
	if _, err := netip.ParseAddr(host); err == nil {
		dnsStep.Duration, dnsStep.Detail = 0, dnsStep.Detail+" (an IP address, no lookup)"
	}
	steps := []Step{dnsStep}
	if s, ok := addressWarning(addrs); ok {
		steps = append(steps, s)
	}
	return addrs, steps, nil
}

// connect opens the TCP connection: the connection, the address it reached and its step.
func (p *prober) connect(ctx context.Context, addrs []netip.Addr, host, port string) (net.Conn, string, Step, *outcome) {
	t := time.Now()
	conn, addr, err := p.dial(ctx, addrs, port)
	if err != nil {
		out := p.netFailure(ctx, err, "connecting to "+net.JoinHostPort(host, port))
		return nil, "", failStep("connect", "TCP connect", since(t), out), out
	}
	return conn, addr, Step{Name: "connect", Title: "TCP connect", Status: StatusOK, Duration: since(t), Detail: addr}, nil
}

// post sends the body over tc and judges the answer: the request's step and those after it.
func (p *prober) post(ctx context.Context, tc net.Conn, u *url.URL) ([]Step, *outcome) {
	t := time.Now()
	post, cancelPost := p.realtimeContext(ctx)
	defer cancelPost()
	ans, out := p.exchange(post, tc, u, "POST", p.o.Body)
	if out != nil {
		out = p.realtimeCut(ctx, post, out, time.Since(t))
		return []Step{failStep("request", "POST", since(t), out)}, out
	}
	reqStep := Step{Name: "request", Title: "POST", Status: StatusOK, Duration: Duration(ans.elapsed),
		Detail: fmt.Sprintf("%s sent; answered %s %s after %s (first byte %s), %s body",
			size(len(p.o.Body)), ans.proto, statusText(ans.status), Duration(ans.elapsed), Duration(ans.ttfb), size(len(ans.body)))}
	var after []Step
	if proxy := detectProxy(ans); proxy != "" {
		after = append(after, Step{Name: "proxy", Title: "Proxy", Status: StatusWarn, Detail: proxy,
			Fix: "Make sure the proxy, load balancer or tunnel forwards the POST and its body unchanged to the receiver and never answers in its place."})
	}
	if isRedirect(ans.status) {
		steps, out := p.judgeRedirect(ctx, u, ans, reqStep)
		return append(steps, after...), out
	}
	steps, out := p.judgeDelivery(ans, reqStep)
	return append(steps, after...), out
}

// judgeRedirect follows a redirect answer, which fails the request step whatever it leads to.
func (p *prober) judgeRedirect(ctx context.Context, u *url.URL, ans *answer, reqStep Step) ([]Step, *outcome) {
	redirSteps, out := p.followRedirects(ctx, u, ans)
	reqStep.Status, reqStep.Fix = StatusFail, out.fix
	if p.o.Realtime != nil {
		// Apple uses a real-time answer only with status 200: the redirect is the answer.
		var st Step
		out, st = p.judgeRealtime(ans, out)
		redirSteps = append(redirSteps, st)
	}
	return append([]Step{reqStep}, redirSteps...), out
}

// judgeDelivery judges an answer that is not a redirect: the request step, its charset and,
// for a real-time request, the answer's own judgement after the transport's.
func (p *prober) judgeDelivery(ans *answer, reqStep Step) ([]Step, *outcome) {
	out := judgeAnswer(ans)
	delivered := out.verdict == Success
	var answerStep []Step
	if p.o.Realtime != nil {
		var st Step
		out, st = p.judgeRealtime(ans, out)
		answerStep = []Step{st}
	}
	var steps []Step
	switch {
	case out.verdict == UnsupportedCharset:
		steps = append(steps, reqStep, Step{Name: "charset", Title: "Charset", Status: StatusFail, Detail: out.reason, Fix: out.fix})
	case !delivered:
		reqStep.Status, reqStep.Fix = StatusFail, out.fix
		steps = append(steps, reqStep)
	default:
		steps = append(steps, reqStep)
		if w, ok := charsetWarning(ans); ok {
			steps = append(steps, w)
		}
	}
	return append(steps, answerStep...), out
}

func (p *prober) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	addrs, err := p.o.Resolver.LookupNetIP(ctx, "ip", host)
	if err == nil && len(addrs) == 0 {
		err = &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	return addrs, err
}

// dial tries each address in turn, as a client without Happy Eyeballs would.
func (p *prober) dial(ctx context.Context, addrs []netip.Addr, port string) (net.Conn, string, error) {
	var err error
	for _, a := range addrs {
		addr := net.JoinHostPort(a.String(), port)
		var c net.Conn
		if c, err = p.o.Dialer.DialContext(ctx, "tcp", addr); err == nil {
			return c, addr, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, "", err
}

func failStep(name, title string, d Duration, o *outcome) Step {
	return Step{Name: name, Title: title, Status: StatusFail, Duration: d, Detail: o.reason, Fix: o.fix}
}

func since(t time.Time) Duration { return Duration(time.Since(t)) }

func joinAddrs(addrs []netip.Addr) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// addressWarning flags addresses Apple's servers cannot reach. It is a warning, not a failure, so
// that the probe also serves a developer's local HTTPS receiver.
func addressWarning(addrs []netip.Addr) (Step, bool) {
	var bad []string
	for _, a := range addrs {
		if kind := nonPublic(a); kind != "" {
			bad = append(bad, a.String()+" is "+kind)
		}
	}
	if len(bad) == 0 {
		return Step{}, false
	}
	return Step{Name: "address", Title: "Address", Status: StatusWarn,
		Detail: strings.Join(bad, "; ") + ": Apple cannot reach this address, it must be public",
		Fix:    "For Apple, expose the receiver on a public address, e.g. with `s2s listen --tunnel cloudflared`."}, true
}

var (
	cgnat     = netip.MustParsePrefix("100.64.0.0/10")
	benchmark = netip.MustParsePrefix("198.18.0.0/15")
	thisNet   = netip.MustParsePrefix("0.0.0.0/8")
	docNets   = []netip.Prefix{
		netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32"),
	}
)

func nonPublic(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsLoopback():
		return "a loopback address"
	case a.IsPrivate():
		return "a private address"
	case a.IsLinkLocalUnicast():
		return "a link-local address"
	case a.IsUnspecified() || thisNet.Contains(a):
		return "an unspecified address"
	case cgnat.Contains(a):
		return "a carrier-grade NAT address"
	case a.IsMulticast() || benchmark.Contains(a):
		return "a reserved address"
	}
	for _, n := range docNets {
		if n.Contains(a) {
			return "a documentation address"
		}
	}
	return ""
}
