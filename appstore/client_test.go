package appstore_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/appstore/appstoretest"
	"github.com/s2s-dev/s2s/decode"
)

const (
	testKeyPath = "../testdata/vectors/apple-lib-mock/certs/testSigningKey.p8"
	payloadsDir = "../testdata/vectors/apple-lib-payloads"
	keyID       = "ABC123DEFG"
	issuerID    = "57246542-96fe-1a63-e053-0824d011072a"
	bundleID    = "com.example.s2s"
)

func testKey(t testing.TB) *appstore.PrivateKey {
	t.Helper()
	k, err := appstore.LoadPrivateKey(testKeyPath)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testCreds(t testing.TB) appstore.Credentials {
	return appstore.Credentials{KeyID: keyID, IssuerID: issuerID, BundleID: bundleID, Key: testKey(t)}
}

// standIn starts a stand-in that accepts testCreds, with o's other fields.
func standIn(t testing.TB, o appstoretest.Options) *appstoretest.Server {
	t.Helper()
	k := testKey(t)
	o.KeyID, o.IssuerID, o.BundleID, o.PublicKey = keyID, issuerID, bundleID, k.Public()
	return appstoretest.Start(t, o)
}

// fastRetry keeps retry waits tiny so tests of the retry logic do not wait on backoff.
var fastRetry = appstore.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxRetryAfter: 5 * time.Second}

func newClient(t testing.TB, baseURL string, mod func(*appstore.Config)) *appstore.Client {
	t.Helper()
	cfg := appstore.Config{Credentials: testCreds(t), Environment: decode.EnvSandbox, BaseURL: baseURL, Retry: fastRetry}
	if mod != nil {
		mod(&cfg)
	}
	c, err := appstore.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSignTokenHeaderAndClaims(t *testing.T) {
	creds := testCreds(t)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tok, err := creds.SignToken(now, 0)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	var header, claims map[string]any
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatal(err)
		}
	}
	wantHeader := map[string]any{"alg": "ES256", "kid": keyID, "typ": "JWT"}
	for k, v := range wantHeader {
		if header[k] != v {
			t.Errorf("header %s = %v, want %v", k, header[k], v)
		}
	}
	wantClaims := map[string]any{
		"iss": issuerID, "aud": "appstoreconnect-v1", "bid": bundleID,
		"iat": float64(now.Unix()), "exp": float64(now.Add(5 * time.Minute).Unix()),
	}
	for k, v := range wantClaims {
		if claims[k] != v {
			t.Errorf("claim %s = %v (%T), want %v", k, claims[k], claims[k], v)
		}
	}
	// The signature must check out with the key's public half, as Apple checks it.
	_, err = jwt.Parse(tok, func(*jwt.Token) (any, error) { return creds.Key.Public(), nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		t.Fatalf("token does not verify with the public key: %v", err)
	}
}

