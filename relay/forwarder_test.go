package relay

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/receiver"
	"github.com/s2s-dev/s2s/store"
)

// realBodies are the HTTP bodies Apple would have sent for every real vector, plus each vector
// file's raw bytes (trailing newline included), so bytes that are not even JSON pass unchanged.
func realBodies(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("../testdata/vectors/real/*.jws")
	if err != nil || len(files) == 0 {
		t.Fatalf("no real vectors: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		out[name] = []byte(`{"signedPayload":"` + string(bytes.TrimSpace(raw)) + `"}`)
		out[name+" (raw file)"] = raw
	}
	return out
}

func TestForwardRealVectorsByteExact(t *testing.T) {
	for _, kind := range storeKinds() {
		t.Run(kind.name, func(t *testing.T) {
			st, _ := kind.open(t)
			srv := newRecorder(t, http.StatusOK)
			bus := events.NewBus()
			wait := deliveries(t, bus)
			f := newForwarder(t, Config{Targets: []Target{mustTarget(t, srv.URL+"/apple")}, Store: st, Bus: bus})

			bodies := realBodies(t)
			byID := map[string]string{}
			for name, body := range bodies {
				c := insert(t, st, &store.Capture{Body: body})
				byID[strconv.FormatInt(c.ID, 10)] = name
				f.Enqueue(c)
			}
			for range bodies {
				h := srv.next(t)
				name := byID[h.Header.Get(HeaderCaptureID)]
				if name == "" {
					t.Fatalf("request with unknown capture id %q", h.Header.Get(HeaderCaptureID))
				}
				if got, want := sha256.Sum256(h.Body), sha256.Sum256(bodies[name]); got != want {
					t.Errorf("%s: forwarded sha256 %x, want %x", name, got, want)
				}
			}
			for range bodies {
				d := wait(func(d store.Delivery) bool { return true })
				if d.State != store.DeliverySucceeded || d.Status != http.StatusOK {
					t.Errorf("delivery %+v: want succeeded 200", d)
				}
			}
		})
	}
}

func TestForwardHeaders(t *testing.T) {
	srv := newRecorder(t, http.StatusOK)
	st := newMemStore()
	f := newForwarder(t, Config{Targets: []Target{mustTarget(t, srv.URL)}, Store: st})

	tests := []struct {
		name    string
		capture store.Capture
		want    map[string]string // "" means absent
	}{
		{
			name: "Apple's headers and forwarding headers",
			capture: store.Capture{
				Body: []byte(`{"signedPayload":"a.b.c"}`), Trust: "verified", SourceIP: "17.58.0.9", RemoteAddr: "127.0.0.1:5555",
				Headers: http.Header{
					"Content-Type":      {"application/json; charset=utf-8"},
					"User-Agent":        {"AppStore-Notifications/1.0"},
					"Accept":            {"*/*"},
					"Content-Length":    {"999"},
					"Connection":        {"keep-alive"},
					"Accept-Encoding":   {"gzip"},
					"X-Forwarded-Proto": {"https"},
					"X-Forwarded-Host":  {"abc.trycloudflare.com"},
					"Cookie":            {"session=secret"},
				},
			},
			want: map[string]string{
				"Content-Type": "application/json; charset=utf-8", "User-Agent": "AppStore-Notifications/1.0",
				"Accept": "*/*", "X-Forwarded-For": "17.58.0.9", "X-Forwarded-Proto": "https",
				"X-Forwarded-Host": "abc.trycloudflare.com", HeaderTrust: "verified", HeaderAttempt: "1", HeaderHops: "1",
				"Accept-Encoding": "", "Cookie": "", HeaderReplay: "",
			},
		},
		{
			name: "no user agent stays none, the peer is the forwarded-for",
			capture: store.Capture{
				Body: []byte(`{"signedPayload":"x"}`), Trust: "simulated", RemoteAddr: "127.0.0.1:6000",
				Headers: http.Header{"Content-Type": {"text/plain"}},
			},
			want: map[string]string{
				"Content-Type": "text/plain", "User-Agent": "", "X-Forwarded-For": "127.0.0.1",
				"X-Forwarded-Proto": "http", HeaderTrust: "simulated",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := insert(t, st, &tt.capture)
			f.Enqueue(c)
			h := srv.next(t)
			if got := h.Header.Get(HeaderCaptureID); got != strconv.FormatInt(c.ID, 10) {
				t.Errorf("%s = %q, want %d", HeaderCaptureID, got, c.ID)
			}
			for k, want := range tt.want {
				if got := h.Header.Get(k); got != want {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if got := h.Header.Get("Content-Length"); got != strconv.Itoa(len(tt.capture.Body)) {
				t.Errorf("Content-Length %s for a %d-byte body", got, len(tt.capture.Body))
			}
			if !bytes.Equal(h.Body, tt.capture.Body) {
				t.Errorf("body %q, want %q", h.Body, tt.capture.Body)
			}
		})
	}
}

// TestForwardLoopStops: each forward counts a hop, and a capture that has been through too many
// is not forwarded again, so a target pointing back at s2s cannot loop forever.
func TestForwardLoopStops(t *testing.T) {
	srv := newRecorder(t, http.StatusOK)
	st := newMemStore()
	bus := events.NewBus()
	wait := deliveries(t, bus)
	f := newForwarder(t, Config{Targets: []Target{mustTarget(t, srv.URL)}, Store: st, Bus: bus})

	c := insert(t, st, &store.Capture{Body: []byte(`{}`), Headers: http.Header{http.CanonicalHeaderKey(HeaderHops): {"2"}}})
	f.Enqueue(c)
	if got := srv.next(t).Header.Get(HeaderHops); got != "3" {
		t.Errorf("%s = %q after 2 hops, want 3", HeaderHops, got)
	}
	wait(func(store.Delivery) bool { return true })

	looped := insert(t, st, &store.Capture{Body: []byte(`{}`), Headers: http.Header{http.CanonicalHeaderKey(HeaderHops): {strconv.Itoa(MaxHops)}}})
	f.Enqueue(looped)
	if got := f.Passthrough(context.Background(), looped); got != http.StatusOK {
		t.Errorf("Passthrough of a looped capture = %d, want 200", got)
	}
	d := wait(func(store.Delivery) bool { return true })
	if !strings.Contains(d.Error, "is a --forward-to target s2s listen itself?") || d.Attempt != 0 {
		t.Errorf("loop event %+v", d)
	}
	f.Close()
	if n := len(srv.hits); n != 0 {
		t.Errorf("a looped capture was forwarded %d times", n)
	}
}

func TestRouting(t *testing.T) {
	all := newRecorder(t, http.StatusOK)
	sandbox := newRecorder(t, http.StatusOK)
	refunds := newRecorder(t, http.StatusOK)
	resub := newRecorder(t, http.StatusOK)
	st := newMemStore()
	bus := events.NewBus()
	wait := deliveries(t, bus)
	f := newForwarder(t, Config{Store: st, Bus: bus, Targets: []Target{
		mustTarget(t, all.URL),
		mustTarget(t, "env=Sandbox=>"+sandbox.URL),
		mustTarget(t, "type=REFUND|CONSUMPTION_REQUEST;env=production=>"+refunds.URL),
		mustTarget(t, "type=SUBSCRIBED/RESUBSCRIBE=>"+resub.URL),
	}})
	captures := []store.Capture{
		{Subject: decode.Subject{Environment: "Sandbox", Type: "DID_RENEW"}},
		{Subject: decode.Subject{Environment: "Production", Type: "REFUND"}},
		{Subject: decode.Subject{Environment: "Production", Type: "CONSUMPTION_REQUEST"}},
		{Subject: decode.Subject{Environment: "Sandbox", Type: "REFUND"}},
		{Subject: decode.Subject{Environment: "Production", Type: "SUBSCRIBED", Subtype: "RESUBSCRIBE"}},
		{Subject: decode.Subject{Environment: "Production", Type: "SUBSCRIBED", Subtype: "INITIAL_BUY"}},
	}
	for i := range captures {
		captures[i].Body = []byte(fmt.Sprintf(`{"n":%d}`, i))
		f.Enqueue(insert(t, st, &captures[i]))
	}
	for range 6 + 2 + 2 + 1 {
		wait(func(store.Delivery) bool { return true })
	}
	f.Close()

	ids := func(r *recorder) string {
		var got []string
		for len(r.hits) > 0 {
			got = append(got, (<-r.hits).Header.Get(HeaderCaptureID))
		}
		return strings.Join(sorted(got), ",")
	}
	id := func(i int) string { return strconv.FormatInt(captures[i].ID, 10) }
	want := map[string]string{
		"all":     strings.Join(sorted([]string{id(0), id(1), id(2), id(3), id(4), id(5)}), ","),
		"sandbox": strings.Join(sorted([]string{id(0), id(3)}), ","),
		"refunds": strings.Join(sorted([]string{id(1), id(2)}), ","),
		"resub":   id(4),
	}
	for name, r := range map[string]*recorder{"all": all, "sandbox": sandbox, "refunds": refunds, "resub": resub} {
		if got := ids(r); got != want[name] {
			t.Errorf("%s received captures %q, want %q", name, got, want[name])
		}
	}
}

// sorted orders decimal IDs numerically.
func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.SortFunc(out, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
	return out
}

func TestTrustFilter(t *testing.T) {
	tests := []struct {
		trust          decode.Label
		forwardInvalid bool
		forwarded      bool
	}{
		{"verified", false, true},
		{"simulated", false, true},
		{"invalid", false, false},
		{"legacy-v1", false, false},
		{"unsigned-xcode", false, false},
		{"invalid", true, true},
		{"legacy-v1", true, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/forward-invalid=%v", tt.trust, tt.forwardInvalid), func(t *testing.T) {
			srv := newRecorder(t, http.StatusOK)
			st := newMemStore()
			bus := events.NewBus()
			wait := deliveries(t, bus)
			f := newForwarder(t, Config{Targets: []Target{mustTarget(t, srv.URL)}, Store: st, Bus: bus, ForwardInvalid: tt.forwardInvalid})
			c := insert(t, st, &store.Capture{Body: []byte(`{}`), Trust: tt.trust, TrustClass: "signature"})
			f.Enqueue(c)
			d := wait(func(store.Delivery) bool { return true })
			f.Close()
			if got := len(srv.hits) == 1; got != tt.forwarded {
				t.Fatalf("forwarded = %v, want %v", got, tt.forwarded)
			}
			if !tt.forwarded {
				if d.State != store.DeliveryFailed || !strings.Contains(d.Error, "--forward-invalid") || d.Attempt != 0 {
					t.Errorf("skip event %+v should say how to forward it anyway", d)
				}
				if rows, _ := st.Deliveries(context.Background(), c.ID); len(rows) != 0 {
					t.Errorf("a skipped capture recorded %d deliveries; skipping is not an attempt", len(rows))
				}
			}
		})
	}
}

// TestDownThenBack: the target is down, the failure says what to do, and the retry delivers
// once the server is up, in the same run and across a restart of s2s.
func TestDownThenBack(t *testing.T) {
	for _, kind := range storeKinds() {
		for _, restart := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/restart=%v", kind.name, restart), func(t *testing.T) {
				st, reopen := kind.open(t)
				addr := closedPort(t)
				clk := newClock()
				bus := events.NewBus()
				wait := deliveries(t, bus)
				cfg := Config{
					Targets: []Target{mustTarget(t, "http://"+addr+"/apple")}, Store: st, Bus: bus,
					Backoff: []time.Duration{time.Minute, time.Minute}, Now: clk.Now,
				}
				f := newForwarder(t, cfg)
				body := []byte(`{"signedPayload":"down.then.back"}`)
				c := insert(t, st, &store.Capture{Body: body})
				f.Enqueue(c)

				d := wait(func(store.Delivery) bool { return true })
				at := clk.Now().Add(time.Minute).Local().Format("15:04:05")
				wantMsg := fmt.Sprintf("nothing listening on %s; the notification is stored (capture %d); retry 1 of 2 at %s (in 1m0s); start your server and that retry delivers it, or press r in the TUI or run s2s replay %d to deliver it sooner, once", addr, c.ID, at, c.ID)
				if d.State != store.DeliveryPending || d.Error != wantMsg {
					t.Fatalf("first attempt: state %s, error %q\nwant pending, %q", d.State, d.Error, wantMsg)
				}
				if d.NextRetryAt.Sub(clk.Now()) != time.Minute {
					t.Errorf("next retry at %v, want a minute after %v", d.NextRetryAt, clk.Now())
				}

				if restart {
					f.Close()
					st.Close()
					st = reopen()
					cfg.Store = st
				}
				srv := serveOn(t, addr, http.StatusOK)
				if restart {
					// A restart, a second later, retries what is pending at once, without waiting
					// out the minute of backoff.
					clk.Advance(time.Second)
					f = newForwarder(t, cfg)
				} else {
					clk.Advance(2 * time.Minute)
				}

				h := srv.next(t)
				if !bytes.Equal(h.Body, body) || h.Header.Get(HeaderAttempt) != "2" {
					t.Errorf("retry carried body %q attempt %q", h.Body, h.Header.Get(HeaderAttempt))
				}
				d = wait(func(d store.Delivery) bool { return d.Attempt == 2 })
				if d.State != store.DeliverySucceeded || d.Status != 200 || d.Error != "" {
					t.Errorf("retry: %+v, want succeeded 200", d)
				}
				f.Close()
				rows, err := st.Deliveries(context.Background(), c.ID)
				if err != nil {
					t.Fatal(err)
				}
				states := map[int]string{}
				for _, r := range rows {
					states[r.Attempt] = r.State
				}
				if len(rows) != 2 || states[1] != store.DeliveryFailed || states[2] != store.DeliverySucceeded {
					t.Errorf("stored attempts %+v: want attempt 1 failed (retried), attempt 2 succeeded", rows)
				}
			})
		}
	}
}

