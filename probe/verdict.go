package probe

import "github.com/s2s-dev/s2s/appstore"

// Verdict is the sendAttemptResult value Apple would record for a delivery to the probed URL.
type Verdict string

// The eleven values of Apple's sendAttemptResult (App Store Server API 1.8 and later).
const (
	Success                      Verdict = "SUCCESS"
	TimedOut                     Verdict = "TIMED_OUT"
	TLSIssue                     Verdict = "TLS_ISSUE"
	CircularRedirect             Verdict = "CIRCULAR_REDIRECT"
	NoResponse                   Verdict = "NO_RESPONSE"
	SocketIssue                  Verdict = "SOCKET_ISSUE"
	UnsupportedCharset           Verdict = "UNSUPPORTED_CHARSET"
	InvalidResponse              Verdict = "INVALID_RESPONSE"
	PrematureClose               Verdict = "PREMATURE_CLOSE"
	UnsuccessfulHTTPResponseCode Verdict = "UNSUCCESSFUL_HTTP_RESPONSE_CODE"
	Other                        Verdict = "OTHER"
)

// Verdicts lists every value in Apple's order of documentation (success first).
var Verdicts = []Verdict{
	Success, TimedOut, TLSIssue, CircularRedirect, NoResponse, SocketIssue, UnsupportedCharset,
	InvalidResponse, PrematureClose, UnsuccessfulHTTPResponseCode, Other,
}

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
