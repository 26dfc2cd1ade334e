package sender

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// recorder is a receiver that answers from a script of statuses and keeps every body.
type recorder struct {
	mu       sync.Mutex
	bodies   [][]byte
	ctypes   []string
	statuses []int // answer i gets statuses[i], the last one repeats
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	i := len(r.bodies)
	r.bodies = append(r.bodies, b)
	r.ctypes = append(r.ctypes, req.Header.Get("Content-Type"))
	st := r.statuses[min(i, len(r.statuses)-1)]
	r.mu.Unlock()
	if req.Method != http.MethodPost {
		st = http.StatusMethodNotAllowed
	}
	w.WriteHeader(st)
	_, _ = w.Write([]byte("answer"))
}

func TestSendSuccessWindow(t *testing.T) {
	// Apple counts 200-206 as delivered and everything else as a failure (docs/apple.md §1.2).
	cases := []struct {
		status int
		ok     bool
	}{{200, true}, {201, true}, {204, true}, {206, true}, {207, false}, {302, false}, {400, false}, {500, false}, {503, false}}
	for _, tc := range cases {
		rec := &recorder{statuses: []int{tc.status}}
		srv := httptest.NewServer(rec)
		s := &Sender{Client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		r := s.Send(testCtx(t), srv.URL, []byte(`{"signedPayload":"x"}`))
		srv.Close()
		if r.OK() != tc.ok || r.Status != tc.status {
			t.Errorf("status %d: OK=%v (status %d), want %v", tc.status, r.OK(), r.Status, tc.ok)
		}
		wantOutcome := "SUCCESS"
		if !tc.ok {
			wantOutcome = "UNSUCCESSFUL_HTTP_RESPONSE_CODE"
		}
		if r.Outcome() != wantOutcome {
			t.Errorf("status %d: outcome %s, want %s", tc.status, r.Outcome(), wantOutcome)
		}
		if rec.ctypes[0] != "application/json" || string(rec.bodies[0]) != `{"signedPayload":"x"}` {
			t.Errorf("request: content type %q body %q", rec.ctypes[0], rec.bodies[0])
		}
	}
}

func TestOutcomesWithoutAnswer(t *testing.T) {
	refused := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr
	}
	hangUp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			c.Close()
		}
	}))
	defer hangUp.Close()
	release := make(chan struct{})
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer stall.Close()
	defer close(release)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tlsSrv.Close()
	var loop *httptest.Server
	loop = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, loop.URL+"/again", http.StatusTemporaryRedirect)
	}))
	defer loop.Close()

	cases := []struct {
		name, url string
		timeout   time.Duration
		want      string
	}{
		{"connection refused", refused(), 0, "SOCKET_ISSUE"},
		{"hang up", hangUp.URL, 0, "PREMATURE_CLOSE"},
		{"no answer in time", stall.URL, 50 * time.Millisecond, "TIMED_OUT"},
		{"untrusted certificate", tlsSrv.URL, 0, "TLS_ISSUE"},
		// Not followed, as forwarding and probe: the redirect is the answer, a failed attempt.
		{"redirect loop", loop.URL, 0, "UNSUCCESSFUL_HTTP_RESPONSE_CODE"},
		// An https:// URL on a port that speaks plain HTTP: what s2s probe calls TLS_ISSUE too.
		{"plain HTTP behind https", strings.Replace(hangUp.URL, "http://", "https://", 1), 0, "TLS_ISSUE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &Sender{Timeout: tc.timeout}
			r := s.Send(testCtx(t), tc.url, []byte(`{}`))
			if r.OK() || r.Outcome() != tc.want {
				t.Fatalf("outcome %s (err %v), want %s", r.Outcome(), r.Err, tc.want)
			}
		})
	}
}

