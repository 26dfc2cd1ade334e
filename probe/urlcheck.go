package probe

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// outcome ends an attempt: the verdict Apple would record, why, and what to do about it.
type outcome struct {
	verdict Verdict
	reason  string
	fix     string
	status  int
	meaning string // what the verdict means here, when Apple's own meaning would mislead
	// realtime is what a real-time probe found of the answer (Options.Realtime); nil otherwise.
	realtime *RealtimeAnswer
}

// plainHTTP is how the probe words a plain-http URL: Apple records TLS_ISSUE, but no handshake
// took place, so the report says what did happen.
const (
	plainHTTPMeaning = "Apple records this for any URL it cannot reach over TLS."
	plainHTTPFix     = "Serve the receiver over HTTPS with a publicly trusted certificate and use an https:// URL (for a local receiver, s2s listen --tunnel gives one)."
)

// CheckURL runs the URL-form checks alone: the mistakes integrators make when they paste a
// notification URL into App Store Connect. It returns the parsed URL (nil when Apple cannot
// deliver to it), one step per finding, and, when Apple cannot deliver to it at all, the verdict.
func CheckURL(raw string) (*url.URL, []Step, Verdict) {
	u, steps, end := checkURL(raw, false)
	if end != nil {
		return nil, steps, end.verdict
	}
	return u, steps, ""
}

// checkURL is CheckURL with the outcome's words. A plain-http URL is the one that both ends Apple's
// delivery (the outcome) and is still returned: the probe goes on over plain http, so the user
// learns whether the server itself works. realtime words the findings for a Get Retention Message
// endpoint instead of a notification URL.
func checkURL(raw string, realtime bool) (*url.URL, []Step, *outcome) {
	f := urlFindings{realtime: realtime}
	u, s, out := f.parse(raw)
	if out != nil {
		return nil, f.steps, out
	}
	port, plain, out := f.endpoint(u)
	if out != nil {
		return nil, f.steps, out
	}
	f.warnDoubts(u, s, port, plain)
	return f.verdict(u, port, plain)
}

// urlFindings are checkURL's steps, in the order they are found.
type urlFindings struct {
	steps    []Step
	realtime bool // the URL is a real-time (Get Retention Message) endpoint's
}

// warn notes a doubt that does not stop Apple's delivery.
func (f *urlFindings) warn(name, title, detail, fix string) {
	f.steps = append(f.steps, Step{Name: name, Title: title, Status: StatusWarn, Detail: detail, Fix: fix})
}

// fail notes why Apple cannot deliver to the URL at all, and is the outcome that ends the check.
func (f *urlFindings) fail(v Verdict, detail, fix string) *outcome {
	f.steps = append(f.steps, Step{Name: "url", Title: "URL", Status: StatusFail, Detail: detail, Fix: fix})
	return &outcome{verdict: v, reason: detail, fix: fix}
}

// parse trims raw and parses it, failing on what no URL may contain: it returns the URL and
// the trimmed text it was parsed from.
func (f *urlFindings) parse(raw string) (*url.URL, string, *outcome) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, s, f.fail(Other, "the URL is empty", "Give the full notification URL, e.g. https://example.com/apple/notifications.")
	}
	if s != raw {
		f.warn("url-whitespace", "Whitespace", "the URL has leading or trailing whitespace (ignored here)",
			"Make sure the URL saved in App Store Connect has no surrounding spaces or line breaks.")
	}
	if i := strings.IndexFunc(s, unicode.IsSpace); i >= 0 {
		return nil, s, f.fail(Other, fmt.Sprintf("the URL contains whitespace at position %d: %q", i+1, s),
			"Remove the space (a copy-paste accident?) or encode it as %20.")
	}
	if !strings.Contains(s, "://") {
		guess := "https://" + strings.TrimLeft(strings.TrimPrefix(strings.TrimPrefix(s, "https:"), "http:"), "/")
		return nil, s, f.fail(Other, "the URL has no scheme; Apple delivers only to https:// URLs",
			fmt.Sprintf("Write the URL with its scheme: %s", guess))
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, s, f.fail(Other, "the URL does not parse: "+strings.TrimPrefix(err.Error(), "parse "),
			"Copy the notification URL again from where your server or service documents it.")
	}
	return u, s, nil
}

