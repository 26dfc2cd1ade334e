package cmd

import (
	"crypto/x509"
	"io"
	"testing"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/benchgen"
)

// BenchmarkDecodeJSONDistinct: what "s2s decode --json" does for each of many distinct DID_RENEW
// bodies, on one core: verify and decode, then write the indented JSON document.
func BenchmarkDecodeJSONDistinct(b *testing.B) {
	c, err := benchgen.AppleShapedChain()
	if err != nil {
		b.Fatal(err)
	}
	bodies, err := benchgen.DIDRenews(c, 500)
	if err != nil {
		b.Fatal(err)
	}
	v := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{c.Root()}})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d := v.Decode(bodies[i%len(bodies)])
		if d.Verification.Label != decode.LabelSimulated {
			b.Fatal(d.Verification.Message)
		}
		if err := renderDecodedJSON(io.Discard, d); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
