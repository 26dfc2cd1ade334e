package cmd

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/fixtures"
	"github.com/s2s-dev/s2s/internal/paths"
	"github.com/s2s-dev/s2s/internal/state"
)

// sendTestEnv is an isolated process environment for running `s2s send-test` in-process.
type sendTestEnv struct {
	t    *testing.T
	dir  string
	vars map[string]string
}

func newSendTestEnv(t *testing.T) *sendTestEnv {
	dir := t.TempDir()
	return &sendTestEnv{t: t, dir: dir, vars: map[string]string{
		"HOME":           dir,
		"S2S_CONFIG_DIR": filepath.Join(dir, "config"),
		"S2S_STATE_DIR":  filepath.Join(dir, "state"),
		"S2S_STORE":      filepath.Join(dir, "captures.db"),
		"NO_COLOR":       "1",
	}}
}

func (e *sendTestEnv) run(args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	ios, _, out, errOut := TestIO()
	f := &Factory{
		IO:         ios,
		Getenv:     func(k string) string { return e.vars[k] },
		Now:        time.Now,
		HTTPClient: func() *http.Client { return &http.Client{Timeout: 30 * time.Second} },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code = run(ctx, f, args)
	return code, out.String(), errOut.String()
}

func (e *sendTestEnv) chain() *fixtures.Chain {
	e.t.Helper()
	c, err := fixtures.LoadChain(e.vars["S2S_CONFIG_DIR"])
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// sink is a receiver that answers from a script of statuses and keeps every body.
type sink struct {
	mu       sync.Mutex
	bodies   [][]byte
	statuses []int
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	i := len(s.bodies)
	s.bodies = append(s.bodies, b)
	st := http.StatusOK
	if len(s.statuses) > 0 {
		st = s.statuses[min(i, len(s.statuses)-1)]
	}
	s.mu.Unlock()
	w.WriteHeader(st)
}

func (s *sink) received() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.bodies...)
}

func newSink(t *testing.T, statuses ...int) (*sink, string) {
	s := &sink{statuses: statuses}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL + "/apple/notifications"
}

// decodeAll verifies every body the way s2s listen does, trusting the environment's test root.
func decodeAll(t *testing.T, e *sendTestEnv, bodies [][]byte) []decode.Summary {
	t.Helper()
	v := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{e.chain().Root()}})
	var out []decode.Summary
	for _, b := range bodies {
		d := v.Decode(b)
		if d.Verification.Label != decode.LabelSimulated {
			t.Fatalf("body labelled %s (%s), want simulated", d.Verification.Label, d.Verification.Message)
		}
		out = append(out, d.Summary())
	}
	return out
}

