package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/fixtures"
	"github.com/s2s-dev/s2s/store"
)

// TestDecodeRealtimeRequest: s2s decode verifies an Apple-shaped Retention Messaging real-time
// request (the body Apple posts to a Get Retention Message endpoint) and says what it is.
func TestDecodeRealtimeRequest(t *testing.T) {
	dir := t.TempDir()
	chain, err := fixtures.LoadOrCreateChain(filepath.Join(dir, ".s2s-config"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := chain.RealtimeRequest(fixtures.Overrides{Environment: "Production", Sets: []string{"userLocale=ja-JP"}})
	if err != nil {
		t.Fatal(err)
	}
	body := filepath.Join(dir, "realtime.json")
	if err := os.WriteFile(body, r.Body, 0o600); err != nil {
		t.Fatal(err)
	}
	out := stRun(t, dir, "decode", "--root", chain.RootPath(), "--environment", "Production", "--app-apple-id", "6450000001", body)
	if !strings.Contains(string(out), "realtime-request  Production") || !strings.Contains(string(out), "locale=ja-JP") || !strings.Contains(string(out), "simulated") {
		t.Errorf("decode:\n%s", out)
	}
	var j struct {
		Summary struct {
			Kind              string `json:"kind"`
			Label             string `json:"label"`
			RequestIdentifier string `json:"requestIdentifier"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(stRun(t, dir, "decode", "--json", "--root", chain.RootPath(), body), &j); err != nil {
		t.Fatal(err)
	}
	if j.Summary.Kind != "realtime-request" || j.Summary.Label != "simulated" || j.Summary.RequestIdentifier != r.RequestIdentifier {
		t.Errorf("decode --json summary: %+v", j.Summary)
	}
	// Another app in Production: invalid/identity, exit 3, as Apple's verifyAndDecodeRealtimeRequest.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary, "decode", "--root", chain.RootPath(), "--environment", "Production", "--app-apple-id", "6450000002", body)
	cmd.Env = Env(dir)
	got, err := cmd.CombinedOutput()
	if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.Contains(string(got), "appAppleId 6450000001, not 6450000002") {
		t.Errorf("decode for another app: %v\n%s", err, got)
	}
}

// realtimeServer is a Get Retention Message endpoint answering with answer; an answer of "" never
// answers: it waits until the client gives up (or the test ends).
func realtimeServer(t *testing.T, answer func(body []byte) (int, string)) string {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		status, body := answer(b)
		if status == 0 {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv.URL + "/retention"
}

// stRunCode runs the binary and returns its stdout, stderr and exit code.
func stRunCode(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary, args...)
	cmd.Env = Env(dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// TestSendTestRealtime: send-test --realtime signs a real-time request, sends it, validates the
// answer precisely and times it against the budget; exit 0 valid, 3 invalid or too slow, 1 unsent.
func TestSendTestRealtime(t *testing.T) {
	dir := t.TempDir()
	// The endpoint checks what it gets as a developer's server would: a verified real-time request.
	var gotKind decode.Kind
	var mu sync.Mutex
	ok := realtimeServer(t, func(b []byte) (int, string) {
		chain, err := fixtures.LoadChain(filepath.Join(dir, ".s2s-config"))
		if err != nil {
			return 500, err.Error()
		}
		d := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{chain.Root()}, Environment: "Sandbox"}).DecodeRealtimeBody(b)
		mu.Lock()
		gotKind = d.Kind
		mu.Unlock()
		if d.Verification.Label != decode.LabelSimulated {
			return 400, d.Verification.Message
		}
		return 200, `{"message":{"messageIdentifier":"a1b2c3d4-0000-4000-8000-000000000001"}}`
	})
	out, errOut, code := stRunCode(t, dir, "send-test", "--realtime", ok, "--set", "userLocale=fr-FR")
	if code != 0 || !strings.Contains(out, "HTTP 200 in") || !strings.Contains(out, "valid: message") || !strings.Contains(out, "fr-FR") {
		t.Fatalf("valid answer: exit %d\n%s%s", code, out, errOut)
	}
	mu.Lock()
	if gotKind != decode.KindRealtimeRequest {
		t.Errorf("the endpoint got a %s", gotKind)
	}
	mu.Unlock()
	var a struct {
		Valid        bool     `json:"valid"`
		WithinBudget bool     `json:"withinBudget"`
		LatencyMs    float64  `json:"latencyMs"`
		Choice       string   `json:"choice"`
		Problems     []string `json:"problems"`
		Answer       string   `json:"answer"`
	}
	out, errOut, code = stRunCode(t, dir, "send-test", "--realtime", ok, "--json")
	if err := json.Unmarshal([]byte(out), &a); err != nil || code != 0 || !a.Valid || !a.WithinBudget || a.Choice != "message" || a.LatencyMs <= 0 || !strings.Contains(a.Answer, "messageIdentifier") {
		t.Fatalf("valid answer --json: exit %d %v %+v\n%s%s", code, err, a, out, errOut)
	}

	// Malformed answers, each reported precisely, exit 3.
	for _, tc := range []struct{ name, body, want string }{
		{"unknown key", `{"message":{"messageIdentifier":"m"},"text":"stay"}`, `the key "text"`},
		{"two choices", `{"message":{"messageIdentifier":"m"},"alternateProduct":{"messageIdentifier":"m","productId":"p"}}`, "chooses message and alternateProduct at once"},
		{"empty messageIdentifier", `{"message":{"messageIdentifier":""}}`, "message.messageIdentifier is empty"},
		{"offer without signature", `{"promotionalOffer":{"messageIdentifier":"m"}}`, "promotionalOffer has no signature"},
		{"not JSON", `OK`, "not a JSON object"},
	} {
		body := tc.body
		url := realtimeServer(t, func([]byte) (int, string) { return 200, body })
		out, errOut, code := stRunCode(t, dir, "send-test", "--realtime", url)
		if code != 3 || !strings.Contains(out, "INVALID") || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d, want 3 and %q\n%s%s", tc.name, code, tc.want, out, errOut)
		}
	}

	// A server that never answers breaks the budget: the client gives up, as Apple does.
	slow := realtimeServer(t, func([]byte) (int, string) { return 0, "" })
	out, errOut, code = stRunCode(t, dir, "send-test", "--realtime", slow, "--realtime-budget", "100ms")
	if code != 3 || !strings.Contains(out, "no whole answer within the budget of 100ms") {
		t.Errorf("slow server: exit %d\n%s%s", code, out, errOut)
	}

	// A series, as Apple's performance test: figures and success rate.
	var rep struct {
		Sent        int                `json:"sent"`
		Succeeded   int                `json:"succeeded"`
		SuccessRate float64            `json:"successRate"`
		OverBudget  int                `json:"overBudget"`
		Latency     map[string]float64 `json:"latencyMs"`
	}
	out, errOut, code = stRunCode(t, dir, "send-test", "--realtime", ok, "--count", "12", "--concurrency", "3", "--json")
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || rep.Sent != 12 || rep.Succeeded != 12 || rep.SuccessRate != 1 || rep.Latency["p95"] <= 0 {
		t.Fatalf("series: exit %d %v %+v\n%s%s", code, err, rep, out, errOut)
	}
	out, errOut, code = stRunCode(t, dir, "send-test", "--realtime", slow, "--count", "4", "--concurrency", "2", "--realtime-budget", "50ms")
	if code != 3 || !strings.Contains(out, "success     0 of 4") || !strings.Contains(out, "over budget 4") {
		t.Errorf("slow series: exit %d\n%s%s", code, out, errOut)
	}

	// Nothing listening: nothing could be sent, exit 1.
	_, errOut, code = stRunCode(t, dir, "send-test", "--realtime", fmt.Sprintf("http://127.0.0.1:%d/", FreePort(t)))
	if code != 1 || !strings.Contains(errOut, "nothing listening") {
		t.Errorf("nothing listening: exit %d\n%s", code, errOut)
	}
	// Usage.
	if _, errOut, code := stRunCode(t, dir, "send-test", "--realtime", ok, "--set", "data.status=1"); code != 2 || !strings.Contains(errOut, `has no "data"`) {
		t.Errorf("bad --set: exit %d\n%s", code, errOut)
	}
}

// startRealtimeListen runs s2s listen --output json with args in dir and returns its URL, the capture
// events it prints, and a stop function (SIGTERM, wait: after it the store holds every answer).
func startRealtimeListen(t *testing.T, dir string, args ...string) (string, func() []map[string]any) {
	t.Helper()
	port := FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d/", port)
	listen := exec.Command(Binary, append([]string{"listen", "--output", "json", "--addr", fmt.Sprintf("127.0.0.1:%d", port)}, args...)...)
	listen.Env = Env(dir)
	var out, errOut bytes.Buffer
	listen.Stdout, listen.Stderr = &out, &errOut
	if err := listen.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() []map[string]any {
		if !stopped {
			stopped = true
			_ = terminate(listen.Process.Pid)
			done := make(chan error, 1)
			go func() { done <- listen.Wait() }()
			select {
			case err := <-done:
				_ = err // stopped by a signal: its exit status is the signal's
			case <-time.After(20 * time.Second):
				_ = listen.Process.Kill()
				t.Errorf("listen did not stop within 20s; stderr: %s", errOut.String())
			}
		}
		var events []map[string]any
		for _, l := range bytes.Split(out.Bytes(), []byte("\n")) {
			var e struct {
				Event   string         `json:"event"`
				Capture map[string]any `json:"capture"`
			}
			if json.Unmarshal(l, &e) == nil && e.Event == "notification" && e.Capture != nil {
				events = append(events, e.Capture)
			}
		}
		return events
	}
	t.Cleanup(func() { stop() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := WaitHTTP(ctx, base); err != nil {
		t.Fatalf("%v; listen stderr: %s", err, errOut.String())
	}
	return base, stop
}

// TestListenRealtime: listen answers real-time requests with --realtime-response, or with the
// --forward-to target's answer passed through, and records the answer and its problems.
func TestListenRealtime(t *testing.T) {
	t.Run("realtime-response", func(t *testing.T) {
		dir := t.TempDir()
		file := filepath.Join(dir, "answer.json")
		answer := `{"alternateProduct":{"messageIdentifier":"m-1","productId":"com.example.yearly","billingPlanType":"BILLED_UPFRONT"}}`
		if err := os.WriteFile(file, []byte(answer), 0o600); err != nil {
			t.Fatal(err)
		}
		// A file Apple could not use is refused at start.
		bad := filepath.Join(dir, "bad.json")
		if err := os.WriteFile(bad, []byte(`{"message":{}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, errOut, code := stRunCode(t, dir, "listen", "--output", "lines", "--addr", "127.0.0.1:0", "--realtime-response", bad); code != 2 || !strings.Contains(errOut, "message.messageIdentifier is missing") {
			t.Errorf("invalid --realtime-response: exit %d\n%s", code, errOut)
		}
		url, stop := startRealtimeListen(t, dir, "--realtime-response", file)
		out, errOut, code := stRunCode(t, dir, "send-test", "--realtime", url)
		if code != 0 || !strings.Contains(out, "valid: alternateProduct") {
			t.Fatalf("send-test to listen: exit %d\n%s%s", code, out, errOut)
		}
		// A notification on the same URL is still a notification.
		stRun(t, dir, "send-test", url, "--type", "DID_RENEW")
		events := stop()
		if len(events) != 2 || events[0]["kind"] != "realtime-request" || events[0]["trust"] != "simulated" || events[0]["answerProblems"] != nil || events[1]["kind"] != "notification" {
			t.Fatalf("events: %v", events)
		}
		c := storedCapture(t, dir, int64(events[0]["id"].(float64)))
		if string(c.Answer) != answer || len(c.AnswerProblems) != 0 || c.ResponseStatus != 200 || c.Kind != "realtime-request" {
			t.Errorf("stored: kind %q status %d answer %q problems %q", c.Kind, c.ResponseStatus, c.Answer, c.AnswerProblems)
		}
	})
	t.Run("forward-to passes the answer through", func(t *testing.T) {
		dir := t.TempDir()
		answer := `{"message":{"messageIdentifier":"m-2"},"note":"x"}`
		target := realtimeServer(t, func([]byte) (int, string) { return 200, answer })
		url, stop := startRealtimeListen(t, dir, "--forward-to", target)
		out, errOut, code := stRunCode(t, dir, "send-test", "--realtime", url)
		if code != 3 || !strings.Contains(out, `the key "note"`) || !strings.Contains(out, "m-2") {
			t.Fatalf("send-test through listen to a target answering badly: exit %d\n%s%s", code, out, errOut)
		}
		events := stop()
		if len(events) != 1 || events[0]["kind"] != "realtime-request" {
			t.Fatalf("events: %v", events)
		}
		c := storedCapture(t, dir, int64(events[0]["id"].(float64)))
		if string(c.Answer) != answer || len(c.AnswerProblems) != 1 || !strings.Contains(c.AnswerProblems[0], `the key "note"`) {
			t.Errorf("stored: answer %q problems %q", c.Answer, c.AnswerProblems)
		}
	})
}

func storedCapture(t *testing.T, dir string, id int64) *store.Capture {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "captures.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const (
	realtimeMessage = `{"message":{"messageIdentifier":"a1b2c3d4-0000-4000-8000-000000000001"}}`
	realtimeHostile = "{\"message\":{\"messageIdentifier\":\"m\"},\"text\":\"\x1b]0;owned\x07\x1b[31mstay\"}"
)

// TestProbeRealtime: probe --realtime runs the transport checks, then posts a signed real-time
// request timed against the budget and judges the answer: exit 0 valid, 3 invalid, too slow or a
// transport failure, 2 bad flags.
func TestProbeRealtime(t *testing.T) {
	dir := t.TempDir()
	caPEM, _ := probeTestPKI()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	var got receivedRequest
	okURL, stop, _ := startProbeServer("message", &got)
	t.Cleanup(stop)
	badURL, stop2, _ := startProbeServer("badanswer", nil)
	t.Cleanup(stop2)
	hangURL, stop3, _ := startProbeServer("hang", nil)
	t.Cleanup(stop3)

	type report struct {
		Verdict  string `json:"verdict"`
		Reason   string `json:"reason"`
		Realtime *struct {
			BudgetMs     float64  `json:"budgetMs"`
			Answered     bool     `json:"answered"`
			WithinBudget bool     `json:"withinBudget"`
			Valid        bool     `json:"valid"`
			Choice       string   `json:"choice"`
			Problems     []string `json:"problems"`
			Answer       *string  `json:"answer"`
		} `json:"realtime"`
	}
	probeJSON := func(args ...string) (report, int) {
		t.Helper()
		out, errOut, code := stRunCode(t, dir, append([]string{"probe", "--realtime", "--json"}, args...)...)
		var r report
		if err := json.Unmarshal([]byte(out), &r); err != nil || r.Realtime == nil {
			t.Fatalf("probe %q: exit %d, not a real-time report: %v\n%s%s", args, code, err, out, errOut)
		}
		return r, code
	}

	// A valid, fast answer.
	r, code := probeJSON(okURL+"/retention", "--ca", caFile)
	if code != 0 || r.Verdict != "SUCCESS" || !r.Realtime.Valid || r.Realtime.Choice != "message" || r.Realtime.BudgetMs != 700 ||
		r.Realtime.Answer == nil || *r.Realtime.Answer != realtimeMessage {
		t.Errorf("valid answer: exit %d %+v %+v", code, r, r.Realtime)
	}
	// What the endpoint got is a real-time request signed by the local test chain.
	got.mu.Lock()
	body := got.body
	got.mu.Unlock()
	var sp struct {
		SignedPayload string `json:"signedPayload"`
	}
	if err := json.Unmarshal(body, &sp); err != nil {
		t.Fatalf("the endpoint got %q", body)
	}
	var d struct {
		Summary struct{ Kind, Label, Environment string }
	}
	if err := json.Unmarshal(stRun(t, dir, "decode", "--json", "--root", filepath.Join(dir, ".s2s-config", "test-chain", "root.pem"), sp.SignedPayload), &d); err != nil {
		t.Fatal(err)
	}
	if d.Summary.Kind != "realtime-request" || d.Summary.Label != "simulated" || d.Summary.Environment != "Sandbox" {
		t.Errorf("the probe's request decodes as %+v", d.Summary)
	}
	out, errOut, code := stRunCode(t, dir, "probe", "--realtime", okURL+"/retention", "--ca", caFile)
	if code != 0 || !strings.Contains(out, "real-time request, budget 700ms") || !strings.Contains(out, "a valid message, within the budget") ||
		!strings.Contains(out, "Verdict: SUCCESS") || !strings.Contains(out, "messageIdentifier") {
		t.Errorf("human report: exit %d\n%s%s", code, out, errOut)
	}

	// An invalid answer: INVALID_RESPONSE with the precise problem; the human report shows the
	// body made safe, the JSON keeps it exactly.
	r, code = probeJSON(badURL+"/retention", "--ca", caFile)
	if code != 3 || r.Verdict != "INVALID_RESPONSE" || r.Realtime.Valid || !strings.Contains(strings.Join(r.Realtime.Problems, " "), "control character in a string") ||
		r.Realtime.Answer == nil || *r.Realtime.Answer != realtimeHostile {
		t.Errorf("invalid answer: exit %d %+v %+v", code, r, r.Realtime)
	}
	out, errOut, code = stRunCode(t, dir, "probe", "--realtime", badURL+"/retention", "--ca", caFile)
	if code != 3 || !strings.Contains(out, "Verdict: INVALID_RESPONSE") || strings.ContainsAny(out, "\x1b\x07") || !strings.Contains(out, "stay") {
		t.Errorf("human report of an invalid answer: exit %d\n%q%s", code, out, errOut)
	}

	// A server that holds its answer until the test ends breaks the budget: the probe gives up
	// there, as Apple does.
	r, code = probeJSON(hangURL+"/retention", "--ca", caFile, "--realtime-budget", "50ms")
	if code != 3 || r.Verdict != "TIMED_OUT" || r.Realtime.Answered || !strings.Contains(r.Reason, "budget of 50ms") {
		t.Errorf("slow answer: exit %d %+v %+v", code, r, r.Realtime)
	}

	// The transport's checks come first: a certificate Apple would not trust.
	r, code = probeJSON(okURL + "/retention")
	if code != 3 || r.Verdict != "TLS_ISSUE" || r.Realtime.Answered {
		t.Errorf("untrusted certificate: exit %d %+v", code, r)
	}

	// Usage.
	for _, args := range [][]string{
		{"probe", "--realtime", okURL, "--via-apple", "--bundle-id", "com.example"},
		{"probe", "--realtime", okURL, "--realtime-budget", "0s"},
	} {
		if _, errOut, code := stRunCode(t, dir, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2\n%s", args, code, errOut)
		}
	}
}

// TestCapturesShowRealtimeAnswer: captures show --json carries the answer s2s gave a real-time
// request byte for byte (answer when UTF-8, answerBase64 otherwise); the human view shows it
// terminal-safe.
func TestCapturesShowRealtimeAnswer(t *testing.T) {
	dir := t.TempDir()
	answers := []string{realtimeHostile, "\xff\xfe\x1b[2Jnot UTF-8\x80"}
	var mu sync.Mutex
	n := 0
	target := realtimeServer(t, func([]byte) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		n++
		return 200, answers[n-1]
	})
	url, stop := startRealtimeListen(t, dir, "--forward-to", target)
	for _, want := range answers {
		out, errOut, code := stRunCode(t, dir, "send-test", "--realtime", url, "--json")
		if code != 3 {
			t.Fatalf("send-test through listen: exit %d, want 3 (invalid answers)\n%s", code, errOut)
		}
		// send-test's own report keeps the answer exactly too.
		var a decode.AnswerJSON
		if err := json.Unmarshal([]byte(out), &a); err != nil {
			t.Fatal(err)
		}
		if got, err := a.Bytes(); err != nil || string(got) != want {
			t.Errorf("send-test --json answer %q %v, want %q", got, err, want)
		}
	}
	events := stop()
	if len(events) != 2 {
		t.Fatalf("events: %v", events)
	}
	for i, want := range answers {
		id := fmt.Sprint(int64(events[i]["id"].(float64)))
		var doc struct {
			Capture store.Capture `json:"capture"`
		}
		out := stRun(t, dir, "captures", "show", "--json", id)
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		var raw struct {
			Capture decode.AnswerJSON `json:"capture"`
		}
		if err := json.Unmarshal(out, &raw); err != nil {
			t.Fatal(err)
		}
		if string(doc.Capture.Answer) != want || len(doc.Capture.AnswerProblems) == 0 {
			t.Errorf("capture %s: answer %q problems %q, want %q", id, doc.Capture.Answer, doc.Capture.AnswerProblems, want)
		}
		if i == 0 && (raw.Capture.Answer == nil || *raw.Capture.Answer != want || raw.Capture.AnswerBase64 != "") {
			t.Errorf("capture %s: a UTF-8 answer is the string answer: %s", id, out)
		}
		if i == 1 && (raw.Capture.Answer != nil || raw.Capture.AnswerBase64 == "") {
			t.Errorf("capture %s: an answer that is not UTF-8 is answerBase64: %s", id, out)
		}
		raw8 := func(b []byte) bool { // a byte no JSON or terminal-safe text may hold raw
			return bytes.IndexByte(b, 0x1b) >= 0 || bytes.IndexByte(b, 0x07) >= 0 || bytes.IndexByte(b, 0xff) >= 0
		}
		if raw8(out) {
			t.Errorf("capture %s: raw bytes in the JSON: %q", id, out)
		}
		var dec struct {
			Decoded struct{ Summary struct{ Kind, Label string } } `json:"decoded"`
		}
		if json.Unmarshal(out, &dec) != nil || dec.Decoded.Summary.Kind != "realtime-request" || dec.Decoded.Summary.Label != "simulated" {
			t.Errorf("capture %s: decoded as %+v, not as listen stored it", id, dec.Decoded.Summary)
		}
		human := stRun(t, dir, "captures", "show", id)
		if raw8(human) || !bytes.Contains(human, []byte("INVALID")) {
			t.Errorf("capture %s: human view:\n%q", id, human)
		}
		if i == 0 && !bytes.Contains(human, []byte("stay")) {
			t.Errorf("capture %s: the answer body is not shown:\n%s", id, human)
		}
	}
	// The human list names a real-time request in its TYPE column, as listen's lines do.
	if out := stRun(t, dir, "captures", "list"); bytes.Count(out, []byte("REAL-TIME REQUEST")) != 2 {
		t.Errorf("captures list: real-time requests not named:\n%s", out)
	}
	// The list has no bodies, so no answers either.
	if out := stRun(t, dir, "captures", "list", "--json"); bytes.Contains(out, []byte(`"answer`)) {
		t.Errorf("captures list --json has answers: %s", out)
	}
}

// TestSendTestRealtimeScenario: send-test --realtime --scenario NAME asks about the customer the
// scenario's notifications describe: same originalTransactionId, the product they hold at the end,
// the scenario's locale; --set still wins; scenarios with nothing left to cancel are refused.
func TestSendTestRealtimeScenario(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "answer.json")
	if err := os.WriteFile(file, []byte(realtimeMessage), 0o600); err != nil {
		t.Fatal(err)
	}
	url, stop := startRealtimeListen(t, dir, "--realtime-response", file)
	if _, errOut, code := stRunCode(t, dir, "send-test", url, "--scenario", "billing-retry"); code != 0 {
		t.Fatalf("notifications of the scenario: exit %d\n%s", code, errOut)
	}
	out, errOut, code := stRunCode(t, dir, "send-test", "--realtime", url, "--scenario", "billing-retry")
	if code != 0 || !strings.Contains(out, "en-CA") || !strings.Contains(out, "valid: message") {
		t.Fatalf("real-time request of the scenario: exit %d\n%s%s", code, out, errOut)
	}
	events := stop()
	if len(events) != 4 {
		t.Fatalf("%d captures, want 3 notifications and 1 real-time request: %v", len(events), events)
	}
	rt := events[3]
	if rt["kind"] != "realtime-request" {
		t.Fatalf("last capture: %v", rt)
	}
	for _, n := range events[:3] {
		if n["originalTransactionId"] != rt["originalTransactionId"] || n["productId"] != rt["productId"] || n["kind"] != "notification" {
			t.Errorf("notification %v and real-time request %v are about different customers", n, rt)
		}
	}
	if rt["originalTransactionId"] != fixtures.ScenarioOriginalTransactionID("billing-retry") {
		t.Errorf("real-time request about %v", rt["originalTransactionId"])
	}

	// The upgrade's customer holds the higher level; --set overrides the scenario's locale.
	var mu sync.Mutex
	var got decode.RealtimeRequest
	endpoint := realtimeServer(t, func(b []byte) (int, string) {
		d := decode.NewVerifier(decode.Options{}).DecodeRealtimeBody(b)
		mu.Lock()
		defer mu.Unlock()
		if d.RealtimeRequest != nil {
			got = *d.RealtimeRequest
		}
		return 200, realtimeMessage
	})
	if out, errOut, code := stRunCode(t, dir, "send-test", "--realtime", endpoint, "--scenario", "upgrade", "--set", "userLocale=ja-JP", "--environment", "Production"); code != 0 {
		t.Fatalf("upgrade: exit %d\n%s%s", code, out, errOut)
	}
	mu.Lock()
	if got.OriginalTransactionID != fixtures.ScenarioOriginalTransactionID("upgrade") || got.ProductID != "com.example.s2s.pro.premium.monthly" ||
		got.UserLocale != "ja-JP" || got.Environment != "Production" {
		t.Errorf("upgrade's request: %+v", got)
	}
	mu.Unlock()

	// --product-id is the product the customer starts with: the upgrade's is derived from it, as
	// docs/realtime.md says; --set productId sets the request's exactly.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--product-id", "com.x"}, "com.x.premium.monthly"},
		{[]string{"--product-id", "com.x.monthly"}, "com.x.premium.monthly"},
		{[]string{"--product-id", "com.x", "--set", "productId=com.x"}, "com.x"},
	} {
		args := append([]string{"send-test", "--realtime", endpoint, "--scenario", "upgrade"}, tc.args...)
		if out, errOut, code := stRunCode(t, dir, args...); code != 0 || !strings.Contains(out, tc.want+",") {
			t.Fatalf("upgrade %q: exit %d, want %s\n%s%s", tc.args, code, tc.want, out, errOut)
		}
		mu.Lock()
		if got.ProductID != tc.want {
			t.Errorf("upgrade %q: the request's productId is %q, want %q", tc.args, got.ProductID, tc.want)
		}
		mu.Unlock()
	}

	// Refused, exit 2, naming the scenarios that have real-time requests (and, for a name that is
	// no scenario, the ones without).
	for _, tc := range []struct{ scenario, want string }{
		{"refund", "no longer has a subscription to cancel"},
		{"nope", `unknown scenario "nope"`},
		{"expired", "the others, subscribe-renew-cancel, billing-retry-grace-expire, refund, end with no subscription left to cancel"},
	} {
		_, errOut, code := stRunCode(t, dir, "send-test", "--realtime", endpoint, "--scenario", tc.scenario)
		if code != 2 || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "billing-retry, ") {
			t.Errorf("--scenario %s: exit %d\n%s", tc.scenario, code, errOut)
		}
	}
	// --list and --help say who the customers are.
	list := strings.Join(strings.Fields(string(stRun(t, dir, "send-test", "--list"))), " ") // unwrapped
	if !strings.Contains(list, "customer: originalTransactionId "+fixtures.ScenarioOriginalTransactionID("billing-retry")+", locale en-CA; --realtime asks about them") {
		t.Errorf("--list:\n%s", list)
	}
	if help := stRun(t, dir, "send-test", "--help"); !bytes.Contains(help, []byte("are about one customer")) {
		t.Errorf("--help does not explain --realtime --scenario:\n%s", help)
	}
}

