package cmd

// PLACEHOLDER: the tunnel owner replaces this file.

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/s2s-dev/s2s/receiver"
)

// publicTunnel is a running tunnel as listen sees it.
type publicTunnel interface {
	PublicURL() string
	Close() error
}

// startTunnel starts the provider named by spec ("none" or "" → nil, nil) in front of the local
// listener at localAddr (host:port) serving handler, and returns once the public URL is known and
// ready. URL changes, failures and the periodic self-probe verdicts are published on bus.
func startTunnel(ctx context.Context, f *Factory, spec, localAddr string, handler http.Handler, bus *receiver.Bus, logw io.Writer) (publicTunnel, error) {
	if spec == "" || spec == "none" {
		return nil, nil
	}
	return nil, errors.New("tunnels: not yet built")
}
