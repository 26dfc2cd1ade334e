package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/store"
)

// Sink is the listener's pipeline, as the receiver offers it.
type Sink interface {
	// Verify verifies a body with the listener's own roots and expectations.
	Verify(body []byte) *decode.Decoded
	// Accept stores c with v, Verify's verdict on c.Body, durably (or finds it stored:
	// c.HubRedelivery), then forwards and shows it.
	Accept(ctx context.Context, c *store.Capture, v *decode.Decoded) error
}

// Consumer takes the hub's captures that match one of Filters (all, when there is none) into
// Sink, with a durable consumer Name:
// JetStream remembers what it acknowledged, so a listener that was away gets what it missed.
type Consumer struct {
	JS     jetstream.JetStream
	Stream string // DefaultStream when empty
	Name   string
	// Filters are alternatives: a capture any of them selects is taken. Several let a listener
	// take its app's notifications (bundle:…) and its real-time requests (kind:realtime-request
	// app:…), which carry no bundle ID.
	Filters []store.Filter
	// AckWait is how long JetStream waits for an acknowledgement before delivering a message
	// again (DefaultAckWait when 0). The consumer takes it at each start, so a listener that
	// restarts with a shorter one gets what its killed predecessor held that much sooner.
	AckWait time.Duration
	MaxBody int64
	Sink    Sink
	Log     *slog.Logger

	cons jetstream.Consumer
}

// ErrConsumerNotAllowed is a hub refusing a listener's key the consumer name it asked for.
var ErrConsumerNotAllowed = errors.New("the hub does not let this NKey use that consumer")

// DefaultAckWait is how long a message a listener took and never acknowledged (it died between
// storing and acknowledging) waits before JetStream delivers it again.
const DefaultAckWait = 10 * time.Second

// ValidName reports whether name can be a durable consumer's name.
func ValidName(name string) bool { return name != "" && validID(name) }

// Open creates (or finds) the durable consumer, so that a wrong stream or name is an error at
// start rather than in the background.
func (c *Consumer) Open(ctx context.Context) error {
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.AckWait <= 0 {
		c.AckWait = DefaultAckWait
	}
	cons, err := c.JS.CreateOrUpdateConsumer(ctx, c.Stream, jetstream.ConsumerConfig{
		Durable:       c.Name,
		Description:   "s2s listen --hub --name " + c.Name,
		DeliverPolicy: jetstream.DeliverAllPolicy, // a new listener gets what the stream holds
		AckPolicy:     jetstream.AckExplicitPolicy,
		// A listener that died holding messages gets them again this long after.
		AckWait:       c.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: consumeHeld,
	})
	if err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("the hub has no stream %s: is this the URL s2s hub printed?", c.Stream)
		}
		// The server refuses the request (and says so apart) when the key is bound to another
		// consumer: the request itself only times out.
		if last := c.JS.Conn().LastError(); errors.Is(last, nats.ErrPermissionViolation) {
			return fmt.Errorf("%w (%s): a hub with a key for each teammate (--nats-auth nkey:NAME=PUBKEY,…) binds each key to one consumer name; use the --name the hub's --nats-auth gives your key", ErrConsumerNotAllowed, c.Name)
		}
		return fmt.Errorf("creating the durable consumer %s: %w", c.Name, err)
	}
	c.cons = cons
	return nil
}

// Run consumes until ctx ends (after Open).
func (c *Consumer) Run(ctx context.Context) error {
	if c.cons == nil {
		if err := c.Open(ctx); err != nil {
			return err
		}
	}
	// A pull is bounded in bytes, not in messages: the consumer holds at most consumeHeld
	// unacknowledged (MaxAckPending), so with a backlog of ordinary notifications a pull brings
	// them all and the workers never wait for a round trip to the server, while large messages
	// (anyone with the token can publish) stay within pullBytes of memory.
	it, err := c.cons.Messages(jetstream.PullMaxBytes(pullBytes(c.MaxBody)))
	if err != nil {
		return fmt.Errorf("consuming from the hub: %w", err)
	}
	go func() {
		<-ctx.Done()
		it.Stop()
	}()
	// Several messages are verified at once (on every core) and stored at once, so the store
	// commits them together; each is acknowledged once its own commit is durable.
	work := make(chan jetstream.Msg)
	var wg sync.WaitGroup
	for range consumeWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range work {
				c.handle(ctx, m)
			}
		}()
	}
	defer func() {
		close(work)
		wg.Wait()
	}()
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			c.Log.Warn("hub consumer", "error", err)
			continue
		}
		work <- m
	}
}

// consumeWorkers is how many messages a listener verifies and stores at once; consumeHeld is
// how many it may hold unacknowledged (being stored, or waiting for a worker).
const (
	consumeWorkers = 16
	consumeHeld    = 256
	// consumeBuffer is the memory a listener's pulls may buffer, as much as the receiver lets
	// request bodies in flight take (thousands of real notifications of 5–19 KB).
	consumeBuffer = 32 << 20
)

// pullBytes is the byte limit of a pull: consumeBuffer, or two of the largest messages a hub
// with this --max-body sends (a limit below one message would stall the consumer).
func pullBytes(maxBody int64) int {
	return max(consumeBuffer, 2*int(MaxMsg(maxBody)))
}

// handle takes one message: a malformed one is terminated (it can never be stored), one the
// filter refuses is acknowledged unstored, one stored (or found stored) is acknowledged; one the
// store could not take is delivered again later.
//
// The body is verified once, and that verdict both filters and labels the capture. The
// acknowledgement is sent only after the store's commit, without waiting for the server's reply
// (the connection batches acknowledgements as it writes): one that is lost, like one a killed
// listener never sent, makes JetStream deliver the message again after AckWait, and the store
// recognises it by its origin.
func (c *Consumer) handle(ctx context.Context, m jetstream.Msg) {
	capture, err := Decode(m.Headers(), m.Data(), c.MaxBody)
	if err != nil {
		c.Log.Warn("hub message refused: not stored", "subject", m.Subject(), "error", err)
		_ = m.Term()
		return
	}
	// The filter sees what this listener verified, never the hub's summary.
	v := c.Sink.Verify(capture.Body)
	probe := *capture
	probe.SetSummary(v.Summary())
	if len(c.Filters) > 0 && !slices.ContainsFunc(c.Filters, func(f store.Filter) bool { return f.Match(&probe) }) {
		_ = m.Ack()
		return
	}
	if err := c.Sink.Accept(ctx, capture, v); err != nil {
		c.Log.Warn("hub message not stored; delivered again later", "origin", capture.HubOrigin, "error", err)
		_ = m.NakWithDelay(2 * time.Second)
		return
	}
	if err := m.Ack(); err != nil {
		// Stored already: the redelivery that follows is recognised by its origin.
		c.Log.Warn("acknowledging a hub message", "origin", capture.HubOrigin, "error", err)
	}
}
