package receiver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/store"
)

// memStore is an in-memory Capturer; failNext makes the next Insert fail.
type memStore struct {
	mu       sync.Mutex
	captures []*store.Capture
	fail     error
}

func (m *memStore) Insert(_ context.Context, c *store.Capture) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	c.BodySize = len(c.Body)
	cp := *c
	cp.Body = bytes.Clone(c.Body)
	m.captures = append(m.captures, &cp)
	c.ID = int64(len(m.captures))
	return nil
}

func (m *memStore) SetResponse(_ context.Context, id int64, status int, latency time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.captures[id-1].ResponseStatus = status
	m.captures[id-1].Latency = latency
	return nil
}

func (m *memStore) all() []*store.Capture {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*store.Capture(nil), m.captures...)
}

type fakeForwarder struct {
	mu       sync.Mutex
	enqueued []int64
	status   int
}

func (f *fakeForwarder) Enqueue(c *store.Capture) {
	f.mu.Lock()
	f.enqueued = append(f.enqueued, c.ID)
	f.mu.Unlock()
}

func (f *fakeForwarder) Passthrough(context.Context, *store.Capture) int { return f.status }

func newTestHandler(t *testing.T, st *memStore, mod func(*Options)) (*Handler, <-chan events.Event) {
	t.Helper()
	bus := events.NewBus()
	evs, cancel := bus.Subscribe(16)
	t.Cleanup(cancel)
	o := Options{Store: st, Verifier: decode.NewVerifier(decode.Options{}), Bus: bus}
	if mod != nil {
		mod(&o)
	}
	return New(o), evs
}

func do(h http.Handler, method, target string, body io.Reader, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, body)
	req.RemoteAddr = "203.0.113.7:51234"
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestGetAndHeadAnswer200WithoutStoring(t *testing.T) {
	st := &memStore{}
	h, _ := newTestHandler(t, st, nil)
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		rec := do(h, m, "/apple/notifications", nil, nil)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status %d, want 200", m, rec.Code)
		}
	}
	if n := len(st.all()); n != 0 {
		t.Errorf("GET/HEAD stored %d captures", n)
	}
	if rec := do(h, http.MethodPut, "/", strings.NewReader("x"), nil); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("PUT: status %d, want 405", rec.Code)
	}
}

func TestPostIsStoredByteForByteBeforeAnswer(t *testing.T) {
	st := &memStore{}
	h, evs := newTestHandler(t, st, nil)
	body := []byte(`{"signedPayload":"not.a.jws"}` + "\n  ")
	rec := do(h, http.MethodPost, "/any/path/../x?k=v", bytes.NewReader(body), map[string]string{"Content-Type": "application/json", "X-Custom": "1"})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200", rec.Code)
	}
	got := st.all()
	if len(got) != 1 {
		t.Fatalf("stored %d captures, want 1", len(got))
	}
	c := got[0]
	if !bytes.Equal(c.Body, body) {
		t.Errorf("body changed: %q", c.Body)
	}
	if c.Method != "POST" || c.Query != "k=v" || c.Headers.Get("X-Custom") != "1" || c.SourceIP != "203.0.113.7" {
		t.Errorf("request metadata not kept: %+v", c)
	}
	if c.Path != "/any/path/../x" {
		t.Errorf("path %q: the receiver must keep the path as sent", c.Path)
	}
	if c.Trust != decode.LabelInvalid || c.TrustClass != decode.ClassFormat {
		t.Errorf("garbage labelled %s/%s, want invalid/format", c.Trust, c.TrustClass)
	}
	if rec.Header().Get("X-S2S-Capture-Id") != "1" {
		t.Errorf("capture id header %q", rec.Header().Get("X-S2S-Capture-Id"))
	}
	select {
	case e := <-evs:
		if e.Kind != events.Notification || e.Capture.ID != 1 || e.Capture.ResponseStatus != 200 {
			t.Errorf("event %+v", e)
		}
	default:
		t.Error("no notification event published")
	}
}

func TestStoreFailureAnswers500(t *testing.T) {
	st := &memStore{fail: errors.New("disk full")}
	h, evs := newTestHandler(t, st, nil)
	rec := do(h, http.MethodPost, "/", strings.NewReader(`{"signedPayload":"a.b.c"}`), nil)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500 so Apple retries", rec.Code)
	}
	if e := <-evs; e.Kind != events.Error || !strings.Contains(e.Err, "disk full") {
		t.Errorf("event %+v, want an error event", e)
	}
}

