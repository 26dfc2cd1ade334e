//go:build unix

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/appstore/appstoretest"
	"github.com/s2s-dev/s2s/appstoreconnect/appstoreconnecttest"
	"github.com/s2s-dev/s2s/fixtures"
	"github.com/s2s-dev/s2s/tunnel/tunneltest"
)

// connectListen is a running `s2s listen --output json --connect …` started by a test.
type connectListen struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	events chan listenEvent
	done   chan struct{}
}

// vectorsDir is the repository's copy of Apple's vectors (the team key the stand-in accepts).
func vectorsDir(t *testing.T) string {
	d, err := filepath.Abs("../testdata/vectors")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// connectTest is what a listen --connect test starts from: the App Store Connect stand-in (closed
// at cleanup, after the listens the test started), a home directory, and the binary's environment
// pointing at both.
type connectTest struct {
	srv *appstoreconnecttest.Server
	dir string
	env []string
}

// newConnectTest returns a connectTest and a context that ends after timeout.
func newConnectTest(t *testing.T, timeout time.Duration) (context.Context, *connectTest) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	srv, err := newASCStandIn(vectorsDir(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	return ctx, &connectTest{srv: srv, dir: dir, env: append(Env(dir), ascEnv(srv, vectorsDir(t))...)}
}

// originalSandbox is the stand-in app's sandbox URL and version before any test changes them.
const originalSandbox = "https://sandbox.example.com/apple V2"

func startConnectListen(t *testing.T, env []string, args ...string) *connectListen {
	t.Helper()
	cmd := exec.Command(Binary, append([]string{"listen", "--output", "json", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = env
	l := &connectListen{cmd: cmd, stderr: &bytes.Buffer{}, events: make(chan listenEvent, 256), done: make(chan struct{})}
	cmd.Stderr = l.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(l.done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		for sc.Scan() {
			var e listenEvent
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				l.events <- e
			}
		}
		close(l.events)
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-l.done
		}
	})
	return l
}

// wait returns the next event of kind.
func (l *connectListen) wait(t *testing.T, ctx context.Context, kind string) listenEvent {
	t.Helper()
	return waitEvent(t, ctx, l.events, l.stderr, kind)
}

// exit waits for the process and returns its exit code.
func (l *connectListen) exit(t *testing.T, ctx context.Context) int {
	t.Helper()
	select {
	case <-l.done:
	case <-ctx.Done():
		t.Fatalf("s2s listen did not exit; stderr:\n%s", l.stderr)
	}
	return l.cmd.ProcessState.ExitCode()
}

func sandboxOf(t *testing.T, srv *appstoreconnecttest.Server) string {
	t.Helper()
	a, ok := srv.App(ascAppID)
	if !ok {
		t.Fatal("the stand-in lost the app")
	}
	return a.SandboxURL + " " + a.SandboxVersion
}

// noKeyIn fails if any line of the team key's .p8 appears in s.
func noKeyIn(t *testing.T, where, s string) {
	t.Helper()
	key, err := os.ReadFile(ascKeyPath(vectorsDir(t)))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(key), "\n") {
		if line = strings.TrimSpace(line); len(line) > 16 && !strings.HasPrefix(line, "-----") && strings.Contains(s, line[:16]) {
			t.Errorf("%s shows the private key", where)
		}
	}
	if strings.Contains(s, "eyJhbGci") || strings.Contains(s, "Bearer") {
		t.Errorf("%s shows a token", where)
	}
}

// TestListenConnectRestoresOnSignal: with --public-url and --connect, the sandbox URL points at
// the public URL (V2) once listen is ready, the saved value is in the state directory, and SIGINT
// or SIGTERM put it back (exit 130); Production is never touched; the key never shows.
func TestListenConnectRestoresOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			ctx, s := newConnectTest(t, 60*time.Second)
			srv, dir, env := s.srv, s.dir, s.env
			const public = "https://127.0.0.1:1/s2s"
			l := startConnectListen(t, env, "--public-url", public, "--connect", ascBundleID)
			if e := l.wait(t, ctx, "ready"); e.PublicURL != public {
				t.Errorf("ready event's public URL = %q", e.PublicURL)
			}
			e := l.wait(t, ctx, "connect")
			if !strings.Contains(e.Message, "sandbox notifications for com.example.s2s now come to "+public) ||
				!strings.Contains(e.Message, "restored to https://sandbox.example.com/apple (V2) when listen stops") {
				t.Errorf("connect event: %+v", e)
			}
			if got := sandboxOf(t, srv); got != public+" V2" {
				t.Errorf("sandbox during listen = %q", got)
			}
			if _, err := os.Stat(filepath.Join(dir, ".s2s-state", "connect-com.example.s2s.json")); err != nil {
				t.Errorf("no restore record: %v", err)
			}
			if err := l.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := l.exit(t, ctx); code != 130 {
				t.Errorf("exit %d, want 130; stderr:\n%s", code, l.stderr)
			}
			if got := sandboxOf(t, srv); got != originalSandbox {
				t.Errorf("sandbox after %s = %q", sig, got)
			}
			if !strings.Contains(l.stderr.String(), "App Store Connect: the sandbox URL of com.example.s2s is restored to https://sandbox.example.com/apple (V2).") {
				t.Errorf("stderr does not say it restored:\n%s", l.stderr)
			}
			if _, err := os.Stat(filepath.Join(dir, ".s2s-state", "connect-com.example.s2s.json")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the restore record is still there: %v", err)
			}
			if a, _ := srv.App(ascAppID); a.ProductionURL != "https://api.example.com/apple" {
				t.Errorf("production changed: %+v", a)
			}
			noKeyIn(t, "stderr", l.stderr.String())
		})
	}
}

