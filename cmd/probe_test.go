package cmd

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/appstore/appstoretest"
	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/probe"
)

// probeServer is an HTTPS server on loopback with its certificate written as a PEM file for --ca.
func probeServer(t *testing.T, h http.HandlerFunc) (url, caFile string) {
	t.Helper()
	s := httptest.NewTLSServer(h)
	t.Cleanup(s.Close)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	return s.URL, caFile
}

func TestProbeCommand(t *testing.T) {
	okURL, ca := probeServer(t, func(w http.ResponseWriter, r *http.Request) {})
	failURL, _ := probeServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout []string
	}{
		{"success", []string{"probe", okURL + "/apple", "--ca", ca}, 0,
			[]string{"Probing " + okURL + "/apple\n", "  ✓ TLS handshake", "  ! Certificate chain", "Verdict: SUCCESS  ", "warnings above: Apple would deliver"}},
		{"failure with retries", []string{"probe", failURL + "/apple", "--ca", ca, "--retries", "1"}, 3,
			[]string{"  ✗ POST", "fix: A proxy, load balancer or tunnel could not get an answer", "Verdict: UNSUCCESSFUL_HTTP_RESPONSE_CODE (HTTP 503)",
				"Reason:  the server answered 503 Service Unavailable", "Attempts: UNSUCCESSFUL_HTTP_RESPONSE_CODE (503), UNSUCCESSFUL_HTTP_RESPONSE_CODE (503)"}},
		{"json", []string{"probe", okURL + "/apple", "--ca", ca, "--json"}, 0, []string{`"verdict": "SUCCESS"`, `"meaning": "Your server answered with an HTTP 2xx status`}},
		{"bad retries", []string{"probe", okURL, "--retries", "-2"}, 2, nil},
		// --environment reads environments as decode, listen and the filters do.
		{"environment as typed", []string{"probe", okURL + "/apple", "--ca", ca, "--environment", "prod"}, 0, []string{"Verdict: SUCCESS  "}},
		{"environment Apple does not deliver from", []string{"probe", okURL, "--environment", "Xcode"}, 2, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newSendTestEnv(t)
			code, stdout, stderr := e.run(tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, stdout, stderr)
			}
			for _, want := range tc.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			if strings.Contains(stdout, "\x1b[") {
				t.Error("colour without a terminal")
			}
		})
	}
}

func TestProbeHelpNamesItsOwnFlags(t *testing.T) {
	// The credential flags are shared with send-test, whose switch is --apple; probe has none.
	u := newProbeCmd(&Factory{}, nil).Flags().Lookup("apple-wait").Usage
	if !strings.Contains(u, "--via-apple") {
		t.Errorf("--apple-wait usage %q should name probe's --via-apple", u)
	}
}

func TestWriteProbeReport(t *testing.T) {
	r := &probe.Report{
		URL: "https://example.com/apple", Verdict: probe.TLSIssue, Meaning: probe.TLSIssue.Meaning(),
		Reason: "the certificate expired", Fix: "Renew it.",
		Steps: []probe.Step{
			{Name: "url", Title: "URL", Status: probe.StatusOK, Detail: "https, host example.com"},
			{Name: "dns", Title: "DNS", Status: probe.StatusOK, Duration: probe.Duration(12 * time.Millisecond), Detail: "93.184.216.34"},
			{Name: "validity", Title: "Validity", Status: probe.StatusFail, Detail: "the certificate expired", Fix: "Renew it."},
		},
		Attempts: []probe.Attempt{{Verdict: probe.TLSIssue}},
	}
	var plain, colored bytes.Buffer
	writeProbeReport(&plain, r, false)
	writeProbeReport(&colored, r, true)
	want := "Probing https://example.com/apple\n\n" +
		"  ✓ URL                 https, host example.com\n" +
		"  ✓ DNS           12ms  93.184.216.34\n" +
		"  ✗ Validity            the certificate expired\n" +
		"                        fix: Renew it.\n" +
		"\nVerdict: TLS_ISSUE  " + probe.TLSIssue.Meaning() + "\n" +
		"Reason:  the certificate expired\nFix:     Renew it.\n"
	if plain.String() != want {
		t.Errorf("plain report:\n%s\nwant:\n%s", plain.String(), want)
	}
	st := newProbeStyles(true)
	if !strings.Contains(colored.String(), "\x1b[") || !strings.Contains(colored.String(), st.bad.Render("✗")) || !strings.Contains(colored.String(), st.ok.Render("✓")) {
		t.Errorf("coloured report lacks coloured marks:\n%q", colored.String())
	}
}