// TestShutdownMidAttempt: an attempt cut short by shutdown stays pending and the next run
// makes it.
func TestShutdownMidAttempt(t *testing.T) {
	for _, kind := range storeKinds() {
		t.Run(kind.name, func(t *testing.T) {
			st, reopen := kind.open(t)
			entered := make(chan struct{}, 1)
			release := make(chan struct{})
			var got atomicCount
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if got.inc() == 1 {
					entered <- struct{}{}
					select {
					case <-release:
					case <-r.Context().Done():
					}
					return
				}
				w.WriteHeader(http.StatusNoContent)
			}))
			t.Cleanup(srv.Close)
			t.Cleanup(func() { close(release) }) // runs before srv.Close
			clk := newClock()
			bus := events.NewBus()
			wait := deliveries(t, bus)
			cfg := Config{Targets: []Target{mustTarget(t, srv.URL)}, Store: st, Bus: bus, Now: clk.Now, Backoff: []time.Duration{time.Minute}}
			f := newForwarder(t, cfg)
			c := insert(t, st, &store.Capture{Body: []byte(`{"cut":"short"}`)})
			f.Enqueue(c)
			<-entered
			f.Close()
			if d := wait(func(d store.Delivery) bool { return d.State == store.DeliveryPending }); !strings.Contains(d.Error, "forwarded again when s2s listen starts") || !d.NextRetryAt.IsZero() {
				t.Errorf("the interrupted attempt was reported as %+v, want pending until the next start", d)
			}
			st.Close()

			cfg.Store = reopen()
			clk.Advance(time.Second)
			newForwarder(t, cfg)
			d := wait(func(d store.Delivery) bool { return d.State == store.DeliverySucceeded })
			if d.Status != http.StatusNoContent || d.Attempt != 2 {
				t.Errorf("resumed delivery %+v, want attempt 2 answered 204", d)
			}
		})
	}
}

