package cmd

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/tunnel"
	"github.com/s2s-dev/s2s/tunnel/tunneltest"
)

func tunnelTestFactory(t *testing.T, env map[string]string) *Factory {
	t.Helper()
	ios, _, _, _ := TestIO()
	dir := t.TempDir()
	vars := map[string]string{
		"HOME":           dir,
		"S2S_CONFIG_DIR": filepath.Join(dir, "config"),
		"XDG_STATE_HOME": filepath.Join(dir, "state"),
	}
	for k, v := range env {
		vars[k] = v
	}
	f := &Factory{IO: ios, Getenv: func(k string) string { return vars[k] }, Now: time.Now,
		HTTPClient: func() *http.Client { return &http.Client{Timeout: 5 * time.Second} }}
	return f
}

func TestStartTunnelNone(t *testing.T) {
	f := tunnelTestFactory(t, nil)
	for _, spec := range []string{"", "none"} {
		tun, err := startTunnel(context.Background(), f, spec, "127.0.0.1:1", http.NotFoundHandler(), events.NewBus(), io.Discard)
		if tun != nil || err != nil {
			t.Errorf("startTunnel(%q) = %v, %v; want nothing", spec, tun, err)
		}
	}
}

func TestStartTunnelErrors(t *testing.T) {
	tests := []struct {
		spec string
		exit int
		want string
	}{
		{"bore", ExitUsage, "unknown tunnel"},
		{"ssh=@x", ExitUsage, "empty user"},
		{"ngrok", ExitError, "NGROK_AUTHTOKEN"}, // no token in the environment: refused before any network
	}
	for _, tt := range tests {
		f := tunnelTestFactory(t, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := startTunnel(ctx, f, tt.spec, "127.0.0.1:1", http.NotFoundHandler(), events.NewBus(), io.Discard)
		cancel()
		if err == nil || ExitCode(err) != tt.exit || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("startTunnel(%q) = %v (exit %d), want exit %d mentioning %q", tt.spec, err, ExitCode(err), tt.exit, tt.want)
		}
	}
}

