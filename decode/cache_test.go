package decode_test

import (
	"crypto/x509"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/testpki"
)

// TestChainCache: one chain walk serves every JWS signed by the same leaf, and a cached chain
// is still checked against each payload's effective time.
func TestChainCache(t *testing.T) {
	const file = "real/05-notification-2025-10-01-DID_RENEW-sandbox.jws"
	body := readVector(t, file)
	v := decode.NewVerifier(decode.Options{Clock: clock})
	for i := 0; i < 5; i++ {
		if d := v.Decode(body); d.Verification.Label != decode.LabelVerified {
			t.Fatalf("round %d: %s %q", i, d.Verification.Label, d.Verification.Message)
		}
	}
	// Notification, transaction and renewal info share one leaf: one walk in all.
	if n := decode.ChainWalks(v); n != 1 {
		t.Fatalf("%d chain walks for 5 notifications with nested JWS, want 1", n)
	}

	// The leaf of vector 05 is valid 2025-09-19 .. 2027-10-13.
	for _, c := range []struct {
		at    time.Time
		label decode.Label
		walk  bool
	}{
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), decode.LabelVerified, false}, // inside the window: cached
		{time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC), decode.LabelInvalid, true},   // after it: walked, fails
		{time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC), decode.LabelInvalid, true},   // before it: walked, fails
		{time.Date(2027, 10, 13, 0, 0, 0, 0, time.UTC), decode.LabelVerified, false},
	} {
		at := decode.NewVerifier(decode.Options{At: c.at})
		if d := at.Decode(body); d.Verification.Label != c.label {
			t.Errorf("at %s: %s/%s %q", c.at, d.Verification.Label, d.Verification.Class, d.Verification.Message)
		}
		before := decode.ChainWalks(at)
		d := at.Decode(body)
		if d.Verification.Label != c.label {
			t.Errorf("again at %s: %s", c.at, d.Verification.Label)
		}
		if walked := decode.ChainWalks(at) > before; walked != c.walk {
			t.Errorf("at %s: walked %v, want %v", c.at, walked, c.walk)
		}
	}
}

// TestChainCacheTimeChange: on one verifier, a chain cached at one time is re-walked when a later
// payload's effective time falls outside the chain's window, and gives the right error.
func TestChainCacheTimeChange(t *testing.T) {
	chain := mustChain(t, testpki.Options{LeafNotBefore: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), LeafNotAfter: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	v := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{chain.Root}})
	sign := func(ms int64) []byte {
		return []byte(chain.Sign([]byte(`{"transactionId":"1","bundleId":"b","environment":"Sandbox","signedDate":` + strconv.FormatInt(ms, 10) + `}`)))
	}
	inside := sign(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	after := sign(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	if d := v.Decode(inside); d.Verification.Label != decode.LabelSimulated {
		t.Fatalf("inside: %s %q", d.Verification.Label, d.Verification.Message)
	}
	if d := v.Decode(after); d.Verification.Class != decode.ClassChain {
		t.Fatalf("after expiry with the chain cached: %s/%s", d.Verification.Label, d.Verification.Class)
	}
	if d := v.Decode(inside); d.Verification.Label != decode.LabelSimulated {
		t.Fatalf("inside again: %s", d.Verification.Label)
	}
	if n := decode.ChainWalks(v); n != 2 {
		t.Errorf("%d walks, want 2 (first fill, then the failing time)", n)
	}
}

// TestChainCacheBounded: the cache never holds more than its size, and evicted chains are walked
// again with the same verdict.
func TestChainCacheBounded(t *testing.T) {
	var (
		roots []*x509.Certificate
		jws   [][]byte
	)
	for i := 0; i < 6; i++ {
		c := mustChain(t, testpki.Options{})
		roots = append(roots, c.Root)
		jws = append(jws, []byte(c.Sign(txPayload("Sandbox", "com.example"))))
	}
	v := decode.NewVerifierWithCacheSize(decode.Options{ExtraRoots: roots}, 4)
	for round := 0; round < 2; round++ {
		for i, j := range jws {
			if d := v.Decode(j); d.Verification.Label != decode.LabelSimulated {
				t.Fatalf("chain %d: %s %q", i, d.Verification.Label, d.Verification.Message)
			}
			if n := decode.CacheLen(v); n > 4 {
				t.Fatalf("cache holds %d entries, bound 4", n)
			}
		}
	}
	if n := decode.ChainWalks(v); n != 12 {
		t.Errorf("%d walks for 6 chains cycled twice through a cache of 4, want 12", n)
	}
}

// TestVerifierConcurrent: one verifier used from many goroutines (run with -race).
func TestVerifierConcurrent(t *testing.T) {
	bodies := [][]byte{
		readVector(t, "real/05-notification-2025-10-01-DID_RENEW-sandbox.jws"),
		readVector(t, "real/01-notification-2022-09-02-TEST-sandbox.jws"),
		readVector(t, "real/27-transaction-2025-02-10-consumable-sandbox.jws"),
	}
	v := decode.NewVerifier(decode.Options{Clock: clock})
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				d := v.Decode(bodies[(g+i)%len(bodies)])
				if d.Verification.Label != decode.LabelVerified {
					errs <- d.Verification.Message
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
