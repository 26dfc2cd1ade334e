// Command load posts notification bodies to a receiver with a fixed number of requests in flight,
// from its own process (so the receiver measured has the cores it would have in production, minus
// what this client costs), and prints the rate and latency percentiles. It is the load generator
// of bench/compare-listen.sh, not part of s2s.
//
//	go run ./bench/load -url http://127.0.0.1:8080/ -file notifications.ndjson -c 32
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	url := flag.String("url", "", "receiver URL to POST to")
	file := flag.String("file", "", "NDJSON file of bodies, one per line (bench/gen writes one)")
	inflight := flag.Int("c", 32, "requests in flight")
	warmup := flag.Int("warmup", 200, "bodies posted first and left out of the figures (from the start of the file)")
	timeout := flag.Duration("timeout", 30*time.Second, "deadline of one request")
	flag.Parse()
	if *url == "" || *file == "" {
		fmt.Fprintln(os.Stderr, "load: -url and -file are required")
		os.Exit(2)
	}
	if err := run(*url, *file, *inflight, *warmup, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func readBodies(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var bodies [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			bodies = append(bodies, bytes.Clone(line))
		}
	}
	return bodies, sc.Err()
}

func run(url, file string, inflight, warmup int, timeout time.Duration) error {
	bodies, err := readBodies(file)
	if err != nil {
		return err
	}
	if warmup >= len(bodies) {
		return fmt.Errorf("%d bodies in %s, not more than the %d of the warm-up", len(bodies), file, warmup)
	}
	client := &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{MaxIdleConnsPerHost: inflight, MaxConnsPerHost: inflight, DisableCompression: true},
	}
	post := func(body []byte) (time.Duration, error) {
		t0 := time.Now()
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("answered %d", resp.StatusCode)
		}
		return time.Since(t0), nil
	}
	// Each phase posts its bodies with inflight requests at a time and records every latency.
	phase := func(bodies [][]byte) ([]time.Duration, time.Duration, int64) {
		lat := make([]time.Duration, len(bodies))
		var next, failed atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range inflight {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1) - 1
					if i >= int64(len(bodies)) {
						return
					}
					d, err := post(bodies[i])
					if err != nil {
						if failed.Add(1) <= 3 {
							fmt.Fprintf(os.Stderr, "load: body %d: %v\n", i, err)
						}
						continue
					}
					lat[i] = d
				}
			}()
		}
		wg.Wait()
		return lat, time.Since(start), failed.Load()
	}
	if _, _, failed := phase(bodies[:warmup]); failed > 0 {
		return fmt.Errorf("%d of the %d warm-up requests failed", failed, warmup)
	}
	lat, elapsed, failed := phase(bodies[warmup:])
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))].Microseconds()) / 1000
	}
	n := len(lat)
	fmt.Printf("requests %d failed %d in-flight %d elapsed %.2fs rate %.0f/s p50 %.1fms p99 %.1fms\n",
		n, failed, inflight, elapsed.Seconds(), float64(n-int(failed))/elapsed.Seconds(), pct(0.50), pct(0.99))
	if failed > 0 {
		return fmt.Errorf("%d requests failed", failed)
	}
	return nil
}
