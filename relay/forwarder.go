package relay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/store"
)

// Store is the part of the capture store forwarding uses; *store.Store implements it.
type Store interface {
	Get(ctx context.Context, id int64) (*store.Capture, error)
	AddDelivery(ctx context.Context, d *store.Delivery) error
	UpdateDelivery(ctx context.Context, d *store.Delivery) error
	// DueDeliveries returns pending rows only; RetryDelivery checks the state again, atomically,
	// since a replay may take a due retry over.
	DueDeliveries(ctx context.Context, now time.Time, limit int, except ...string) ([]store.Delivery, error)
	RetryDelivery(ctx context.Context, prevID int64, next *store.Delivery) (bool, error)
	Deliveries(ctx context.Context, captureID int64) ([]store.Delivery, error)
	ReplayStore
}

// DefaultBackoffSpec is the wait before each retry of a failed forward, as --forward-retries
// writes it: quick enough that a server restarted by the developer gets the notification within
// seconds, patient enough (about 13 minutes in all) to cover a longer break, after which the
// delivery is given up and a replay is one key away.
const DefaultBackoffSpec = "1s,5s,30s,2m,10m"

// DefaultMaxWaiting is Config.MaxWaiting's default: with the 64 KiB of headers a request may carry
// at most, 256 waiting attempts hold at most 16 MiB per target.
const DefaultMaxWaiting = 256

// DefaultBackoff is DefaultBackoffSpec parsed, so the flag's default and the library's cannot
// drift apart. Each call returns a new slice the caller may change.
func DefaultBackoff() []time.Duration { return mustParseBackoff(DefaultBackoffSpec) }

// Config configures a Forwarder.
type Config struct {
	Targets []Target
	// ForwardInvalid forwards captures that are neither verified nor simulated.
	ForwardInvalid bool
	Store          Store
	Bus            *events.Bus   // nil: results are only stored
	Timeout        time.Duration // per attempt; 0: DefaultTimeout
	// Backoff is the wait before each retry; nil: DefaultBackoff; empty: never retry.
	Backoff []time.Duration
	// PollInterval is how often due retries are looked for; 0: one second.
	PollInterval time.Duration
	// Concurrency is how many attempts may be in flight at once to each target; 0: 8. Every
	// target has its own slots, so one that hangs delays only its own deliveries.
	Concurrency int
	// MaxWaiting is how many attempts to one target may wait in memory for a slot; 0:
	// DefaultMaxWaiting. A waiting attempt holds a goroutine and the request's headers, so without
	// a bound anyone who re-POSTs a genuine notification while a target is slow grows memory
	// without limit. Attempts beyond it wait in the store as queued rows (pending, attempt 0)
	// that the retry loop starts, oldest first, when the target has room.
	MaxWaiting int
	Client     *http.Client
	Now        func() time.Time
}

// Forwarder passes captures on to the targets, records every attempt and retries failures,
// including those left pending by an earlier run. It is what the receiver's Forwarder and
// Replayer interfaces stand for (cmd wires them; relay imports only the event stream).
type Forwarder struct {
	cfg    Config
	poster *Poster
	ctx    context.Context
	cancel context.CancelFunc
	// slots bounds the attempts in flight to each target URL. A shared pool would let a target
	// that accepts connections and never answers hold every slot, and a healthy target would
	// wait out the other's timeouts (and its retries would run late).
	slots map[string]chan struct{}

	mu sync.Mutex
	// waiting counts, per target, the attempts started in memory that do not hold a slot yet.
	waiting  map[string]int
	wg       sync.WaitGroup
	closed   bool
	inflight map[int64]bool // delivery rows being worked on, so a poll never doubles them
	started  time.Time      // rows started before this were left by an earlier run
	lastErr  time.Time      // when a store error was last reported
}

