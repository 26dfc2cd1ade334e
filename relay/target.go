// Package relay passes stored notifications on to the developer's own servers: forwarding with
// retries that survive a restart, routing by environment and type, passthrough of the target's
// answer, and replay. It knows nothing of the terminal; results go to the store and the event bus.
package relay

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/store"
)

// Target is one --forward-to: where to send, and which notifications to send there.
type Target struct {
	URL string // absolute http(s) URL
	// Envs and Types restrict the target; empty means any. A Types entry is "TYPE" (any subtype)
	// or "TYPE/SUBTYPE". Comparison ignores case.
	Envs  []string
	Types []string
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
	rules = strings.TrimSpace(rules)
	if rules == "" {
		return errors.New("empty rules before \"=>\"; write e.g. env=Sandbox=>3000, or leave out the \"=>\"")
	}
	seen := map[string]bool{}
	for rule := range strings.SplitSeq(rules, ";") {
		rule = strings.TrimSpace(rule)
		if rule == "" {
			continue
		}
		key, vals, ok := strings.Cut(rule, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		if !ok {
			return fmt.Errorf("rule %q has no \"=\"; write key=value, e.g. env=Sandbox or type=REFUND", rule)
		}
		if seen[key] {
			return fmt.Errorf("rule %q repeats %s; list several values in one rule, e.g. %s=A,B", rule, key, key)
		}
		seen[key] = true
		var list []string
		for v := range strings.FieldsFuncSeq(vals, func(r rune) bool { return r == ',' || r == '|' }) {
			if v = strings.TrimSpace(v); v != "" {
				list = append(list, v)
			}
		}
		if len(list) == 0 {
			return fmt.Errorf("rule %q has no value", rule)
		}
		switch key {
		case "env", "environment":
			for _, v := range list {
				canon, ok := canonicalEnv(v)
				if !ok {
					return fmt.Errorf("unknown environment %q; use Sandbox, Production, Xcode or LocalTesting", v)
				}
				t.Envs = append(t.Envs, canon)
			}
		case "type":
			for _, v := range list {
				typ, sub, hasSub := strings.Cut(v, "/")
				if !validName(typ) || (hasSub && !validName(sub)) {
					return fmt.Errorf("type %q: write a notificationType such as DID_RENEW, or TYPE/SUBTYPE such as SUBSCRIBED/RESUBSCRIBE", v)
				}
				t.Types = append(t.Types, strings.ToUpper(v))
			}
		default:
			return fmt.Errorf("unknown rule %q; the rules are env= and type=", key)
		}
	}
	if len(t.Envs) == 0 && len(t.Types) == 0 {
		return errors.New("empty rules before \"=>\"")
	}
	return nil
}

func canonicalEnv(v string) (string, bool) {
	for _, e := range []string{"Sandbox", "Production", "Xcode", "LocalTesting"} {
		if strings.EqualFold(v, e) {
			return e, true
		}
	}
	return "", false
}

// validName accepts Apple's notificationType and subtype spellings (upper case, digits, '_').
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// UnknownTypes lists the type rules naming a notificationType or subtype Apple does not document:
// most likely a typo that would route nothing, possibly a type newer than this s2s.
func (t Target) UnknownTypes() []string {
	var unknown []string
	for _, v := range t.Types {
		typ, sub, hasSub := strings.Cut(v, "/")
		if !decode.NotificationType(typ).Known() || hasSub && !decode.Subtype(sub).Known() {
			unknown = append(unknown, v)
		}
	}
	return unknown
}

// Matches reports whether c should go to t.
func (t Target) Matches(c *store.Capture) bool {
	if len(t.Envs) > 0 && !slices.ContainsFunc(t.Envs, func(e string) bool { return strings.EqualFold(e, c.Environment) }) {
		return false
	}
	if len(t.Types) == 0 {
		return true
	}
	return slices.ContainsFunc(t.Types, func(want string) bool {
		typ, sub, hasSub := strings.Cut(want, "/")
		if !strings.EqualFold(typ, c.Type) {
			return false
		}
		return !hasSub || strings.EqualFold(sub, c.Subtype)
	})
}

// String describes t for messages: the URL and its rules.
func (t Target) String() string {
	var rules []string
	if len(t.Envs) > 0 {
		rules = append(rules, "env="+strings.Join(t.Envs, ","))
	}
	if len(t.Types) > 0 {
		rules = append(rules, "type="+strings.Join(t.Types, ","))
	}
	if len(rules) == 0 {
		return t.URL
	}
	return t.URL + " (" + strings.Join(rules, "; ") + ")"
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
	return u.String(), nil
}
