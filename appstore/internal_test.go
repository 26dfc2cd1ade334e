package appstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/appleapi"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"1763899200123", time.UnixMilli(1763899200123)}, // Apple: UNIX milliseconds
		{"1763899200", time.Unix(1763899200, 0)},         // seconds since the epoch
		{"30", now.Add(30 * time.Second)},                // RFC 9110 delay
		{"Mon, 23 Nov 2026 12:01:00 GMT", now.Add(time.Minute)},
		{"", time.Time{}},
		{"soon", time.Time{}},
		{"-5", time.Time{}},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); !got.Equal(tt.want) {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"1763899200123", "1763899200", "30", "Mon, 23 Nov 2026 12:01:00 GMT", "", "-1", "99999999999999999999"} {
		f.Add(s)
	}
	now := time.Unix(1763899200, 0)
	f.Fuzz(func(t *testing.T, s string) {
		got := parseRetryAfter(s, now)
		if s == "" && !got.IsZero() {
			t.Fatal("empty header gave a time")
		}
	})
}

// FuzzParseError feeds arbitrary bodies to the error decoder: it must never panic and must keep
// the HTTP status whatever the body says.
func FuzzParseError(f *testing.F) {
	for _, s := range []string{`{"errorCode": 4040010, "errorMessage": "Transaction id not found."}`, `{"errorCode": 9990000}`, ``, `{"errorCode": "x"}`, `[1]`, `{"errorCode": 1e99}`} {
		f.Add(s, 404)
	}
	c := &Client{cfg: Config{Now: time.Now}}
	f.Fuzz(func(t *testing.T, body string, status int) {
		ans := &appleapi.Answer{Status: status, Header: http.Header{"Retry-After": {body}}, Body: []byte(body)}
		e := c.parseError(ans, "GET", "/x")
		if e.HTTPStatus != status {
			t.Fatalf("status %d became %d", status, e.HTTPStatus)
		}
		_ = e.Error()
	})
}

func TestAPIErrorRetryable(t *testing.T) {
	tests := []struct {
		status int
		code   int64
		want   bool
	}{
		{404, 4040002, true}, {404, 4040004, true}, {404, 4040006, true}, {500, 5000001, true},
		{500, 5000000, true}, {503, 0, true}, {429, 4290000, true},
		{404, 4040001, false}, {404, 4040008, false}, {400, 4000006, false}, {401, 0, false},
	}
	for _, tt := range tests {
		e := &APIError{HTTPStatus: tt.status, Code: tt.code}
		if got := e.Retryable(); got != tt.want {
			t.Errorf("%d/%d retryable = %v, want %v", tt.status, tt.code, got, tt.want)
		}
	}
}

