package probe

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

// meanings paraphrase Apple's documentation of each value, followed by what the probe observed to
// choose it, so a reader of a report knows both Apple's word and the local evidence.
var meanings = map[Verdict]string{
	Success:                      "Apple received a success response (HTTP 200-206).",
	TimedOut:                     "Apple got no answer before its timeout; answer fast and process notifications asynchronously.",
	TLSIssue:                     "Apple could not establish a TLS session or validate the certificate (TLS 1.2 or later, a publicly trusted certificate for the host).",
	CircularRedirect:             "Apple detected a continual redirect; check the server's redirects for a loop.",
	NoResponse:                   "Apple did not receive a valid HTTP response: the server answered with bytes that are not HTTP.",
	SocketIssue:                  "A network error made the attempt fail: the name did not resolve, or the connection was refused, reset or unreachable.",
	UnsupportedCharset:           "Apple does not support the charset the answer declared in its Content-Type.",
	InvalidResponse:              "Apple received an invalid response: an HTTP answer that breaks the protocol.",
	PrematureClose:               "The connection was closed while the send was in progress, before a complete answer.",
	UnsuccessfulHTTPResponseCode: "Apple did not receive a status in 200-206.",
	Other:                        "Another error prevented the server from receiving the notification.",
}

// Meaning explains the verdict in one sentence.
func (v Verdict) Meaning() string {
	if m, ok := meanings[v]; ok {
		return m
	}
	return "Not a sendAttemptResult value."
}

// Valid reports whether v is one of Apple's values.
func (v Verdict) Valid() bool { _, ok := meanings[v]; return ok }

// Transient reports whether a retry can plausibly give another result: network trouble and time
// outs come and go; 5xx answers are checked by the caller, which knows the status.
func (v Verdict) Transient() bool {
	switch v {
	case NoResponse, SocketIssue, TimedOut:
		return true
	}
	return false
}
