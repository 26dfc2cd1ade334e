// Package receiver is the HTTP handler of `s2s listen`: it reads a notification within limits,
// verifies and decodes it, stores it durably with its trust label, and only then answers and
// publishes an event. It knows nothing of
// the terminal; the TUI, the line printer and the JSON printer consume its events.
package receiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/store"
)

// DefaultMaxBody is generous: real signedPayloads are 5–19 KB and Apple publishes no maximum.
const DefaultMaxBody = 1 << 20

// Capturer is the part of the store the receiver writes to.
type Capturer interface {
	// Insert sets c.ID and c.BodySize, as *store.Store does; the receiver leaves BodySize to it.
	Insert(ctx context.Context, c *store.Capture) error
	SetResponse(ctx context.Context, id int64, status int, latency time.Duration) error
}

// Respond says what the receiver answers after a durable capture.
type Respond struct {
	Passthrough bool // answer with the first forward target's status
	Code        int  // fixed status; 0 means 200
}

// ParseRespond reads --respond: auto, passthrough, or a status code 100–599.
func ParseRespond(s string) (Respond, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return Respond{}, nil
	case "passthrough":
		return Respond{Passthrough: true}, nil
	}
	code, err := strconv.Atoi(s)
	if err != nil || code < 100 || code > 599 {
		return Respond{}, fmt.Errorf("--respond must be auto, passthrough or an HTTP status code (100-599), not %q", s)
	}
	return Respond{Code: code}, nil
}

// Options configure a Handler.
type Options struct {
	Store     Capturer
	Verifier  *decode.Verifier
	Bus       *events.Bus
	Forwarder Forwarder // nil: no forwarding
	Respond   Respond
	MaxBody   int64 // 0: DefaultMaxBody
	// BodyBudget bounds the bytes of all request bodies being read and stored at once; 0:
	// DefaultBodyBudget (and never less than a few bodies of MaxBody). When it is used up, the
	// client holding the most gives way (see bodyBudget).
	BodyBudget int64
	// BehindTunnel trusts the tunnel's client-address header for requests arriving from loopback
	// (where the tunnel's connector runs); without a tunnel such headers are client-supplied and
	// ignored.
	BehindTunnel bool
	// BehindCloudflare says the tunnel is Cloudflare's (cloudflared), whose edge sets
	// Cf-Connecting-Ip to the client's address. Any other tunnel passes a client's own
	// Cf-Connecting-Ip through as sent, so it is read only then.
	BehindCloudflare bool
	Now              func() time.Time
	Log              *slog.Logger
	// Realtime configures the answers to Retention Messaging real-time requests.
	Realtime Realtime
	// HubOutbox puts every capture in the hub's outbox in the transaction that stores it (s2s hub).
	HubOutbox bool
}

// Handler is the receiver's http.Handler.
type Handler struct {
	o       Options
	budget  *bodyBudget
	pending sync.WaitGroup // answers being recorded after they were sent

	busyMu     sync.Mutex
	busyLogged time.Time // when a refusal for want of memory was last logged
	busyQuiet  int       // refusals since, not logged
}

// New returns a receiver handler.
func New(o Options) *Handler {
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Bus == nil {
		o.Bus = events.NewBus()
	}
	if o.BodyBudget <= 0 {
		o.BodyBudget = DefaultBodyBudget
	}
	// A body of MaxBody is read in chunks and copied once at the end: the budget must hold it
	// twice, and leave room for others.
	o.BodyBudget = max(o.BodyBudget, 4*(o.MaxBody+bodyChunk))
	return &Handler{o: o, budget: newBodyBudget(o.BodyBudget)}
}

// busy answers a request whose body found no room in the budget: 503, so the sender retries
// (Apple does), and the connection is closed. Logged at most once a second, with a count, since
// a flood of them is the very case.
func (h *Handler) busy(w http.ResponseWriter, r *http.Request, why error) {
	h.busyMu.Lock()
	now := time.Now()
	quiet := now.Sub(h.busyLogged) < time.Second
	if quiet {
		h.busyQuiet++
	} else {
		h.busyLogged = now
	}
	n := h.busyQuiet
	if !quiet {
		h.busyQuiet = 0
	}
	h.busyMu.Unlock()
	if !quiet {
		h.o.Log.Warn("request body not read: too many bodies in flight; answered 503 so the sender retries",
			"reason", why.Error(), "budget", h.o.BodyBudget, "remote", r.RemoteAddr, "more since last report", n)
	}
	w.Header().Set("Connection", "close")
	w.Header().Set("Retry-After", "1")
	http.Error(w, "s2s is receiving too many request bodies at once: "+why.Error()+"; try again", http.StatusServiceUnavailable)
}

