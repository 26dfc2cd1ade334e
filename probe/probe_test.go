package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testBody = `{"signedPayload":"eyJhbGciOiJFUzI1NiJ9.e30.c2ln"}`

// fakeResolver answers every name in its map with 127.0.0.1 and any other with "no such host".
type fakeResolver map[string]string

func (r fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := r[host]; ok {
		return []netip.Addr{netip.MustParseAddr(a)}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// received records what a test server got, to check the probe posts what Apple posts.
type received struct {
	mu          sync.Mutex
	method      string
	contentType string
	body        string
}

func (r *received) record(req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.method, r.contentType, r.body = req.Method, req.Header.Get("Content-Type"), string(b)
}

type fixture struct {
	ca   *testCA
	good tls.Certificate
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ca := newCA(t, "s2s probe test CA")
	return &fixture{ca: ca, good: leafSpec{signer: ca}.mint(t)}
}

// opts trusts only the test CA, never the machine's roots, so results do not depend on the host.
func (f *fixture) opts(url string) Options {
	return Options{
		URL: url, Body: []byte(testBody), Timeout: 5 * time.Second,
		Roots: x509.NewCertPool(), ExtraRoots: []*x509.Certificate{f.ca.cert},
		RetryDelay: time.Millisecond, Resolver: fakeResolver{"receiver.test": "127.0.0.1"},
	}
}

func quiet(s *httptest.Server) { s.Config.ErrorLog = log.New(io.Discard, "", 0) }

// serveTLS starts an HTTPS server on loopback with the given TLS settings.
func serveTLS(t *testing.T, cfg *tls.Config, h http.Handler) *httptest.Server {
	return serveTLSB(t, cfg, h)
}

func serveTLSB(t testing.TB, cfg *tls.Config, h http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	quiet(s)
	s.TLS = cfg
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func certConfig(c tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c}}
}

func ok200(w http.ResponseWriter, r *http.Request) {
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest) // not the answer any case expects
		return
	}
	w.WriteHeader(http.StatusOK)
}

// hijack reads the request, then hands the raw connection to act.
func hijack(act func(c net.Conn)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// Reading the body first matters: closing a socket with unread input sends a reset, not
		// the clean close the case is about.
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest) // not the answer any case expects
			return
		}
		c, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		act(c)
	}
}

func rawAnswer(s string) http.HandlerFunc {
	return hijack(func(c net.Conn) {
		_, _ = io.WriteString(c, s) /* the client may hang up first: that is what some tests do */
		c.Close()
	})
}

type probeCase struct {
	name string
	// setup starts the server built to fail one way and returns the options to probe it with.
	setup      func(t *testing.T, f *fixture) Options
	want       Verdict
	wantStatus int
	failStep   string // the step that must fail ("" when none)
	detail     string // a substring of the report's reason
	warnSteps  []string
}

