package probe

import "github.com/s2s-dev/s2s/appstore"

// Verdict is the sendAttemptResult value Apple would record for a delivery to the probed URL: the
// same type as everywhere else in s2s (send-test --apple, history, the tunnel self-check).
type Verdict = appstore.SendAttemptResult

// The eleven values of Apple's sendAttemptResult, under the probe's short names.
const (
	Success                      = appstore.ResultSuccess
	TimedOut                     = appstore.ResultTimedOut
	TLSIssue                     = appstore.ResultTLSIssue
	CircularRedirect             = appstore.ResultCircularRedirect
	NoResponse                   = appstore.ResultNoResponse
	SocketIssue                  = appstore.ResultSocketIssue
	UnsupportedCharset           = appstore.ResultUnsupportedCharset
	InvalidResponse              = appstore.ResultInvalidResponse
	PrematureClose               = appstore.ResultPrematureClose
	UnsuccessfulHTTPResponseCode = appstore.ResultUnsuccessfulHTTPResponseCode
	Other                        = appstore.ResultOther
)

// transient reports whether a retry can plausibly give another result: network trouble and time
// outs come and go; 5xx answers are checked by the caller, which knows the status.
func transient(v Verdict) bool {
	switch v {
	case NoResponse, SocketIssue, TimedOut:
		return true
	}
	return false
}
