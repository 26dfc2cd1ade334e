package tui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/termsafe"
)

// longString is where a JSON string is shortened on screen: messages stay whole, a compact JWS
// or a certificate (thousands of characters) does not.
const longString = 300

// colorJSON pretty-prints a JSON document and colours it token by token, and spells out
// millisecond dates at the end of their line as s2s decode does (decode.DateNote). Input that is
// not JSON is returned as it is (control characters replaced), so a broken body is still shown.
// Invalid UTF-8 becomes U+FFFD: raw bytes would garble the terminal.
func colorJSON(s styles, raw []byte) string {
	raw = bytes.ToValidUTF8(raw, []byte("\uFFFD"))
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return cleanText(string(raw))
	}
	src := buf.String()
	var out strings.Builder
	out.Grow(len(src) * 2)
	// key is the member whose value comes next ("" in an array); note waits for the end of line.
	var key, note string
	dated := func(value string) {
		if key != "" {
			note = decode.DateNote(key, value)
		}
		key = ""
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			j++ // closing quote
			if j > len(src) {
				j = len(src)
			}
			tok := src[i:j]
			k := j
			for k < len(src) && src[k] == ' ' {
				k++
			}
			// A JSON string may hold C1 controls, bidi and zero-width characters unescaped.
			if k < len(src) && src[k] == ':' {
				out.WriteString(s.JSONKey.Render(termsafe.Limit(tok, 0)))
				key, _ = strconv.Unquote(tok)
				i = j
				continue
			}
			if v, err := strconv.Unquote(tok); err == nil {
				dated(v)
			}
			if len(tok) > longString {
				// Compact JWS and certificates run to thousands of characters; the Raw tab and
				// the copy keys have them whole.
				n := 80
				for n > 0 && !utf8.RuneStart(tok[n]) {
					n--
				}
				out.WriteString(s.JSONString.Render(termsafe.Limit(tok[:n], 0)+"…\"") + s.JSONNull.Render(fmt.Sprintf(" (%d chars)", utf8.RuneCountInString(tok)-2)))
			} else {
				out.WriteString(s.JSONString.Render(termsafe.Limit(tok, 0)))
			}
			i = j
		case c == '-' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(src) && strings.IndexByte("0123456789.eE+-", src[j]) >= 0 {
				j++
			}
			out.WriteString(s.JSONNumber.Render(src[i:j]))
			dated(src[i:j])
			i = j
		case strings.HasPrefix(src[i:], "true"):
			out.WriteString(s.JSONBool.Render("true"))
			i += 4
		case strings.HasPrefix(src[i:], "false"):
			out.WriteString(s.JSONBool.Render("false"))
			i += 5
		case strings.HasPrefix(src[i:], "null"):
			out.WriteString(s.JSONNull.Render("null"))
			i += 4
		case strings.IndexByte("{}[],:", c) >= 0:
			if c == '{' || c == '[' {
				key = ""
			}
			out.WriteString(s.JSONPunct.Render(string(c)))
			i++
		case c == '\n' && note != "":
			out.WriteString("  " + s.JSONNull.Render("// "+note) + "\n")
			note = ""
			i++
		default:
			// White space between tokens, and whatever json.Indent keeps after the value (it
			// copies trailing white space, a carriage return included): shown as the rest of the
			// text is, so a CR cannot move the cursor.
			j := i + 1
			for j < len(src) && strings.IndexByte(" \t\r\n", src[j]) >= 0 && (src[j] != '\n' || note == "") {
				j++
			}
			out.WriteString(termsafe.Text(src[i:j]))
			i = j
		}
	}
	if note != "" {
		out.WriteString("  " + s.JSONNull.Render("// "+note))
	}
	return out.String()
}
