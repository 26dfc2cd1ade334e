package relay

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/store"
)

// TestCause: each way a target can fail is explained in words that say where to look.
func TestCause(t *testing.T) {
	redirect := httptest.NewServer(http.RedirectHandler("/elsewhere", http.StatusMovedPermanently))
	t.Cleanup(redirect.Close)
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(plain.Close)
	selfSigned := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(selfSigned.Close)
	hangUp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(hangUp.Close)
	teapot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(418) }))
	t.Cleanup(teapot.Close)
	down := "http://" + closedPort(t)

	tests := []struct {
		name, target string
		ok           bool
		want         string
	}{
		{"answered", plain.URL, true, ""},
		{"refused", down, false, "nothing listening on " + strings.TrimPrefix(down, "http://")},
		{"redirect", redirect.URL, false, "answered 301 Moved Permanently (a redirect to /elsewhere, which s2s does not follow"},
		{"status", teapot.URL, false, "answered 418 I'm a teapot"},
		{"https to a plain server", strings.Replace(plain.URL, "http://", "https://", 1), false, "does not speak TLS; use http://"},
		{"untrusted certificate", selfSigned.URL, false, "presented a certificate that is not trusted"},
		{"hang-up", hangUp.URL, false, "closed the connection without answering"},
	}
	s := &Poster{Timeout: 5 * time.Second}
	c := &store.Capture{ID: 1, Body: []byte(`{}`), Headers: http.Header{}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := s.Send(context.Background(), c, c.Body, tt.target, Meta{})
			got := Cause(res, tt.target, s.Timeout)
			if res.OK() != tt.ok || !strings.Contains(got, tt.want) {
				t.Errorf("ok %v, cause %q; want ok %v, cause containing %q (err %v)", res.OK(), got, tt.ok, tt.want, res.Err)
			}
		})
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ok\n", "ok\n"},
		{"a\x1b[31mred", "a\x1b[31mred"}, // exact: printers make it terminal-safe
		{"\xff\xfe", "\uFFFD"},
		{"tab\there", "tab\there"},
	}
	for _, tt := range tests {
		if got := printable([]byte(tt.in)); got != tt.want {
			t.Errorf("printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A send cut short by s2s itself (Ctrl-C) is not the target's fault.
func TestCauseInterrupted(t *testing.T) {
	err := &url.Error{Op: "Post", URL: "http://localhost:3000/apple", Err: context.Canceled}
	if got := Cause(Outcome{Err: err}, "http://localhost:3000/apple", 0); got != "interrupted before localhost:3000 answered" {
		t.Errorf("Cause = %q", got)
	}
}

// TestSendBoundsTheAnswer: a target's answer is read within bounds: headers beyond
// maxAnswerHeader are refused (the transport's default allows 10 MiB for each of the attempts in
// flight), and an endless body is cut off.
func TestSendBoundsTheAnswer(t *testing.T) {
	hugeHeaders := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 64 {
			w.Header().Set("X-Pad-"+strings.Repeat("p", i+1), strings.Repeat("a", 4<<10))
		}
	}))
	t.Cleanup(hugeHeaders.Close)
	endless := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 32<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(endless.Close)
	c := &store.Capture{ID: 1, Headers: http.Header{}}
	s := &Poster{Client: NewClient(), Timeout: 10 * time.Second}
	if r := s.Send(context.Background(), c, []byte("{}"), hugeHeaders.URL, Meta{}); r.Err == nil {
		t.Errorf("an answer with 256 KiB of headers was read: status %d", r.Status)
	}
	r := s.Send(context.Background(), c, []byte("{}"), endless.URL, Meta{})
	if r.Err != nil || r.Status != http.StatusOK || len(r.Response) > ResponsePrefix {
		t.Errorf("endless answer: %v %d, %d bytes kept", r.Err, r.Status, len(r.Response))
	}
}
