package receiver

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/store"
)

// Retention Messaging: a real-time request is captured like a notification, but its answer body
// matters (Apple shows it to the customer) and so does its speed (Apple gives up after 700 ms).
// The receiver answers with the developer's server's answer passed through when a forward target
// takes the request, else with the configured response, and records the answer with what is
// wrong with it.

// Realtime configures the answers to real-time requests.
type Realtime struct {
	// Response is the body to answer with when no forward target takes the request (listen
	// --realtime-response); nil: answer with no body, which Apple cannot use.
	Response []byte
	// Budget is the time an answer must be sent within; 0: 700 ms, Apple's.
	Budget time.Duration
	// NoBodyFix is what the problem of an answer with no body tells the developer to do, for
	// the command that runs the receiver; "": listen's (DefaultNoBodyFix).
	NoBodyFix string
}

// DefaultNoBodyFix is what s2s listen does about a real-time request answered with no body.
const DefaultNoBodyFix = "start s2s listen with --realtime-response FILE, or --forward-to your server"

// DefaultRealtimeBudget is Apple's: a production real-time request fails after 700 ms.
const DefaultRealtimeBudget = 700 * time.Millisecond

// AnswerRecorder is the part of the store that records a real-time request's answer; the
// receiver records it when its Capturer has it (the store does).
type AnswerRecorder interface {
	SetAnswer(ctx context.Context, id int64, body []byte, problems []string) error
}

// AnswerForwarder is the part of a Forwarder that passes a target's answer body through
// (relay.Forwarder has it).
type AnswerForwarder interface {
	PassthroughAnswer(ctx context.Context, c *store.Capture) (status int, answer []byte, ok bool)
}

// answerRealtime answers a stored real-time request and returns the status, the body and the
// problems of the answer; the caller has not written anything yet.
func (h *Handler) answerRealtime(ctx context.Context, w http.ResponseWriter, c *store.Capture, start time.Time) (int, []byte, []string) {
	status, body := http.StatusOK, h.o.Realtime.Response
	passed := false
	if af, ok := h.o.Forwarder.(AnswerForwarder); ok && h.o.Forwarder != nil {
		if st, answer, ok := af.PassthroughAnswer(ctx, c); ok {
			status, body, passed = st, answer, true
		}
	}
	if len(body) > decode.MaxRealtimeResponse {
		body = body[:decode.MaxRealtimeResponse+1] // kept one byte over, so the validator says it is too large
	}
	if len(body) > 0 {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("X-S2S-Capture-Id", fmt.Sprint(c.ID))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	latency := h.o.Now().Sub(start)
	var problems []string
	switch {
	case status != http.StatusOK:
		problems = append(problems, fmt.Sprintf("HTTP %d: Apple uses an answer only with status 200", status))
	case len(body) == 0 && !passed:
		fix := h.o.Realtime.NoBodyFix
		if fix == "" {
			fix = DefaultNoBodyFix
		}
		problems = append(problems, "answered with no body: "+fix)
	default:
		_, p := decode.ValidateRealtimeResponse(body)
		problems = append(problems, p...)
	}
	if budget := h.realtimeBudget(); latency > budget {
		problems = append(problems, fmt.Sprintf("answered in %s, over the budget of %s: Apple would have given up", latency.Round(100*time.Microsecond), budget))
	}
	return status, body, problems
}

func (h *Handler) realtimeBudget() time.Duration {
	if h.o.Realtime.Budget > 0 {
		return h.o.Realtime.Budget
	}
	return DefaultRealtimeBudget
}
