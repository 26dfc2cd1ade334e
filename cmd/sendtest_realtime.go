package cmd

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/fixtures"
	"github.com/s2s-dev/s2s/internal/termsafe"
	"github.com/s2s-dev/s2s/relay"
	"github.com/s2s-dev/s2s/sender"
)

// send-test --realtime URL: Retention Messaging real-time requests, signed like Apple's, posted to
// a Get Retention Message endpoint; each answer is validated against Apple's response body and
// timed against the budget Apple gives it (700 ms).

// validateRealtime checks the flags of a --realtime run.
func (o *sendTestOptions) validateRealtime() error {
	if !strings.HasPrefix(o.Realtime, "http://") && !strings.HasPrefix(o.Realtime, "https://") {
		return usageErrorf("--realtime takes the URL of your Get Retention Message endpoint, starting with http:// or https:// (got %q)", o.Realtime)
	}
	if o.URL != "" || o.Type != "" || o.Subtype != "" || o.All || o.Apple || o.Retry != "none" || o.Duplicate || o.BundleID != "" || o.List || o.PrintRoot {
		return usageErrorf("--realtime sends Retention Messaging real-time requests to its URL: it takes no other URL and no --type, --subtype, --all, --apple, --retry, --duplicate, --bundle-id, --list or --print-root")
	}
	if o.Count < 1 || o.Concurrency < 1 {
		return usageErrorf("the values of --count and --concurrency must be at least 1")
	}
	if o.RealtimeBudget <= 0 {
		return usageErrorf("the value of --realtime-budget must be greater than 0 (Apple's is %s)", sender.RealtimeBudget)
	}
	if err := fixtures.ParseRealtimeSets(o.Sets); err != nil {
		return &UsageError{Err: err}
	}
	return nil
}

// realtimeAnswerJSON is one answer in --json output.
type realtimeAnswerJSON struct {
	RequestIdentifier string   `json:"requestIdentifier"`
	URL               string   `json:"url"`
	Status            int      `json:"status,omitempty"`
	LatencyMs         float64  `json:"latencyMs"`
	BudgetMs          float64  `json:"budgetMs"`
	WithinBudget      bool     `json:"withinBudget"`
	Valid             bool     `json:"valid"`
	Choice            string   `json:"choice,omitempty"`
	Problems          []string `json:"problems,omitempty"`
	// The body exactly as answered: answer when UTF-8 text, answerBase64 otherwise.
	decode.AnswerJSON
	Error string `json:"error,omitempty"`
}

// realtimeVerdict judges one answer. sent is false when the request never reached a server; once
// it was written whole, a broken answer (a malformed header, a connection closed) is an invalid
// answer, as Apple and probe --realtime count it.
func realtimeVerdict(r sender.RealtimeResult, url string, budget time.Duration) (a realtimeAnswerJSON, sent bool) {
	a = realtimeAnswerJSON{Status: r.Status, LatencyMs: millis(r.Latency), BudgetMs: millis(budget)}
	if r.Status != 0 { // an answer began
		a.AnswerJSON = decode.NewAnswerJSON(r.Body)
	}
	switch {
	case r.TimedOut:
		a.Problems = []string{fmt.Sprintf("no whole answer within the budget of %s: Apple gives up and the request fails", budget)}
		return a, true
	case r.Err != nil && r.Written:
		a.WithinBudget = r.Latency <= budget
		a.Problems = []string{"no usable answer to the request the server got: " + relay.Explain(r.Err, url, budget)}
		return a, true
	case r.Err != nil:
		a.Error = relay.Explain(r.Err, url, budget)
		return a, false
	}
	a.WithinBudget = r.Latency <= budget
	resp, problems := decode.CheckRealtimeAnswer(r.Status, r.ContentEncoding, r.Body)
	a.Problems = append(a.Problems, problems...)
	if resp != nil {
		a.Choice = resp.Choice()
	}
	if !a.WithinBudget {
		a.Problems = append(a.Problems, fmt.Sprintf("answered in %s, over the budget of %s: Apple would have given up", latencyText(r.Latency), budget))
	}
	a.Valid = len(a.Problems) == 0
	return a, true
}

func runSendTestRealtime(ctx context.Context, opts *sendTestOptions) error {
	if err := opts.validateRealtime(); err != nil {
		return err
	}
	chain, err := loadSendTestChain(opts.f)
	if err != nil {
		return err
	}
	first, err := opts.signRealtime(chain)
	if err != nil {
		return err
	}
	snd, err := opts.newSender()
	if err != nil {
		return err
	}
	snd.MaxConns = opts.Concurrency
	if opts.loadMode() {
		return runSendTestRealtimeLoad(ctx, opts, chain, first, snd)
	}
	url, budget := opts.Realtime, opts.RealtimeBudget
	r := snd.SendRealtime(ctx, url, first.Body, budget, decode.MaxRealtimeResponse)
	a, sent := realtimeVerdict(r, url, budget)
	a.RequestIdentifier, a.URL = first.RequestIdentifier, url
	if opts.JSON {
		if err := jsonEncoder(opts.f.IO.Out).Encode(a); err != nil {
			return err
		}
	} else {
		printRealtimeAnswer(opts, first, a)
	}
	switch {
	case !sent:
		return fmt.Errorf("the real-time request could not be sent to %s: %s", url, a.Error)
	case !a.Valid:
		return &ResultError{Silent: true}
	}
	return nil
}

