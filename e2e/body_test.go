package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// forgedJWS is a notification nobody signed ("alg": "none", a REFUND): what an attacker puts
// where the developer's server reads, beside a genuine notification where Go would read.
const forgedJWS = "eyJhbGciOiJub25lIn0.eyJub3RpZmljYXRpb25UeXBlIjoiUkVGVU5EIn0.AAAA"

func realJWS(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "vectors", "real", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// ambiguousBodies are bodies that an exact-key reader (the developer's server) reads differently
// from Go's encoding/json, or that hold something else than a notification, each with what the
// label's message must say. Every one carries a genuine Apple JWS.
func ambiguousBodies(t *testing.T) []struct{ name, body, why string } {
	genuine := realJWS(t, "04-notification-2025-09-05-TEST-sandbox.jws")
	tx := realJWS(t, "27-transaction-2025-02-10-consumable-sandbox.jws")
	return []struct{ name, body, why string }{
		{"case variant", `{"signedPayload":"` + forgedJWS + `","SignedPayload":"` + genuine + `"}`, `differs from "signedPayload" only by case`},
		{"duplicate key", `{"signedPayload":"` + forgedJWS + `","signedPayload":"` + genuine + `"}`, `"signedPayload" appears twice`},
		{"folded key", `{"ſignedPayload":"` + genuine + `"}`, `Unicode folding`},
		{"extra key", `{"signedPayload":"` + genuine + `","notificationType":"REFUND"}`, `beside signedPayload`},
		{"transaction as a notification", `{"signedPayload":"` + tx + `"}`, "a signed transaction, not a notification"},
	}
}

// TestListenReadsBodiesWithExactKeys: through the real binary, a body the developer's server
// would read differently, or a genuine transaction posted as a notification, is stored (nothing
// is lost) as invalid/format with the reason, and is not forwarded; Apple's own body still is.
func TestListenReadsBodiesWithExactKeys(t *testing.T) {
	dir := t.TempDir()
	tg := startFwdTarget(t, nil, http.StatusOK)
	l := StartListener(t, dir, "--forward-to", tg.URL+"/apple")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bad := ambiguousBodies(t)
	for _, b := range bad {
		if code, err := Post(ctx, l.URL, []byte(b.body)); err != nil || code != http.StatusOK {
			t.Fatalf("%s: %d %v", b.name, code, err)
		}
	}
	control := Body(realJWS(t, "04-notification-2025-09-05-TEST-sandbox.jws"))
	if code, err := Post(ctx, l.URL, control); err != nil || code != http.StatusOK {
		t.Fatalf("control: %d %v", code, err)
	}
	succeeded := 0
	for range len(bad) + 1 {
		d := fwdDelivery(waitFwdEvent(t, l, func(e map[string]any) bool { return fwdDelivery(e) != nil }))
		switch {
		case d["state"] == "succeeded":
			succeeded++
		case !strings.Contains(fmt.Sprint(d["error"]), "--forward-invalid"):
			t.Errorf("delivery %v", d)
		}
	}
	if succeeded != 1 {
		t.Errorf("%d deliveries succeeded, want only Apple's own body", succeeded)
	}
	// Every delivery was decided above: the target got exactly the one genuine body.
	select {
	case b := <-tg.bodies:
		if !bytes.Equal(b, control) {
			t.Errorf("the target received %.120s", b)
		}
	case <-ctx.Done():
		t.Fatal("the genuine body was not forwarded")
	}
	if n := len(tg.bodies); n != 0 {
		t.Errorf("the target received %d more bodies", n)
	}
	caps := capturesListJSON(t, dir, "--limit", "100")
	if len(caps) != len(bad)+1 {
		t.Fatalf("%d captures, want %d", len(caps), len(bad)+1)
	}
	for i, b := range bad {
		c := caps[len(caps)-1-i] // newest first
		if c.Trust != "invalid" || c.TrustClass != "format" || !strings.Contains(c.TrustMessage, b.why) {
			t.Errorf("%s: stored as %s/%s %q; want invalid/format saying %q", b.name, c.Trust, c.TrustClass, c.TrustMessage, b.why)
		}
	}
	if caps[0].Trust != "verified" {
		t.Errorf("control: %s %q", caps[0].Trust, caps[0].TrustMessage)
	}
}

// TestDecodeReadsBodiesWithExactKeys: decode of such a body exits 1 (malformed input) and says
// why; a bare transaction JWS still verifies and shows its kind.
func TestDecodeReadsBodiesWithExactKeys(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run := func(args ...string) (string, int) {
		cmd := exec.CommandContext(ctx, Binary, args...)
		cmd.Env = Env(dir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.String(), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), 0
	}
	for _, b := range ambiguousBodies(t) {
		f := filepath.Join(dir, "body.json")
		if err := os.WriteFile(f, []byte(b.body), 0o644); err != nil {
			t.Fatal(err)
		}
		out, code := run("decode", f)
		if code != 1 || !strings.Contains(out, "invalid/format") || !strings.Contains(out, b.why) || strings.Contains(out, "  verified\n") {
			t.Errorf("%s: exit %d\n%.600s", b.name, code, out)
		}
	}
	tx := realJWS(t, "27-transaction-2025-02-10-consumable-sandbox.jws")
	out, code := run("decode", tx)
	if code != 0 || !strings.HasPrefix(out, "transaction  Sandbox  com.goodheartapp") || !strings.Contains(out, "trust: verified") {
		t.Errorf("bare transaction: exit %d\n%.600s", code, out)
	}
	out, code = run("decode", "--json", tx)
	if code != 0 || !strings.Contains(out, `"kind": "transaction"`) || !strings.Contains(out, `"label": "verified"`) {
		t.Errorf("bare transaction --json: exit %d\n%.600s", code, out)
	}
}
