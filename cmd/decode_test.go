package cmd

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
)

func decodeVector(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/vectors/" + rel)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRenderDecodedHuman: colour only when asked, an UNVERIFIED marker on invalid payloads, and
// the same text once the escapes are removed.
func TestRenderDecodedHuman(t *testing.T) {
	v := decode.NewVerifier(decode.Options{})
	d := v.Decode(decodeVector(t, "real/05-notification-2025-10-01-DID_RENEW-sandbox.jws"))
	var plain, color strings.Builder
	if err := renderDecodedHuman(&plain, d, false); err != nil {
		t.Fatal(err)
	}
	if err := renderDecodedHuman(&color, d, true); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") || !strings.Contains(color.String(), "\x1b[") {
		t.Fatal("colour escapes in plain output, or none in coloured output")
	}
	if strings.Contains(plain.String(), "UNVERIFIED") {
		t.Error("a verified payload is marked UNVERIFIED")
	}
	bad := v.Decode(decodeVector(t, "real/02-notification-2022-03-04-DID_RENEW-sandbox.jws"))
	var out strings.Builder
	if err := renderDecodedHuman(&out, bad, false); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if !strings.HasPrefix(lines[0], "UNVERIFIED  DID_RENEW  Sandbox") || !strings.HasSuffix(lines[0], "invalid/chain") || lines[1] != "UNVERIFIED: the fields below are NOT verified" {
		t.Errorf("invalid payload output starts:\n%s\n%s", lines[0], lines[1])
	}
}

func TestDecodeUsage(t *testing.T) {
	ios, _, _, _ := TestIO()
	ios.SetTTY(true, true, true)
	f := &Factory{IO: ios, Getenv: func(string) string { return "" }, Now: time.Now}
	err := runDecode(context.Background(), &decodeOptions{f: f})
	if ExitCode(err) != ExitUsage {
		t.Fatalf("no input on a terminal: %v (exit %d)", err, ExitCode(err))
	}
}

// TestDecodeArguments: a JWS given as an argument, and exit codes per outcome.
func TestDecodeArguments(t *testing.T) {
	dir := t.TempDir()
	jws := strings.TrimSpace(string(decodeVector(t, "real/27-transaction-2025-02-10-consumable-sandbox.jws")))
	for _, c := range []struct {
		args []string
		at   string
		code int
		out  string
	}{
		{[]string{jws}, "", ExitOK, "transaction  Sandbox  com.goodheartapp"},
		{[]string{jws}, "2030-01-01", ExitNotVerified, "invalid/chain"},
		{[]string{"a.b"}, "", ExitError, ""},
		{[]string{`{"signedPayload":"x.y.z"}`}, "", ExitError, "invalid/format"},
	} {
		ios, _, out, _ := TestIO()
		f := &Factory{IO: ios, Getenv: func(k string) string {
			if k == "S2S_CONFIG_DIR" {
				return dir
			}
			return ""
		}, Now: time.Now}
		err := runDecode(context.Background(), &decodeOptions{f: f, Args: c.args, At: c.at})
		if ExitCode(err) != c.code || !strings.Contains(out.String(), c.out) {
			t.Errorf("%.40s at %q: exit %d (%v), want %d; output:\n%s", c.args[0], c.at, ExitCode(err), err, c.code, out.String())
		}
	}
}