// TestRealtimeSendTestAndProbeAgree: the same endpoint gets the same verdict from send-test
// --realtime and probe --realtime. Neither follows a redirect (Apple does not for these POSTs: the
// 3xx is the answer) nor undoes a compression nobody asked for (the body Apple reads is not JSON).
func TestRealtimeSendTestAndProbeAgree(t *testing.T) {
	dir := t.TempDir()
	caPEM, _ := probeTestPKI()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ mode, sendTest, probe string }{
		{"gzipanswer", "gzip-encoded answer", "gzip-encoded answer"},
		{"rtredirect", "HTTP 307: Apple uses an answer only with status 200", "HTTP 307: Apple uses an answer only with status 200"},
	} {
		url, stop, _ := startProbeServer(tc.mode, nil)
		t.Cleanup(stop)
		out, errOut, code := stRunCode(t, dir, "send-test", "--realtime", url+"/retention", "--ca", caFile, "--realtime-budget", "30s")
		if code != 3 || !strings.Contains(out, "INVALID") || !strings.Contains(out, tc.sendTest) || strings.Contains(out, "valid: message") {
			t.Errorf("%s: send-test exit %d, want 3 and %q\n%s%s", tc.mode, code, tc.sendTest, out, errOut)
		}
		out, errOut, code = stRunCode(t, dir, "probe", "--realtime", url+"/retention", "--ca", caFile, "--realtime-budget", "30s")
		if code != 3 || !strings.Contains(out, tc.probe) || strings.Contains(out, "Verdict: SUCCESS") || strings.Contains(out, "outside 200") {
			t.Errorf("%s: probe exit %d, want 3 and %q\n%s%s", tc.mode, code, tc.probe, out, errOut)
		}
	}
	// A notification send-test does not follow a redirect either: the 307 is the failed attempt.
	url, stop, _ := startProbeServer("rtredirect", nil)
	t.Cleanup(stop)
	out, errOut, code := stRunCode(t, dir, "send-test", url+"/notifications", "--ca", caFile)
	if code == 0 || !strings.Contains(out+errOut, "307") {
		t.Errorf("notification send-test to a redirect: exit %d\n%s%s", code, out, errOut)
	}
}