// TestStartTunnelSSH runs the real SSH provider against the loopback SSH server and checks what
// listen's bus sees: nothing before ready, then the self-check verdict, URL changes, failures.
func TestStartTunnelSSH(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv, err := tunneltest.NewSSHServer(tunneltest.SSHOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	f := tunnelTestFactory(t, nil)

	got := make(chan string, 16)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
	})
	go func() { _ = http.Serve(l, handler) }() // ends with an error when l is closed
	defer l.Close()

	checked := make(chan string, 16)
	seams := tunnelSeams{
		provider: func(sp tunnel.Spec, o tunnel.Options) tunnel.Provider {
			p := tunnel.New(sp, o).(*tunnel.SSH)
			p.Backoff = func(int) time.Duration { return 0 }
			return p
		},
		check: func(*Factory) tunnel.CheckFunc {
			return func(_ context.Context, url string) (appstore.SendAttemptResult, string) {
				checked <- url
				if url == "https://tunnel-2.lhr.life" {
					return appstore.ResultTimedOut, "no answer"
				}
				return appstore.ResultSuccess, "ok"
			}
		},
		watch: tunnel.WatchOptions{Interval: time.Hour, Settle: []time.Duration{}},
	}
	bus := events.NewBus()
	evs, unsub := bus.Subscribe(64)
	defer unsub()
	tun, err := startTunnelWith(ctx, f, seams, "ssh="+srv.Addr(), l.Addr().String(), handler, bus, f.IO.ErrOut)
	if err != nil {
		t.Fatal(err)
	}
	defer tun.Close()
	if tun.PublicURL() != "https://tunnel-1.lhr.life" {
		t.Fatalf("PublicURL = %q", tun.PublicURL())
	}
	if _, err := os.Stat(filepath.Join(f.Getenv("S2S_CONFIG_DIR"), tunnel.KnownHostsFile)); err != nil {
		t.Errorf("host key not pinned in the config dir: %v", err)
	}

	// A notification through the public side reaches the handler.
	public := <-srv.Forwards()
	resp, err := http.Post("http://"+public+"/", "application/json", strings.NewReader(`{"signedPayload":"a"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case b := <-got:
		if b != `{"signedPayload":"a"}` {
			t.Errorf("handler got %q", b)
		}
	case <-ctx.Done():
		t.Fatal("nothing arrived through the tunnel")
	}

	select {
	case u := <-checked:
		t.Fatalf("checked %s before listen was ready", u)
	default:
	}
	tun.Watch()
	next := func(kind events.Kind) events.Event {
		t.Helper()
		for {
			select {
			case e := <-evs:
				if e.Kind == kind {
					return e
				}
			case <-ctx.Done():
				t.Fatalf("no %s event", kind)
			}
		}
	}
	if e := next(events.Probe); e.Verdict != "SUCCESS" || e.PublicURL != "https://tunnel-1.lhr.life" || e.Err != "" {
		t.Errorf("first verdict = %+v", e)
	}

	srv.DropAll()
	e := next(events.Tunnel)
	if e.Err == "" {
		t.Errorf("drop published %+v, want an error", e)
	}
	e = next(events.Tunnel)
	if e.PublicURL != "https://tunnel-2.lhr.life" || !strings.Contains(e.Message, "App Store Connect") {
		t.Errorf("URL change published %+v", e)
	}
	if e := next(events.Probe); e.Verdict != "TIMED_OUT" || e.Err == "" {
		t.Errorf("broken path published %+v, want a warning", e)
	}
	if tun.PublicURL() != "https://tunnel-2.lhr.life" {
		t.Errorf("PublicURL after the change = %q", tun.PublicURL())
	}
	if err := tun.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestTunnelEventMapping(t *testing.T) {
	failure := &tunnel.Error{Provider: "ssh", Class: tunnel.ClassRejected, Err: errors.New("host key changed")}
	tests := []struct {
		in      tunnel.Event
		url     string
		wantErr bool
	}{
		{tunnel.Event{Kind: tunnel.EventURL, URL: "https://b"}, "https://b", false},
		{tunnel.Event{Kind: tunnel.EventUp, URL: "https://b"}, "https://b", false},
		{tunnel.Event{Kind: tunnel.EventDown, URL: "https://b", Err: errors.New("lost")}, "https://b", true},
		{tunnel.Event{Kind: tunnel.EventFailed, URL: "https://b", Err: failure}, "", true},
		{tunnel.Event{Kind: tunnel.EventFailed}, "", true},
	}
	for _, tt := range tests {
		got := tunnelEvent(tt.in)
		if got.Kind != events.Tunnel || got.PublicURL != tt.url || (got.Err != "") != tt.wantErr || got.Message == "" {
			t.Errorf("tunnelEvent(%+v) = %+v", tt.in, got)
		}
	}
}

func TestTunnelEventLines(t *testing.T) {
	// Without a terminal, a reconnection at the same URL must not tell the user to edit App Store
	// Connect; only a new URL does.
	tests := []struct {
		in       tunnel.Event
		want     []string
		dontWant string
	}{
		{tunnel.Event{Kind: tunnel.EventURL, URL: "https://new.lhr.life"}, []string{"tunnel:", "changed to https://new.lhr.life", "App Store Connect"}, ""},
		{tunnel.Event{Kind: tunnel.EventUp, URL: "https://same.lhr.life"}, []string{"tunnel:", "back up at https://same.lhr.life"}, "App Store Connect"},
		{tunnel.Event{Kind: tunnel.EventDown, URL: "https://same.lhr.life", Err: errors.New("connection lost")}, []string{"tunnel: the tunnel is down; reconnecting — connection lost"}, ""},
		{tunnel.Event{Kind: tunnel.EventFailed, Err: errors.New("host key changed")}, []string{"tunnel: the tunnel has ended; notifications no longer reach this listener — host key changed"}, ""},
	}
	for _, tt := range tests {
		ios, _, _, errOut := TestIO()
		newEventPrinter(ios, "lines").print(tunnelEvent(tt.in))
		for _, w := range tt.want {
			if !strings.Contains(errOut.String(), w) {
				t.Errorf("%s: %q lacks %q", tt.in.Kind, errOut, w)
			}
		}
		if tt.dontWant != "" && strings.Contains(errOut.String(), tt.dontWant) {
			t.Errorf("%s: %q should not mention %q", tt.in.Kind, errOut, tt.dontWant)
		}
	}
}