// endpoint checks the scheme, host and port Apple would connect to: it returns the port and
// whether the URL is plain http.
func (f *urlFindings) endpoint(u *url.URL) (int, bool, *outcome) {
	plain := false
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		plain = true
	default:
		return 0, false, f.fail(Other, fmt.Sprintf("the scheme %q is not https", u.Scheme),
			"Use an https:// URL.")
	}
	if u.Host == "" || u.Hostname() == "" {
		fix := "Write the URL as https://HOST/PATH."
		if p := strings.TrimLeft(u.Opaque+u.Path, "/"); p != "" {
			fix = "Did you mean https://" + p + " ?"
		}
		return 0, plain, f.fail(Other, "the URL has no host name", fix)
	}
	port := 443
	if plain {
		port = 80
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return 0, plain, f.fail(Other, fmt.Sprintf("the port %q is not a TCP port", p), "Drop the port (Apple uses 443) or fix it.")
		}
		port = n
	} else if strings.HasSuffix(u.Host, ":") {
		return 0, plain, f.fail(Other, "the URL has a colon but no port after the host", "Drop the colon: Apple uses port 443.")
	}
	return port, plain, nil
}

// warnDoubts notes what Apple may deliver to but is likely not what the user meant: credentials,
// an unusual port, a missing or placeholder path, a fragment. s is the URL's trimmed text.
func (f *urlFindings) warnDoubts(u *url.URL, s string, port int, plain bool) {
	if u.User != nil {
		f.warn("url-userinfo", "Credentials", "the URL carries a user name or password",
			"Apple documents no authentication for notification URLs; do not rely on credentials in the URL (verify the signed payload instead).")
	}
	if port != 443 && !plain {
		fix := fmt.Sprintf("Serve the receiver on port 443 (a reverse proxy or tunnel can forward to %d).", port)
		detail := fmt.Sprintf("port %d: Apple documents no port other than 443 for notification URLs", port)
		if port < 1024 {
			detail += "; App Store Connect is reported to accept only 443 or ports from 1024"
		}
		f.warn("port", "Port", detail, fix)
	}
	if u.EscapedPath() == "" || u.EscapedPath() == "/" {
		fix := "Use the full notification URL: receivers and hosted services usually listen on a specific path, often ending in a key or token segment."
		if f.realtime {
			fix = "Use the full Get Retention Message endpoint URL, as configured in App Store Connect: servers usually answer real-time requests on a specific path."
		}
		f.warn("path", "Path", "the URL has no path, so Apple will POST to /", fix)
	} else if ph := placeholder(u); ph != "" {
		f.warn("path", "Path", fmt.Sprintf("the URL contains %q, which looks like a template placeholder", ph),
			"Replace the placeholder with the real value (for a hosted service, the key or token it gave you).")
	}
	if u.Fragment != "" || strings.HasSuffix(s, "#") {
		f.warn("fragment", "Fragment", fmt.Sprintf("the fragment #%s is never sent to the server", u.Fragment),
			"Remove everything from # on; if the part after # was meant as a key, it belongs in the path or query.")
	}
}

// verdict puts the URL's own step before the doubts: plain http ends Apple's delivery (the URL is
// still returned, see checkURL), https passes.
func (f *urlFindings) verdict(u *url.URL, port int, plain bool) (*url.URL, []Step, *outcome) {
	if plain {
		detail := "Apple requires https; this URL is plain http"
		steps := append([]Step{{Name: "url", Title: "URL", Status: StatusFail, Detail: detail, Fix: plainHTTPFix}}, f.steps...)
		return u, steps, &outcome{verdict: TLSIssue, meaning: plainHTTPMeaning, reason: detail + ".", fix: plainHTTPFix}
	}
	detail := fmt.Sprintf("https, host %s, port %d, path %s", u.Hostname(), port, displayPath(u))
	steps := append([]Step{{Name: "url", Title: "URL", Status: StatusOK, Detail: detail}}, f.steps...)
	return u, steps, nil
}

func displayPath(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p
}

// placeholder finds a template marker left in a URL copied from documentation.
func placeholder(u *url.URL) string {
	path := u.Path + "?" + u.RawQuery
	for _, seg := range strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == '?' || r == '&' || r == '=' }) {
		l := strings.ToLower(seg)
		switch {
		case strings.ContainsAny(seg, "{}<>"),
			strings.HasPrefix(seg, ":") && len(seg) > 1,
			strings.HasPrefix(l, "your_"), strings.HasPrefix(l, "your-"),
			strings.Contains(l, "xxxx"):
			return seg
		}
	}
	return ""
}