func TestParsePrivateKeyErrors(t *testing.T) {
	rsaPEM := "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEAq7BFUpkGp3+LQmlQ\n-----END PRIVATE KEY-----\n"
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(p384)
	p384PEM := "-----BEGIN PRIVATE KEY-----\n" + base64.StdEncoding.EncodeToString(der) + "\n-----END PRIVATE KEY-----\n"
	tests := []struct {
		name, input, want string
	}{
		{"not PEM", "hello", "not a PEM file"},
		{"wrong block", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", `"CERTIFICATE"`},
		{"garbage PKCS8", rsaPEM, "not a PKCS#8 private key"},
		{"P-384", p384PEM, "P-256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := appstore.ParsePrivateKey([]byte(tt.input))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	if _, err := appstore.LoadPrivateKey(filepath.Join(t.TempDir(), "missing.p8")); err == nil {
		t.Fatal("a missing file loaded")
	}
}

func TestTestNotificationDelivered(t *testing.T) {
	var (
		mu   sync.Mutex
		got  [][]byte
		ctyp string
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, ctyp = append(got, b), r.Header.Get("Content-Type")
		mu.Unlock()
	}))
	defer receiver.Close()
	srv := standIn(t, appstoretest.Options{NotificationURL: receiver.URL, StatusNotFoundPolls: 2})
	c := newClient(t, srv.URL, nil)
	ctx := ctxT(t)

	token, err := c.RequestTestNotification(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var polls, notFound int
	st, err := c.WaitTestNotification(ctx, token, appstore.PollOptions{
		Interval: time.Millisecond, MaxInterval: 5 * time.Millisecond,
		OnPoll: func(n int, _ *appstore.TestNotificationStatus, err error) {
			polls = n
			if appstore.IsCode(err, appstore.CodeTestNotificationNotFound) {
				notFound++
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if notFound < 2 || polls != notFound+1 {
		t.Errorf("polls = %d with %d TestNotificationNotFound; want the client to keep polling through them", polls, notFound)
	}
	if st.LastResult() != appstore.ResultSuccess || len(st.SendAttempts) != 1 || st.SendAttempts[0].AttemptDate.Time().IsZero() {
		t.Fatalf("status = %+v, want one SUCCESS attempt with a date", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || ctyp != "application/json" {
		t.Fatalf("receiver got %d requests (content type %q), want 1 JSON POST", len(got), ctyp)
	}
	var body struct{ SignedPayload string }
	if err := json.Unmarshal(got[0], &body); err != nil || body.SignedPayload != st.SignedPayload {
		t.Fatalf("delivered body %s does not carry the status's signedPayload", got[0])
	}
	claims := verifyWithChain(t, body.SignedPayload, srv.Chain().Root())
	if claims["notificationType"] != "TEST" {
		t.Errorf("notificationType = %v", claims["notificationType"])
	}
	data, _ := claims["data"].(map[string]any)
	if data["bundleId"] != bundleID || data["environment"] != "Sandbox" {
		t.Errorf("data = %v", data)
	}
}

// verifyWithChain checks an x5c JWS against root the way Apple's libraries do (chain, then ES256).
func verifyWithChain(t *testing.T, jws string, root *x509.Certificate) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(jws, claims, func(tok *jwt.Token) (any, error) {
		x5c, _ := tok.Header["x5c"].([]any)
		if len(x5c) != 3 {
			return nil, fmt.Errorf("x5c has %d certificates", len(x5c))
		}
		var certs []*x509.Certificate
		for _, s := range x5c {
			der, err := base64.StdEncoding.DecodeString(s.(string))
			if err != nil {
				return nil, err
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, err
			}
			certs = append(certs, c)
		}
		roots, inter := x509.NewCertPool(), x509.NewCertPool()
		roots.AddCert(root)
		inter.AddCert(certs[1])
		if _, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			return nil, err
		}
		return certs[0].PublicKey, nil
	}, jwt.WithValidMethods([]string{"ES256"}))
	if err != nil {
		t.Fatalf("signed payload does not verify against the stand-in root: %v", err)
	}
	return claims
}

func TestTestNotificationDeliveryFailures(t *testing.T) {
	refused := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		u := "http://" + l.Addr().String()
		l.Close()
		return u
	}
	release := make(chan struct{})
	defer close(release)
	tests := []struct {
		name    string
		handler http.HandlerFunc // nil: nothing listens
		client  *http.Client
		want    appstore.SendAttemptResult
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }, nil, appstore.ResultUnsuccessfulHTTPResponseCode},
		{"400", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(400) }, nil, appstore.ResultUnsuccessfulHTTPResponseCode},
		{"nothing listening", nil, nil, appstore.ResultSocketIssue},
		{"too slow", func(w http.ResponseWriter, r *http.Request) {
			// Reading the body lets the server notice the client hanging up (its context ends).
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				t.Error(err)
			}
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}, &http.Client{Timeout: 50 * time.Millisecond}, appstore.ResultTimedOut},
		{"redirect loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, r.URL.Path, http.StatusFound) }, nil, appstore.ResultCircularRedirect},
		{"hangs up", func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}, nil, appstore.ResultPrematureClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := ""
			if tt.handler == nil {
				target = refused()
			} else {
				rs := httptest.NewServer(tt.handler)
				defer rs.Close()
				target = rs.URL
			}
			srv := standIn(t, appstoretest.Options{NotificationURL: target, DeliveryClient: tt.client})
			c := newClient(t, srv.URL, nil)
			ctx := ctxT(t)
			token, err := c.RequestTestNotification(ctx)
			if err != nil {
				t.Fatal(err)
			}
			st, err := c.WaitTestNotification(ctx, token, appstore.PollOptions{Interval: time.Millisecond, MaxInterval: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if st.LastResult() != tt.want {
				t.Fatalf("result = %s, want %s", st.LastResult(), tt.want)
			}
		})
	}
}

func TestNoNotificationURL(t *testing.T) {
	srv := standIn(t, appstoretest.Options{})
	c := newClient(t, srv.URL, nil)
	_, err := c.RequestTestNotification(ctxT(t))
	var apiErr *appstore.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 4040007 || apiErr.Name != "ServerNotificationURLNotFound" || apiErr.HTTPStatus != 404 {
		t.Fatalf("err = %v, want 404 ServerNotificationURLNotFound", err)
	}
	if !strings.Contains(err.Error(), "App Store Connect") {
		t.Errorf("error %q does not say where to set the URL", err)
	}
}

func TestUnauthorized(t *testing.T) {
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	wrong, _ := appstore.NewPrivateKey(otherKey)
	tests := []struct {
		name    string
		mod     func(*appstore.Config)
		wantWhy string
	}{
		{"expired token", func(c *appstore.Config) { c.Now = func() time.Time { return time.Now().Add(-2 * time.Hour) } }, "expired"},
		{"wrong key", func(c *appstore.Config) { c.Credentials.Key = wrong }, "signature"},
		{"wrong key id", func(c *appstore.Config) { c.Credentials.KeyID = "OTHERKEY01" }, "kid"},
		{"wrong issuer", func(c *appstore.Config) { c.Credentials.IssuerID = "00000000-0000-0000-0000-000000000000" }, "iss"},
		{"wrong bundle id", func(c *appstore.Config) { c.Credentials.BundleID = "com.Example.s2s" }, "bid"},
		{"lifetime over an hour", func(c *appstore.Config) { c.TokenLifetime = 2 * time.Hour }, "lifetime"},
		{"issued in the future", func(c *appstore.Config) { c.Now = func() time.Time { return time.Now().Add(time.Hour) } }, "before issued"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := standIn(t, appstoretest.Options{})
			c := newClient(t, srv.URL, tt.mod)
			_, err := c.GetTestNotificationStatus(ctxT(t), "ce3af791-365e-4c60-841b-1674b43c1609")
			if !appstore.IsUnauthorized(err) {
				t.Fatalf("err = %v, want 401", err)
			}
			var apiErr *appstore.APIError
			errors.As(err, &apiErr)
			if apiErr.Code != 0 || !strings.Contains(apiErr.Hint(), "key id") {
				t.Errorf("401 error = %+v, want no code and a hint about the credentials", apiErr)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1 (a 401 is not retried)", len(reqs))
			}
			if !strings.Contains(reqs[0].AuthError, tt.wantWhy) {
				t.Errorf("stand-in refused the token because %q, want %q", reqs[0].AuthError, tt.wantWhy)
			}
		})
	}
}

