package cmd

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/appstore/appstoretest"
	"github.com/s2s-dev/s2s/fixtures"
)

const (
	appleTestKey      = "../testdata/vectors/apple-lib-mock/certs/testSigningKey.p8"
	appleTestKeyID    = "ABC123DEFG"
	appleTestIssuer   = "57246542-96fe-1a63-e053-0824d011072a"
	appleTestBundleID = "com.example.s2s"
)

// appleEnv is a temporary home with s2s's local test chain, a stand-in of the App Store Server API
// signing with that chain (so what it returns decodes as simulated), and a receiver for its TEST
// notifications.
type appleEnv struct {
	t        *testing.T
	dir      string
	vars     map[string]string
	now      func() time.Time
	srv      *appstoretest.Server
	received atomic.Int32
	status   atomic.Int32 // what the receiver answers; 0 means 200
}

func newAppleEnv(t *testing.T, o appstoretest.Options) *appleEnv {
	t.Helper()
	e := &appleEnv{t: t, dir: t.TempDir(), now: time.Now}
	e.vars = map[string]string{
		"HOME":           e.dir,
		"S2S_CONFIG_DIR": filepath.Join(e.dir, "config"),
		"S2S_STATE_DIR":  filepath.Join(e.dir, "state"),
		"S2S_STORE":      filepath.Join(e.dir, "captures.db"),
		"NO_COLOR":       "1",
	}
	chain, err := fixtures.LoadOrCreateChain(e.vars["S2S_CONFIG_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			t.Error(err)
		}
		e.received.Add(1)
		if s := e.status.Load(); s != 0 {
			w.WriteHeader(int(s))
		}
	}))
	t.Cleanup(receiver.Close)
	key, err := appstore.LoadPrivateKey(appleTestKey)
	if err != nil {
		t.Fatal(err)
	}
	o.KeyID, o.IssuerID, o.BundleID, o.PublicKey = appleTestKeyID, appleTestIssuer, appleTestBundleID, key.Public()
	o.Signer = chain
	if o.NotificationURL == "" {
		o.NotificationURL = receiver.URL + "/apple/notifications"
	}
	e.srv = appstoretest.Start(t, o)
	return e
}

func (e *appleEnv) factory() (*Factory, *bytes.Buffer, *bytes.Buffer) {
	ios, _, out, errOut := TestIO()
	return &Factory{
		IO:         ios,
		Getenv:     func(k string) string { return e.vars[k] },
		Now:        func() time.Time { return e.now() },
		HTTPClient: func() *http.Client { return &http.Client{Timeout: 10 * time.Second} },
	}, out, errOut
}

// creds are flags pointing at the stand-in, with short waits so retries do not slow the tests.
func (e *appleEnv) creds() appleCredentials {
	return appleCredentials{
		KeyID: appleTestKeyID, IssuerID: appleTestIssuer, PrivateKeyPath: appleTestKey,
		BaseURL: e.srv.URL, Wait: 10 * time.Second, pollInterval: 5 * time.Millisecond,
		retry: appstore.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond},
	}
}

