package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/store"
)

// capturesEnv runs `s2s captures` in-process against a store in a temporary directory.
type capturesEnv struct {
	t     *testing.T
	dir   string
	store string
	now   time.Time
	stdin string
	tty   bool
}

func newCapturesEnv(t *testing.T) *capturesEnv {
	dir := t.TempDir()
	return &capturesEnv{t: t, dir: dir, store: filepath.Join(dir, "data", "captures.db"),
		now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
}

func (e *capturesEnv) run(args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	ios, in, out, errOut := TestIO()
	in.WriteString(e.stdin)
	ios.SetTTY(e.tty, false, e.tty)
	vars := map[string]string{
		"HOME":           e.dir,
		"S2S_CONFIG_DIR": filepath.Join(e.dir, "config"),
		"S2S_STATE_DIR":  filepath.Join(e.dir, "state"),
		"S2S_STORE":      e.store,
		"NO_COLOR":       "1",
	}
	f := &Factory{
		IO:         ios,
		Getenv:     func(k string) string { return vars[k] },
		Now:        func() time.Time { return e.now },
		HTTPClient: func() *http.Client { return &http.Client{Timeout: 10 * time.Second} },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code = run(ctx, f, append([]string{"captures"}, args...))
	return code, out.String(), errOut.String()
}

// seeded is one capture the tests put in the store, with what decode said about its body.
type seeded struct {
	capture store.Capture
	label   decode.Label
}

// seed stores every real notification vector as the receiver would, an hour apart (the newest
// an hour before e.now), plus one body that is not a notification at all.
func (e *capturesEnv) seed() []seeded {
	e.t.Helper()
	s, err := store.Open(e.store)
	if err != nil {
		e.t.Fatal(err)
	}
	defer s.Close()
	files, err := filepath.Glob("../testdata/vectors/real/*-notification-*.jws")
	if err != nil || len(files) < 10 {
		e.t.Fatalf("vectors: %v (%d files)", err, len(files))
	}
	var bodies [][]byte
	for _, f := range files {
		jws, err := os.ReadFile(f)
		if err != nil {
			e.t.Fatal(err)
		}
		bodies = append(bodies, []byte(`{"signedPayload":"`+strings.TrimSpace(string(jws))+`"}`))
	}
	bodies = append(bodies, []byte("\x00\xffnot a notification"))
	v := decode.NewVerifier(decode.Options{})
	var out []seeded
	for i, body := range bodies {
		d := v.Decode(body)
		c := &store.Capture{
			ReceivedAt: e.now.Add(-time.Duration(len(bodies)-i) * time.Hour),
			Method:     http.MethodPost,
			Path:       "/apple",
			Headers:    http.Header{"Content-Type": {"application/json"}, "User-Agent": {"AppStore-Notifications/1.0"}},
			RemoteAddr: "127.0.0.1:54321",
			SourceIP:   "127.0.0.1",
			Body:       body,
		}
		c.SetSummary(d.Summary())
		c.ResponseStatus, c.Latency = 200, 2*time.Millisecond
		if err := s.Insert(context.Background(), c); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, seeded{*c, d.Verification.Label})
	}
	return out
}

func TestCapturesList(t *testing.T) {
	e := newCapturesEnv(t)
	all := e.seed()
	count := func(pred func(c store.Capture) bool) int {
		n := 0
		for _, s := range all {
			if pred(s.capture) {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"all", []string{"--limit", "0"}, len(all)},
		{"default limit is 50", nil, min(50, len(all))},
		{"type, any case", []string{"--type", "did_renew"}, count(func(c store.Capture) bool { return c.Type == "DID_RENEW" })},
		{"type and subtype", []string{"--type", "EXPIRED", "--subtype", "voluntary"}, count(func(c store.Capture) bool { return c.Type == "EXPIRED" && c.Subtype == "VOLUNTARY" })},
		{"environment spelled loosely", []string{"--env", "prod"}, count(func(c store.Capture) bool { return c.Environment == "Production" })},
		{"trust", []string{"--trust", "invalid"}, count(func(c store.Capture) bool { return c.Trust == "invalid" })},
		{"bundle", []string{"--bundle-id", "com.loki-project.loki-messenger"}, count(func(c store.Capture) bool { return c.BundleID == "com.loki-project.loki-messenger" })},
		{"since a duration", []string{"--since", "3h"}, 3},
		{"since and until as times", []string{"--since", "2026-11-23T08:00:00Z", "--until", "2026-11-23T10:00:00Z"}, 2},
		{"until a date (local midnight)", []string{"--until", "2000-01-01"}, 0},
		{"limit", []string{"--limit", "4"}, 4},
		{"search", []string{"--search", "consumption"}, count(func(c store.Capture) bool { return c.Type == "CONSUMPTION_REQUEST" })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := e.run(append([]string{"list", "--json"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var got []store.Capture
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("not a JSON array: %v\n%s", err, out)
			}
			if len(got) != tc.want {
				t.Errorf("%d captures, want %d", len(got), tc.want)
			}
			for i := 1; i < len(got); i++ {
				if got[i].ID >= got[i-1].ID {
					t.Errorf("not newest first: %d before %d", got[i-1].ID, got[i].ID)
				}
			}
		})
	}

	// JSON carries each capture's type and the label decode gave it.
	code, out, _ := e.run("list", "--json", "--limit", "0")
	if code != 0 {
		t.Fatal(code)
	}
	var got []store.Capture
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	byID := map[int64]store.Capture{}
	for _, c := range got {
		byID[c.ID] = c
	}
	for _, s := range all {
		c := byID[s.capture.ID]
		if c.Type != s.capture.Type || c.Trust != s.label || c.BodySize != len(s.capture.Body) {
			t.Errorf("capture %d listed as %s/%s/%d, want %s/%s/%d", s.capture.ID, c.Type, c.Trust, c.BodySize,
				s.capture.Type, s.label, len(s.capture.Body))
		}
	}

	// The human table: a header, one row per capture, and a hint when there are more.
	code, out, errOut := e.run("list", "--limit", "3", "--type", "DID_RENEW")
	if code != 0 {
		t.Fatal(code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[0], "TRUST") {
		t.Errorf("header: %q", lines[0])
	}
	renewals := count(func(c store.Capture) bool { return c.Type == "DID_RENEW" })
	if want := min(3, renewals) + 1; len(lines) != want {
		t.Errorf("%d lines, want %d:\n%s", len(lines), want, out)
	}
	if renewals > 3 && !strings.Contains(errOut, "Showing 3 of ") {
		t.Errorf("no paging hint: %q", errOut)
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, "DID_RENEW") || !strings.Contains(l, "200") {
			t.Errorf("row %q", l)
		}
	}
}

func TestCapturesListWithoutStore(t *testing.T) {
	e := newCapturesEnv(t)
	for _, tc := range []struct {
		args           []string
		stdout, stderr string
	}{
		{[]string{"list"}, "", "No captures yet"},
		{[]string{"list", "--json"}, "[]\n", ""},
		{[]string{"stats", "--json"}, `"total": 0`, ""},
	} {
		code, out, errOut := e.run(tc.args...)
		if code != 0 || !strings.Contains(out, tc.stdout) || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tc.args, code, out, errOut)
		}
	}
	if _, err := os.Stat(e.store); !os.IsNotExist(err) {
		t.Errorf("reading commands created the store: %v", err)
	}
}

func TestCapturesUsageErrors(t *testing.T) {
	e := newCapturesEnv(t)
	e.seed()
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"list", "--trust", "trusted"}, ExitUsage, "verified, simulated"},
		{[]string{"list", "--since", "yesterday"}, ExitUsage, "duration"},
		{[]string{"list", "--limit", "-1"}, ExitUsage, "--limit"},
		{[]string{"list", "extra"}, ExitUsage, ""},
		{[]string{"show"}, ExitUsage, ""},
		{[]string{"show", "abc"}, ExitUsage, "not a capture ID"},
		{[]string{"show", "0"}, ExitUsage, "not a capture ID"},
		{[]string{"show", "999"}, ExitError, "capture 999 not found"},
		{[]string{"export", "999"}, ExitError, "capture 999 not found"},
		{[]string{"rm"}, ExitUsage, "IDs or --all"},
		{[]string{"rm", "1", "--all"}, ExitUsage, "IDs or --all"},
		{[]string{"rm", "--all"}, ExitUsage, "--yes"},
		{[]string{"rm", "1", "999"}, ExitError, "capture 999 not found in "},
		{[]string{"rm", "1", "999"}, ExitError, "; nothing deleted"},
		{[]string{"rm", "998", "999"}, ExitError, "captures 998, 999 not found in "},
		{[]string{"nope"}, ExitUsage, ""},
	} {
		code, _, errOut := e.run(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tc.args, code, tc.code, errOut, tc.msg)
		}
	}
	// Nothing was deleted by the refused rm commands.
	if code, out, _ := e.run("show", "1", "--json"); code != 0 || !strings.Contains(out, `"id": 1`) {
		t.Errorf("capture 1 is gone after a refused rm: %d %s", code, out)
	}
}