func TestSendAttemptResultsComplete(t *testing.T) {
	want := []SendAttemptResult{"SUCCESS", "TIMED_OUT", "TLS_ISSUE", "CIRCULAR_REDIRECT", "NO_RESPONSE", "SOCKET_ISSUE",
		"UNSUPPORTED_CHARSET", "INVALID_RESPONSE", "PREMATURE_CLOSE", "UNSUCCESSFUL_HTTP_RESPONSE_CODE", "OTHER"}
	results := SendAttemptResults()
	if len(results) != len(want) {
		t.Fatalf("%d results, want %d", len(results), len(want))
	}
	for i, r := range want {
		info := r.Info()
		if results[i].Result != r || !r.Known() || info.Meaning == "" || info.Fix == "" || !strings.HasSuffix(info.Meaning, ".") {
			t.Errorf("%s: %+v", r, info)
		}
	}
	if r := SendAttemptResult("NEW_VALUE"); r.Known() || !strings.Contains(r.Meaning(), "does not know") {
		t.Errorf("unknown result: %+v", r.Info())
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassifyDelivery(t *testing.T) {
	resp := func(status int, ctype string) *http.Response {
		return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {ctype}}}
	}
	wrap := func(err error) error { return fmt.Errorf("Post \"https://x\": %w", err) }
	tests := []struct {
		name string
		resp *http.Response
		err  error
		want SendAttemptResult
	}{
		{"200", resp(200, ""), nil, ResultSuccess},
		{"206", resp(206, "application/json"), nil, ResultSuccess},
		{"utf-8 charset", resp(200, "application/json; charset=UTF-8"), nil, ResultSuccess},
		{"odd charset", resp(200, "text/plain; charset=x-mac-klingon"), nil, ResultUnsupportedCharset},
		{"204 is fine", resp(204, ""), nil, ResultSuccess},
		{"207", resp(207, ""), nil, ResultUnsuccessfulHTTPResponseCode},
		{"301 not followed", resp(301, ""), nil, ResultUnsuccessfulHTTPResponseCode},
		{"503", resp(503, ""), nil, ResultUnsuccessfulHTTPResponseCode},
		{"deadline", nil, wrap(context.DeadlineExceeded), ResultTimedOut},
		{"net timeout", nil, wrap(timeoutErr{}), ResultTimedOut},
		{"refused", nil, wrap(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), ResultSocketIssue},
		{"dns", nil, wrap(&net.DNSError{Err: "no such host", Name: "x"}), ResultSocketIssue},
		{"tls", nil, wrap(errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority")), ResultTLSIssue},
		{"plain HTTP behind https", nil, wrap(errors.New("http: server gave HTTP response to HTTPS client")), ResultTLSIssue},
		{"redirects", nil, wrap(errors.New("stopped after 10 redirects")), ResultCircularRedirect},
		{"closed before an answer", nil, wrap(io.EOF), ResultPrematureClose},
		{"cut short", nil, wrap(io.ErrUnexpectedEOF), ResultPrematureClose},
		{"not HTTP at all", nil, wrap(errors.New(`net/http: HTTP/1.x transport connection broken: malformed HTTP response "hello"`)), ResultNoResponse},
		{"broken HTTP", nil, wrap(errors.New(`net/http: HTTP/1.x transport connection broken: malformed HTTP status code "abc"`)), ResultInvalidResponse},
		{"other", nil, wrap(errors.New("something else")), ResultOther},
	}
	for _, tt := range tests {
		if got := ClassifyDelivery(tt.resp, tt.err); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestHistoryRequestValidate(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	ms := ToMillis
	tests := []struct {
		name string
		env  decode.Environment
		req  NotificationHistoryRequest
		want string // "" valid
	}{
		{"ok", decode.EnvSandbox, NotificationHistoryRequest{StartDate: ms(now.Add(-day)), EndDate: ms(now)}, ""},
		{"29 days sandbox", decode.EnvSandbox, NotificationHistoryRequest{StartDate: ms(now.Add(-29 * day)), EndDate: ms(now)}, ""},
		{"31 days sandbox", decode.EnvSandbox, NotificationHistoryRequest{StartDate: ms(now.Add(-31 * day)), EndDate: ms(now)}, "30 days"},
		{"100 days production", decode.EnvProduction, NotificationHistoryRequest{StartDate: ms(now.Add(-100 * day)), EndDate: ms(now)}, ""},
		{"181 days production", decode.EnvProduction, NotificationHistoryRequest{StartDate: ms(now.Add(-181 * day)), EndDate: ms(now)}, "180 days"},
		{"no start", decode.EnvSandbox, NotificationHistoryRequest{EndDate: ms(now)}, "start date"},
		{"reversed", decode.EnvSandbox, NotificationHistoryRequest{StartDate: ms(now), EndDate: ms(now.Add(-day))}, "before"},
		{"subtype alone", decode.EnvSandbox, NotificationHistoryRequest{StartDate: ms(now.Add(-day)), EndDate: ms(now), NotificationSubtype: "VOLUNTARY"}, "needs a notification type"},
		{"transaction and type", decode.EnvSandbox, NotificationHistoryRequest{StartDate: ms(now.Add(-day)), EndDate: ms(now), NotificationType: "REFUND", TransactionID: "1"}, "cannot be combined"},
	}
	for _, tt := range tests {
		err := tt.req.Validate(tt.env, now)
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestParseEnvironment(t *testing.T) {
	for in, want := range map[string]decode.Environment{"Sandbox": decode.EnvSandbox, "sandbox": decode.EnvSandbox, "PRODUCTION": decode.EnvProduction, "prod": decode.EnvProduction} {
		if got, err := ParseEnvironment(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"Xcode", "LocalTesting", ""} {
		if _, err := ParseEnvironment(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}
