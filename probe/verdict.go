package probe

import "github.com/s2s-dev/s2s/appstore"

// Verdict is the sendAttemptResult value Apple would record for a delivery to the probed URL.
type Verdict string

// The eleven values of Apple's sendAttemptResult (App Store Server API 1.8 and later), spelled
// once in appstore so that the probe's verdicts cannot drift from the rest of s2s.
const (
	Success                      = Verdict(appstore.ResultSuccess)
	TimedOut                     = Verdict(appstore.ResultTimedOut)
	TLSIssue                     = Verdict(appstore.ResultTLSIssue)
	CircularRedirect             = Verdict(appstore.ResultCircularRedirect)
	NoResponse                   = Verdict(appstore.ResultNoResponse)
	SocketIssue                  = Verdict(appstore.ResultSocketIssue)
	UnsupportedCharset           = Verdict(appstore.ResultUnsupportedCharset)
	InvalidResponse              = Verdict(appstore.ResultInvalidResponse)
	PrematureClose               = Verdict(appstore.ResultPrematureClose)
	UnsuccessfulHTTPResponseCode = Verdict(appstore.ResultUnsuccessfulHTTPResponseCode)
	Other                        = Verdict(appstore.ResultOther)
)

// Verdicts lists every value in Apple's order of documentation (success first).
var Verdicts = func() []Verdict {
	vs := make([]Verdict, 0, len(appstore.SendAttemptResults))
	for _, r := range appstore.SendAttemptResults {
		vs = append(vs, Verdict(r.Result))
	}
	return vs
}()

// Meaning is Apple's sense of the verdict in one sentence, worded as everywhere else in s2s
// (send-test --apple, history); the report's Reason says what the probe observed.
func (v Verdict) Meaning() string { return appstore.SendAttemptResult(v).Meaning() }

// Valid reports whether v is one of Apple's values.
func (v Verdict) Valid() bool { return appstore.SendAttemptResult(v).Known() }

// Transient reports whether a retry can plausibly give another result: network trouble and time
// outs come and go; 5xx answers are checked by the caller, which knows the status.
func (v Verdict) Transient() bool {
	switch v {
	case NoResponse, SocketIssue, TimedOut:
		return true
	}
	return false
}