// run runs the s2s command line in-process with the stand-in's URL and credentials in the
// environment.
func (e *appleEnv) run(args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	e.vars["S2S_APPSTORE_URL"] = e.srv.URL
	e.vars["S2S_KEY_ID"] = appleTestKeyID
	e.vars["S2S_ISSUER_ID"] = appleTestIssuer
	e.vars["S2S_PRIVATE_KEY"] = appleTestKey
	f, out, errOut := e.factory()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code = run(ctx, f, args)
	return code, out.String(), errOut.String()
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestAppleTestNotification(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		want       string
		wantOut    []string
		notWantOut []string
	}{
		{"delivered", 0, "SUCCESS",
			[]string{"Test notification token: ", "Attempt 1  ", "  SUCCESS\n", "Apple counts the notification as delivered",
				"Signed payload: simulated TEST "},
			[]string{"Fix:", "UNVERIFIED"}},
		{"server error", 503, "UNSUCCESSFUL_HTTP_RESPONSE_CODE",
			[]string{"UNSUCCESSFUL_HTTP_RESPONSE_CODE", "status outside 200–206", "Fix: Answer 200 once the payload is stored", "Signed payload: simulated TEST"},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAppleEnv(t, appstoretest.Options{StatusNotFoundPolls: 2})
			e.status.Store(int32(tt.status))
			f, out, errOut := e.factory()
			got, err := runAppleTestNotification(testCtx(t), f, e.creds(), appleTestBundleID, "Sandbox", out)
			if err != nil {
				t.Fatalf("%v\nstderr: %s", err, errOut)
			}
			if string(got) != tt.want {
				t.Errorf("result = %q, want %q", got, tt.want)
			}
			if e.received.Load() != 1 {
				t.Errorf("receiver got %d notifications, want 1", e.received.Load())
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWantOut {
				if strings.Contains(out.String(), w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
			if !strings.Contains(errOut.String(), "Asking Apple (Sandbox, com.example.s2s)") {
				t.Errorf("stderr: %s", errOut)
			}
		})
	}
}

func TestAppleTestNotificationErrors(t *testing.T) {
	otherKey := filepath.Join(t.TempDir(), "other.p8")
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	if err := os.WriteFile(otherKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		opts      appstoretest.Options
		mod       func(e *appleEnv, c *appleCredentials)
		faults    []appstoretest.Fault
		wantUsage bool
		wantErr   []string
		wantRetry bool
	}{
		{name: "no credentials", mod: func(_ *appleEnv, c *appleCredentials) { *c = appleCredentials{BaseURL: c.BaseURL} },
			wantUsage: true, wantErr: []string{"--apple needs --key-id, --issuer-id and --private-key (or S2S_KEY_ID, S2S_ISSUER_ID and S2S_PRIVATE_KEY); missing --key-id, --issuer-id, --private-key", "App Store Connect → Users and Access → Integrations"}},
		{name: "missing issuer", mod: func(_ *appleEnv, c *appleCredentials) { c.IssuerID = "" },
			wantUsage: true, wantErr: []string{"missing --issuer-id."}},
		{name: "unreadable key", mod: func(_ *appleEnv, c *appleCredentials) { c.PrivateKeyPath = "/nonexistent/AuthKey.p8" },
			wantErr: []string{"--private-key: reading the private key"}},
		{name: "wrong key", mod: func(_ *appleEnv, c *appleCredentials) { c.PrivateKeyPath = otherKey },
			wantErr: []string{"HTTP 401", "Apple rejected the token"}},
		{name: "expired token", mod: func(e *appleEnv, _ *appleCredentials) {
			e.now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
		}, wantErr: []string{"HTTP 401", "clock"}},
		{name: "no notification URL", opts: appstoretest.Options{NotificationURL: "-"},
			wantErr: []string{"ServerNotificationURLNotFound (4040007)", "set it in App Store Connect"}},
		{name: "5xx retried then failing", faults: []appstoretest.Fault{appstoretest.InternalError(), appstoretest.InternalError(), appstoretest.InternalError(), appstoretest.InternalError()},
			wantErr: []string{"HTTP 500 GeneralInternal (5000000)"}, wantRetry: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAppleEnv(t, tt.opts)
			if tt.opts.NotificationURL == "-" {
				e.srv.SetNotificationURL("")
			}
			e.srv.InjectFaults("/inApps/v1/notifications/test", tt.faults...)
			c := e.creds()
			if tt.mod != nil {
				tt.mod(e, &c)
			}
			e.vars["S2S_DEBUG"] = "1"
			f, out, errOut := e.factory()
			_, err := runAppleTestNotification(testCtx(t), f, c, appleTestBundleID, "Sandbox", out)
			if err == nil {
				t.Fatalf("no error; output:\n%s", out)
			}
			var ue *UsageError
			if errors.As(err, &ue) != tt.wantUsage {
				t.Errorf("usage error = %v, want %v (%v)", !tt.wantUsage, tt.wantUsage, err)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tt.wantRetry != strings.Contains(errOut.String(), "Apple answered HTTP 500 GeneralInternal; retrying in") {
				t.Errorf("retry messages = %v, want %v:\n%s", !tt.wantRetry, tt.wantRetry, errOut)
			}
			assertNoKeyMaterial(t, err.Error(), out.String(), errOut.String())
		})
	}
}

// assertNoKeyMaterial fails if any output holds a line of the test .p8 file or a bearer token.
func assertNoKeyMaterial(t *testing.T, outputs ...string) {
	t.Helper()
	p8, err := os.ReadFile(appleTestKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(p8), "\n") {
		if len(line) < 20 || strings.HasPrefix(line, "-----") {
			continue
		}
		for _, o := range outputs {
			if strings.Contains(o, line) {
				t.Fatalf("output contains the private key:\n%s", o)
			}
		}
	}
	for _, o := range outputs {
		if strings.Contains(o, "Bearer") || strings.Contains(o, "eyJhbGciOiJFUzI1NiIs") {
			t.Fatalf("output contains a token:\n%s", o)
		}
	}
}

func TestAppleTestNotificationRateLimited(t *testing.T) {
	e := newAppleEnv(t, appstoretest.Options{})
	retryAt := time.Now().Add(100 * time.Millisecond)
	e.srv.InjectFaults("/inApps/v1/notifications/test", appstoretest.RateLimited(retryAt))
	f, out, errOut := e.factory()
	got, err := runAppleTestNotification(testCtx(t), f, e.creds(), appleTestBundleID, "Sandbox", out)
	if err != nil || got != "SUCCESS" {
		t.Fatalf("result %q, err %v", got, err)
	}
	if !strings.Contains(errOut.String(), "Apple answered HTTP 429 RateLimitExceeded; retrying in") {
		t.Errorf("stderr lacks the rate-limit message:\n%s", errOut)
	}
	reqs := e.srv.Requests()
	if reqs[0].Status != 429 || reqs[1].At.Before(retryAt.Truncate(time.Millisecond)) {
		t.Errorf("second request at %s, Retry-After was %s", reqs[1].At, retryAt)
	}
}

func TestAppleTestNotificationNeverSent(t *testing.T) {
	// A receiver that never answers and a delivery client that never gives up: Apple's attempt
	// stays unrecorded and the poll loop must stop at its deadline.
	block := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			t.Error(err)
		}
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(block) })
	e := newAppleEnv(t, appstoretest.Options{NotificationURL: hang.URL, DeliveryClient: &http.Client{}})
	c := e.creds()
	c.Wait = 50 * time.Millisecond
	f, out, _ := e.factory()
	_, err := runAppleTestNotification(testCtx(t), f, c, appleTestBundleID, "Sandbox", out)
	if !errors.Is(err, appstore.ErrNoAttemptYet) || !strings.Contains(err.Error(), "s2s history --since 1h --type TEST") {
		t.Fatalf("err = %v, want ErrNoAttemptYet pointing at s2s history", err)
	}
}

func TestSendTestAppleCommandLine(t *testing.T) {
	e := newAppleEnv(t, appstoretest.Options{})
	code, stdout, stderr := e.run("send-test", "--apple", "--bundle-id", appleTestBundleID, "--environment", "Sandbox")
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "SUCCESS") || !strings.Contains(stdout, "Signed payload: simulated TEST") {
		t.Errorf("stdout:\n%s", stdout)
	}
	// The bundle id may come from S2S_BUNDLE_ID, as for history and probe --via-apple.
	e.vars["S2S_BUNDLE_ID"] = appleTestBundleID
	if code, stdout, stderr := e.run("send-test", "--apple"); code != 0 || !strings.Contains(stdout, "SUCCESS") {
		t.Errorf("with S2S_BUNDLE_ID: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	delete(e.vars, "S2S_BUNDLE_ID")
	// The same from the command line without credentials is a usage error (exit 2).
	delete(e.vars, "S2S_KEY_ID")
	f, _, errOut := e.factory()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if code := run(ctx, f, []string{"send-test", "--apple", "--bundle-id", appleTestBundleID}); code != ExitUsage {
		t.Errorf("exit %d without credentials, want %d; stderr: %s", code, ExitUsage, errOut)
	}
}
