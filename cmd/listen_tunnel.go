package cmd

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/internal/paths"
	"github.com/s2s-dev/s2s/probe"
	"github.com/s2s-dev/s2s/tunnel"
)

// publicTunnel is a running tunnel as listen sees it.
type publicTunnel interface {
	PublicURL() string
	// Watch starts publishing the tunnel's events and self-probe verdicts; listen calls it once
	// its ready event is out, so no verdict arrives before the URL it is about.
	Watch()
	Close() error
}

// tunnelSeams are what tests replace: the provider for a spec and the self-check.
type tunnelSeams struct {
	provider func(spec tunnel.Spec, o tunnel.Options) tunnel.Provider
	check    func(f *Factory) tunnel.CheckFunc
	watch    tunnel.WatchOptions // Interval, Timeout, Settle
}

var defaultTunnelSeams = tunnelSeams{provider: tunnel.New, check: selfCheck}

// startTunnel starts the provider named by spec ("none" or "" → nil, nil) in front of the local
// listener at localAddr (host:port) serving handler, and returns once the public URL is known and
// ready. URL changes, failures and the periodic self-probe verdicts are published on bus.
func startTunnel(ctx context.Context, f *Factory, spec, localAddr string, handler http.Handler, bus *events.Bus, logw io.Writer) (publicTunnel, error) {
	return startTunnelWith(ctx, f, defaultTunnelSeams, spec, localAddr, handler, bus, logw)
}

func startTunnelWith(ctx context.Context, f *Factory, seams tunnelSeams, spec, localAddr string, handler http.Handler, bus *events.Bus, logw io.Writer) (publicTunnel, error) {
	sp, err := tunnel.ParseSpec(spec)
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("invalid --tunnel value: %w", err)}
	}
	if sp.Provider == "none" {
		return nil, nil
	}
	// Provider chatter (the service's banner, cloudflared's log, the ngrok SDK) goes to the log
	// file, never over the terminal or into --output json; events carry what the user must see.
	chatter, closeChatter := tunnelLog(f, logw)
	p := seams.provider(sp, tunnel.Options{ConfigDir: paths.ConfigDir(f.Getenv), Getenv: f.Getenv, Log: chatter})
	fmt.Fprintf(f.IO.ErrOut, "s2s: opening a public tunnel (%s)…\n", describeTunnel(sp))
	return runTunnel(ctx, f, seams, p, localAddr, handler, bus, closeChatter)
}

// runTunnel starts p; once listen calls Watch, its events and self-probe verdicts go to bus.
// closeChatter is called when the tunnel is closed.
func runTunnel(ctx context.Context, f *Factory, seams tunnelSeams, p tunnel.Provider, localAddr string, handler http.Handler, bus *events.Bus, closeChatter func()) (publicTunnel, error) {
	tun, err := p.Start(ctx, tunnel.Target{Addr: localAddr, Handler: handler})
	if err != nil {
		closeChatter()
		return nil, err
	}
	wctx, stop := context.WithCancel(ctx)
	wo := seams.watch
	wo.Check = seams.check(f)
	wo.OnEvent = func(e tunnel.Event) { bus.Publish(tunnelEvent(e)) }
	wo.OnCheck = func(url string, verdict appstore.SendAttemptResult, message string) {
		ev := events.Event{Kind: events.Probe, PublicURL: url, Verdict: verdict, Message: message}
		if verdict != appstore.ResultSuccess {
			ev.Err = "Apple cannot deliver through this public URL: sandbox notifications sent now are lost (Apple does not retry them)"
		}
		bus.Publish(ev)
	}
	return &runningTunnel{tun: tun, ctx: wctx, stop: stop, watch: wo, closeLog: closeChatter}, nil
}

type runningTunnel struct {
	tun      tunnel.Tunnel
	ctx      context.Context // ends the watcher
	stop     context.CancelFunc
	watch    tunnel.WatchOptions
	closeLog func()

	mu      sync.Mutex
	watched chan struct{} // closed when the watcher has returned; nil until Watch
	closed  bool
	once    sync.Once
}

