// Package appleapi is the HTTP plumbing that the App Store Server API client (package appstore)
// and the App Store Connect API client (package appstoreconnect) share: one request with a bearer
// token, and its answer read whole within a bound. What an answer means (its JSON, its error
// body, whether to retry) stays with each client.
package appleapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Endpoint is one of Apple's APIs as a client calls it.
type Endpoint struct {
	Name       string   // "App Store Server API": how every error starts
	UserAgent  string   // names the client
	BaseURL    *url.URL // scheme and host (and a path prefix, if any)
	HTTPClient *http.Client
	// MaxAnswer is the most bytes of an answer read: Apple's answers are small, and a larger one
	// is an error rather than a truncated answer that would read as something else.
	MaxAnswer int
	// Debugf, if set, receives one line per request and answer: never the token, the query or a body.
	Debugf func(format string, args ...any)
}

// New checks baseURL (an http(s) URL; a trailing slash is dropped) and returns the Endpoint of
// the API called name. A nil client is one with a 30 s timeout.
func New(name, baseURL string, client *http.Client, maxAnswer int, debugf func(format string, args ...any)) (*Endpoint, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%s base URL %q: want an http(s) URL", name, baseURL)
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &Endpoint{Name: name, UserAgent: "s2s (" + name + " client)", BaseURL: u, HTTPClient: client, MaxAnswer: maxAnswer, Debugf: debugf}, nil
}

// Answer is an answer read whole.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// OK says whether the status is 2xx.
func (a *Answer) OK() bool { return a.Status >= 200 && a.Status < 300 }

// Do sends method BaseURL+path?query with the bearer token and body (JSON; nil for none), and
// returns the answer whatever its status. path's variable segments are escaped already; it names
// the request in errors and debug lines, which never show the query (a pagination token may be
// in it).
func (e *Endpoint) Do(ctx context.Context, token, method, path string, query url.Values, body []byte) (*Answer, error) {
	target := e.BaseURL.String() + path
	if q := query.Encode(); q != "" {
		target += "?" + q
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", e.UserAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	e.debugf("→ %s %s%s", method, e.BaseURL.Host, path)
	start := time.Now()
	resp, err := e.HTTPClient.Do(req)
	if err != nil {
		err = redactURLError(err)
		e.debugf("← %s %s: %v", method, path, err)
		return nil, fmt.Errorf("%s %s %s: %w", e.Name, method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, int64(e.MaxAnswer)+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s %s: reading the answer: %w", e.Name, method, path, err)
	}
	if len(data) > e.MaxAnswer {
		return nil, fmt.Errorf("%s %s %s: the answer is larger than %d bytes", e.Name, method, path, e.MaxAnswer)
	}
	e.debugf("← %d %s %s (%s, %d bytes)", resp.StatusCode, method, path, time.Since(start).Round(time.Millisecond), len(data))
	return &Answer{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

func (e *Endpoint) debugf(format string, args ...any) {
	if e.Debugf != nil {
		e.Debugf(format, args...)
	}
}

// redactURLError drops the request's URL from a *url.Error (its query may hold a pagination token;
// nothing of a request is echoed that need not be).
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
