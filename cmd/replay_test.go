package cmd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/fixtures"
	"github.com/s2s-dev/s2s/internal/state"
	"github.com/s2s-dev/s2s/store"
)

// replayEnv runs `s2s replay` in-process against a store seeded with every real notification.
type replayEnv struct {
	t        *testing.T
	dir      string
	store    string
	now      time.Time
	captures []store.Capture // as seeded, with bodies, oldest first
}

func newReplayEnv(t *testing.T) *replayEnv {
	t.Helper()
	dir := t.TempDir()
	e := &replayEnv{t: t, dir: dir, store: filepath.Join(dir, "captures.db"), now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	files, err := filepath.Glob("../testdata/vectors/real/*-notification-*.jws")
	if err != nil || len(files) < 10 {
		t.Fatalf("vectors: %v (%d files)", err, len(files))
	}
	st, err := store.Open(e.store)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v := decode.NewVerifier(decode.Options{})
	for i, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		body := []byte(`{"signedPayload":"` + string(bytes.TrimSpace(raw)) + `"}`)
		c := store.Capture{
			ReceivedAt: e.now.Add(-time.Duration(len(files)-i) * time.Hour), Method: "POST", Path: "/",
			Headers:    http.Header{"Content-Type": {"application/json"}, "User-Agent": {"App Store"}},
			RemoteAddr: "17.58.0.1:443", SourceIP: "17.58.0.1", Body: body, BodySize: len(body),
		}
		c.SetSummary(v.Decode(body).Summary())
		if err := st.Insert(context.Background(), &c); err != nil {
			t.Fatal(err)
		}
		e.captures = append(e.captures, c)
	}
	return e
}

func (e *replayEnv) vars() map[string]string {
	return map[string]string{
		"HOME":           e.dir,
		"S2S_CONFIG_DIR": filepath.Join(e.dir, "config"),
		"S2S_STATE_DIR":  filepath.Join(e.dir, "state"),
		"S2S_STORE":      e.store,
		"NO_COLOR":       "1",
	}
}

func (e *replayEnv) run(args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return e.runCtx(ctx, args...)
}

func (e *replayEnv) runCtx(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	ios, _, out, errOut := TestIO()
	vars := e.vars()
	f := &Factory{
		IO:         ios,
		Getenv:     func(k string) string { return vars[k] },
		Now:        func() time.Time { return e.now },
		HTTPClient: func() *http.Client { return &http.Client{Timeout: 10 * time.Second} },
	}
	code = run(ctx, f, append([]string{"replay"}, args...))
	return code, out.String(), errOut.String()
}

func (e *replayEnv) byType(typ string, env decode.Environment) []store.Capture {
	var out []store.Capture
	for _, c := range e.captures {
		if c.Type == typ && (env == "" || c.Environment == env) {
			out = append(out, c)
		}
	}
	return out
}

