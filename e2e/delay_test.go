package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// nextNotification waits for the listener's next notification event.
func (l *Listener) nextNotification(t *testing.T) map[string]any {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case e, ok := <-l.events:
			if !ok {
				t.Fatalf("listener exited: %s", l.stderr)
			}
			if e["event"] == "notification" {
				return e["capture"].(map[string]any)
			}
		case <-deadline:
			t.Fatalf("no notification event after 20s: %s", l.stderr)
		}
	}
}

// TestListenDelay: every output says how long after its signedDate a notification arrived. A
// notification send-test signs now arrives within seconds; a real Apple vector signed in 2025 and
// posted today is flagged late. JSON carries delayMs (listen --output json, captures list and
// show --json), the lines and captures show say it in words.
func TestListenDelay(t *testing.T) {
	dir := t.TempDir()
	l := StartListener(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	stRun(t, dir, "send-test", l.URL, "--type", "DID_RENEW")
	fresh := l.nextNotification(t)
	if ms, ok := fresh["delayMs"].(float64); !ok || ms <= -60000 || ms >= 60000 {
		t.Errorf("send-test's notification: delayMs %v, want within a minute either way", fresh["delayMs"])
	}

	v := RealNotifications(t)[0]
	if code, err := Post(ctx, l.URL, Body(v.JWS)); err != nil || code != 200 {
		t.Fatalf("post: %d %v", code, err)
	}
	old := l.nextNotification(t)
	received, _ := time.Parse(time.RFC3339Nano, old["receivedAt"].(string))
	signed, _ := time.Parse(time.RFC3339Nano, old["signedDate"].(string))
	want := received.Sub(signed).Milliseconds()
	if ms, _ := old["delayMs"].(float64); int64(ms) != want || want < 60000 {
		t.Errorf("the old vector: delayMs %v, want %d (received %s, signed %s)", old["delayMs"], want, received, signed)
	}
	id := int64(old["id"].(float64))

	out := stRun(t, dir, "captures", "list", "--json")
	var caps []map[string]any
	if err := json.Unmarshal(out, &caps); err != nil || len(caps) != 2 {
		t.Fatalf("captures list --json: %v\n%s", err, out)
	}
	if ms, _ := caps[0]["delayMs"].(float64); int64(ms) != want {
		t.Errorf("captures list --json: delayMs %v, want %d", caps[0]["delayMs"], want)
	}
	var shown struct {
		Capture struct {
			DelayMs *int64 `json:"delayMs"`
		} `json:"capture"`
	}
	if err := json.Unmarshal(stRun(t, dir, "captures", "show", fmt.Sprint(id), "--json"), &shown); err != nil ||
		shown.Capture.DelayMs == nil || *shown.Capture.DelayMs != want {
		t.Errorf("captures show --json: delayMs %v, want %d (%v)", shown.Capture.DelayMs, want, err)
	}
	if human := string(stRun(t, dir, "captures", "show", fmt.Sprint(id))); !strings.Contains(human, "after its signedDate: late") {
		t.Errorf("captures show does not flag the delay:\n%s", human)
	}
	// The silence: captures stats says when the last notification arrived.
	if stats := string(stRun(t, dir, "captures", "stats")); !regexp.MustCompile(`\nLast notification (just now|\d+ min ago) \(`).MatchString(stats) {
		t.Errorf("captures stats lacks the last arrival:\n%s", stats)
	}
	var st struct {
		LastReceivedAt time.Time `json:"lastReceivedAt"`
	}
	if err := json.Unmarshal(stRun(t, dir, "captures", "stats", "--json"), &st); err != nil || !st.LastReceivedAt.Equal(received) {
		t.Errorf("captures stats --json: lastReceivedAt %v, want %v (%v)", st.LastReceivedAt, received, err)
	}
	if err := l.Stop(t); err == nil || !strings.Contains(err.Error(), "130") {
		t.Fatalf("stop: %v", err)
	}

	// --output lines, on the same store: the late one says LATE, the fresh one only its delay.
	port := FreePort(t)
	cmd := exec.CommandContext(ctx, Binary, "listen", "--output", "lines", "--addr", fmt.Sprintf("127.0.0.1:%d", port))
	cmd.Env = Env(dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	if err := WaitHTTP(ctx, url); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 8)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	if code, err := Post(ctx, url, Body(v.JWS)); err != nil || code != 200 {
		t.Fatalf("post: %d %v", code, err)
	}
	stRun(t, dir, "send-test", url, "--type", "DID_RENEW")
	for _, want := range []string{"LATE", "delay "} {
		select {
		case line := <-lines:
			if !strings.Contains(line, "delay ") || !strings.Contains(line, want) {
				t.Errorf("line %q lacks %q", line, want)
			}
			if want == "delay " && strings.Contains(line, "LATE") {
				t.Errorf("a fresh notification is flagged late: %q", line)
			}
		case <-ctx.Done():
			t.Fatal("no line printed")
		}
	}
}
