package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// sentTo runs a bare `s2s send-test --json` and returns the URL it sent to and its stderr.
func sentTo(t *testing.T, dir string) (string, string) {
	t.Helper()
	out, stderr, code := stRunCode(t, dir, "send-test", "--type", "DID_RENEW", "--json")
	if code != 0 {
		t.Fatalf("send-test: exit %d\n%s%s", code, out, stderr)
	}
	var line struct {
		URL string `json:"url"`
		OK  bool   `json:"ok"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &line); err != nil || !line.OK {
		t.Fatalf("send-test --json %q: %v", out, err)
	}
	return line.URL, stderr
}

// With a hub and two listeners fed by it, a bare send-test goes to the hub (where Apple's
// notifications enter) and names the others; once the hub and the later listener stop, it still
// finds the first listener (with one state file, the last writer's removal left nothing).
func TestSendTestFindsRunningListeners(t *testing.T) {
	dir := t.TempDir()
	h := startReceiver(t, dir, "hub", "--nats-listen", "127.0.0.1:0", "--store", filepath.Join(dir, "hub", "captures.db"))
	hubURL, _ := h.Ready["hub"].(string)
	a := StartListener(t, dir, "--store", filepath.Join(dir, "a", "captures.db"), "--hub", hubURL, "--name", "alice")
	b := StartListener(t, dir, "--store", filepath.Join(dir, "b", "captures.db"), "--hub", hubURL, "--name", "bob")
	defer func() { _ = a.Stop(t) }()

	got, stderr := sentTo(t, dir)
	if got != h.URL {
		t.Fatalf("bare send-test went to %s, want the hub %s\n%s", got, h.URL, stderr)
	}
	if !strings.Contains(stderr, a.URL) || !strings.Contains(stderr, b.URL) || !strings.Contains(stderr, "give a URL") {
		t.Errorf("stderr does not name the other listeners and how to choose:\n%s", stderr)
	}

	_ = h.Stop(t)
	if got, stderr = sentTo(t, dir); got != b.URL || !strings.Contains(stderr, a.URL) {
		t.Fatalf("without the hub: sent to %s, want the most recent listener %s\n%s", got, b.URL, stderr)
	}
	_ = b.Stop(t)
	if got, stderr = sentTo(t, dir); got != a.URL || stderr != "" {
		t.Fatalf("with only alice left: sent to %s, want %s; stderr %q", got, a.URL, stderr)
	}
}
