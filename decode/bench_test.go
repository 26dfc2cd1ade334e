package decode_test

import (
	"crypto/x509"
	"sync"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/benchgen"
)

const didRenew = "real/05-notification-2025-10-01-DID_RENEW-sandbox.jws"

// distinctSet is a set of distinct DID_RENEW bodies signed by one Apple-shaped chain (P-384 root
// and intermediate, P-256 leaf), made once per test binary: signing costs about 0.4 ms each.
var distinctSet = sync.OnceValues(func() (*distinct, error) {
	c, err := benchgen.AppleShapedChain()
	if err != nil {
		return nil, err
	}
	bodies, err := benchgen.DIDRenews(c, 1000)
	if err != nil {
		return nil, err
	}
	return &distinct{root: c.Root(), bodies: bodies}, nil
})

type distinct struct {
	root   *x509.Certificate
	bodies [][]byte
}

func distinctBodies(b *testing.B) *distinct {
	b.Helper()
	d, err := distinctSet()
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkVerifyDIDRenewDistinct: full verification and decoding of distinct DID_RENEW bodies
// (each with its own nested transaction and renewal info: three ES256 checks), on one long-lived
// verifier, as the receiver and decode use it. All are signed by one leaf, as Apple's are for
// months at a time, so the chain is walked once and cached; every signature is checked.
func BenchmarkVerifyDIDRenewDistinct(b *testing.B) {
	set := distinctBodies(b)
	v := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{set.root}})
	benchmarkVerify(b, set.bodies, func() *decode.Verifier { return v }, decode.LabelSimulated)
}

// BenchmarkVerifyDIDRenewUncached: the same with no chain cache at all, so each of the three JWS
// of a notification walks its chain (parsing leaf and intermediate, two P-384 checks) before its
// P-256 signature check: the cost when every notification comes from a new leaf.
func BenchmarkVerifyDIDRenewUncached(b *testing.B) {
	set := distinctBodies(b)
	v := decode.NewVerifierWithCacheSize(decode.Options{ExtraRoots: []*x509.Certificate{set.root}}, 0)
	before := decode.ChainWalks(v)
	benchmarkVerify(b, set.bodies, func() *decode.Verifier { return v }, decode.LabelSimulated)
	if walks := decode.ChainWalks(v) - before; walks < int64(3*b.N) {
		b.Fatalf("%d chain walks for %d notifications, want 3 each", walks, b.N)
	}
}

// BenchmarkVerifyDIDRenewRepeated: one real DID_RENEW from Apple, decoded over and over on a
// long-lived verifier: the same work as Distinct on one input that stays in the CPU's caches.
func BenchmarkVerifyDIDRenewRepeated(b *testing.B) {
	body := readVector(b, didRenew)
	v := decode.NewVerifier(decode.Options{})
	benchmarkVerify(b, [][]byte{body}, func() *decode.Verifier { return v }, decode.LabelVerified)
}

// BenchmarkVerifyDIDRenewDistinctParallel: Distinct on every core (GOMAXPROCS goroutines sharing
// one verifier), as "s2s decode" and the receiver run it.
func BenchmarkVerifyDIDRenewDistinctParallel(b *testing.B) {
	set := distinctBodies(b)
	v := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{set.root}})
	b.ReportAllocs()
	b.ResetTimer()
	cpu := benchgen.ProcessCPU()
	var next sync.Mutex
	i := 0
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			next.Lock()
			body := set.bodies[i%len(set.bodies)]
			i++
			next.Unlock()
			if d := v.Decode(body); d.Verification.Label != decode.LabelSimulated {
				b.Error(d.Verification.Message)
				return
			}
		}
	})
	reportRates(b, benchgen.ProcessCPU()-cpu)
}

func benchmarkVerify(b *testing.B, bodies [][]byte, verifier func() *decode.Verifier, want decode.Label) {
	b.Helper()
	if d := verifier().Decode(bodies[0]); d.Verification.Label != want {
		b.Fatalf("%s: %s", d.Verification.Label, d.Verification.Message)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := benchgen.ProcessCPU()
	i := 0
	for b.Loop() {
		if d := verifier().Decode(bodies[i%len(bodies)]); d.Verification.Label != want {
			b.Fatal(d.Verification.Message)
		}
		i++
	}
	reportRates(b, benchgen.ProcessCPU()-cpu)
}

// reportRates adds notifications per second of wall time and per second of CPU time: on a shared
// machine the second is the per-core figure (for the parallel benchmark, the rate per CPU-second
// of all cores together).
func reportRates(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "notifications/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "notifications/cpu-s")
	}
}
