// Package relay passes stored notifications on to the developer's own servers: forwarding with
// retries that survive a restart, routing by environment and type, passthrough of the target's
// answer, and replay. It knows nothing of the terminal; results go to the store and the event bus.
package relay

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/s2s-dev/s2s/store"
)

// Target is one --forward-to: where to send, and which notifications to send there.
type Target struct {
	URL string // absolute http(s) URL
	// Rules restrict the target, in the one filter grammar (store.ParseFilter); zero means any.
	Rules store.Filter
	Spec  string // as the user wrote it
}

// routeSep separates the rules from the URL. "=>" cannot start a URL and is unusual inside one,
// so a plain URL with "=" in its query string is never mistaken for rules.
const routeSep = "=>"

// ParseTarget reads a --forward-to value: a lenient URL, optionally preceded by routing rules.
//
//	3000                                  http://localhost:3000
//	3000/apple                            http://localhost:3000/apple
//	:3000/apple                           http://localhost:3000/apple
//	/apple                                http://localhost/apple
//	localhost:3000/apple?x=1              http://localhost:3000/apple?x=1
//	https://dev.example.com/hook          kept as is
//	env=Sandbox=>3000                     Sandbox notifications only
//	type=REFUND,DID_RENEW;env=Production=>https://…   both rules must hold
//	type=SUBSCRIBED/RESUBSCRIBE=>3001     one type and subtype
//
// Values of one rule are separated by "," or "|" and any of them may match.
func ParseTarget(spec string) (Target, error) {
	t := Target{Spec: spec}
	rest := strings.TrimSpace(spec)
	if rules, u, ok := strings.Cut(rest, routeSep); ok {
		if err := t.parseRules(rules); err != nil {
			return Target{}, fmt.Errorf("--forward-to %q: %w", spec, err)
		}
		rest = strings.TrimSpace(u)
	} else if host, _, _ := strings.Cut(strings.SplitN(rest, "?", 2)[0], "/"); strings.Contains(host, "=") && !strings.Contains(rest, "://") {
		// Without this, "env=Sandbox,3000" would be a host of that name and nothing would say so.
		return Target{}, fmt.Errorf("--forward-to %q: rules need a target: put the rules before \"=>\", e.g. env=Sandbox=>3000", spec)
	}
	u, err := NormalizeURL(rest)
	if err != nil {
		return Target{}, fmt.Errorf("--forward-to %q: %w", spec, err)
	}
	t.URL = u
	return t, nil
}

func (t *Target) parseRules(rules string) error {
	if strings.TrimSpace(strings.ReplaceAll(rules, ";", " ")) == "" {
		return errors.New("empty rules before \"=>\"; write e.g. env=Sandbox=>3000, or leave out the \"=>\"")
	}
	f, err := store.ParseFilter(rules)
	if err != nil {
		return err
	}
	if f.Text != "" {
		return fmt.Errorf("%q is not a rule; write KEY=VALUE (or KEY:VALUE) terms, e.g. env=Sandbox or type=REFUND,DID_RENEW; the keys are %s",
			f.Text, strings.Join(store.FilterKeys(), ", "))
	}
	t.Rules = f
	return nil
}

// UnknownTypes lists the type rules naming a notificationType or subtype Apple does not document:
// most likely a typo that would route nothing, possibly a type newer than this s2s.
func (t Target) UnknownTypes() []string { return t.Rules.UnknownTypes() }

// Matches reports whether c should go to t.
func (t Target) Matches(c *store.Capture) bool { return t.Rules.Match(c) }

// String describes t for messages: the URL and its rules.
func (t Target) String() string {
	if rules := t.Rules.String(); rules != "" {
		return t.URL + " (" + rules + ")"
	}
	return t.URL
}

// NormalizeURL turns the lenient forms developers type into an absolute URL, as the Stripe CLI
// does: a bare port, ":port/path", "port/path" and "host:port/path" are localhost or that host
// over http; "/path" is http://localhost/path; http and https URLs are kept, query included.
func NormalizeURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("empty URL; give a port (3000), a path (/apple) or a URL (http://localhost:3000/apple)")
	}
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
	case strings.Contains(s, "://"):
		return "", fmt.Errorf("%q: only http and https targets are supported", s)
	case strings.HasPrefix(s, "/"):
		s = "http://localhost" + s
	case strings.HasPrefix(s, ":"):
		s = "http://localhost" + s
	default:
		port, path, hasPath := strings.Cut(s, "/")
		if _, err := strconv.Atoi(port); err == nil {
			s = "http://localhost:" + port
			if hasPath {
				s += "/" + path
			}
		} else {
			s = "http://" + s
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %w", s, err)
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("%q has no host", s)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%q: port %s is out of range", s, p)
		}
	}
	if u.User != nil {
		return "", fmt.Errorf("%q: credentials in the URL are not supported", s)
	}
	u.Fragment = ""
	u.RawFragment = ""
	// url.Parse takes some hosts that its own String cannot give back in a form it parses (a raw
	// byte in an IPv6 zone comes back as an escape a host may not hold): the URL s2s posts to is
	// the string, so it must parse.
	out := u.String()
	if _, err := url.Parse(out); err != nil {
		return "", fmt.Errorf("%q is not a URL: %w", s, err)
	}
	return out, nil
}
