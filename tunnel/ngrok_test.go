package tunnel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// codeError carries an ngrok error code the way the SDK's errors do.
type codeError struct{ code, msg string }

func (e codeError) Error() string     { return e.code + ": " + e.msg }
func (e codeError) ErrorCode() string { return e.code }

// fakeEndpoint is a loopback listener standing in for an ngrok endpoint.
type fakeEndpoint struct {
	net.Listener
	url  *url.URL
	done chan struct{}
	once sync.Once
}

func (e *fakeEndpoint) URL() *url.URL         { return e.url }
func (e *fakeEndpoint) Done() <-chan struct{} { return e.done }
func (e *fakeEndpoint) end()                  { e.once.Do(func() { close(e.done) }) }
func (e *fakeEndpoint) Close() error          { e.end(); return e.Listener.Close() }

// fakeNgrok plays the SDK: behave picks what Listen does.
type fakeNgrok struct {
	behave func(ctx context.Context, cfg NgrokConfig, ep *fakeEndpoint) error

	mu          sync.Mutex
	calls       int
	cfg         NgrokConfig
	ep          *fakeEndpoint
	ctxErr      error
	disconnects int
}

func (f *fakeNgrok) Listen(ctx context.Context, cfg NgrokConfig) (NgrokEndpoint, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ep := &fakeEndpoint{Listener: l, url: &url.URL{Scheme: "https", Host: "s2s-dev.ngrok-free.dev"}, done: make(chan struct{})}
	f.mu.Lock()
	f.calls++
	f.cfg = cfg
	f.ep = ep
	f.mu.Unlock()
	if err := f.behave(ctx, cfg, ep); err != nil {
		f.mu.Lock()
		f.ctxErr = ctx.Err()
		f.mu.Unlock()
		l.Close()
		return nil, err
	}
	return ep, nil
}

func (f *fakeNgrok) Disconnect() error {
	f.mu.Lock()
	f.disconnects++
	f.mu.Unlock()
	return nil
}

func connectOK(_ context.Context, cfg NgrokConfig, _ *fakeEndpoint) error {
	cfg.Log.Warn("this Go version trusts certificates from the compromised eMudhra CA keys")
	cfg.OnConnect()
	return nil
}

