package e2e

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCmds["fwdtarget"] = cmdFwdTarget
}

// fwdtarget NAME [STATUS]: starts a loopback server answering STATUS (200) that plays the
// developer's server; sets $NAME to its URL and writes each request's body to NAME/N.body and
// its headers to NAME/N.headers (N from 1), so scripts can cmp what arrived.
func cmdFwdTarget(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: fwdtarget NAME [STATUS]")
	}
	status := http.StatusOK
	if len(args) == 2 {
		_, err := fmt.Sscanf(args[1], "%d", &status)
		ts.Check(err)
	}
	dir := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(dir, 0o755))
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		n++
		i := n
		mu.Unlock()
		var hdr strings.Builder
		keys := make([]string, 0, len(r.Header))
		for k := range r.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&hdr, "%s: %s\n", k, strings.Join(r.Header[k], ", "))
		}
		// Headers first: a script that sees the body file may read both.
		_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.headers", i)), []byte(hdr.String()), 0o644)
		_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.body", i)), body, 0o644)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "from the developer's server") // s2s keeps what arrives; a hang-up shows in its record
	}))
	ts.Defer(srv.Close)
	ts.Setenv(args[0], srv.URL)
}

// target records what the developer's server receives, for Go tests.
type fwdTarget struct {
	*httptest.Server
	bodies  chan []byte
	headers chan http.Header
}

func startFwdTarget(t *testing.T, l net.Listener, status int) *fwdTarget {
	t.Helper()
	tg := &fwdTarget{bodies: make(chan []byte, 1024), headers: make(chan http.Header, 1024)}
	tg.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		tg.headers <- r.Header.Clone()
		tg.bodies <- b
		w.WriteHeader(status)
	}))
	if l != nil {
		tg.Listener.Close()
		tg.Listener = l
	}
	tg.Start()
	t.Cleanup(tg.Close)
	return tg
}

// waitFwdEvent returns the listener's first JSON event that match accepts.
func waitFwdEvent(t *testing.T, l *Listener, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case e, ok := <-l.events:
			if !ok {
				t.Fatalf("listener exited: %s", l.stderr)
			}
			if match(e) {
				return e
			}
		case <-deadline:
			t.Fatalf("no matching event within 20s; stderr: %s", l.stderr)
			return nil
		}
	}
}

func fwdDelivery(e map[string]any) map[string]any {
	if e["event"] != "delivery" {
		return nil
	}
	d, _ := e["delivery"].(map[string]any)
	return d
}

// TestForwardEveryRealVector: every real Apple notification reaches the developer's server
// byte for byte through the real binary, and each delivery shows up in the JSON output.
func TestForwardEveryRealVector(t *testing.T) {
	dir := t.TempDir()
	tg := startFwdTarget(t, nil, http.StatusOK)
	l := StartListener(t, dir, "--forward-to", tg.URL+"/apple")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	vectors := RealNotifications(t)
	want := map[[32]byte]string{}
	for _, v := range vectors {
		body := Body(v.JWS)
		want[sha256.Sum256(body)] = v.File
		if code, err := Post(ctx, l.URL, body); err != nil || code != 200 {
			t.Fatalf("%s: %d %v", v.File, code, err)
		}
	}
	// Vector 02 has no top-level signedDate and is labelled invalid: not forwarded by default.
	forwarded := 0
	for range vectors {
		d := fwdDelivery(waitFwdEvent(t, l, func(e map[string]any) bool { return fwdDelivery(e) != nil }))
		if d["state"] == "succeeded" {
			forwarded++
			continue
		}
		if !strings.Contains(fmt.Sprint(d["error"]), "--forward-invalid") {
			t.Errorf("delivery %v", d)
		}
	}
	if forwarded < len(vectors)-1 {
		t.Errorf("%d of %d forwarded", forwarded, len(vectors))
	}
	host := strings.TrimSuffix(strings.TrimPrefix(l.URL, "http://"), "/")
	for range forwarded {
		select {
		case b := <-tg.bodies:
			if _, ok := want[sha256.Sum256(b)]; !ok {
				t.Errorf("the target received a body that is not byte for byte a posted one: %.80s", b)
			}
			// The host the notification was sent to, as docs/forwarding.md promises.
			if h := <-tg.headers; h.Get("X-Forwarded-Host") != host || h.Get("X-Forwarded-Proto") != "http" {
				t.Errorf("X-Forwarded-Host %q (want %q), X-Forwarded-Proto %q", h.Get("X-Forwarded-Host"), host, h.Get("X-Forwarded-Proto"))
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the target received too few requests")
		}
	}
}

// TestForwardRetryAcrossRestart: the target is down, the listener says what to do and is killed;
// the target comes up, and the next listener delivers the pending notification.
func TestForwardRetryAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	args := []string{"--forward-to", "http://" + addr + "/apple", "--forward-retries", "1h"}
	l := StartListener(t, dir, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	v := RealNotifications(t)[4]
	body := Body(v.JWS)
	if code, err := Post(ctx, l.URL, body); err != nil || code != 200 {
		t.Fatalf("post: %d %v", code, err)
	}
	d := fwdDelivery(waitFwdEvent(t, l, func(e map[string]any) bool { return fwdDelivery(e) != nil }))
	msg := fmt.Sprint(d["error"])
	if d["state"] != "pending" || !strings.Contains(msg, "nothing listening on "+addr+"; the notification is stored (capture 1)") ||
		!strings.Contains(msg, "s2s replay 1") {
		t.Fatalf("first delivery %v", d)
	}
	l.Kill()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s was taken meanwhile: %v", addr, err)
	}
	tg := startFwdTarget(t, ln, http.StatusOK)
	l2 := StartListener(t, dir, args...)
	d = fwdDelivery(waitFwdEvent(t, l2, func(e map[string]any) bool { return fwdDelivery(e) != nil }))
	if d["state"] != "succeeded" || d["attempt"] != float64(2) || d["captureId"] != float64(1) {
		t.Fatalf("after the restart: %v", d)
	}
	select {
	case b := <-tg.bodies:
		if sha256.Sum256(b) != sha256.Sum256(body) {
			t.Errorf("the retry is not byte for byte the capture")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the target received nothing")
	}
}

// TestPassthroughAnswers: with --respond passthrough, Apple gets the developer's server's answer,
// or 502 when nothing listens there.
func TestPassthroughAnswers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	body := Body(RealNotifications(t)[4].JWS)
	tests := []struct {
		name   string
		target func(t *testing.T) string
		want   int
	}{
		{"the server's 503", func(t *testing.T) string { return startFwdTarget(t, nil, 503).URL }, 503},
		{"the server's 201", func(t *testing.T) string { return startFwdTarget(t, nil, 201).URL }, 201},
		{"nothing listening", func(t *testing.T) string { return fmt.Sprintf("127.0.0.1:%d", FreePort(t)) }, 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := StartListener(t, t.TempDir(), "--respond", "passthrough", "--forward-to", tt.target(t))
			if code, err := Post(ctx, l.URL, body); err != nil || code != tt.want {
				t.Fatalf("Apple got %d (%v), want %d", code, err, tt.want)
			}
		})
	}
}

