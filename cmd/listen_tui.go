package cmd

// PLACEHOLDER: the TUI owner replaces this file.

import (
	"context"
	"errors"

	"github.com/s2s-dev/s2s/receiver"
	"github.com/s2s-dev/s2s/store"
)

// listenUI is everything the TUI of `s2s listen` is given.
type listenUI struct {
	Store     *store.Store
	Events    <-chan receiver.Event // subscribed before the listener starts serving
	LocalURL  string
	PublicURL string
	StorePath string
	LogPath   string                                    // where log lines go while the TUI runs
	SendTest  func(ctx context.Context) error           // sends a simulated TEST notification to this listener
	Replay    func(ctx context.Context, id int64) error // nil when no forward targets: r is disabled
}

// runListenTUI runs the TUI until the user quits or ctx ends.
func runListenTUI(ctx context.Context, f *Factory, ui listenUI) error {
	return errors.New("the terminal UI is not yet built; use --output lines")
}
