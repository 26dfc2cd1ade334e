package tunnel

import (
	"fmt"
	"io"
	"net"
	"strings"
)

// Spec is a parsed --tunnel value.
type Spec struct {
	Provider string // "none", "ssh", "cloudflared" or "ngrok"
	Host     string // ssh: host[:port] of the service; ngrok: the endpoint URL to ask for
	User     string // ssh: login name
}

// ParseSpec reads none | cloudflared | ngrok[=URL] | ssh[=[USER@]HOST[:PORT]]. An empty value is
// none; "ssh" alone is localhost.run.
func ParseSpec(s string) (Spec, error) {
	name, arg, hasArg := strings.Cut(strings.TrimSpace(s), "=")
	switch strings.ToLower(name) {
	case "", "none":
		if hasArg {
			return Spec{}, fmt.Errorf("--tunnel none takes no value")
		}
		return Spec{Provider: "none"}, nil
	case "cloudflared", "cloudflare":
		if hasArg {
			return Spec{}, fmt.Errorf("--tunnel cloudflared takes no value (quick tunnels pick their own name)")
		}
		return Spec{Provider: "cloudflared"}, nil
	case "ngrok":
		if hasArg && !strings.Contains(arg, ".") {
			return Spec{}, fmt.Errorf("--tunnel ngrok=%s: want the endpoint URL, such as https://NAME.ngrok-free.dev", arg)
		}
		if hasArg && !strings.Contains(arg, "://") {
			arg = "https://" + arg
		}
		return Spec{Provider: "ngrok", Host: arg}, nil
	case "ssh", "localhost.run":
		sp := Spec{Provider: "ssh", Host: DefaultSSHHost}
		if name == "localhost.run" || !hasArg {
			return sp, nil
		}
		if user, host, ok := strings.Cut(arg, "@"); ok {
			if user == "" {
				return Spec{}, fmt.Errorf("--tunnel ssh=%s: empty user before @", arg)
			}
			sp.User, arg = user, host
		}
		host := arg
		if h, port, err := net.SplitHostPort(arg); err == nil {
			if port == "" {
				return Spec{}, fmt.Errorf("--tunnel ssh=%s: empty port", arg)
			}
			host = h
		}
		if host == "" || strings.ContainsAny(host, "/ ") {
			return Spec{}, fmt.Errorf("--tunnel ssh=%s: want [USER@]HOST[:PORT]", arg)
		}
		sp.Host = arg
		return sp, nil
	}
	return Spec{}, fmt.Errorf("unknown tunnel %q: want none, ssh[=[USER@]HOST[:PORT]], cloudflared or ngrok", name)
}

// Options carries what providers take from the process.
type Options struct {
	ConfigDir string
	Getenv    func(string) string
	Log       io.Writer
}

// New returns the provider for spec; nil for none.
func New(spec Spec, o Options) Provider {
	getenv := o.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	switch spec.Provider {
	case "ssh":
		return &SSH{Addr: spec.Host, User: spec.User, ConfigDir: o.ConfigDir, Log: o.Log}
	case "cloudflared":
		return &Cloudflared{Log: o.Log}
	case "ngrok":
		return &Ngrok{Authtoken: getenv("NGROK_AUTHTOKEN"), URL: spec.Host, Log: o.Log}
	}
	return nil
}