func TestRunVerdicts(t *testing.T) {
	cases := []probeCase{
		{
			name: "correct server trusted through --ca",
			setup: func(t *testing.T, f *fixture) Options {
				s := serveTLS(t, certConfig(f.good), http.HandlerFunc(ok200))
				return f.opts(s.URL + "/apple/notifications")
			},
			want: Success, wantStatus: 200, warnSteps: []string{"port", "address", "trust"},
		},
		{
			name: "host name resolved",
			setup: func(t *testing.T, f *fixture) Options {
				s := serveTLS(t, certConfig(f.good), http.HandlerFunc(ok200))
				return f.opts("https://receiver.test:" + port(s) + "/apple")
			},
			want: Success, wantStatus: 200, warnSteps: []string{"port", "address", "trust"},
		},
		// An http URL: TestPlainHTTP.
		{
			name: "plain HTTP behind an https URL",
			setup: func(t *testing.T, f *fixture) Options {
				s := httptest.NewServer(http.HandlerFunc(ok200))
				t.Cleanup(s.Close)
				return f.opts("https://" + s.Listener.Addr().String() + "/apple")
			},
			want: TLSIssue, failStep: "tls", detail: "plain HTTP",
		},
		{
			name: "TLS 1.1 only",
			setup: func(t *testing.T, f *fixture) Options {
				cfg := certConfig(f.good)
				cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
				return f.opts(serveTLS(t, cfg, http.HandlerFunc(ok200)).URL + "/apple")
			},
			want: TLSIssue, failStep: "tls", detail: "at most TLS 1.1",
		},
		{
			name: "TLS 1.2 without forward secrecy",
			setup: func(t *testing.T, f *fixture) Options {
				cfg := certConfig(leafSpec{signer: f.ca, rsaBits: 2048}.mint(t))
				cfg.MaxVersion = tls.VersionTLS12
				cfg.CipherSuites = []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}
				return f.opts(serveTLS(t, cfg, http.HandlerFunc(ok200)).URL + "/apple")
			},
			want: TLSIssue, failStep: "tls", detail: "TLS_RSA_WITH_AES_128_GCM_SHA256, which has no forward secrecy",
		},
		{
			name: "self-signed",
			setup: func(t *testing.T, f *fixture) Options {
				return f.opts(serveTLS(t, certConfig(leafSpec{}.mint(t)), http.HandlerFunc(ok200)).URL + "/apple")
			},
			want: TLSIssue, failStep: "trust", detail: "self-signed",
		},
		{
			name: "issued by an unknown authority",
			setup: func(t *testing.T, f *fixture) Options {
				other := newCA(t, "Somebody Else's CA")
				return f.opts(serveTLS(t, certConfig(leafSpec{signer: other}.mint(t)), http.HandlerFunc(ok200)).URL + "/apple")
			},
			want: TLSIssue, failStep: "trust", detail: "Somebody Else's CA, which is not a trusted certificate authority",
		},
		{
			name: "wrong host name",
			setup: func(t *testing.T, f *fixture) Options {
				c := leafSpec{signer: f.ca, names: []string{"other.example"}}.mint(t)
				return f.opts(serveTLS(t, certConfig(c), http.HandlerFunc(ok200)).URL + "/apple")
			},
			want: TLSIssue, failStep: "hostname", detail: "valid for other.example, not for 127.0.0.1",
		},
		{
			name: "expired",
			setup: func(t *testing.T, f *fixture) Options {
				c := leafSpec{signer: f.ca, notBefore: time.Now().Add(-60 * 24 * time.Hour), notAfter: time.Now().Add(-3 * 24 * time.Hour)}.mint(t)
				return f.opts(serveTLS(t, certConfig(c), http.HandlerFunc(ok200)).URL + "/apple")
			},
			want: TLSIssue, failStep: "validity", detail: "expired on",
		},
		{
			name: "not yet valid",
			setup: func(t *testing.T, f *fixture) Options {
				c := leafSpec{signer: f.ca, notBefore: time.Now().Add(24 * time.Hour), notAfter: time.Now().Add(90 * 24 * time.Hour)}.mint(t)
				return f.opts(serveTLS(t, certConfig(c), http.HandlerFunc(ok200)).URL + "/apple")
			},
			want: TLSIssue, failStep: "validity", detail: "not valid before",
		},
		{
			name: "expires within 30 days",
			setup: func(t *testing.T, f *fixture) Options {
				c := leafSpec{signer: f.ca, notAfter: time.Now().Add(10 * 24 * time.Hour)}.mint(t)
				return f.opts(serveTLS(t, certConfig(c), http.HandlerFunc(ok200)).URL + "/apple")
			},
			want: Success, wantStatus: 200, warnSteps: []string{"validity"},
		},
		{
			name: "RSA 1024",
			setup: func(t *testing.T, f *fixture) Options {
				c := leafSpec{signer: f.ca, rsaBits: 1024}.mint(t)
				return f.opts(serveTLS(t, certConfig(c), http.HandlerFunc(ok200)).URL + "/apple")
			},
			want: TLSIssue, failStep: "key", detail: "RSA 1024 bits",
		},
		{
			name: "SHA-1 signature",
			setup: func(t *testing.T, f *fixture) Options {
				c := leafSpec{signer: f.ca, sigAlg: x509.ECDSAWithSHA1}.mint(t)
				return f.opts(serveTLS(t, certConfig(c), http.HandlerFunc(ok200)).URL + "/apple")
			},
			// The chain check meets the SHA-1 signature first; the signature step names it too.
			want: TLSIssue, failStep: "signature", detail: "insecure algorithm",
		},
		{
			name: "client certificate required",
			setup: func(t *testing.T, f *fixture) Options {
				cfg := certConfig(f.good)
				cfg.ClientAuth = tls.RequireAnyClientCert
				return f.opts(serveTLS(t, cfg, http.HandlerFunc(ok200)).URL + "/apple")
			},
			want: TLSIssue, failStep: "request", detail: "alert",
		},
		{
			name: "redirect loop",
			setup: func(t *testing.T, f *fixture) Options {
				mux := http.NewServeMux()
				mux.HandleFunc("/a", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/b", http.StatusTemporaryRedirect) })
				mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/a", http.StatusTemporaryRedirect) })
				return f.opts(serveTLS(t, certConfig(f.good), mux).URL + "/a")
			},
			want: CircularRedirect, wantStatus: 307, failStep: "redirect", detail: "/a → https://",
		},
		{
			name: "endless redirects",
			setup: func(t *testing.T, f *fixture) Options {
				var n atomic.Int64
				h := func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, fmt.Sprintf("/hop/%d", n.Add(1)), http.StatusFound)
				}
				return f.opts(serveTLS(t, certConfig(f.good), http.HandlerFunc(h)).URL + "/hop/0")
			},
			want: CircularRedirect, wantStatus: 302, failStep: "redirect", detail: "more than 10 redirects",
		},
		{
			name: "single redirect",
			setup: func(t *testing.T, f *fixture) Options {
				mux := http.NewServeMux()
				mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, "/new", http.StatusPermanentRedirect)
				})
				mux.HandleFunc("/new", ok200)
				return f.opts(serveTLS(t, certConfig(f.good), mux).URL + "/old")
			},
			want: UnsuccessfulHTTPResponseCode, wantStatus: 308, failStep: "redirect", detail: "/new, which answers 200 OK",
		},
		{
			name: "500",
			setup: func(t *testing.T, f *fixture) Options {
				h := func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) }
				return f.opts(serveTLS(t, certConfig(f.good), http.HandlerFunc(h)).URL + "/apple")
			},
			want: UnsuccessfulHTTPResponseCode, wantStatus: 500, failStep: "request", detail: "500 Internal Server Error",
		},
		{
			name: "404",
			setup: func(t *testing.T, f *fixture) Options {
				return f.opts(serveTLS(t, certConfig(f.good), http.NotFoundHandler()).URL + "/apple")
			},
			want: UnsuccessfulHTTPResponseCode, wantStatus: 404, failStep: "request", detail: "404 Not Found",
		},
		{
			name: "slower than the timeout",
			setup: func(t *testing.T, f *fixture) Options {
				release := make(chan struct{})
				h := func(w http.ResponseWriter, r *http.Request) {
					if _, err := io.Copy(io.Discard, r.Body); err != nil {
						t.Error(err)
					}
					<-release
				}
				s := serveTLS(t, certConfig(f.good), http.HandlerFunc(h))
				t.Cleanup(func() { close(release) }) // runs before s.Close, which waits for handlers
				o := f.opts(s.URL + "/apple")
				o.Timeout = 300 * time.Millisecond
				return o
			},
			want: TimedOut, failStep: "request", detail: "no complete answer within 300ms",
		},
		{
			name: "closed before the answer",
			setup: func(t *testing.T, f *fixture) Options {
				h := hijack(func(c net.Conn) { c.Close() })
				return f.opts(serveTLS(t, certConfig(f.good), h).URL + "/apple")
			},
			want: PrematureClose, failStep: "request", detail: "closed the connection without answering",
		},
		{
			name: "closed in the middle of the body",
			setup: func(t *testing.T, f *fixture) Options {
				h := rawAnswer("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part")
				return f.opts(serveTLS(t, certConfig(f.good), h).URL + "/apple")
			},
			want: PrematureClose, wantStatus: 200, failStep: "request", detail: "after 11 of the 100 body bytes",
		},
		{
			name: "connection reset",
			setup: func(t *testing.T, f *fixture) Options {
				h := hijack(func(c net.Conn) {
					tcp := c.(*tls.Conn).NetConn().(*net.TCPConn)
					if err := tcp.SetLinger(0); err != nil { // close with RST
						t.Error(err)
					}
					tcp.Close()
				})
				return f.opts(serveTLS(t, certConfig(f.good), h).URL + "/apple")
			},
			want: SocketIssue, failStep: "request", detail: "reset",
		},
		{
			name: "connection refused",
			setup: func(t *testing.T, f *fixture) Options {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr := l.Addr().String()
				l.Close()
				return f.opts("https://" + addr + "/apple")
			},
			want: SocketIssue, failStep: "connect", detail: "connection refused",
		},
		{
			name: "no such host",
			setup: func(t *testing.T, f *fixture) Options {
				return f.opts("https://nowhere.test/apple")
			},
			want: SocketIssue, failStep: "dns", detail: "no such host",
		},
		{
			name: "answer that is not HTTP",
			setup: func(t *testing.T, f *fixture) Options {
				return f.opts(serveTLS(t, certConfig(f.good), rawAnswer("SSH-2.0-OpenSSH_9.6\r\n")).URL + "/apple")
			},
			want: NoResponse, failStep: "request", detail: "not HTTP",
		},
		{
			name: "malformed HTTP",
			setup: func(t *testing.T, f *fixture) Options {
				return f.opts(serveTLS(t, certConfig(f.good), rawAnswer("HTTP/1.1 2x0 OK\r\n\r\n")).URL + "/apple")
			},
			want: InvalidResponse, failStep: "request", detail: "not valid HTTP",
		},
		{
			name: "broken chunked framing",
			setup: func(t *testing.T, f *fixture) Options {
				h := rawAnswer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
				return f.opts(serveTLS(t, certConfig(f.good), h).URL + "/apple")
			},
			want: InvalidResponse, failStep: "request", detail: "not valid HTTP",
		},
		{
			name: "unknown charset",
			setup: func(t *testing.T, f *fixture) Options {
				h := func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json; charset=klingon-8")
					if _, err := io.WriteString(w, `{"ok":true}`); err != nil {
						t.Error(err)
					}
				}
				return f.opts(serveTLS(t, certConfig(f.good), http.HandlerFunc(h)).URL + "/apple")
			},
			want: UnsupportedCharset, wantStatus: 200, failStep: "charset", detail: "charset=klingon-8",
		},
		{
			name: "registered but not guaranteed charset",
			setup: func(t *testing.T, f *fixture) Options {
				h := func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/plain; charset=windows-1252")
					if _, err := io.WriteString(w, "ok"); err != nil {
						t.Error(err)
					}
				}
				return f.opts(serveTLS(t, certConfig(f.good), http.HandlerFunc(h)).URL + "/apple")
			},
			want: Success, wantStatus: 200, warnSteps: []string{"charset"},
		},
		{
			name: "proxy error page",
			setup: func(t *testing.T, f *fixture) Options {
				h := func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Via", "1.1 edge-proxy")
					w.Header().Set("Content-Type", "text/html")
					w.Header().Set("Server", "nginx")
					w.WriteHeader(http.StatusBadGateway)
					if _, err := io.WriteString(w, "<html><head><title>502 Bad Gateway</title></head><body>bad gateway</body></html>"); err != nil {
						t.Error(err)
					}
				}
				return f.opts(serveTLS(t, certConfig(f.good), http.HandlerFunc(h)).URL + "/apple")
			},
			want: UnsuccessfulHTTPResponseCode, wantStatus: 502, failStep: "request", detail: "502 Bad Gateway",
			warnSteps: []string{"proxy"},
		},
		{
			name: "proxy in front of a working receiver",
			setup: func(t *testing.T, f *fixture) Options {
				h := func(w http.ResponseWriter, r *http.Request) { w.Header().Set("Via", "1.1 varnish") }
				return f.opts(serveTLS(t, certConfig(f.good), http.HandlerFunc(h)).URL + "/apple")
			},
			want: Success, wantStatus: 200, warnSteps: []string{"proxy"},
		},
	}
	f := newFixture(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r := Run(ctx, tc.setup(t, f))
			if r.Verdict != tc.want || r.HTTPStatus != tc.wantStatus {
				t.Fatalf("verdict %s (HTTP %d), want %s (HTTP %d)\n%s", r.Verdict, r.HTTPStatus, tc.want, tc.wantStatus, dump(r))
			}
			if !strings.Contains(r.Reason, tc.detail) && !stepHas(r, tc.failStep, tc.detail) {
				t.Errorf("neither the reason nor step %q mentions %q\n%s", tc.failStep, tc.detail, dump(r))
			}
			for _, s := range r.Steps {
				if s.Status == StatusFail && tc.failStep == "" {
					t.Errorf("step %s failed\n%s", s.Name, dump(r))
				}
				if s.Status != StatusOK && s.Fix == "" {
					t.Errorf("step %s is %s without a fix", s.Name, s.Status)
				}
			}
			if tc.failStep != "" {
				s := r.Step(tc.failStep)
				if s == nil || s.Status != StatusFail {
					t.Fatalf("step %q did not fail\n%s", tc.failStep, dump(r))
				}
				// A certificate's first failing property is the report's reason.
				if certStep[tc.failStep] && r.Reason != s.Detail {
					t.Errorf("reason %q is not step %s's %q", r.Reason, s.Name, s.Detail)
				}
				if r.Fix == "" {
					t.Errorf("a failing report has no fix")
				}
			}
			for _, name := range tc.warnSteps {
				if s := r.Step(name); s == nil || s.Status != StatusWarn {
					t.Errorf("step %q is not a warning\n%s", name, dump(r))
				}
			}
			if attempts := len(r.Attempts); r.Meaning != tc.want.Meaning() || (attempts != 1) != (tc.failStep == "url") {
				t.Errorf("meaning %q, %d attempts", r.Meaning, len(r.Attempts))
			}
		})
	}
}

