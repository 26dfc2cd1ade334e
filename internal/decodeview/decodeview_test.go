package decodeview

import (
	"os"
	"strings"
	"testing"
	"unicode"

	"github.com/s2s-dev/s2s/decode"
)

func vector(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/vectors/" + rel)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func render(t testing.TB, d *decode.Decoded, st Styles) string {
	t.Helper()
	var b strings.Builder
	if err := Write(&b, d, st); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestWrite: colour only when asked, an UNVERIFIED marker on invalid payloads, and the same text
// once the escapes are removed.
func TestWrite(t *testing.T) {
	v := decode.NewVerifier(decode.Options{})
	d := v.Decode(vector(t, "real/05-notification-2025-10-01-DID_RENEW-sandbox.jws"))
	plain, color := render(t, d, Styles{}), render(t, d, NewStyles(true))
	if strings.Contains(plain, "\x1b[") || !strings.Contains(color, "\x1b[") {
		t.Fatal("colour escapes in plain output, or none in coloured output")
	}
	if strings.Contains(plain, "UNVERIFIED") {
		t.Error("a verified payload is marked UNVERIFIED")
	}
	for _, want := range []string{
		"\ntrust: verified  ",
		"\n  signedTransactionInfo: verified  ",
		`"signedTransactionInfo": <transaction, verified> {`,
		`"signedDate": 1759302518835  // 2025-10-01T07:08:38.835Z`,
	} {
		if !strings.Contains(plain, want) {
			t.Errorf("output lacks %q:\n%s", want, plain)
		}
	}
	bad := v.Decode(vector(t, "real/02-notification-2022-03-04-DID_RENEW-sandbox.jws"))
	lines := strings.Split(render(t, bad, Styles{}), "\n")
	if !strings.HasPrefix(lines[0], "UNVERIFIED  DID_RENEW  Sandbox") || !strings.HasSuffix(lines[0], "invalid/chain") || lines[1] != "UNVERIFIED: the fields below are NOT verified" {
		t.Errorf("invalid payload output starts:\n%s\n%s", lines[0], lines[1])
	}
}

// A real-time request's userLocale is printed on the summary line: it is payload text like the
// others and is escaped like them.
func TestSummaryLineEscapesEveryField(t *testing.T) {
	const evil = "\x1b]52;c;ZXZpbA==\x07"
	got := summaryLine(decode.Summary{Kind: "realtime-request", UserLocale: "en_US" + evil, Subject: decode.Subject{ProductID: evil}, Label: decode.LabelInvalid}, Styles{})
	if strings.ContainsAny(got, "\x1b\x07") || !strings.Contains(got, `locale=en_US\x1b]52`) {
		t.Errorf("summary line %q", got)
	}
}

// FuzzWrite: whatever the input, the view holds no character that could drive a terminal:
// no control character but the newline, no C1, no bidi or zero-width character.
func FuzzWrite(f *testing.F) {
	for _, s := range []string{`{}`, `{"signedPayload":"a.b.c"}`, "not json\x1b[2J", `{"notification_type":"DID_RENEW","password":"\u001b]0;x\u0007"}`} {
		f.Add([]byte(s))
	}
	f.Add(vector(f, "real/05-notification-2025-10-01-DID_RENEW-sandbox.jws"))
	v := decode.NewVerifier(decode.Options{})
	f.Fuzz(func(t *testing.T, in []byte) {
		out := render(t, v.Decode(in), Styles{})
		for _, r := range out {
			if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
				t.Fatalf("%U in the view of %q:\n%q", r, in, out)
			}
		}
	})
}
