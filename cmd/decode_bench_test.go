package cmd

import (
	"bytes"
	"context"
	"crypto/x509"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

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
	cpu := benchgen.ProcessCPU()
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
	if cpu := benchgen.ProcessCPU() - cpu; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "notifications/cpu-s")
	}
}

// BenchmarkDecodeCommandJSON: the whole "s2s decode --json --root R FILE" on a file of distinct
// DID_RENEW bodies, on every core; one op is one notification.
func BenchmarkDecodeCommandJSON(b *testing.B) {
	c, err := benchgen.AppleShapedChain()
	if err != nil {
		b.Fatal(err)
	}
	bodies, err := benchgen.DIDRenews(c, 1000)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	file := filepath.Join(dir, "notifications.ndjson")
	var buf bytes.Buffer
	if err := benchgen.WriteNDJSON(&buf, bodies); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	root := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(root, c.RootPEM(), 0o600); err != nil {
		b.Fatal(err)
	}
	ios, _, _, _ := TestIO()
	ios.Out = io.Discard
	f := &Factory{IO: ios, Getenv: func(k string) string {
		if k == "S2S_CONFIG_DIR" {
			return dir
		}
		return ""
	}, Now: time.Now}
	b.ResetTimer()
	cpu := benchgen.ProcessCPU()
	n := 0
	for n < b.N {
		if err := runDecode(context.Background(), &decodeOptions{f: f, Args: []string{file}, JSON: true, Roots: []string{root}}); err != nil {
			b.Fatal(err)
		}
		n += len(bodies)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "notifications/s")
	if cpu := benchgen.ProcessCPU() - cpu; cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "notifications/cpu-s")
	}
}
