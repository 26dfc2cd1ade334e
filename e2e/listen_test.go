package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/store"
)

// Listener is a running `s2s listen --output json` started by a test.
type Listener struct {
	URL    string
	Ready  map[string]any // the ready event
	Dir    string
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	events chan map[string]any
	done   chan error
}

// StartListener runs the real binary in dir (an isolated home) and waits for its ready event.
func StartListener(t *testing.T, dir string, args ...string) *Listener {
	t.Helper()
	return startReceiver(t, dir, "listen", args...)
}

// startReceiver runs `s2s listen` or `s2s hub` with JSON output and waits for its ready event.
func startReceiver(t *testing.T, dir, command string, args ...string) *Listener {
	t.Helper()
	args = append([]string{command, "--output", "json", "--addr", "127.0.0.1:0"}, args...)
	cmd := exec.Command(Binary, args...)
	cmd.Env = Env(dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	l := &Listener{Dir: dir, cmd: cmd, stderr: &bytes.Buffer{}, events: make(chan map[string]any, 100000), done: make(chan error, 1)}
	cmd.Stderr = l.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var e map[string]any
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				l.events <- e
			}
		}
		close(l.events)
		l.done <- cmd.Wait()
	}()
	t.Cleanup(func() { l.Kill() })
	deadline := time.After(20 * time.Second)
	for {
		select {
		case e, ok := <-l.events:
			if !ok {
				t.Fatalf("listener exited before it was ready: %s", l.stderr)
			}
			if e["event"] == "ready" {
				l.URL = e["url"].(string)
				l.Ready = e
				return l
			}
		case <-deadline:
			t.Fatalf("listener not ready after 20s: %s", l.stderr)
		}
	}
}

// Kill ends the listener with SIGKILL (a crash) and waits for it.
func (l *Listener) Kill() {
	if l.cmd.ProcessState == nil {
		_ = l.cmd.Process.Kill()
		err := <-l.done
		_ = err // SIGKILL: the exit status says nothing
	}
}

// Stop ends the listener with SIGTERM and returns its exit error.
func (l *Listener) Stop(t *testing.T) error {
	t.Helper()
	_ = l.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-l.done:
		l.done <- err
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("listener did not stop within 20s of SIGTERM")
		return nil
	}
}

// Post sends body as Apple does and returns the status (0 when the request failed).
func Post(ctx context.Context, url string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return resp.StatusCode, err
	}
	return resp.StatusCode, nil
}

// RealVector is one file of testdata/vectors/real with its index entry.
type RealVector struct {
	File        string `json:"file"`
	Kind        string `json:"kind"`
	Type        string `json:"notificationType"`
	Subtype     string `json:"subtype"`
	Environment string `json:"environment"`
	JWS         string
}

// RealNotifications returns the real notification vectors (not the standalone transactions).
func RealNotifications(t testing.TB) []RealVector {
	t.Helper()
	files, err := filepath.Glob("../testdata/vectors/real/*-notification-*.jws")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors: %v", err)
	}
	var out []RealVector
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		// The file name carries the type: NN-notification-DATE-TYPE[-SUBTYPE]-ENV.jws
		v := RealVector{File: name, JWS: strings.TrimSpace(string(data))}
		parts := strings.Split(strings.TrimSuffix(name, ".jws"), "-")
		rest := parts[5 : len(parts)-1] // after NN-notification-YYYY-MM-DD
		v.Environment = parts[len(parts)-1]
		v.Type, v.Subtype = splitTypeSubtype(strings.Join(rest, "-"))
		out = append(out, v)
	}
	return out
}

var knownTypes = []string{"DID_CHANGE_RENEWAL_STATUS", "DID_CHANGE_RENEWAL_PREF", "CONSUMPTION_REQUEST", "SUBSCRIBED", "DID_RENEW", "EXPIRED", "REFUND", "TEST"}

func splitTypeSubtype(s string) (string, string) {
	for _, t := range knownTypes {
		if s == t {
			return t, ""
		}
		if strings.HasPrefix(s, t+"-") {
			return t, strings.TrimPrefix(s, t+"-")
		}
	}
	return s, ""
}

// Body wraps a JWS the way Apple sends it.
func Body(jws string) []byte { return []byte(`{"signedPayload":"` + jws + `"}`) }

func capturesListJSON(t *testing.T, dir string, args ...string) []store.Capture {
	t.Helper()
	cmd := exec.Command(Binary, append([]string{"captures", "list", "--json"}, args...)...)
	cmd.Env = Env(dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("captures list: %v\n%s", err, stderrOf(err))
	}
	var caps []store.Capture
	if err := json.Unmarshal(out, &caps); err != nil {
		t.Fatalf("captures list --json is not a JSON array of captures: %v\n%s", err, out)
	}
	return caps
}

