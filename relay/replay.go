package relay

import (
	"context"
	"fmt"
	"time"

	"github.com/s2s-dev/s2s/store"
)

// ReplayStore is the part of the store a replay needs; *store.Store implements it.
type ReplayStore interface {
	AddDelivery(ctx context.Context, d *store.Delivery) error
	TakeOverPending(ctx context.Context, captureID int64, target string, now time.Time) (store.TakeOver, error)
	RestorePending(ctx context.Context, taken []store.Delivery) error
}

// ReplayOutcome is one replay of a capture to one target.
type ReplayOutcome struct {
	Delivery *store.Delivery // the attempt, as recorded; nil when nothing was sent
	Result   Outcome         // the target's answer when something was sent
	Skipped  string          // why nothing was sent, "" when it was
	Busy     bool            // skipped because an attempt to that target is in flight: not done
	TookOver bool            // the replay replaced a pending forward retry (so that one is not made)
	Restored bool            // the replay failed, and the retry it replaced is scheduled again
}

// Replayer sends stored notifications again, now, one target at a time, so that a notification
// reaches a target once: a pending forward retry of the same capture to the same target is taken
// over (durably, in the store, so a forwarder in another process does not make it as well) and put
// back if the replay fails; a target that has already accepted the capture is skipped unless
// SkipAccepted is false. Both the TUI's r (in listen's process) and s2s replay (in its own) use it.
type Replayer struct {
	Store        ReplayStore
	Poster       *Poster
	SkipAccepted bool
	Now          func() time.Time // nil: time.Now
}

// Replay sends body (c's stored bytes, or an edited version) to target and records the attempt as
// a replay delivery of c.
func (r *Replayer) Replay(ctx context.Context, c *store.Capture, body []byte, target string, meta Meta) (ReplayOutcome, error) {
	now := r.Now
	if now == nil {
		now = time.Now
	}
	meta.Replay = true
	if meta.Attempt == 0 {
		meta.Attempt = 1
	}
	to, err := r.Store.TakeOverPending(context.WithoutCancel(ctx), c.ID, target, now())
	if err != nil {
		return ReplayOutcome{}, err
	}
	switch {
	case to.InFlight != nil:
		return ReplayOutcome{Busy: true, Skipped: fmt.Sprintf("not sent: s2s listen is delivering capture %d to %s right now (attempt %d); s2s captures show %d has the outcome",
			c.ID, target, to.InFlight.Attempt, c.ID)}, nil
	case to.Accepted != nil && r.SkipAccepted:
		// Nothing pending to that target can remain once it accepted, so nothing was taken.
		return ReplayOutcome{Skipped: fmt.Sprintf("not sent: %s already accepted capture %d (%d at %s); --all-targets sends it again",
			target, c.ID, to.Accepted.Status, to.Accepted.StartedAt.Local().Format("15:04:05"))}, nil
	}
	out := ReplayOutcome{TookOver: len(to.Taken) > 0}
	res := r.Poster.Send(ctx, c, body, target, meta)
	d := store.Delivery{
		CaptureID: c.ID, Target: target, Attempt: meta.Attempt, StartedAt: now().Add(-res.Latency),
		Status: res.Status, Latency: res.Latency, Response: res.Response, Replay: true,
		State: store.DeliverySucceeded,
	}
	if !res.OK() {
		d.State = store.DeliveryFailed
		d.Error = Cause(res, target, r.Poster.timeout())
		switch {
		case res.Refused():
			d.Error += "; start your server and replay again"
		case res.TimedOut():
			d.Error += fmt.Sprintf("; make your server answer within %s and replay again", r.Poster.timeout())
		}
		if out.TookOver {
			// The retry it replaced goes back on its schedule: a failed replay loses nothing.
			if err := r.Store.RestorePending(context.WithoutCancel(ctx), to.Taken); err == nil {
				out.Restored = true
				d.Error += "; the pending forward retry stays scheduled"
			}
		}
	}
	out.Result = res
	out.Delivery = &d
	return out, r.Store.AddDelivery(context.WithoutCancel(ctx), &d)
}
