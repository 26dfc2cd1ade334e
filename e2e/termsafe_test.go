package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/appstore/appstoretest"
)

// evil is what an anonymous sender (or a hostile server) puts in every field it controls: OSC 52
// (write the clipboard), OSC 0 (window title), OSC 8 (a link), clear screen, a carriage return to
// overwrite the line, C1 CSI, bidi override and isolate, zero-width characters, a newline.
const evil = "\x1b]52;c;ZXZpbA==\x07\x1b]0;pwned\x07\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\\x1b[2J\rOVERWRITE\u009b31m\u202egnp.exe\u2066\u200b\u200d\ufeff\nNEWLINE"

// invalidUTF8 stands for raw bytes that are not UTF-8, put into payloads where JSON allows it.
const invalidUTF8 = "\xff\xfe\xc0\xaf"

// assertTerminalSafe fails when out holds anything that drives or garbles a terminal: ESC, BEL,
// a carriage return, a C1 control, a bidi or zero-width (format) character, a line or paragraph
// separator, invalid UTF-8.
func assertTerminalSafe(t *testing.T, where string, out []byte) {
	t.Helper()
	if !utf8.Valid(out) {
		t.Errorf("%s: invalid UTF-8 in the output:\n%q", where, out)
		return
	}
	for i, r := range string(out) {
		bad := r == 0x1b || r == 0x07 || r == '\r' || r == 0x7f || (r < 0x20 && r != '\n' && r != '\t') ||
			(r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r)
		if bad {
			lo, hi := max(0, i-60), min(len(out), i+60)
			t.Errorf("%s: %U reaches the terminal at byte %d: …%q…", where, r, i, out[lo:hi])
			return
		}
	}
}

// assertShownEscaped fails unless the payload's text reached the output, visibly escaped.
func assertShownEscaped(t *testing.T, where string, out []byte) {
	t.Helper()
	if !strings.Contains(string(out), `\x1b]52;c;ZXZpbA==\x07`) {
		t.Errorf("%s: the escape sequence is not shown as text:\n%s", where, out)
	}
}

// evilJWS signs payload with a chain s2s does not trust: the signature is good, the label
// invalid, and every decoded field is the sender's. (A payload that is not UTF-8 is refused before
// any field is read, so invalid bytes come in the headers, a body that is not JSON and the
// servers' answers.)
func evilJWS(t *testing.T, chain *appstoretest.Chain, payload map[string]any) string {
	t.Helper()
	raw, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := chain.Sign(raw)
	if err != nil {
		t.Fatal(err)
	}
	return jws
}

// evilServer answers /redirect with a redirect to an evil Location and everything else with a 500
// whose headers and body are evil, written by hand so that nothing on the server's side cleans
// them. It returns the server's base URL; with TLS, its certificate is probe's test PKI.
func evilServer(t *testing.T, withTLS bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	scheme := "http://"
	if withTLS {
		_, cert := probeTestPKI()
		l, scheme = tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}}), "https://"
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					body := "refused: " + evil + invalidUTF8 + "\n" + strings.Repeat("long ", 2000)
					// Header values hold what HTTP parsers let through: C1 as UTF-8, bidi,
					// zero-width, obs-text bytes.
					hdr := "\u009b31m\u202e\u200b" + invalidUTF8
					status := "500 Internal Server Error"
					if req.URL.Path == "/redirect" {
						status = "307 Temporary Redirect"
					}
					fmt.Fprintf(c, "HTTP/1.1 %s\r\nLocation: /x%s\r\nServer: %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s",
						status, hdr, hdr, len(body), body)
				}
			}()
		}
	}()
	return scheme + l.Addr().String()
}

// runS2S runs the binary in dir and returns stdout and stderr, whatever the exit status.
func runS2S(t *testing.T, dir string, env []string, args ...string) ([]byte, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary, args...)
	cmd.Env = append(Env(dir), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("s2s %s did not finish: %v", strings.Join(args, " "), err)
	}
	return []byte(stdout.String()), []byte(stderr.String())
}

