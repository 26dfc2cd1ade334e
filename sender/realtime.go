package sender

import (
	"context"
	"io"
	"net/http/httptrace"
	"sort"
	"sync/atomic"
	"time"
)

// RealtimeBudget is how long Apple waits for a Get Retention Message endpoint: in production the
// request fails after 700 ms, and the sandbox performance test passes answers within about as much.
const RealtimeBudget = 700 * time.Millisecond

// RealtimeResult is one real-time request and the answer to it.
type RealtimeResult struct {
	Status      int
	Latency     time.Duration // from sending the request to reading the whole answer
	Body        []byte        // the answer, at most maxBody+1 bytes (one more tells it was larger)
	ContentType string
	// ContentEncoding is the answer's Content-Encoding: the body is kept as it came, never decoded.
	ContentEncoding string
	Err             error // no answer: transport error, or the budget ran out (TimedOut)
	TimedOut        bool  // no whole answer within the budget: Apple has given up
	// Written is set once the whole request was written to a server: an error after it is a
	// broken answer from a server that got the request, not a request that was never sent.
	Written bool
}

// SendRealtime posts one real-time request and reads the whole answer (up to maxBody+1 bytes)
// within budget, as Apple does: past the budget the request is abandoned and TimedOut is set.
func (s *Sender) SendRealtime(ctx context.Context, url string, body []byte, budget time.Duration, maxBody int64) RealtimeResult {
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	var res RealtimeResult
	req, err := s.newPost(ctx, url, body)
	if err != nil {
		res.Err = err
		return res
	}
	var written atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(w httptrace.WroteRequestInfo) { written.Store(w.Err == nil) },
	}))
	start := time.Now()
	resp, err := s.httpClient().Do(req)
	if err == nil {
		res.Status, res.ContentType, res.ContentEncoding = resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Encoding")
		res.Body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		resp.Body.Close()
	}
	res.Latency = time.Since(start)
	res.Written = written.Load()
	if err != nil {
		res.Err = err
		res.TimedOut = ctx.Err() == context.DeadlineExceeded
	}
	return res
}

// LatencyStats are the figures Apple's performance test reports for a series of requests.
type LatencyStats struct {
	Average, P50, P90, P95, P99, Max time.Duration
}

// Latencies computes LatencyStats over lat (any order; lat is sorted in place), percentiles by the
// nearest-rank method.
func Latencies(lat []time.Duration) LatencyStats {
	if len(lat) == 0 {
		return LatencyStats{}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	var sum time.Duration
	for _, l := range lat {
		sum += l
	}
	return LatencyStats{
		Average: sum / time.Duration(len(lat)),
		P50:     percentile(lat, 50), P90: percentile(lat, 90), P95: percentile(lat, 95), P99: percentile(lat, 99),
		Max: lat[len(lat)-1],
	}
}