func TestAppleComparison(t *testing.T) {
	ok := &probe.Report{Verdict: probe.Success}
	bad := &probe.Report{Verdict: probe.UnsuccessfulHTTPResponseCode}
	cases := []struct {
		name  string
		local *probe.Report
		apple appleProbeResult
		want  string
	}{
		{"agree", ok, appleProbeResult{Result: "SUCCESS", BundleID: "com.example", Environment: "Sandbox"}, "They agree."},
		{"Apple delivered", bad, appleProbeResult{Result: "SUCCESS"}, "They differ: Apple delivered"},
		{"Apple failed", ok, appleProbeResult{Result: "TLS_ISSUE"}, "They differ: check that the probed URL"},
		{"Apple unreachable", ok, appleProbeResult{Error: "401 Unauthorized"}, "Apple:        (no result: 401 Unauthorized)"},
	}
	for _, tc := range cases {
		var b bytes.Buffer
		writeAppleComparison(&b, tc.local, &tc.apple)
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("%s: %q lacks %q", tc.name, b.String(), tc.want)
		}
	}
	// --via-apple --json puts Apple's result beside the report's own fields.
	b, err := json.Marshal(probeJSON{Report: ok, Apple: &appleProbeResult{Result: "SUCCESS", BundleID: "com.example", Environment: "Sandbox"}})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["verdict"] != "SUCCESS" || m["apple"].(map[string]any)["sendAttemptResult"] != "SUCCESS" {
		t.Errorf("JSON %s", b)
	}
}

// TestProbeViaApple runs --via-apple against the stand-in of the App Store Server API, which
// delivers its TEST notification to a receiver whose answer the test sets.
func TestProbeViaApple(t *testing.T) {
	localURL, ca := probeServer(t, func(w http.ResponseWriter, r *http.Request) {})
	cases := []struct {
		name          string
		appleReceiver int32 // what the receiver Apple delivers to answers; 0 is 200
		json          bool
		code          int
		want          []string
	}{
		{"both succeed", 0, false, 0, []string{"Verdict: SUCCESS", "Attempt 1  ", "Local probe:  SUCCESS", "Apple:        SUCCESS  (to the URL configured in App Store Connect for com.example.s2s, Sandbox)", "They agree."}},
		{"Apple's delivery fails", 503, false, 3, []string{"Local probe:  SUCCESS", "Apple:        UNSUCCESSFUL_HTTP_RESPONSE_CODE", "They differ: check that the probed URL"}},
		{"json", 0, true, 0, []string{`"verdict": "SUCCESS"`, `"apple": {`, `"sendAttemptResult": "SUCCESS"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newAppleEnv(t, appstoretest.Options{})
			e.status.Store(tc.appleReceiver)
			args := []string{"probe", localURL + "/apple", "--ca", ca, "--via-apple", "--bundle-id", appleTestBundleID}
			if tc.json {
				args = append(args, "--json")
			}
			code, stdout, stderr := e.run(args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			if tc.json {
				var m map[string]any
				if err := json.Unmarshal([]byte(stdout), &m); err != nil {
					t.Errorf("--json output is not one JSON document: %v", err)
				}
			}
			if e.received.Load() != 1 {
				t.Errorf("Apple's stand-in delivered %d notifications, want 1", e.received.Load())
			}
		})
	}
}

// The answer of a real-time endpoint is remote text: printed terminal-safe, and bytes that are not
// UTF-8 only counted (the JSON report carries them, base64).
func TestWriteProbeRealtimeAnswer(t *testing.T) {
	for _, tc := range []struct {
		body []byte
		want string
	}{
		{[]byte("{\"message\":{\"messageIdentifier\":\"m\"},\"x\":\"\x1b]0;t\x07\x1b[2J\"}"), `"messageIdentifier":"m"`},
		{[]byte("\xff\xfe\x1b[2J"), "6 bytes that are not UTF-8 text"},
	} {
		var b strings.Builder
		writeProbeRealtimeAnswer(&b, &probe.RealtimeAnswer{AnswerJSON: decode.NewAnswerJSON(tc.body)})
		if out := b.String(); strings.ContainsAny(out, "\x1b\x07") || !strings.Contains(out, tc.want) {
			t.Errorf("%q printed as %q", tc.body, out)
		}
	}
}