func stderrOf(err error) string {
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

// TestListenStoresEveryRealVector posts every real Apple notification as Apple would and finds
// each in `s2s captures list --json` with its type and label.
func TestListenStoresEveryRealVector(t *testing.T) {
	dir := t.TempDir()
	l := StartListener(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	vectors := RealNotifications(t)
	for _, v := range vectors {
		status, err := Post(ctx, l.URL+"apple/notifications", Body(v.JWS))
		if err != nil || status != 200 {
			t.Fatalf("%s: status %d, %v", v.File, status, err)
		}
	}
	// Every acknowledged notification was also reported as an event.
	for range vectors {
		select {
		case e := <-l.events:
			if e["event"] != "notification" {
				t.Fatalf("unexpected event %v", e)
			}
		case <-ctx.Done():
			t.Fatal("missing notification events")
		}
	}
	caps := capturesListJSON(t, dir, "--limit", "1000")
	if len(caps) != len(vectors) {
		t.Fatalf("captures list has %d captures, want %d", len(caps), len(vectors))
	}
	// list is newest first; vectors were posted in file order.
	for i, v := range vectors {
		c := caps[len(caps)-1-i]
		if c.Type != v.Type || c.Subtype != v.Subtype {
			t.Errorf("%s: stored as %s/%s, want %s/%s", v.File, c.Type, c.Subtype, v.Type, v.Subtype)
		}
		// Vector 02 has no signedDate: it is checked at the current time and its leaf has expired.
		want := decode.LabelVerified
		if strings.HasPrefix(v.File, "02-") {
			want = "invalid"
		}
		if c.Trust != want {
			t.Errorf("%s: trust %s (%s), want %s", v.File, c.Trust, c.TrustMessage, want)
		}
	}
	if err := l.Stop(t); err == nil || l.cmd.ProcessState.ExitCode() != 130 {
		t.Errorf("SIGTERM: exit %v, want 130 after a clean shutdown; stderr: %s", err, l.stderr)
	}
	if !strings.Contains(l.stderr.String(), "stopped") {
		t.Errorf("no shutdown message on stderr: %s", l.stderr)
	}
}

// TestListenCrashLosesNothingAcknowledged kills the listener with SIGKILL in the middle of a load
// of concurrent POSTs; after a restart every request that got a 2xx is in the store, byte for byte.
func TestListenCrashLosesNothingAcknowledged(t *testing.T) {
	dir := t.TempDir()
	l := StartListener(t, dir)
	jws := RealNotifications(t)[4].JWS // a real DID_RENEW
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var (
		mu    sync.Mutex
		acked = map[[32]byte][]byte{}
		wg    sync.WaitGroup
		sent  = make(chan struct{}, 1<<16)
	)
	const workers, perWorker = 16, 400
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				// A unique body per request, so each acknowledged one can be found again.
				body := []byte(fmt.Sprintf(`{"signedPayload":"%s","n":"%d-%d"}`, jws, w, i))
				status, err := Post(ctx, l.URL, body)
				if err != nil {
					return // the listener is gone
				}
				if status >= 200 && status < 300 {
					mu.Lock()
					acked[sha256.Sum256(body)] = body
					mu.Unlock()
				}
				sent <- struct{}{}
			}
		}(w)
	}
	// Kill once a good part of the load has been answered, while requests are in flight.
	for i := 0; i < workers*perWorker/3; i++ {
		select {
		case <-sent:
		case <-ctx.Done():
			t.Fatal("load did not progress")
		}
	}
	l.Kill()
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("nothing was acknowledged before the kill")
	}

	// Restart on the same store: it must open cleanly (WAL recovery) and hold every acked body.
	l2 := StartListener(t, dir)
	if err := l2.Stop(t); err == nil || l2.cmd.ProcessState.ExitCode() != 130 {
		t.Fatalf("stopping the restarted listener: %v, want exit 130", err)
	}
	st, err := store.Open(filepath.Join(dir, "captures.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	found := 0
	var before int64
	for {
		page, err := st.List(ctx, store.Filter{Limit: 500, BeforeID: before})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, c := range page {
			full, err := st.Get(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := acked[sha256.Sum256(full.Body)]; ok {
				found++
				delete(acked, sha256.Sum256(full.Body))
			}
			before = c.ID
		}
	}
	if len(acked) != 0 {
		t.Fatalf("%d acknowledged notifications are missing after the crash (%d found)", len(acked), found)
	}
	t.Logf("%d acknowledged notifications all survived SIGKILL", found)
}

// TestListenBadInput sends what a hostile or broken client would; the listener keeps serving and
// loses nothing it acknowledged.
func TestListenBadInput(t *testing.T) {
	dir := t.TempDir()
	l := StartListener(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	host := strings.TrimSuffix(strings.TrimPrefix(l.URL, "http://"), "/")

	acked := 0
	for _, tc := range []struct {
		name string
		body []byte
		want int
	}{
		{"empty body", nil, 200},
		{"invalid JSON", []byte("{not json"), 200},
		{"JWS of garbage", Body("Zm9v.YmFy.YmF6"), 200},
		{"10 MiB body", bytes.Repeat([]byte("A"), 10<<20), 413},
	} {
		status, err := Post(ctx, l.URL, tc.body)
		if err != nil && tc.want != 413 { // the server may close the connection on an oversized body
			t.Fatalf("%s: %v", tc.name, err)
		}
		if err == nil && status != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, status, tc.want)
		}
		if tc.want == 200 {
			acked++
		}
	}

	// A path with .. is stored as sent.
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, l.URL, strings.NewReader("{}"))
	req.URL.Opaque = "/a/../../etc/passwd"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("path with ..: %v", err)
	} else {
		resp.Body.Close()
		acked++
	}

	// A huge header is refused (431) without harm.
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, l.URL, strings.NewReader("{}"))
	req.Header.Set("X-Huge", strings.Repeat("h", 200<<10))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("huge header: status %d, want 431", resp.StatusCode)
		}
		resp.Body.Close()
	}

	// A client that sends half a body and disconnects: nothing stored, nothing answered.
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"signedPayload\":", host)
	conn.Close()

	// A slow-header client holds its connection open but does not stop others being served.
	slow, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "POST / HTTP/1.1\r\nHost: %s\r\n", host)

	status, err := Post(ctx, l.URL, Body(RealNotifications(t)[0].JWS))
	if err != nil || status != 200 {
		t.Fatalf("the listener stopped serving after bad input: %d %v", status, err)
	}
	acked++

	// The slow client is cut off by the header timeout rather than held forever.
	if err := slow.SetReadDeadline(time.Now().Add(15 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	n, _ := slow.Read(buf)
	if n > 0 && !strings.Contains(string(buf[:n]), "408") && !strings.Contains(string(buf[:n]), "400") {
		t.Errorf("slow client got %q", buf[:n])
	}

	caps := capturesListJSON(t, dir, "--limit", "100")
	if len(caps) != acked {
		t.Errorf("%d captures stored, want the %d acknowledged ones", len(caps), acked)
	}
	for _, c := range caps {
		if c.Path == "/a/../../etc/passwd" {
			return
		}
	}
	t.Errorf("the path with .. was not stored as sent")
}

// TestListenFinishesRequestsInFlightOnSIGTERM: a notification whose body is still arriving when
// SIGTERM comes is read to the end, stored, answered 200 and reported on stdout before the
// listener exits with 130. Scripts reading --output json must never miss an acknowledged one.
func TestListenFinishesRequestsInFlightOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	l := StartListener(t, dir)
	host := strings.TrimSuffix(strings.TrimPrefix(l.URL, "http://"), "/")
	body := Body(RealNotifications(t)[4].JWS)

	conn, err := net.DialTimeout("tcp", host, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(40 * time.Second))
	// 100-continue: the interim answer proves the handler is already reading this request.
	fmt.Fprintf(conn, "POST /inflight HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", host, len(body))
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil || !strings.Contains(line, " 100 ") {
		t.Fatalf("no 100 Continue: %q %v", line, err)
	}
	if _, err := br.ReadString('\n'); err != nil { // the blank line ending the interim answer
		t.Fatal(err)
	}
	if _, err := conn.Write(body[:len(body)/2]); err != nil {
		t.Fatal(err)
	}
	if err := l.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Shutdown has begun once new connections are refused.
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", host, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts connections 20s after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := conn.Write(body[len(body)/2:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to the request in flight: %v; stderr: %s", err, l.stderr)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("request in flight answered %d, want 200", resp.StatusCode)
	}
	var exitErr error
	select {
	case exitErr = <-l.done:
	case <-time.After(20 * time.Second):
		t.Fatal("listener did not exit within 20s of SIGTERM")
	}
	if code := l.cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d (%v), want 130; stderr: %s", code, exitErr, l.stderr)
	}
	reported := false
	for e := range l.events {
		if c, ok := e["capture"].(map[string]any); ok && e["event"] == "notification" && c["path"] == "/inflight" {
			reported = true
		}
	}
	if !reported {
		t.Errorf("the notification answered during shutdown was never printed on stdout")
	}
	caps := capturesListJSON(t, dir)
	if len(caps) != 1 || caps[0].Path != "/inflight" || caps[0].Trust != "verified" {
		t.Fatalf("store after shutdown: %+v, want the one request in flight, verified", caps)
	}
}

