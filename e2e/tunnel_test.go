//go:build unix

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/store"
	"github.com/s2s-dev/s2s/tunnel"
	"github.com/s2s-dev/s2s/tunnel/tunneltest"
)

// listenEvent is the part of `s2s listen --output json` events these tests read.
type listenEvent struct {
	Event     string `json:"event"`
	URL       string `json:"url"`
	PublicURL string `json:"publicUrl"`
	Verdict   string `json:"verdict"`
	Message   string `json:"message"`
	Err       string `json:"error"`
	Capture   *struct {
		ID               int64  `json:"id"`
		Path             string `json:"path"`
		NotificationUUID string `json:"notificationUUID"`
		Type             string `json:"notificationType"`
	} `json:"capture"`
}

// startListen runs `s2s listen args...` in dir and returns its JSON events; the process is
// interrupted (SIGINT) and reaped when the test ends.
func startListen(t *testing.T, ctx context.Context, dir string, args ...string) (<-chan listenEvent, *bytes.Buffer, func()) {
	t.Helper()
	return startListenEnv(t, ctx, Env(dir), args...)
}

func startListenEnv(t *testing.T, ctx context.Context, env []string, args ...string) (<-chan listenEvent, *bytes.Buffer, func()) {
	t.Helper()
	cmd := exec.CommandContext(ctx, Binary, append([]string{"listen"}, args...)...)
	cmd.Env = env
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 10 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	events := make(chan listenEvent, 64)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		for sc.Scan() {
			var e listenEvent
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Errorf("stdout line is not a JSON event: %q", sc.Text())
				continue
			}
			events <- e
		}
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGINT) // it may have ended already
		for range events {
		}
		_ = cmd.Wait() // exit 130 after SIGINT; the test checks what it printed
	}
	t.Cleanup(stop)
	return events, &stderr, stop
}

// waitEvent returns the next event of kind (any kind when kind is ""), failing when the process
// ends or ctx does first.
func waitEvent(t *testing.T, ctx context.Context, events <-chan listenEvent, stderr *bytes.Buffer, kind string) listenEvent {
	t.Helper()
	for {
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatalf("s2s listen ended before a %q event; stderr:\n%s", kind, stderr)
			}
			if kind == "" || e.Event == kind {
				return e
			}
		case <-ctx.Done():
			t.Fatalf("no %q event: %v", kind, ctx.Err())
		}
	}
}