const getText = "s2s is listening. Point App Store Server Notifications here: Apple POSTs each notification to this URL.\n"

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		h.receive(w, r)
	case http.MethodGet, http.MethodHead:
		// URL checks (App Store Connect, probes, health checks) must pass.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = io.WriteString(w, getText)
		}
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (h *Handler) receive(w http.ResponseWriter, r *http.Request) {
	start := h.o.Now()
	body, read, err := h.readBody(w, r)
	if read != nil {
		// The body's bytes count against the budget until the capture is stored and answered.
		defer read.done()
	}
	if err != nil {
		h.refuseBody(w, r, err)
		return
	}
	c := h.newCapture(r, body, start)

	// Promise 1: nothing is answered 2xx before it is durably stored.
	if err := h.o.Store.Insert(context.WithoutCancel(r.Context()), c); err != nil {
		h.o.Log.Error("could not store notification; answering 500 so Apple retries", "error", err)
		h.o.Bus.Publish(events.Event{Kind: events.Error, Err: "could not store a notification (answered 500 so Apple retries): " + err.Error()})
		http.Error(w, "could not store the notification", http.StatusInternalServerError)
		return
	}
	c.Latency = h.o.Now().Sub(start)

	if c.Kind == decode.KindRealtimeRequest {
		h.finishRealtime(w, r, c, start)
		return
	}
	h.finishNotification(w, r, c, start)
}

// refuseBody answers a request whose body could not be read whole (err from readBody): 413 over
// the limit, 503 when there is no room for it, nothing to a client that went away.
func (h *Handler) refuseBody(w http.ResponseWriter, r *http.Request, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		h.o.Log.Warn("body over the limit; not stored", "limit", h.o.MaxBody, "remote", r.RemoteAddr)
		http.Error(w, fmt.Sprintf("body larger than %d bytes", h.o.MaxBody), http.StatusRequestEntityTooLarge)
		return
	}
	if errors.Is(err, errBudget) || errors.Is(err, errShed) {
		h.busy(w, r, err)
		return
	}
	// The client went away or stalled mid-body: nothing complete to store, and nobody to answer.
	h.o.Log.Warn("incomplete request body; not stored", "error", err, "remote", r.RemoteAddr)
}

// newCapture is the capture of a POST whose body was read whole at start: the request as it
// came, its verdict, and the answer it will get unless it is passed through.
func (h *Handler) newCapture(r *http.Request, body []byte, start time.Time) *store.Capture {
	c := &store.Capture{
		ReceivedAt: start,
		Method:     r.Method,
		Path:       r.URL.EscapedPath(),
		Query:      r.URL.RawQuery,
		Headers:    r.Header.Clone(),
		RemoteAddr: r.RemoteAddr,
		Body:       body,
	}
	if r.Host != "" && c.Headers != nil {
		// net/http moves Host out of the header map; it was sent, and forwarding names it.
		c.Headers.Set("Host", r.Host)
	}
	c.SourceIP = h.sourceIP(r)
	c.AppleRange = AppleRange(c.SourceIP)
	c.HubPending = h.o.HubOutbox

	// One URL takes notifications and real-time requests alike: the payload says which it is.
	d := h.o.Verifier.DecodeEndpointBody(body)
	c.SetSummary(d.Summary())
	if cl := d.Verification.Class; cl == decode.ClassIdentity || cl == decode.ClassEnvironment {
		c.IdentityMismatch = d.Verification.Message
	}
	if !h.o.Respond.Passthrough {
		c.ResponseStatus = h.o.Respond.Code
		if c.ResponseStatus == 0 {
			c.ResponseStatus = http.StatusOK
		}
	}
	return c
}

// finishNotification answers a stored notification (or passes it through to the forward target),
// publishes it and records the answer.
func (h *Handler) finishNotification(w http.ResponseWriter, r *http.Request, c *store.Capture, start time.Time) {
	switch {
	case h.o.Respond.Passthrough && h.o.Forwarder != nil:
		c.ResponseStatus = h.o.Forwarder.Passthrough(r.Context(), c)
	case h.o.Respond.Passthrough:
		c.ResponseStatus = http.StatusOK
	case h.o.Forwarder != nil:
		h.o.Forwarder.Enqueue(c)
	}
	w.Header().Set("X-S2S-Capture-Id", strconv.FormatInt(c.ID, 10))
	w.WriteHeader(c.ResponseStatus)
	c.Latency = h.o.Now().Sub(start)
	// Subscribers show the capture, never its body: an event waiting in a slow subscriber's buffer
	// must not hold the body's memory after the budget has let it go.
	shown := *c
	shown.Body = nil
	h.o.Bus.Publish(events.Event{Kind: events.Notification, Time: start, Capture: &shown})

	// The answer and its latency are bookkeeping, recorded after the answer is on its way so the
	// sender never waits for a second commit; a failure here loses nothing of the capture.
	h.pending.Add(1)
	go func(id int64, status int, latency time.Duration) {
		defer h.pending.Done()
		if err := h.o.Store.SetResponse(context.Background(), id, status, latency); err != nil {
			h.o.Log.Warn("could not record the answer", "capture", id, "error", err)
		}
	}(c.ID, c.ResponseStatus, c.Latency)
}