// TestListenLegacyIdentityAndDuplicates: a version 1 body goes through listen as legacy-v1 (never
// verified), a notification for another app than --bundle-id is stored as invalid/identity with
// the mismatch shown, and a second delivery of the same notificationUUID is marked a duplicate;
// in the JSON events and in `s2s captures list --json` alike.
func TestListenLegacyIdentityAndDuplicates(t *testing.T) {
	dir := t.TempDir()
	l := StartListener(t, dir, "--bundle-id", "com.example.app")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v1 := func(bid string) []byte {
		return []byte(`{"notification_type":"DID_RENEW","environment":"PROD","password":"s3cret","bid":"` + bid + `","auto_renew_product_id":"com.example.monthly","unified_receipt":{"environment":"Production","status":0,"latest_receipt_info":[{"product_id":"com.example.monthly","transaction_id":"1000000000000009","original_transaction_id":"1000000000000001","purchase_date_ms":"1600000000000","expires_date_ms":"1602592000000"}]}}`)
	}
	renew := Body(RealNotifications(t)[4].JWS) // a real DID_RENEW of another app
	for _, body := range [][]byte{v1("com.example.app"), v1("com.other.app"), renew, renew} {
		if status, err := Post(ctx, l.URL+"apple", body); err != nil || status != 200 {
			t.Fatalf("status %d, %v", status, err)
		}
	}
	type want struct{ trust, class, mismatch string }
	wants := []want{
		{"legacy-v1", "", ""},
		{"invalid", "identity", `bid is "com.other.app", not the expected bundle ID "com.example.app"`},
		{"invalid", "identity", `not "com.example.app" (--bundle-id)`},
		{"invalid", "identity", `not "com.example.app" (--bundle-id)`},
	}
	for i, w := range wants {
		var e map[string]any
		select {
		case e = <-l.events:
		case <-ctx.Done():
			t.Fatal("missing notification events")
		}
		c, _ := e["capture"].(map[string]any)
		mismatch, _ := c["identityMismatch"].(string)
		class, _ := c["trustClass"].(string)
		if e["event"] != "notification" || c["trust"] != w.trust || class != w.class || !strings.Contains(mismatch, w.mismatch) {
			t.Errorf("event %d: %v, want trust %s/%s with mismatch %q", i, e, w.trust, w.class, w.mismatch)
		}
	}
	caps := capturesListJSON(t, dir)
	if len(caps) != 4 {
		t.Fatalf("%d captures, want 4", len(caps))
	}
	for i, w := range wants {
		c := caps[len(caps)-1-i]
		if string(c.Trust) != w.trust || string(c.TrustClass) != w.class || !strings.Contains(c.IdentityMismatch, w.mismatch) {
			t.Errorf("capture %d: %s/%s %q, want %s/%s %q", c.ID, c.Trust, c.TrustClass, c.IdentityMismatch, w.trust, w.class, w.mismatch)
		}
		if c.Trust == "verified" {
			t.Errorf("capture %d is labelled verified", c.ID)
		}
	}
	if caps[0].DuplicateOf != caps[1].ID || caps[1].DuplicateOf != 0 {
		t.Errorf("duplicates: newest %d duplicateOf %d, want %d", caps[0].ID, caps[0].DuplicateOf, caps[1].ID)
	}
	if caps[3].Type != "DID_RENEW" || caps[3].ProductID != "com.example.monthly" || caps[3].OriginalTransactionID != "1000000000000001" {
		t.Errorf("V1 summary not stored: %+v", caps[3])
	}

	// The table says it too.
	cmd := exec.Command(Binary, "captures", "list")
	cmd.Env = Env(dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	table := string(out)
	for _, s := range []string{"legacy-v1", "invalid/identity", "identity mismatch", fmt.Sprintf("duplicate of %d, identity mismatch", caps[1].ID)} {
		if !strings.Contains(table, s) {
			t.Errorf("captures list lacks %q:\n%s", s, table)
		}
	}
	if strings.Contains(table, "verified") {
		t.Errorf("captures list shows verified:\n%s", table)
	}
}
