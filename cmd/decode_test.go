package cmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func decodeVector(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/vectors/" + rel)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeUsage(t *testing.T) {
	ios, _, _, _ := TestIO()
	ios.SetTTY(true, true, true)
	f := &Factory{IO: ios, Getenv: func(string) string { return "" }, Now: time.Now}
	err := runDecode(context.Background(), &decodeOptions{f: f})
	if ExitCode(err) != ExitUsage {
		t.Fatalf("no input on a terminal: %v (exit %d)", err, ExitCode(err))
	}
	// Standard input is read to its end once; a second "-" would only ever see nothing.
	err = runDecode(context.Background(), &decodeOptions{f: f, Args: []string{"-", "x.jws", "-"}})
	if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "standard input") {
		t.Fatalf(`"-" twice: %v (exit %d), want a usage error`, err, ExitCode(err))
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

// TestDecodeJSONSchemaIsDocumented: every field that `s2s decode --json` prints, for each kind of
// input, is in the schema of docs/decode.md, so the documentation cannot drift from the output.
func TestDecodeJSONSchemaIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/decode.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "### `--json` schema")
	_, rest, ok2 := strings.Cut(rest, "```json\n")
	block, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/decode.md has no ```json block under \"### `--json` schema\"")
	}
	var schema map[string]any
	if err := json.Unmarshal([]byte(block), &schema); err != nil {
		t.Fatalf("the documented schema is not JSON: %v", err)
	}
	documented := map[string]bool{}
	var collect func(prefix string, v any)
	collect = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				documented[prefix+"."+k] = true
				collect(prefix+"."+k, e)
			}
		case []any:
			for _, e := range v {
				collect(prefix+"[]", e)
			}
		}
	}
	collect("", schema)

	var check func(input, prefix string, v any)
	check = func(input, prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				p := prefix + "." + k
				// The schema spells out the verdict once: nested verdicts and the notification's
				// own verdict have the same shape.
				if name, rest, ok := strings.Cut(strings.TrimPrefix(p, ".verification.nested."), "."); ok && name != "" && strings.HasPrefix(p, ".verification.nested.") {
					p = ".verification." + rest
				}
				if after, ok := strings.CutPrefix(p, ".ownVerification."); ok {
					p = ".verification." + after
				}
				if !documented[p] {
					t.Errorf("%s: field %s is not in the schema of docs/decode.md", input, p)
					continue
				}
				check(input, p, e)
			}
		case []any:
			for _, e := range v {
				check(input, prefix+"[]", e)
			}
		}
	}
	dir := t.TempDir()
	v1 := filepath.Join(dir, "v1.json")
	if err := os.WriteFile(v1, []byte(`{"notification_type":"DID_RENEW","environment":"PROD","password":"x","bid":"com.example.app","unified_receipt":{"latest_receipt_info":[{"product_id":"p","transaction_id":"1","original_transaction_id":"1","purchase_date_ms":"1600000000000"}]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.txt")
	if err := os.WriteFile(garbage, []byte("not a notification\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, input := range []string{
		"../testdata/vectors/real/05-notification-2025-10-01-DID_RENEW-sandbox.jws",
		"../testdata/vectors/real/02-notification-2022-03-04-DID_RENEW-sandbox.jws",
		"../testdata/vectors/real/27-transaction-2025-02-10-consumable-sandbox.jws",
		"../testdata/vectors/real/20-renewalinfo-2022-03-04-sandbox.jws",
		"../testdata/vectors/apple-lib-mock/xcode/xcode-signed-app-transaction.jws",
		v1, garbage,
	} {
		code, stdout, stderr := runArgs(t, "decode", "--json", input)
		if code == ExitUsage || stdout == "" {
			t.Fatalf("decode --json %s: exit %d: %s", input, code, stderr)
		}
		var out map[string]any
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			t.Fatalf("decode --json %s: %v", input, err)
		}
		for k, e := range out {
			if k == "payload" { // Apple's own fields, documented by Apple
				continue
			}
			if !documented["."+k] {
				t.Errorf("%s: field .%s is not in the schema of docs/decode.md", input, k)
				continue
			}
			check(input, "."+k, e)
		}
	}
}
