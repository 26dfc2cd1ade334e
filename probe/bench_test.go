package probe

import (
	"context"
	"net/http"
	"testing"
)

// BenchmarkRun is one whole probe of a loopback HTTPS receiver: URL checks, TCP, an ATS TLS 1.3
// handshake, the five certificate checks and the POST.
func BenchmarkRun(b *testing.B) {
	ca := newCA(b, "bench CA")
	s := serveTLSB(b, certConfig(leafSpec{signer: ca}.mint(b)), http.HandlerFunc(ok200))
	f := &fixture{ca: ca}
	o := f.opts(s.URL + "/apple")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r := Run(ctx, o); r.Verdict != Success {
			b.Fatal(dump(r))
		}
	}
}

func BenchmarkCheckURL(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, _, v := CheckURL("https://example.com:8443/apple/notifications#frag"); v != "" {
			b.Fatal(v)
		}
	}
}
