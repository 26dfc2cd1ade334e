package hub

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
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

	wake   chan struct{}
	tooBig map[int64]bool // captures already reported as too large for the server
}

// NewPublisher returns a publisher; call Run.
func NewPublisher(js jetstream.JetStream, st *store.Store, hubID string, log *slog.Logger) *Publisher {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Publisher{JS: js, Store: st, HubID: hubID, Log: log, wake: make(chan struct{}, 1), tooBig: map[int64]bool{}}
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

// drain publishes the whole outbox: each batch asynchronously (JetStream acknowledges the
// messages in flight together), then marks what was acknowledged in one transaction; what was not
// is published again after a pause.
func (p *Publisher) drain(ctx context.Context) {
	var after int64
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		batch, err := p.Store.HubPending(ctx, after, 256)
		if err != nil {
			p.Log.Warn("reading the hub outbox", "error", err)
			return
		}
		if len(batch) == 0 {
			return
		}
		ids, seqs, err := p.publishBatch(ctx, batch)
		if len(ids) > 0 {
			// Marked after the acknowledgements: a crash in between republishes, and JetStream's
			// duplicate window (or the listener's unique origin) drops the second copy.
			if merr := p.Store.HubPublished(context.WithoutCancel(ctx), ids...); merr != nil {
				err = merr
			} else if p.Published != nil {
				for i := range batch {
					if seq, ok := seqs[batch[i].ID]; ok {
						p.Published(&batch[i], seq)
					}
				}
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p.Log.Warn("publishing captures to the hub stream; retrying", "error", err, "in", wait)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, 5*time.Second)
			after = 0
			continue
		}
		wait = 100 * time.Millisecond
		after = batch[len(batch)-1].ID
	}
}

// publishBatch publishes batch and returns the IDs JetStream acknowledged, with their stream
// sequences, and the first error.
func (p *Publisher) publishBatch(ctx context.Context, batch []store.Capture) ([]int64, map[int64]uint64, error) {
	type pending struct {
		id int64
		f  jetstream.PubAckFuture
	}
	var (
		inflight []pending
		first    error
	)
	for i := range batch {
		m, err := Encode(p.HubID, &batch[i])
		if err == nil {
			var f jetstream.PubAckFuture
			f, err = p.JS.PublishMsgAsync(m, jetstream.WithMsgID(Origin(p.HubID, batch[i].ID)))
			if err == nil {
				inflight = append(inflight, pending{batch[i].ID, f})
				continue
			}
		}
		if errors.Is(err, nats.ErrMaxPayload) {
			// This server will never take it (an existing server's max_payload is below
			// --max-body plus headers): it stays in the outbox, counted by hub status, and the
			// captures after it go on.
			if !p.tooBig[batch[i].ID] {
				p.tooBig[batch[i].ID] = true
				p.Log.Error("a capture is larger than the NATS server accepts; it stays in the outbox (raise max_payload)", "capture", batch[i].ID, "size", len(batch[i].Body))
			}
			continue
		}
		first = err
		break
	}
	ids := make([]int64, 0, len(inflight))
	seqs := make(map[int64]uint64, len(inflight))
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for _, pf := range inflight {
		select {
		case ack := <-pf.f.Ok():
			ids = append(ids, pf.id)
			seqs[pf.id] = ack.Sequence
		case err := <-pf.f.Err():
			if first == nil {
				first = err
			}
		case <-timeout.C:
			if first == nil {
				first = errors.New("no acknowledgement from JetStream within 30s")
			}
			return ids, seqs, first
		case <-ctx.Done():
			return ids, seqs, ctx.Err()
		}
	}
	return ids, seqs, first
}
