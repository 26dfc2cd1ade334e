package appstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/appleapi"
	"github.com/s2s-dev/s2s/internal/termsafe"
)

// RetryPolicy says how the client retries rate-limited, retryable and 5xx answers. The zero value
// is the default policy.
type RetryPolicy struct {
	Disabled   bool
	MaxRetries int           // 0: 3
	BaseDelay  time.Duration // 0: 500 ms; doubled per retry, with jitter
	MaxDelay   time.Duration // 0: 8 s
	// MaxRetryAfter caps how long the client waits for a 429's Retry-After (0: 1 minute). A later
	// Retry-After is returned to the caller as an APIError with RetryAfter set.
	MaxRetryAfter time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxRetries == 0 {
		p.MaxRetries = 3
	}
	if p.BaseDelay == 0 {
		p.BaseDelay = 500 * time.Millisecond
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = 8 * time.Second
	}
	if p.MaxRetryAfter == 0 {
		p.MaxRetryAfter = time.Minute
	}
	return p
}

// backoff is the wait before retry number n (0-based): exponential with ±20 % jitter so that
// several clients do not retry in step.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.BaseDelay << n
	if d <= 0 || d > p.MaxDelay {
		d = p.MaxDelay
	}
	jitter := time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
	return d + jitter
}

// RetryEvent tells an observer that a request failed and will be sent again after Wait.
type RetryEvent struct {
	Method, Path string
	Attempt      int   // the attempt that failed, 1-based
	Err          error // an *APIError, or a network error
	Wait         time.Duration
}

// Config configures a Client.
type Config struct {
	Credentials Credentials
	Environment decode.Environment // decode.EnvProduction or decode.EnvSandbox; picks the host
	BaseURL     string             // overrides the host (a stand-in server, a proxy)
	HTTPClient  *http.Client       // nil: a client with a 30 s timeout
	Now         func() time.Time
	Retry       RetryPolicy
	// TokenLifetime is the lifetime of each token (0: DefaultTokenLifetime).
	TokenLifetime time.Duration
	// OnRetry, if set, is told about each retry (for progress messages).
	OnRetry func(RetryEvent)
	// Debug, if set, receives one line per request and answer. It never receives the token, the
	// key or request bodies.
	Debug io.Writer
}

// Client calls the App Store Server API. It is safe for concurrent use.
type Client struct {
	cfg Config
	api *appleapi.Endpoint
}