// TestListenThroughSSHTunnel runs `s2s listen --tunnel ssh=127.0.0.1:PORT` against the loopback
// SSH tunnel server and posts a notification to the server's public side: it must come out of
// the tunnel into the store. With a plain-HTTP public side the self-check must say what Apple
// would (TLS_ISSUE); with an HTTPS edge whose CA this machine trusts (SSL_CERT_FILE), as the
// real services' edges are, it must pass: SUCCESS through the tunnel, end to end.
func TestListenThroughSSHTunnel(t *testing.T) {
	for _, tc := range []struct {
		scheme, verdict string
	}{{"http", "TLS_ISSUE"}, {"https", "SUCCESS"}} {
		t.Run(tc.scheme, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			dir := t.TempDir()
			opts := tunneltest.SSHOptions{URL: func(_ int, public string) string { return tc.scheme + "://" + public }}
			env, client := Env(dir), http.DefaultClient
			if tc.scheme == "https" {
				caPEM, cert := probeTestPKI()
				caFile := filepath.Join(dir, "edge-ca.pem")
				if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
					t.Fatal(err)
				}
				opts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
				// Go reads this machine's roots from SSL_CERT_FILE: the edge's CA is trusted the
				// way a public CA is, with no test-only switch in s2s.
				env = append(env, "SSL_CERT_FILE="+caFile, "SSL_CERT_DIR="+dir)
				pool := x509.NewCertPool()
				pool.AppendCertsFromPEM(caPEM)
				client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
			}
			srv, err := tunneltest.NewSSHServer(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			events, stderr, stop := startListenEnv(t, ctx, env, "--tunnel=ssh="+srv.Addr(), "--output", "json", "--addr", "127.0.0.1:0")

			ready := waitEvent(t, ctx, events, stderr, "ready")
			public := <-srv.Forwards()
			if ready.PublicURL != tc.scheme+"://"+public {
				t.Fatalf("ready publicUrl = %q, want the tunnel's %s://%s", ready.PublicURL, tc.scheme, public)
			}
			state, err := listenerState(dir)
			if err != nil || !strings.Contains(string(state), public) {
				t.Errorf("the state file does not carry the public URL: %s %v", state, err)
			}

			jws, err := os.ReadFile("../testdata/vectors/real/01-notification-2022-09-02-TEST-sandbox.jws")
			if err != nil {
				t.Fatal(err)
			}
			body := `{"signedPayload":"` + strings.TrimSpace(string(jws)) + `"}`
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ready.PublicURL+"/apple/notifications", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("POST through the tunnel: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("POST through the tunnel answered %d", resp.StatusCode)
			}
			// The self-check's own POST (to /) and its verdict come in any order around ours.
			var probe listenEvent
			for posted := false; !posted || probe.Event == ""; {
				switch e := waitEvent(t, ctx, events, stderr, ""); {
				case e.Event == "probe":
					probe = e
				case e.Event == "notification" && e.Capture != nil && e.Capture.Path == "/apple/notifications":
					if e.Capture.Type != "TEST" {
						t.Errorf("notification event = %+v", e.Capture)
					}
					posted = true
				}
			}
			if probe.Verdict != tc.verdict || probe.PublicURL != ready.PublicURL {
				t.Errorf("self-check through the tunnel: %s (%s) for %s, want %s for %s",
					probe.Verdict, probe.Message, probe.PublicURL, tc.verdict, ready.PublicURL)
			}

			stop()
			st, err := store.Open(filepath.Join(dir, "captures.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			caps, err := st.List(ctx, store.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			// The self-check's own POST is a signed TEST too; it must be stored as simulated.
			var apple, selfCheck int
			for _, c := range caps {
				switch {
				case c.Type == "TEST" && c.Trust == "verified":
					apple++
				case c.Type == "TEST" && c.Trust == "simulated":
					selfCheck++
				}
			}
			if apple != 1 {
				t.Errorf("store holds %d verified TEST notifications, want the one posted through the tunnel: %+v", apple, caps)
			}
			if tc.verdict == "SUCCESS" && selfCheck != 1 {
				t.Errorf("store holds %d simulated TESTs, want the self-check's one", selfCheck)
			}
			if _, err := os.Stat(filepath.Join(dir, ".s2s-config", tunnel.KnownHostsFile)); err != nil {
				t.Errorf("the SSH host key was not pinned in S2S_CONFIG_DIR: %v", err)
			}
		})
	}
}

// TestListenTunnelHostKeyChanged: a second run against a server whose host key changed must
// refuse to start, loudly.
func TestListenTunnelHostKeyChanged(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, err := tunneltest.NewSSHServer(tunneltest.SSHOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	events, stderr, stop := startListen(t, ctx, dir, "--tunnel=ssh="+srv.Addr(), "--output", "json", "--addr", "127.0.0.1:0")
	waitEvent(t, ctx, events, stderr, "ready")
	stop()

	if err := srv.RotateHostKey(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, Binary, "listen", "--tunnel=ssh="+srv.Addr(), "--output", "json", "--addr", "127.0.0.1:0")
	cmd.Env = Env(dir)
	out, err := cmd.CombinedOutput()
	if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("listen with a changed host key: %v\n%s", err, out)
	}
	for _, want := range []string{"rejected", "host key changed", "known_hosts"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestListenThroughCloudflared runs `s2s listen --tunnel=cloudflared` with the fake cloudflared
// first on PATH: the URL comes from its metrics server, a request through its edge is stored, and
// cloudflared stops with s2s.
func TestListenThroughCloudflared(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	dir := t.TempDir()
	binDir := filepath.Join(dir, "bin")
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(binDir, "cloudflared"), "../tunnel/tunneltest/fakecloudflared")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the fake cloudflared: %v\n%s", err, out)
	}
	pidFile, addrFile := filepath.Join(dir, "cloudflared.pid"), filepath.Join(dir, "cloudflared.addr")
	env := append(Env(dir),
		"PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		tunneltest.FakeCloudflaredEnv+"="+tunneltest.ScenarioOK,
		tunneltest.FakeCloudflaredPIDFile+"="+pidFile,
		tunneltest.FakeCloudflaredAddrFile+"="+addrFile,
		// The self-check then stays on loopback instead of looking the fake name up in DNS.
		tunneltest.FakeCloudflaredLoopback+"=1",
	)
	events, stderr, stop := startListenEnv(t, ctx, env, "--tunnel=cloudflared", "--output", "json", "--addr", "127.0.0.1:0")
	ready := waitEvent(t, ctx, events, stderr, "ready")
	edge, err := os.ReadFile(addrFile)
	if err != nil {
		t.Fatal(err)
	}
	if ready.PublicURL != "https://"+string(edge) {
		t.Fatalf("ready publicUrl = %q, want the fake's https://%s", ready.PublicURL, edge)
	}

	jws, err := os.ReadFile("../testdata/vectors/real/01-notification-2022-09-02-TEST-sandbox.jws")
	if err != nil {
		t.Fatal(err)
	}
	body := `{"signedPayload":"` + strings.TrimSpace(string(jws)) + `"}`
	resp, err := http.Post("http://"+string(edge)+"/apple", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST through the fake edge: %v", err)
	}
	resp.Body.Close()
	if n := waitEvent(t, ctx, events, stderr, "notification"); n.Capture == nil || n.Capture.Type != "TEST" {
		t.Errorf("notification event = %+v", n.Capture)
	}
	if p := waitEvent(t, ctx, events, stderr, "probe"); p.Verdict == "" || p.Verdict == "SUCCESS" {
		// The fake edge speaks plain HTTP on its https:// URL, so the probe must flag TLS.
		t.Errorf("self-check = %+v, want a failing verdict", p)
	}
	stop()
	pid, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(string(pid))
	if processAlive(n) {
		t.Errorf("cloudflared (pid %d) still runs after s2s listen stopped", n)
	}
}

// TestListenTunnelLinesOutput is what a developer reads without a terminal: `--tunnel ssh=ADDR`
// (flag and value as two words) prints the public URL in the ready lines, then the self-check's
// verdict and, since the double's URL is plain HTTP, the warning that notifications are lost.
func TestListenTunnelLinesOutput(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, err := tunneltest.NewSSHServer(tunneltest.SSHOptions{URL: func(_ int, public string) string { return "http://" + public }})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	cmd := exec.CommandContext(ctx, Binary, "listen", "--tunnel", "ssh="+srv.Addr(), "--output", "lines", "--addr", "127.0.0.1:0")
	cmd.Env = Env(dir)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 10 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGINT) // it may have ended already
		_ = cmd.Wait()                         // exit 130 after SIGINT
	}()
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var seen []string
	next := func(prefix string) string {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("listen ended before a line starting %q; stderr so far:\n%s", prefix, strings.Join(seen, "\n"))
				}
				seen = append(seen, l)
				if strings.HasPrefix(l, prefix) {
					return l
				}
			case <-ctx.Done():
				t.Fatalf("no line starting %q: %v; stderr so far:\n%s", prefix, ctx.Err(), strings.Join(seen, "\n"))
			}
		}
	}
	ready := next("Public URL (paste into App Store Connect → App Store Server Notifications): ")
	public := <-srv.Forwards()
	if !strings.HasSuffix(ready, ": http://"+public) {
		t.Errorf("ready line %q does not end with the tunnel's URL http://%s", ready, public)
	}
	check := next("self-check through the public URL: ")
	if !strings.Contains(check, "TLS_ISSUE Apple requires https; this URL is plain http.") {
		t.Errorf("self-check line %q, want TLS_ISSUE for a plain-HTTP public URL", check)
	}
	if warn := next("  "); !strings.Contains(warn, "sandbox notifications sent now are lost") {
		t.Errorf("the line after a failing self-check is %q, want the warning that notifications are lost", warn)
	}
}