// TestListenConnectAfterSIGKILL: a listen killed with SIGKILL cannot restore; the record it left
// makes `connect status` say a restore is pending and `connect restore` put the old value back.
// The same record is used by the next listen --connect, and a sandbox URL that was unset is unset
// again.
func TestListenConnectAfterSIGKILL(t *testing.T) {
	ctx, s := newConnectTest(t, 90*time.Second)
	srv, env := s.srv, s.env
	run := func(args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.CommandContext(ctx, Binary, args...)
		cmd.Env = env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		noKeyIn(t, "output", out.String()+errOut.String())
		return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
	}

	kill := func(public string) {
		t.Helper()
		l := startConnectListen(t, env, "--public-url", public, "--connect", ascBundleID)
		l.wait(t, ctx, "connect")
		if err := l.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		l.exit(t, ctx)
		if got := sandboxOf(t, srv); got != public+" V2" {
			t.Fatalf("sandbox after SIGKILL = %q", got)
		}
	}

	kill("https://127.0.0.1:1/first")
	out, _, code := run("connect", "status", "--bundle-id", ascBundleID)
	if code != 0 || !strings.Contains(out, "Restore pending") || !strings.Contains(out, "https://sandbox.example.com/apple (V2)") {
		t.Errorf("status after SIGKILL (exit %d):\n%s", code, out)
	}
	out, _, code = run("connect", "status", "--bundle-id", ascBundleID, "--json")
	var st struct {
		PendingRestore *struct {
			URL     string `json:"url"`
			Running bool   `json:"running"`
		} `json:"pendingRestore"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.PendingRestore == nil || st.PendingRestore.URL != "https://sandbox.example.com/apple" || st.PendingRestore.Running {
		t.Errorf("status --json after SIGKILL (exit %d): %s", code, out)
	}
	out, _, code = run("connect", "restore", "--bundle-id", ascBundleID)
	if code != 0 || !strings.Contains(out, "restored to https://sandbox.example.com/apple (V2)") {
		t.Errorf("restore (exit %d): %s", code, out)
	}
	if got := sandboxOf(t, srv); got != originalSandbox {
		t.Errorf("sandbox after connect restore = %q", got)
	}

	// No sandbox URL before: the next listen finds the record of a killed one, restores (unset)
	// first, and its own stop unsets it again.
	a, _ := srv.App(ascAppID)
	a.SandboxURL, a.SandboxVersion = "", ""
	srv.SetApp(a)
	kill("https://127.0.0.1:1/second")
	l := startConnectListen(t, env, "--public-url", "https://127.0.0.1:1/third", "--connect", ascBundleID)
	notes := l.wait(t, ctx, "connect").Message + "\n" + l.wait(t, ctx, "connect").Message
	if !strings.Contains(notes, "had not restored") || !strings.Contains(notes, "unset again") {
		t.Errorf("second start's notes:\n%s", notes)
	}
	if got := sandboxOf(t, srv); got != "https://127.0.0.1:1/third V2" {
		t.Errorf("sandbox during the second listen = %q", got)
	}
	_ = l.cmd.Process.Signal(syscall.SIGTERM)
	l.exit(t, ctx)
	if got := sandboxOf(t, srv); got != " " {
		t.Errorf("sandbox after the second listen = %q, want null again", got)
	}
	if !strings.Contains(l.stderr.String(), "unset again, as it was (Apple sends sandbox notifications to the production URL)") {
		t.Errorf("stderr:\n%s", l.stderr)
	}
}

// TestListenConnectFollowsTunnelURL: when the tunnel comes back at another URL, the sandbox URL
// follows it; the stop restores the original.
func TestListenConnectFollowsTunnelURL(t *testing.T) {
	ctx, s := newConnectTest(t, 90*time.Second)
	srv, env := s.srv, s.env
	// Each forward gets its own loopback port: the URL changes on reconnection, and the
	// self-check stays on this machine.
	ssh, err := tunneltest.NewSSHServer(tunneltest.SSHOptions{URL: func(_ int, public string) string { return "https://" + public }})
	if err != nil {
		t.Fatal(err)
	}
	defer ssh.Close()
	l := startConnectListen(t, env, "--tunnel", "ssh="+ssh.Addr(), "--connect", ascBundleID)
	first := l.wait(t, ctx, "ready").PublicURL
	l.wait(t, ctx, "connect")
	if got := sandboxOf(t, srv); got != first+" V2" {
		t.Fatalf("sandbox = %q, want %s", got, first)
	}
	ssh.DropAll()
	var second string
	for second == "" {
		e := l.wait(t, ctx, "connect")
		if e.Err != "" {
			t.Fatalf("following the new URL failed: %+v", e)
		}
		if e.PublicURL != "" && e.PublicURL != first {
			second = e.PublicURL
		}
	}
	if got := sandboxOf(t, srv); got != second+" V2" {
		t.Errorf("sandbox after the URL change = %q, want %s", got, second)
	}
	_ = l.cmd.Process.Signal(syscall.SIGINT)
	if code := l.exit(t, ctx); code != 130 {
		t.Errorf("exit %d; stderr:\n%s", code, l.stderr)
	}
	if got := sandboxOf(t, srv); got != originalSandbox {
		t.Errorf("sandbox after the stop = %q", got)
	}
}

// TestListenConnectWrongKey: a key Apple does not accept stops listen at start with exit 1 and a
// clear message, before anything is changed, and without showing the key.
func TestListenConnectWrongKey(t *testing.T) {
	ctx, s := newConnectTest(t, 60*time.Second)
	srv, env := s.srv, s.env
	env = append(env, "S2S_ASC_KEY_ID=WRONGKEY00")
	l := startConnectListen(t, env, "--public-url", "https://127.0.0.1:1/s2s", "--connect", ascBundleID)
	if code := l.exit(t, ctx); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(l.stderr.String(), "HTTP 401") || !strings.Contains(l.stderr.String(), "Apple rejected the token") {
		t.Errorf("stderr:\n%s", l.stderr)
	}
	noKeyIn(t, "stderr", l.stderr.String())
	if got := sandboxOf(t, srv); got != originalSandbox {
		t.Errorf("sandbox = %q", got)
	}
}

// TestListenConnectTUIQuit: in the TUI, the header says what --connect changed and what it puts
// back; q restores it (exit 0).
func TestListenConnectTUIQuit(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	srv, err := newASCStandIn(vectorsDir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// startTUI runs the binary with this process's environment.
	for _, kv := range ascEnv(srv, vectorsDir(t)) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	const public = "https://127.0.0.1:1/s2s"
	tm, exitFile := startTUI(t, dir, 130, 30, true, "--addr", "127.0.0.1:0", "--public-url", public, "--connect", ascBundleID)
	tm.waitText("App Store Connect: sandbox notifications for com.example.s2s now come to "+public,
		"restored to https://sandbox.example.com/apple (V2) when listen stops")
	if got := sandboxOf(t, srv); got != public+" V2" {
		t.Errorf("sandbox during listen = %q", got)
	}
	tm.keys("q")
	if code := tm.waitExit(exitFile); code != "0" {
		t.Errorf("exit %s", code)
	}
	if got := sandboxOf(t, srv); got != originalSandbox {
		t.Errorf("sandbox after q = %q", got)
	}
	stderr, _ := os.ReadFile(filepath.Join(dir, "stderr.txt"))
	if !strings.Contains(string(stderr), "restored to https://sandbox.example.com/apple (V2)") {
		t.Errorf("stderr after q:\n%s", stderr)
	}
	noKeyIn(t, "stderr", string(stderr))
	if log, err := os.ReadFile(filepath.Join(dir, ".local", "share", "s2s", "s2s.log")); err == nil {
		noKeyIn(t, "the log", string(log))
	}
}

// TestListenConnectOneAtATime: a second listen --connect for the same app is refused while the
// first runs; a sandbox URL changed by someone else meanwhile is left alone at the stop.
func TestListenConnectOneAtATime(t *testing.T) {
	ctx, s := newConnectTest(t, 60*time.Second)
	srv, env := s.srv, s.env
	first := startConnectListen(t, env, "--public-url", "https://127.0.0.1:1/first", "--connect", ascBundleID)
	first.wait(t, ctx, "connect")

	second := startConnectListen(t, env, "--public-url", "https://127.0.0.1:1/second", "--connect", ascBundleID)
	if code := second.exit(t, ctx); code != 1 || !strings.Contains(second.stderr.String(), "another s2s listen (pid ") {
		t.Errorf("second listen: exit %d, stderr:\n%s", code, second.stderr)
	}
	if got := sandboxOf(t, srv); got != "https://127.0.0.1:1/first V2" {
		t.Errorf("sandbox after the refused second listen = %q", got)
	}

	// A teammate points the sandbox URL elsewhere while listen runs.
	a, _ := srv.App(ascAppID)
	a.SandboxURL = "https://teammate.example.com/apple"
	srv.SetApp(a)
	_ = first.cmd.Process.Signal(syscall.SIGINT)
	first.exit(t, ctx)
	if got := sandboxOf(t, srv); got != "https://teammate.example.com/apple V2" {
		t.Errorf("sandbox after the stop = %q, want the teammate's left alone", got)
	}
	if !strings.Contains(first.stderr.String(), "was changed to https://teammate.example.com/apple (V2) while listen ran; left as it is") {
		t.Errorf("stderr:\n%s", first.stderr)
	}
}

// TestListenConnectTUIAppleTest: with --connect and the In-App Purchase key configured, t asks
// Apple (here its stand-in) for a TEST notification, and the notification Apple then delivers
// appears in the list.
func TestListenConnectTUIAppleTest(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	asc, err := newASCStandIn(vectorsDir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer asc.Close()
	dir := t.TempDir()
	port := FreePort(t)
	keyPath := ascKeyPath(vectorsDir(t))
	key, err := appstore.LoadPrivateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := fixtures.LoadOrCreateChain(filepath.Join(dir, ".s2s-config"))
	if err != nil {
		t.Fatal(err)
	}
	// Apple delivers to the URL App Store Connect names; here that is the listener itself.
	apple, err := appstoretest.New(appstoretest.Options{
		KeyID: standInKeyID, IssuerID: standInIssuer, BundleID: ascBundleID, PublicKey: key.Public(),
		Signer: chain, NotificationURL: fmt.Sprintf("http://127.0.0.1:%d/apple", port),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer apple.Close()
	for _, kv := range append(ascEnv(asc, vectorsDir(t)),
		"S2S_APPSTORE_URL="+apple.URL, "S2S_KEY_ID="+standInKeyID, "S2S_ISSUER_ID="+standInIssuer, "S2S_PRIVATE_KEY="+keyPath) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	tm, exitFile := startTUI(t, dir, 130, 30, true, "--addr", fmt.Sprintf("127.0.0.1:%d", port),
		"--public-url", "https://127.0.0.1:1/s2s", "--connect", ascBundleID)
	tm.waitText("App Store Connect: sandbox notifications for com.example.s2s")
	tm.keys("t")
	tm.waitText("TEST", "simulated")
	if reqs := apple.Requests(); !slices.ContainsFunc(reqs, func(r appstoretest.Request) bool {
		return r.Method == "POST" && r.Path == "/inApps/v1/notifications/test" && r.Status == 200
	}) {
		t.Errorf("t did not ask Apple for a TEST notification: %+v", reqs)
	}
	tm.keys("q")
	tm.waitExit(exitFile)
}
