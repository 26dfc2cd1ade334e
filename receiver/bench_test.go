package receiver

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/benchgen"
	"github.com/s2s-dev/s2s/store"
)

// BenchmarkReceiverThroughput measures the whole path Apple exercises: an HTTP POST on loopback of
// distinct DID_RENEW bodies (each with its nested transaction and renewal info, signed by a minted
// Apple-shaped chain trusted as a test root), verified, decoded and durably stored (WAL, full sync)
// before the 200. It reports notifications/s, latency percentiles and the CPU time per
// notification (the figure to compare on a shared machine). The load generator shares
// this process; bench/compare listen measures the binary with the load in another process.
//
// Each sub-benchmark keeps a fixed number of requests in flight; latency grows with that number
// (requests queue for the two cores) while throughput stays flat.
//
//	go test ./receiver -run '^$' -bench ReceiverThroughput -benchtime 8000x
func BenchmarkReceiverThroughput(b *testing.B) {
	for _, c := range []int{8, 32, 64} {
		b.Run(fmt.Sprintf("inflight=%d", c), func(b *testing.B) { benchmarkReceiver(b, c) })
	}
}

func benchmarkReceiver(b *testing.B, concurrency int) {
	c, err := benchgen.AppleShapedChain()
	if err != nil {
		b.Fatal(err)
	}
	// 2,000 distinct bodies; beyond them they repeat, and a repeat is stored as a duplicate.
	bodies, err := benchgen.DIDRenews(c, 2000)
	if err != nil {
		b.Fatal(err)
	}
	body := bodies[0]
	st, err := store.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	verifier := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{c.Root()}})
	if l := verifier.Decode(body).Verification.Label; l != decode.LabelSimulated {
		b.Fatalf("the benchmark body is %s, want verified", l)
	}
	srv := httptest.NewServer(New(Options{Store: st, Verifier: verifier}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}

	latencies := make([]time.Duration, b.N)
	var next int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	b.SetBytes(int64(len(body))) // they all have the same size
	b.ResetTimer()
	start := time.Now()
	cpu := benchgen.ProcessCPU()
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/", bytes.NewReader(bodies[i%int64(len(bodies))]))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				if _, err := io.Copy(io.Discard, resp.Body); err != nil {
					b.Error(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				latencies[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu = benchgen.ProcessCPU() - cpu
	b.StopTimer()
	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[min(len(latencies)-1, int(float64(len(latencies))*p))] }
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "notifications/s")
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	if cpu > 0 {
		// CPU time per notification of the whole process, the HTTP client's share included:
		// on a shared machine the figure to compare (bench/compare listen measures the
		// receiver's process alone).
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/notification")
	}
	if b.N >= 1000 {
		n, err := st.Count(context.Background(), store.Filter{})
		if err != nil || n != b.N {
			b.Fatalf("stored %d of %d (%v)", n, b.N, err)
		}
	}
}
