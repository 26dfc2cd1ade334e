package appstore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
)

// SendAttemptResult is what Apple recorded for one attempt to deliver a notification. The set is
// open: Apple may add values, which Meaning describes as unknown rather than failing.
type SendAttemptResult string

const (
	ResultSuccess                      SendAttemptResult = "SUCCESS"
	ResultTimedOut                     SendAttemptResult = "TIMED_OUT"
	ResultTLSIssue                     SendAttemptResult = "TLS_ISSUE"
	ResultCircularRedirect             SendAttemptResult = "CIRCULAR_REDIRECT"
	ResultNoResponse                   SendAttemptResult = "NO_RESPONSE"
	ResultSocketIssue                  SendAttemptResult = "SOCKET_ISSUE"
	ResultUnsupportedCharset           SendAttemptResult = "UNSUPPORTED_CHARSET"
	ResultInvalidResponse              SendAttemptResult = "INVALID_RESPONSE"
	ResultPrematureClose               SendAttemptResult = "PREMATURE_CLOSE"
	ResultUnsuccessfulHTTPResponseCode SendAttemptResult = "UNSUCCESSFUL_HTTP_RESPONSE_CODE"
	ResultOther                        SendAttemptResult = "OTHER"
)

// ResultInfo explains one sendAttemptResult: what Apple saw and what to fix.
type ResultInfo struct {
	Result  SendAttemptResult `json:"result"`
	Meaning string            `json:"meaning"`
	Fix     string            `json:"fix"`
}

// SendAttemptResults is the vocabulary of Apple's delivery outcomes, in Apple's order (docs/apple.md
// §4.1). `s2s send-test --apple`, `s2s history`, `s2s probe` and the tunnel self-check all speak
// it. Each call returns a new slice the caller may change.
func SendAttemptResults() []ResultInfo { return slices.Clone(sendAttemptResults[:]) }

var sendAttemptResults = [...]ResultInfo{
	{ResultSuccess,
		"Your server answered with an HTTP 2xx status; Apple counts the notification as delivered.",
		"Nothing to fix."},
	{ResultTimedOut,
		"Apple's connection to your server timed out before an answer came.",
		"Answer within a few seconds: store the payload, respond 200, and do the work afterwards."},
	{ResultTLSIssue,
		"The TLS handshake failed.",
		"Serve TLS 1.2 or later with a certificate from a publicly trusted CA that matches the host name, with its full chain (no self-signed or private CA)."},
	{ResultCircularRedirect,
		"Your server kept redirecting Apple.",
		"Set the exact final URL in App Store Connect; do not rely on redirects (http→https, trailing slash, www)."},
	{ResultNoResponse,
		"Apple got no valid HTTP response from your server.",
		"Check that the server is running and reachable from the internet on port 443 at that URL, and that it answers every POST."},
	{ResultSocketIssue,
		"A network error (connection refused or reset, DNS, routing) stopped the attempt.",
		"Check DNS, firewalls and that something listens on the URL's host and port from outside your network."},
	{ResultUnsupportedCharset,
		"Apple did not support the charset your server declared in its response.",
		"Answer with an empty body or with Content-Type: application/json; charset=utf-8."},
	{ResultInvalidResponse,
		"Your server sent something that is not a valid HTTP response.",
		"Check proxies and load balancers in front of the server; answer a plain HTTP status with a small or empty body."},
	{ResultPrematureClose,
		"The connection was closed while the notification was being sent.",
		"Read the whole request body before answering, and check proxy body-size limits and idle timeouts."},
	{ResultUnsuccessfulHTTPResponseCode,
		"Your server answered with a status outside 200–206.",
		"Answer 200 once the payload is stored; look at your server's logs for why it did not (a 5xx makes Apple retry in Production)."},
	{ResultOther,
		"Apple recorded another problem it does not classify.",
		"Try `s2s probe URL` against the notification URL, then request another test notification."},
}

var resultIndex = func() map[SendAttemptResult]ResultInfo {
	m := make(map[SendAttemptResult]ResultInfo, len(sendAttemptResults))
	for _, r := range sendAttemptResults {
		m[r.Result] = r
	}
	return m
}()