func TestSendTestDelivers(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		types []string // type/subtype of each body received, in order
		check func(t *testing.T, s []decode.Summary)
	}{
		{"default is TEST", nil, []string{"TEST"}, nil},
		{"type", []string{"--type", "DID_RENEW"}, []string{"DID_RENEW"}, nil},
		{"type and subtype, any case", []string{"-t", "expired", "-s", "voluntary"}, []string{"EXPIRED/VOLUNTARY"}, nil},
		{"subtype defaults to the first", []string{"--type", "SUBSCRIBED"}, []string{"SUBSCRIBED/INITIAL_BUY"}, nil},
		{"scenario", []string{"--scenario", "refund"}, []string{"SUBSCRIBED/INITIAL_BUY", "CONSUMPTION_REQUEST", "REFUND"}, func(t *testing.T, s []decode.Summary) {
			if s[0].OriginalTransactionID == "" || s[0].OriginalTransactionID != s[2].OriginalTransactionID {
				t.Errorf("scenario steps belong to different subscriptions: %q %q", s[0].OriginalTransactionID, s[2].OriginalTransactionID)
			}
		}},
		{"environment in any case, as captures --env takes it", []string{"--environment", "prod", "--app-apple-id", "7"}, []string{"TEST"}, func(t *testing.T, s []decode.Summary) {
			if s[0].Environment != "Production" {
				t.Errorf("environment %q, want Production", s[0].Environment)
			}
		}},
		{"overrides", []string{"--type", "DID_RENEW", "--bundle-id", "com.acme", "--environment", "Production", "--product-id", "com.acme.gold",
			"--original-transaction-id", "1000000000000042", "--app-apple-id", "99", "--set", "transaction.price=1"}, []string{"DID_RENEW"}, func(t *testing.T, s []decode.Summary) {
			got := s[0]
			if got.BundleID != "com.acme" || got.Environment != "Production" || got.ProductID != "com.acme.gold" || got.OriginalTransactionID != "1000000000000042" || got.AppAppleID != 99 {
				t.Errorf("summary %+v", got)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newSendTestEnv(t)
			s, url := newSink(t)
			code, out, stderr := e.run(append([]string{"send-test", url}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out, stderr)
			}
			sums := decodeAll(t, e, s.received())
			var got []string
			for _, x := range sums {
				got = append(got, fixtures.Combination{Type: x.Type, Subtype: x.Subtype}.String())
			}
			if strings.Join(got, " ") != strings.Join(tc.types, " ") {
				t.Fatalf("received %v, want %v", got, tc.types)
			}
			for _, x := range sums {
				if !strings.Contains(out, x.NotificationUUID+"  200") {
					t.Errorf("stdout does not report %s with its status:\n%s", x.NotificationUUID, out)
				}
			}
			if tc.check != nil {
				tc.check(t, sums)
			}
		})
	}
}