func (t *runningTunnel) PublicURL() string { return t.tun.URL() }

func (t *runningTunnel) Watch() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.watched != nil || t.closed {
		return
	}
	t.watched = make(chan struct{})
	go func() {
		defer close(t.watched)
		tunnel.Watch(t.ctx, t.tun, t.watch)
	}()
}

func (t *runningTunnel) Close() error {
	t.once.Do(func() {
		t.stop()
		t.tun.Close()
		t.mu.Lock()
		t.closed = true
		watched := t.watched
		t.mu.Unlock()
		if watched != nil {
			<-watched
		}
		t.closeLog()
	})
	return nil
}

// tunnelEvent turns a tunnel event into a receiver event for the TUI and the printers.
func tunnelEvent(e tunnel.Event) events.Event {
	ev := events.Event{Kind: events.Tunnel, Time: e.Time, PublicURL: e.URL}
	switch e.Kind {
	case tunnel.EventURL:
		ev.Message = "the public URL changed to " + e.URL + ": update it in App Store Connect"
	case tunnel.EventUp:
		ev.Message = "the tunnel is back up at " + e.URL
	case tunnel.EventDown:
		ev.Message = "the tunnel is down; reconnecting"
		ev.Err = errText(e.Err, "the tunnel is down; reconnecting")
	case tunnel.EventFailed:
		ev.PublicURL = ""
		ev.Message = "the tunnel has ended; notifications no longer reach this listener"
		ev.Err = errText(e.Err, ev.Message)
	}
	return ev
}

func errText(err error, fallback string) string {
	if err == nil {
		return fallback
	}
	return err.Error()
}

// selfCheck probes a new public URL the way Apple delivers (TLS under App Transport Security, a
// POST of a simulated TEST notification) until that succeeds once, then keeps checking the path with a GET,
// which the receiver answers 200 without storing anything.
func selfCheck(f *Factory) tunnel.CheckFunc {
	var mu sync.Mutex
	proven := map[string]bool{}
	get := tunnel.HTTPCheck(f.HTTPClient())
	return func(ctx context.Context, url string) (appstore.SendAttemptResult, string) {
		mu.Lock()
		done := proven[url]
		mu.Unlock()
		if done {
			return get(ctx, url)
		}
		// The first check is a signed TEST notification, so the capture it leaves shows in the
		// list as what it is: proof that Apple's path to this listener works.
		body, _ := probeBody(f, &probeOptions{Environment: "Sandbox"})
		r := probe.Run(ctx, probe.Options{URL: url, Retries: 1, UserAgent: "s2s-tunnel-self-check", Body: body})
		if r.Verdict == probe.Success {
			mu.Lock()
			proven[url] = true
			mu.Unlock()
		}
		msg := r.Reason
		if r.Fix != "" {
			msg += " (" + r.Fix + ")"
		}
		return r.Verdict, msg
	}
}

// tunnelLog opens the log file for provider output. When listen already logs to a file (the TUI)
// that writer is used as is; if the file cannot be opened the output is dropped.
func tunnelLog(f *Factory, logw io.Writer) (io.Writer, func()) {
	if logw != nil && logw != f.IO.ErrOut {
		return logw, func() {}
	}
	lf, err := openLogFile(paths.LogFile(f.Getenv))
	if err != nil {
		return io.Discard, func() {}
	}
	return lf, func() { lf.Close() }
}

func describeTunnel(sp tunnel.Spec) string {
	switch sp.Provider {
	case "ssh":
		if sp.User != "" {
			return "ssh to " + sp.User + "@" + sp.Host
		}
		return "ssh to " + sp.Host
	case "ngrok":
		if sp.Host != "" {
			return "ngrok at " + sp.Host
		}
		return "ngrok"
	}
	return sp.Provider
}
