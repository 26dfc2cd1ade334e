// Package sender delivers notification bodies the way the App Store does: an HTTP POST of
// {"signedPayload": ...} as JSON, success only for 200-206, Apple's production retry schedule
// (compressible), duplicates, and a load mode that measures how a receiver copes with a burst.
package sender

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/s2s-dev/s2s/appstore"
)

// Apple documents no timeout; an Apple engineer said an answer after ~30 s is too late and that
// receivers should answer within a few seconds (docs/apple.md §1.4).
const (
	AppleTimeout  = 30 * time.Second
	SlowThreshold = 3 * time.Second
)

// AppleRetrySchedule is the wait before each retry after a failed attempt, each measured from the
// previous attempt: 5 retries, 6 attempts in all, over about 6.5 days (docs/apple.md §1.3).
// Each call returns a new slice the caller may change.
func AppleRetrySchedule() []time.Duration {
	return []time.Duration{time.Hour, 12 * time.Hour, 24 * time.Hour, 48 * time.Hour, 72 * time.Hour}
}

// DefaultRetryScale turns Apple's hours into seconds: the whole schedule plays in 157 s.
const DefaultRetryScale = 3600

// Result is one delivery attempt.
type Result struct {
	Attempt     int           // 1 for the first attempt
	Duplicate   bool          // a deliberate re-send of a body already delivered
	Status      int           // HTTP status; 0 when there was no answer
	Latency     time.Duration // from sending the request to reading the whole answer
	Err         error         // transport error, nil when an answer came
	Response    string        // the start of the receiver's answer body
	ContentType string        // the answer's Content-Type
	Time        time.Time     // when the attempt started
}

// OK reports whether Apple would count the attempt as delivered: HTTP 200-206.
func (r Result) OK() bool { return r.Err == nil && appstore.Accepted(r.Status) }

// Slow reports whether the answer came later than Apple tolerates comfortably.
func (r Result) Slow() bool { return r.Latency >= SlowThreshold }

// Outcome names the attempt with Apple's sendAttemptResult vocabulary, classified the same way
// as everywhere else in s2s (appstore.ClassifyOutcome).
func (r Result) Outcome() string {
	return string(appstore.ClassifyOutcome(r.Status, r.ContentType, r.Err))
}

// StatusKey labels the attempt for a tally of answers: the HTTP status when one came, else the
// Outcome, so that attempts without an answer are still told apart.
func (r Result) StatusKey() string {
	if r.Err == nil {
		return strconv.Itoa(r.Status)
	}
	return r.Outcome()
}

// Sender posts bodies. The zero value uses a client suited to one receiver.
type Sender struct {
	// Client, when nil, is one with keep-alive for MaxConns connections that asks for no
	// compression and follows no redirect, as forwarding's (relay.NewClient) and as Apple sends.
	Client    *http.Client
	Timeout   time.Duration // per attempt; zero: AppleTimeout
	UserAgent string
	MaxConns  int // idle connections kept to the receiver (load mode); zero: 2
	// RootCAs, when set, are the authorities trusted for an https receiver (the system's plus a
	// development CA); it applies to the client the Sender builds, not to Client.
	RootCAs *x509.CertPool

	once   sync.Once
	client *http.Client
}

