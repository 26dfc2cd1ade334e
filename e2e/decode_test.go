package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/s2s-dev/s2s/store"
)

func init() {
	scriptCmds["exitcode"] = cmdExitCode
}

// exitcode N s2s ARGS...: runs the s2s binary, copies its output to the script's stdout and
// stderr, and fails unless it exited with status N (testscript's exec only tells zero from
// non-zero, and exit codes are part of s2s's contract).
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || args[1] != "s2s" {
		ts.Fatalf("usage: exitcode N s2s [args...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary, args[2:]...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = append(os.Environ(), "HOME="+ts.Getenv("HOME"), "NO_COLOR=1")
	// The script's own settings, including those appstore-standin sets for Apple's stand-in.
	for _, name := range []string{"S2S_CONFIG_DIR", "S2S_STATE_DIR", "S2S_STORE", "S2S_APPSTORE_URL",
		"S2S_KEY_ID", "S2S_ISSUER_ID", "S2S_PRIVATE_KEY", "S2S_BUNDLE_ID",
		"S2S_APPSTORECONNECT_URL", "S2S_ASC_KEY_ID", "S2S_ASC_ISSUER_ID", "S2S_ASC_PRIVATE_KEY"} {
		if v := ts.Getenv(name); v != "" {
			cmd.Env = append(cmd.Env, name+"="+v)
		}
	}
	cmd.Stdin = strings.NewReader("")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	_, werr := ts.Stdout().Write(out.Bytes())
	ts.Check(werr)
	_, werr = ts.Stderr().Write(errOut.Bytes())
	ts.Check(werr)
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("running s2s: %v", err)
	}
	if got != want {
		ts.Fatalf("s2s %s: exit status %d, want %d\nstderr: %s", strings.Join(args[2:], " "), got, want, errOut.String())
	}
}

// TestDecodeCaptureID: a capture stored by the receiver decodes by its ID, from the store the
// environment names.
func TestDecodeCaptureID(t *testing.T) {
	dir := t.TempDir()
	body, err := os.ReadFile(filepath.Join("..", "testdata", "vectors", "real", "05-notification-2025-10-01-DID_RENEW-sandbox.jws"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "captures.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := &store.Capture{Method: "POST", Path: "/", RemoteAddr: "127.0.0.1:1", Body: []byte(`{"signedPayload":"` + strings.TrimSpace(string(body)) + `"}`)}
	if err := st.Insert(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	run := func(args ...string) (string, string, int) {
		cmd := exec.CommandContext(ctx, Binary, args...)
		cmd.Env = Env(dir)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), code
	}
	out, errOut, code := run("decode", strconv.FormatInt(c.ID, 10))
	if code != 0 || !strings.HasPrefix(out, "DID_RENEW  Sandbox  com.loki-project.loki-messenger") || !strings.Contains(out, "  verified\n") {
		t.Fatalf("decode %d: exit %d\n%s%s", c.ID, code, out, errOut)
	}
	out, errOut, code = run("decode", "--json", strconv.FormatInt(c.ID, 10))
	if code != 0 || !strings.Contains(out, `"label": "verified"`) {
		t.Fatalf("decode --json: exit %d\n%s%s", code, out, errOut)
	}
	_, errOut, code = run("decode", "999")
	if code != 1 || !strings.Contains(errOut, "capture 999: not in the store") {
		t.Fatalf("missing capture: exit %d, %s", code, errOut)
	}
	_, errOut, code = run("decode", "--store", filepath.Join(dir, "nowhere.db"), "1")
	if code != 1 || !strings.Contains(errOut, "no capture store") {
		t.Fatalf("missing store: exit %d, %s", code, errOut)
	}
}
