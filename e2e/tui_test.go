//go:build unix

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// tmuxTerm is one detached tmux session on a private server, sized like a small terminal.
type tmuxTerm struct {
	t      *testing.T
	socket string
	name   string
}

func (tm *tmuxTerm) tmux(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "tmux", append([]string{"-L", tm.socket, "-f", "/dev/null"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (tm *tmuxTerm) must(args ...string) string {
	tm.t.Helper()
	out, err := tm.tmux(args...)
	if err != nil {
		tm.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (tm *tmuxTerm) screen() string { return tm.must("capture-pane", "-p", "-t", tm.name) }

func (tm *tmuxTerm) keys(keys ...string) {
	tm.t.Helper()
	tm.must(append([]string{"send-keys", "-t", tm.name}, keys...)...)
}

// waitFor polls the screen until cond holds, failing with the last screen at the deadline.
func (tm *tmuxTerm) waitFor(what string, cond func(screen string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := tm.screen()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out waiting for %s; screen:\n%s", what, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (tm *tmuxTerm) waitText(texts ...string) string {
	tm.t.Helper()
	return tm.waitFor(fmt.Sprintf("%q", texts), func(s string) bool {
		for _, x := range texts {
			if !strings.Contains(s, x) {
				return false
			}
		}
		return true
	})
}

func (tm *tmuxTerm) flag(format string) string {
	tm.t.Helper()
	return strings.TrimSpace(tm.must("display-message", "-p", "-t", tm.name, format))
}

// postVector sends a real Apple JWS the way Apple does: {"signedPayload": "..."}.
func postVector(t *testing.T, url, name string) {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join("..", "testdata", "vectors", "real", name+"-*.jws"))
	if err != nil || len(matches) != 1 {
		t.Fatalf("vector %s: %v %v", name, matches, err)
	}
	jws, err := os.ReadFile(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"signedPayload":%q}`, strings.TrimSpace(string(jws)))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post %s: %v", name, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("post %s: status %d", name, resp.StatusCode)
	}
}

// listRows are the list's lines: between the column header and the status bar.
func listRows(screen string) []string {
	var rows []string
	in := false
	for _, l := range strings.Split(screen, "\n") {
		switch {
		case strings.Contains(l, "TIME") && strings.Contains(l, "TRUST"):
			in = true
		case in && (strings.Contains(l, "FOLLOW") || strings.Contains(l, "follow off")):
			return rows
		case in && strings.TrimSpace(l) != "":
			rows = append(rows, l)
		}
	}
	return rows
}

// TestTUIInTmux runs the real binary in a 100x30 tmux pane: notifications posted to the listener
// appear in the list, the detail opens, the timeline groups one subscription's notifications in
// the order Apple signed them, the filter narrows the list, t sends a test notification, and q
// leaves the terminal as it was.
func TestTUIInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	dir := t.TempDir()
	port := FreePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)

	// The pane runs a script so the environment is exactly Env(dir) and the exit code is kept;
	// afterwards the shell waits on read, so the terminal's state after s2s can be inspected.
	var script strings.Builder
	script.WriteString("#!/bin/sh\n")
	for _, kv := range Env(dir) {
		if k, _, _ := strings.Cut(kv, "="); k == "" || strings.ContainsAny(k, "() ") {
			continue
		}
		fmt.Fprintf(&script, "export %s\n", shellQuote(kv))
	}
	fmt.Fprintf(&script, "cd %s\n%s listen --addr 127.0.0.1:%d 2>%s\necho $? >%s\nread -r _\n", shellQuote(dir), shellQuote(Binary), port,
		shellQuote(filepath.Join(dir, "stderr.txt")), shellQuote(filepath.Join(dir, "exit-code")))
	run := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(run, []byte(script.String()), 0o755); err != nil {
		t.Fatal(err)
	}

	tm := &tmuxTerm{t: t, socket: fmt.Sprintf("s2s-e2e-%d-%d", os.Getpid(), port), name: "s2s"}
	tm.must("new-session", "-d", "-s", tm.name, "-x", "100", "-y", "30", "sh "+run)
	t.Cleanup(func() { _, _ = tm.tmux("kill-server") })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := WaitHTTP(ctx, url); err != nil {
		t.Fatalf("%v; screen:\n%s", err, tm.screen())
	}
	tm.waitText("● receiving", "Waiting for notifications")
	if got := tm.flag("#{alternate_on}"); got != "1" {
		t.Errorf("the TUI is not on the alternate screen (alternate_on=%s)", got)
	}

	// One sandbox subscription (05, 06, 07, 19 share an originalTransactionId), posted out of
	// order, plus a production notification and a TEST from other apps.
	for _, v := range []string{"07", "05", "03", "06", "01", "19"} {
		postVector(t, url, v)
	}
	scr := tm.waitFor("six rows", func(s string) bool { return len(listRows(s)) == 6 })
	rows := listRows(scr)
	for i, want := range []string{"REFUND", "TEST", "EXPIRED · VOLUNTARY", "CONSUMPTION_REQUEST", "DID_RENEW", "SUBSCRIBED · RESUBSCRIBE"} {
		if !strings.Contains(rows[i], want) {
			t.Errorf("row %d = %q, want %s (newest first)", i, rows[i], want)
		}
	}
	if !strings.HasPrefix(rows[0], "▸") || !strings.Contains(rows[0], "verified ✓") || !strings.Contains(rows[3], "PROD") {
		t.Errorf("rows lack the selection, trust or environment:\n%s", strings.Join(rows, "\n"))
	}
	if !strings.Contains(scr, "6 captures: 6 verified ✓") {
		t.Errorf("header lacks the counts:\n%s", scr)
	}

	// The detail of the newest (the REFUND), then its subscription's timeline.
	tm.keys("Enter")
	tm.waitText("[1 Summary]", "refunded", "Original txn ID    2000001024993299")
	// Its Decoded tab is what s2s decode prints for the same JWS (one renderer), laid out to the
	// pane: the same words in the same order, as far as the pane shows them.
	tm.keys("2")
	scr = tm.waitText("[2 Decoded]", "trust: verified", `"notificationType": "REFUND"`)
	decodeCmd := exec.CommandContext(ctx, Binary, "decode", filepath.Join("..", "testdata", "vectors", "real", "19-notification-2025-10-16-REFUND-sandbox.jws"))
	decodeCmd.Env = Env(dir)
	printed, err := decodeCmd.Output()
	if err != nil {
		t.Fatalf("s2s decode: %v", err)
	}
	paneLines := strings.Split(strings.TrimRight(scr, "\n"), "\n")
	for i, l := range paneLines {
		if strings.Contains(l, "[2 Decoded]") {
			paneLines = paneLines[i+1 : len(paneLines)-2] // the tab's content: above the scroll position and the key help
			break
		}
	}
	shown, want := strings.Fields(strings.Join(paneLines, "\n")), strings.Fields(string(printed))
	// The pane's last row may hold the start of a line the viewport wrapped: its last word may be cut.
	if len(shown) < 20 || len(shown) > len(want) || !slices.Equal(shown[:len(shown)-1], want[:len(shown)-1]) {
		t.Errorf("the Decoded tab is not what s2s decode prints:\n%s\ns2s decode:\n%s", strings.Join(paneLines, "\n"), printed)
	}
	tm.keys("6")
	scr = tm.waitText("[6 Timeline]", "Original transaction 2000001024993299 · 4 notifications by signed date")
	scr = scr[strings.Index(scr, "Original transaction"):]
	order := []string{"DID_RENEW", "EXPIRED · VOLUNTARY", "SUBSCRIBED · RESUBSCRIBE", "REFUND"}
	last := -1
	for _, want := range order {
		i := strings.Index(scr, want)
		if i < 0 || i < last {
			t.Fatalf("timeline not in signed order %v:\n%s", order, scr)
		}
		last = i
	}
	for _, other := range []string{"CONSUMPTION_REQUEST", "TEST"} {
		if strings.Contains(scr, other) {
			t.Errorf("timeline shows %s from another transaction:\n%s", other, scr)
		}
	}

	// Back to the list, filter to the expiries.
	tm.keys("Escape")
	tm.waitFor("the list", func(s string) bool { return len(listRows(s)) == 6 })
	tm.keys("/")
	tm.waitText("/ ")
	tm.keys("-l", "type:EXPIRED")
	tm.waitText("type:EXPIRED")
	tm.keys("Enter")
	// The count can arrive before the page: wait for the row itself, not the placeholder.
	scr = tm.waitFor("the filtered list", func(s string) bool {
		r := listRows(s)
		return strings.Contains(s, "filter type:EXPIRED  1 matching") && len(r) == 1 && !strings.Contains(r[0], "loading")
	})
	rows = listRows(scr)
	if !strings.Contains(rows[0], "EXPIRED · VOLUNTARY") {
		t.Errorf("filtered rows:\n%s", strings.Join(rows, "\n"))
	}

	// esc clears the filter; G selects the oldest, g the newest again, f resumes following.
	tm.keys("Escape")
	tm.waitFor("the whole list", func(s string) bool { return len(listRows(s)) == 6 })
	tm.keys("G")
	tm.waitFor("the oldest selected", func(s string) bool {
		r := listRows(s)
		return len(r) == 6 && strings.HasPrefix(r[5], "▸") && strings.Contains(r[5], "SUBSCRIBED · RESUBSCRIBE")
	})
	tm.keys("g")
	tm.waitFor("the newest selected", func(s string) bool {
		r := listRows(s)
		return len(r) == 6 && strings.HasPrefix(r[0], "▸") && strings.Contains(r[0], "REFUND")
	})
	tm.keys("f")
	tm.waitText("following new notifications")

	// t sends a simulated TEST to this very listener.
	tm.keys("t")
	scr = tm.waitFor("the TEST from t", func(s string) bool { return len(listRows(s)) == 7 })
	if rows = listRows(scr); !strings.Contains(rows[0], "TEST") || !strings.Contains(rows[0], "simulated") {
		t.Errorf("t did not bring a simulated TEST on top:\n%s", scr)
	}

	tm.keys("q")
	exitFile := filepath.Join(dir, "exit-code")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(exitFile); err == nil && len(bytes.TrimSpace(b)) > 0 {
			if code := strings.TrimSpace(string(b)); code != "0" {
				stderr, _ := os.ReadFile(filepath.Join(dir, "stderr.txt"))
				t.Fatalf("s2s listen exited with %s; stderr:\n%s", code, stderr)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("s2s listen did not exit after q; screen:\n%s", tm.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := tm.flag("#{alternate_on}"); got != "0" {
		t.Errorf("the alternate screen was not left (alternate_on=%s)", got)
	}
	if got := tm.flag("#{cursor_flag}"); got != "1" {
		t.Errorf("the cursor was not shown again (cursor_flag=%s)", got)
	}
	if scr := tm.screen(); strings.Contains(scr, "REFUND") || strings.Contains(scr, "TYPE · SUBTYPE") {
		t.Errorf("the TUI is still drawn on the normal screen:\n%s", scr)
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// startTUI runs `s2s listen ARGS` in a cols x rows tmux pane with Env(dir), minus NO_COLOR unless
// noColor, and returns the pane and the file its exit code is written to.
func startTUI(t *testing.T, dir string, cols, rows int, noColor bool, args ...string) (*tmuxTerm, string) {
	t.Helper()
	return startTUICommand(t, dir, cols, rows, noColor, "listen", args...)
}

// startTUICommand is startTUI for s2s COMMAND (listen or hub).
func startTUICommand(t *testing.T, dir string, cols, rows int, noColor bool, command string, args ...string) (*tmuxTerm, string) {
	t.Helper()
	var script strings.Builder
	script.WriteString("#!/bin/sh\n")
	for _, kv := range Env(dir) {
		k, _, _ := strings.Cut(kv, "=")
		if k == "" || strings.ContainsAny(k, "() ") || (k == "NO_COLOR" && !noColor) {
			continue
		}
		fmt.Fprintf(&script, "export %s\n", shellQuote(kv))
	}
	if !noColor {
		script.WriteString("unset NO_COLOR S2S_NO_COLOR\n")
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	exitFile := filepath.Join(dir, "exit-code")
	fmt.Fprintf(&script, "cd %s\n%s %s %s 2>%s\necho $? >%s\nread -r _\n", shellQuote(dir), shellQuote(Binary), command, strings.Join(quoted, " "),
		shellQuote(filepath.Join(dir, "stderr.txt")), shellQuote(exitFile))
	run := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(run, []byte(script.String()), 0o755); err != nil {
		t.Fatal(err)
	}
	// The test's own temp directory names the server: every test's dir is ".../001", and two tests
	// on one server name race the first one's kill-server.
	tm := &tmuxTerm{t: t, socket: fmt.Sprintf("s2s-e2e-%d-%s", os.Getpid(), filepath.Base(filepath.Dir(dir))), name: "s2s"}
	tm.must("new-session", "-d", "-s", tm.name, "-x", fmt.Sprint(cols), "-y", fmt.Sprint(rows), "sh "+run)
	// Keys are sent one by one; tmux must not hold an Escape back to join it with the next key.
	tm.must("set-option", "-s", "escape-time", "0")
	t.Cleanup(func() { _, _ = tm.tmux("kill-server") })
	return tm, exitFile
}

// waitExit waits for the pane's s2s to exit and returns its exit code.
func (tm *tmuxTerm) waitExit(exitFile string) string {
	tm.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(exitFile); err == nil && len(bytes.TrimSpace(b)) > 0 {
			return strings.TrimSpace(string(b))
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("s2s listen did not exit; screen:\n%s", tm.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTUIForwardingInTmux: at 80x24 and in colour, a notification forwarded to a server that is
// down shows the failure and what to do in the FORWARD column and the Deliveries tab; once the
// server is up, r delivers the stored bytes unchanged and the Deliveries tab shows the answer
// first. SIGTERM then ends listen with 130 and the terminal restored.
func TestTUIForwardingInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	dir := t.TempDir()
	port, targetPort := FreePort(t), FreePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	tm, exitFile := startTUI(t, dir, 80, 24, false, "--addr", fmt.Sprintf("127.0.0.1:%d", port),
		"--forward-to", fmt.Sprintf("%d/apple", targetPort), "--forward-retries", "none")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := WaitHTTP(ctx, url); err != nil {
		t.Fatalf("%v; screen:\n%s", err, tm.screen())
	}
	tm.waitText("● receiving", "FORWARD", fmt.Sprintf("forward http://localhost:%d/apple", targetPort))

	postVector(t, url, "07")
	scr := tm.waitFor("the failed forward", func(s string) bool {
		r := listRows(s)
		return len(r) == 1 && strings.HasSuffix(strings.TrimSpace(r[0]), "error")
	})
	if colour := tm.must("capture-pane", "-e", "-p", "-t", tm.name); !strings.Contains(colour, "\x1b[") {
		t.Errorf("no colour without NO_COLOR:\n%s", scr)
	}
	tm.keys("Enter")
	tm.waitText("[1 Summary]")
	tm.keys("5")
	tm.waitText("[5 Deliveries]", fmt.Sprintf("nothing listening on 127.0.0.1:%d;", targetPort), "start your server, then press r")

	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", targetPort))
	if err != nil {
		t.Fatalf("the target's port was taken meanwhile: %v", err)
	}
	tg := startFwdTarget(t, l, http.StatusOK)
	tm.keys("r")
	var got []byte
	select {
	case got = <-tg.bodies:
	case <-ctx.Done():
		t.Fatalf("r sent nothing; screen:\n%s", tm.screen())
	}
	matches, _ := filepath.Glob(filepath.Join("..", "testdata", "vectors", "real", "07-*.jws"))
	jws, _ := os.ReadFile(matches[0])
	if want := fmt.Sprintf(`{"signedPayload":%q}`, strings.TrimSpace(string(jws))); string(got) != want {
		t.Errorf("the replay is not the stored body (%d bytes, want %d)", len(got), len(want))
	}
	scr = tm.waitText("succeeded  200")
	if i, j := strings.Index(scr, "succeeded  200"), strings.Index(scr, "failed"); j >= 0 && j < i {
		t.Errorf("the replay's result is not first:\n%s", scr)
	}
	for _, l := range strings.Split(scr, "\n") {
		if len([]rune(l)) > 80 {
			t.Errorf("line wider than the pane: %q", l)
		}
	}

	pidState, err := listenerState(dir)
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ PID int }
	if err := json.Unmarshal(pidState, &st); err != nil || st.PID == 0 {
		t.Fatalf("listener state %s: %v", pidState, err)
	}
	if err := terminate(st.PID); err != nil {
		t.Fatal(err)
	}
	if code := tm.waitExit(exitFile); code != "130" {
		stderr, _ := os.ReadFile(filepath.Join(dir, "stderr.txt"))
		t.Errorf("SIGTERM: exit %s, want 130 as without the UI; stderr:\n%s", code, stderr)
	}
	if got := tm.flag("#{alternate_on}"); got != "0" {
		t.Errorf("the alternate screen was not left (alternate_on=%s)", got)
	}
}

// TestTUICtrlCInTmux: ctrl+c in the UI is an interrupt, not a quit: listen shuts down cleanly,
// says where the notifications are, and exits with 130 (q exits 0, see TestTUIInTmux).
func TestTUICtrlCInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	dir := t.TempDir()
	port := FreePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	tm, exitFile := startTUI(t, dir, 80, 24, true, "--addr", fmt.Sprintf("127.0.0.1:%d", port))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := WaitHTTP(ctx, url); err != nil {
		t.Fatalf("%v; screen:\n%s", err, tm.screen())
	}
	tm.waitText("● receiving")
	postVector(t, url, "07")
	tm.waitFor("the row", func(s string) bool { return len(listRows(s)) == 1 })

	tm.keys("C-c")
	code := tm.waitExit(exitFile)
	stderr, _ := os.ReadFile(filepath.Join(dir, "stderr.txt"))
	if code != "130" {
		t.Errorf("ctrl+c: exit %s, want 130; stderr:\n%s", code, stderr)
	}
	if want := "s2s: stopped; every acknowledged notification is in " + filepath.Join(dir, "captures.db"); !strings.Contains(string(stderr), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	if got := tm.flag("#{alternate_on}"); got != "0" {
		t.Errorf("the alternate screen was not left (alternate_on=%s)", got)
	}
}

// TestTUIRetriesInTmux: against listen --respond 503, send-test --retry apple delivers one renewal
// six times with one notificationUUID. The list has the six deliveries; the Timeline counts one
// notification with its six deliveries and answers; the header says when the last one came.
func TestTUIRetriesInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	dir := t.TempDir()
	port := FreePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	tm, exitFile := startTUI(t, dir, 80, 24, true, "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--respond", "503")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := WaitHTTP(ctx, url); err != nil {
		t.Fatalf("%v; screen:\n%s", err, tm.screen())
	}
	tm.waitText("● receiving")

	// send-test reports the 503s and exits 1: that is the rehearsal, not a failure here.
	cmd := exec.CommandContext(ctx, Binary, "send-test", url, "--type", "DID_RENEW", "--retry", "apple", "--retry-scale", "360000")
	cmd.Env = Env(dir)
	if out, err := cmd.CombinedOutput(); !strings.Contains(string(out), "retry 5 of 5") {
		t.Fatalf("send-test --retry apple: %v\n%s", err, out)
	}
	scr := tm.waitFor("six deliveries", func(s string) bool { return len(listRows(s)) == 6 })
	if first := strings.Split(scr, "\n")[0]; !regexp.MustCompile(`last notification (just now|\d+ min ago)$`).MatchString(strings.TrimSpace(first)) {
		t.Errorf("header lacks the silence: %q", first)
	}
	tm.keys("Enter")
	tm.waitText("[1 Summary]")
	tm.keys("6")
	scr = tm.waitText("· 1 notification (6 deliveries)", "6× 503")
	if n := strings.Count(scr, "renewed"); n != 1 {
		t.Errorf("%d renewed rows, want one:\n%s", n, scr)
	}
	tm.keys("q")
	if code := tm.waitExit(exitFile); code != "0" {
		stderr, _ := os.ReadFile(filepath.Join(dir, "stderr.txt"))
		t.Errorf("q: exit %s, want 0; stderr:\n%s", code, stderr)
	}
}

// TestHubTUIInTmux: s2s hub on a terminal runs listen's UI, and its list and Summary tab name the
// listeners that acknowledged each capture.
func TestHubTUIInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	dir := t.TempDir()
	port, natsPort := FreePort(t), FreePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	tm, _ := startTUICommand(t, dir, 100, 30, true, "hub", "--addr", fmt.Sprintf("127.0.0.1:%d", port),
		"--nats-listen", fmt.Sprintf("127.0.0.1:%d", natsPort), "--nats-auth", "tui-test-team-token", "--store", filepath.Join(dir, "hub", "captures.db"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := WaitHTTP(ctx, url); err != nil {
		t.Fatalf("%v; screen:\n%s", err, tm.screen())
	}
	// The header names the URL teammates pass to --hub, its token redacted.
	tm.waitText("● receiving", "ACKED BY", fmt.Sprintf("hub     nats://***@127.0.0.1:%d", natsPort))
	if scr := tm.screen(); strings.Contains(scr, "tui-test-team-token") {
		t.Fatalf("the token is on the screen:\n%s", scr)
	}
	a := StartListener(t, dir, "--store", filepath.Join(dir, "a", "captures.db"),
		"--hub", fmt.Sprintf("nats://tui-test-team-token@127.0.0.1:%d", natsPort), "--name", "alice")
	postAll(t, url, hubBodies(t, dir, "com.example.a", 1))
	a.waitNotifications(t, 1)
	tm.waitFor("alice in ACKED BY", func(s string) bool {
		r := listRows(s)
		return len(r) == 1 && strings.HasSuffix(strings.TrimSpace(r[0]), "alice")
	})
	tm.keys("Enter")
	tm.waitText("[1 Summary]", "Acknowledged by    alice")
}

// TestTUIRealtimeRequestInTmux: a real-time request listen received and answered shows in the
// Decoded tab with the list's label, read as listen read it (not as a notification, which it is
// not).
func TestTUIRealtimeRequestInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	dir := t.TempDir()
	answer := filepath.Join(dir, "answer.json")
	if err := os.WriteFile(answer, []byte(`{"message":{"messageIdentifier":"m1"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	tm, _ := startTUI(t, dir, 100, 30, true, "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--realtime-response", answer)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := WaitHTTP(ctx, url); err != nil {
		t.Fatalf("%v; screen:\n%s", err, tm.screen())
	}
	tm.waitText("● receiving")
	cmd := exec.CommandContext(ctx, Binary, "send-test", "--realtime", url, "--scenario", "billing-retry")
	cmd.Env = Env(dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("send-test --realtime: %v\n%s", err, out)
	}
	tm.waitFor("the request in the list", func(s string) bool { return len(listRows(s)) == 1 })
	tm.keys("Enter")
	tm.waitText("[1 Summary]", "Request ", "simulated")
	tm.keys("2")
	scr := tm.waitText("trust: simulated")
	if strings.Contains(scr, "UNVERIFIED") || strings.Contains(scr, "not a notification") {
		t.Errorf("Decoded tab:\n%s", scr)
	}
}
