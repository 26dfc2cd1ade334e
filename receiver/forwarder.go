package receiver

import (
	"context"

	"github.com/s2s-dev/s2s/store"
)

// Forwarder passes stored captures on to the developer's own servers; the relay package
// implements it. The receiver calls it only after the capture is durably stored.
type Forwarder interface {
	// Enqueue hands a stored capture over for asynchronous forwarding to every matching target.
	Enqueue(c *store.Capture)
	// Passthrough forwards c to the first matching target synchronously (recording the delivery)
	// and returns the status to answer Apple with: the target's status, or 502/504 when the target
	// is down or too slow. The other targets are forwarded asynchronously.
	Passthrough(ctx context.Context, c *store.Capture) int
}

// Replayer re-sends a stored capture to the forward targets on request (the TUI's r key).
type Replayer interface {
	Replay(ctx context.Context, c *store.Capture) error
}
