package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/fixtures"
	"github.com/s2s-dev/s2s/internal/paths"
	"github.com/s2s-dev/s2s/internal/state"
	"github.com/s2s-dev/s2s/store"
)

// stSentLine is one line of `s2s send-test --json`.
type stSentLine struct {
	Type             string `json:"notificationType"`
	Subtype          string `json:"subtype"`
	NotificationUUID string `json:"notificationUUID"`
	Status           int    `json:"status"`
	OK               bool   `json:"ok"`
}

// stRun runs the binary in the isolated home dir and returns stdout, failing on a non-zero exit.
func stRun(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary, args...)
	cmd.Env = Env(dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("s2s %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, stderr.String())
	}
	return out
}

// TestSendTestEveryTypeAndScenarioIsStoredSimulated is the promise of send-test end to end: each
// template and each scenario step, signed by this machine's test chain and posted to a running
// `s2s listen`, ends in the store labelled simulated with its type and subtype.
func TestSendTestEveryTypeAndScenarioIsStoredSimulated(t *testing.T) {
	dir := t.TempDir()
	port := FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d/", port)

	listen := exec.Command(Binary, "listen", "--output", "json", "--addr", fmt.Sprintf("127.0.0.1:%d", port))
	listen.Env = Env(dir)
	stdout, err := listen.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var listenErr bytes.Buffer
	listen.Stderr = &listenErr
	if err := listen.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		events = map[string]map[string]any{} // notificationUUID -> capture, from the JSON event stream
	)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var e struct {
				Event   string         `json:"event"`
				Capture map[string]any `json:"capture"`
			}
			if json.Unmarshal(sc.Bytes(), &e) == nil && e.Capture != nil {
				if id, _ := e.Capture["notificationUUID"].(string); id != "" {
					mu.Lock()
					events[id] = e.Capture
					mu.Unlock()
				}
			}
		}
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = listen.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { <-readDone; done <- listen.Wait() }()
		select {
		case err := <-done:
			_ = err // SIGTERM: the exit status is the signal's
		case <-time.After(20 * time.Second):
			_ = listen.Process.Kill()
			t.Errorf("listen did not stop within 20s of SIGTERM; stderr: %s", listenErr.String())
		}
	}
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := WaitHTTP(ctx, base); err != nil {
		t.Fatalf("%v; listen stderr: %s", err, listenErr.String())
	}
	// send-test without a URL finds the listener through its state file.
	getenv := func(k string) string {
		for _, kv := range Env(dir) {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		return ""
	}
	if err := stWaitFor(ctx, func() error {
		_, err := state.Read(paths.ListenersDir(getenv))
		return err
	}); err != nil {
		t.Fatalf("listen wrote no state file: %v", err)
	}

	parse := func(out []byte) []stSentLine {
		t.Helper()
		var lines []stSentLine
		for _, l := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
			var s stSentLine
			if err := json.Unmarshal(l, &s); err != nil {
				t.Fatalf("send-test --json line %q: %v", l, err)
			}
			if !s.OK {
				t.Fatalf("the listener did not accept %s/%s: status %d", s.Type, s.Subtype, s.Status)
			}
			lines = append(lines, s)
		}
		return lines
	}
	sent := parse(stRun(t, dir, "send-test", "--all", "--json"))
	if len(sent) != len(fixtures.Combinations()) {
		t.Fatalf("--all sent %d notifications, want %d", len(sent), len(fixtures.Combinations()))
	}
	for _, sc := range fixtures.Scenarios() {
		lines := parse(stRun(t, dir, "send-test", base, "--scenario", sc.Name, "--json"))
		if len(lines) != len(sc.Steps) {
			t.Fatalf("scenario %s sent %d notifications, want %d", sc.Name, len(lines), len(sc.Steps))
		}
		sent = append(sent, lines...)
	}

	// Every notification is in the listener's event stream as simulated...
	if err := stWaitFor(ctx, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(events) < len(sent) {
			return fmt.Errorf("%d of %d notifications reported by listen", len(events), len(sent))
		}
		return nil
	}); err != nil {
		t.Fatalf("%v; listen stderr: %s", err, listenErr.String())
	}
	mu.Lock()
	stCheck(t, "listen --output json", sent, events)
	mu.Unlock()

	// ...and in the store, read directly once listen has stopped...
	stop()
	st, err := store.Open(filepath.Join(dir, "captures.db"))
	if err != nil {
		t.Fatal(err)
	}
	caps, err := st.List(ctx, store.Filter{Limit: -1})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]map[string]any{}
	for _, c := range caps {
		stored[c.NotificationUUID] = map[string]any{"notificationType": c.Type, "subtype": c.Subtype, "trust": string(c.Trust), "trustMessage": c.TrustMessage}
	}
	stCheck(t, "the store", sent, stored)

	// ...and as `s2s captures list --json` shows it.
	t.Run("captures list", func(t *testing.T) {
		listed := map[string]map[string]any{}
		for _, c := range stParseCaptureList(t, stRun(t, dir, "captures", "list", "--json", "--limit", "0")) {
			if id, _ := c["notificationUUID"].(string); id != "" {
				listed[id] = c
			}
		}
		stCheck(t, "captures list --json", sent, listed)
	})
}

