package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestReplayTakesOverListensRetry follows the "target down" hint through the real binaries:
// listen forwards to a server that answers and to one that is down; the second comes up and
// `s2s replay N` (another process) delivers there exactly once, taking over listen's pending
// retry in the store, and skips the target that already accepted; --all-targets sends to both.
func TestReplayTakesOverListensRetry(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	up := startFwdTarget(t, nil, http.StatusOK)
	downAddr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	down := "http://" + downAddr + "/apple"
	l := StartListener(t, dir, "--forward-to", up.URL+"/apple", "--forward-to", down, "--forward-retries", "1h")
	body := Body(RealNotifications(t)[4].JWS)
	if code, err := Post(ctx, l.URL, body); err != nil || code != 200 {
		t.Fatalf("post: %d %v", code, err)
	}
	<-up.bodies
	// The hint says what will happen: the retry delivers once the server is back, and a replay
	// is the sooner way, once.
	d := fwdDelivery(waitFwdEvent(t, l, func(e map[string]any) bool {
		d := fwdDelivery(e)
		return d != nil && d["target"] == down
	}))
	hint := fmt.Sprint(d["error"])
	if d["state"] != "pending" || !strings.Contains(hint, "retry 1 of 1 at ") || !strings.Contains(hint, "start your server and that retry delivers it") ||
		!strings.Contains(hint, "run s2s replay 1 to deliver it sooner, once") {
		t.Fatalf("the hint does not say what will happen: %v", d)
	}

	ln, err := net.Listen("tcp", downAddr)
	if err != nil {
		t.Skipf("port %s was taken meanwhile: %v", downAddr, err)
	}
	back := startFwdTarget(t, ln, http.StatusOK)

	replay := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, Binary, append([]string{"replay"}, args...)...)
		cmd.Env = Env(dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("s2s replay %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	// The replay process has exited, so whatever it sent has arrived.
	out := replay("1")
	if n := len(back.bodies); n != 1 {
		t.Fatalf("the target that was down received %d requests, want 1\n%s", n, out)
	}
	<-back.bodies
	if n := len(up.bodies); n != 0 {
		t.Fatalf("the target that had accepted received the replay too (%d)\n%s", n, out)
	}
	if !strings.Contains(out, "skipped") || !strings.Contains(out, "already accepted capture 1") {
		t.Errorf("the output does not say why a target was skipped:\n%s", out)
	}
	// listen's retry is retired in the store, where its forwarder checks before each attempt:
	// nothing is left for it to send.
	var shown struct {
		Deliveries []struct {
			Target, State, Error string
			Replay               bool
		} `json:"deliveries"`
	}
	show := exec.CommandContext(ctx, Binary, "captures", "show", "1", "--json")
	show.Env = Env(dir)
	raw, err := show.Output()
	if err != nil || json.Unmarshal(raw, &shown) != nil {
		t.Fatalf("captures show: %v\n%s", err, raw)
	}
	taken := false
	for _, d := range shown.Deliveries {
		if d.State == "pending" {
			t.Errorf("a delivery is still pending after the replay: %+v", d)
		}
		taken = taken || d.Target == down && strings.Contains(d.Error, "taken over by a replay")
	}
	if !taken {
		t.Errorf("the pending retry is not marked as taken over: %+v", shown.Deliveries)
	}

	// Both have accepted: a plain replay sends nothing; --all-targets sends to both.
	replay("1")
	if n, m := len(up.bodies), len(back.bodies); n+m != 0 {
		t.Fatalf("a replay to targets that had all accepted sent %d+%d requests", n, m)
	}
	replay("1", "--all-targets")
	if n, m := len(up.bodies), len(back.bodies); n != 1 || m != 1 {
		t.Fatalf("--all-targets sent %d and %d requests, want one to each", n, m)
	}

	// The server goes down again and a replay fails: the list keeps the 200 it had, beside the
	// failed replay, instead of "error" as if it had never been delivered.
	back.Close()
	failed := exec.CommandContext(ctx, Binary, "replay", "1", "--to", down)
	failed.Env = Env(dir)
	if out, err := failed.CombinedOutput(); err == nil {
		t.Fatalf("a replay to a server that is down succeeded:\n%s", out)
	}
	list := exec.CommandContext(ctx, Binary, "captures", "list")
	list.Env = Env(dir)
	table, err := list.Output()
	if err != nil || !strings.Contains(string(table), "FORWARD") || !strings.Contains(string(table), "200 · replay failed") {
		t.Errorf("captures list: %v\n%s", err, table)
	}
	listJSON := exec.CommandContext(ctx, Binary, "captures", "list", "--json")
	listJSON.Env = Env(dir)
	raw, err = listJSON.Output()
	var items []struct {
		ID         int64 `json:"id"`
		Forwarding *struct {
			Outcome      string
			Best, Latest struct{ Status int }
		} `json:"forwarding"`
	}
	if err != nil || json.Unmarshal(raw, &items) != nil || len(items) != 1 || items[0].Forwarding == nil ||
		items[0].Forwarding.Outcome != "200 · replay failed" || items[0].Forwarding.Best.Status != 200 || items[0].Forwarding.Latest.Status != 0 {
		t.Errorf("captures list --json: %v\n%s", err, raw)
	}
}
