//go:build unix

package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// readSyscall is the number of read(2) on the architectures this test knows.
var readSyscall = map[string]string{"amd64": "0", "arm64": "63"}

// TestDecodeCtrlCOnATerminal: `s2s decode -` waiting for a paste on a real terminal stops on
// Ctrl-C with 130. s2s catches SIGINT itself, and on a terminal the error path asks the terminal
// for its colours through standard input, which the pending read held: it hung for good.
func TestDecodeCtrlCOnATerminal(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	nr, ok := readSyscall[runtime.GOARCH]
	if runtime.GOOS != "linux" || !ok {
		t.Skip("needs /proc/PID/task/*/syscall to see the read")
	}
	dir := t.TempDir()
	pidFile, exitFile := filepath.Join(dir, "pid"), filepath.Join(dir, "exit-code")
	var script strings.Builder
	script.WriteString("#!/bin/sh\n")
	for _, kv := range Env(dir) {
		if k, _, _ := strings.Cut(kv, "="); k != "" && !strings.ContainsAny(k, "() ") {
			fmt.Fprintf(&script, "export %s\n", shellQuote(kv))
		}
	}
	// The inner shell becomes s2s (exec), so its PID is s2s's; the outer one records the exit code
	// and, with a trap (reset for its children), outlives the Ctrl-C sent to the whole terminal.
	fmt.Fprintf(&script, "trap : INT\nsh -c 'echo $$ >%s; exec %s decode - 2>%s'\necho $? >%s\nread -r _\n",
		pidFile, Binary, filepath.Join(dir, "stderr.txt"), exitFile)
	run := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(run, []byte(script.String()), 0o755); err != nil {
		t.Fatal(err)
	}
	tm := &tmuxTerm{t: t, socket: fmt.Sprintf("s2s-e2e-%d-decode", os.Getpid()), name: "s2s"}
	tm.must("new-session", "-d", "-s", tm.name, "-x", "100", "-y", "20", "sh "+run)
	t.Cleanup(func() { _, _ = tm.tmux("kill-server") })

	// Wait until one of s2s's threads sits in read(0, ...): standard input, the terminal.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(pidFile); err == nil {
			calls, _ := filepath.Glob(filepath.Join("/proc", strings.TrimSpace(string(b)), "task", "*", "syscall"))
			reading := false
			for _, f := range calls {
				if s, err := os.ReadFile(f); err == nil && bytes.HasPrefix(s, []byte(nr+" 0x0 ")) {
					reading = true
				}
			}
			if reading {
				break
			}
		}
		if time.Now().After(deadline) {
			script, _ := os.ReadFile(run)
			t.Fatalf("s2s decode - never read the terminal; script:\n%s", script)
		}
		time.Sleep(20 * time.Millisecond)
	}
	tm.keys("C-c")
	if code := tm.waitExit(exitFile); code != "130" {
		stderr, _ := os.ReadFile(filepath.Join(dir, "stderr.txt"))
		t.Errorf("exit %s after Ctrl-C, want 130; stderr: %s", code, stderr)
	}
}