func TestUnknownTestToken(t *testing.T) {
	srv := standIn(t, appstoretest.Options{})
	c := newClient(t, srv.URL, nil)
	_, err := c.GetTestNotificationStatus(ctxT(t), "00000000-1111-2222-3333-444444444444")
	var apiErr *appstore.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatus != 404 || apiErr.Code != 4040008 || apiErr.Name != "TestNotificationNotFound" {
		t.Fatalf("err = %v, want 404 TestNotificationNotFound (4040008)", err)
	}
	if len(srv.Requests()) != 1 {
		t.Errorf("4040008 was retried by the client; only the poll loop may retry it")
	}
}

func TestWaitTestNotificationDeadline(t *testing.T) {
	srv := standIn(t, appstoretest.Options{})
	c := newClient(t, srv.URL, nil)
	_, err := c.WaitTestNotification(ctxT(t), "00000000-1111-2222-3333-444444444444",
		appstore.PollOptions{Timeout: 30 * time.Millisecond, Interval: time.Millisecond, MaxInterval: 5 * time.Millisecond})
	if !errors.Is(err, appstore.ErrNoAttemptYet) || !strings.Contains(err.Error(), "00000000-1111") {
		t.Fatalf("err = %v, want ErrNoAttemptYet naming the token", err)
	}
	// How many polls fit in 30 ms depends on how busy the machine is; that the client keeps
	// polling through "not found" is proven without a clock by TestTestNotificationDelivered.
}

