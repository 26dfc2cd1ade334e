// Package termsafe makes untrusted text safe to print to a terminal.
//
// Everything s2s shows a person may have come from outside: a field decoded from a payload
// nobody signed, a header, a body, a target server's answer. Written raw, such text can drive
// the terminal (ESC and C1 sequences set the window title, write the clipboard, plant links,
// clear the screen; a carriage return overwrites a line) or lie about what it says (bidi
// overrides reorder it, zero-width characters hide in it and break column alignment). Every
// human printer passes such values through this package; JSON output keeps the exact strings
// and leaves escaping to encoding/json.
//
// Characters that need it are shown as visible Go-style escapes ("\x1b", "\r", "\n", "\u202e",
// invalid UTF-8 bytes as "\xff"); ordinary printable Unicode (accents, CJK, emoji) is kept. A
// backslash is not doubled: the output is for reading, not for parsing back.
package termsafe

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxRunes is where String cuts a value: a field, a header or a message stays whole, a
// multi-kilobyte blob sent to flood the screen does not.
const MaxRunes = 1024

// String returns s for one line of human output: every control character (newline and tab
// included), C1 character, DEL, bidi control, zero-width or other invisible format character
// and invalid byte is shown escaped, and a value longer than MaxRunes is cut with a visible
// marker. When nothing needs changing s itself is returned, without allocating.
func String(s string) string { return clean(s, false, MaxRunes) }

// Limit is String with the cut at max runes of s instead of MaxRunes; max <= 0 means no cut.
func Limit(s string, max int) string { return clean(s, false, max) }

// Text is String for multi-line text (a body, a server's answer): newlines, tabs and a
// carriage return just before a newline are kept, everything else is escaped as in String. It
// never cuts; bound the input before.
func Text(s string) string { return clean(s, true, 0) }

// Safe reports whether String(s) == s.
func Safe(s string) bool { return scan(s, false, MaxRunes) }

// scan reports whether s can be printed as it is: nothing to escape and at most max runes
// (max <= 0: any length).
func scan(s string, keepLines bool, max int) bool {
	n := 0
	for i := 0; i < len(s); {
		if max > 0 && n >= max {
			return false
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				if !keepLines || !lineByte(s, i) {
					return false
				}
			}
			i++
			n++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, size) {
			return false
		}
		i += size
		n++
	}
	return true
}

// lineByte: in multi-line text a newline, a tab and the CR of a CRLF only lay the text out.
func lineByte(s string, i int) bool {
	switch s[i] {
	case '\n', '\t':
		return true
	case '\r':
		return i+1 < len(s) && s[i+1] == '\n'
	}
	return false
}

// unsafeRune: a multi-byte rune (or invalid byte) that must be shown escaped.
func unsafeRune(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1: // an invalid byte
		return true
	case r < 0xa0: // C1 controls, which some terminals obey in UTF-8 too
		return true
	case r == '\u2028' || r == '\u2029': // line and paragraph separators
		return true
	}
	// Format characters: bidi embeddings, overrides, isolates and marks, zero-width space,
	// joiners, word joiner, BOM, soft hyphen, invisible operators, tag characters.
	return unicode.Is(unicode.Cf, r)
}

func clean(s string, keepLines bool, max int) string {
	if scan(s, keepLines, max) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	n := 0
	for i := 0; i < len(s); {
		if max > 0 && n == max {
			b.WriteString("…(")
			b.WriteString(strconv.Itoa(len(s) - i))
			b.WriteString(" more bytes)")
			break
		}
		n++
		c := s[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 || c == 0x7f) && !(keepLines && lineByte(s, i)) {
				writeByteEscape(&b, c)
			} else {
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			writeByteEscape(&b, c)
		case unsafeRune(r, size):
			writeRuneEscape(&b, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

const hex = "0123456789abcdef"

func writeByteEscape(b *strings.Builder, c byte) {
	switch c {
	case '\n':
		b.WriteString(`\n`)
	case '\r':
		b.WriteString(`\r`)
	case '\t':
		b.WriteString(`\t`)
	default:
		b.WriteString(`\x`)
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
}

func writeRuneEscape(b *strings.Builder, r rune) {
	if r > 0xffff {
		b.WriteString(`\U`)
		for shift := 28; shift >= 0; shift -= 4 {
			b.WriteByte(hex[(r>>uint(shift))&0xf])
		}
		return
	}
	b.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		b.WriteByte(hex[(r>>uint(shift))&0xf])
	}
}