var certStep = map[string]bool{"trust": true, "hostname": true, "validity": true, "signature": false, "key": true}

func stepHas(r *Report, name, s string) bool {
	st := r.Step(name)
	return st != nil && strings.Contains(st.Detail, s)
}

func port(s *httptest.Server) string { return fmt.Sprint(s.Listener.Addr().(*net.TCPAddr).Port) }

func dump(r *Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", r.Verdict, r.Reason)
	for _, s := range r.Steps {
		fmt.Fprintf(&b, "  %-5s %-10s %s | %s\n", s.Status, s.Name, s.Detail, s.Fix)
	}
	return b.String()
}

// The probe must deliver what Apple delivers: a POST of the body as JSON.
func TestRunPostsTheBody(t *testing.T) {
	f := newFixture(t)
	var got received
	s := serveTLS(t, certConfig(f.good), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.record(r) }))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if r := Run(ctx, f.opts(s.URL+"/apple")); r.Verdict != Success {
		t.Fatal(dump(r))
	}
	got.mu.Lock()
	defer got.mu.Unlock()
	if got.method != "POST" || got.contentType != "application/json" || got.body != testBody {
		t.Errorf("server got %s %q %q", got.method, got.contentType, got.body)
	}
}

func TestRetries(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name         string
		failures     int64 // answers of failStatus before the first 200
		failStatus   int
		retries      int
		want         Verdict
		wantAttempts int
	}{
		{"5xx then success", 2, 503, 3, Success, 3},
		{"5xx beyond the retries", 5, 503, 1, UnsuccessfulHTTPResponseCode, 2},
		{"4xx is not retried", 5, 404, 3, UnsuccessfulHTTPResponseCode, 1},
		{"no retries asked", 1, 500, 0, UnsuccessfulHTTPResponseCode, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int64
			s := serveTLS(t, certConfig(f.good), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) <= tc.failures {
					w.WriteHeader(tc.failStatus)
				}
			}))
			o := f.opts(s.URL + "/apple")
			o.Retries = tc.retries
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			r := Run(ctx, o)
			if r.Verdict != tc.want || len(r.Attempts) != tc.wantAttempts {
				t.Fatalf("%s after %d attempts, want %s after %d\n%s", r.Verdict, len(r.Attempts), tc.want, tc.wantAttempts, dump(r))
			}
			if tc.wantAttempts > 1 {
				if st := r.Step("retries"); st == nil {
					t.Errorf("no retries step\n%s", dump(r))
				} else if (tc.want == Success) != (st.Status == StatusWarn) {
					t.Errorf("retries step %s after %s", st.Status, tc.want)
				}
				if r.Attempts[0].Verdict != UnsuccessfulHTTPResponseCode || r.Attempts[0].HTTPStatus != tc.failStatus {
					t.Errorf("first attempt %+v", r.Attempts[0])
				}
			}
		})
	}
}

