package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/benchgen"
)

// benchCaptures is the store size the listing targets are stated for.
const benchCaptures = 100_000

var big struct {
	once sync.Once
	dir  string
	path string
	fill time.Duration
}

// bigStore opens a store filled once per process with benchCaptures synthetic captures, each
// with the body of a real notification vector (5 to 19 KB, about 1.5 GB in all).
func bigStore(b *testing.B) *Store {
	b.Helper()
	big.once.Do(func() {
		dir, err := os.MkdirTemp("", "s2s-store-bench")
		if err != nil {
			b.Fatal(err)
		}
		big.dir, big.path = dir, filepath.Join(dir, "captures.db")
		s, err := Open(big.path)
		if err != nil {
			b.Fatal(err)
		}
		vectors := loadVectors(b)
		base := time.Now().Add(-benchCaptures * 17 * time.Second)
		start := time.Now()
		bulkInsert(b, s, benchCaptures, func(i int) *Capture {
			return synthetic(i, vectors[i%len(vectors)].body, base)
		})
		big.fill = time.Since(start)
		if err := s.Close(); err != nil { // Close also runs PRAGMA optimize, as a real session does
			b.Fatal(err)
		}
	})
	if big.path == "" {
		b.Fatal("benchmark store was not created")
	}
	s, err := Open(big.path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func benchCleanup() {
	if big.dir != "" {
		os.RemoveAll(big.dir)
	}
}

func BenchmarkList(b *testing.B) {
	s := bigStore(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		f    Filter
	}{
		{"newest-page", Filter{Limit: 50}},
		{"page-at-id-50000", Filter{Limit: 50, BeforeID: 50_000}},
		{"type+env-page", Filter{Types: []string{"DID_RENEW"}, Environments: []decode.Environment{"Sandbox"}, Limit: 50}},
		{"rare-otid-page", Filter{OriginalTransactionIDs: []string{"20000000000042"}, Limit: 50}},
		{"text-page", Filter{Text: "yearly", Limit: 50}},
		{"last-hour-page", Filter{Since: time.Now().Add(-time.Hour), Limit: 50}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				page, err := s.List(ctx, bc.f)
				if err != nil {
					b.Fatal(err)
				}
				if len(page) == 0 {
					b.Fatal("empty page")
				}
			}
		})
	}
}

func BenchmarkCount(b *testing.B) {
	s := bigStore(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		f    Filter
	}{
		{"all", Filter{}},
		{"type+env", Filter{Types: []string{"DID_RENEW"}, Environments: []decode.Environment{"Sandbox"}}},
		{"trust", Filter{Trusts: []decode.Label{"invalid"}}},
		{"text", Filter{Text: "BILLING"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				n, err := s.Count(ctx, bc.f)
				if err != nil {
					b.Fatal(err)
				}
				if n == 0 {
					b.Fatal("nothing counted")
				}
			}
		})
	}
}

func BenchmarkStats(b *testing.B) {
	s := bigStore(b)
	ctx := context.Background()
	for b.Loop() {
		st, err := s.Stats(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if st.Total != benchCaptures {
			b.Fatalf("total %d", st.Total)
		}
	}
	b.ReportMetric(big.fill.Seconds(), "fill-s")
}

// BenchmarkInsertConcurrent measures durable inserts (fsync per group commit) of a real 19 KB
// DID_RENEW body from many goroutines at once, as the receiver's handlers call Insert.
func BenchmarkInsertConcurrent(b *testing.B) {
	for _, writers := range []int{1, 8, 32, 128} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := openTemp(b)
			v := loadVectors(b)[4] // 05-...-DID_RENEW-sandbox
			if v.NotificationType != "DID_RENEW" {
				b.Fatalf("vector 5 is %s", v.NotificationType)
			}
			ctx := context.Background()
			var (
				mu        sync.Mutex
				latencies []time.Duration
				wg        sync.WaitGroup
				next      = make(chan struct{})
				seq       atomic.Int64
			)
			start := s.commits.Load()
			b.SetBytes(int64(len(v.body)))
			b.ResetTimer()
			cpu := benchgen.ProcessCPU()
			for range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var local []time.Duration
					for range next {
						c := captureOf(v, time.Now())
						c.NotificationUUID = fmt.Sprintf("%s-%d", v.NotificationUUID, seq.Add(1))
						t0 := time.Now()
						if err := s.Insert(ctx, c); err != nil {
							b.Error(err)
							return
						}
						local = append(local, time.Since(t0))
					}
					mu.Lock()
					latencies = append(latencies, local...)
					mu.Unlock()
				}()
			}
			for range b.N {
				next <- struct{}{}
			}
			close(next)
			wg.Wait()
			b.StopTimer()
			if cpu := benchgen.ProcessCPU() - cpu; cpu > 0 {
				// CPU time per capture, whatever else runs on a shared machine.
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/insert")
			}
			slices.Sort(latencies)
			if len(latencies) > 0 {
				b.ReportMetric(float64(len(latencies))/b.Elapsed().Seconds(), "inserts/s")
				b.ReportMetric(ms(latencies[len(latencies)*50/100]), "p50-ms")
				b.ReportMetric(ms(latencies[min(len(latencies)-1, len(latencies)*99/100)]), "p99-ms")
				b.ReportMetric(float64(len(latencies))/float64(s.commits.Load()-start), "rows/commit")
			}
		})
	}
}

