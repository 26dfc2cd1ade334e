package mcpserver

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/s2s-dev/s2s/internal/state"
	"github.com/s2s-dev/s2s/relay"
)

// Policy decides where the sending tools may send. An agent's arguments are untrusted input (a
// prompt injected through a payload could ask for anything), so a send goes only to the running
// listener, its forward targets, loopback, or a host the user allowed with --allow-url.
type Policy struct {
	allow []string // lower-case host patterns: "host", "host:port" or "*.domain"
}

// NewPolicy checks the --allow-url patterns: a host name, host:port, *.domain, or a URL whose
// host is taken.
func NewPolicy(patterns []string) (*Policy, error) {
	p := &Policy{}
	for _, raw := range patterns {
		pat := strings.ToLower(strings.TrimSpace(raw))
		if strings.Contains(pat, "://") {
			u, err := url.Parse(pat)
			if err != nil || u.Host == "" {
				return nil, fmt.Errorf("invalid --allow-url %q: use a host (example.com), host:port, *.example.com or a URL", raw)
			}
			pat = u.Host
		}
		if pat == "" || pat == "*" || strings.ContainsAny(pat, "/?#@ ") || (strings.Contains(pat, "*") && !strings.HasPrefix(pat, "*.")) ||
			strings.Count(pat, "*") > 1 {
			return nil, fmt.Errorf("invalid --allow-url %q: use a host (example.com), host:port, *.example.com or a URL", raw)
		}
		p.allow = append(p.allow, pat)
	}
	return p, nil
}

// IsLoopback reports whether host (no port) is a loopback IP literal or "localhost". Only
// literals count: a name that resolves to 127.0.0.1 today may resolve elsewhere tomorrow.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Check parses raw and says whether a send may go there; the error says why not and names
// --allow-url. listener is the running listener (zero when none runs).
func (p *Policy) Check(raw string, listener state.Listener) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fmt.Errorf("%q is not an http or https URL", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("refused: URLs with credentials are not accepted")
	}
	host := strings.ToLower(u.Hostname())
	if IsLoopback(host) {
		return u, nil
	}
	for _, known := range append([]string{listener.URL, listener.PublicURL}, forwardURLs(listener.Forward)...) {
		if k, err := url.Parse(known); err == nil && k.Host != "" && strings.EqualFold(k.Host, u.Host) {
			return u, nil
		}
	}
	hostPort := strings.ToLower(u.Host)
	for _, pat := range p.allow {
		switch {
		case strings.HasPrefix(pat, "*."):
			if strings.HasSuffix(host, pat[1:]) {
				return u, nil
			}
		case pat == host || pat == hostPort:
			return u, nil
		}
	}
	return nil, fmt.Errorf("refused: %s is not the running listener, one of its forward targets or a loopback address; "+
		"to allow it, start the server with s2s mcp --allow-url %s", u.Host, host)
}

// forwardURLs are the URLs of listen's --forward-to values (rules and shorthands read the way
// listen reads them).
func forwardURLs(forward []string) []string {
	var out []string
	for _, f := range forward {
		if t, err := relay.ParseTarget(f); err == nil {
			out = append(out, t.URL)
		}
	}
	return out
}
