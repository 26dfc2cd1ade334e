package tunnel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/s2s-dev/s2s/receiver"
)

// NgrokEndpoint is what the ngrok provider needs from an SDK endpoint: a listener that yields the
// public side's connections (TLS already terminated by ngrok) and its URL.
type NgrokEndpoint interface {
	net.Listener
	URL() *url.URL
	Done() <-chan struct{}
}

// NgrokConfig is what the provider passes through the SDK seam.
type NgrokConfig struct {
	Authtoken string
	// URL asks for a specific endpoint URL (the account's dev domain, a reserved domain); empty
	// lets ngrok choose.
	URL string
	// ConnectURL overrides ngrok's server address (host:port); tests point it at loopback.
	ConnectURL string
	// Log receives the SDK's own logging, which must never reach the terminal.
	Log *slog.Logger
	// OnDisconnect is called, without blocking, for every failed or lost session, with the cause.
	OnDisconnect func(error)
	// OnConnect is called, without blocking, for every session established.
	OnConnect func()
}

// NgrokSDK is the seam around golang.ngrok.com/ngrok/v2.
type NgrokSDK interface {
	Listen(ctx context.Context, cfg NgrokConfig) (NgrokEndpoint, error)
	Disconnect() error
}

// Ngrok serves s2s's handler in-process on an ngrok endpoint. It needs a free account's
// authtoken; in exchange the URL is stable (the account's dev domain).
type Ngrok struct {
	Authtoken string
	URL       string
	// SDK is the seam; nil means the real SDK.
	SDK NgrokSDK
	// StartTimeout bounds connecting; zero means 20 s.
	StartTimeout time.Duration
	// ConnectURL overrides ngrok's server address (tests).
	ConnectURL string
	// Log receives the SDK's logging; nil discards it.
	Log io.Writer
}

func (p *Ngrok) Name() string { return "ngrok" }

// ngrokAuthCodes are the service's answers to a missing, malformed, revoked or outdated token.
var ngrokAuthCodes = map[string]bool{
	"ERR_NGROK_4018": true, "ERR_NGROK_105": true, "ERR_NGROK_106": true, "ERR_NGROK_107": true,
	"ERR_NGROK_108": true, "ERR_NGROK_120": true, "ERR_NGROK_123": true,
}

// ngrokCode returns the ERR_NGROK_ code carried by err, or "".
func ngrokCode(err error) string {
	// errors.As walks wrapped and joined errors alike, depth first.
	var coded interface{ Code() string }
	if errors.As(err, &coded) && coded.Code() != "" {
		return coded.Code()
	}
	var errCoded interface{ ErrorCode() string }
	if errors.As(err, &errCoded) && errCoded.ErrorCode() != "" {
		return errCoded.ErrorCode()
	}
	if err != nil {
		// Aggregated dial errors lose their types but keep the code in the text.
		if i := strings.Index(err.Error(), "ERR_NGROK_"); i >= 0 {
			end := i + len("ERR_NGROK_")
			for end < len(err.Error()) && err.Error()[end] >= '0' && err.Error()[end] <= '9' {
				end++
			}
			return err.Error()[i:end]
		}
	}
	return ""
}

// ngrokError classifies an SDK error by its code.
func ngrokError(err error) *Error {
	code := ngrokCode(err)
	switch {
	case ngrokAuthCodes[code]:
		return &Error{Provider: "ngrok", Class: ClassAuth, Err: err,
			Hint: "ngrok refused the authtoken (" + code + "); copy a fresh one from https://dashboard.ngrok.com/get-started/your-authtoken into NGROK_AUTHTOKEN"}
	case code == "ERR_NGROK_334":
		return &Error{Provider: "ngrok", Class: ClassRejected, Err: err,
			Hint: "this URL is already online from another ngrok agent; stop that agent first"}
	case code == "ERR_NGROK_15002" || code == "ERR_NGROK_313" || code == "ERR_NGROK_320":
		return &Error{Provider: "ngrok", Class: ClassRejected, Err: err,
			Hint: "your ngrok plan does not allow this URL; drop the URL to use your dev domain"}
	case code != "":
		return &Error{Provider: "ngrok", Class: ClassRejected, Err: err,
			Hint: "see https://ngrok.com/docs/errors/" + strings.ToLower(strings.ReplaceAll(code, "_", "-"))}
	}
	return nil
}