type atomicCount struct {
	mu sync.Mutex
	n  int
}

func (a *atomicCount) inc() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	return a.n
}

func TestGiveUpAfterSchedule(t *testing.T) {
	srv := newRecorder(t, http.StatusInternalServerError)
	st := newMemStore()
	clk := newClock()
	bus := events.NewBus()
	wait := deliveries(t, bus)
	f := newForwarder(t, Config{Targets: []Target{mustTarget(t, srv.URL)}, Store: st, Bus: bus, Now: clk.Now,
		Backoff: []time.Duration{time.Second, time.Second}})
	c := insert(t, st, &store.Capture{Body: []byte(`{}`)})
	f.Enqueue(c)
	for attempt := 1; attempt <= 3; attempt++ {
		h := srv.next(t)
		if got := h.Header.Get(HeaderAttempt); got != strconv.Itoa(attempt) {
			t.Fatalf("attempt header %q, want %d", got, attempt)
		}
		d := wait(func(d store.Delivery) bool { return d.Attempt == attempt })
		if d.Status != 500 || d.Response != "answer from the developer's server" {
			t.Errorf("attempt %d recorded status %d response %q", attempt, d.Status, d.Response)
		}
		if attempt < 3 && d.State != store.DeliveryPending {
			t.Fatalf("attempt %d: state %s, want pending", attempt, d.State)
		}
		if attempt == 3 {
			if d.State != store.DeliveryFailed || !strings.Contains(d.Error, "answered 500 Internal Server Error; gave up after 3 attempts") ||
				!strings.Contains(d.Error, fmt.Sprintf("s2s replay %d", c.ID)) {
				t.Errorf("last attempt %+v: want failed, gave up, with the way out", d)
			}
		}
		clk.Advance(time.Minute)
	}
	f.Close()
	if n := len(srv.hits); n != 0 {
		t.Errorf("%d attempts after giving up", n)
	}
}

