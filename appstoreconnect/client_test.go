package appstoreconnect_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/appstoreconnect"
	"github.com/s2s-dev/s2s/appstoreconnect/appstoreconnecttest"
	"github.com/s2s-dev/s2s/decode"
)

const (
	keyID  = "ASCKEY1234"
	issuer = "69a6de7e-0000-47e3-e053-5b8c7c11a4d1"
)

func newKey(t *testing.T) *appstore.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := appstore.NewPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

func setup(t *testing.T, apps ...appstoreconnecttest.App) (*appstoreconnecttest.Server, *appstoreconnect.Client, *appstore.PrivateKey) {
	t.Helper()
	key := newKey(t)
	srv := appstoreconnecttest.Start(t, appstoreconnecttest.Options{KeyID: keyID, IssuerID: issuer, PublicKey: key.Public(), Apps: apps})
	c, err := appstoreconnect.New(appstoreconnect.Config{
		Credentials: appstoreconnect.Credentials{KeyID: keyID, IssuerID: issuer, Key: key},
		BaseURL:     srv.URL,
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, key
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

var (
	widget = appstoreconnecttest.App{ID: "100", BundleID: "com.example.app.widget", SandboxURL: "https://widget.example.com/n", SandboxVersion: "V2"}
	app    = appstoreconnecttest.App{ID: "200", BundleID: "com.example.app", Name: "Example",
		ProductionURL: "https://api.example.com/apple", ProductionVersion: "V2"}
)

func TestFindAppKeepsTheExactBundleID(t *testing.T) {
	_, c, _ := setup(t, widget, app)
	a, err := c.FindApp(ctx(t), "com.example.app")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "200" || a.BundleID != "com.example.app" || a.Production.URL != "https://api.example.com/apple" ||
		a.Production.Version != "V2" || a.Sandbox.URL != "" || a.Sandbox.Version != "" {
		t.Errorf("FindApp = %+v", a)
	}
	_, err = c.FindApp(ctx(t), "com.example")
	var nf *appstoreconnect.AppNotFoundError
	if !errors.As(err, &nf) || len(nf.Similar) != 2 || !strings.Contains(err.Error(), "com.example.app.widget") {
		t.Errorf("FindApp of a prefix = %v", err)
	}
}

func TestSetNotificationURLAndNull(t *testing.T) {
	srv, c, _ := setup(t, app)
	a, err := c.SetNotificationURL(ctx(t), "200", decode.EnvSandbox, appstoreconnect.NotificationURL{URL: "https://tunnel.example/", Version: "V2"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Sandbox.URL != "https://tunnel.example/" || a.Sandbox.Version != "V2" || a.Production.URL != app.ProductionURL {
		t.Errorf("after set: %+v", a)
	}
	if _, err := c.SetNotificationURL(ctx(t), "200", decode.EnvSandbox, appstoreconnect.NotificationURL{}); err != nil {
		t.Fatal(err)
	}
	got, _ := srv.App("200")
	if got.SandboxURL != "" || got.SandboxVersion != "" || got.ProductionURL != app.ProductionURL {
		t.Errorf("after null: %+v", got)
	}
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	if v, ok := last.Attributes["subscriptionStatusUrlForSandbox"]; !ok || v != nil {
		t.Errorf("restore sent %s, want the sandbox URL as null", last.Body)
	}
	if _, ok := last.Attributes["subscriptionStatusUrl"]; ok {
		t.Errorf("a sandbox change touched the production URL: %s", last.Body)
	}
}

func TestErrorsSayWhatToDo(t *testing.T) {
	srv, c, _ := setup(t, app)
	_, err := c.SetNotificationURL(ctx(t), "200", decode.EnvSandbox, appstoreconnect.NotificationURL{URL: "http://insecure.example/", Version: "V2"})
	if err == nil || !strings.Contains(err.Error(), "HTTP 409") || !strings.Contains(err.Error(), "ENTITY_ERROR.ATTRIBUTE.INVALID") ||
		!strings.Contains(err.Error(), "https") {
		t.Errorf("http URL: %v", err)
	}
	srv.InjectFaults(http.MethodPatch, appstoreconnecttest.Forbidden())
	_, err = c.SetNotificationURL(ctx(t), "200", decode.EnvSandbox, appstoreconnect.NotificationURL{URL: "https://a.example/"})
	if !appstoreconnect.IsForbidden(err) || !strings.Contains(err.Error(), "App Manager") {
		t.Errorf("403: %v", err)
	}
	srv.InjectFaults("", appstoreconnecttest.Fault{Status: 422, Code: "X\x1b[31mRED", Detail: "bad\x07"})
	_, err = c.GetApp(ctx(t), "200")
	if err == nil || strings.ContainsAny(err.Error(), "\x1b\x07") {
		t.Errorf("Apple's text reached the message raw: %q", err)
	}
}

func TestTokenCheckedLikeApple(t *testing.T) {
	srv, _, _ := setup(t, app)
	other := newKey(t)
	for name, cfg := range map[string]appstoreconnect.Config{
		"wrong key":    {Credentials: appstoreconnect.Credentials{KeyID: keyID, IssuerID: issuer, Key: other}},
		"wrong kid":    {Credentials: appstoreconnect.Credentials{KeyID: "OTHER", IssuerID: issuer, Key: other}},
		"wrong issuer": {Credentials: appstoreconnect.Credentials{KeyID: keyID, IssuerID: "x", Key: other}},
		"old clock":    {Credentials: appstoreconnect.Credentials{KeyID: keyID, IssuerID: issuer, Key: other}, Now: func() time.Time { return time.Now().Add(-time.Hour) }},
	} {
		cfg.BaseURL = srv.URL
		c, err := appstoreconnect.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.FindApp(ctx(t), "com.example.app")
		if !appstoreconnect.IsUnauthorized(err) || !strings.Contains(err.Error(), "clock") || !strings.Contains(err.Error(), "issuer ID") {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, r := range srv.Requests() {
		if r.AuthError == "" {
			t.Errorf("a request with a bad token was accepted: %+v", r)
		}
	}
}

func TestTokenLifetimeAtMost20Minutes(t *testing.T) {
	key := newKey(t)
	srv := appstoreconnecttest.Start(t, appstoreconnecttest.Options{KeyID: keyID, IssuerID: issuer, PublicKey: key.Public(), Apps: []appstoreconnecttest.App{app}})
	c, err := appstoreconnect.New(appstoreconnect.Config{
		Credentials: appstoreconnect.Credentials{KeyID: keyID, IssuerID: issuer, Key: key}, BaseURL: srv.URL,
		TokenLifetime: time.Hour, // capped, or Apple (and the stand-in) refuse it
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.FindApp(ctx(t), "com.example.app"); err != nil {
		t.Fatal(err)
	}
}

// TestAnswersReadWithExactKeys: Go's decoder would take "BundleId" for bundleId; Apple's answer is
// read with exact keys, and an ambiguous one (a key twice, or a key differing only by case) is
// refused.
func TestAnswersReadWithExactKeys(t *testing.T) {
	for name, tc := range map[string]struct {
		body, want string
	}{
		"case":      {`{"data":[{"type":"apps","id":"1","attributes":{"BundleId":"com.example.app"}}]}`, `differs from "bundleId" only by case`},
		"duplicate": {`{"data":[{"type":"apps","id":"1","attributes":{"bundleId":"com.other","bundleId":"com.example.app"}}]}`, "twice"},
		"type":      {`{"data":[{"type":"users","id":"1","attributes":{"bundleId":"com.example.app"}}]}`, "where an app was expected"},
		"trailing":  {`{"data":[]} {}`, "not valid JSON"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, tc.body) }))
		c, err := appstoreconnect.New(appstoreconnect.Config{
			Credentials: appstoreconnect.Credentials{KeyID: keyID, IssuerID: issuer, Key: newKey(t)}, BaseURL: srv.URL,
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.FindApp(ctx(t), "com.example.app")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
		srv.Close()
	}
}

func TestKeyNeverFormatted(t *testing.T) {
	key := newKey(t)
	cr := appstoreconnect.Credentials{KeyID: keyID, IssuerID: issuer, Key: key}
	for _, s := range []string{fmt.Sprintf("%v", cr), fmt.Sprintf("%+v", cr), fmt.Sprintf("%#v", cr)} {
		if !strings.Contains(s, "REDACTED") {
			t.Errorf("credentials formatted as %s", s)
		}
	}
}