func TestBodyLimit(t *testing.T) {
	st := &memStore{}
	h, _ := newTestHandler(t, st, func(o *Options) { o.MaxBody = 1024 })
	rec := do(h, http.MethodPost, "/", bytes.NewReader(make([]byte, 1025)), nil)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", rec.Code)
	}
	if len(st.all()) != 0 {
		t.Fatal("an oversized body was stored")
	}
	if rec := do(h, http.MethodPost, "/", bytes.NewReader(make([]byte, 1024)), nil); rec.Code != 200 {
		t.Fatalf("a body at the limit: status %d", rec.Code)
	}
}

func TestRespondModes(t *testing.T) {
	for _, tc := range []struct {
		respond string
		fwd     *fakeForwarder
		want    int
		enq     int
	}{
		{"auto", nil, 200, 0},
		{"503", nil, 503, 0},
		{"auto", &fakeForwarder{}, 200, 1},
		{"passthrough", &fakeForwarder{status: 502}, 502, 0},
		{"passthrough", &fakeForwarder{status: 201}, 201, 0},
	} {
		t.Run(tc.respond, func(t *testing.T) {
			r, err := ParseRespond(tc.respond)
			if err != nil {
				t.Fatal(err)
			}
			st := &memStore{}
			h, _ := newTestHandler(t, st, func(o *Options) {
				o.Respond = r
				if tc.fwd != nil {
					o.Forwarder = tc.fwd
				}
			})
			rec := do(h, http.MethodPost, "/", strings.NewReader("{}"), nil)
			if rec.Code != tc.want {
				t.Errorf("status %d, want %d", rec.Code, tc.want)
			}
			h.Wait()
			if got := st.all()[0]; got.ResponseStatus != tc.want || got.Latency <= 0 {
				t.Errorf("recorded answer %d after %v, want %d after a positive latency", got.ResponseStatus, got.Latency, tc.want)
			}
			if tc.fwd != nil && len(tc.fwd.enqueued) != tc.enq {
				t.Errorf("enqueued %d, want %d", len(tc.fwd.enqueued), tc.enq)
			}
		})
	}
	for _, bad := range []string{"99", "600", "sometimes"} {
		if _, err := ParseRespond(bad); err == nil {
			t.Errorf("ParseRespond(%q) accepted", bad)
		}
	}
}

func TestSourceIPTrustsOnlyTheTunnel(t *testing.T) {
	req := func(remote string, hdr map[string]string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.RemoteAddr = remote
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		return r
	}
	spoof := map[string]string{"X-Forwarded-For": "17.58.0.1"}
	tunnel := map[string]string{"X-Forwarded-For": "17.58.0.1, 198.51.100.9"}
	// Through an SSH tunnel or ngrok, Cf-Connecting-Ip is whatever the client wrote: only
	// Cloudflare's edge sets it.
	cfSpoof := map[string]string{"Cf-Connecting-Ip": "17.58.1.2", "X-Forwarded-For": "198.51.100.9"}
	for _, tc := range []struct {
		name       string
		behind     bool
		cloudflare bool
		r          *http.Request
		want       string
	}{
		{"no tunnel ignores a client header", false, false, req("198.51.100.9:1", spoof), "198.51.100.9"},
		{"tunnel takes the rightmost entry", true, false, req("127.0.0.1:9", tunnel), "198.51.100.9"},
		{"tunnel header only from loopback", true, false, req("198.51.100.9:1", spoof), "198.51.100.9"},
		{"cloudflared header", true, true, req("127.0.0.1:9", map[string]string{"Cf-Connecting-Ip": "17.58.1.2"}), "17.58.1.2"},
		{"another tunnel ignores Cf-Connecting-Ip", true, false, req("127.0.0.1:9", cfSpoof), "198.51.100.9"},
		{"another tunnel, Cf-Connecting-Ip alone", true, false, req("127.0.0.1:9", map[string]string{"Cf-Connecting-Ip": "17.58.1.2"}), "127.0.0.1"},
		{"a header that is not an address", true, true, req("127.0.0.1:9", map[string]string{"Cf-Connecting-Ip": "17.58.1.2 (Apple)"}), "127.0.0.1"},
		{"an entry that is not an address", true, false, req("127.0.0.1:9", map[string]string{"X-Forwarded-For": "198.51.100.9, 17.58.0.1 apple"}), "127.0.0.1"},
	} {
		h := New(Options{BehindTunnel: tc.behind, BehindCloudflare: tc.cloudflare})
		if got := h.sourceIP(tc.r); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestAppleRange(t *testing.T) {
	for ip, want := range map[string]string{
		"17.58.10.1":       "17.58.0.0/18",
		"17.58.200.1":      "17.58.192.0/18",
		"17.1.2.3":         "17.0.0.0/8",
		"::ffff:17.58.0.9": "17.58.0.0/18",
		"198.51.100.1":     "",
		"not-an-ip":        "",
	} {
		if got := AppleRange(ip); got != want {
			t.Errorf("AppleRange(%s) = %q, want %q", ip, got, want)
		}
	}
}