// stCheck asserts that every sent notification is among the captures, simulated, with its type.
func stCheck(t *testing.T, where string, sent []stSentLine, captures map[string]map[string]any) {
	t.Helper()
	for _, s := range sent {
		c, ok := captures[s.NotificationUUID]
		if !ok {
			t.Errorf("%s: %s/%s (%s) missing", where, s.Type, s.Subtype, s.NotificationUUID)
			continue
		}
		typ, _ := c["notificationType"].(string)
		sub, _ := c["subtype"].(string)
		label, _ := c["trust"].(string)
		if label == "" {
			label, _ = c["label"].(string)
		}
		if typ != s.Type || sub != s.Subtype || label != "simulated" {
			t.Errorf("%s: %s is %s/%s labelled %q (%v), want %s/%s simulated", where, s.NotificationUUID, typ, sub, label, c["trustMessage"], s.Type, s.Subtype)
		}
	}
}

// stParseCaptureList accepts a JSON array of captures, an object wrapping one, or JSON lines.
func stParseCaptureList(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	out = bytes.TrimSpace(out)
	var arr []map[string]any
	if json.Unmarshal(out, &arr) == nil {
		return arr
	}
	var wrapped map[string]json.RawMessage
	if json.Unmarshal(out, &wrapped) == nil {
		for _, k := range []string{"captures", "items", "results"} {
			if raw, ok := wrapped[k]; ok && json.Unmarshal(raw, &arr) == nil {
				return arr
			}
		}
	}
	arr = nil
	for _, l := range bytes.Split(out, []byte("\n")) {
		var c map[string]any
		if err := json.Unmarshal(l, &c); err != nil {
			t.Fatalf("captures list --json: unreadable output %q: %v", stFirstBytes(out, 300), err)
		}
		arr = append(arr, c)
	}
	return arr
}

func stFirstBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// stWaitFor polls f until it returns nil or ctx ends.
func stWaitFor(ctx context.Context, f func() error) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-tick.C:
		}
	}
}

// The test chain lives in the config directory and survives between runs: the root that
// send-test prints is the one listen trusts.
func TestSendTestRootIsStable(t *testing.T) {
	dir := t.TempDir()
	first := stRun(t, dir, "send-test", "--print-root")
	second := stRun(t, dir, "send-test", "--print-root")
	if !bytes.HasPrefix(first, []byte("-----BEGIN CERTIFICATE-----")) || !bytes.Equal(first, second) {
		t.Fatalf("--print-root changed between runs or is not PEM:\n%s\n%s", first, second)
	}
	keyInfo, err := os.Stat(filepath.Join(dir, ".s2s-config", fixtures.ChainDirName, "leaf-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if keyInfo.Mode().Perm() != 0o600 {
		t.Errorf("signing key mode %o, want 600", keyInfo.Mode().Perm())
	}
}
