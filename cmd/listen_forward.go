package cmd

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/pflag"

	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/receiver"
	"github.com/s2s-dev/s2s/relay"
	"github.com/s2s-dev/s2s/store"
)

// forwardOptions are listen's forwarding flags.
type forwardOptions struct {
	Targets        []string
	ForwardInvalid bool
	Timeout        time.Duration
	Retries        string
	CAFile         string
}

// forwardHelp is listen's help on forwarding, for its Long text.
const forwardHelp = `Forwarding: --forward-to passes every stored notification on, byte for byte, with Apple's
Content-Type and User-Agent, X-Forwarded-For/-Proto/-Host, and X-S2S-Capture-Id, X-S2S-Trust
and X-S2S-Attempt headers your server may ignore. A target is a port (3000), a port and path
(3000/apple, :3000/apple), a path (/apple: localhost port 80) or a URL. Repeat the flag for
several targets. Put rules before "=>" to send a target only some notifications:
  env=Sandbox=>3000                        Sandbox notifications only
  type=REFUND,CONSUMPTION_REQUEST=>3001    these types (TYPE/SUBTYPE for one subtype)
  env=Production;type=REFUND=>https://…    both rules must hold
The rules are the filter grammar of the TUI and "s2s captures list --filter" (also trust=,
product=, bundle=, otid=; a key repeated is an alternative).
Failed deliveries are retried (--forward-retries) and pending retries resume when listen
restarts; "s2s replay N" or r in the TUI delivers sooner, in place of the pending retry.
Only verified and simulated notifications are forwarded unless --forward-invalid.`

// addFlags registers --forward-to (repeatable) and the other forwarding flags.
func (o *forwardOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.Targets, "forward-to", nil,
		"forward each notification to this target (repeatable): 3000, 3000/path, /path, a URL, or RULES=>TARGET such as env=Sandbox=>3000")
	fs.BoolVar(&o.ForwardInvalid, "forward-invalid", false,
		"also forward notifications that are not verified or simulated (invalid, legacy-v1, unsigned-xcode)")
	fs.DurationVar(&o.Timeout, "forward-timeout", relay.DefaultTimeout,
		"how long a target may take to answer one delivery")
	fs.StringVar(&o.Retries, "forward-retries", relay.DefaultBackoffSpec,
		"waits before each retry of a failed delivery, comma-separated; none to never retry")
	fs.StringVar(&o.CAFile, "ca", "",
		"trust the certificate authorities in this PEM `FILE` too, for an HTTPS --forward-to target with a development CA (default $"+relay.EnvCAFile+")")
}

// forwarder is what listen needs from forwarding.
type forwarder interface {
	receiver.Forwarder
	receiver.Replayer
	Targets() []relay.Target
	Close() error
}

// targetNames describes the targets for the UI's header: each URL with its rules.
func targetNames(fwd forwarder) []string {
	var names []string
	for _, t := range fwd.Targets() {
		names = append(names, t.String())
	}
	return names
}

// forwardPlan is the forwarding flags checked and parsed: listen reads them before it opens
// anything, so a bad flag fails without creating a store.
type forwardPlan struct {
	targets        []relay.Target
	forwardInvalid bool
	timeout        time.Duration
	backoff        []time.Duration
	client         *http.Client // nil: the default client
}

// plan checks the forwarding flags (nil, nil when there are no targets).
func (o forwardOptions) plan(f *Factory) (*forwardPlan, error) {
	if len(o.Targets) == 0 {
		if o.ForwardInvalid {
			// Otherwise the flag is accepted and nothing is forwarded, which reads as a bug.
			return nil, usageErrorf("--forward-invalid needs at least one --forward-to target")
		}
		if o.CAFile != "" {
			return nil, usageErrorf("--ca is the trust for --forward-to targets; give at least one --forward-to")
		}
		return nil, nil
	}
	targets, err := parseTargets(o.Targets)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		// A warning, not an error: Apple adds types, and this s2s may not know the newest.
		for _, u := range t.UnknownTypes() {
			fmt.Fprintf(f.IO.ErrOut, "s2s: warning: --forward-to %q: %s is not a notificationType (or subtype) Apple documents, so this target may never match; s2s send-test --list shows them\n", t.Spec, u)
		}
	}
	backoff, err := relay.ParseBackoff(o.Retries)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	if o.Timeout < 0 {
		return nil, usageErrorf("--forward-timeout must be positive, not %s", o.Timeout)
	}
	roots, err := trustedCAs(f, o.CAFile)
	if err != nil {
		return nil, err
	}
	p := &forwardPlan{targets: targets, forwardInvalid: o.ForwardInvalid, timeout: o.Timeout, backoff: backoff}
	if roots != nil {
		p.client = relay.NewClientTrusting(roots)
	}
	return p, nil
}

// newForwarder builds the forwarder p plans (nil, nil without one) and starts its retry loop
// under ctx; deliveries are recorded in st and published on bus.
func newForwarder(ctx context.Context, f *Factory, p *forwardPlan, st *store.Store, bus *events.Bus) (forwarder, error) {
	if p == nil {
		return nil, nil
	}
	return relay.New(ctx, relay.Config{
		Client:         p.client,
		Targets:        p.targets,
		ForwardInvalid: p.forwardInvalid,
		Store:          st,
		Bus:            bus,
		Timeout:        p.timeout,
		Backoff:        p.backoff,
		Now:            f.Now,
	})
}

func parseTargets(specs []string) ([]relay.Target, error) {
	targets := make([]relay.Target, 0, len(specs))
	for _, s := range specs {
		t, err := relay.ParseTarget(s)
		if err != nil {
			return nil, &UsageError{Err: err}
		}
		targets = append(targets, t)
	}
	return targets, nil
}
