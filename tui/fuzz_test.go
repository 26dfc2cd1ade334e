package tui

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// FuzzParseFilter: any text typed in the filter bar parses, every prefixed value lands in its
// field whole, and parsing the same text twice gives the same filter.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"", "type:DID_RENEW", "env:prod trust:v1 free text", "type: :x ::", "product:a:b otid:1 bundle:é",
		"\t type:refund\n", "trust:verified✓ subtype:VOLUNTARY"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := parseFilter(text)
		if again := parseFilter(text); again != got {
			t.Fatalf("parse not deterministic: %+v vs %+v", got, again)
		}
		for _, v := range []string{got.Type, got.Subtype, got.Environment, got.Trust, got.ProductID, got.BundleID, got.OriginalTransactionID} {
			if strings.ContainsAny(v, " \t\n") {
				t.Fatalf("a field holds whitespace: %+v", got)
			}
		}
		if got.Text != strings.Join(strings.Fields(got.Text), " ") {
			t.Fatalf("free text not normalised: %q", got.Text)
		}
	})
}

// FuzzColorJSON: colouring never changes the text. Without styles the output is exactly
// json.Indent's (with long strings shortened), and input that is not JSON comes back unchanged
// but for control characters (invalid UTF-8 replaced in both cases).
func FuzzColorJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,-2.5e3,true,false,null,"x\"y"]}`, `{"k" : "v"}`, `not json`, `[`, `"` + strings.Repeat("a", 300) + `"`} {
		f.Add([]byte(s))
	}
	st := newStyles(true, true)
	f.Fuzz(func(t *testing.T, raw []byte) {
		colored := colorJSON(st, raw)
		raw = bytes.ToValidUTF8(raw, []byte("\uFFFD"))
		var buf bytes.Buffer
		if err := json.Indent(&buf, raw, "", "  "); err != nil {
			if colored != cleanText(string(raw)) {
				t.Fatalf("invalid JSON changed: %q -> %q", raw, colored)
			}
			return
		}
		out := ansi.Strip(colored)
		if strings.Contains(buf.String(), "…") || strings.Contains(out, "chars)") {
			return // shortened long strings are checked by the tab tests
		}
		if out != buf.String() {
			t.Fatalf("text changed:\nwant %q\ngot  %q", buf.String(), out)
		}
	})
}
