package hub

import (
	"context"
	"fmt"
	"sort"
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