func TestRateLimitHonoursRetryAfter(t *testing.T) {
	srv := standIn(t, appstoretest.Options{})
	retryAt := time.Now().Add(150 * time.Millisecond)
	srv.InjectFaults("/inApps/v1/notifications/history", appstoretest.RateLimited(retryAt))
	if _, err := srv.AddNotification(appstoretest.Notification{Type: "DID_RENEW"}); err != nil {
		t.Fatal(err)
	}
	var events []appstore.RetryEvent
	c := newClient(t, srv.URL, func(cfg *appstore.Config) {
		cfg.OnRetry = func(e appstore.RetryEvent) { events = append(events, e) }
	})
	req := appstore.NotificationHistoryRequest{StartDate: appstore.ToMillis(time.Now().Add(-time.Hour)), EndDate: appstore.ToMillis(time.Now().Add(time.Minute))}
	page, err := c.GetNotificationHistory(ctxT(t), req, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.NotificationHistory) != 1 {
		t.Fatalf("got %d records", len(page.NotificationHistory))
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Status != 429 || reqs[1].Status != 200 {
		t.Fatalf("requests = %+v, want a 429 then a 200", reqs)
	}
	// Retry-After is a UNIX time in milliseconds: the retry must not come before it.
	if reqs[1].At.Before(retryAt.Truncate(time.Millisecond)) {
		t.Errorf("retried at %s, before Retry-After %s", reqs[1].At, retryAt)
	}
	if len(events) != 1 || !appstore.IsCode(events[0].Err, 4290000) || events[0].Wait <= 0 {
		t.Errorf("retry events = %+v, want one RateLimitExceeded with a positive wait", events)
	}
}

func TestRateLimitBeyondCap(t *testing.T) {
	srv := standIn(t, appstoretest.Options{})
	retryAt := time.Now().Add(time.Hour)
	srv.InjectFaults("", appstoretest.RateLimited(retryAt))
	c := newClient(t, srv.URL, nil)
	_, err := c.RequestTestNotification(ctxT(t))
	var apiErr *appstore.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatus != 429 || apiErr.Name != "RateLimitExceeded" {
		t.Fatalf("err = %v, want 429 RateLimitExceeded", err)
	}
	if apiErr.RetryAfter.UnixMilli() != retryAt.UnixMilli() {
		t.Errorf("RetryAfter = %s, want %s (read as milliseconds)", apiErr.RetryAfter, retryAt)
	}
	// The user must learn when to try again, not only that they should wait.
	if want := retryAt.UTC().Format("15:04:05 UTC"); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say when Apple accepts requests again (%s)", err, want)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests; a Retry-After beyond the cap must be returned, not waited for", n)
	}
}

func TestRateLimitWaitCancelled(t *testing.T) {
	srv := standIn(t, appstoretest.Options{})
	srv.InjectFaults("", appstoretest.RateLimited(time.Now().Add(3*time.Second)))
	ctx, cancel := context.WithCancel(ctxT(t))
	c := newClient(t, srv.URL, func(cfg *appstore.Config) {
		cfg.OnRetry = func(appstore.RetryEvent) { cancel() }
	})
	_, err := c.RequestTestNotification(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the context's cancellation while waiting for Retry-After", err)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name       string
		faults     []appstoretest.Fault
		wantReqs   int
		wantStatus int // 0: success
	}{
		{"5xx then success", []appstoretest.Fault{appstoretest.InternalError(), {Status: 503}}, 3, 0},
		{"5xx until the client gives up", []appstoretest.Fault{appstoretest.InternalError(), appstoretest.InternalError(), appstoretest.InternalError(), appstoretest.InternalError(), appstoretest.InternalError()}, 4, 500},
		{"retryable code", []appstoretest.Fault{{Status: 404, Code: 4040002}}, 2, 0},
		{"GeneralInternalRetryable", []appstoretest.Fault{{Status: 500, Code: 5000001}}, 2, 0},
		{"not retryable", []appstoretest.Fault{{Status: 400, Code: 4000006}}, 1, 400},
		{"unknown code", []appstoretest.Fault{{Status: 400, Code: 9990000, Message: "Testing error."}}, 1, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := standIn(t, appstoretest.Options{NotificationURL: "http://127.0.0.1:1/"})
			srv.InjectFaults("/inApps/v1/notifications/test", tt.faults...)
			c := newClient(t, srv.URL, nil)
			_, err := c.RequestTestNotification(ctxT(t))
			if got := len(srv.Requests()); got != tt.wantReqs {
				t.Errorf("%d requests, want %d", got, tt.wantReqs)
			}
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var apiErr *appstore.APIError
			if !errors.As(err, &apiErr) || apiErr.HTTPStatus != tt.wantStatus {
				t.Fatalf("err = %v, want HTTP %d", err, tt.wantStatus)
			}
		})
	}
}

