package cmd

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/appstoreconnect/appstoreconnecttest"
)

// connectTestEnv starts a stand-in of the App Store Connect API with one app and returns it with
// a Factory whose streams are terminals and whose environment points at it.
func connectTestEnv(t *testing.T, stdin string) (*appstoreconnecttest.Server, *Factory, *strings.Builder, *strings.Builder) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "AuthKey.p8")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := appstoreconnecttest.Start(t, appstoreconnecttest.Options{KeyID: "K1", IssuerID: "I1", PublicKey: &k.PublicKey,
		Apps: []appstoreconnecttest.App{{ID: "7", BundleID: "com.example.app", ProductionURL: "https://api.example.com/apple", ProductionVersion: "V2"}}})
	vars := map[string]string{
		"HOME": dir, "S2S_STATE_DIR": filepath.Join(dir, "state"), "S2S_CONFIG_DIR": filepath.Join(dir, "config"),
		envASCURL: srv.URL, envASCKeyID: "K1", envASCIssuerID: "I1", envASCPrivateKey: keyPath,
	}
	out, errOut := &strings.Builder{}, &strings.Builder{}
	ios := &IOStreams{In: strings.NewReader(stdin), Out: out, ErrOut: errOut}
	ios.SetTTY(true, true, true)
	f := &Factory{IO: ios, Getenv: func(k string) string { return vars[k] }, Now: time.Now,
		HTTPClient: func() *http.Client { return &http.Client{Timeout: 10 * time.Second} }}
	return srv, f, out, errOut
}

// TestConnectSetProductionAsks: on a terminal, Production changes only after a yes to a question
// that shows the old and the new URL.
func TestConnectSetProductionAsks(t *testing.T) {
	for _, tc := range []struct {
		answer string
		code   int
		want   string
	}{
		{"n\n", ExitError, "https://api.example.com/apple"},
		{"\n", ExitError, "https://api.example.com/apple"},
		{"yes\n", ExitOK, "https://new.example.com/apple"},
	} {
		srv, f, out, errOut := connectTestEnv(t, tc.answer)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		code := run(ctx, f, []string{"connect", "set", "https://new.example.com/apple", "--bundle-id", "com.example.app", "--environment", "Production"})
		cancel()
		if code != tc.code {
			t.Errorf("answer %q: exit %d, want %d; stderr %s", tc.answer, code, tc.code, errOut)
		}
		q := errOut.String()
		if !strings.Contains(q, "Change the Production notification URL of com.example.app?") ||
			!strings.Contains(q, "now  https://api.example.com/apple (V2)") || !strings.Contains(q, "new  https://new.example.com/apple (V2)") {
			t.Errorf("answer %q: the question was %q", tc.answer, q)
		}
		if a, _ := srv.App("7"); a.ProductionURL != tc.want || a.SandboxURL != "" {
			t.Errorf("answer %q: app now %+v; stdout %s", tc.answer, a, out)
		}
	}
}

func TestListenConnectFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--connect", "com.example.app"}, "--connect needs a public URL"},
		{[]string{"--public-url", "https://a.example/", "--tunnel=ssh"}, "use one or the other"},
		{[]string{"--public-url", "ftp://a.example/"}, `--public-url "ftp://a.example/"`},
		{[]string{"--public-url", "https://a.example/", "--connect", "com/example"}, "is not a bundle ID"},
	} {
		code, _, stderr := runArgs(t, append([]string{"listen", "--output", "json", "--addr", "127.0.0.1:0"}, tc.args...)...)
		if code != ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("listen %v: exit %d, %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}
