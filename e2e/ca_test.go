package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// devCAServer is a local HTTPS server whose certificate a development CA, minted by the test and
// unknown to the system, signed: what a developer's own server looks like with mkcert.
type devCAServer struct {
	URL    string
	CAFile string
	hits   atomic.Int32
}

func startDevCAServer(t *testing.T, dir string) *devCAServer {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "s2s e2e development CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	s := &devCAServer{CAFile: filepath.Join(dir, "dev-ca.pem")}
	if err := os.WriteFile(s.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/apple"
	return s
}

// s2sIn runs the binary in dir with extra environment and returns its exit code and output.
func s2sIn(t *testing.T, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary, args...)
	cmd.Env = append(Env(dir), env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String(), errOut.String()
	case err != nil:
		t.Fatalf("s2s %v: %v", args, err)
	}
	return 0, out.String(), errOut.String()
}

// TestDevelopmentCA: send-test, replay and listen --forward-to reach a local HTTPS server whose CA
// only the user trusts, with --ca FILE or S2S_CA_FILE; without it they fail and say so.
func TestDevelopmentCA(t *testing.T) {
	dir := t.TempDir()
	dev := startDevCAServer(t, dir)

	t.Run("send-test", func(t *testing.T) {
		code, _, stderr := s2sIn(t, dir, nil, "send-test", dev.URL)
		if code != 1 || !strings.Contains(stderr, "TLS_ISSUE") || !strings.Contains(stderr, "--ca FILE") || !strings.Contains(stderr, "S2S_CA_FILE") {
			t.Errorf("without --ca: exit %d, stderr %s", code, stderr)
		}
		if code, _, stderr := s2sIn(t, dir, nil, "send-test", dev.URL, "--ca", dev.CAFile); code != 0 {
			t.Errorf("with --ca: exit %d, stderr %s", code, stderr)
		}
		if code, _, stderr := s2sIn(t, dir, []string{"S2S_CA_FILE=" + dev.CAFile}, "send-test", dev.URL); code != 0 {
			t.Errorf("with S2S_CA_FILE: exit %d, stderr %s", code, stderr)
		}
	})

	t.Run("listen --forward-to", func(t *testing.T) {
		ldir := t.TempDir()
		l := StartListener(t, ldir, "--forward-to", dev.URL, "--forward-retries", "none")
		if code, _, stderr := s2sIn(t, ldir, nil, "send-test", l.URL); code != 0 {
			t.Fatalf("send-test to the listener: exit %d: %s", code, stderr)
		}
		d := fwdDelivery(waitFwdEvent(t, l, func(e map[string]any) bool { return fwdDelivery(e) != nil }))
		if d["state"] == "succeeded" || !strings.Contains(fmt.Sprint(d["error"]), "--ca FILE") {
			t.Errorf("without --ca: delivery %v", d)
		}
		l.Kill()

		for name, setup := range map[string]func() []string{
			"--ca":        func() []string { return []string{"--ca", dev.CAFile} },
			"S2S_CA_FILE": func() []string { t.Setenv("S2S_CA_FILE", dev.CAFile); return nil },
		} {
			l := StartListener(t, t.TempDir(), append([]string{"--forward-to", dev.URL, "--forward-retries", "none"}, setup()...)...)
			if code, _, stderr := s2sIn(t, l.Dir, nil, "send-test", l.URL); code != 0 {
				t.Fatalf("%s: send-test to the listener: exit %d: %s", name, code, stderr)
			}
			if d := fwdDelivery(waitFwdEvent(t, l, func(e map[string]any) bool { return fwdDelivery(e) != nil })); d["state"] != "succeeded" {
				t.Errorf("with %s: delivery %v", name, d)
			}
			l.Kill()
		}
	})

	t.Run("replay", func(t *testing.T) {
		rdir := t.TempDir()
		l := StartListener(t, rdir)
		if code, _, stderr := s2sIn(t, rdir, nil, "send-test", l.URL); code != 0 {
			t.Fatalf("send-test to the listener: exit %d: %s", code, stderr)
		}
		l.Kill()
		code, _, stderr := s2sIn(t, rdir, nil, "replay", "1", "--to", dev.URL)
		if code != 1 || !strings.Contains(stderr, "--ca FILE") {
			t.Errorf("without --ca: exit %d, stderr %s", code, stderr)
		}
		if code, _, stderr := s2sIn(t, rdir, nil, "replay", "1", "--to", dev.URL, "--ca", dev.CAFile); code != 0 {
			t.Errorf("with --ca: exit %d, stderr %s", code, stderr)
		}
		if code, _, stderr := s2sIn(t, rdir, []string{"S2S_CA_FILE=" + dev.CAFile}, "replay", "1", "--to", dev.URL); code != 0 {
			t.Errorf("with S2S_CA_FILE: exit %d, stderr %s", code, stderr)
		}
	})
}