func TestNetworkErrorRetried(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	var events int
	c := newClient(t, "http://"+addr, func(cfg *appstore.Config) { cfg.OnRetry = func(appstore.RetryEvent) { events++ } })
	_, err := c.RequestTestNotification(ctxT(t))
	if err == nil || events != 3 {
		t.Fatalf("err = %v after %d retries, want a network error after 3", err, events)
	}
}

// TestAnswerOverTheBoundIsAnError: an answer larger than the client reads is an error, not the
// part that fits (16 MiB of white space then a body used to read as an empty answer: success).
func TestAnswerOverTheBoundIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(bytes.Repeat([]byte(" "), 16<<20))
		_, _ = io.WriteString(w, `{"errorCode":4040010,"errorMessage":"Transaction id not found."}`)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, func(cfg *appstore.Config) { cfg.Retry.Disabled = true })
	_, err := c.GetTransactionInfo(ctxT(t), "1")
	if err == nil || !strings.Contains(err.Error(), "the answer is larger than 16777216 bytes") {
		t.Fatalf("err = %v, want the answer refused as too large", err)
	}
}

func TestNotificationHistoryPagination(t *testing.T) {
	srv := standIn(t, appstoretest.Options{})
	base := time.Now().Add(-48 * time.Hour).Truncate(time.Millisecond)
	for i := range 45 {
		attempts := []appstore.SendAttempt{{AttemptDate: appstore.ToMillis(base.Add(time.Duration(i) * time.Minute)), SendAttemptResult: appstore.ResultSuccess}}
		if i%10 == 0 {
			attempts = []appstore.SendAttempt{{AttemptDate: appstore.ToMillis(base), SendAttemptResult: appstore.ResultTimedOut}}
		}
		typ := "DID_RENEW"
		if i%3 == 0 {
			typ = "SUBSCRIBED"
		}
		if _, err := srv.AddNotification(appstoretest.Notification{
			Type: typ, SignedDate: base.Add(time.Duration(i) * time.Minute),
			TransactionID: fmt.Sprint(2000000000000100 + i), OriginalTransactionID: "2000000000000100",
		}, attempts...); err != nil {
			t.Fatal(err)
		}
	}
	c := newClient(t, srv.URL, nil)
	window := appstore.NotificationHistoryRequest{StartDate: appstore.ToMillis(base.Add(-time.Hour)), EndDate: appstore.ToMillis(time.Now().Add(time.Hour))}
	tests := []struct {
		name      string
		mod       func(*appstore.NotificationHistoryRequest)
		wantItems int
		wantPages int
	}{
		{"all", nil, 45, 3},
		{"only failures", func(r *appstore.NotificationHistoryRequest) { r.OnlyFailures = true }, 5, 1},
		{"by type", func(r *appstore.NotificationHistoryRequest) { r.NotificationType = "SUBSCRIBED" }, 15, 1},
		// Apple: any transaction of the customer stands for the customer.
		{"by a transaction of the customer", func(r *appstore.NotificationHistoryRequest) { r.TransactionID = "2000000000000107" }, 45, 3},
		{"by an unknown transaction", func(r *appstore.NotificationHistoryRequest) { r.TransactionID = "2000000000000999" }, 0, 1},
		{"by original transaction", func(r *appstore.NotificationHistoryRequest) { r.TransactionID = "2000000000000100" }, 45, 3},
		{"empty window", func(r *appstore.NotificationHistoryRequest) { r.EndDate = r.StartDate + 1000 }, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := window
			if tt.mod != nil {
				tt.mod(&req)
			}
			var items, pages int
			var last time.Time
			err := c.NotificationHistory(ctxT(t), req, func(n int, p *appstore.NotificationHistoryResponse) error {
				pages = n
				if len(p.NotificationHistory) > 20 {
					t.Errorf("page %d has %d records, Apple sends at most 20", n, len(p.NotificationHistory))
				}
				for _, it := range p.NotificationHistory {
					d := signedDate(t, it.SignedPayload)
					if d.Before(last) {
						t.Errorf("record at %s after one at %s", d, last)
					}
					last = d
				}
				items += len(p.NotificationHistory)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if items != tt.wantItems || pages != tt.wantPages {
				t.Fatalf("%d records in %d pages, want %d in %d", items, pages, tt.wantItems, tt.wantPages)
			}
		})
	}

	t.Run("invalid pagination token", func(t *testing.T) {
		_, err := c.GetNotificationHistory(ctxT(t), window, "not-a-token")
		if !appstore.IsCode(err, 4000014) {
			t.Fatalf("err = %v, want InvalidPaginationToken", err)
		}
	})
	t.Run("page callback error stops", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		err := c.NotificationHistory(ctxT(t), window, func(int, *appstore.NotificationHistoryResponse) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Fatalf("err = %v after %d pages", err, calls)
		}
	})
}

