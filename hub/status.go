package hub

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ConsumerStatus is one listener's durable consumer.
type ConsumerStatus struct {
	Name        string    `json:"name"`
	Pending     uint64    `json:"pending"`    // in the stream, not yet delivered to it
	AckPending  int       `json:"ackPending"` // delivered, not yet acknowledged
	Redelivered int       `json:"redelivered"`
	AckFloor    uint64    `json:"ackFloor"` // every message up to this stream sequence is acknowledged
	LastActive  time.Time `json:"lastActive,omitzero"`
}

// Lag is how many messages the consumer has not acknowledged yet.
func (c ConsumerStatus) Lag() uint64 { return c.Pending + uint64(c.AckPending) }

// Status is the stream's size and its consumers.
type Status struct {
	Stream    string           `json:"stream"`
	Messages  uint64           `json:"messages"`
	Bytes     uint64           `json:"bytes"`
	LastSeq   uint64           `json:"lastSeq"`
	MaxAge    time.Duration    `json:"maxAge"`
	Replicas  int              `json:"replicas"`
	Consumers []ConsumerStatus `json:"consumers"`
}

// StreamStatus reads the stream's state and every consumer's.
func StreamStatus(ctx context.Context, js jetstream.JetStream, stream string) (Status, error) {
	if stream == "" {
		stream = DefaultStream
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return Status{}, fmt.Errorf("the stream %s: %w", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("the stream %s: %w", stream, err)
	}
	st := Status{Stream: stream, Messages: info.State.Msgs, Bytes: info.State.Bytes, LastSeq: info.State.LastSeq,
		MaxAge: info.Config.MaxAge, Replicas: info.Config.Replicas, Consumers: []ConsumerStatus{}}
	l := s.ListConsumers(ctx)
	for ci := range l.Info() {
		cs := ConsumerStatus{Name: ci.Name, Pending: ci.NumPending, AckPending: ci.NumAckPending,
			Redelivered: ci.NumRedelivered, AckFloor: ci.AckFloor.Stream}
		if ci.AckFloor.Last != nil {
			cs.LastActive = *ci.AckFloor.Last
		}
		st.Consumers = append(st.Consumers, cs)
	}
	if err := l.Err(); err != nil {
		return Status{}, fmt.Errorf("the consumers of %s: %w", stream, err)
	}
	sort.Slice(st.Consumers, func(i, j int) bool { return st.Consumers[i].Name < st.Consumers[j].Name })
	return st, nil
}

// AckWatcher follows which consumers acknowledged the captures the hub published: Add a capture
// with its stream sequence, and Run tells Acked once per consumer whose acknowledgement floor
// reaches it. It remembers at most a bounded number of captures (the oldest are forgotten).
type AckWatcher struct {
	JS    jetstream.JetStream
	Acked func(captureID int64, consumer string)

	mu      sync.Mutex
	pending []ackEntry
}

type ackEntry struct {
	id, seq uint64
	seen    map[string]bool
}

const ackWatchLimit = 10000

// Add follows capture id, published at stream sequence seq.
func (w *AckWatcher) Add(id int64, seq uint64) {
	w.mu.Lock()
	if len(w.pending) >= ackWatchLimit {
		w.pending = w.pending[1:]
	}
	w.pending = append(w.pending, ackEntry{id: uint64(id), seq: seq, seen: map[string]bool{}})
	w.mu.Unlock()
}

// Run polls the consumers' state once a second while captures are followed, until ctx ends.
func (w *AckWatcher) Run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		w.mu.Lock()
		n := len(w.pending)
		w.mu.Unlock()
		if n == 0 {
			continue
		}
		st, err := StreamStatus(ctx, w.JS, "")
		if err != nil {
			continue
		}
		w.mu.Lock()
		keep := w.pending[:0]
		type ack struct {
			id   int64
			name string
		}
		var acks []ack
		for _, e := range w.pending {
			for _, c := range st.Consumers {
				if !e.seen[c.Name] && c.AckFloor >= e.seq {
					e.seen[c.Name] = true
					acks = append(acks, ack{int64(e.id), c.Name})
				}
			}
			// Kept until every consumer known now has acknowledged it.
			if len(e.seen) < len(st.Consumers) || len(st.Consumers) == 0 {
				keep = append(keep, e)
			}
		}
		w.pending = keep
		w.mu.Unlock()
		for _, a := range acks {
			w.Acked(a.id, a.name)
		}
	}
}