func TestPassthrough(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) }) // runs before slow.Close
	tests := []struct {
		name   string
		target string
		want   int
		errHas string
	}{
		{"ok", newRecorder(t, http.StatusOK).URL, 200, ""},
		{"created", newRecorder(t, http.StatusCreated).URL, 201, ""},
		{"server error", newRecorder(t, http.StatusInternalServerError).URL, 500, "answered Apple 500"},
		{"refused", "http://" + closedPort(t), 502, "start your server, then press r"},
		// The server is up, only slow: "start your server" would send the developer the wrong way.
		{"slow", slow.URL, 504, "did not answer within 200ms; answered Apple 504 (Apple retries only in Production); the notification is stored (capture 1); make your server answer within 200ms, then press r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newMemStore()
			other := newRecorder(t, http.StatusOK)
			bus := events.NewBus()
			wait := deliveries(t, bus)
			f := newForwarder(t, Config{
				Targets: []Target{mustTarget(t, tt.target), mustTarget(t, other.URL)},
				Store:   st, Bus: bus, Timeout: 200 * time.Millisecond, Backoff: []time.Duration{time.Hour},
			})
			c := insert(t, st, &store.Capture{Body: []byte(`{"signedPayload":"p"}`)})
			if got := f.Passthrough(context.Background(), c); got != tt.want {
				t.Errorf("Passthrough = %d, want %d", got, tt.want)
			}
			d := wait(func(d store.Delivery) bool { return d.Target == mustTarget(t, tt.target).URL })
			if !strings.Contains(d.Error, tt.errHas) {
				t.Errorf("error %q does not contain %q", d.Error, tt.errHas)
			}
			if tt.want >= 300 && d.State != store.DeliveryFailed {
				t.Errorf("passthrough failure left state %s; Apple retries, s2s must not", d.State)
			}
			if h := other.next(t); !bytes.Equal(h.Body, c.Body) {
				t.Errorf("the other target got %q", h.Body)
			}
			f.Close()
			rows, _ := st.Deliveries(context.Background(), c.ID)
			for _, r := range rows {
				if r.Target == d.Target && (r.State == store.DeliveryPending || r.Status != d.Status) {
					t.Errorf("passthrough row %+v: want final, status %d", r, d.Status)
				}
			}
		})
	}
}

