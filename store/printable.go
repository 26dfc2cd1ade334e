package store

import (
	"net/http"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/termsafe"
)

// Printable returns a copy of c for a person to read: every text field passed through
// termsafe.String, since all of them came from the network or from a payload someone may not
// have signed. Body keeps its exact bytes (shown, or not, by whoever prints it); JSON output
// uses c itself.
func (c Capture) Printable() Capture {
	for _, p := range []*string{&c.Method, &c.Path, &c.Query, &c.RemoteAddr, &c.SourceIP, &c.AppleRange,
		&c.NotificationUUID, &c.Type, &c.Subtype, &c.BundleID, &c.OriginalTransactionID,
		&c.TransactionID, &c.ProductID, &c.TrustMessage, &c.IdentityMismatch} {
		*p = termsafe.String(*p)
	}
	// A stored or relayed capture may hold any text in its typed columns too.
	c.Environment = decode.Environment(termsafe.String(string(c.Environment)))
	c.Trust = decode.Label(termsafe.String(string(c.Trust)))
	c.TrustClass = decode.Class(termsafe.String(string(c.TrustClass)))
	c.Kind = decode.Kind(termsafe.String(string(c.Kind)))
	if len(c.AnswerProblems) > 0 {
		ps := make([]string, len(c.AnswerProblems))
		for i, p := range c.AnswerProblems {
			ps[i] = termsafe.String(p)
		}
		c.AnswerProblems = ps
	}
	if len(c.Headers) > 0 {
		h := make(http.Header, len(c.Headers))
		for k, vs := range c.Headers {
			cv := make([]string, len(vs))
			for i, v := range vs {
				cv[i] = termsafe.String(v)
			}
			h[termsafe.String(k)] = cv
		}
		c.Headers = h
	}
	return c
}

// Printable returns a copy of d for a person to read: the target's answer is remote text (kept
// on several lines), the error may quote it.
func (d Delivery) Printable() Delivery {
	d.Target, d.Error, d.State = termsafe.String(d.Target), termsafe.String(d.Error), termsafe.String(d.State)
	d.Response = termsafe.Text(d.Response)
	return d
}
