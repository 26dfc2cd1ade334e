// Package e2e drives the real s2s binary: testscript scripts in testdata/script, plus Go tests for
// what scripts express badly (crashes, terminals). TestMain builds the binary once.
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
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// binDir holds the s2s binary built by TestMain; Binary is its path.
var (
	binDir string
	Binary string
)

// scriptCmds are the custom testscript commands; other files in this package add theirs in init.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"freeport": cmdFreeport,
	"waithttp": cmdWaitHTTP,
	"post":     cmdPost,
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "s2s-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	Binary = filepath.Join(dir, "s2s")
	if runtime.GOOS == "windows" {
		Binary += ".exe"
	}
	build := exec.Command("go", "build", "-o", Binary, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building s2s:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		Cmds:                scriptCmds,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", binDir+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("S2S_CONFIG_DIR", filepath.Join(env.WorkDir, ".s2s-config"))
			env.Setenv("S2S_STATE_DIR", filepath.Join(env.WorkDir, ".s2s-state"))
			env.Setenv("S2S_STORE", filepath.Join(env.WorkDir, "captures.db"))
			env.Setenv("NO_COLOR", "1")
			vectors, err := filepath.Abs("../testdata/vectors")
			if err != nil {
				return err
			}
			env.Setenv("VECTORS", vectors)
			return nil
		},
	})
}

// Env returns an environment for running the binary from Go tests, isolated in dir.
func Env(dir string) []string {
	env := append(os.Environ(),
		"HOME="+dir,
		"S2S_CONFIG_DIR="+filepath.Join(dir, ".s2s-config"),
		"S2S_STATE_DIR="+filepath.Join(dir, ".s2s-state"),
		"S2S_STORE="+filepath.Join(dir, "captures.db"),
		"NO_COLOR=1",
	)
	return env
}

// FreePort asks the OS for a free loopback port.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitHTTP polls url until it answers or the deadline passes.
func WaitHTTP(ctx context.Context, url string) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer: %w", url, err)
		case <-tick.C:
		}
	}
}

// freeport VAR: sets VAR to a free loopback port.
func cmdFreeport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ts.Setenv(args[0], strconv.Itoa(port))
}

// waithttp URL: waits (10 s at most) until URL answers.
func cmdWaitHTTP(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waithttp URL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ts.Check(WaitHTTP(ctx, args[0]))
}

// post URL FILE [--wrap]: POSTs FILE's bytes (wrapped as {"signedPayload": ...} with --wrap) as
// Apple does and prints the status line to stdout.
func cmdPost(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: post URL FILE [--wrap]")
	}
	body, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	if len(args) > 2 && args[2] == "--wrap" {
		body = []byte(`{"signedPayload":"` + strings.TrimSpace(string(body)) + `"}`)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, args[0], bytes.NewReader(body))
	ts.Check(err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if neg {
			return
		}
		ts.Fatalf("post: %v", err)
	}
	resp.Body.Close()
	fmt.Fprintf(ts.Stdout(), "%d\n", resp.StatusCode)
	if ok := resp.StatusCode < 300; ok == neg {
		ts.Fatalf("post: status %d", resp.StatusCode)
	}
}

// TestMakeBuildStampsVersion: `make build` stamps the version, commit and build date that
// `s2s version` prints.
func TestMakeBuildStampsVersion(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	bin := filepath.Join(t.TempDir(), "s2s")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "make", "-s", "-C", "..", "build", "BIN="+bin, "VERSION=v9.8.7-test", "COMMIT=0123456789abcdef", "DATE=2026-01-02T03:04:05Z")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	out, err := exec.CommandContext(ctx, bin, "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Version, Commit, Date, Go string }
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if v.Version != "v9.8.7-test" || v.Commit != "0123456789abcdef" || v.Date != "2026-01-02T03:04:05Z" || v.Go == "" {
		t.Errorf("version --json of a make build: %s", out)
	}
	if out, _ := exec.CommandContext(ctx, bin, "version").Output(); !strings.HasPrefix(string(out), "s2s v9.8.7-test\n") {
		t.Errorf("s2s version: %q", out)
	}
	if out, _ := exec.CommandContext(ctx, bin, "--version").Output(); string(out) != "s2s version v9.8.7-test (0123456)\n" {
		t.Errorf("s2s --version: %q", out)
	}
	// Untagged, make build's version is the short hash: --version names it once.
	build = exec.CommandContext(ctx, "make", "-s", "-C", "..", "build", "BIN="+bin, "VERSION=0123456", "COMMIT=0123456789abcdef", "DATE=2026-01-02T03:04:05Z")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	if out, _ := exec.CommandContext(ctx, bin, "--version").Output(); string(out) != "s2s version 0123456\n" {
		t.Errorf("s2s --version of an untagged build: %q", out)
	}
}

// listenerState reads the state file of the one s2s listen running with dir's environment.
func listenerState(dir string) ([]byte, error) {
	d := filepath.Join(dir, ".s2s-state", "listeners")
	entries, err := os.ReadDir(d)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			files = append(files, e.Name())
		}
	}
	if len(files) != 1 {
		return nil, fmt.Errorf("%s holds %d listener state files, want 1", d, len(files))
	}
	return os.ReadFile(filepath.Join(d, files[0]))
}
