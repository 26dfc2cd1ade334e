// Package benchgen makes the inputs of s2s's performance measurements: distinct DID_RENEW
// notifications (outer JWS, nested transaction and renewal info, each with its own IDs, UUID and
// signature) signed by a freshly minted chain shaped like Apple's: P-384 root and intermediate,
// P-256 leaf, Apple's marker OIDs. Repeating one notification would measure caches, not work.
package benchgen

import (
	"bytes"
	"crypto/elliptic"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/s2s-dev/s2s/fixtures"
	"github.com/s2s-dev/s2s/internal/testpki"
)

// BundleID and Environment are those of every generated notification.
const (
	BundleID    = fixtures.DefaultBundleID
	Environment = "Sandbox"
)

// AppleShapedChain mints a signing chain with the key types and extensions of Apple's.
func AppleShapedChain() (*fixtures.Chain, error) {
	pki, err := testpki.New(testpki.Options{RootName: "s2s benchmark root (Apple-shaped)", CACurve: elliptic.P384()})
	if err != nil {
		return nil, err
	}
	return fixtures.NewChain(pki.Leaf, pki.Intermediate, pki.Root, pki.LeafKey)
}

// DIDRenews signs n distinct DID_RENEW bodies ({"signedPayload":"..."}), on every core.
func DIDRenews(c *fixtures.Chain, n int) ([][]byte, error) {
	out := make([][]byte, n)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ferr error
		next = make(chan int)
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				body, err := c.Notification("DID_RENEW", "", fixtures.Overrides{Environment: Environment, BundleID: BundleID})
				if err != nil {
					mu.Lock()
					ferr = err
					mu.Unlock()
					continue
				}
				out[i] = body
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if ferr != nil {
		return nil, fmt.Errorf("signing a DID_RENEW: %w", ferr)
	}
	return out, nil
}

// WriteNDJSON writes bodies one per line, the form "s2s decode FILE" reads.
func WriteNDJSON(w io.Writer, bodies [][]byte) error {
	for _, b := range bodies {
		if bytes.IndexByte(b, '\n') >= 0 {
			return fmt.Errorf("a body holds a newline")
		}
		if _, err := w.Write(append(b[:len(b):len(b)], '\n')); err != nil {
			return err
		}
	}
	return nil
}
