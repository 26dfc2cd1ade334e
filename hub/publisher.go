package hub

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/s2s-dev/s2s/store"
)

// Publisher drains the hub's outbox: every capture stored with HubPending is published to
// JetStream, retried until JetStream acknowledges it, then marked published. Run at start, it
// publishes what a crash left behind; Wake tells it that a new capture is waiting.
type Publisher struct {
	JS    jetstream.JetStream
	Store *store.Store
	HubID string
	Log   *slog.Logger
	// Published, when set, is told each capture JetStream acknowledged, with its stream sequence.
	Published func(c *store.Capture, seq uint64)

	wake chan struct{}
}

// NewPublisher returns a publisher; call Run.
func NewPublisher(js jetstream.JetStream, st *store.Store, hubID string, log *slog.Logger) *Publisher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Publisher{JS: js, Store: st, HubID: hubID, Log: log, wake: make(chan struct{}, 1)}
}

// Wake asks the publisher to look at the outbox now; it never blocks.
func (p *Publisher) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run publishes until ctx ends.
func (p *Publisher) Run(ctx context.Context) {
	// A wake-up lost to a full channel is not a capture lost: the outbox is looked at again soon.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		p.drain(ctx)
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-tick.C:
		}
	}
}

// drain publishes the whole outbox in capture order.
func (p *Publisher) drain(ctx context.Context) {
	var after int64
	for ctx.Err() == nil {
		batch, err := p.Store.HubPending(ctx, after, 100)
		if err != nil {
			p.Log.Warn("reading the hub outbox", "error", err)
			return
		}
		if len(batch) == 0 {
			return
		}
		for i := range batch {
			c := &batch[i]
			if !p.publish(ctx, c) {
				return
			}
			after = c.ID
		}
	}
}

// publish sends one capture until JetStream acknowledges it and the outbox forgets it; false when
// ctx ended first (the capture stays in the outbox).
func (p *Publisher) publish(ctx context.Context, c *store.Capture) bool {
	wait := 100 * time.Millisecond
	for {
		seq, err := p.once(ctx, c)
		if err == nil {
			if p.Published != nil {
				p.Published(c, seq)
			}
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		p.Log.Warn("publishing a capture to the hub stream; retrying", "capture", c.ID, "error", err, "in", wait)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

func (p *Publisher) once(ctx context.Context, c *store.Capture) (uint64, error) {
	m, err := Encode(p.HubID, c)
	if err != nil {
		return 0, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ack, err := p.JS.PublishMsg(pctx, m, jetstream.WithMsgID(Origin(p.HubID, c.ID)))
	if err != nil {
		return 0, err
	}
	// Marked after the acknowledgement: a crash between the two republishes, and JetStream's
	// duplicate window (or the listener's unique origin) drops the second copy.
	if err := p.Store.HubPublished(context.WithoutCancel(ctx), c.ID); err != nil {
		return 0, err
	}
	return ack.Sequence, nil
}
