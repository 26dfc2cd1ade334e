package tunnel

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

	"github.com/s2s-dev/s2s/tunnel/tunneltest"
)

// localReceiver stands in for s2s's receiver: it answers every request with the method and path,
// and reports each request on a channel.
func localReceiver(t *testing.T) (addr string, got <-chan string) {
	t.Helper()
	ch := make(chan string, 16)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ch <- r.Method + " " + r.URL.Path + " " + string(body)
		if _, err := io.WriteString(w, "stored"); err != nil {
			t.Error(err)
		}
	})}
	go func() { _ = srv.Serve(l) }() // ends with an error when l is closed
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String(), ch
}

func newSSHServer(t *testing.T, opts ...tunneltest.SSHOptions) *tunneltest.SSHServer {
	t.Helper()
	var o tunneltest.SSHOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	s, err := tunneltest.NewSSHServer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func sshProvider(srv *tunneltest.SSHServer, dir string) *SSH {
	return &SSH{
		Addr:         srv.Addr(),
		ConfigDir:    dir,
		StartTimeout: 10 * time.Second,
		Backoff:      func(int) time.Duration { return 0 },
	}
}

// startSSH starts p's tunnel to a new local receiver, closed at the test's end (a test may close it
// before: Close is idempotent); got is what the receiver is sent.
func startSSH(t *testing.T, ctx context.Context, p *SSH) (tun Tunnel, got <-chan string) {
	t.Helper()
	local, got := localReceiver(t)
	tun, err := p.Start(ctx, Target{Addr: local})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tun.Close() })
	return tun, got
}

// postThrough sends a POST to the server-side public address of the tunnel, as Apple would after
// TLS termination at the service.
func postThrough(t *testing.T, ctx context.Context, public, body string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+public+"/apple", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST through the tunnel: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("POST through the tunnel: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

func recv[T any](t *testing.T, ctx context.Context, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatalf("%s: channel closed", what)
		}
		return v
	case <-ctx.Done():
		t.Fatalf("%s: %v", what, ctx.Err())
	}
	var zero T
	return zero
}

func waitDone(t *testing.T, ctx context.Context, tun Tunnel) {
	t.Helper()
	select {
	case <-tun.Done():
	case <-ctx.Done():
		t.Fatal("the tunnel did not end")
	}
}

func nextEvent(t *testing.T, ctx context.Context, tun Tunnel) Event {
	t.Helper()
	return recv(t, ctx, tun.Events(), "tunnel event")
}

func TestSSHStartRelaysAndPins(t *testing.T) {
	for _, json := range []bool{false, true} {
		t.Run(map[bool]string{false: "text", true: "json"}[json], func(t *testing.T) {
			ctx := testCtx(t)
			srv := newSSHServer(t, tunneltest.SSHOptions{JSON: json})
			dir := t.TempDir()
			local, got := localReceiver(t)
			tun, err := sshProvider(srv, dir).Start(ctx, Target{Addr: local})
			if err != nil {
				t.Fatal(err)
			}
			defer tun.Close()
			if tun.URL() != "https://tunnel-1.lhr.life" {
				t.Errorf("URL = %q", tun.URL())
			}
			public := recv(t, ctx, srv.Forwards(), "forward")
			if answer := postThrough(t, ctx, public, `{"signedPayload":"x"}`); answer != "stored" {
				t.Errorf("answer = %q", answer)
			}
			if r := recv(t, ctx, got, "request at the receiver"); r != `POST /apple {"signedPayload":"x"}` {
				t.Errorf("receiver saw %q", r)
			}
			if users := srv.Users(); len(users) != 1 || users[0] != "nokey" {
				t.Errorf("users = %v", users)
			}
			pinned, err := os.ReadFile(filepath.Join(dir, KnownHostsFile))
			if err != nil || !strings.Contains(string(pinned), "ssh-ed25519") {
				t.Errorf("known_hosts = %q, %v", pinned, err)
			}
			if info, err := os.Stat(filepath.Join(dir, ClientKeyFile)); err != nil || info.Mode().Perm() != 0o600 {
				t.Errorf("client key: %v %v", info, err)
			}
		})
	}
}

func TestSSHClientKeyPersists(t *testing.T) {
	ctx := testCtx(t)
	// Refusing everything makes the client offer its key, then fail.
	srv := newSSHServer(t, tunneltest.SSHOptions{DenyAuth: true})
	dir := t.TempDir()
	for range 2 {
		_, err := sshProvider(srv, dir).Start(ctx, Target{Addr: "127.0.0.1:1"})
		if ClassOf(err) != ClassAuth {
			t.Fatalf("err = %v, want class auth", err)
		}
	}
	keys := srv.Keys()
	if len(keys) < 2 || keys[0] != keys[len(keys)-1] {
		t.Errorf("offered keys differ between runs: %q", keys)
	}
}