// lockedBuffer collects a process's stderr while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.b...)
}

// TestEscapeSequencesNeverReachTheTerminal posts notifications whose every field is hostile, and
// answers every outgoing request from a hostile server, then runs each command that shows them
// to a person: nothing that drives a terminal comes out, and the text is there, escaped.
func TestEscapeSequencesNeverReachTheTerminal(t *testing.T) {
	dir := t.TempDir()
	chain, err := appstoretest.NewChain()
	if err != nil {
		t.Fatal(err)
	}
	evilBase := evilServer(t, false)
	tlsBase := evilServer(t, true) // for probe, which refuses http://
	caPEM, _ := probeTestPKI()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	evilURL, redirectURL := evilBase+"/apple", evilBase+"/redirect"
	now := time.Now().UnixMilli()
	tx := evilJWS(t, chain, map[string]any{
		"transactionId": "1" + evil, "originalTransactionId": "2" + evil, "productId": "com.x" + evil,
		"bundleId": "com.x" + evil, "purchaseDate": now, "signedDate": now, "environment": "Sandbox" + evil,
		"x" + evil: "key" + evil,
	})
	jws := evilJWS(t, chain, map[string]any{
		"notificationType": "DID_RENEW" + evil, "subtype": "VOLUNTARY" + evil, "notificationUUID": "u" + evil,
		"version": "2.0", "signedDate": now,
		"data": map[string]any{
			"bundleId": "com.x" + evil, "environment": "Sandbox" + evil, "appAppleId": 1,
			"signedTransactionInfo": tx, "note": strings.Repeat("long", 5000) + evil,
		},
	})
	body := Body(jws)
	v1, err := json.Marshal(map[string]any{
		"notification_type": "DID_RENEW" + evil, "environment": "PROD" + evil, "bid": "com.x" + evil,
		"auto_renew_product_id": "com.x" + evil, "password": "p" + evil,
	})
	if err != nil {
		t.Fatal(err)
	}
	bodyFile := filepath.Join(dir, "evil.json")
	if err := os.WriteFile(bodyFile, body, 0o644); err != nil {
		t.Fatal(err)
	}
	outputs := map[string][]byte{}
	record := func(name string, stdout, stderr []byte) {
		outputs[name+" (stdout)"], outputs[name+" (stderr)"] = stdout, stderr
	}

	// listen --output lines, forwarding to the hostile server and expecting another bundle ID,
	// so the lines quote the payload's fields, the identity mismatch and the server's answer.
	port := FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	listen := exec.CommandContext(ctx, Binary, "listen", "--output", "lines", "--addr", fmt.Sprintf("127.0.0.1:%d", port),
		"--bundle-id", "com.example.good", "--forward-to", redirectURL, "--forward-to", evilURL, "--forward-invalid", "--forward-retries", "none")
	listen.Env = Env(dir)
	stdoutPipe, err := listen.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	listenErr := &lockedBuffer{}
	listen.Stderr = listenErr
	if err := listen.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	var listenOut strings.Builder
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stdoutPipe)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			listenOut.WriteString(sc.Text() + "\n")
			lines <- sc.Text()
		}
		close(lines)
	}()
	if err := WaitHTTP(ctx, base+"/"); err != nil {
		t.Fatal(err)
	}
	notJSON := []byte("not json " + evil + invalidUTF8)
	for _, b := range [][]byte{body, v1, notJSON} {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/apple", strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Evil", "\u009b31m\u202e\u200b"+invalidUTF8)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// Three capture lines, and the first one's deliveries to both targets (which fail).
	want := map[string]bool{"  #1": true, "  #2": true, "  #3": true, "forward #1 → " + evilURL: true, "forward #1 → " + redirectURL: true}
	for len(want) > 0 {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("listen ended early: %s", listenErr.Bytes())
			}
			for w := range want {
				if strings.Contains(line, w) {
					delete(want, w)
				}
			}
		case <-ctx.Done():
			t.Fatalf("listen printed:\n%s\nstderr:\n%s", listenOut.String(), listenErr.Bytes())
		}
	}
	if err := terminate(listen.Process.Pid); err != nil {
		t.Fatal(err)
	}
	<-readDone
	_ = listen.Wait()
	record("listen --output lines", []byte(listenOut.String()), listenErr.Bytes())

	for _, args := range [][]string{
		{"captures", "list"},
		{"captures", "show", "1"},
		{"captures", "show", "2"},
		{"captures", "stats"},
		{"decode", bodyFile},
		{"decode", "--bundle-id", "com.example.good", "--environment", "Production", bodyFile},
		{"decode", "1"},
		{"decode", "2"},
		{"decode", "3"},
		{"captures", "show", "3"},
		{"decode", "-"}, // stdin: nothing, an error quoting nothing hostile
		{"replay", "1", "2", "--to", evilURL},
		{"replay", "1", "--to", redirectURL},
		{"replay", "1", "2", "--to", evilURL, "--dry-run"},
		{"send-test", evilURL},
		{"send-test", evilURL, "--count", "3"},
		{"probe", tlsBase + "/apple", "--ca", caFile},
		{"probe", tlsBase + "/redirect", "--ca", caFile},
	} {
		stdout, stderr := runS2S(t, dir, nil, args...)
		record(strings.Join(args, " "), stdout, stderr)
	}

	// history: Apple's answers are remote text too, a signed payload's fields and Apple's error
	// messages alike.
	keyPath := filepath.Join("..", "testdata", "vectors", "apple-lib-mock", "certs", "testSigningKey.p8")
	key, err := appstore.LoadPrivateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	srv := appstoretest.Start(t, appstoretest.Options{KeyID: standInKeyID, IssuerID: standInIssuer, BundleID: standInBundleID, PublicKey: key.Public()})
	if _, err := srv.AddNotification(appstoretest.Notification{Type: "REFUND" + evil, Subtype: evil, SignedDate: time.Now().Add(-time.Hour),
		ProductID: "com.x" + evil, TransactionID: "1", OriginalTransactionID: "1"},
		appstore.SendAttempt{AttemptDate: appstore.ToMillis(time.Now().Add(-time.Hour)), SendAttemptResult: appstore.SendAttemptResult("WEIRD" + evil)}); err != nil {
		t.Fatal(err)
	}
	apple := []string{"S2S_APPSTORE_URL=" + srv.URL, "S2S_KEY_ID=" + standInKeyID, "S2S_ISSUER_ID=" + standInIssuer,
		"S2S_PRIVATE_KEY=" + keyPath, "S2S_BUNDLE_ID=" + standInBundleID}
	stdout, stderr := runS2S(t, dir, apple, "history", "--since", "1d")
	record("history", stdout, stderr)
	assertShownEscaped(t, "history", stdout)
	srv.InjectFaults("/inApps/v1/notifications/history", appstoretest.Fault{Status: 400, Code: 4000000, Message: "bad" + evil})
	stdout, stderr = runS2S(t, dir, apple, "history", "--since", "1d")
	record("history, Apple's error", stdout, stderr)

	for name, out := range outputs {
		assertTerminalSafe(t, name, out)
	}
	for _, name := range []string{"listen --output lines (stdout)", "captures list (stdout)", "captures show 1 (stdout)",
		"captures show 2 (stdout)", "decode " + bodyFile + " (stdout)", "decode 2 (stdout)", "captures stats (stdout)"} {
		assertShownEscaped(t, name, outputs[name])
	}
	// A newline inside a field never starts a line of its own, and a long value is cut visibly.
	for name, out := range outputs {
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "NEWLINE") || strings.HasPrefix(line, "OVERWRITE") {
				t.Errorf("%s: a field's newline started a line: %q", name, line)
			}
		}
	}
	if show := string(outputs["decode "+bodyFile+" (stdout)"]); !strings.Contains(show, "more bytes)") {
		t.Errorf("decode: the 20 kB field is not cut:\n%s", show)
	}
	if t.Failed() {
		for name, out := range outputs {
			t.Logf("%s:\n%s", name, out)
		}
	}
}