func (s *Sender) httpClient() *http.Client {
	s.once.Do(func() {
		if s.Client != nil {
			s.client = s.Client
			return
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		if s.MaxConns > 0 {
			t.MaxIdleConnsPerHost = s.MaxConns
			t.MaxIdleConns = s.MaxConns
		}
		if s.RootCAs != nil {
			t.TLSClientConfig = &tls.Config{RootCAs: s.RootCAs}
		}
		// Apple's request carries no Accept-Encoding, so a gzip answer is the server's own doing
		// and is judged as it came; and a 3xx is the answer Apple records (it does not reliably
		// follow redirects, and not at all for a real-time request), so it is not followed.
		t.DisableCompression = true
		s.client = &http.Client{Transport: t,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	})
	return s.client
}

// newPost is a request as Apple makes it: a POST of the JSON body, with the sender's User-Agent.
func (s *Sender) newPost(ctx context.Context, url string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.UserAgent != "" {
		req.Header.Set("User-Agent", s.UserAgent)
	}
	return req, nil
}

// Send makes one attempt.
func (s *Sender) Send(ctx context.Context, url string, body []byte) Result {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = AppleTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := Result{Attempt: 1, Time: time.Now()}
	req, err := s.newPost(ctx, url, body)
	if err != nil {
		res.Err = err
		return res
	}
	start := time.Now()
	resp, err := s.httpClient().Do(req)
	if err != nil {
		res.Latency = time.Since(start)
		res.Err = err
		return res
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // drain, so the connection is reused
	resp.Body.Close()
	res.Latency = time.Since(start)
	res.Status = resp.StatusCode
	res.ContentType = resp.Header.Get("Content-Type")
	res.Response = string(head)
	return res
}

// Retry describes how failed attempts are retried.
type Retry struct {
	Schedule []time.Duration // waits before each retry; nil: no retries
	Scale    float64         // waits are divided by Scale; <= 0 means 1
}

// Wait is the scaled wait before retry i (0-based).
func (r Retry) Wait(i int) time.Duration {
	scale := r.Scale
	if scale <= 0 {
		scale = 1
	}
	return time.Duration(math.Round(float64(r.Schedule[i]) / scale))
}

// Deliver sends body and retries failed attempts on r's schedule, calling report after every
// attempt with the wait before the next one (zero when there is none). The same body, hence the
// same notificationUUID, goes out every time, as Apple does. It stops early when ctx ends.
func (s *Sender) Deliver(ctx context.Context, url string, body []byte, r Retry, report func(res Result, next time.Duration)) []Result {
	var out []Result
	for attempt := 1; ; attempt++ {
		res := s.Send(ctx, url, body)
		res.Attempt = attempt
		out = append(out, res)
		var next time.Duration
		if !res.OK() && attempt-1 < len(r.Schedule) && ctx.Err() == nil {
			next = r.Wait(attempt - 1)
		}
		if report != nil {
			report(res, next)
		}
		if res.OK() || attempt-1 >= len(r.Schedule) || ctx.Err() != nil {
			return out
		}
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return out
		case <-t.C:
		}
	}
}

// LoadOptions configure a burst.
type LoadOptions struct {
	Count       int
	Concurrency int
	// Body returns the i-th body (0-based). It is called from a producer goroutine ahead of the
	// senders, so signing does not count in the latencies.
	Body func(i int) ([]byte, error)
	// Progress, if set, is called from one goroutine every Every (default 500 ms) and at the end.
	Progress func(done, ok, failed int)
	Every    time.Duration
}

// LoadReport summarises a burst.
type LoadReport struct {
	Count       int            `json:"count"`
	Concurrency int            `json:"concurrency"`
	Sent        int            `json:"sent"`
	OK          int            `json:"ok"`
	Failed      int            `json:"failed"`
	Elapsed     time.Duration  `json:"-"`
	Throughput  float64        `json:"throughputPerSecond"`
	P50         time.Duration  `json:"-"`
	P90         time.Duration  `json:"-"`
	P99         time.Duration  `json:"-"`
	Max         time.Duration  `json:"-"`
	Slow        int            `json:"slow"`     // answers slower than SlowThreshold
	Statuses    map[string]int `json:"statuses"` // "200", "503", or an Outcome for attempts without an answer
}

// Load sends o.Count bodies with o.Concurrency senders and measures each request.
func (s *Sender) Load(ctx context.Context, url string, o LoadOptions) (LoadReport, error) {
	if o.Count <= 0 {
		return LoadReport{}, errors.New("count must be at least 1")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 1
	}
	if o.Concurrency > o.Count {
		o.Concurrency = o.Count
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var prodErr error // read once results is closed, which is after the producer returned
	bodies := produceBodies(ctx, o, func(err error) { prodErr = err; cancel() })
	start := time.Now()
	results := s.sendAll(ctx, url, bodies, o.Concurrency)

	every := o.Every
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	rep := LoadReport{Count: o.Count, Concurrency: o.Concurrency, Statuses: map[string]int{}}
	lat := make([]time.Duration, 0, o.Count)
	for done := false; !done; {
		select {
		case r, ok := <-results:
			if !ok {
				done = true
				break
			}
			rep.add(r)
			lat = append(lat, r.Latency)
		case <-tick.C:
			if o.Progress != nil {
				o.Progress(rep.Sent, rep.OK, rep.Failed)
			}
		}
	}
	rep.Elapsed = time.Since(start)
	if o.Progress != nil {
		o.Progress(rep.Sent, rep.OK, rep.Failed)
	}
	rep.measure(lat)
	if prodErr != nil {
		return rep, prodErr
	}
	return rep, ctx.Err()
}

// produceBodies makes the bodies ahead of the senders, so signing does not count in the
// latencies; a body that cannot be made is given to fail, and ends the production.
func produceBodies(ctx context.Context, o LoadOptions, fail func(error)) <-chan []byte {
	bodies := make(chan []byte, 2*o.Concurrency)
	go func() {
		defer close(bodies)
		for i := 0; i < o.Count; i++ {
			b, err := o.Body(i)
			if err != nil {
				fail(err)
				return
			}
			select {
			case bodies <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	return bodies
}

// sendAll sends the bodies with n senders; the results channel closes when all are done.
func (s *Sender) sendAll(ctx context.Context, url string, bodies <-chan []byte, n int) <-chan Result {
	results := make(chan Result, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for b := range bodies {
				if ctx.Err() != nil {
					return
				}
				results <- s.Send(ctx, url, b)
			}
		})
	}
	go func() { wg.Wait(); close(results) }()
	return results
}

// add counts one attempt.
func (rep *LoadReport) add(r Result) {
	rep.Sent++
	if r.OK() {
		rep.OK++
	} else {
		rep.Failed++
	}
	if r.Slow() {
		rep.Slow++
	}
	rep.Statuses[r.StatusKey()]++
}

// measure sets the throughput and the latency percentiles from the attempts' latencies.
func (rep *LoadReport) measure(lat []time.Duration) {
	if rep.Elapsed > 0 {
		rep.Throughput = float64(rep.Sent) / rep.Elapsed.Seconds()
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	rep.P50, rep.P90, rep.P99 = percentile(lat, 50), percentile(lat, 90), percentile(lat, 99)
	if len(lat) > 0 {
		rep.Max = lat[len(lat)-1]
	}
}

// percentile uses the nearest-rank method on sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}
