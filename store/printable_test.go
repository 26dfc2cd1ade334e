package store

import (
	"net/http"
	"strings"
	"testing"

	"github.com/s2s-dev/s2s/decode"
)

func TestPrintable(t *testing.T) {
	const evil = "\x1b]0;title\x07\u202e\u200b\r\n"
	c := Capture{Subject: decode.Subject{Type: "T" + evil, ProductID: evil}, TrustMessage: evil, Body: []byte(evil),
		Headers: http.Header{"X" + evil: {evil}}}
	p := c.Printable()
	for _, s := range []string{p.Type, p.ProductID, p.TrustMessage, p.Headers["X"+`\x1b]0;title\x07\u202e\u200b\r\n`][0]} {
		if strings.ContainsAny(s, "\x1b\x07\u202e\u200b\r\n") {
			t.Errorf("not escaped: %q", s)
		}
	}
	if string(p.Body) != evil || c.ProductID != evil || c.Headers["X"+evil][0] != evil {
		t.Error("the original capture or the body changed")
	}
	d := Delivery{Target: evil, Error: evil, Response: "line1\nline2\x1b[2J"}.Printable()
	if d.Response != `line1`+"\n"+`line2\x1b[2J` || strings.ContainsAny(d.Target+d.Error, "\x1b\n") {
		t.Errorf("delivery: %+v", d)
	}
}
