package probe

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A real-time probe: the transport's checks, then the answer judged as Apple's response body and
// timed against the budget, cut there as Apple cuts it.
func TestRealtime(t *testing.T) {
	f := newFixture(t)
	var release chan struct{} // made per case, closed before its server closes
	answer := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		}
	}
	const valid = `{"message":{"messageIdentifier":"m-1"}}`
	cases := []struct {
		name     string
		h        http.Handler
		budget   time.Duration
		want     Verdict
		valid    bool
		problem  string // a part of one of the realtime problems
		answered bool
	}{
		{"valid message", answer(200, valid), 5 * time.Second, Success, true, "", true},
		{"unknown key", answer(200, `{"message":{"messageIdentifier":"m"},"text":"stay"}`), 5 * time.Second, InvalidResponse, false, `the key "text"`, true},
		{"not JSON", answer(200, "OK"), 5 * time.Second, InvalidResponse, false, "not a JSON object", true},
		{"201 is not used", answer(201, valid), 5 * time.Second, UnsuccessfulHTTPResponseCode, false, "HTTP 201", true},
		{"404", answer(404, "nope"), 5 * time.Second, UnsuccessfulHTTPResponseCode, false, "HTTP 404", true},
		// The server holds the answer until the test ends: only the budget ends the POST.
		{"over the budget", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}), 50 * time.Millisecond, TimedOut, false, "no whole answer within the budget of 50ms", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			release = make(chan struct{})
			s := serveTLS(t, certConfig(f.good), tc.h)
			t.Cleanup(func() { close(release) }) // runs before s.Close, which waits for the handler
			o := f.opts(s.URL + "/retention")
			o.Realtime = &Realtime{Budget: tc.budget}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r := Run(ctx, o)
			ra := r.Realtime
			if r.Verdict != tc.want || ra == nil || ra.Valid != tc.valid || ra.Answered != tc.answered || r.OK() != tc.valid {
				t.Fatalf("verdict %s, realtime %+v\n%s", r.Verdict, ra, dump(r))
			}
			if tc.problem != "" && !strings.Contains(strings.Join(ra.Problems, "\n"), tc.problem) {
				t.Errorf("problems %q lack %q", ra.Problems, tc.problem)
			}
			if tc.valid && (ra.Choice != "message" || ra.Answer == nil || *ra.Answer != valid || !ra.WithinBudget) {
				t.Errorf("valid answer: %+v", ra)
			}
			if tc.answered && r.Step("answer") == nil {
				t.Errorf("no answer step\n%s", dump(r))
			}
			if !tc.answered && (r.Step("request") == nil || r.Step("request").Status != StatusFail || !strings.Contains(r.Reason, "budget")) {
				t.Errorf("the cut POST is not reported\n%s", dump(r))
			}
		})
	}
}

// Transport failures come first: a certificate the probe does not trust is TLS_ISSUE, and the
// report still says it was a real-time probe, with no answer.
func TestRealtimeTransportFailure(t *testing.T) {
	f := newFixture(t)
	s := serveTLS(t, certConfig(f.good), http.HandlerFunc(ok200))
	o := f.opts(s.URL + "/retention")
	o.ExtraRoots = nil
	o.Realtime = &Realtime{Budget: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r := Run(ctx, o)
	if r.Verdict != TLSIssue || r.Realtime == nil || r.Realtime.Answered || r.Realtime.Valid || r.Realtime.Budget != Duration(time.Second) {
		t.Fatalf("verdict %s realtime %+v\n%s", r.Verdict, r.Realtime, dump(r))
	}
}