// Start connects to ngrok and opens the endpoint; auth failures end it at once instead of being
// retried until the deadline (the SDK retries them forever, ngrok-go #176).
func (p *Ngrok) Start(ctx context.Context, t Target) (Tunnel, error) {
	if t.Handler == nil {
		return nil, &Error{Provider: "ngrok", Class: ClassRejected, Err: errors.New("no handler to serve"), Hint: "this is a bug in s2s"}
	}
	if strings.TrimSpace(p.Authtoken) == "" {
		return nil, &Error{Provider: "ngrok", Class: ClassAuth, Err: errors.New("NGROK_AUTHTOKEN is not set"),
			Hint: "sign up at https://dashboard.ngrok.com/signup (free), then export NGROK_AUTHTOKEN=<your token>; or use --tunnel ssh, which needs no account"}
	}
	sdk := p.SDK
	if sdk == nil {
		sdk = &realNgrok{}
	}
	timeout := p.StartTimeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	sctx, cancelTimeout := withStartDeadline(ctx, timeout)
	defer cancelTimeout()
	cctx, cancel := context.WithCancelCause(sctx)
	defer cancel(nil)

	nt := &ngrokTunnel{base: newBase(p.Log), sdk: sdk}
	logw := nt.logw
	cfg := NgrokConfig{
		Authtoken:  p.Authtoken,
		URL:        p.URL,
		ConnectURL: p.ConnectURL,
		Log:        slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelInfo})),
		OnDisconnect: func(err error) {
			fmt.Fprintf(logw, "tunnel ngrok: session lost: %v\n", err)
			if !nt.isReady() {
				if e := ngrokError(err); e != nil && e.Class == ClassAuth {
					cancel(e)
				}
				return
			}
			nt.setDown(true)
			nt.emit(Event{Kind: EventDown, URL: nt.URL(), Err: fmt.Errorf("ngrok session lost, reconnecting: %w", err)})
		},
		OnConnect: func() {
			if nt.isReady() && nt.setDown(false) {
				nt.emit(Event{Kind: EventUp, URL: nt.URL()})
			}
		},
	}
	ep, err := sdk.Listen(cctx, cfg)
	if err != nil {
		var te *Error
		if errors.As(context.Cause(cctx), &te) {
			return nil, te
		}
		if e := ngrokError(err); e != nil {
			return nil, e
		}
		if sctx.Err() == context.DeadlineExceeded {
			return nil, &Error{Provider: "ngrok", Class: ClassTimeout, Err: err,
				Hint: "ngrok did not connect in time; check your network or proxy (HTTPS_PROXY), or use --tunnel ssh"}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, classify("ngrok", err)
	}
	u := ep.URL()
	if u == nil {
		ep.Close()
		_ = sdk.Disconnect() // closing anyway
		return nil, &Error{Provider: "ngrok", Class: ClassRejected, Err: errors.New("the endpoint has no URL"), Hint: "try again"}
	}
	nt.setURL(strings.TrimSuffix(u.String(), "/"))
	nt.ep = ep
	// The same bounds as the local socket's: this endpoint faces the internet too.
	nt.srv = receiver.NewServer(t.Handler, slog.NewLogLogger(cfg.Log.Handler(), slog.LevelWarn))
	nt.markReady()
	go func() { _ = nt.srv.Serve(receiver.Limit(ep, receiver.MaxConns)) }() // ends with an error when the tunnel closes
	go nt.watch()
	return nt, nil
}

type ngrokTunnel struct {
	*base
	sdk NgrokSDK
	ep  NgrokEndpoint
	srv *http.Server

	smu   sync.Mutex
	ready bool
	down  bool
}

func (t *ngrokTunnel) isReady() bool {
	t.smu.Lock()
	defer t.smu.Unlock()
	return t.ready
}

func (t *ngrokTunnel) markReady() {
	t.smu.Lock()
	t.ready = true
	t.smu.Unlock()
}

// setDown records the session state and reports whether it changed.
func (t *ngrokTunnel) setDown(down bool) bool {
	t.smu.Lock()
	defer t.smu.Unlock()
	changed := t.down != down
	t.down = down
	return changed
}

func (t *ngrokTunnel) watch() {
	<-t.ep.Done()
	if t.isClosing() {
		t.finish(nil)
		return
	}
	t.srv.Close()
	_ = t.sdk.Disconnect() // closing anyway
	t.finish(&Error{Provider: "ngrok", Class: ClassRejected, Err: errors.New("ngrok closed the endpoint"),
		Hint: "the endpoint may have been stopped from the ngrok dashboard; restart s2s listen"})
}

func (t *ngrokTunnel) Close() error {
	if t.markClosing() {
		t.srv.Close()
		t.ep.Close()
		_ = t.sdk.Disconnect() // closing anyway
		// Endpoints close their Done channel asynchronously; do not wait on the SDK.
		t.finish(nil)
	}
	<-t.done
	return nil
}