// BenchmarkCaptureAndAnswer is the store's share of the receiver's work per notification: 32
// handlers each insert a distinct capture (real 19 KB DID_RENEW body, its own UUID and
// transaction IDs, so the indexes see distinct values as they do in production) and, once it is
// durable, record the answer in the background as the receiver does. It reports the CPU time per
// capture of the whole process (the figure that bounds the listener on a busy machine).
//
//	go test ./store -run '^$' -bench CaptureAndAnswer -benchtime 8000x -count 6
func BenchmarkCaptureAndAnswer(b *testing.B) {
	s := openTemp(b)
	v := loadVectors(b)[4]
	ctx := context.Background()
	var (
		wg, answers sync.WaitGroup
		next        atomic.Int64
	)
	b.SetBytes(int64(len(v.body)))
	b.ResetTimer()
	cpu := benchgen.ProcessCPU()
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				c := captureOf(v, time.Now())
				c.NotificationUUID = fmt.Sprintf("%08x-bc4c-4492-88df-%012x", i*2654435761%(1<<32), i*40503)
				c.OriginalTransactionID = fmt.Sprint(2000000000000000 + i*7919%1000003)
				c.TransactionID = fmt.Sprint(2000000100000000 + i)
				c.AppAccountToken = fmt.Sprintf("%08x-0000-4000-8000-%012x", i*97%(1<<32), i)
				c.ResponseStatus = 200
				if err := s.Insert(ctx, c); err != nil {
					b.Error(err)
					return
				}
				answers.Add(1)
				go func(id int64) {
					defer answers.Done()
					if err := s.SetResponse(ctx, id, 200, time.Millisecond); err != nil {
						b.Error(err)
					}
				}(c.ID)
			}
		}()
	}
	wg.Wait()
	answers.Wait()
	b.StopTimer()
	if cpu := benchgen.ProcessCPU() - cpu; cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/capture")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "captures/s")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkInsertPaced offers inserts at a fixed rate whatever the store's speed (open loop, as
// Apple and the receiver's clients do) and measures each from the moment it was due, so a store
// that falls behind shows it in its latency instead of hiding it by slowing the offered load.
func BenchmarkInsertPaced(b *testing.B) {
	for _, rate := range []int{2000, 4000} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			s := openTemp(b)
			v := loadVectors(b)[4]
			ctx := context.Background()
			interval := time.Second / time.Duration(rate)
			latencies := make([]time.Duration, b.N)
			var wg sync.WaitGroup
			b.SetBytes(int64(len(v.body)))
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				due := start.Add(time.Duration(i) * interval)
				if d := time.Until(due); d > 0 {
					time.Sleep(d)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := captureOf(v, time.Now())
					c.NotificationUUID = fmt.Sprintf("%s-%d", v.NotificationUUID, i)
					if err := s.Insert(ctx, c); err != nil {
						b.Error(err)
					}
					latencies[i] = time.Since(due)
				}()
			}
			wg.Wait()
			b.StopTimer()
			slices.Sort(latencies)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inserts/s")
			b.ReportMetric(ms(latencies[b.N*50/100]), "p50-ms")
			b.ReportMetric(ms(latencies[min(b.N-1, b.N*99/100)]), "p99-ms")
			b.ReportMetric(ms(latencies[b.N-1]), "max-ms")
		})
	}
}
