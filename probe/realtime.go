package probe

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/s2s-dev/s2s/decode"
)

// Retention Messaging: Apple POSTs a signed real-time request to a Get Retention Message endpoint
// over the same transport as notifications, but uses the answer's body (it shows the customer what
// it chooses) and waits for it only so long: in production the request fails after 700 ms. A
// real-time probe therefore runs the same transport checks, times the POST against a budget, cuts
// it there as Apple does, and judges the answer as Apple's response body.

// Realtime makes a probe a real-time request's: Options.Body is a signed real-time request.
type Realtime struct {
	// Budget is the time the whole answer must arrive within, from the request's first byte to the
	// answer's last; the POST is abandoned when it runs out, as Apple abandons it.
	Budget time.Duration
}

// RealtimeAnswer is what a real-time probe found of the answer; in the report's JSON as "realtime".
type RealtimeAnswer struct {
	Budget       Duration `json:"budgetMs"`
	Latency      Duration `json:"latencyMs"` // the POST: request written to whole answer read (or the cut)
	Answered     bool     `json:"answered"`  // a whole answer arrived within the budget
	WithinBudget bool     `json:"withinBudget"`
	Valid        bool     `json:"valid"` // status 200, a valid response body, within the budget
	Choice       string   `json:"choice,omitempty"`
	Problems     []string `json:"problems,omitempty"`
	decode.AnswerJSON
}

// realtimeContext bounds the POST by the budget, inside the attempt's own timeout.
func (p *prober) realtimeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if p.o.Realtime == nil {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, p.o.Realtime.Budget)
}

// realtimeCut rewords a time out of the POST that the budget, not the attempt's timeout, caused.
func (p *prober) realtimeCut(attempt, post context.Context, out *outcome, elapsed time.Duration) *outcome {
	if p.o.Realtime == nil || out.verdict != TimedOut {
		return out
	}
	// The connection's deadline, not the context's timer, ends the read: compare the clock.
	pdl, _ := post.Deadline()
	if adl, ok := attempt.Deadline(); (ok && !adl.After(pdl)) || time.Now().Before(pdl) {
		return out // the attempt's own timeout, or not a time out of the budget
	}
	budget := p.o.Realtime.Budget
	why := fmt.Sprintf("no whole answer within the budget of %s: Apple gives up and the real-time request fails", budget)
	return &outcome{verdict: TimedOut, reason: why, meaning: "Apple gave up waiting: the customer sees no retention message",
		fix:      "Answer within the budget: look the customer up by originalTransactionId in a fast store, and answer a default message when that takes too long.",
		realtime: &RealtimeAnswer{Budget: Duration(budget), Latency: Duration(elapsed), Problems: []string{why}}}
}

// judgeRealtime judges a whole answer to a real-time request: the transport's verdict first (out:
// a status outside 200-206, a redirect, an unknown charset), then what Apple needs of it: status 200, a valid
// response body, within the budget.
func (p *prober) judgeRealtime(a *answer, out *outcome) (*outcome, Step) {
	budget := p.o.Realtime.Budget
	ra := &RealtimeAnswer{Budget: Duration(budget), Latency: Duration(a.elapsed), Answered: true,
		WithinBudget: a.elapsed <= budget, AnswerJSON: decode.NewAnswerJSON(a.body)}
	resp, problems := decode.CheckRealtimeAnswer(a.status, a.header.Get("Content-Encoding"), a.body)
	if resp != nil {
		ra.Choice = resp.Choice()
	}
	if !ra.WithinBudget {
		problems = append(problems, fmt.Sprintf("answered in %s, over the budget of %s: Apple would have given up", Duration(a.elapsed), budget))
	}
	ra.Problems, ra.Valid = problems, len(problems) == 0
	out.realtime = ra
	step := Step{Name: "answer", Title: "Answer", Status: StatusOK, Duration: Duration(a.elapsed)}
	switch {
	case ra.Valid:
		step.Detail = fmt.Sprintf("a valid %s, within the budget of %s", ra.Choice, budget)
		out.reason = fmt.Sprintf("answered a valid %s in %s, within the budget of %s", ra.Choice, Duration(a.elapsed), budget)
		out.meaning = "Apple would show the customer what the answer chooses"
		return out, step
	case out.verdict == Success && a.status != 200:
		out.verdict, out.reason = UnsuccessfulHTTPResponseCode, problems[0]
		out.fix = "Answer with status 200 and the response body; Apple ignores any other status."
	case out.verdict == Success && !ra.WithinBudget:
		out.verdict, out.reason = TimedOut, problems[len(problems)-1]
		out.fix = "Answer within the budget: look the customer up by originalTransactionId in a fast store."
	case out.verdict == Success:
		out.verdict, out.reason = InvalidResponse, "the answer is not a response body Apple can use: "+strings.Join(problems, "; ")
		out.fix = "Answer with a JSON object holding exactly one of message, alternateProduct, promotionalOffer or advancedCommerceInfo, with Apple's exact keys (see docs/realtime.md)."
	}
	if out.meaning == "" && out.verdict == UnsuccessfulHTTPResponseCode {
		// Apple's meaning of the verdict speaks of 200-206, a notification's window.
		out.meaning = "Your server answered with a status other than 200, the only one Apple uses for a real-time answer: the customer sees no retention message."
	}
	if out.meaning == "" {
		out.meaning = "the customer sees no retention message"
	}
	step.Status, step.Detail, step.Fix = StatusFail, strings.Join(problems, "; "), out.fix
	return out, step
}