func TestCapturesShow(t *testing.T) {
	e := newCapturesEnv(t)
	all := e.seed()
	var renew seeded
	for _, s := range all {
		if s.capture.Type == "DID_RENEW" && s.label == decode.LabelVerified {
			renew = s
		}
	}
	if renew.capture.ID == 0 {
		t.Fatal("no verified DID_RENEW among the vectors")
	}
	id := renew.capture.ID
	code, out, errOut := e.run("show", "#"+idStr(id))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Capture " + idStr(id), "request     POST /apple", "127.0.0.1:54321", "not in Apple's published ranges",
		"answered    200 OK", "stored as   verified", "headers:", "  Content-Type: application/json",
		"DID_RENEW", "verified", "signedTransactionInfo",
		// Signed in 2025, received in 2026: far later than Apple's seconds.
		"delay       arrived ", "after its signedDate: late",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	wantDelay := fmt.Sprintf(`"delayMs": %d`, renew.capture.ReceivedAt.Sub(renew.capture.SignedDate).Milliseconds())
	for _, args := range [][]string{{"show", idStr(id), "--json"}, {"list", "--json"}} {
		if code, out, _ := e.run(args...); code != 0 || !strings.Contains(out, wantDelay) {
			t.Errorf("%v lacks %s:\n%.2000s", args, wantDelay, out)
		}
	}

	code, out, errOut = e.run("show", idStr(id), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Capture    store.Capture    `json:"capture"`
		Deliveries []store.Delivery `json:"deliveries"`
		Decoded    struct {
			Summary decode.Summary `json:"summary"`
		} `json:"decoded"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.Capture.ID != id || doc.Capture.Headers.Get("User-Agent") == "" || doc.Deliveries == nil ||
		doc.Decoded.Summary.Type != "DID_RENEW" || doc.Decoded.Summary.Label != decode.LabelVerified {
		t.Errorf("show --json: %+v", doc)
	}

	// Shows deliveries when there are some; a non-notification shows as UNVERIFIED, exit 0.
	s, err := store.Open(e.store)
	if err != nil {
		t.Fatal(err)
	}
	junk := all[len(all)-1].capture.ID
	if err := s.AddDelivery(context.Background(), &store.Delivery{CaptureID: junk, Target: "http://127.0.0.1:3000/hook",
		Attempt: 1, StartedAt: e.now, Status: 502, State: store.DeliveryPending, NextRetryAt: e.now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	code, out, _ = e.run("show", idStr(junk))
	if code != 0 || !strings.Contains(out, "deliveries:") || !strings.Contains(out, "http://127.0.0.1:3000/hook  502, pending") ||
		!strings.Contains(out, "UNVERIFIED") {
		t.Errorf("show of junk: exit %d\n%s", code, out)
	}
}

// TestCapturesShowKeepsListenIdentityVerdict: a genuine notification that s2s listen stored as
// invalid/identity (another app than --bundle-id) must not be shown as verified by show, in text or
// JSON, even though show decodes it again without listen's expectations.
func TestCapturesShowKeepsListenIdentityVerdict(t *testing.T) {
	e := newCapturesEnv(t)
	body := decodeVector(t, "real/05-notification-2025-10-01-DID_RENEW-sandbox.jws")
	body = []byte(`{"signedPayload":"` + strings.TrimSpace(string(body)) + `"}`)
	d := decode.NewVerifier(decode.Options{BundleID: "com.other.app"}).Decode(body)
	if d.Verification.Class != decode.ClassIdentity {
		t.Fatalf("setup: %+v", d.Verification)
	}
	s, err := store.Open(e.store)
	if err != nil {
		t.Fatal(err)
	}
	c := &store.Capture{ReceivedAt: e.now, Method: http.MethodPost, Path: "/", Body: body,
		IdentityMismatch: d.Verification.Message, ResponseStatus: 200}
	c.SetSummary(d.Summary())
	if err := s.Insert(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	s.Close()

	code, out, errOut := e.run("show", idStr(c.ID))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "trust: invalid/identity") || !strings.Contains(out, "UNVERIFIED") ||
		strings.Contains(out, "trust: verified") {
		t.Errorf("show of a capture listen stored as invalid/identity:\n%s", out)
	}
	code, out, errOut = e.run("show", idStr(c.ID), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Decoded struct {
			Summary      decode.Summary      `json:"summary"`
			Verification decode.Verification `json:"verification"`
		} `json:"decoded"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Decoded.Summary.Label != decode.LabelInvalid || doc.Decoded.Verification.Label != decode.LabelInvalid ||
		doc.Decoded.Verification.Class != decode.ClassIdentity || !strings.Contains(doc.Decoded.Verification.Message, "com.other.app") {
		t.Errorf("show --json: %+v", doc.Decoded)
	}
}

func TestCapturesExport(t *testing.T) {
	e := newCapturesEnv(t)
	all := e.seed()
	for _, s := range []seeded{all[0], all[len(all)-1]} { // a notification, and binary junk
		id := idStr(s.capture.ID)
		code, out, errOut := e.run("export", id)
		if code != 0 || out != string(s.capture.Body) {
			t.Errorf("export %s to stdout: exit %d, %d bytes (want %d) %s", id, code, len(out), len(s.capture.Body), errOut)
		}
		file := filepath.Join(e.dir, "body-"+id)
		if code, _, errOut := e.run("export", id, "-o", file); code != 0 || !strings.Contains(errOut, "Wrote capture") {
			t.Fatalf("export -o: exit %d %s", code, errOut)
		}
		b, err := os.ReadFile(file)
		if err != nil || !bytes.Equal(b, s.capture.Body) {
			t.Errorf("export -o wrote %d bytes, want %d (%v)", len(b), len(s.capture.Body), err)
		}
		if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
			t.Errorf("export -o file mode %v", st.Mode().Perm())
		}

		code, out, _ = e.run("export", id, "--json")
		var doc struct {
			ID         int64       `json:"id"`
			Headers    http.Header `json:"headers"`
			Body       *string     `json:"body"`
			BodyBase64 []byte      `json:"bodyBase64"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 {
			t.Fatalf("export --json: %d %v\n%s", code, err, out)
		}
		got := doc.BodyBase64
		if doc.Body != nil {
			got = []byte(*doc.Body)
		}
		if doc.ID != s.capture.ID || !bytes.Equal(got, s.capture.Body) || doc.Headers.Get("Content-Type") == "" {
			t.Errorf("export --json of %s: %+v", id, doc)
		}
	}
}

func TestCapturesRm(t *testing.T) {
	e := newCapturesEnv(t)
	all := e.seed()
	code, out, errOut := e.run("rm", "1", "2", "--json")
	if code != 0 || !strings.Contains(out, `"deleted": 2`) {
		t.Fatalf("rm 1 2: exit %d %s %s", code, out, errOut)
	}
	if code, _, errOut := e.run("show", "1"); code != ExitError || !strings.Contains(errOut, "capture 1 not found") {
		t.Errorf("show of a deleted capture: %d %s", code, errOut)
	}
	if code, _, errOut := e.run("rm", "3"); code != 0 || errOut != "Deleted 1 capture.\n" {
		t.Errorf("rm 3: %d %q", code, errOut)
	}

	// --all on a terminal asks; anything but yes keeps everything.
	e.tty, e.stdin = true, "n\n"
	if code, _, errOut := e.run("rm", "--all"); code != ExitError || !strings.Contains(errOut, "Nothing deleted") {
		t.Errorf("rm --all answered n: %d %q", code, errOut)
	}
	e.stdin = "y\n"
	want := len(all) - 3
	if code, _, errOut := e.run("rm", "--all"); code != 0 || !strings.Contains(errOut, "Delete all "+idStr(int64(want))+" captures") ||
		!strings.Contains(errOut, "Deleted "+idStr(int64(want))+" captures.") {
		t.Errorf("rm --all answered y: %d %q", code, errOut)
	}
	e.tty = false
	if code, out, _ := e.run("list", "--json"); code != 0 || out != "[]\n" {
		t.Errorf("after rm --all: %s", out)
	}
	if code, _, errOut := e.run("rm", "--all", "--yes"); code != 0 || errOut != "Deleted 0 captures.\n" {
		t.Errorf("rm --all --yes on an empty store: %d %q", code, errOut)
	}
}

func TestCapturesStats(t *testing.T) {
	e := newCapturesEnv(t)
	all := e.seed()
	code, out, errOut := e.run("stats", "--json")
	if code != 0 {
		t.Fatal(code, errOut)
	}
	var st store.Stats
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	want := store.Stats{Total: len(all), ByType: map[string]int{}, ByTrust: map[string]int{}, ByDay: map[string]int{}}
	for _, s := range all {
		if s.capture.ReceivedAt.After(want.LastReceivedAt) {
			want.LastReceivedAt = s.capture.ReceivedAt.UTC()
		}
		want.ByType[s.capture.Type]++
		want.ByTrust[string(s.label)]++
		want.ByDay[s.capture.ReceivedAt.UTC().Format("2006-01-02")]++
	}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("stats --json = %+v\nwant %+v", st, want)
	}
	code, out, _ = e.run("stats")
	// The newest seeded capture arrived an hour before "now".
	for _, s := range []string{idStr(int64(len(all))) + " captures in " + e.store, "Last notification 1 h ago (", "By type", "By trust label", "By day (UTC)", "(none)", "DID_RENEW"} {
		if code != 0 || !strings.Contains(out, s) {
			t.Errorf("stats lacks %q:\n%s", s, out)
		}
	}
}

func TestParseCaptureTime(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "90s", want: now.Add(-90 * time.Second)},
		{in: "1h30m", want: now.Add(-90 * time.Minute)},
		{in: "7d", want: now.Add(-7 * 24 * time.Hour)},
		{in: "0.5d", want: now.Add(-12 * time.Hour)},
		{in: "2026-11-20T08:00:00Z", want: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)},
		{in: "2026-11-20T08:00:00+01:00", want: time.Date(2026, 11, 20, 7, 0, 0, 0, time.UTC)},
		{in: "2026-11-20", want: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		{in: "2026-11-20 08:30:00", want: time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)},
		{in: "-1h", bad: true},
		{in: "yesterday", bad: true},
		{in: "d", bad: true},
		{in: "NaNd", bad: true},
		{in: "1e9d", bad: true},
	} {
		got, err := parseCaptureTime(tc.in, now)
		if (err != nil) != tc.bad || (!tc.bad && !got.Equal(tc.want)) {
			t.Errorf("parseCaptureTime(%q) = %v, %v; want %v (bad %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func idStr(n int64) string { return strconv.FormatInt(n, 10) }

// FuzzParseCaptureTime: --since/--until never panic, and a duration never lands in the future.
func FuzzParseCaptureTime(f *testing.F) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"1h", "7d", "0.5d", "-1h", "d", "1e9d", "2026-11-23", "2026-11-23T08:00:00Z", "2026-11-23 08:00:00", "", "NaNd", "Infd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseCaptureTime(s, now)
		if err != nil {
			return
		}
		if _, isAgo := parseAgo(strings.TrimSpace(s)); isAgo && got.After(now) {
			t.Errorf("%q: %v is after now", s, got)
		}
	})
}

// A real-time request has no notificationType: the list's TYPE column names it instead of a dash.
func TestTypeOfRealtimeRequest(t *testing.T) {
	var rt store.Capture
	rt.Kind = decode.KindRealtimeRequest
	if got := typeOf(rt); got != "REAL-TIME REQUEST" {
		t.Errorf("real-time request: TYPE %q", got)
	}
	var n store.Capture
	n.Type, n.Subtype = "REFUND", "X"
	if got := typeOf(n); got != "REFUND/X" {
		t.Errorf("notification: TYPE %q", got)
	}
}