// New starts a forwarder; its retry loop runs until ctx ends or Close, and resumes at once the
// retries an earlier run left pending.
func New(ctx context.Context, cfg Config) (*Forwarder, error) {
	if len(cfg.Targets) == 0 {
		return nil, errors.New("relay: no targets")
	}
	if cfg.Store == nil {
		return nil, errors.New("relay: no store")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff()
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.MaxWaiting <= 0 {
		cfg.MaxWaiting = DefaultMaxWaiting
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ctx, cancel := context.WithCancel(ctx)
	f := &Forwarder{
		cfg:      cfg,
		poster:   &Poster{Client: cfg.Client, Timeout: cfg.Timeout, Now: cfg.Now},
		ctx:      ctx,
		cancel:   cancel,
		slots:    map[string]chan struct{}{},
		waiting:  map[string]int{},
		inflight: map[int64]bool{},
		started:  cfg.Now(),
	}
	for _, t := range cfg.Targets {
		if f.slots[t.URL] == nil {
			f.slots[t.URL] = make(chan struct{}, cfg.Concurrency)
		}
	}
	f.wg.Add(1)
	go f.retryLoop()
	return f, nil
}

// Close stops the retry loop and waits for attempts in flight. An attempt cut short stays pending
// in the store and is made again by the next forwarder on the same store.
func (f *Forwarder) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.cancel()
	f.wg.Wait()
	return nil
}

// Forwardable reports whether captures with this trust label are forwarded by default.
func Forwardable(trust decode.Label) bool {
	return trust == decode.LabelVerified || trust == decode.LabelSimulated
}

// Targets are the forward targets, in flag order.
func (f *Forwarder) Targets() []Target { return f.cfg.Targets }

// Enqueue forwards c asynchronously to every matching target.
func (f *Forwarder) Enqueue(c *store.Capture) {
	targets := f.targetsFor(c)
	if len(targets) == 0 {
		return
	}
	if why := f.skip(c); why != "" {
		f.publishSkipped(c, targets, why)
		return
	}
	for _, t := range targets {
		f.goAttempt(c, t, 1, nil)
	}
}

// Passthrough forwards c to the first matching target and returns the status to answer Apple
// with; the other targets get c asynchronously. A capture no target takes is answered 200, as
// without passthrough: it is stored.
func (f *Forwarder) Passthrough(ctx context.Context, c *store.Capture) int {
	targets := f.targetsFor(c)
	if len(targets) == 0 {
		return http.StatusOK
	}
	if why := f.skip(c); why != "" {
		f.publishSkipped(c, targets, why)
		return http.StatusOK
	}
	for _, t := range targets[1:] {
		f.goAttempt(c, t, 1, nil)
	}
	_, res := f.attempt(ctx, c, targets[0], 1, kindPassthrough, nil)
	switch {
	case res.Err == nil:
		return res.Status
	case res.TimedOut():
		return http.StatusGatewayTimeout
	default:
		return http.StatusBadGateway
	}
}

// Replay sends c again, now, to every target whose rules take it (whatever its trust label: the
// developer asked for it) and that has not accepted it yet; when every one has, to all of them
// again (the TUI's r has no other way to ask). A pending retry to a target is taken over, not
// made as well (Replayer). Replays are recorded but not retried.
func (f *Forwarder) Replay(ctx context.Context, c *store.Capture) error {
	targets := f.targetsFor(c)
	if len(targets) == 0 {
		return fmt.Errorf("no --forward-to target takes capture %d (%s %s); check the targets' env= and type= rules",
			c.ID, orDash(string(c.Environment)), orDash(c.Type))
	}
	skipAccepted := false
	if ds, err := f.cfg.Store.Deliveries(ctx, c.ID); err == nil {
		accepted := AcceptedBy(ds)
		for _, t := range targets {
			if !accepted[t] {
				skipAccepted = true
			}
		}
	}
	r := &Replayer{Store: f.cfg.Store, Poster: f.poster, SkipAccepted: skipAccepted, Now: f.cfg.Now}
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			out, err := r.Replay(ctx, c, c.Body, t, Meta{})
			if err != nil {
				f.storeError("recording a replay", err)
			}
			switch {
			case out.Delivery != nil:
				f.publish(c, *out.Delivery)
				if out.Delivery.State != store.DeliverySucceeded {
					errs[i] = errors.New(out.Delivery.Error)
				}
			case out.Skipped != "":
				f.publish(c, store.Delivery{CaptureID: c.ID, Target: t, StartedAt: f.cfg.Now(), State: store.DeliveryFailed, Error: out.Skipped, Replay: true})
				if out.Busy {
					errs[i] = errors.New(out.Skipped)
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// AcceptedBy lists the targets that have accepted a capture (a 2xx answer to a forward or a
// replay), from its deliveries.
func AcceptedBy(ds []store.Delivery) map[string]bool {
	accepted := map[string]bool{}
	for _, d := range ds {
		if d.State == store.DeliverySucceeded {
			accepted[d.Target] = true
		}
	}
	return accepted
}

// targetsFor lists the target URLs whose rules take c, each once, in flag order.
func (f *Forwarder) targetsFor(c *store.Capture) []string {
	var urls []string
	seen := map[string]bool{}
	for _, t := range f.cfg.Targets {
		if t.Matches(c) && !seen[t.URL] {
			seen[t.URL] = true
			urls = append(urls, t.URL)
		}
	}
	return urls
}

func (f *Forwarder) hasTarget(url string) bool {
	for _, t := range f.cfg.Targets {
		if t.URL == url {
			return true
		}
	}
	return false
}

// skip says why c is not forwarded automatically, or "".
func (f *Forwarder) skip(c *store.Capture) string {
	if h := Hops(c); h >= MaxHops {
		return fmt.Sprintf("not forwarded: capture %d has already been forwarded by s2s %d times; is a --forward-to target s2s listen itself?", c.ID, h)
	}
	if f.cfg.ForwardInvalid || Forwardable(c.Trust) {
		return ""
	}
	label := string(c.Trust)
	if label == "" {
		label = "unlabelled"
	}
	if c.TrustClass != "" {
		label += " (" + string(c.TrustClass) + ")"
	}
	return fmt.Sprintf("not forwarded: capture %d is %s; only verified and simulated notifications are forwarded unless listen runs with --forward-invalid", c.ID, label)
}

// publishSkipped tells the developer why a capture did not reach their server. It is not an
// attempt, so nothing is stored.
func (f *Forwarder) publishSkipped(c *store.Capture, targets []string, why string) {
	for _, t := range targets {
		f.publish(c, store.Delivery{
			CaptureID: c.ID, Target: t, StartedAt: f.cfg.Now(), State: store.DeliveryFailed, Error: why,
		})
	}
}

type attemptKind int

const (
	kindForward     attemptKind = iota // retried with backoff
	kindPassthrough                    // Apple is waiting for the answer (and retries a notification)
)

// goAttempt runs an attempt in the background; prev is the pending row it retries, if any. The
// attempt's row is written before it waits for a free slot, so work still queued at shutdown is
// found pending by the next run. When MaxWaiting attempts already wait for target, no goroutine is
// started: a new delivery is queued in the store instead (queue), and a retry's row stays pending
// for a later poll.
func (f *Forwarder) goAttempt(c *store.Capture, target string, attempt int, prev *store.Delivery) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	if f.waiting[target] >= f.cfg.MaxWaiting {
		f.mu.Unlock()
		if prev == nil {
			f.queue(c, target)
		}
		return
	}
	f.waiting[target]++
	defer f.mu.Unlock()
	if prev != nil {
		f.inflight[prev.ID] = true
	}
	// The receiver goes on writing its capture (answer, latency) once Enqueue or Passthrough
	// returns, so the attempt takes a copy before it leaves the caller's goroutine.
	cc := *c
	c = &cc
	f.wg.Go(func() {
		defer f.release(prev)
		stopWaiting := sync.OnceFunc(func() {
			f.mu.Lock()
			f.waiting[target]--
			f.mu.Unlock()
		})
		defer stopWaiting()
		d, stored, taken := f.reserve(f.ctx, c, target, attempt, kindForward, prev)
		if taken {
			return // a replay delivered it instead
		}
		if stored {
			// Queued behind other attempts, the new row may fall due before it is sent.
			f.mu.Lock()
			f.inflight[d.ID] = true
			f.mu.Unlock()
			defer f.release(&d)
		}
		slot := f.slot(target)
		if !f.take(slot, c, stored) {
			return
		}
		stopWaiting()
		defer func() { <-slot }()
		f.perform(f.ctx, c, &d, stored, kindForward)
	})
}

// queue records a delivery that found MaxWaiting attempts already waiting for its target: a
// pending row with attempt 0 (none made yet), due now, so the retry loop makes its first attempt
// when the target has room, in order of due time. A replay takes it over like any pending retry.
func (f *Forwarder) queue(c *store.Capture, target string) {
	now := f.cfg.Now()
	d := store.Delivery{CaptureID: c.ID, Target: target, Attempt: 0, StartedAt: now,
		State: store.DeliveryPending, NextRetryAt: now}
	if err := f.cfg.Store.AddDelivery(context.WithoutCancel(f.ctx), &d); err != nil {
		f.storeError("queueing a delivery", err)
	}
}

// fullTargets lists the targets whose MaxWaiting attempts already wait in memory.
func (f *Forwarder) fullTargets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var full []string
	for t, n := range f.waiting {
		if n >= f.cfg.MaxWaiting {
			full = append(full, t)
		}
	}
	return full
}

// Waiting is how many attempts to target wait in memory for a slot (at most Config.MaxWaiting).
func (f *Forwarder) Waiting(target string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.waiting[target]
}

// take waits for a free slot. An attempt that has to wait (its target hangs, say) and whose row
// is stored lets go of the body meanwhile: it waits in the store, not in memory, and is read again
// when its turn comes. False when the attempt is not made now: at shutdown, or when the capture
// cannot be read (its row stays pending, and the retry loop makes it, or gives up on a deleted
// capture, when it falls due).
func (f *Forwarder) take(slot chan struct{}, c *store.Capture, stored bool) bool {
	select {
	case slot <- struct{}{}:
		return true
	default:
	}
	if stored {
		c.Body = nil
	}
	select {
	case slot <- struct{}{}:
	case <-f.ctx.Done():
		return false
	}
	if !stored {
		return true
	}
	got, err := f.cfg.Store.Get(f.ctx, c.ID)
	if err != nil {
		<-slot
		if f.ctx.Err() == nil && !errors.Is(err, store.ErrNotFound) {
			f.storeError("reading a capture to forward", err)
		}
		return false
	}
	c.Body = got.Body
	return true
}

// slot returns target's own bound on attempts in flight (made on first use for a target that was
// not configured, which retry gives up on before it gets here).
func (f *Forwarder) slot(target string) chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.slots[target]
	if s == nil {
		s = make(chan struct{}, f.cfg.Concurrency)
		f.slots[target] = s
	}
	return s
}

func (f *Forwarder) release(prev *store.Delivery) {
	if prev == nil {
		return
	}
	f.mu.Lock()
	delete(f.inflight, prev.ID)
	f.mu.Unlock()
}

// attempt makes one recorded attempt now.
func (f *Forwarder) attempt(ctx context.Context, c *store.Capture, target string, attempt int, kind attemptKind, prev *store.Delivery) (store.Delivery, Outcome) {
	d, stored, _ := f.reserve(ctx, c, target, attempt, kind, prev)
	res := f.perform(ctx, c, &d, stored, kind)
	return d, res
}

// reserve prepares an attempt about to be made. A forward's row is written as pending, so a
// delivery cut short by a crash or shutdown is retried by the next run; prev, the pending row this
// attempt retries, is retired in the same transaction, so a crash in between can neither lose the
// delivery nor make it twice. taken reports that prev was no longer pending: a replay (from the
// TUI or s2s replay in another process) took the retry over, and this attempt must not be made.
func (f *Forwarder) reserve(ctx context.Context, c *store.Capture, target string, attempt int, kind attemptKind, prev *store.Delivery) (d store.Delivery, stored, taken bool) {
	start := f.cfg.Now()
	d = store.Delivery{
		CaptureID: c.ID, Target: target, Attempt: attempt, StartedAt: start,
		State: store.DeliveryPending,
	}
	if kind != kindForward {
		// Passthrough attempts are not retried by s2s: they are recorded once done.
		return d, false, false
	}
	d.NextRetryAt = start.Add(f.cfg.Timeout + f.backoff(attempt))
	if prev == nil {
		if err := f.cfg.Store.AddDelivery(context.WithoutCancel(ctx), &d); err != nil {
			f.storeError("recording a delivery", err)
			return d, false, false
		}
		return d, true, false
	}
	ok, err := f.cfg.Store.RetryDelivery(context.WithoutCancel(ctx), prev.ID, &d)
	if err != nil {
		// Without the record the retry is still made: a delivery is worth more than its row.
		f.storeError("recording a delivery", err)
		return d, false, false
	}
	return d, ok, !ok
}

// perform sends the request for a reserved attempt and records and publishes the outcome.
func (f *Forwarder) perform(ctx context.Context, c *store.Capture, d *store.Delivery, stored bool, kind attemptKind) Outcome {
	d.StartedAt = f.cfg.Now()
	res := f.poster.Send(ctx, c, c.Body, d.Target, Meta{Attempt: d.Attempt})
	if kind == kindForward && !res.OK() && f.ctx.Err() != nil {
		// Shutting down: the row stays pending and the next run makes this attempt again. Say so,
		// or the attempt would vanish from the output without a word.
		interrupted := *d
		interrupted.State = store.DeliveryPending
		interrupted.Latency = res.Latency
		interrupted.NextRetryAt = time.Time{} // it is retried at the next start, not at a time
		interrupted.Error = fmt.Sprintf("interrupted because s2s is stopping; the notification is stored (capture %d) and is forwarded again when s2s listen starts", c.ID)
		f.publish(c, interrupted)
		return res
	}
	d.Status = res.Status
	d.Latency = res.Latency
	d.Response = res.Response
	d.NextRetryAt = time.Time{}
	switch {
	case res.OK():
		d.State = store.DeliverySucceeded
	case kind == kindForward && d.Attempt <= len(f.cfg.Backoff):
		d.State = store.DeliveryPending
		wait := f.backoff(d.Attempt)
		d.NextRetryAt = f.cfg.Now().Add(wait)
		d.Error = f.explain(c, res, d.Target, kind, d.Attempt, wait)
	default:
		d.State = store.DeliveryFailed
		d.Error = f.explain(c, res, d.Target, kind, d.Attempt, 0)
	}
	switch {
	case stored:
		if err := f.cfg.Store.UpdateDelivery(context.WithoutCancel(ctx), d); err != nil {
			f.storeError("updating a delivery", err)
		}
	case kind == kindPassthrough:
		if err := f.cfg.Store.AddDelivery(context.WithoutCancel(ctx), d); err != nil {
			f.storeError("recording a delivery", err)
		}
	}
	f.publish(c, *d)
	return res
}

// backoff is the wait after the given failed attempt (1-based).
func (f *Forwarder) backoff(attempt int) time.Duration {
	if attempt < 1 || attempt > len(f.cfg.Backoff) {
		return 0
	}
	return f.cfg.Backoff[attempt-1]
}

// explain says what went wrong, what s2s does about it and what the developer can do.
func (f *Forwarder) explain(c *store.Capture, res Outcome, target string, kind attemptKind, attempt int, wait time.Duration) string {
	parts := []string{Cause(res, target, f.cfg.Timeout)}
	down := res.Err != nil
	// What to do depends on how it failed: a refused connection means the server is not running,
	// a timeout that it is running but slow, anything else (TLS, DNS) that the target is wrong.
	remedy := "fix the target"
	switch {
	case res.Refused():
		remedy = "start your server"
	case res.TimedOut():
		remedy = fmt.Sprintf("make your server answer within %s", f.cfg.Timeout)
	}
	switch kind {
	case kindPassthrough:
		code := http.StatusBadGateway
		if res.TimedOut() {
			code = http.StatusGatewayTimeout
		}
		if res.Err == nil {
			code = res.Status
		}
		realtime := c.Kind == decode.KindRealtimeRequest
		what, again := "notification", ""
		switch {
		case realtime:
			// Apple waits for this one answer and never asks again.
			what, again = "real-time request", " to ask your server again"
			parts = append(parts, fmt.Sprintf("answered Apple %d: Apple never retries a real-time request, the customer sees no retention message", code))
		case c.Environment == decode.EnvProduction:
			parts = append(parts, fmt.Sprintf("answered Apple %d, so Apple sends it again in an hour", code))
		default:
			parts = append(parts, fmt.Sprintf("answered Apple %d (Apple retries only in Production)", code))
		}
		parts = append(parts, fmt.Sprintf("the %s is stored (capture %d)", what, c.ID))
		if down {
			parts = append(parts, fmt.Sprintf("%s, then press r in the TUI or run s2s replay %d%s", remedy, c.ID, again))
		}
	default:
		total := len(f.cfg.Backoff) + 1
		if wait > 0 {
			// What will happen: the retry delivers once the server is back. A replay before then
			// takes the retry over (one delivery, not two), so it is offered as "sooner".
			at := f.cfg.Now().Add(wait).Local().Format("15:04:05")
			parts = append(parts, fmt.Sprintf("the notification is stored (capture %d); retry %d of %d at %s (in %s)", c.ID, attempt, total-1, at, wait))
			fix := "fix your server"
			if down {
				fix = remedy
			}
			parts = append(parts, fmt.Sprintf("%s and that retry delivers it, or press r in the TUI or run s2s replay %d to deliver it sooner, once", fix, c.ID))
			break
		}
		if total > 1 {
			parts = append(parts, fmt.Sprintf("gave up after %d attempts; the notification is stored (capture %d)", total, c.ID))
		} else {
			parts = append(parts, fmt.Sprintf("the notification is stored (capture %d)", c.ID))
		}
		if down {
			parts = append(parts, fmt.Sprintf("%s, then press r in the TUI or run s2s replay %d", remedy, c.ID))
		} else {
			parts = append(parts, fmt.Sprintf("fix your server, then press r in the TUI or run s2s replay %d", c.ID))
		}
	}
	return strings.Join(parts, "; ")
}

func (f *Forwarder) publish(c *store.Capture, d store.Delivery) {
	if f.cfg.Bus == nil {
		return
	}
	// Subscribers read the event on their own goroutines while the caller may still be writing c
	// (the receiver sets its answer after a passthrough attempt returns).
	cc := *c
	cc.Body = nil // subscribers show deliveries, never bodies; a queued event must not hold one
	f.cfg.Bus.Publish(events.Event{Kind: events.Delivery, Time: f.cfg.Now(), Capture: &cc, Delivery: &d})
}

// storeError reports a store failure on the bus, at most once a minute: forwarding goes on
// without the record rather than stopping.
func (f *Forwarder) storeError(what string, err error) {
	f.mu.Lock()
	now := time.Now()
	quiet := now.Sub(f.lastErr) < time.Minute
	if !quiet {
		f.lastErr = now
	}
	f.mu.Unlock()
	if quiet || f.cfg.Bus == nil {
		return
	}
	f.cfg.Bus.Publish(events.Event{Kind: events.Error, Time: f.cfg.Now(),
		Err: fmt.Sprintf("forwarding: %s in the store failed (forwarding continues, but pending retries may not survive a restart): %v", what, err)})
}

// retryLoop makes the retries that are due, polling the store so that retries left by an earlier
// run are picked up like this run's own. At start every pending retry is made at once, whatever
// its schedule: a developer who restarts s2s has usually just fixed something, and should not
// wait out a ten-minute backoff to see it work.
func (f *Forwarder) retryLoop() {
	defer f.wg.Done()
	f.retry(f.cfg.Now().Add(100*365*24*time.Hour), 1000, true)
	tick := time.NewTicker(f.cfg.PollInterval)
	defer tick.Stop()
	for {
		select {
		case <-f.ctx.Done():
			return
		case <-tick.C:
		}
		f.retryDue()
	}
}

// retryDue starts the retries that are due. Rows still being worked on (queued behind a hanging
// target's slots, they fall due before they are sent) are skipped, so the query asks for that
// many more: otherwise they could fill every page and starve another target's due retries.
func (f *Forwarder) retryDue() {
	f.mu.Lock()
	busy := len(f.inflight)
	f.mu.Unlock()
	f.retry(f.cfg.Now(), 64+busy, false)
}

// retry starts the pending deliveries due at or before until; at start (earlier) only those an
// earlier run left, not the ones this run has just begun.
func (f *Forwarder) retry(until time.Time, limit int, earlier bool) {
	// Targets without room are left out of the query: their queued rows (a flood re-posted while
	// one target is slow) would otherwise fill every page and starve the other targets' retries.
	due, err := f.cfg.Store.DueDeliveries(f.ctx, until, limit, f.fullTargets()...)
	if err != nil {
		if f.ctx.Err() == nil {
			f.storeError("looking for due retries", err)
		}
		return
	}
	for i := range due {
		d := due[i]
		f.mu.Lock()
		busy := f.inflight[d.ID]
		f.mu.Unlock()
		if busy || earlier && !d.StartedAt.Before(f.started) {
			continue
		}
		if !f.hasTarget(d.Target) {
			f.giveUp(d, fmt.Sprintf("not retried: %s is no longer a --forward-to target", d.Target))
			continue
		}
		if f.Waiting(d.Target) >= f.cfg.MaxWaiting {
			continue // the row stays pending; a later poll starts it when the target has room
		}
		c, err := f.cfg.Store.Get(f.ctx, d.CaptureID)
		if errors.Is(err, store.ErrNotFound) {
			f.giveUp(d, fmt.Sprintf("not retried: capture %d was deleted", d.CaptureID))
			continue
		}
		if err != nil {
			f.storeError("reading a capture to retry", err)
			continue
		}
		f.goAttempt(c, d.Target, d.Attempt+1, &d)
	}
}

func (f *Forwarder) giveUp(d store.Delivery, why string) {
	d.State = store.DeliveryFailed
	d.NextRetryAt = time.Time{}
	if d.Error != "" {
		d.Error += "; "
	}
	d.Error += why
	if err := f.cfg.Store.UpdateDelivery(f.ctx, &d); err != nil {
		f.storeError("updating a delivery", err)
		return
	}
	f.publish(&store.Capture{ID: d.CaptureID}, d)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