func TestRunInterrupted(t *testing.T) {
	f := newFixture(t)
	entered := make(chan struct{})
	release := make(chan struct{})
	s := serveTLS(t, certConfig(f.good), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	}))
	t.Cleanup(func() { close(release) })
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-entered:
		case <-time.After(10 * time.Second):
		}
		cancel()
	}()
	o := f.opts(s.URL + "/apple")
	o.Retries = 3
	r := Run(ctx, o)
	if r.Verdict != Other || len(r.Attempts) != 1 || !strings.Contains(r.Reason, "interrupted") {
		t.Fatalf("%s after %d attempts: %s", r.Verdict, len(r.Attempts), r.Reason)
	}
}

func TestReportJSON(t *testing.T) {
	f := newFixture(t)
	s := serveTLS(t, certConfig(f.good), http.HandlerFunc(ok200))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := Run(ctx, f.opts(s.URL+"/apple"))
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	if generic["verdict"] != "SUCCESS" || generic["httpStatus"] != float64(200) {
		t.Errorf("verdict %v, status %v", generic["verdict"], generic["httpStatus"])
	}
	if _, ok := generic["durationMs"].(float64); !ok {
		t.Errorf("durationMs is %T", generic["durationMs"])
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Verdict != r.Verdict || len(back.Steps) != len(r.Steps) || back.Steps[0].Name != "url" {
		t.Errorf("round trip lost data: %+v", back)
	}
	if d := time.Duration(back.Duration - r.Duration); d > time.Microsecond || d < -time.Microsecond {
		t.Errorf("duration %v became %v", r.Duration, back.Duration)
	}
}

// An unreachable answer must not hold the probe: the server accepts TCP but never speaks TLS.
func TestHandshakeTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	conns := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	t.Cleanup(func() {
		for {
			select {
			case c := <-conns:
				c.Close()
			default:
				return
			}
		}
	})
	f := newFixture(t)
	o := f.opts("https://" + l.Addr().String() + "/apple")
	o.Timeout = 200 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := Run(ctx, o)
	if r.Verdict != TimedOut || r.Step("tls") == nil || r.Step("tls").Status != StatusFail {
		t.Fatal(dump(r))
	}
}

