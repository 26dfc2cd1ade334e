package appleapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func endpoint(t *testing.T, h http.HandlerFunc) (*Endpoint, *bytes.Buffer) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var debug bytes.Buffer
	e := &Endpoint{
		Name: "Test API", UserAgent: "s2s (test)", BaseURL: u, HTTPClient: &http.Client{Timeout: 10 * time.Second},
		MaxAnswer: 16, Debugf: func(format string, args ...any) { fmt.Fprintf(&debug, format+"\n", args...) },
	}
	return e, &debug
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestDoSendsTheTokenAndReadsTheAnswerWhole: the request carries the bearer token, the client's
// name and (with a body only) its JSON type; any status comes back with its body and headers.
func TestDoSendsTheTokenAndReadsTheAnswerWhole(t *testing.T) {
	e, _ := endpoint(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("User-Agent") != "s2s (test)" ||
			r.Header.Get("Accept") != "application/json" || r.URL.Path != "/v1/x" || r.URL.Query().Get("p") != "1" {
			t.Errorf("request %s %s %v", r.Method, r.URL, r.Header)
		}
		if ct := r.Header.Get("Content-Type"); (len(b) > 0) != (ct == "application/json") {
			t.Errorf("body %q with Content-Type %q", b, ct)
		}
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"errorCode":1}`)
	})
	for _, body := range [][]byte{nil, []byte(`{}`)} {
		ans, err := e.Do(ctxT(t), "tok", http.MethodPost, "/v1/x", url.Values{"p": {"1"}}, body)
		if err != nil {
			t.Fatal(err)
		}
		if ans.OK() || ans.Status != http.StatusTooManyRequests || string(ans.Body) != `{"errorCode":1}` || ans.Header.Get("Retry-After") != "5" {
			t.Errorf("answer %+v", ans)
		}
	}
}

// TestDoRefusesAnAnswerOverTheBound: an answer one byte over MaxAnswer is an error, never a
// truncated answer that would read as another one; one at the bound is read.
func TestDoRefusesAnAnswerOverTheBound(t *testing.T) {
	size := 16
	e, _ := endpoint(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(bytes.Repeat([]byte(" "), size))
	})
	if ans, err := e.Do(ctxT(t), "tok", http.MethodGet, "/v1/x", nil, nil); err != nil || len(ans.Body) != 16 || !ans.OK() {
		t.Fatalf("an answer of MaxAnswer bytes: %v, %+v", err, ans)
	}
	size = 17
	_, err := e.Do(ctxT(t), "tok", http.MethodGet, "/v1/x", nil, nil)
	if err == nil || err.Error() != "Test API GET /v1/x: the answer is larger than 16 bytes" {
		t.Fatalf("an answer over MaxAnswer: %v", err)
	}
}

// TestDoNeverEchoesTheQuery: a transport error names the request by its path; the query (a
// pagination token) and the token stay out of the error and the debug lines.
func TestDoNeverEchoesTheQuery(t *testing.T) {
	e, debug := endpoint(t, func(http.ResponseWriter, *http.Request) {})
	e.BaseURL = &url.URL{Scheme: "http", Host: "127.0.0.1:1"}
	_, err := e.Do(ctxT(t), "secret-token", http.MethodGet, "/v1/x", url.Values{"paginationToken": {"secret-page"}}, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "Test API GET /v1/x: ") {
		t.Fatalf("err %v", err)
	}
	if !strings.Contains(debug.String(), "→ GET 127.0.0.1:1/v1/x") {
		t.Errorf("debug lines %q", debug.String())
	}
	for _, out := range []string{err.Error(), debug.String()} {
		if strings.Contains(out, "secret") {
			t.Errorf("%q echoes the request", out)
		}
	}
}
