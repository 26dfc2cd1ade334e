package tui

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/s2s-dev/s2s/internal/termsafe"
)

// FuzzColorJSON: colouring never changes the text. Without styles the output is exactly
// json.Indent's made terminal-safe (with long strings shortened), and input that is not JSON comes back unchanged
// but for control characters (invalid UTF-8 replaced in both cases).
var dateNotes = regexp.MustCompile(`  // [^\n]*Z(\n|$)`)

func FuzzColorJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,-2.5e3,true,false,null,"x\"y"]}`, `{"k" : "v"}`, `not json`, `[`, `"` + strings.Repeat("a", 300) + `"`,
		`{"signedDate":1760592122000,"x":{"expires_date_ms":"1760592122000"}}`} {
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
		// The dates spelled out at the end of their lines are all colorJSON adds: a JSON line never
		// ends in Z otherwise (a string ends in a quote, a number in a digit).
		out := dateNotes.ReplaceAllString(ansi.Strip(colored), "$1")
		if strings.Contains(buf.String(), "…") || strings.Contains(out, "chars)") {
			return // shortened long strings are checked by the tab tests
		}
		if want := termsafe.Text(buf.String()); out != want {
			t.Fatalf("text changed:\nwant %q\ngot  %q", want, out)
		}
	})
}