// TestPlainHTTP: a plain-http URL keeps Apple's verdict, TLS_ISSUE, in words that say what
// happened (no handshake took place), and the probe still connects and POSTs, so the report says
// whether the server itself works.
func TestPlainHTTP(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	s := httptest.NewServer(http.HandlerFunc(ok200))
	t.Cleanup(s.Close)
	r := Run(ctx, f.opts(s.URL+"/apple"))
	if r.Verdict != TLSIssue || r.Meaning != "Apple records this for any URL it cannot reach over TLS." || r.HTTPStatus != 0 {
		t.Fatalf("verdict %s %q (HTTP %d)\n%s", r.Verdict, r.Meaning, r.HTTPStatus, dump(r))
	}
	if u := r.Step("url"); u == nil || u.Status != StatusFail || !strings.Contains(u.Detail, "Apple requires https; this URL is plain http") {
		t.Errorf("url step %+v", u)
	}
	for _, name := range []string{"dns", "connect", "request"} {
		if st := r.Step(name); st == nil || st.Status != StatusOK {
			t.Errorf("step %s: %+v\n%s", name, st, dump(r))
		}
	}
	if r.Step("tls") != nil {
		t.Errorf("a TLS step for a plain-http URL\n%s", dump(r))
	}
	if !strings.HasPrefix(r.Reason, "Apple requires https; this URL is plain http. Over plain http, the server answered 200 OK: it works") {
		t.Errorf("reason %q", r.Reason)
	}

	// Nothing listening: the connect step fails, and the reason says so after Apple's verdict.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r = Run(ctx, f.opts("http://"+addr+"/apple"))
	if r.Verdict != TLSIssue || !strings.Contains(r.Reason, "Over plain http, it fails too: ") {
		t.Fatalf("verdict %s, reason %q\n%s", r.Verdict, r.Reason, dump(r))
	}
	if st := r.Step("connect"); st == nil || st.Status != StatusFail {
		t.Errorf("connect step %+v\n%s", st, dump(r))
	}
}