func TestSSHReconnectsWithNewURL(t *testing.T) {
	ctx := testCtx(t)
	srv := newSSHServer(t)
	tun, got := startSSH(t, ctx, sshProvider(srv, t.TempDir()))
	recv(t, ctx, srv.Forwards(), "first forward")

	srv.DropAll()
	if e := nextEvent(t, ctx, tun); e.Kind != EventDown || e.Err == nil {
		t.Fatalf("first event after drop = %+v, want down", e)
	}
	e := nextEvent(t, ctx, tun)
	if e.Kind != EventURL || e.URL != "https://tunnel-2.lhr.life" {
		t.Fatalf("event after reconnect = %+v, want the new URL", e)
	}
	if tun.URL() != e.URL {
		t.Errorf("URL() = %q after the change to %q", tun.URL(), e.URL)
	}
	public := recv(t, ctx, srv.Forwards(), "second forward")
	postThrough(t, ctx, public, "after reconnect")
	if r := recv(t, ctx, got, "request"); r != "POST /apple after reconnect" {
		t.Errorf("receiver saw %q", r)
	}
}

// A server that stops answering keepalives is treated as gone: the tunnel reconnects instead of
// sitting on a dead path that would swallow Apple's notifications.
func TestSSHKeepaliveDetectsStall(t *testing.T) {
	ctx := testCtx(t)
	srv := newSSHServer(t, tunneltest.SSHOptions{StallKeepalives: true})
	p := sshProvider(srv, t.TempDir())
	p.KeepAlive = 20 * time.Millisecond
	tun, _ := startSSH(t, ctx, p)
	if e := nextEvent(t, ctx, tun); e.Kind != EventDown {
		t.Fatalf("got %+v, want down after unanswered keepalives", e)
	}
	if e := nextEvent(t, ctx, tun); e.Kind != EventURL || e.URL != "https://tunnel-2.lhr.life" {
		t.Fatalf("got %+v, want the reconnection's URL", e)
	}
}

func TestSSHReconnectSameURLIsUp(t *testing.T) {
	ctx := testCtx(t)
	srv := newSSHServer(t, tunneltest.SSHOptions{URL: func(int, string) string { return "https://stable.lhr.life" }})
	tun, _ := startSSH(t, ctx, sshProvider(srv, t.TempDir()))
	recv(t, ctx, srv.Forwards(), "first forward")
	srv.DropAll()
	if e := nextEvent(t, ctx, tun); e.Kind != EventDown {
		t.Fatalf("got %+v, want down", e)
	}
	if e := nextEvent(t, ctx, tun); e.Kind != EventUp || e.URL != "https://stable.lhr.life" {
		t.Fatalf("got %+v, want up with the same URL", e)
	}
}

func TestSSHURLRotationInSession(t *testing.T) {
	ctx := testCtx(t)
	srv := newSSHServer(t)
	tun, _ := startSSH(t, ctx, sshProvider(srv, t.TempDir()))
	srv.Announce(tunneltest.URLLine("https://renamed.lhr.life", true))
	if e := nextEvent(t, ctx, tun); e.Kind != EventURL || e.URL != "https://renamed.lhr.life" {
		t.Fatalf("got %+v, want the announced URL", e)
	}
}

func TestSSHHostKeyChangeRejected(t *testing.T) {
	t.Run("at start", func(t *testing.T) {
		ctx := testCtx(t)
		srv := newSSHServer(t)
		dir := t.TempDir()
		local, _ := localReceiver(t)
		tun, err := sshProvider(srv, dir).Start(ctx, Target{Addr: local})
		if err != nil {
			t.Fatal(err)
		}
		tun.Close()
		if err := srv.RotateHostKey(); err != nil {
			t.Fatal(err)
		}
		_, err = sshProvider(srv, dir).Start(ctx, Target{Addr: local})
		if ClassOf(err) != ClassRejected || !errors.Is(err, errHostKeyChanged) {
			t.Fatalf("err = %v, want a rejected host key change", err)
		}
		if !strings.Contains(err.Error(), KnownHostsFile) {
			t.Errorf("the error does not name the known_hosts file: %v", err)
		}
	})
	t.Run("on reconnect", func(t *testing.T) {
		ctx := testCtx(t)
		srv := newSSHServer(t)
		tun, _ := startSSH(t, ctx, sshProvider(srv, t.TempDir()))
		if err := srv.RotateHostKey(); err != nil {
			t.Fatal(err)
		}
		srv.DropAll()
		for {
			e := nextEvent(t, ctx, tun)
			if e.Kind == EventFailed {
				if !errors.Is(e.Err, errHostKeyChanged) {
					t.Fatalf("failed with %v, want the host key change", e.Err)
				}
				break
			}
			if e.Kind != EventDown {
				t.Fatalf("got %+v before the failure", e)
			}
		}
		waitDone(t, ctx, tun)
		if ClassOf(tun.Err()) != ClassRejected {
			t.Errorf("Err() = %v", tun.Err())
		}
	})
}