func TestSendTestAll(t *testing.T) {
	e := newSendTestEnv(t)
	s, url := newSink(t)
	code, out, stderr := e.run("send-test", url, "--all", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	sums := decodeAll(t, e, s.received())
	combs := fixtures.Combinations()
	if len(sums) != len(combs) {
		t.Fatalf("%d received, want %d", len(sums), len(combs))
	}
	for i, c := range combs {
		if sums[i].Type != c.Type || sums[i].Subtype != c.Subtype {
			t.Errorf("#%d is %s/%s, want %s", i, sums[i].Type, sums[i].Subtype, c)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(combs) {
		t.Fatalf("%d JSON lines, want %d", len(lines), len(combs))
	}
	var a attemptJSON
	if err := json.Unmarshal([]byte(lines[0]), &a); err != nil || !a.OK || a.Status != 200 || a.Outcome != "SUCCESS" || a.Attempt != 1 || a.NotificationUUID != sums[0].NotificationUUID {
		t.Errorf("first JSON line %s (%v)", lines[0], err)
	}
}

func TestSendTestURLFromRunningListener(t *testing.T) {
	e := newSendTestEnv(t)
	s, url := newSink(t)
	// This test process stands in for a running `s2s listen`: the state file names a live URL.
	if _, err := state.Register(paths.ListenersDir(func(k string) string { return e.vars[k] }), state.Listener{PID: os.Getpid(), URL: url, Started: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := e.run("send-test", "--type", "REFUND"); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	if got := decodeAll(t, e, s.received()); len(got) != 1 || got[0].Type != "REFUND" {
		t.Fatalf("received %+v", got)
	}
}

func TestSendTestNoListener(t *testing.T) {
	e := newSendTestEnv(t)
	code, _, stderr := e.run("send-test")
	if code != ExitError || !strings.Contains(stderr, "no running `s2s listen` found") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestSendTestRetryApple(t *testing.T) {
	e := newSendTestEnv(t)
	s, url := newSink(t, 500, 503, 200)
	// 1e7 turns Apple's hours into a fraction of a millisecond.
	code, out, stderr := e.run("send-test", url, "--type", "DID_RENEW", "--retry", "apple", "--retry-scale", "1e7", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	bodies := s.received()
	if len(bodies) != 3 || !bytes.Equal(bodies[0], bodies[2]) {
		t.Fatalf("%d bodies; every retry must carry the same body", len(bodies))
	}
	var attempts []attemptJSON
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var a attemptJSON
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatal(err)
		}
		attempts = append(attempts, a)
	}
	if len(attempts) != 3 || attempts[0].Status != 500 || attempts[0].NextRetryMs <= 0 || attempts[1].Attempt != 2 || !attempts[2].OK || attempts[2].NextRetryMs != 0 {
		t.Fatalf("attempts %+v", attempts)
	}
	if attempts[0].NotificationUUID != attempts[2].NotificationUUID {
		t.Error("retries changed the notificationUUID")
	}
	if !strings.Contains(stderr, "Apple would retry in 1h;") {
		t.Errorf("stderr does not explain the retry:\n%s", stderr)
	}
}

func TestSendTestFailureWithoutRetry(t *testing.T) {
	e := newSendTestEnv(t)
	s, url := newSink(t, 500)
	code, out, stderr := e.run("send-test", url)
	if code != ExitError {
		t.Fatalf("exit %d, want %d", code, ExitError)
	}
	if len(s.received()) != 1 || !strings.Contains(out, "500") || !strings.Contains(out, "not accepted") || !strings.Contains(stderr, "--retry apple") {
		t.Fatalf("stdout %q stderr %q", out, stderr)
	}
}

func TestSendTestDuplicate(t *testing.T) {
	e := newSendTestEnv(t)
	s, url := newSink(t)
	code, out, stderr := e.run("send-test", url, "--type", "DID_RENEW", "--duplicate")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	b := s.received()
	if len(b) != 2 || !bytes.Equal(b[0], b[1]) || !strings.Contains(out, "duplicate") {
		t.Fatalf("%d bodies, stdout %q", len(b), out)
	}
}

func TestSendTestLoad(t *testing.T) {
	e := newSendTestEnv(t)
	s, url := newSink(t)
	code, out, stderr := e.run("send-test", url, "--type", "DID_RENEW", "--count", "40", "--concurrency", "4", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	var rep struct {
		Sent, OK, Failed int
		Statuses         map[string]int
		Latency          map[string]float64 `json:"latencyMs"`
		Throughput       float64            `json:"throughputPerSecond"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if rep.Sent != 40 || rep.OK != 40 || rep.Statuses["200"] != 40 || rep.Throughput <= 0 || rep.Latency["p99"] > rep.Latency["max"] {
		t.Fatalf("report %+v", rep)
	}
	uuids := map[string]bool{}
	for _, x := range decodeAll(t, e, s.received()) {
		if x.Type != "DID_RENEW" {
			t.Fatalf("type %s", x.Type)
		}
		uuids[x.NotificationUUID] = true
	}
	if len(uuids) != 40 {
		t.Errorf("%d distinct UUIDs in 40 sends", len(uuids))
	}
	if !strings.Contains(stderr, "40/40 sent") {
		t.Errorf("no progress on stderr: %q", stderr)
	}
}

func TestSendTestLoadReportsFailures(t *testing.T) {
	e := newSendTestEnv(t)
	_, url := newSink(t, 503)
	code, out, _ := e.run("send-test", url, "--count", "5")
	if code != ExitError || !strings.Contains(out, "503 × 5") || !strings.Contains(out, "p99") {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
}

func TestSendTestPrintRoot(t *testing.T) {
	e := newSendTestEnv(t)
	code, out, stderr := e.run("send-test", "--print-root")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, _ := pem.Decode([]byte(out))
	if b == nil {
		t.Fatalf("not PEM: %q", out)
	}
	root, err := x509.ParseCertificate(b.Bytes)
	if err != nil || !root.Equal(e.chain().Root()) {
		t.Fatalf("printed root differs from the chain's (%v)", err)
	}
	if !strings.Contains(stderr, "Created the s2s local test signing chain") {
		t.Errorf("first use does not say it created the chain: %q", stderr)
	}
	// Second use reloads the same chain, quietly.
	code, out2, stderr2 := e.run("send-test", "--print-root")
	if code != 0 || out2 != out || strings.Contains(stderr2, "Created") {
		t.Errorf("second --print-root: exit %d, same=%v, stderr %q", code, out2 == out, stderr2)
	}
}

func TestSendTestList(t *testing.T) {
	e := newSendTestEnv(t)
	code, out, _ := e.run("send-test", "--list")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range append(append(fixtures.TypeNames(), fixtures.ScenarioNames()...), "AUTO_RENEW_DISABLED", "renewalInfo") {
		if !strings.Contains(out, want) {
			t.Errorf("--list lacks %s", want)
		}
	}
	code, out, _ = e.run("send-test", "--list", "--json")
	var l struct {
		Types     []fixtures.TypeInfo
		Scenarios []fixtures.ScenarioInfo
		SetRoots  []fixtures.SetRoot
	}
	if err := json.Unmarshal([]byte(out), &l); err != nil || code != 0 || len(l.Types) != len(fixtures.TypeNames()) || len(l.Scenarios) != len(fixtures.ScenarioNames()) || len(l.SetRoots) == 0 {
		t.Fatalf("--list --json: exit %d, %v, %d types", code, err, len(l.Types))
	}
}

func TestSendTestCompletion(t *testing.T) {
	cases := []struct {
		args []string
		want []string
		not  []string
	}{
		{[]string{"--type", ""}, []string{"DID_RENEW", "RESCIND_CONSENT"}, nil},
		{[]string{"--type", "EXPIRED", "--subtype", ""}, []string{"VOLUNTARY", "PRODUCT_NOT_FOR_SALE"}, []string{"INITIAL_BUY"}},
		{[]string{"--scenario", ""}, []string{"subscribe-renew-cancel", "billing-retry-grace-expire", "offer-redeemed"}, nil},
	}
	for _, tc := range cases {
		e := newSendTestEnv(t)
		code, out, _ := e.run(append([]string{"__complete", "send-test"}, tc.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d", tc.args, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("completion %v lacks %s:\n%s", tc.args, w, out)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(out, n) {
				t.Errorf("completion %v offers %s", tc.args, n)
			}
		}
	}
}

func TestSendTestUsageErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown type", []string{"--type", "NOPE"}, "known types"},
		{"unknown subtype", []string{"--type", "REFUND", "--subtype", "UPGRADE"}, "has no subtype"},
		{"subtype alone", []string{"--subtype", "UPGRADE"}, "--subtype needs a --type"},
		{"unknown scenario", []string{"--scenario", "nope"}, "subscribe-renew-cancel"},
		{"unknown set root", []string{"--set", "bogus.x=1"}, "a path starts with one of"},
		{"set on a missing object", []string{"--type", "TEST", "--set", "transaction.price=1"}, "no data.signedTransactionInfo"},
		{"bad environment", []string{"--environment", "Xcode"}, "Sandbox or Production"},
		{"count zero", []string{"--count", "0"}, "at least 1"},
		{"load with scenario", []string{"--scenario", "refund", "--count", "3"}, "does not combine"},
		{"load with retry", []string{"--count", "3", "--retry", "apple"}, "does not combine"},
		{"bad retry", []string{"--retry", "sometimes"}, "none or apple"},
		{"bad scale", []string{"--retry-scale", "0"}, "greater than 0"},
		{"type and scenario", []string{"--type", "REFUND", "--scenario", "refund"}, ""},
		{"apple with url", []string{"--apple", "--bundle-id", "com.x", "http://127.0.0.1:1/"}, "takes no URL"},
		{"apple without bundle", []string{"--apple"}, "--bundle-id"},
		{"not a URL", []string{"localhost:8080"}, "http:// or https://"},
		{"no scheme", []string{"localhost:8080/apple"}, "did you mean http://localhost:8080/apple?"},
		{"a port alone", []string{"3000"}, "did you mean http://127.0.0.1:3000/?"},
		{"another scheme", []string{"ftp://x/"}, "must start with http:// or https:// (got \"ftp://x/\")"},
		{"two URLs", []string{"http://a/", "http://b/"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newSendTestEnv(t)
			s, _ := newSink(t)
			code, _, stderr := e.run(append([]string{"send-test"}, tc.args...)...)
			if code != ExitUsage || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, ExitUsage, tc.want)
			}
			if len(s.received()) != 0 {
				t.Fatal("sent something despite the usage error")
			}
		})
	}
}