// TestForwardToItselfStops: a listener whose target is itself stores a few hops and stops, saying
// why, instead of looping.
func TestForwardToItselfStops(t *testing.T) {
	dir := t.TempDir()
	port := FreePort(t)
	// A later --addr overrides the one StartListener puts first.
	l := StartListener(t, dir, "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--forward-to", fmt.Sprint(port))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if code, err := Post(ctx, l.URL, Body(RealNotifications(t)[4].JWS)); err != nil || code != 200 {
		t.Fatalf("post: %d %v", code, err)
	}
	d := fwdDelivery(waitFwdEvent(t, l, func(e map[string]any) bool {
		d := fwdDelivery(e)
		return d != nil && strings.Contains(fmt.Sprint(d["error"]), "s2s listen itself")
	}))
	if d["captureId"] != float64(6) {
		t.Errorf("the loop stopped at capture %v, want 6 (the post and 5 hops)", d["captureId"])
	}
}

// TestForwardHangingTargetDoesNotDelayAnother: a target that accepts connections and never
// answers holds only its own slots; the healthy target beside it gets every notification while
// the other still hangs (its attempts never time out during the test).
func TestForwardHangingTargetDoesNotDelayAnother(t *testing.T) {
	dir := t.TempDir()
	hung := make(chan struct{})
	entered := make(chan struct{}, 1024)
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		select {
		case <-hung:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hanging.Close)
	t.Cleanup(func() { close(hung) }) // runs before hanging.Close
	healthy := startFwdTarget(t, nil, http.StatusOK)
	l := StartListener(t, dir, "--forward-to", hanging.URL, "--forward-to", healthy.URL, "--forward-timeout", "1h")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	vectors := RealNotifications(t) // many more than one target's slots
	for _, v := range vectors {
		if code, err := Post(ctx, l.URL, Body(v.JWS)); err != nil || code != 200 {
			t.Fatalf("%s: %d %v", v.File, code, err)
		}
	}
	succeeded := 0
	for succeeded < len(vectors)-1 { // vector 02 is invalid: not forwarded
		d := fwdDelivery(waitFwdEvent(t, l, func(e map[string]any) bool { return fwdDelivery(e) != nil }))
		if d["target"] == hanging.URL && d["state"] != "failed" {
			t.Fatalf("the hanging target's delivery ended while it hangs: %v", d)
		}
		if d["target"] == healthy.URL+"/" || d["target"] == healthy.URL {
			if d["state"] == "succeeded" {
				succeeded++
			} else if !strings.Contains(fmt.Sprint(d["error"]), "--forward-invalid") {
				t.Fatalf("healthy target: %v", d)
			}
		}
	}
	select {
	case <-entered:
	case <-ctx.Done():
		t.Error("the hanging target received nothing")
	}
}
