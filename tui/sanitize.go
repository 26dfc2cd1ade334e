package tui

import (
	"strings"
	"unicode/utf8"

	"github.com/s2s-dev/s2s/store"
)

// Everything a capture carries came from the network (or from a payload someone signed): an
// escape sequence in a header, a body or a product ID must show as text, never reach the
// terminal. Control characters become U+FFFD ("\n" a space in one-line fields).

func needsCleaning(s string, keepLines bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c >= 0x80 {
			if keepLines && (c == '\n' || c == '\t') {
				continue
			}
			return true
		}
	}
	return false
}

func clean(s string, keepLines bool) string {
	if !needsCleaning(s, keepLines) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			b.WriteRune(utf8.RuneError)
		case keepLines && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r == '\n' || r == '\t' || r == '\r':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func cleanLine(s string) string { return clean(s, false) }
func cleanText(s string) string { return clean(s, true) }

// cleanCapture cleans every text field shown on screen; the body is cleaned where it is shown,
// so copies and exports keep the exact bytes.
func cleanCapture(c *store.Capture) {
	for _, p := range []*string{&c.Method, &c.Path, &c.Query, &c.RemoteAddr, &c.SourceIP, &c.AppleRange,
		&c.NotificationUUID, &c.Type, &c.Subtype, &c.Environment, &c.BundleID, &c.OriginalTransactionID,
		&c.TransactionID, &c.ProductID, &c.Trust, &c.TrustClass, &c.TrustMessage, &c.IdentityMismatch} {
		*p = cleanLine(*p)
	}
	if len(c.Headers) > 0 {
		h := make(map[string][]string, len(c.Headers))
		for k, vs := range c.Headers {
			cv := make([]string, len(vs))
			for i, v := range vs {
				cv[i] = cleanLine(v)
			}
			h[cleanLine(k)] = cv
		}
		c.Headers = h
	}
}

func cleanDelivery(d *store.Delivery) {
	d.Target, d.Error, d.State = cleanLine(d.Target), cleanLine(d.Error), cleanLine(d.State)
	d.Response = cleanText(d.Response)
}
