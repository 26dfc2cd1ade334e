package tunnel

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/s2s-dev/s2s/appstore"
)

// CheckFunc checks the path from the internet to the receiver through url and returns a verdict
// in Apple's sendAttemptResult vocabulary (SUCCESS, TIMED_OUT, TLS_ISSUE, ...) and a sentence.
type CheckFunc func(ctx context.Context, url string) (verdict appstore.SendAttemptResult, message string)

// WatchOptions configure Watch.
type WatchOptions struct {
	Check CheckFunc
	// Interval between checks of a path; zero means 60 s.
	Interval time.Duration
	// Timeout bounds one check; zero means 15 s.
	Timeout time.Duration
	// Settle lists the waits before re-checking a path that failed right after it appeared (a new
	// hostname can take seconds to resolve); nil means 2 s then 5 s.
	Settle []time.Duration
	// OnEvent receives the tunnel's events.
	OnEvent func(Event)
	// OnCheck receives verdicts: the first one for each URL (after settling), every change, and
	// every failing one, so a broken path keeps being reported.
	OnCheck func(url string, verdict appstore.SendAttemptResult, message string)
}

// Watch relays t's events and checks its public URL now, after every URL change and then every
// Interval, because a silently stalled tunnel loses sandbox notifications Apple never retries. It
// returns when ctx ends or the tunnel ends.
func Watch(ctx context.Context, t Tunnel, o WatchOptions) {
	if o.Interval <= 0 {
		o.Interval = 60 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.Settle == nil {
		o.Settle = []time.Duration{2 * time.Second, 5 * time.Second}
	}
	if o.OnEvent == nil {
		o.OnEvent = func(Event) {}
	}
	if o.OnCheck == nil {
		o.OnCheck = func(string, appstore.SendAttemptResult, string) {}
	}
	url := t.URL()
	settling := 0                          // index into Settle while a new URL's first check keeps failing
	fresh := true                          // no verdict published yet for url
	last := appstore.SendAttemptResult("") // last published verdict
	timer := time.NewTimer(0)
	defer timer.Stop()
	events := t.Events()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-events:
			if !ok {
				return
			}
			o.OnEvent(e)
			switch e.Kind {
			case EventURL, EventUp:
				if e.Kind == EventURL {
					url, fresh, settling = e.URL, true, 0
				}
				resetTimer(timer, 0)
			case EventFailed:
				return
			}
			continue
		case <-timer.C:
		}
		if url == "" {
			resetTimer(timer, o.Interval)
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, o.Timeout)
		verdict, msg := o.Check(cctx, url)
		cancel()
		if ctx.Err() != nil {
			return
		}
		next := o.Interval
		switch {
		case verdict != appstore.ResultSuccess && fresh && settling < len(o.Settle):
			next = o.Settle[settling]
			settling++
		case fresh || verdict != last || verdict != appstore.ResultSuccess:
			o.OnCheck(url, verdict, msg)
			fresh, last = false, verdict
		}
		resetTimer(timer, next)
	}
}

func resetTimer(t *time.Timer, d time.Duration) {
	t.Stop()
	select {
	case <-t.C:
	default:
	}
	t.Reset(d)
}

// SelfCheckHeader marks the tunnel's own requests so the receiver and its logs can tell them apart.
const SelfCheckHeader = "X-S2S-Probe"

// HTTPCheck is the built-in check: GET the public URL through the tunnel and expect the
// receiver's 200. The full probe (`s2s probe`) also checks TLS the way Apple does.
func HTTPCheck(client *http.Client) CheckFunc {
	if client == nil {
		client = &http.Client{}
	}
	return func(ctx context.Context, url string) (appstore.SendAttemptResult, string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return appstore.ResultOther, err.Error()
		}
		req.Header.Set(SelfCheckHeader, "tunnel-self-check")
		req.Header.Set("User-Agent", "s2s tunnel self-check")
		resp, err := client.Do(req)
		if err != nil {
			return classifyCheckError(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16)) // drained so the connection is reused; the status is the answer
		if appstore.Accepted(resp.StatusCode) {
			return appstore.ResultSuccess, fmt.Sprintf("GET %s answered %s through the tunnel", url, resp.Status)
		}
		return appstore.ResultUnsuccessfulHTTPResponseCode, fmt.Sprintf("GET %s answered %s: the tunnel is up but does not reach the receiver", url, resp.Status)
	}
}

// classifyCheckError names a failed check with appstore's classifier, the one every part of s2s
// uses, and says what it means for the tunnel.
func classifyCheckError(err error) (appstore.SendAttemptResult, string) {
	v := appstore.ClassifyOutcome(0, "", err)
	switch v {
	case appstore.ResultTimedOut:
		return v, "no answer through the tunnel in time: " + err.Error()
	case appstore.ResultTLSIssue:
		return v, "TLS with the public URL failed: " + err.Error()
	case appstore.ResultPrematureClose, appstore.ResultNoResponse, appstore.ResultInvalidResponse:
		return v, "the connection closed without an answer: " + err.Error()
	case appstore.ResultSocketIssue:
		return v, "the public URL is unreachable: " + err.Error()
	}
	return v, err.Error()
}