func TestReplayToTargets(t *testing.T) {
	up := newRecorder(t, http.StatusOK)
	down := "http://" + closedPort(t) + "/hook"
	st := newMemStore()
	bus := events.NewBus()
	wait := deliveries(t, bus)
	f := newForwarder(t, Config{Store: st, Bus: bus, Targets: []Target{
		mustTarget(t, up.URL), mustTarget(t, "env=Production=>"+down),
	}})

	// An invalid capture is replayed on request: the developer asked for it.
	sandbox := insert(t, st, &store.Capture{Body: []byte(`{"a":1}`), Subject: decode.Subject{Environment: "Sandbox"}, Trust: "invalid"})
	if err := f.Replay(context.Background(), sandbox); err != nil {
		t.Fatalf("Replay: %v", err)
	}
	h := up.next(t)
	if h.Header.Get(HeaderReplay) != "true" || !bytes.Equal(h.Body, sandbox.Body) {
		t.Errorf("replay headers %v body %q", h.Header, h.Body)
	}
	if d := wait(func(store.Delivery) bool { return true }); !d.Replay || d.State != store.DeliverySucceeded {
		t.Errorf("replay delivery %+v", d)
	}

	prod := insert(t, st, &store.Capture{Body: []byte(`{"a":2}`), Subject: decode.Subject{Environment: "Production"}})
	err := f.Replay(context.Background(), prod)
	if err == nil || !strings.Contains(err.Error(), "nothing listening on") || !strings.Contains(err.Error(), "replay again") {
		t.Errorf("Replay to a down target: %v", err)
	}
	up.next(t)

	// Replays are recorded once, finished, and never picked up as retries.
	f.retryDue()
	f.Close()
	if n := len(up.hits); n != 0 {
		t.Errorf("%d requests after the replays: a replay was retried", n)
	}
	for _, c := range []*store.Capture{sandbox, prod} {
		rows, _ := st.Deliveries(context.Background(), c.ID)
		for _, r := range rows {
			if !r.Replay || r.State == store.DeliveryPending || r.Attempt != 1 {
				t.Errorf("capture %d: replay row %+v", c.ID, r)
			}
		}
		if len(rows) != 2 && c == prod || len(rows) != 1 && c == sandbox {
			t.Errorf("capture %d has %d rows", c.ID, len(rows))
		}
	}

	onlyProd := newForwarder(t, Config{Store: st, Targets: []Target{mustTarget(t, "env=Production=>"+up.URL)}})
	if err := onlyProd.Replay(context.Background(), sandbox); err == nil || !strings.Contains(err.Error(), "no --forward-to target takes capture") {
		t.Errorf("Replay with no matching target: %v", err)
	}
}