// Info explains r; an unknown value gets a generic sentence rather than an error.
func (r SendAttemptResult) Info() ResultInfo {
	if i, ok := resultIndex[r]; ok {
		return i
	}
	return ResultInfo{Result: r,
		Meaning: "A result this version of s2s does not know; Apple may have added it.",
		Fix:     "Look it up in Apple's sendAttemptResult documentation."}
}

// Meaning is the one-sentence explanation of r.
func (r SendAttemptResult) Meaning() string { return r.Info().Meaning }

// Known reports whether r is one of Apple's documented values.
func (r SendAttemptResult) Known() bool { _, ok := resultIndex[r]; return ok }

// Accepted reports whether Apple counts an HTTP answer with this status as delivered: 200 to 206.
// Every place that judges a delivery (sender, relay, probe, the tunnel self-check) asks this.
func Accepted(status int) bool { return status >= 200 && status <= 206 }

// ClassifyDelivery maps the outcome of one HTTP delivery (the response, or the error of
// http.Client.Do) to the sendAttemptResult Apple would record. It is an approximation of Apple's
// undocumented classifier, used by the stand-in server; the sender, which keeps only the answer's
// status and Content-Type, and the tunnel self-check use ClassifyOutcome, so all judge a delivery
// alike. It is s2s's only classifier of transport errors.
func ClassifyDelivery(resp *http.Response, err error) SendAttemptResult {
	if err == nil && resp == nil {
		return ResultOther
	}
	if err != nil {
		return ClassifyOutcome(0, "", err)
	}
	return ClassifyOutcome(resp.StatusCode, resp.Header.Get("Content-Type"), nil)
}

// ClassifyOutcome is ClassifyDelivery for callers that kept only the answer's status and
// Content-Type (or the transport error).
func ClassifyOutcome(status int, contentType string, err error) SendAttemptResult {
	if err == nil {
		if Accepted(status) {
			if cs := charsetOf(contentType); cs != "" && !supportedCharset(cs) {
				return ResultUnsupportedCharset
			}
			return ResultSuccess
		}
		return ResultUnsuccessfulHTTPResponseCode
	}
	var (
		netErr      net.Error
		certErr     *tls.CertificateVerificationError
		hostErr     x509.HostnameError
		unknownAuth x509.UnknownAuthorityError
		invalidCert x509.CertificateInvalidError
		recordErr   tls.RecordHeaderError
		alertErr    tls.AlertError
		dnsErr      *net.DNSError
		opErr       *net.OpError
	)
	msg := err.Error()
	switch {
	case errors.As(err, &certErr), errors.As(err, &hostErr), errors.As(err, &unknownAuth),
		errors.As(err, &invalidCert), errors.As(err, &recordErr), errors.As(err, &alertErr),
		strings.Contains(msg, "tls: "), strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return ResultTLSIssue
	case strings.Contains(msg, "stopped after") && strings.Contains(msg, "redirects"):
		return ResultCircularRedirect
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return ResultTimedOut
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH), errors.As(err, &dnsErr),
		errors.As(err, &opErr) && opErr.Op == "dial":
		return ResultSocketIssue
	// As in s2s probe: a close before a complete answer is PREMATURE_CLOSE, bytes that are not
	// HTTP at all are NO_RESPONSE, HTTP that breaks the protocol is INVALID_RESPONSE.
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), strings.Contains(msg, "server closed"):
		return ResultPrematureClose
	case strings.Contains(msg, "malformed HTTP response"):
		return ResultNoResponse
	case strings.Contains(msg, "malformed HTTP"), strings.Contains(msg, "bogus"), strings.Contains(msg, "invalid byte in chunk"):
		return ResultInvalidResponse
	}
	return ResultOther
}

func charsetOf(contentType string) string {
	for _, part := range strings.Split(contentType, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "charset") {
			return strings.ToLower(strings.Trim(strings.TrimSpace(v), `"`))
		}
	}
	return ""
}

func supportedCharset(cs string) bool {
	switch cs {
	case "utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin1":
		return true
	}
	return false
}