// signRealtime signs one real-time request: about the customer of --scenario, or the customer the
// flags describe (a fresh one by default).
func (o *sendTestOptions) signRealtime(chain *fixtures.Chain) (*fixtures.SignedRequest, error) {
	var r *fixtures.SignedRequest
	var err error
	if o.Scenario != "" {
		r, err = chain.ScenarioRealtimeRequest(o.Scenario, o.overrides())
	} else {
		r, err = chain.RealtimeRequest(o.overrides())
	}
	return r, fixturesError(err)
}

func printRealtimeAnswer(opts *sendTestOptions, req *fixtures.SignedRequest, a realtimeAnswerJSON) {
	w := opts.f.IO.Out
	fmt.Fprintf(w, "real-time request %s (%s, %s, %s, originalTransactionId %s, simulated) → %s\n", req.RequestIdentifier, req.Environment,
		termsafe.String(req.ProductID), termsafe.String(req.UserLocale), termsafe.String(req.OriginalTransactionID), a.URL)
	if a.Error != "" {
		return // not sent: the error says why, once, on stderr
	}
	verdict := "valid: " + a.Choice
	if !a.Valid {
		verdict = "INVALID"
	}
	budget := time.Duration(a.BudgetMs * float64(time.Millisecond))
	if a.Status == 0 {
		fmt.Fprintf(w, "answer     none after %s (budget %s)  %s\n", latencyText(time.Duration(a.LatencyMs*float64(time.Millisecond))), budget, verdict)
	} else {
		fmt.Fprintf(w, "answer     HTTP %d in %s (budget %s)  %s\n", a.Status, latencyText(time.Duration(a.LatencyMs*float64(time.Millisecond))), budget, verdict)
	}
	for _, p := range a.Problems {
		fmt.Fprintf(w, "  - %s\n", termsafe.String(p))
	}
	switch {
	case a.Answer != nil && *a.Answer != "":
		fmt.Fprintf(w, "body\n%s\n", indentLines(termsafe.Text(cutAnswer(*a.Answer)), "  "))
	case a.AnswerBase64 != "":
		b, _ := a.AnswerJSON.Bytes()
		fmt.Fprintf(w, "body       %d bytes that are not UTF-8 text (--json has them, base64)\n", len(b))
	}
}

// cutAnswer keeps the first 2 KiB of an answer for people to read; Apple's answers are a few
// hundred bytes.
func cutAnswer(body string) string {
	if len(body) > 2048 {
		return body[:2048] + "…"
	}
	return body
}

func indentLines(s, indent string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = indent + l
	}
	return strings.Join(lines, "\n")
}

// realtimeLoadJSON is the --json report of a series, with the figures Apple's performance test
// reports.
type realtimeLoadJSON struct {
	URL           string             `json:"url"`
	Count         int                `json:"count"`
	Concurrency   int                `json:"concurrency"`
	Sent          int                `json:"sent"`
	Succeeded     int                `json:"succeeded"` // valid and within the budget
	SuccessRate   float64            `json:"successRate"`
	Invalid       int                `json:"invalid"`
	OverBudget    int                `json:"overBudget"`
	NotSent       int                `json:"notSent"`
	BudgetMs      float64            `json:"budgetMs"`
	Latency       map[string]float64 `json:"latencyMs"`
	Problems      map[string]int     `json:"problems,omitempty"`
	FirstNotSent  string             `json:"firstNotSentError,omitempty"`
	ElapsedMs     float64            `json:"elapsedMs"`
	ThroughputSec float64            `json:"throughputPerSecond"`
}