func signedDate(t *testing.T, jws string) time.Time {
	t.Helper()
	parts := strings.Split(jws, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var p struct{ SignedDate appstore.Millis }
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	return p.SignedDate.Time()
}

func TestStandInEnforcesHistoryRules(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		req  appstore.NotificationHistoryRequest
		code int64
	}{
		{"start too old for Sandbox", appstore.NotificationHistoryRequest{StartDate: appstore.ToMillis(now.Add(-31 * 24 * time.Hour)), EndDate: appstore.ToMillis(now)}, 4000012},
		{"start after end", appstore.NotificationHistoryRequest{StartDate: appstore.ToMillis(now), EndDate: appstore.ToMillis(now.Add(-time.Hour))}, 4000013},
		{"multiple filters", appstore.NotificationHistoryRequest{StartDate: appstore.ToMillis(now.Add(-time.Hour)), EndDate: appstore.ToMillis(now), NotificationType: "REFUND", TransactionID: "1"}, 4000019},
		{"no start", appstore.NotificationHistoryRequest{EndDate: appstore.ToMillis(now)}, 4000015},
	}
	srv := standIn(t, appstoretest.Options{})
	c := newClient(t, srv.URL, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.GetNotificationHistory(ctxT(t), tt.req, "")
			if !appstore.IsCode(err, tt.code) {
				t.Fatalf("err = %v, want %d", err, tt.code)
			}
			// The client's own validation catches the same mistakes before spending a request.
			if verr := tt.req.Validate(decode.EnvSandbox, now); verr == nil {
				t.Errorf("Validate accepted a request Apple refuses with %d", tt.code)
			}
		})
	}
}