func TestSSHStartFailures(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	tests := []struct {
		name string
		opts tunneltest.SSHOptions
		addr string
		want Class
	}{
		{"forward refused", tunneltest.SSHOptions{DenyForward: true}, "", ClassRejected},
		{"auth refused", tunneltest.SSHOptions{DenyAuth: true}, "", ClassAuth},
		{"no URL before the deadline", tunneltest.SSHOptions{Silent: true}, "", ClassTimeout},
		{"nothing listening", tunneltest.SSHOptions{}, closedAddr, ClassNetwork},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			srv := newSSHServer(t, tt.opts)
			p := sshProvider(srv, t.TempDir())
			if tt.addr != "" {
				p.Addr = tt.addr
			}
			if tt.want == ClassTimeout {
				p.StartTimeout = 300 * time.Millisecond
			}
			tun, err := p.Start(ctx, Target{Addr: "127.0.0.1:1"})
			if err == nil {
				tun.Close()
				t.Fatal("Start succeeded")
			}
			if ClassOf(err) != tt.want {
				t.Fatalf("err = %v (class %q), want class %q", err, ClassOf(err), tt.want)
			}
			var te *Error
			if errors.As(err, &te); te.Hint == "" {
				t.Errorf("no hint in %v", err)
			}
		})
	}
}

func TestSSHCloseEndsTunnel(t *testing.T) {
	ctx := testCtx(t)
	srv := newSSHServer(t)
	tun, _ := startSSH(t, ctx, sshProvider(srv, t.TempDir()))
	public := recv(t, ctx, srv.Forwards(), "forward")
	if err := tun.Close(); err != nil {
		t.Fatal(err)
	}
	waitDone(t, ctx, tun) // Close waited, so this is immediate
	if tun.Err() != nil {
		t.Errorf("Err() after Close = %v", tun.Err())
	}
	for e := range tun.Events() {
		if e.Kind == EventFailed {
			t.Errorf("Close published a failure: %+v", e)
		}
	}
	// The service drops the forward when the client goes; poll with a deadline.
	for {
		c, err := net.Dial("tcp", public)
		if err != nil {
			break
		}
		c.Close()
		if ctx.Err() != nil {
			t.Fatal("the public port still accepts connections after Close")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFindURL(t *testing.T) {
	tests := []struct{ line, want string }{
		{"abc123.lhr.life tunneled with tls termination, https://abc123.lhr.life", "https://abc123.lhr.life"},
		{`{"specversion":"1.0","type":"v1.tcpip_forward.register.accepted","data":"x.lhr.life tunneled with tls termination, https://x.lhr.life\r\n"}`, "https://x.lhr.life"},
		{"Forwarding HTTP traffic from https://0123abcd-203-0-113-7.serveousercontent.com", "https://0123abcd-203-0-113-7.serveousercontent.com"},
		{"   https://rnfsz-203-0-113-7.a.free.pinggy.link", "https://rnfsz-203-0-113-7.a.free.pinggy.link"},
		{"http://abc.run.pinggy-free.link", ""},
		{"  https://xyz.run.pinggy-free.link  ", "https://xyz.run.pinggy-free.link"},
		{"To set up and manage custom domains go to https://admin.localhost.run/", ""},
		{"Follow your favourite reverse tunnel at [https://twitter.com/localhost_run].", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := FindURL(tt.line); got != tt.want {
			t.Errorf("FindURL(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func FuzzFindURL(f *testing.F) {
	f.Add("abc.lhr.life tunneled with tls termination, https://abc.lhr.life")
	f.Add("Forwarding HTTP traffic from https://x.serveousercontent.com")
	f.Add("https://a.free.pinggy.link")
	f.Fuzz(func(t *testing.T, line string) {
		u := FindURL(line)
		if u != "" && !strings.HasPrefix(u, "http") {
			t.Fatalf("FindURL(%q) = %q", line, u)
		}
		if strings.ContainsAny(u, " \t\r\n/\\\"") && strings.Count(u, "/") != 2 {
			t.Fatalf("FindURL(%q) = %q carries more than a scheme and host", line, u)
		}
	})
}

func TestSSHServiceDefaults(t *testing.T) {
	tests := []struct {
		addr, user         string
		wantAddr, wantUser string
		bindAddr           string
		bindPort           uint32
	}{
		{"", "", "localhost.run:22", "nokey", "localhost", 80},
		{"localhost.run", "", "localhost.run:22", "nokey", "localhost", 80},
		{"a.pinggy.io", "", "a.pinggy.io:443", "auth+http", "0.0.0.0", 0},
		{"free.pinggy.io", "TOKEN+auth+http", "free.pinggy.io:443", "TOKEN+auth+http", "0.0.0.0", 0},
		{"serveo.net", "", "serveo.net:22", "nokey", "localhost", 80},
		{"tunnel.example:2200", "me", "tunnel.example:2200", "me", "localhost", 80},
		{"[::1]:2222", "", "[::1]:2222", "nokey", "localhost", 80},
	}
	for _, tt := range tests {
		addr, user, svc, err := (&SSH{Addr: tt.addr, User: tt.user}).resolve()
		if err != nil || addr != tt.wantAddr || user != tt.wantUser || svc.bindAddr != tt.bindAddr || svc.bindPort != tt.bindPort {
			t.Errorf("resolve(%q, %q) = %s %s %+v %v", tt.addr, tt.user, addr, user, svc, err)
		}
	}
}
