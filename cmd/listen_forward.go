package cmd

// PLACEHOLDER: the forwarding owner replaces this file.

import (
	"context"
	"errors"

	"github.com/spf13/pflag"

	"github.com/s2s-dev/s2s/receiver"
	"github.com/s2s-dev/s2s/store"
)

// forwardOptions are listen's forwarding flags.
type forwardOptions struct {
	Targets        []string
	ForwardInvalid bool
}

// addFlags registers --forward-to (repeatable) and --forward-invalid.
func (o *forwardOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.Targets, "forward-to", nil, "forward each notification to this URL (repeatable)")
}

// forwarder is what listen needs from forwarding.
type forwarder interface {
	receiver.Forwarder
	receiver.Replayer
	Close() error
}

// newForwarder builds the forwarder for o (nil, nil when there are no targets) and starts its
// retry loop under ctx; deliveries are recorded in st and published on bus.
func newForwarder(ctx context.Context, f *Factory, o forwardOptions, st *store.Store, bus *receiver.Bus) (forwarder, error) {
	if len(o.Targets) == 0 {
		return nil, nil
	}
	return nil, errors.New("forwarding: not yet built")
}