func TestTransactionEndpoints(t *testing.T) {
	srv := standIn(t, appstoretest.Options{})
	if _, err := srv.AddNotification(appstoretest.Notification{Type: "DID_RENEW", TransactionID: "2000000000000777"}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv.URL, nil)
	ctx := ctxT(t)
	info, err := c.GetTransactionInfo(ctx, "2000000000000777")
	if err != nil {
		t.Fatal(err)
	}
	claims := verifyWithChain(t, info.SignedTransactionInfo, srv.Chain().Root())
	if claims["transactionId"] != "2000000000000777" {
		t.Errorf("transaction = %v", claims)
	}
	st, err := c.GetAllSubscriptionStatuses(ctx, "2000000000000777", 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if st.BundleID != bundleID || len(st.Data) != 1 || st.Data[0].LastTransactions[0].OriginalTransactionID != "2000000000000777" {
		t.Errorf("statuses = %+v", st)
	}
	if q := srv.Requests()[1].Query; q != "status=1&status=2" {
		t.Errorf("status query = %q", q)
	}
	_, err = c.GetTransactionInfo(ctx, "404")
	if !appstore.IsCode(err, appstore.CodeTransactionIDNotFound) {
		t.Fatalf("err = %v, want TransactionIdNotFound", err)
	}
}

// TestAppleResponseVectors decodes the answers of Apple's own library tests, served as they are.
func TestAppleResponseVectors(t *testing.T) {
	tests := []struct {
		file   string
		status int
		call   func(context.Context, *appstore.Client) (any, error)
		check  func(t *testing.T, v any, err error)
	}{
		{"requestTestNotificationResponse.json", 200,
			func(ctx context.Context, c *appstore.Client) (any, error) { return c.RequestTestNotification(ctx) },
			func(t *testing.T, v any, err error) {
				if err != nil || v.(string) != "ce3af791-365e-4c60-841b-1674b43c1609" {
					t.Fatalf("token %v, err %v", v, err)
				}
			}},
		{"getTestNotificationStatusResponse.json", 200,
			func(ctx context.Context, c *appstore.Client) (any, error) {
				return c.GetTestNotificationStatus(ctx, "t")
			},
			func(t *testing.T, v any, err error) {
				st := v.(*appstore.TestNotificationStatus)
				if err != nil || st.SignedPayload != "signed_payload" || len(st.SendAttempts) != 2 ||
					st.SendAttempts[0].SendAttemptResult != appstore.ResultNoResponse || st.SendAttempts[0].AttemptDate != 1698148900000 ||
					st.LastResult() != appstore.ResultSuccess {
					t.Fatalf("status %+v, err %v", st, err)
				}
			}},
		{"getNotificationHistoryResponse.json", 200,
			func(ctx context.Context, c *appstore.Client) (any, error) {
				return c.GetNotificationHistory(ctx, appstore.NotificationHistoryRequest{StartDate: 1, EndDate: 2}, "")
			},
			func(t *testing.T, v any, err error) {
				p := v.(*appstore.NotificationHistoryResponse)
				if err != nil || !p.HasMore || p.PaginationToken != "57715481-805a-4283-8499-1c19b5d6b20a" || len(p.NotificationHistory) != 2 ||
					p.NotificationHistory[1].SendAttempts[0].SendAttemptResult != appstore.ResultCircularRedirect ||
					!p.NotificationHistory[0].Delivered() || p.NotificationHistory[1].Delivered() {
					t.Fatalf("page %+v, err %v", p, err)
				}
			}},
		{"getAllSubscriptionStatusesResponse.json", 200,
			func(ctx context.Context, c *appstore.Client) (any, error) {
				return c.GetAllSubscriptionStatuses(ctx, "1")
			},
			func(t *testing.T, v any, err error) {
				st := v.(*appstore.StatusResponse)
				if err != nil || st.AppAppleID != 5454545 || len(st.Data) != 2 || st.Data[0].LastTransactions[1].Status != 5 {
					t.Fatalf("statuses %+v, err %v", st, err)
				}
			}},
		{"apiException.json", 500,
			func(ctx context.Context, c *appstore.Client) (any, error) { return c.GetTransactionInfo(ctx, "1") },
			wantAPIError(500, 5000000, "GeneralInternal", "An unknown error occurred.")},
		{"apiTooManyRequestsException.json", 429,
			func(ctx context.Context, c *appstore.Client) (any, error) { return c.GetTransactionInfo(ctx, "1") },
			wantAPIError(429, 4290000, "RateLimitExceeded", "Rate limit exceeded.")},
		{"apiUnknownError.json", 400,
			func(ctx context.Context, c *appstore.Client) (any, error) { return c.GetTransactionInfo(ctx, "1") },
			wantAPIError(400, 9990000, "", "Testing error.")},
		{"transactionIdNotFoundError.json", 404,
			func(ctx context.Context, c *appstore.Client) (any, error) { return c.GetTransactionInfo(ctx, "1") },
			wantAPIError(404, 4040010, "TransactionIdNotFound", "Transaction id not found.")},
		{"", 401,
			func(ctx context.Context, c *appstore.Client) (any, error) { return c.GetTransactionInfo(ctx, "1") },
			wantAPIError(401, 0, "", "")},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var body []byte
			if tt.file != "" {
				var err error
				if body, err = os.ReadFile(filepath.Join(payloadsDir, tt.file)); err != nil {
					t.Fatal(err)
				}
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
					t.Errorf("no bearer token")
				}
				w.WriteHeader(tt.status)
				if _, err := w.Write(body); err != nil {
					t.Error(err)
				}
			}))
			defer srv.Close()
			c := newClient(t, srv.URL, func(cfg *appstore.Config) { cfg.Retry.Disabled = true })
			v, err := tt.call(ctxT(t), c)
			tt.check(t, v, err)
		})
	}
}

