package probe

import (
	"fmt"
	"mime"
	"strings"

	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
)

// Apple does not say which charsets its sender accepts. The value names of sendAttemptResult mirror
// the exceptions of Java HTTP clients, where UNSUPPORTED_CHARSET is what Charset.forName throws
// while decoding an answer. Java guarantees six charsets on every platform; the probe takes those
// (and their usual aliases) as safe, warns for any other registered charset, which a Java runtime
// usually but not certainly knows, and gives UNSUPPORTED_CHARSET for a name no registry knows.
type charsetClass int

const (
	charsetNone     charsetClass = iota // no charset parameter
	charsetStandard                     // UTF-8, US-ASCII, ISO-8859-1, UTF-16 (BE, LE)
	charsetKnown                        // registered with IANA or WHATWG, but not guaranteed
	charsetUnknown                      // no registry knows it
)

var standardCharsets = map[string]bool{}

func init() {
	for _, names := range []string{
		"utf-8 utf8 unicode-1-1-utf-8",
		"us-ascii ascii iso646-us iso_646.irv:1991 iso_646.irv:1983 ansi_x3.4-1968 ansi_x3.4-1986 iso-ir-6 ibm367 cp367 csascii us 646 default",
		"iso-8859-1 iso8859-1 iso_8859-1 iso_8859-1:1987 iso8859_1 iso_8859_1 8859_1 iso-ir-100 latin1 l1 ibm819 ibm-819 cp819 819 csisolatin1",
		"utf-16 utf16 utf_16 unicode utf-16be utf_16be x-utf-16be iso-10646-ucs-2 unicodebigunmarked utf-16le utf_16le x-utf-16le unicodelittleunmarked",
	} {
		for _, n := range strings.Fields(names) {
			standardCharsets[n] = true
		}
	}
}

// answerCharset returns the charset an answer declares in its Content-Type, and its class.
func answerCharset(h map[string][]string) (string, charsetClass) {
	ct := ""
	if v := h["Content-Type"]; len(v) > 0 {
		ct = v[0]
	}
	if ct == "" {
		return "", charsetNone
	}
	_, params, err := mime.ParseMediaType(ct)
	if err != nil {
		// A Content-Type that does not parse still may name a charset; look for it by hand.
		// Lowered byte by byte: strings.ToLower can change the length of invalid UTF-8, and the
		// index must stay valid in ct.
		i := strings.Index(asciiLower(ct), "charset=")
		if i < 0 {
			return "", charsetNone
		}
		v := strings.Trim(strings.TrimSpace(strings.SplitN(ct[i+len("charset="):], ";", 2)[0]), `"'`)
		params = map[string]string{"charset": v}
	}
	cs, ok := params["charset"]
	if !ok {
		return "", charsetNone
	}
	return cs, classifyCharset(cs)
}

func classifyCharset(cs string) charsetClass {
	l := strings.ToLower(strings.TrimSpace(cs))
	if standardCharsets[l] {
		return charsetStandard
	}
	if l == "" {
		return charsetUnknown
	}
	// ianaindex answers a nil error for every registered name, implemented by x/text or not.
	if _, err := ianaindex.IANA.Encoding(l); err == nil {
		return charsetKnown
	}
	if _, err := htmlindex.Get(l); err == nil {
		return charsetKnown
	}
	return charsetUnknown
}

// charsetWarning flags a successful answer whose charset Apple's sender probably, but not surely,
// decodes.
func charsetWarning(a *answer) (Step, bool) {
	cs, class := answerCharset(a.header)
	if class != charsetKnown {
		return Step{}, false
	}
	return Step{Name: "charset", Title: "Charset", Status: StatusWarn,
		Detail: fmt.Sprintf("the answer declares charset=%s, a registered charset that is not among those every Java runtime supports", cs),
		Fix:    "Declare charset=utf-8, or answer with an empty body."}, true
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}
