package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCmds["tlsserver"] = cmdTLSServer
}

// probeTestPKI is a CA and a certificate for 127.0.0.1 and localhost, minted once per test binary.
var probeTestPKI = sync.OnceValues(func() (caPEM []byte, cert tls.Certificate) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "s2s e2e test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		panic(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(12 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
})

// startProbeServer starts an HTTPS server on loopback that answers in the given mode:
// ok (200 and records the request), notfound (404), redirect (a loop), tls11 (TLS 1.1 only),
// hang (never answers until the test ends), message (a valid real-time answer) or badanswer (an
// invalid one with terminal escapes). It returns the URL and a stop function.
func startProbeServer(mode string, got *receivedRequest) (string, func(), error) {
	_, cert := probeTestPKI()
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if got != nil {
			got.set(r, body)
		}
		switch mode {
		case "notfound":
			http.NotFound(w, r)
		case "redirect":
			http.Redirect(w, r, r.URL.Path, http.StatusTemporaryRedirect)
		case "hang":
			<-release
		case "message": // a Get Retention Message endpoint with a valid answer
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, realtimeMessage)
		case "badanswer": // one with an answer Apple cannot use, hostile to terminals
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, realtimeHostile)
		case "gzipanswer": // a valid answer, compressed although nobody asked for it
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			_, _ = io.WriteString(zw, realtimeMessage)
			_ = zw.Close()
		case "rtredirect": // a redirect to a path that answers a valid message
			if r.URL.Path == "/final" {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, realtimeMessage)
				return
			}
			http.Redirect(w, r, "/final", http.StatusTemporaryRedirect)
		}
	})
	s := httptest.NewUnstartedServer(mux)
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	if mode == "tls11" {
		s.TLS.MinVersion, s.TLS.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	}
	s.StartTLS()
	return s.URL, func() { close(release); s.Close() }, nil
}

type receivedRequest struct {
	mu          sync.Mutex
	method, ct  string
	body        []byte
	probeHeader string
}

func (r *receivedRequest) set(req *http.Request, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.method, r.ct, r.body, r.probeHeader = req.Method, req.Header.Get("Content-Type"), body, req.Header.Get("X-S2S-Probe")
}

// tlsserver NAME MODE: starts an HTTPS test server (see startProbeServer), sets $NAME to its URL
// and writes the CA that signed its certificate to ca.pem in the work directory.
func cmdTLSServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: tlsserver NAME ok|notfound|redirect|tls11|hang|message|badanswer")
	}
	caPEM, _ := probeTestPKI()
	ts.Check(os.WriteFile(ts.MkAbs("ca.pem"), caPEM, 0o644))
	url, stop, err := startProbeServer(args[1], nil)
	ts.Check(err)
	ts.Defer(stop)
	ts.Setenv(args[0], url)
}

// TestProbeExitCodes runs the real binary against servers built to pass and to fail, and checks
// the documented exit codes and what the server received.
func TestProbeExitCodes(t *testing.T) {
	dir := t.TempDir()
	caPEM, _ := probeTestPKI()
	caFile, notPEM := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "not.pem")
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var got receivedRequest
	okURL, stop, _ := startProbeServer("ok", &got)
	t.Cleanup(stop)
	nfURL, stop2, _ := startProbeServer("notfound", nil)
	t.Cleanup(stop2)

	cases := []struct {
		name     string
		args     []string
		exit     int
		verdict  string
		stderrRe string
	}{
		{"success", []string{"probe", okURL + "/apple", "--ca", caFile, "--json"}, 0, "SUCCESS", ""},
		{"not trusted without --ca", []string{"probe", okURL + "/apple", "--json"}, 3, "TLS_ISSUE", ""},
		{"404", []string{"probe", nfURL + "/apple", "--ca", caFile, "--json"}, 3, "UNSUCCESSFUL_HTTP_RESPONSE_CODE", ""},
		{"http URL", []string{"probe", "http://127.0.0.1:9/apple", "--json"}, 3, "TLS_ISSUE", ""},
		{"missing CA file", []string{"probe", okURL, "--ca", filepath.Join(dir, "nope.pem")}, 1, "", "nope.pem"},
		{"CA file without a certificate", []string{"probe", okURL, "--ca", notPEM}, 1, "", "no PEM CERTIFICATE block"},
		{"bad timeout", []string{"probe", okURL, "--timeout", "-1s"}, 2, "", "--timeout"},
		{"bad environment", []string{"probe", okURL, "--environment", "Staging"}, 2, "", "Sandbox or Production"},
		{"via-apple without bundle", []string{"probe", okURL, "--via-apple"}, 2, "", "--bundle-id"},
		{"no URL", []string{"probe"}, 2, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, Binary, tc.args...)
			cmd.Env = Env(dir)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.exit {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.exit, stdout.String(), stderr.String())
			}
			if tc.verdict != "" {
				var r struct {
					Verdict string `json:"verdict"`
					Steps   []struct{ Name, Status string }
				}
				if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
					t.Fatalf("stdout is not JSON: %v\n%s", err, stdout.String())
				}
				if r.Verdict != tc.verdict || len(r.Steps) == 0 {
					t.Errorf("verdict %s, want %s", r.Verdict, tc.verdict)
				}
			}
			if !strings.Contains(stderr.String(), tc.stderrRe) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.stderrRe)
			}
		})
	}

	got.mu.Lock()
	defer got.mu.Unlock()
	if got.method != "POST" || got.ct != "application/json" || got.probeHeader != "1" {
		t.Fatalf("server got %s %q (X-S2S-Probe %q)", got.method, got.ct, got.probeHeader)
	}
	// The body is a TEST notification signed by the local chain, in Apple's shape.
	var body struct {
		SignedPayload string `json:"signedPayload"`
	}
	if err := json.Unmarshal(got.body, &body); err != nil || strings.Count(body.SignedPayload, ".") != 2 {
		t.Fatalf("body %q is not {\"signedPayload\":JWS}", got.body)
	}
	decode := exec.Command(Binary, "decode", "--json", "--root", filepath.Join(dir, ".s2s-config", "test-chain", "root.pem"), body.SignedPayload)
	decode.Env = Env(dir)
	out, err := decode.Output()
	if err != nil {
		t.Logf("decode of the probe's body could not run (%v); checking the payload by hand", err)
		return
	}
	if !bytes.Contains(out, []byte(`"TEST"`)) {
		t.Errorf("decoded body is not a TEST notification: %s", out)
	}
}