// The receiver fills in its answer to Apple after Passthrough returns, while `--output json`
// may still be encoding the delivery events: each must carry its own copy of the capture.
func TestPassthroughEventsCarryACopy(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "captures.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	first, second := newRecorder(t, http.StatusOK), newRecorder(t, http.StatusOK)
	bus := events.NewBus()
	ch, cancel := bus.Subscribe(64)
	t.Cleanup(cancel)
	f := newForwarder(t, Config{
		Targets:        []Target{mustTarget(t, first.URL), mustTarget(t, second.URL)},
		ForwardInvalid: true, Store: st, Bus: bus,
	})
	h := receiver.New(receiver.Options{
		Store: st, Verifier: decode.NewVerifier(decode.Options{}), Bus: bus, Forwarder: f,
		Respond: receiver.Respond{Passthrough: true},
	})
	t.Cleanup(h.Wait)

	// Encoding on another goroutine, as the JSON printer does, lets -race see the sharing.
	got := make(chan events.Event, 64)
	go func() {
		for e := range ch {
			if _, err := json.Marshal(e); err != nil {
				t.Errorf("encoding %s event: %v", e.Kind, err)
			}
			got <- e
		}
	}()

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"signedPayload":"p"}`)))
	if rec.Code != http.StatusOK {
		t.Fatalf("answered Apple %d, want the first target's 200", rec.Code)
	}
	var answered *store.Capture
	var delivered []*store.Capture
	timeout := time.After(10 * time.Second)
	for answered == nil || len(delivered) < 2 {
		select {
		case e := <-got:
			switch e.Kind {
			case events.Notification:
				answered = e.Capture
			case events.Delivery:
				delivered = append(delivered, e.Capture)
			}
		case <-timeout:
			t.Fatalf("within 10s: notification event %v, %d delivery events", answered != nil, len(delivered))
		}
	}
	for _, c := range delivered {
		if c == answered {
			t.Error("a delivery event carries the receiver's own capture, which it is still writing")
		}
		if c.ID != answered.ID || !bytes.Equal(c.Body, answered.Body) {
			t.Errorf("delivery event capture %d %q, want capture %d %q", c.ID, c.Body, answered.ID, answered.Body)
		}
	}
}

// hangingTarget accepts every request and answers none until the request is cancelled (the
// attempt's timeout) or the test ends; entered receives each request's attempt header.
func hangingTarget(t *testing.T) (*httptest.Server, chan string) {
	t.Helper()
	entered := make(chan string, 1024)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- r.Header.Get(HeaderAttempt)
		select {
		case <-done:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) }) // runs before srv.Close
	return srv, entered
}

// TestHangingTargetDoesNotStarveAnother: a target that never answers holds only its own slots;
// the healthy target beside it gets every notification while the other hangs.
func TestHangingTargetDoesNotStarveAnother(t *testing.T) {
	hanging, entered := hangingTarget(t)
	healthy := newRecorder(t, http.StatusOK)
	st := newMemStore()
	const n = 12 // several times the slots of one target
	f := newForwarder(t, Config{
		Targets:     []Target{mustTarget(t, hanging.URL), mustTarget(t, healthy.URL)},
		Store:       st,
		Timeout:     time.Hour, // the hanging target never times out during the test
		Concurrency: 2,
	})
	for range n {
		f.Enqueue(insert(t, st, &store.Capture{Body: []byte(`{}`)}))
	}
	for range 2 {
		select {
		case <-entered:
		case <-time.After(10 * time.Second):
			t.Fatal("the hanging target received nothing")
		}
	}
	got := map[string]bool{}
	for range n {
		got[healthy.next(t).Header.Get(HeaderCaptureID)] = true
	}
	if len(got) != n {
		t.Errorf("the healthy target received %d distinct notifications, want %d", len(got), n)
	}
}

// TestHangingTargetTimesOutAndRetriesOnSchedule: the hanging target's attempt times out, says
// so with its retry, and the retry is made when due.
func TestHangingTargetTimesOutAndRetriesOnSchedule(t *testing.T) {
	hanging, _ := hangingTarget(t)
	st := newMemStore()
	clk := newClock()
	bus := events.NewBus()
	wait := deliveries(t, bus)
	f := newForwarder(t, Config{
		Targets: []Target{mustTarget(t, hanging.URL)}, Store: st, Bus: bus, Now: clk.Now,
		Timeout: 50 * time.Millisecond, Backoff: []time.Duration{time.Minute},
	})
	c := insert(t, st, &store.Capture{Body: []byte(`{}`)})
	f.Enqueue(c)
	d := wait(func(store.Delivery) bool { return true })
	want := fmt.Sprintf("did not answer within 50ms; the notification is stored (capture %d); retry 1 of 1 at %s (in 1m0s); make your server answer within 50ms and that retry delivers it",
		c.ID, clk.Now().Add(time.Minute).Local().Format("15:04:05"))
	if d.State != store.DeliveryPending || !strings.Contains(d.Error, want) {
		t.Fatalf("first attempt: %s %q, want pending with %q", d.State, d.Error, want)
	}
	clk.Advance(time.Minute)
	d = wait(func(d store.Delivery) bool { return d.Attempt == 2 })
	if d.State != store.DeliveryFailed || !strings.Contains(d.Error, "did not answer within 50ms; gave up after 2 attempts") {
		t.Errorf("retry: %s %q", d.State, d.Error)
	}
}

// TestQueuedAttemptsReadTheBodyWhenTheirTurnComes: attempts waiting behind a busy target keep
// their bodies in the store, not in memory, and carry them byte for byte when they are made.
func TestQueuedAttemptsReadTheBodyWhenTheirTurnComes(t *testing.T) {
	for _, kind := range storeKinds() {
		t.Run(kind.name, func(t *testing.T) {
			st, _ := kind.open(t)
			release := make(chan struct{})
			bodies := make(chan string, 16)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				<-release
				b, _ := io.ReadAll(r.Body)
				bodies <- string(b)
			}))
			t.Cleanup(srv.Close)
			f := newForwarder(t, Config{Targets: []Target{mustTarget(t, srv.URL)}, Store: st, Concurrency: 1})
			want := map[string]bool{}
			for i := range 4 {
				body := fmt.Sprintf(`{"n":%d}`, i)
				want[body] = true
				f.Enqueue(insert(t, st, &store.Capture{Body: []byte(body)}))
			}
			close(release)
			for range want {
				select {
				case b := <-bodies:
					if !want[b] {
						t.Errorf("the target received %q", b)
					}
					delete(want, b)
				case <-time.After(10 * time.Second):
					t.Fatalf("not delivered: %v", want)
				}
			}
		})
	}
}

// TestWaitingAttemptsAreBounded: while a target hangs, deliveries beyond MaxWaiting wait in the
// store (queued rows), not as goroutines holding headers; once the target answers, every capture
// is delivered exactly once, as its first attempt.
func TestWaitingAttemptsAreBounded(t *testing.T) {
	for _, kind := range storeKinds() {
		t.Run(kind.name, func(t *testing.T) {
			st, _ := kind.open(t)
			release := make(chan struct{})
			var mu sync.Mutex
			received := map[string]int{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-release:
				case <-r.Context().Done():
					return
				}
				mu.Lock()
				received[r.Header.Get(HeaderCaptureID)]++
				mu.Unlock()
			}))
			t.Cleanup(srv.Close)
			t.Cleanup(func() {
				select {
				case <-release:
				default:
					close(release)
				}
			})
			const (
				slots   = 2
				waiting = 3
				n       = 20
			)
			target := mustTarget(t, srv.URL)
			f := newForwarder(t, Config{
				Targets: []Target{target}, Store: st, Timeout: time.Hour,
				Concurrency: slots, MaxWaiting: waiting,
			})
			var ids []int64
			for range n {
				c := insert(t, st, &store.Capture{Body: []byte(`{}`)})
				ids = append(ids, c.ID)
				f.Enqueue(c)
				if w := f.Waiting(target.URL); w > waiting {
					t.Fatalf("%d attempts wait in memory, want at most %d", w, waiting)
				}
			}
			queued := 0
			for _, id := range ids {
				ds, err := st.Deliveries(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range ds {
					if d.Attempt == 0 && d.State == store.DeliveryPending {
						queued++
					}
				}
			}
			// At most slots+waiting attempts can be in memory at once, so the rest were queued.
			if queued < n-slots-waiting {
				t.Errorf("%d deliveries queued in the store, want at least %d", queued, n-slots-waiting)
			}
			close(release)
			deadline := time.After(20 * time.Second)
			for _, id := range ids {
				for {
					ds, err := st.Deliveries(context.Background(), id)
					if err != nil {
						t.Fatal(err)
					}
					var ok []store.Delivery
					for _, d := range ds {
						if d.State == store.DeliverySucceeded {
							ok = append(ok, d)
						}
					}
					if len(ok) == 1 {
						if ok[0].Attempt != 1 {
							t.Errorf("capture %d was delivered as attempt %d, want 1", id, ok[0].Attempt)
						}
						break
					}
					if len(ok) > 1 {
						t.Fatalf("capture %d was delivered %d times", id, len(ok))
					}
					select {
					case <-deadline:
						t.Fatalf("capture %d was not delivered: %+v", id, ds)
					case <-time.After(5 * time.Millisecond): // polling the store, not timing it
					}
				}
			}
			f.Close()
			mu.Lock()
			defer mu.Unlock()
			for _, id := range ids {
				if got := received[fmt.Sprint(id)]; got != 1 {
					t.Errorf("the target received capture %d %d times, want 1", id, got)
				}
			}
		})
	}
}

// TestQueuedDeliveriesDoNotStarveAnotherTarget: a flood queued in the store for a target that
// hangs must not fill every page of due retries: another target's retry is still made.
func TestQueuedDeliveriesDoNotStarveAnotherTarget(t *testing.T) {
	for _, kind := range storeKinds() {
		t.Run(kind.name, func(t *testing.T) {
			st, _ := kind.open(t)
			hanging, _ := hangingTarget(t)
			var calls atomic.Int32
			hits := make(chan int32, 8)
			flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				hits <- n
				if n == 1 {
					w.WriteHeader(http.StatusInternalServerError) // the first attempt fails: a retry is due
				}
			}))
			t.Cleanup(flaky.Close)
			f := newForwarder(t, Config{
				Targets: []Target{mustTarget(t, "env=Sandbox=>"+hanging.URL), mustTarget(t, "env=Production=>"+flaky.URL)},
				Store:   st, Timeout: time.Hour, Backoff: []time.Duration{time.Millisecond},
				Concurrency: 1, MaxWaiting: 1,
			})
			for range 150 { // more queued rows than a page of due retries
				f.Enqueue(insert(t, st, &store.Capture{Body: []byte(`{}`), Subject: decode.Subject{Environment: "Sandbox"}}))
			}
			f.Enqueue(insert(t, st, &store.Capture{Body: []byte(`{}`), Subject: decode.Subject{Environment: "Production"}}))
			for want := int32(1); want <= 2; want++ {
				select {
				case n := <-hits:
					if n != want {
						t.Fatalf("call %d, want %d", n, want)
					}
				case <-time.After(20 * time.Second):
					t.Fatalf("the other target's attempt %d was not made while the hanging target's deliveries were queued", want)
				}
			}
		})
	}
}

// A real-time request a slow target could not answer: the delivery says what is true of it (Apple
// never retries one, the customer saw no message), not a notification's retry story.
func TestPassthroughAnswerRealtimeWording(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) }) // runs before slow.Close
	st := newMemStore()
	bus := events.NewBus()
	wait := deliveries(t, bus)
	f := newForwarder(t, Config{Targets: []Target{mustTarget(t, slow.URL)}, Store: st, Bus: bus, Timeout: 100 * time.Millisecond})
	c := insert(t, st, &store.Capture{Body: []byte(`{"signedPayload":"p"}`), Kind: decode.KindRealtimeRequest})
	if status, _, ok := f.PassthroughAnswer(context.Background(), c); !ok || status != http.StatusGatewayTimeout {
		t.Fatalf("PassthroughAnswer = %d %v, want 504", status, ok)
	}
	d := wait(func(store.Delivery) bool { return true })
	want := "answered Apple 504: Apple never retries a real-time request, the customer sees no retention message; the real-time request is stored (capture 1); make your server answer within 100ms, then press r in the TUI or run s2s replay 1 to ask your server again"
	if !strings.Contains(d.Error, want) || strings.Contains(d.Error, "Production") || strings.Contains(d.Error, "notification") {
		t.Errorf("delivery error %q\nwant it to contain %q", d.Error, want)
	}
	f.Close()
}
