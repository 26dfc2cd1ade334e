// Package events is the stream of what happens in a listening session: the receiver, the relay,
// the tunnel watcher and listen publish on a Bus; the TUI and the line and JSON printers subscribe.
// Producers and consumers import only this package, not each other.
package events

import (
	"sync"
	"time"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/store"
)

// Kind names what happened; the TUI, the line printer and the JSON printer all consume events.
type Kind string

const (
	Ready        Kind = "ready"        // the listener is serving
	Notification Kind = "notification" // a capture was stored and answered
	Delivery     Kind = "delivery"     // a forwarding or replay attempt finished
	Tunnel       Kind = "tunnel"       // the public URL appeared or changed, or the tunnel failed
	Probe        Kind = "probe"        // a self-check through the public URL finished
	Error        Kind = "error"        // the receiver could not store a request
	Connect      Kind = "connect"      // listen --connect changed App Store Connect (Message), or failed to (Err)
	HubAck       Kind = "hub-ack"      // s2s hub: the consumer Consumer acknowledged the capture CaptureID
)

// Event is one thing that happened in a listening session.
type Event struct {
	Kind     Kind            `json:"event"`
	Time     time.Time       `json:"time"`
	Capture  *store.Capture  `json:"capture,omitempty"`
	Delivery *store.Delivery `json:"delivery,omitempty"`
	// Ready / tunnel fields
	URL       string `json:"url,omitempty"`
	PublicURL string `json:"publicUrl,omitempty"`
	Store     string `json:"store,omitempty"`
	Hub       string `json:"hub,omitempty"` // s2s hub: the NATS URL teammates pass to listen --hub
	// s2s hub: the seed file teammates pass to listen --hub-nkey (--nats-auth nkey), and the
	// self-signed certificate they pass to --hub-ca. Paths only: a seed is never in an event.
	HubNKeyFile string `json:"hubNkeyFile,omitempty"`
	HubCAFile   string `json:"hubCaFile,omitempty"`
	// HubAck fields
	CaptureID int64  `json:"captureId,omitempty"`
	Consumer  string `json:"consumer,omitempty"`
	// Probe fields
	Verdict appstore.SendAttemptResult `json:"verdict,omitempty"`
	Message string                     `json:"message,omitempty"`
	Err     string                     `json:"error,omitempty"`
}

// Bus fans events out to subscribers. Publishing never blocks the receiver: a subscriber that
// falls behind loses events (it can reload from the store), the HTTP answer is never delayed.
type Bus struct {
	mu      sync.Mutex
	subs    map[chan Event]struct{}
	dropped map[<-chan Event]uint64
}

// NewBus returns an empty bus.
func NewBus() *Bus {
	return &Bus{subs: map[chan Event]struct{}{}, dropped: map[<-chan Event]uint64{}}
}

// Dropped is how many events the subscriber ch has lost so far because its buffer was full, so a
// printer can say that its output is incomplete instead of staying silent.
func (b *Bus) Dropped(ch <-chan Event) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped[ch]
}

// Subscribe returns a channel of future events with the given buffer, and a cancel function.
func (b *Bus) Subscribe(buffer int) (<-chan Event, func()) {
	ch := make(chan Event, buffer)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
		b.mu.Unlock()
	}
}

// Publish delivers e to every subscriber that has room.
func (b *Bus) Publish(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- e:
		default:
			b.dropped[ch]++
		}
	}
}