// brokenAnswerServer reads each whole request, then breaks its answer with answer (raw bytes
// written before closing; none closes without answering).
func brokenAnswerServer(t *testing.T, answer string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
				req, err := http.ReadRequest(bufio.NewReader(conn))
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, req.Body)
				_, _ = io.WriteString(conn, answer)
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/retention"
}

// TestSendTestRealtimeBrokenAnswer: a request the server got and answered brokenly (a control
// character in a header, a connection closed without an answer) is an invalid answer, exit 3 and
// counted invalid, as probe reports it; not a request that could not be sent. Said once.
func TestSendTestRealtimeBrokenAnswer(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, answer string }{
		{"control character in a header", "HTTP/1.1 200 OK\r\nX-Bad: a\x01b\r\nContent-Length: 2\r\n\r\n{}"},
		{"closed without answering", ""},
	} {
		url := brokenAnswerServer(t, tc.answer)
		// A budget no loaded machine breaks: the answer is judged, not timed.
		out, errOut, code := stRunCode(t, dir, "send-test", "--realtime", url, "--realtime-budget", "30s")
		if code != 3 || !strings.Contains(out, "INVALID") || strings.Contains(out+errOut, "could not be sent") {
			t.Errorf("%s: exit %d, want 3 and INVALID\n%s%s", tc.name, code, out, errOut)
		}
		out, errOut, code = stRunCode(t, dir, "send-test", "--realtime", url, "--count", "6", "--concurrency", "2", "--realtime-budget", "30s")
		if code != 3 || !strings.Contains(out, "sent        6 of 6") || !strings.Contains(out, "invalid     6") || strings.Contains(out, "not sent") {
			t.Errorf("%s, a series: exit %d\n%s%s", tc.name, code, out, errOut)
		}
	}
	// Nothing listening is still not sent, exit 1, and the reason is given once.
	url := fmt.Sprintf("http://127.0.0.1:%d/", FreePort(t))
	out, errOut, code := stRunCode(t, dir, "send-test", "--realtime", url)
	if code != 1 || strings.Count(out+errOut, "nothing listening") != 1 {
		t.Errorf("nothing listening: exit %d, want 1 and the reason once\n%s%s", code, out, errOut)
	}
}
