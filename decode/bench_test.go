package decode_test

import (
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
)

const didRenew = "real/05-notification-2025-10-01-DID_RENEW-sandbox.jws"

// BenchmarkVerifyDIDRenew: full verification and decoding of a real DID_RENEW notification with
// its nested transaction and renewal info (three JWS), on a long-lived verifier whose chain cache
// is warm, as in the receiver.
func BenchmarkVerifyDIDRenew(b *testing.B) {
	body := readVector(b, didRenew)
	v := decode.NewVerifier(decode.Options{})
	if d := v.Decode(body); d.Verification.Label != decode.LabelVerified {
		b.Fatalf("%s: %s", d.Verification.Label, d.Verification.Message)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for b.Loop() {
		if d := v.Decode(body); d.Verification.Label != decode.LabelVerified {
			b.Fatal(d.Verification.Message)
		}
	}
	reportRates(b, processCPU()-cpu)
}

// BenchmarkVerifyDIDRenewUncached: the same with an empty cache every time, so each of the three
// JWS walks the chain (two P-384 checks each) before its P-256 signature check.
func BenchmarkVerifyDIDRenewUncached(b *testing.B) {
	body := readVector(b, didRenew)
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		if d := decode.NewVerifier(decode.Options{}).Decode(body); d.Verification.Label != decode.LabelVerified {
			b.Fatal(d.Verification.Message)
		}
	}
	reportRates(b, processCPU()-cpu)
}

// reportRates adds notifications per second of wall time and per second of CPU time: on a shared
// machine the second is the per-core figure.
func reportRates(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "notifications/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "notifications/cpu-s")
	}
}
