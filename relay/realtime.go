package relay

import (
	"context"
	"net/http"

	"github.com/s2s-dev/s2s/store"
)

// PassthroughAnswer is Passthrough for a Retention Messaging real-time request, whose answer body
// is what Apple shows the customer: it returns the first matching target's status and whole
// answer (up to decode.MaxRealtimeResponse+1 bytes), or 502/504 and no body when the target is
// down or too slow. ok is false when no target takes c (or c is not forwarded): the caller answers
// on its own.
func (f *Forwarder) PassthroughAnswer(ctx context.Context, c *store.Capture) (status int, answer []byte, ok bool) {
	targets := f.targetsFor(c)
	if len(targets) == 0 {
		return 0, nil, false
	}
	if why := f.skip(c); why != "" {
		f.publishSkipped(c, targets, why)
		return 0, nil, false
	}
	for _, t := range targets[1:] {
		f.goAttempt(c, t, 1, nil)
	}
	_, res := f.attempt(ctx, c, targets[0], 1, kindPassthrough, nil)
	switch {
	case res.Err == nil:
		return res.Status, res.Answer, true
	case res.TimedOut():
		return http.StatusGatewayTimeout, nil, true
	default:
		return http.StatusBadGateway, nil, true
	}
}