func runSendTestRealtimeLoad(ctx context.Context, opts *sendTestOptions, chain *fixtures.Chain, first *fixtures.SignedRequest, snd *sender.Sender) error {
	url, budget := opts.Realtime, opts.RealtimeBudget
	if !opts.JSON {
		fmt.Fprintf(opts.f.IO.ErrOut, "Sending %d real-time requests to %s with %d concurrent senders (simulated), budget %s.\n", opts.Count, url, opts.Concurrency, budget)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Sign ahead of the senders, so signing does not count in the latencies.
	bodies, signErr := signRealtimeAhead(ctx, cancel, opts, chain, first)
	l := &realtimeLoad{rep: realtimeLoadJSON{URL: url, Count: opts.Count, Concurrency: opts.Concurrency, BudgetMs: millis(budget), Problems: map[string]int{}}}
	var wg sync.WaitGroup
	start := time.Now()
	for range min(opts.Concurrency, opts.Count) {
		wg.Go(func() {
			for b := range bodies {
				if ctx.Err() != nil {
					return
				}
				r := snd.SendRealtime(ctx, url, b, budget, decode.MaxRealtimeResponse)
				a, sent := realtimeVerdict(r, url, budget)
				l.add(r, a, sent)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := signErr(); err != nil {
		return err
	}
	rep := &l.rep
	if err := ctx.Err(); err != nil && rep.Sent+rep.NotSent < rep.Count {
		return err
	}
	st := l.finish(elapsed)
	if err := printRealtimeLoad(opts, rep, st, elapsed); err != nil {
		return err
	}
	switch {
	case rep.Sent == 0:
		return fmt.Errorf("no real-time request could be sent to %s: %s", url, rep.FirstNotSent)
	case rep.Succeeded < rep.Count:
		return &ResultError{Silent: true}
	}
	return nil
}

// signRealtimeAhead signs the series' requests (first, then fresh ones) into a channel the senders
// read; the function it returns waits for the signer and gives its error.
func signRealtimeAhead(ctx context.Context, cancel func(), opts *sendTestOptions, chain *fixtures.Chain, first *fixtures.SignedRequest) (<-chan []byte, func() error) {
	bodies := make(chan []byte, 2*opts.Concurrency)
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		defer close(bodies)
		for i := range opts.Count {
			b := first.Body
			if i > 0 {
				r, serr := opts.signRealtime(chain)
				if serr != nil {
					err = serr
					cancel()
					return
				}
				b = r.Body
			}
			select {
			case bodies <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	// Called once the senders are done: the signer stops too (the channel drained, or ctx ended).
	return bodies, func() error { <-done; return err }
}

// realtimeLoad gathers a series' answers from its senders.
type realtimeLoad struct {
	mu  sync.Mutex
	rep realtimeLoadJSON
	lat []time.Duration
}

func (l *realtimeLoad) add(r sender.RealtimeResult, a realtimeAnswerJSON, sent bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rep := &l.rep
	if !sent {
		rep.NotSent++
		if rep.FirstNotSent == "" {
			rep.FirstNotSent = a.Error
		}
		return
	}
	rep.Sent++
	l.lat = append(l.lat, r.Latency)
	if a.Valid {
		rep.Succeeded++
	}
	if !a.WithinBudget {
		rep.OverBudget++
	}
	for _, p := range a.Problems {
		if !strings.Contains(p, "budget") {
			rep.Problems[p]++
		}
	}
	if len(a.Problems) > 0 && a.WithinBudget {
		rep.Invalid++
	}
}

// finish computes the series' figures once every sender is done.
func (l *realtimeLoad) finish(elapsed time.Duration) sender.LatencyStats {
	rep := &l.rep
	st := sender.Latencies(l.lat)
	rep.Latency = map[string]float64{"average": millis(st.Average), "p50": millis(st.P50), "p90": millis(st.P90), "p95": millis(st.P95), "p99": millis(st.P99), "max": millis(st.Max)}
	rep.ElapsedMs = millis(elapsed)
	if elapsed > 0 {
		rep.ThroughputSec = float64(rep.Sent+rep.NotSent) / elapsed.Seconds()
	}
	if n := rep.Sent + rep.NotSent; n > 0 {
		rep.SuccessRate = float64(rep.Succeeded) / float64(n)
	}
	return st
}

// printRealtimeLoad prints a series' report, as Apple's performance test words it.
func printRealtimeLoad(opts *sendTestOptions, rep *realtimeLoadJSON, st sender.LatencyStats, elapsed time.Duration) error {
	w := opts.f.IO.Out
	if opts.JSON {
		return jsonEncoder(w).Encode(rep)
	}
	fmt.Fprintf(w, "sent        %d of %d in %s (%.1f/s)\n", rep.Sent, rep.Count, elapsed.Round(time.Millisecond), rep.ThroughputSec)
	fmt.Fprintf(w, "success     %d of %d (%.1f%%): valid answers within the budget of %s\n", rep.Succeeded, rep.Count, 100*rep.SuccessRate, opts.RealtimeBudget)
	fmt.Fprintf(w, "latency     average %s  p50 %s  p90 %s  p95 %s  p99 %s  max %s\n", latencyText(st.Average), latencyText(st.P50), latencyText(st.P90), latencyText(st.P95), latencyText(st.P99), latencyText(st.Max))
	fmt.Fprintf(w, "over budget %d\n", rep.OverBudget)
	fmt.Fprintf(w, "invalid     %d\n", rep.Invalid)
	if rep.NotSent > 0 {
		fmt.Fprintf(w, "not sent    %d (%s)\n", rep.NotSent, termsafe.String(rep.FirstNotSent))
	}
	for _, p := range slices.Sorted(maps.Keys(rep.Problems)) {
		fmt.Fprintf(w, "  %d × %s\n", rep.Problems[p], termsafe.String(p))
	}
	return nil
}