func wantAPIError(status int, code int64, name, msg string) func(*testing.T, any, error) {
	return func(t *testing.T, _ any, err error) {
		var e *appstore.APIError
		if !errors.As(err, &e) {
			t.Fatalf("err = %v, want an APIError", err)
		}
		if e.HTTPStatus != status || e.Code != code || e.Name != name || e.Message != msg {
			t.Fatalf("APIError = %+v, want %d %d %q %q", e, status, code, name, msg)
		}
		if code != 0 && !strings.Contains(e.Error(), fmt.Sprint(code)) {
			t.Errorf("message %q does not name the code", e.Error())
		}
	}
}

// TestPrivateKeyNeverPrinted runs the client through success and every failure path with debug
// output on, and checks that neither the key nor a token appears in anything it wrote or returned.
func TestPrivateKeyNeverPrinted(t *testing.T) {
	pemBytes, err := os.ReadFile(testKeyPath)
	if err != nil {
		t.Fatal(err)
	}
	creds := testCreds(t)
	var secrets []string
	for _, line := range strings.Split(string(pemBytes), "\n") {
		if len(line) > 20 && !strings.HasPrefix(line, "-----") {
			secrets = append(secrets, line)
		}
	}
	priv := mustECDSA(t, pemBytes)
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	scalar, err := priv.Bytes() // the private scalar, big-endian
	if err != nil {
		t.Fatal(err)
	}
	d := new(big.Int).SetBytes(scalar)
	secrets = append(secrets, d.String(), fmt.Sprintf("%x", d.Bytes()), base64.StdEncoding.EncodeToString(der)[:40])

	var debug bytes.Buffer
	var outputs []string
	srv := standIn(t, appstoretest.Options{NotificationURL: "http://127.0.0.1:1/"})
	srv.InjectFaults("/inApps/v1/transactions/", appstoretest.InternalError(), appstoretest.RateLimited(time.Now().Add(time.Hour)))
	good := newClient(t, srv.URL, func(c *appstore.Config) { c.Debug = &debug })
	expired := newClient(t, srv.URL, func(c *appstore.Config) {
		c.Debug = &debug
		c.Now = func() time.Time { return time.Now().Add(-3 * time.Hour) }
	})
	ctx := ctxT(t)
	for _, call := range []func() error{
		func() error { _, err := good.RequestTestNotification(ctx); return err },
		func() error { _, err := good.GetTestNotificationStatus(ctx, "unknown"); return err },
		func() error { _, err := good.GetTransactionInfo(ctx, "1"); return err },
		func() error { _, err := expired.GetTransactionInfo(ctx, "1"); return err },
	} {
		if err := call(); err != nil {
			outputs = append(outputs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		}
	}
	outputs = append(outputs, debug.String(),
		fmt.Sprintf("%v", creds), fmt.Sprintf("%+v", creds), fmt.Sprintf("%#v", creds), fmt.Sprint(creds.Key))
	if _, err := appstore.ParsePrivateKey(pemBytes[:len(pemBytes)-40]); err != nil {
		outputs = append(outputs, err.Error())
	}
	if debug.Len() == 0 {
		t.Fatal("no debug output was produced; the test would prove nothing")
	}
	for _, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Fatalf("output contains key material %q:\n%s", s, out)
			}
		}
		if strings.Contains(out, "Bearer ") || strings.Contains(out, "eyJ") {
			t.Fatalf("output contains a token:\n%s", out)
		}
	}
}

func mustECDSA(t *testing.T, pemBytes []byte) *ecdsa.PrivateKey {
	t.Helper()
	k, err := jwt.ParseECPrivateKeyFromPEM(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNewConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*appstore.Config)
		want string
	}{
		{"missing key id", func(c *appstore.Config) { c.Credentials.KeyID = "" }, "key id"},
		{"missing key", func(c *appstore.Config) { c.Credentials.Key = nil }, "private key"},
		{"bad environment", func(c *appstore.Config) { c.Environment = "Xcode" }, "Production or Sandbox"},
		{"bad URL", func(c *appstore.Config) { c.BaseURL = "ftp://x" }, "http(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := appstore.Config{Credentials: testCreds(t)}
			tt.mod(&cfg)
			_, err := appstore.New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	for env, want := range map[decode.Environment]string{decode.EnvProduction: "https://api.storekit.apple.com", decode.EnvSandbox: "https://api.storekit-sandbox.apple.com"} {
		c, err := appstore.New(appstore.Config{Credentials: testCreds(t), Environment: env})
		if err != nil || c.BaseURL() != want {
			t.Errorf("%s: base URL %v (%v), want %s", env, c, err, want)
		}
	}
}