func TestNgrokServesHandler(t *testing.T) {
	ctx := testCtx(t)
	sdk := &fakeNgrok{behave: connectOK}
	log := &lockedWriter{w: &bytes.Buffer{}}
	got := make(chan string, 1)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r.Method + " " + r.URL.Path + " " + string(b)
	})
	p := &Ngrok{Authtoken: "tok", SDK: sdk, Log: log}
	tun, err := p.Start(ctx, Target{Addr: "127.0.0.1:1", Handler: handler})
	if err != nil {
		t.Fatal(err)
	}
	if tun.URL() != "https://s2s-dev.ngrok-free.dev" {
		t.Errorf("URL = %q", tun.URL())
	}
	if sdk.cfg.Authtoken != "tok" {
		t.Errorf("token passed to the SDK = %q", sdk.cfg.Authtoken)
	}
	resp, err := http.Post("http://"+sdk.ep.Addr().String()+"/apple", "application/json", strings.NewReader("in-process"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if r := recv(t, ctx, got, "request at the handler"); r != "POST /apple in-process" {
		t.Errorf("handler saw %q", r)
	}
	if !strings.Contains(log.String(), "eMudhra") {
		t.Errorf("the SDK's logging did not reach the log writer: %q", log.String())
	}

	sdk.cfg.OnDisconnect(errors.New("heartbeat timeout"))
	if e := nextEvent(t, ctx, tun); e.Kind != EventDown {
		t.Errorf("after a lost session: %+v, want down", e)
	}
	sdk.cfg.OnConnect()
	if e := nextEvent(t, ctx, tun); e.Kind != EventUp || e.URL != tun.URL() {
		t.Errorf("after reconnecting: %+v, want up", e)
	}

	tun.Close()
	if sdk.disconnects == 0 {
		t.Error("Close did not disconnect the agent")
	}
	if _, err := net.Dial("tcp", sdk.ep.Addr().String()); err == nil {
		t.Error("the endpoint still accepts connections after Close")
	}
}

func TestNgrokEndpointClosedRemotely(t *testing.T) {
	ctx := testCtx(t)
	sdk := &fakeNgrok{behave: connectOK}
	tun, err := (&Ngrok{Authtoken: "tok", SDK: sdk}).Start(ctx, Target{Handler: http.NotFoundHandler()})
	if err != nil {
		t.Fatal(err)
	}
	defer tun.Close()
	sdk.ep.end()
	if e := nextEvent(t, ctx, tun); e.Kind != EventFailed {
		t.Fatalf("got %+v, want failed", e)
	}
	waitDone(t, ctx, tun)
}

func TestNgrokStartFailures(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		behave func(ctx context.Context, cfg NgrokConfig, ep *fakeEndpoint) error
		want   Class
		hint   string
		calls  int
		cancel bool // the provider must cancel the SDK's connect, not wait for the deadline
	}{
		{name: "missing token", token: " ", want: ClassAuth, hint: "NGROK_AUTHTOKEN", calls: 0},
		{
			name: "token refused while retrying", token: "bad", want: ClassAuth, hint: "ERR_NGROK_107", calls: 1, cancel: true,
			// The SDK reports each failed handshake as a disconnect and retries until ctx ends.
			behave: func(ctx context.Context, cfg NgrokConfig, _ *fakeEndpoint) error {
				cfg.OnDisconnect(fmt.Errorf("authentication failed: %w", codeError{"ERR_NGROK_107", "The authtoken you specified is invalid."}))
				<-ctx.Done()
				return fmt.Errorf("failed to connect: %w", ctx.Err())
			},
		},
		{
			name: "token refused in the returned error", token: "bad", want: ClassAuth, hint: "ERR_NGROK_4018", calls: 1,
			behave: func(context.Context, NgrokConfig, *fakeEndpoint) error {
				return codeError{"ERR_NGROK_4018", "authentication failed: Usage of ngrok requires a verified account and authtoken."}
			},
		},
		{
			name: "URL online elsewhere", token: "tok", want: ClassRejected, hint: "another ngrok agent", calls: 1,
			behave: func(context.Context, NgrokConfig, *fakeEndpoint) error {
				return codeError{"ERR_NGROK_334", "The endpoint is already online."}
			},
		},
		{
			name: "never connects", token: "tok", want: ClassTimeout, hint: "network", calls: 1,
			behave: func(ctx context.Context, cfg NgrokConfig, _ *fakeEndpoint) error {
				cfg.OnDisconnect(errors.New("dial tcp: connection refused"))
				<-ctx.Done()
				return fmt.Errorf("failed to connect: %w", ctx.Err())
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sdk := &fakeNgrok{behave: tt.behave}
			p := &Ngrok{Authtoken: tt.token, SDK: sdk, StartTimeout: 10 * time.Second}
			if tt.want == ClassTimeout {
				p.StartTimeout = 200 * time.Millisecond
			}
			tun, err := p.Start(testCtx(t), Target{Handler: http.NotFoundHandler()})
			if err == nil {
				tun.Close()
				t.Fatal("Start succeeded")
			}
			if ClassOf(err) != tt.want || !strings.Contains(err.Error(), tt.hint) {
				t.Fatalf("err = %v, want class %q mentioning %q", err, tt.want, tt.hint)
			}
			if sdk.calls != tt.calls {
				t.Errorf("SDK called %d times, want %d", sdk.calls, tt.calls)
			}
			if tt.cancel && !errors.Is(sdk.ctxErr, context.Canceled) {
				t.Errorf("the SDK's context ended with %v, want it cancelled on the auth error", sdk.ctxErr)
			}
		})
	}
}

// TestNgrokRealSDKReturnsOffline drives the real SDK at a closed loopback port: Start must return
// a classified error at its deadline rather than hang, the SDK's retry loop notwithstanding.
func TestNgrokRealSDKReturnsOffline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	log := &lockedWriter{w: &bytes.Buffer{}}
	p := &Ngrok{Authtoken: "offline-test-token", ConnectURL: addr, StartTimeout: 1500 * time.Millisecond, Log: log}
	_, err = p.Start(testCtx(t), Target{Handler: http.NotFoundHandler()})
	if c := ClassOf(err); c != ClassTimeout && c != ClassNetwork {
		t.Fatalf("err = %v, want timeout or network", err)
	}
	if !strings.Contains(log.String(), "session lost") {
		t.Errorf("failed connection attempts were not logged: %q", log.String())
	}
}

func TestNgrokCode(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{codeError{"ERR_NGROK_105", "x"}, "ERR_NGROK_105"},
		{fmt.Errorf("wrapped: %w", codeError{"ERR_NGROK_107", "x"}), "ERR_NGROK_107"},
		{errors.Join(errors.New("dial"), codeError{"ERR_NGROK_4018", "x"}), "ERR_NGROK_4018"},
		{errors.New("failed to connect: authentication failed: ERR_NGROK_106 outdated token"), "ERR_NGROK_106"},
		{errors.New("plain"), ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := ngrokCode(tt.err); got != tt.want {
			t.Errorf("ngrokCode(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// lockedWriter lets the SDK's goroutines and the test share a buffer.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
