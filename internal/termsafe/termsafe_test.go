package termsafe

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

func TestString(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"ascii", "DID_RENEW com.example.app", "DID_RENEW com.example.app"},
		{"printable unicode stays", "café 日本語 🎉 e\u0301 ❤\ufe0f", "café 日本語 🎉 e\u0301 ❤\ufe0f"},
		{"replacement char itself stays", "a\uFFFDb", "a\uFFFDb"},
		{"ESC", "a\x1b[31mred", `a\x1b[31mred`},
		{"OSC 52 clipboard with BEL", "\x1b]52;c;ZXZpbA==\x07", `\x1b]52;c;ZXZpbA==\x07`},
		{"OSC 8 link with ST", "\x1b]8;;http://evil\x1b\\x\x1b]8;;\x1b\\", `\x1b]8;;http://evil\x1b\x\x1b]8;;\x1b\`},
		{"newline, CR, tab", "line1\nline2\rover\there", `line1\nline2\rover\there`},
		{"CRLF on one line", "a\r\nb", `a\r\nb`},
		{"NUL and DEL", "a\x00b\x7f", `a\x00b\x7f`},
		{"C1 CSI as UTF-8", "a\u009b31m", `a\u009b31m`},
		{"C1 NEL and OSC", "\u0085\u009d", `\u0085\u009d`},
		{"raw C1 byte is invalid UTF-8", "a\x9b31m", `a\x9b31m`},
		{"invalid UTF-8", "\xff\xfe ok \xc3", `\xff\xfe ok \xc3`},
		{"overlong encoding", "\xc0\xaf", `\xc0\xaf`},
		{"encoded surrogate", "\xed\xa0\x80", `\xed\xa0\x80`},
		{"bidi override", "abc\u202Egnp.exe", `abc\u202egnp.exe`},
		{"bidi embeddings and pop", "\u202A\u202B\u202C\u202D", `\u202a\u202b\u202c\u202d`},
		{"bidi isolates", "\u2066x\u2067y\u2068z\u2069", `\u2066x\u2067y\u2068z\u2069`},
		{"bidi marks", "\u200E\u200F\u061C", `\u200e\u200f\u061c`},
		{"zero-width", "a\u200Bb\u200Cc\u200Dd\u2060e\uFEFF", `a\u200bb\u200cc\u200dd\u2060e\ufeff`},
		{"soft hyphen", "pay\u00ADpal", `pay\u00adpal`},
		{"line and paragraph separators", "a\u2028b\u2029c", `a\u2028b\u2029c`},
		{"tag characters", "x\U000E0041\U000E007F", `x\U000e0041\U000e007f`},
		{"backslash kept", `C:\path\x1b`, `C:\path\x1b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if Safe(tt.in) != (tt.in == tt.want) {
				t.Errorf("Safe(%q) = %v", tt.in, Safe(tt.in))
			}
		})
	}
}

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"{\n\t\"a\": 1\n}\n", "{\n\t\"a\": 1\n}\n"},
		{"windows\r\nlines\r\n", "windows\r\nlines\r\n"},
		{"over\rwrite", `over\rwrite`},
		{"end\r", `end\r`},
		{"\x1b[2J\x1b[H", `\x1b[2J\x1b[H`},
		{"a\u2028b\u202e\u200b\x85\xc2\x85", `a\u2028b\u202e\u200b\x85\u0085`},
		{strings.Repeat("x", 3*MaxRunes), strings.Repeat("x", 3*MaxRunes)}, // never cut
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTruncation(t *testing.T) {
	long := strings.Repeat("a", MaxRunes+500)
	got := String(long)
	if want := strings.Repeat("a", MaxRunes) + "…(500 more bytes)"; got != want {
		t.Errorf("String(long) = %q…", got[MaxRunes-5:])
	}
	if exact := strings.Repeat("é", MaxRunes); String(exact) != exact {
		t.Errorf("a value of exactly MaxRunes runes was changed")
	}
	if got, want := Limit("日本語です", 3), "日本語…(6 more bytes)"; got != want {
		t.Errorf("Limit = %q, want %q", got, want)
	}
	// The cut counts runes of the input, escapes are written whole after it.
	if got, want := Limit("\x1b\x1b\x1b\x1b", 2), `\x1b\x1b…(2 more bytes)`; got != want {
		t.Errorf("Limit = %q, want %q", got, want)
	}
	if got := Limit(long, 0); got != long {
		t.Errorf("Limit(s, 0) cut the value")
	}
	if got, want := Limit("abc", 3), "abc"; got != want {
		t.Errorf("Limit = %q, want %q", got, want)
	}
}

// The fast path: a value with nothing to escape comes back as the very same string, without
// allocating (it runs on every printed field).
func TestUnchangedWithoutAllocating(t *testing.T) {
	for _, s := range []string{"", "DID_RENEW", "com.example.app.monthly", "café 日本語 🎉", strings.Repeat("a", MaxRunes)} {
		got := String(s)
		if got != s || unsafe.StringData(got) != unsafe.StringData(s) {
			t.Errorf("String(%q) made a copy", s)
		}
		if n := testing.AllocsPerRun(100, func() { _ = String(s); _ = Text(s); _ = Safe(s) }); n != 0 {
			t.Errorf("String(%q): %v allocations", s, n)
		}
	}
}

// assertSafe fails when out could drive or garble a terminal.
func assertSafe(t *testing.T, in, out string, keepLines bool) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("%q -> %q: invalid UTF-8", in, out)
	}
	for i, r := range out {
		bad := r < 0x20 && !(keepLines && (r == '\n' || r == '\t' || r == '\r' && strings.HasPrefix(out[i:], "\r\n"))) ||
			r >= 0x7f && r < 0xa0 || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r)
		if bad {
			t.Fatalf("%q -> %q: %U at byte %d", in, out, r, i)
		}
	}
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b]0;title\x07", "\r\n\t", "\xff", "\u202e\u200b", "é日🎉", "a\u009bb", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		one := String(s)
		assertSafe(t, s, one, false)
		if strings.Contains(one, "\n") {
			t.Fatalf("%q -> %q: a new line", s, one)
		}
		text := Text(s)
		assertSafe(t, s, text, true)
		// Without a cut, escaping is idempotent (its output has nothing left to escape), and
		// a value that needs nothing is returned as it is.
		whole := Limit(s, 0)
		if Limit(whole, 0) != whole || Text(text) != text {
			t.Fatalf("%q: not idempotent", s)
		}
		if Safe(s) != (one == s) {
			t.Fatalf("%q: Safe %v but String -> %q", s, Safe(s), one)
		}
		if utf8.RuneCountInString(s) <= MaxRunes && one != whole {
			t.Fatalf("%q: cut below MaxRunes", s)
		}
	})
}

func BenchmarkString(b *testing.B) {
	for _, bc := range []struct{ name, s string }{
		{"clean-ascii", "com.example.app.subscription.monthly"},
		{"clean-unicode", "Abonnement mensuel café 日本語"},
		{"escape", "com.x\x1b]52;c;ZXZpbA==\x07\u202e"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = String(bc.s)
			}
		})
	}
}
