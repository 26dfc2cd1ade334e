package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/fixtures"
)

// TestDecodeRealtimeRequest: s2s decode verifies an Apple-shaped Retention Messaging real-time
// request (the body Apple posts to a Get Retention Message endpoint) and says what it is.
func TestDecodeRealtimeRequest(t *testing.T) {
	dir := t.TempDir()
	chain, err := fixtures.LoadOrCreateChain(filepath.Join(dir, ".s2s-config"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := chain.RealtimeRequest(fixtures.Overrides{Environment: "Production", Sets: []string{"userLocale=ja-JP"}})
	if err != nil {
		t.Fatal(err)
	}
	body := filepath.Join(dir, "realtime.json")
	if err := os.WriteFile(body, r.Body, 0o600); err != nil {
		t.Fatal(err)
	}
	out := stRun(t, dir, "decode", "--root", chain.RootPath(), "--environment", "Production", "--app-apple-id", "6450000001", body)
	if !strings.Contains(string(out), "realtime-request  Production") || !strings.Contains(string(out), "locale=ja-JP") || !strings.Contains(string(out), "simulated") {
		t.Errorf("decode:\n%s", out)
	}
	var j struct {
		Summary struct {
			Kind              string `json:"kind"`
			Label             string `json:"label"`
			RequestIdentifier string `json:"requestIdentifier"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(stRun(t, dir, "decode", "--json", "--root", chain.RootPath(), body), &j); err != nil {
		t.Fatal(err)
	}
	if j.Summary.Kind != "realtime-request" || j.Summary.Label != "simulated" || j.Summary.RequestIdentifier != r.RequestIdentifier {
		t.Errorf("decode --json summary: %+v", j.Summary)
	}
	// Another app in Production: invalid/identity, exit 3, as Apple's verifyAndDecodeRealtimeRequest.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary, "decode", "--root", chain.RootPath(), "--environment", "Production", "--app-apple-id", "6450000002", body)
	cmd.Env = Env(dir)
	got, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 || !strings.Contains(string(got), "appAppleId 6450000001, not 6450000002") {
		t.Errorf("decode for another app: %v\n%s", err, got)
	}
}
