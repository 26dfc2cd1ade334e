package sender

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestLatencies(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- { // 1..100 ms, reversed: Latencies sorts
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	got := Latencies(lat)
	want := LatencyStats{Average: 50500 * time.Microsecond, P50: 50 * time.Millisecond, P90: 90 * time.Millisecond,
		P95: 95 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if got != want {
		t.Errorf("1..100 ms: %+v, want %+v", got, want)
	}
	if got := Latencies([]time.Duration{7 * time.Millisecond}); got.P50 != 7*time.Millisecond || got.P99 != 7*time.Millisecond || got.Average != 7*time.Millisecond {
		t.Errorf("one: %+v", got)
	}
	if got := Latencies([]time.Duration{1, 2, 3}); got.P50 != 2 || got.P90 != 3 || got.Average != 2 {
		t.Errorf("1,2,3: %+v", got)
	}
	if got := Latencies(nil); got != (LatencyStats{}) {
		t.Errorf("none: %+v", got)
	}
}

// The sender's own client asks for no compression and follows no redirect, as Apple's sender:
// a gzip answer is kept as it came (and named), a 3xx is the answer.
func TestSendRealtimeKeepsTheAnswerAsItCame(t *testing.T) {
	var acceptEncoding atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acceptEncoding.Store(r.Header.Get("Accept-Encoding"))
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/gzip", http.StatusTemporaryRedirect)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		_, _ = io.WriteString(zw, `{"message":{"messageIdentifier":"m"}}`)
		_ = zw.Close()
	}))
	defer srv.Close()
	s := &Sender{}
	r := s.SendRealtime(testCtx(t), srv.URL+"/gzip", []byte(`{}`), 10*time.Second, 1<<16)
	if r.Err != nil || r.ContentEncoding != "gzip" || bytes.Contains(r.Body, []byte("message")) || !r.Written {
		t.Errorf("gzip answer: %+v", r)
	}
	if ae := acceptEncoding.Load(); ae != "" {
		t.Errorf("the request asked for Accept-Encoding %q", ae)
	}
	r = s.SendRealtime(testCtx(t), srv.URL+"/redirect", []byte(`{}`), 10*time.Second, 1<<16)
	if r.Err != nil || r.Status != http.StatusTemporaryRedirect {
		t.Errorf("redirect: %+v", r)
	}
}