// finishRealtime answers a stored real-time request, publishes it with its answer's problems and
// records the answer.
func (h *Handler) finishRealtime(w http.ResponseWriter, r *http.Request, c *store.Capture, start time.Time) {
	status, answer, problems := h.answerRealtime(r.Context(), w, c, start)
	c.ResponseStatus, c.Latency, c.AnswerProblems = status, h.o.Now().Sub(start), problems
	shown := *c
	shown.Body = nil
	h.o.Bus.Publish(events.Event{Kind: events.Notification, Time: start, Capture: &shown})
	answer = append([]byte(nil), answer...)
	h.pending.Add(1)
	go func(id int64, status int, latency time.Duration) {
		defer h.pending.Done()
		if err := h.o.Store.SetResponse(context.Background(), id, status, latency); err != nil {
			h.o.Log.Warn("could not record the answer", "capture", id, "error", err)
		}
		if ar, ok := h.o.Store.(AnswerRecorder); ok {
			if err := ar.SetAnswer(context.Background(), id, answer, problems); err != nil {
				h.o.Log.Warn("could not record the answer", "capture", id, "error", err)
			}
		}
	}(c.ID, c.ResponseStatus, c.Latency)
}

// Accept takes a capture that arrived from a hub rather than over HTTP (c.HubOrigin set, its
// summary empty) with d, this handler's own verdict on its raw body (Verify), whatever the hub
// said of it; a verdict on other bytes, or none, is replaced by verifying the body here. It stores
// the capture, then forwards and shows it as a POST would be. It returns once the capture is
// durably stored; a redelivery of a capture already stored (c.HubRedelivery) is neither forwarded
// nor shown again.
func (h *Handler) Accept(ctx context.Context, c *store.Capture, d *decode.Decoded) error {
	if d == nil || !bytes.Equal(d.Raw, c.Body) {
		d = h.Verify(c.Body)
	}
	c.SetSummary(d.Summary())
	c.IdentityMismatch = ""
	if cl := d.Verification.Class; cl == decode.ClassIdentity || cl == decode.ClassEnvironment {
		c.IdentityMismatch = d.Verification.Message
	}
	c.HubPending = h.o.HubOutbox
	if err := h.o.Store.Insert(context.WithoutCancel(ctx), c); err != nil {
		h.o.Bus.Publish(events.Event{Kind: events.Error, Err: "could not store a notification from the hub (it stays in the hub and is delivered again): " + err.Error()})
		return err
	}
	if c.HubRedelivery {
		return nil
	}
	if h.o.Forwarder != nil {
		h.o.Forwarder.Enqueue(c)
	}
	shown := *c
	shown.Body = nil
	h.o.Bus.Publish(events.Event{Kind: events.Notification, Time: c.ReceivedAt, Capture: &shown})
	return nil
}

// Verify is this handler's verdict on body, as a POST of it would get: a hub consumer filters
// and labels on it, never on the hub's word.
func (h *Handler) Verify(body []byte) *decode.Decoded {
	return h.o.Verifier.DecodeEndpointBody(body)
}

// Wait blocks until every answer sent so far is recorded; call it after the server has shut
// down and before the store is closed.
func (h *Handler) Wait() { h.pending.Wait() }

// sourceIP is the client's address: the TCP peer, or behind a tunnel the address the tunnel
// reports. Only the rightmost X-Forwarded-For entry is the tunnel's own; entries to its left were
// written by the client and prove nothing.
func (h *Handler) sourceIP(r *http.Request) string {
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	if !h.o.BehindTunnel {
		return peer
	}
	if ip, err := netip.ParseAddr(peer); err != nil || !ip.IsLoopback() {
		return peer
	}
	if h.o.BehindCloudflare {
		if v := strings.TrimSpace(r.Header.Get("Cf-Connecting-Ip")); v != "" {
			return addrOr(v, peer)
		}
	}
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		parts := strings.Split(xff[len(xff)-1], ",")
		if v := strings.TrimSpace(parts[len(parts)-1]); v != "" {
			return addrOr(v, peer)
		}
	}
	return peer
}

// addrOr is v when it is an IP address, else peer: a tunnel writes an address, so anything else
// came from the client.
func addrOr(v, peer string) string {
	if _, err := netip.ParseAddr(v); err != nil {
		return peer
	}
	return v
}

// Apple's notification senders. RevenueCat documents the two /18 ranges (Apple's own pages list
// none for this service); every Apple address is inside 17.0.0.0/8.
var appleRanges = []netip.Prefix{
	netip.MustParsePrefix("17.58.0.0/18"),
	netip.MustParsePrefix("17.58.192.0/18"),
	netip.MustParsePrefix("17.0.0.0/8"),
}

// AppleRange returns the Apple range ip falls in, or "" when it is outside them all.
func AppleRange(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	a = a.Unmap()
	for _, p := range appleRanges {
		if p.Contains(a) {
			return p.String()
		}
	}
	return ""
}