func TestDeliverRetriesOnAppleScheduleWithSameBody(t *testing.T) {
	rec := &recorder{statuses: []int{500, 503, 200}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	var waits []time.Duration
	var attempts []int
	// Scaled so far down that an hour is well under a millisecond: the schedule is exercised
	// without the test waiting on it.
	r := Retry{Schedule: AppleRetrySchedule(), Scale: 1e10}
	body := []byte(`{"signedPayload":"same"}`)
	res := (&Sender{}).Deliver(testCtx(t), srv.URL, body, r, func(res Result, next time.Duration) {
		attempts = append(attempts, res.Attempt)
		waits = append(waits, next)
	})
	if len(res) != 3 || !res[2].OK() || res[0].OK() {
		t.Fatalf("results %+v, want two failures then a success", res)
	}
	if len(attempts) != 3 || attempts[0] != 1 || attempts[2] != 3 {
		t.Errorf("attempt numbers %v", attempts)
	}
	if waits[0] != r.Wait(0) || waits[1] != r.Wait(1) || waits[2] != 0 {
		t.Errorf("waits %v, want %v, %v, 0", waits, r.Wait(0), r.Wait(1))
	}
	for i, b := range rec.bodies {
		if !bytes.Equal(b, body) {
			t.Errorf("attempt %d sent %q, want the same body every time", i+1, b)
		}
	}
}

func TestDeliverGivesUpAfterSixAttempts(t *testing.T) {
	rec := &recorder{statuses: []int{500}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	res := (&Sender{}).Deliver(testCtx(t), srv.URL, []byte(`{}`), Retry{Schedule: AppleRetrySchedule(), Scale: 1e10}, nil)
	if len(res) != 6 || len(rec.bodies) != 6 {
		t.Fatalf("%d attempts (%d received), want 6: the first and 5 retries", len(res), len(rec.bodies))
	}
	res = (&Sender{}).Deliver(testCtx(t), srv.URL, []byte(`{}`), Retry{}, nil)
	if len(res) != 1 {
		t.Fatalf("without a schedule: %d attempts, want 1", len(res))
	}
}

func TestDeliverStopsWhenCancelled(t *testing.T) {
	rec := &recorder{statuses: []int{500}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	ctx, cancel := context.WithCancel(testCtx(t))
	// Unscaled, the first retry would wait an hour; cancelling must end the wait at once.
	res := (&Sender{}).Deliver(ctx, srv.URL, []byte(`{}`), Retry{Schedule: AppleRetrySchedule(), Scale: 1}, func(Result, time.Duration) { cancel() })
	if len(res) != 1 {
		t.Fatalf("%d attempts after cancel, want 1", len(res))
	}
}

func TestRetryWaitScale(t *testing.T) {
	cases := []struct {
		scale float64
		i     int
		want  time.Duration
	}{
		{3600, 0, time.Second}, {3600, 4, 72 * time.Second}, {60, 1, 12 * time.Minute}, {0, 0, time.Hour}, {-5, 2, 24 * time.Hour},
	}
	for _, tc := range cases {
		if got := (Retry{Schedule: AppleRetrySchedule(), Scale: tc.scale}).Wait(tc.i); got != tc.want {
			t.Errorf("scale %g retry %d: %s, want %s", tc.scale, tc.i, got, tc.want)
		}
	}
}

func TestLoad(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if n.Add(1)%10 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	var progressCalls int
	var lastDone int
	rep, err := (&Sender{MaxConns: 8}).Load(testCtx(t), srv.URL, LoadOptions{
		Count: 200, Concurrency: 8,
		Body:     func(i int) ([]byte, error) { return []byte(`{"signedPayload":"x"}`), nil },
		Progress: func(done, ok, failed int) { progressCalls++; lastDone = done },
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 200 || rep.OK != 180 || rep.Failed != 20 || rep.Statuses["200"] != 180 || rep.Statuses["503"] != 20 {
		t.Errorf("report %+v, want 200 sent, 180 × 200, 20 × 503", rep)
	}
	if !(rep.P50 <= rep.P90 && rep.P90 <= rep.P99 && rep.P99 <= rep.Max && rep.P50 > 0) {
		t.Errorf("percentiles out of order: %s %s %s %s", rep.P50, rep.P90, rep.P99, rep.Max)
	}
	if rep.Throughput <= 0 || rep.Elapsed <= 0 {
		t.Errorf("throughput %f elapsed %s", rep.Throughput, rep.Elapsed)
	}
	if progressCalls == 0 || lastDone != 200 {
		t.Errorf("progress called %d times, last with %d done", progressCalls, lastDone)
	}
}

func TestLoadStopsOnBodyError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, err := (&Sender{}).Load(testCtx(t), srv.URL, LoadOptions{
		Count: 50, Concurrency: 4,
		Body: func(i int) ([]byte, error) {
			if i == 10 {
				return nil, io.ErrUnexpectedEOF
			}
			return []byte(`{}`), nil
		},
	})
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err %v, want the body error", err)
	}
}

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	cases := []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 50, 5 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
	}
	for _, tc := range cases {
		if got := percentile(tc.in, tc.p); got != tc.want {
			t.Errorf("p%g of %v = %s, want %s", tc.p, tc.in, got, tc.want)
		}
	}
}

// BenchmarkLoadLoopback measures the sender itself against a loopback receiver that answers at
// once: the ceiling load mode can report on this machine.
func BenchmarkLoadLoopback(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
	defer srv.Close()
	body := bytes.Repeat([]byte("x"), 16<<10)
	s := &Sender{MaxConns: 8}
	b.ResetTimer()
	rep, err := s.Load(context.Background(), srv.URL, LoadOptions{Count: b.N, Concurrency: 8, Body: func(int) ([]byte, error) { return body, nil }})
	if err != nil || rep.OK != b.N {
		b.Fatalf("%v, %d of %d ok", err, rep.OK, b.N)
	}
}

func TestSlowAndOutcomeOfLateAnswers(t *testing.T) {
	cases := []struct {
		latency time.Duration
		slow    bool
	}{{0, false}, {SlowThreshold - time.Millisecond, false}, {SlowThreshold, true}, {AppleTimeout, true}}
	for _, tc := range cases {
		r := Result{Status: 200, Latency: tc.latency}
		if r.Slow() != tc.slow || !r.OK() {
			t.Errorf("latency %s: slow=%v ok=%v, want slow=%v and still delivered", tc.latency, r.Slow(), r.OK(), tc.slow)
		}
	}
}