// New checks the configuration and returns a client.
func New(cfg Config) (*Client, error) {
	if err := cfg.Credentials.Validate(); err != nil {
		return nil, err
	}
	if cfg.Environment == "" {
		cfg.Environment = decode.EnvSandbox
	}
	if !cfg.Environment.Server() {
		return nil, fmt.Errorf("environment %q: want Production or Sandbox", cfg.Environment)
	}
	raw := cfg.BaseURL
	if raw == "" {
		raw = HostURL(cfg.Environment)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Retry = cfg.Retry.withDefaults()
	c := &Client{cfg: cfg}
	api, err := appleapi.New("App Store Server API", raw, cfg.HTTPClient, maxResponse, c.debugf)
	if err != nil {
		return nil, err
	}
	c.api = api
	return c, nil
}

// Environment is the environment the client talks to.
func (c *Client) Environment() decode.Environment { return c.cfg.Environment }

// BaseURL is the host requests go to.
func (c *Client) BaseURL() string { return c.api.BaseURL.String() }

// RequestTestNotification asks Apple to send a TEST notification to the URL configured in App
// Store Connect for this environment, and returns the token to follow it with.
func (c *Client) RequestTestNotification(ctx context.Context) (string, error) {
	var out TestNotificationToken
	if err := c.do(ctx, http.MethodPost, "/inApps/v1/notifications/test", nil, nil, &out); err != nil {
		return "", err
	}
	if out.TestNotificationToken == "" {
		return "", errors.New("App Store Server API: Request a Test Notification answered without a testNotificationToken")
	}
	return out.TestNotificationToken, nil
}

// GetTestNotificationStatus returns the TEST notification and Apple's attempts to deliver it. Apple
// answers 4040008 TestNotificationNotFound until the status exists (and after the token expires).
func (c *Client) GetTestNotificationStatus(ctx context.Context, token string) (*TestNotificationStatus, error) {
	if token == "" {
		return nil, errors.New("a test notification token is required")
	}
	var out TestNotificationStatus
	if err := c.do(ctx, http.MethodGet, "/inApps/v1/notifications/test/"+url.PathEscape(token), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PollOptions configure WaitTestNotification.
type PollOptions struct {
	Timeout     time.Duration // 0: 2 minutes
	Interval    time.Duration // first wait between polls (0: 2 s); grows by half each poll
	MaxInterval time.Duration // 0: 10 s (Apple allows one status request per second, a tenth of that in Sandbox)
	// OnPoll, if set, is called after each poll with its outcome (nil status while Apple answers
	// TestNotificationNotFound).
	OnPoll func(n int, status *TestNotificationStatus, err error)
}

// ErrNoAttemptYet is returned (wrapped) by WaitTestNotification when the deadline passes before
// Apple recorded any send attempt.
var ErrNoAttemptYet = errors.New("Apple has not recorded a send attempt yet")

// WaitTestNotification polls Get Test Notification Status until Apple has recorded at least one
// send attempt, the timeout passes, or ctx ends. TestNotificationNotFound means "not yet" here.
func (c *Client) WaitTestNotification(ctx context.Context, token string, o PollOptions) (*TestNotificationStatus, error) {
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.Interval == 0 {
		o.Interval = 2 * time.Second
	}
	if o.MaxInterval == 0 {
		o.MaxInterval = 10 * time.Second
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	notYet := func() error {
		return fmt.Errorf("%w after %s (test notification token %s)", ErrNoAttemptYet, o.Timeout, token)
	}
	wait := o.Interval
	var last *TestNotificationStatus
	for n := 1; ; n++ {
		st, err := c.GetTestNotificationStatus(ctx, token)
		if o.OnPoll != nil {
			o.OnPoll(n, st, err)
		}
		switch {
		case err == nil && len(st.SendAttempts) > 0:
			return st, nil
		case err == nil:
			last = st
		case IsCode(err, CodeTestNotificationNotFound):
		case parent.Err() != nil:
			return last, parent.Err()
		case ctx.Err() != nil:
			return last, notYet()
		default:
			return nil, err
		}
		if err := sleep(ctx, wait); err != nil {
			if parent.Err() != nil {
				return last, parent.Err()
			}
			return last, notYet()
		}
		wait = min(wait+wait/2, o.MaxInterval)
	}
}

// GetNotificationHistory fetches one page; pass the previous page's PaginationToken to continue.
func (c *Client) GetNotificationHistory(ctx context.Context, req NotificationHistoryRequest, paginationToken string) (*NotificationHistoryResponse, error) {
	q := url.Values{}
	if paginationToken != "" {
		q.Set("paginationToken", paginationToken)
	}
	var out NotificationHistoryResponse
	if err := c.do(ctx, http.MethodPost, "/inApps/v1/notifications/history", q, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// NotificationHistory fetches every page, calling page for each (page numbers from 1). It stops
// at the first error, including one returned by page.
func (c *Client) NotificationHistory(ctx context.Context, req NotificationHistoryRequest, page func(n int, p *NotificationHistoryResponse) error) error {
	return followPages(
		func(token string) (*NotificationHistoryResponse, error) {
			return c.GetNotificationHistory(ctx, req, token)
		},
		func(p *NotificationHistoryResponse) (bool, string) { return p.HasMore, p.PaginationToken },
		page,
		"App Store Server API: page %d says hasMore but gives no new paginationToken",
		"App Store Server API: notification history still has more after %d pages; stopped")
}

// followPages fetches pages until one says it has no more, calling page for each (numbers from
// 1). more tells whether a page has a next one and the token that leads to it. A page that says
// it has more but gives no new token (noNext), or more than maxHistoryPages pages (tooMany), is
// an error: a stand-in or a proxy that loops must not keep s2s fetching for ever.
func followPages[P any](fetch func(token string) (P, error), more func(P) (bool, string), page func(int, P) error, noNext, tooMany string) error {
	token := ""
	seen := map[string]bool{}
	for n := 1; ; n++ {
		p, err := fetch(token)
		if err != nil {
			return err
		}
		if err := page(n, p); err != nil {
			return err
		}
		hasMore, next := more(p)
		if !hasMore {
			return nil
		}
		if next == "" || seen[next] {
			return fmt.Errorf(noNext, n)
		}
		if n >= maxHistoryPages {
			return fmt.Errorf(tooMany, n)
		}
		seen[next] = true
		token = next
	}
}

// GetTransactionInfo returns the signed transaction for a transaction id.
func (c *Client) GetTransactionInfo(ctx context.Context, transactionID string) (*TransactionInfoResponse, error) {
	if transactionID == "" {
		return nil, errors.New("a transaction id is required")
	}
	var out TransactionInfoResponse
	if err := c.do(ctx, http.MethodGet, "/inApps/v1/transactions/"+url.PathEscape(transactionID), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetAllSubscriptionStatuses returns the statuses of every subscription of the customer who made
// transactionID, optionally only those with the given status values (1 active … 5 revoked).
func (c *Client) GetAllSubscriptionStatuses(ctx context.Context, transactionID string, statuses ...int) (*StatusResponse, error) {
	if transactionID == "" {
		return nil, errors.New("a transaction id is required")
	}
	q := url.Values{}
	for _, s := range statuses {
		q.Add("status", strconv.Itoa(s))
	}
	var out StatusResponse
	if err := c.do(ctx, http.MethodGet, "/inApps/v1/subscriptions/"+url.PathEscape(transactionID), q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// maxResponse bounds what is read of an answer (a larger one is an error); history pages are
// well under 1 MiB.
const maxResponse = 16 << 20

// do sends one API call with retries and decodes a 2xx JSON answer into out.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return err
		}
	}
	pol := c.cfg.Retry
	for attempt := 1; ; attempt++ {
		err := c.once(ctx, method, path, query, payload, out)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait, retry := c.retryAfter(err, attempt, pol)
		if !retry {
			return err
		}
		if c.cfg.OnRetry != nil {
			c.cfg.OnRetry(RetryEvent{Method: method, Path: path, Attempt: attempt, Err: err, Wait: wait})
		}
		c.debugf("retrying %s %s in %s (attempt %d failed: %v)", method, path, wait.Round(time.Millisecond), attempt, err)
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// retryAfter decides whether a failed attempt is retried and after how long.
func (c *Client) retryAfter(err error, attempt int, pol RetryPolicy) (time.Duration, bool) {
	if pol.Disabled || attempt > pol.MaxRetries {
		return 0, false
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		// A network error: the request may not have reached Apple; try again like a 5xx.
		return pol.backoff(attempt - 1), true
	}
	if !apiErr.Retryable() {
		return 0, false
	}
	if !apiErr.RetryAfter.IsZero() {
		wait := apiErr.RetryAfter.Sub(c.cfg.Now())
		if wait > pol.MaxRetryAfter {
			return 0, false
		}
		return max(wait, 0), true
	}
	return pol.backoff(attempt - 1), true
}

// once makes one attempt of an API call (path's variable segments are escaped already).
func (c *Client) once(ctx context.Context, method, path string, query url.Values, payload []byte, out any) error {
	token, err := c.cfg.Credentials.SignToken(c.cfg.Now(), c.cfg.TokenLifetime)
	if err != nil {
		return err
	}
	ans, err := c.api.Do(ctx, token, method, path, query, payload)
	if err != nil {
		return err
	}
	if !ans.OK() {
		return c.parseError(ans, method, path)
	}
	if out == nil || len(bytes.TrimSpace(ans.Body)) == 0 {
		return nil
	}
	// Exact keys: a duplicate or case-variant hasMore, revision or status would be read
	// differently by Apple's own libraries.
	if err := decode.UnmarshalExact(ans.Body, "Apple's answer", out); err != nil {
		return fmt.Errorf("App Store Server API %s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// parseError builds an APIError from any answer: a JSON error body if there is one (unknown codes
// and extra fields are fine), otherwise just the status.
func (c *Client) parseError(ans *appleapi.Answer, method, path string) *APIError {
	e := &APIError{HTTPStatus: ans.Status, Method: method, Path: path}
	var body struct {
		ErrorCode    json.Number `json:"errorCode"`
		ErrorMessage string      `json:"errorMessage"`
	}
	// Exact keys here too: the code decides whether the request is retried.
	if decode.UnmarshalExact(ans.Body, "Apple's error", &body) == nil {
		if code, err := body.ErrorCode.Int64(); err == nil {
			e.Code = code
			e.Name = ErrorName(code)
		}
		e.Message = body.ErrorMessage
	}
	if ans.Status == http.StatusTooManyRequests || e.Code == CodeRateLimitExceeded {
		e.RetryAfter = parseRetryAfter(ans.Header.Get("Retry-After"), c.cfg.Now())
	}
	return e
}

// parseRetryAfter reads Apple's Retry-After: a UNIX time in milliseconds. Seconds since the epoch,
// a delay in seconds and an HTTP date (what other servers send) are accepted too.
func parseRetryAfter(v string, now time.Time) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		switch {
		case n >= 1e11: // milliseconds since the epoch (Apple)
			return time.UnixMilli(n)
		case n >= 1e9: // seconds since the epoch
			return time.Unix(n, 0)
		default: // delay in seconds (RFC 9110)
			return now.Add(time.Duration(n) * time.Second)
		}
	}
	if t, err := http.ParseTime(v); err == nil {
		return t
	}
	return time.Time{}
}

// debugf writes one line for a person: an error may quote what a server answered.
func (c *Client) debugf(format string, args ...any) {
	if c.cfg.Debug != nil {
		fmt.Fprintf(c.cfg.Debug, "appstore: %s\n", termsafe.String(fmt.Sprintf(format, args...)))
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