func (e *replayEnv) deliveries(id int64) []store.Delivery {
	e.t.Helper()
	st, err := store.Open(e.store)
	if err != nil {
		e.t.Fatal(err)
	}
	defer st.Close()
	ds, err := st.Deliveries(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}

type received struct {
	header http.Header
	body   []byte
}

// target is a loopback server that records what it receives, in order.
func target(t *testing.T, status int) (*httptest.Server, chan received) {
	ch := make(chan received, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- received{r.Header.Clone(), b}
		w.WriteHeader(status)
		if _, err := io.WriteString(w, "thanks"); err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

func drain(ch chan received) []received {
	var out []received
	for len(ch) > 0 {
		out = append(out, <-ch)
	}
	return out
}

func TestReplayByID(t *testing.T) {
	e := newReplayEnv(t)
	srv, got := target(t, http.StatusOK)
	a, b := e.captures[4], e.captures[1] // verified, and invalid (vector 02 has no signedDate)
	code, stdout, stderr := e.run(idStr(a.ID), "#"+idStr(b.ID), "--to", srv.URL+"/apple")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	reqs := drain(got)
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	for i, want := range []store.Capture{a, b} { // in the order given
		if sha256.Sum256(reqs[i].body) != sha256.Sum256(want.Body) {
			t.Errorf("request %d is not capture %d byte for byte", i, want.ID)
		}
		h := reqs[i].header
		if h.Get("X-S2S-Capture-Id") != idStr(want.ID) || h.Get("X-S2S-Replay") != "true" ||
			h.Get("X-S2S-Trust") != string(want.Trust) || h.Get("User-Agent") != "App Store" || h.Get("Content-Type") != "application/json" {
			t.Errorf("request %d headers %v", i, h)
		}
	}
	if !strings.Contains(stdout, "#"+idStr(a.ID)) || !strings.Contains(stdout, "200") {
		t.Errorf("stdout lacks the per-capture lines:\n%s", stdout)
	}
	if want := "2 sent, 2 succeeded, 0 failed"; !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	ds := e.deliveries(a.ID)
	if len(ds) != 1 || !ds[0].Replay || ds[0].State != store.DeliverySucceeded || ds[0].Status != 200 ||
		ds[0].Target != srv.URL+"/apple" || ds[0].Response != "thanks" {
		t.Errorf("recorded deliveries %+v", ds)
	}
}

func TestReplayByFilter(t *testing.T) {
	e := newReplayEnv(t)
	expired := e.byType("EXPIRED", "Sandbox")
	if len(expired) < 3 {
		t.Fatalf("the vectors hold %d sandbox EXPIRED notifications, want 3", len(expired))
	}
	tests := []struct {
		name string
		args []string
		want []store.Capture
	}{
		{"type and env, oldest first", []string{"--type", "expired", "--env", "sandbox"}, expired},
		{"the newest two, oldest first", []string{"--type", "EXPIRED", "--limit", "2"}, expired[len(expired)-2:]},
		{"subtype", []string{"--type", "DID_CHANGE_RENEWAL_PREF", "--subtype", "UPGRADE"}, []store.Capture{e.byType("DID_CHANGE_RENEWAL_PREF", "")[0]}},
		{"since", []string{"--since", "90m"}, e.captures[len(e.captures)-1:]},
		{"production", []string{"--env", "Production", "--trust", "verified"}, e.byType("CONSUMPTION_REQUEST", "Production")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := target(t, http.StatusOK)
			code, _, stderr := e.run(append(tt.args, "--to", srv.URL)...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			reqs := drain(got)
			if len(reqs) != len(tt.want) {
				t.Fatalf("%d requests, want %d\n%s", len(reqs), len(tt.want), stderr)
			}
			for i, c := range tt.want {
				if id := reqs[i].header.Get("X-S2S-Capture-Id"); id != idStr(c.ID) || !bytes.Equal(reqs[i].body, c.Body) {
					t.Errorf("request %d is capture %s, want %d", i, id, c.ID)
				}
			}
		})
	}
}

func TestReplayFailures(t *testing.T) {
	e := newReplayEnv(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := l.Addr().String()
	l.Close()
	srv, _ := target(t, http.StatusServiceUnavailable)
	tests := []struct {
		name, to, reason string
	}{
		{"nothing listening", down, "nothing listening on " + down},
		{"server error", srv.URL, "answered 503 Service Unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := e.captures[0].ID
			code, _, stderr := e.run(idStr(id), "--to", tt.to)
			if code != ExitError {
				t.Errorf("exit %d, want %d", code, ExitError)
			}
			for _, want := range []string{"1 sent, 0 succeeded, 1 failed", fmt.Sprintf("#%d: ", id), tt.reason} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
		})
	}
	ds := e.deliveries(e.captures[0].ID)
	if len(ds) != 2 || ds[0].State != store.DeliveryFailed || ds[1].Status != 503 {
		t.Errorf("failed replays recorded as %+v", ds)
	}
}

func TestReplayDryRun(t *testing.T) {
	e := newReplayEnv(t)
	srv, got := target(t, http.StatusOK)
	code, stdout, stderr := e.run("--type", "EXPIRED", "--to", srv.URL, "--dry-run")
	if code != 0 || len(got) != 0 {
		t.Fatalf("exit %d, %d requests sent on a dry run\n%s", code, len(got), stderr)
	}
	for _, c := range e.byType("EXPIRED", "") {
		if !strings.Contains(stdout, "#"+idStr(c.ID)) {
			t.Errorf("dry run does not list capture %d:\n%s", c.ID, stdout)
		}
	}
	if !strings.Contains(stderr, "nothing sent") {
		t.Errorf("stderr: %s", stderr)
	}

	code, stdout, _ = e.run("--type", "EXPIRED", "--to", "3000", "--dry-run", "--json")
	var sum replaySummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || code != 0 {
		t.Fatalf("exit %d, JSON %v:\n%s", code, err, stdout)
	}
	if !sum.DryRun || sum.Sent != 0 || len(sum.Results) != 3 || sum.To != "http://localhost:3000" {
		t.Errorf("dry-run JSON %+v", sum)
	}
	if len(got) != 0 {
		t.Errorf("%d requests sent on a dry run", len(got))
	}
}

func TestReplayJSON(t *testing.T) {
	e := newReplayEnv(t)
	srv, _ := target(t, http.StatusAccepted)
	code, stdout, stderr := e.run(idStr(e.captures[2].ID), "--to", srv.URL, "--json", "--rate", "100/s")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var sum replaySummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if sum.Sent != 1 || sum.Succeeded != 1 || len(sum.Results) != 1 || sum.Results[0].Delivery.Status != 202 {
		t.Errorf("JSON summary %+v", sum)
	}
}

// TestReplayToRunningListener: without --to, the state file of the running listener says where.
func TestReplayToRunningListener(t *testing.T) {
	e := newReplayEnv(t)
	code, _, stderr := e.run(idStr(e.captures[0].ID))
	if code != ExitUsage || !strings.Contains(strings.ToLower(strings.Join(strings.Fields(stderr), " ")), "no running `s2s listen`") {
		t.Fatalf("without a listener: exit %d\n%s", code, stderr)
	}
	srv, got := target(t, http.StatusOK)
	if _, err := state.Register(filepath.Join(e.dir, "state", "listeners"), state.Listener{PID: os.Getpid(), URL: srv.URL + "/"}); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = e.run(idStr(e.captures[0].ID))
	if code != 0 || len(got) != 1 || !strings.Contains(stderr, "running s2s listen") {
		t.Fatalf("exit %d, %d requests\n%s", code, len(got), stderr)
	}
}

func TestReplayUsage(t *testing.T) {
	e := newReplayEnv(t)
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--to", "3000"}, ExitUsage, "name the captures"},
		{[]string{"1", "--type", "TEST", "--to", "3000"}, ExitUsage, "not both"},
		{[]string{"1", "--set", "data.status=2", "--to", "3000"}, ExitUsage, "add --resign"},
		{[]string{"1", "--keep-uuid", "--to", "3000"}, ExitUsage, "add --resign"},
		{[]string{"1", "--resign", "--set", "nonsense", "--to", "3000"}, ExitUsage, "--set"},
		{[]string{"1", "--rate", "fast", "--to", "3000"}, ExitUsage, "--rate"},
		{[]string{"1", "--to", "ftp://x"}, ExitUsage, "--to"},
		{[]string{"x1", "--to", "3000"}, ExitUsage, ""},
		{[]string{"--trust", "trusted", "--to", "3000"}, ExitUsage, "--trust"},
		{[]string{"--since", "yesterday", "--to", "3000"}, ExitUsage, "--since"},
		{[]string{"--type", "TEST", "--limit", "0", "--to", "3000"}, ExitUsage, "--limit"},
		{[]string{"99999", "--to", "3000"}, ExitError, "capture 99999 not found"},
		// An unknown environment would select nothing and say only that nothing matched.
		{[]string{"--env", "staging", "--to", "3000"}, ExitUsage, `invalid --env "staging"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := e.run(tt.args...)
			// Usage errors are styled and wrapped by fang.
			flat := strings.ToLower(strings.Join(strings.Fields(stderr), " "))
			if code != tt.code || !strings.Contains(flat, strings.ToLower(tt.msg)) {
				t.Errorf("exit %d, want %d with %q\n%s", code, tt.code, tt.msg, stderr)
			}
		})
	}
}

// TestReplayInterrupted: Ctrl-C during a replay says how many were not sent and exits 130,
// rather than "context canceled" and a summary that looks complete.
func TestReplayInterrupted(t *testing.T) {
	e := newReplayEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cancel() // the user presses Ctrl-C while the first one is being sent
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	code, _, stderr := e.runCtx(ctx, "1", "2", "--rate", "1/h", "--to", srv.URL)
	if code != ExitInterrupted || !strings.Contains(stderr, "Interrupted: 1 of 2 not sent.") || strings.Contains(stderr, "context canceled") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}

// TestReplayUnknownTypeSaysSo: a misspelt --type matches nothing; the message says why.
func TestReplayUnknownTypeSaysSo(t *testing.T) {
	e := newReplayEnv(t)
	code, _, stderr := e.run("--type", "refun", "--to", "3000")
	if code != ExitOK || !strings.Contains(stderr, "nothing sent") || !strings.Contains(stderr, "REFUN is not a notificationType Apple documents") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}

// TestReplayResign: an edited Apple notification is re-signed with the local chain, and decode
// labels it simulated with the edited values.
func TestReplayResign(t *testing.T) {
	e := newReplayEnv(t)
	chain, err := fixtures.LoadOrCreateChain(filepath.Join(e.dir, "config"))
	if err != nil {
		t.Fatalf("local test chain: %v", err)
	}
	verifier := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{chain.Root()}})
	orig := e.byType("DID_RENEW", "Sandbox")[len(e.byType("DID_RENEW", "Sandbox"))-1]
	origUUID := orig.NotificationUUID
	if origUUID == "" {
		t.Fatal("the seeded capture has no notificationUUID")
	}

	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("keep-uuid=%v", keep), func(t *testing.T) {
			srv, got := target(t, http.StatusOK)
			args := []string{idStr(orig.ID), "--to", srv.URL, "--resign", "--set", "data.status=3", "--set", "transaction.price=9990"}
			if keep {
				args = append(args, "--keep-uuid")
			}
			code, _, stderr := e.run(args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			reqs := drain(got)
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			if reqs[0].header.Get("X-S2S-Trust") != "simulated" {
				t.Errorf("X-S2S-Trust %q, want simulated", reqs[0].header.Get("X-S2S-Trust"))
			}
			d := verifier.Decode(reqs[0].body)
			if d.Verification.Label != decode.LabelSimulated {
				t.Fatalf("re-signed body labelled %s (%s): %s", d.Verification.Label, d.Verification.Class, d.Verification.Message)
			}
			n := d.Notification
			if n == nil || n.Data == nil || n.Data.Status != 3 {
				t.Fatalf("decoded notification %+v: want data.status 3", n)
			}
			if d.SignedTransactionInfo == nil || d.SignedTransactionInfo.Transaction == nil || d.SignedTransactionInfo.Transaction.Price != 9990 {
				t.Errorf("nested transaction %+v: want price 9990", d.SignedTransactionInfo)
			} else if l := d.SignedTransactionInfo.Verification.Label; l != decode.LabelSimulated {
				t.Errorf("nested transaction labelled %s", l)
			}
			if string(n.NotificationType) != "DID_RENEW" {
				t.Errorf("type %s changed", n.NotificationType)
			}
			if sameUUID := n.NotificationUUID == origUUID; sameUUID != keep {
				t.Errorf("notificationUUID %s (original %s), keep-uuid %v", n.NotificationUUID, origUUID, keep)
			}
			if apple := decode.NewVerifier(decode.Options{}).Decode(reqs[0].body); apple.Verification.Label == decode.LabelVerified {
				t.Error("a re-signed body passes as verified by Apple")
			}
		})
	}
}

// TestReplayAmbiguousStoredBody: a body that reads differently to different JSON readers, stored
// as verified by an older s2s, is replayed with X-S2S-Trust: invalid, and --resign refuses it
// rather than re-sign whichever signedPayload Go's encoding/json picks.
func TestReplayAmbiguousStoredBody(t *testing.T) {
	e := newReplayEnv(t)
	genuine := e.captures[4]
	var b struct{ SignedPayload string }
	if err := json.Unmarshal(genuine.Body, &b); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"signedPayload":"eyJhbGciOiJub25lIn0.eyJub3RpZmljYXRpb25UeXBlIjoiUkVGVU5EIn0.AAAA","SignedPayload":"` + b.SignedPayload + `"}`)
	st, err := store.Open(e.store)
	if err != nil {
		t.Fatal(err)
	}
	c := genuine
	c.ID, c.Body, c.BodySize = 0, body, len(body)
	if err := st.Insert(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if c.Trust != "verified" {
		t.Fatalf("seeded capture is %s, want the stale verified label", c.Trust)
	}
	srv, got := target(t, http.StatusOK)
	if code, _, stderr := e.run(idStr(c.ID), "--to", srv.URL); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	reqs := drain(got)
	if len(reqs) != 1 {
		t.Fatalf("replayed %d requests, want 1", len(reqs))
	}
	if !bytes.Equal(reqs[0].body, body) || reqs[0].header.Get("X-S2S-Trust") != "invalid" {
		t.Errorf("replayed body changed, or X-S2S-Trust %q, want invalid", reqs[0].header.Get("X-S2S-Trust"))
	}
	code, stdout, stderr := e.run(idStr(c.ID), "--to", srv.URL, "--resign")
	if code != 1 || !strings.Contains(stdout+stderr, "cannot re-sign capture "+idStr(c.ID)+`: the body has the key "SignedPayload"`) {
		t.Errorf("--resign: exit %d\n%s%s", code, stdout, stderr)
	}
	if n := len(drain(got)); n != 0 {
		t.Errorf("--resign sent %d requests", n)
	}
}
