package tunnel

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/appstore"
)

// stubTunnel is a Tunnel driven by the test.
type stubTunnel struct {
	*base
}

func newStubTunnel(url string) *stubTunnel {
	s := &stubTunnel{base: newBase(nil)}
	s.setURL(url)
	return s
}

func (s *stubTunnel) Close() error { s.markClosing(); s.finish(nil); return nil }

type checkResult struct{ url, verdict, message string }

// scriptedCheck answers with verdicts in order (the last one repeats) and records each call.
type scriptedCheck struct {
	mu       sync.Mutex
	verdicts map[string][]string
	calls    chan string
}

func (s *scriptedCheck) check(_ context.Context, url string) (appstore.SendAttemptResult, string) {
	s.mu.Lock()
	v := s.verdicts[url]
	verdict := v[0]
	if len(v) > 1 {
		s.verdicts[url] = v[1:]
	}
	s.mu.Unlock()
	s.calls <- url
	return appstore.SendAttemptResult(verdict), "checked " + url
}

func TestWatch(t *testing.T) {
	ctx := testCtx(t)
	tun := newStubTunnel("https://a.example")
	sc := &scriptedCheck{calls: make(chan string, 100), verdicts: map[string][]string{
		// a new name that needs one settle retry, then breaks, then recovers
		"https://a.example": {"SOCKET_ISSUE", "SUCCESS", "SUCCESS", "TIMED_OUT", "TIMED_OUT", "SUCCESS"},
		"https://b.example": {"SUCCESS"},
	}}
	checks := make(chan checkResult, 100)
	events := make(chan Event, 100)
	done := make(chan struct{})
	go func() {
		Watch(ctx, tun, WatchOptions{
			Check:    sc.check,
			Interval: time.Millisecond,
			Settle:   []time.Duration{time.Millisecond},
			OnEvent:  func(e Event) { events <- e },
			OnCheck:  func(u string, v appstore.SendAttemptResult, m string) { checks <- checkResult{u, string(v), m} },
		})
		close(done)
	}()
	want := []checkResult{
		{"https://a.example", "SUCCESS", "checked https://a.example"}, // the settle retry hid the first failure
		{"https://a.example", "TIMED_OUT", "checked https://a.example"},
		{"https://a.example", "TIMED_OUT", "checked https://a.example"}, // still broken: reported again
		{"https://a.example", "SUCCESS", "checked https://a.example"},
	}
	for i, w := range want {
		if got := recv(t, ctx, checks, "verdict"); got != w {
			t.Fatalf("verdict %d = %+v, want %+v", i, got, w)
		}
	}
	tun.emit(Event{Kind: EventURL, URL: "https://b.example"})
	if e := recv(t, ctx, events, "relayed event"); e.Kind != EventURL || e.URL != "https://b.example" {
		t.Fatalf("relayed %+v", e)
	}
	if got := recv(t, ctx, checks, "verdict for the new URL"); got.url != "https://b.example" || got.verdict != "SUCCESS" {
		t.Fatalf("after the URL change: %+v", got)
	}
	tun.finish(&Error{Provider: "stub", Class: ClassNetwork})
	if e := recv(t, ctx, events, "failure"); e.Kind != EventFailed {
		t.Fatalf("relayed %+v, want the failure", e)
	}
	waitClosed(t, ctx, done, "Watch to return")
}

func TestWatchStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(testCtx(t))
	tun := newStubTunnel("https://a.example")
	started := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		Watch(ctx, tun, WatchOptions{Check: func(context.Context, string) (appstore.SendAttemptResult, string) {
			select {
			case started <- struct{}{}:
			default:
			}
			return appstore.ResultSuccess, ""
		}})
		close(done)
	}()
	recv(t, testCtx(t), started, "first check")
	cancel()
	waitClosed(t, testCtx(t), done, "Watch to return")
}

func TestHTTPCheck(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(SelfCheckHeader) == "" {
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer ok.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "origin unreachable", http.StatusBadGateway)
	}))
	defer bad.Close()
	selfSigned := httptest.NewUnstartedServer(http.NotFoundHandler())
	selfSigned.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	selfSigned.StartTLS()
	defer selfSigned.Close()
	hangup := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, _ := w.(http.Hijacker).Hijack()
		c.Close()
	}))
	defer hangup.Close()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + l.Addr().String()
	l.Close()

	tests := []struct{ url, want string }{
		{ok.URL, "SUCCESS"},
		{bad.URL, "UNSUCCESSFUL_HTTP_RESPONSE_CODE"},
		{selfSigned.URL, "TLS_ISSUE"},
		{hangup.URL, "PREMATURE_CLOSE"}, // as s2s probe and Apple's classifier name a close before the answer
		{closed, "SOCKET_ISSUE"},
	}
	check := HTTPCheck(&http.Client{Timeout: 5 * time.Second})
	for _, tt := range tests {
		verdict, msg := check(testCtx(t), tt.url)
		if string(verdict) != tt.want || msg == "" {
			t.Errorf("check(%s) = %s %q, want %s", tt.url, verdict, msg, tt.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if v, _ := check(ctx, ok.URL); v == "SUCCESS" {
		t.Error("a cancelled check succeeded")
	}
}

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in   string
		want Spec
		err  string
	}{
		{"", Spec{Provider: "none"}, ""},
		{"none", Spec{Provider: "none"}, ""},
		{"ssh", Spec{Provider: "ssh", Host: "localhost.run"}, ""},
		{"SSH", Spec{Provider: "ssh", Host: "localhost.run"}, ""},
		{"ssh=a.pinggy.io", Spec{Provider: "ssh", Host: "a.pinggy.io"}, ""},
		{"ssh=127.0.0.1:2222", Spec{Provider: "ssh", Host: "127.0.0.1:2222"}, ""},
		{"ssh=me@tunnel.example:2200", Spec{Provider: "ssh", Host: "tunnel.example:2200", User: "me"}, ""},
		{"ssh=[::1]:2222", Spec{Provider: "ssh", Host: "[::1]:2222"}, ""},
		{"cloudflared", Spec{Provider: "cloudflared"}, ""},
		{"ngrok", Spec{Provider: "ngrok"}, ""},
		{"ngrok=my-name.ngrok-free.dev", Spec{Provider: "ngrok", Host: "https://my-name.ngrok-free.dev"}, ""},
		{"ssh=", Spec{}, "want"},
		{"ssh=@host", Spec{}, "empty user"},
		{"ssh=host:", Spec{}, "empty port"},
		{"cloudflared=x", Spec{}, "no value"},
		{"ngrok=abc", Spec{}, "endpoint URL"},
		{"bore", Spec{}, "unknown tunnel"},
	}
	for _, tt := range tests {
		got, err := ParseSpec(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseSpec(%q) err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSpec(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"ssh", "ssh=u@h:1", "ngrok=x.y", "cloudflared", "none", "ssh=[::1]:22"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := ParseSpec(s)
		if err != nil {
			return
		}
		switch sp.Provider {
		case "none", "cloudflared":
		case "ssh":
			if sp.Host == "" {
				t.Fatalf("ParseSpec(%q) = %+v: ssh without a host", s, sp)
			}
		case "ngrok":
		default:
			t.Fatalf("ParseSpec(%q) = unknown provider %q", s, sp.Provider)
		}
		if New(sp, Options{}) == nil && sp.Provider != "none" {
			t.Fatalf("no provider for %+v", sp)
		}
	})
}

func waitClosed(t *testing.T, ctx context.Context, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-ctx.Done():
		t.Fatalf("%s: %v", what, ctx.Err())
	}
}
