package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/store"
)

// The Summary and Decoded tabs on a real Apple notification decoded by the real verifier: the
// fields come out of whatever document decode produces, not out of a fixture's shape.
func TestRealRefundThroughTheVerifier(t *testing.T) {
	jws, err := os.ReadFile(filepath.Join("..", "testdata", "vectors", "real", "19-notification-2025-10-16-REFUND-sandbox.jws"))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"signedPayload":"` + strings.TrimSpace(string(jws)) + `"}`)
	c := store.Capture{ID: 1, ReceivedAt: base, Method: "POST", Path: "/", Body: body, BodySize: len(body),
		Type: "REFUND", Environment: "Sandbox", ProductID: "com.getsession.org.pro_sub", Trust: "verified",
		OriginalTransactionID: "2000001024993299", SignedDate: time.UnixMilli(1760592122788), ResponseStatus: 200}
	h := newHarness(t, Config{Decode: VerifierDecoder(decode.NewVerifier(decode.Options{})), Location: time.UTC}, c)
	h.send(keyMsg("enter"))
	scr := h.plain()
	for _, want := range []string{
		"Signed             2025-10-16 05:22:02 UTC\n", // one time when local is UTC
		"Revoked            2025-10-16 05:19:59 UTC",
		"Refund reason      0 (another reason)",
		"Renews into        com.getsession.org.pro_sub_3_months",
		"Price              1.99 AUD",
	} {
		if !strings.Contains(scr, want) {
			t.Errorf("Summary lacks %q:\n%s", want, scr)
		}
	}
	h.press("2")
	scr = ansi.Strip(h.m.vp.GetContent()) // the whole document, not just the screen
	for _, want := range []string{`"notificationType": "REFUND"`, `"revocationReason": 0`, "chars)"} {
		if !strings.Contains(scr, want) {
			t.Errorf("Decoded lacks %q", want)
		}
	}
	// The notification is what the developer opened the tab for; how it was verified follows.
	if !strings.HasPrefix(scr, "{\n  \"payload\": {\n    \"notificationType\": \"REFUND\"") || !strings.Contains(scr, `"verification": {`) {
		t.Errorf("Decoded does not start with the payload:\n%.400s", scr)
	}
	h.press("y")
	if len(h.clipboard) != 1 || !strings.Contains(h.clipboard[0], strings.TrimSpace(string(jws))[:200]) {
		t.Errorf("y did not copy the whole decoded document")
	}
}
