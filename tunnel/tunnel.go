// Package tunnel puts a public HTTPS URL in front of the local receiver. Apple only delivers to a
// public HTTPS address, so `s2s listen --tunnel` starts one of these providers after its listener is
// up. Every provider has the same small surface: Start returns once the public URL is known and
// ready (or with a classified *Error), and URL changes and failures after that arrive as Events.
package tunnel

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Target is the local receiver a tunnel points at.
type Target struct {
	// Addr is the local listener (host:port). Providers dial it as an IPv4 literal when it names an
	// unspecified or loopback host, because "localhost" may resolve to ::1 where nothing listens.
	Addr string
	// Handler serves requests in-process; providers that hand out a net.Listener (ngrok) use it
	// instead of Addr.
	Handler http.Handler
}

// Provider starts tunnels of one kind.
type Provider interface {
	Name() string
	// Start returns once the public URL is known and ready, or a *Error. It honours ctx's deadline
	// and applies its own when ctx has none.
	Start(ctx context.Context, t Target) (Tunnel, error)
}

// Tunnel is a running tunnel.
type Tunnel interface {
	// URL is the current public base URL (https://host, no trailing slash).
	URL() string
	// Events reports URL changes, disconnections and recoveries. It is closed when the tunnel ends.
	Events() <-chan Event
	// Done is closed when the tunnel has ended for good; Err then says why (nil after Close).
	Done() <-chan struct{}
	Err() error
	// Close stops the tunnel and waits for it to end.
	Close() error
}

// EventKind names what happened to a running tunnel.
type EventKind string

const (
	EventURL    EventKind = "url"    // the public URL changed (URL holds the new one)
	EventDown   EventKind = "down"   // the path broke; the provider is trying to recover (Err says why)
	EventUp     EventKind = "up"     // the provider recovered with the same URL
	EventFailed EventKind = "failed" // the tunnel ended for good (Err says why)
)

// Event is something that happened to a running tunnel.
type Event struct {
	Kind    EventKind
	Time    time.Time
	URL     string
	Message string
	Err     error
}

// DefaultStartTimeout bounds Start when the caller's context has no deadline.
const DefaultStartTimeout = 45 * time.Second

// withStartDeadline applies d (or DefaultStartTimeout) unless ctx already ends sooner.
func withStartDeadline(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		d = DefaultStartTimeout
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// base carries the bookkeeping every Tunnel implementation shares.
type base struct {
	mu     sync.Mutex
	url    string
	events chan Event
	done   chan struct{}
	err    error
	closed bool
	evDone bool
	logw   io.Writer
}

func newBase(logw io.Writer) *base {
	if logw == nil {
		logw = io.Discard
	}
	return &base{events: make(chan Event, 64), done: make(chan struct{}), logw: logw}
}

func (b *base) URL() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.url
}

func (b *base) Events() <-chan Event  { return b.events }
func (b *base) Done() <-chan struct{} { return b.done }

func (b *base) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// emit never blocks: a consumer that stops reading loses events, the tunnel keeps working.
func (b *base) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.evDone {
		return
	}
	select {
	case b.events <- e:
	default:
	}
}

// setURL records u and reports whether it differs from the previous URL.
func (b *base) setURL(u string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.url == u {
		return false
	}
	b.url = u
	return true
}

// isClosing reports whether Close has been called.
func (b *base) isClosing() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// markClosing records a Close request and reports whether it is the first.
func (b *base) markClosing() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.closed = true
	return true
}

// finish ends the tunnel once: err is published as EventFailed unless the tunnel was closed on
// purpose, then Events and Done are closed.
func (b *base) finish(err error) {
	b.mu.Lock()
	if b.evDone {
		b.mu.Unlock()
		return
	}
	closing := b.closed
	if !closing {
		b.err = err
	}
	b.mu.Unlock()
	if !closing && err != nil {
		b.emit(Event{Kind: EventFailed, URL: b.URL(), Err: err})
	}
	b.mu.Lock()
	b.evDone = true
	close(b.events)
	close(b.done)
	b.mu.Unlock()
}

// dialAddr turns the listener's address into one a provider can dial: an unspecified or missing
// host becomes the loopback literal of the same family, "localhost" becomes 127.0.0.1.
func dialAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", &Error{Class: ClassRejected, Err: err, Hint: "pass the listener's host:port"}
	}
	switch host {
	case "", "0.0.0.0", "localhost":
		host = "127.0.0.1"
	case "::", "[::]":
		host = "::1"
	}
	return net.JoinHostPort(host, port), nil
}
