package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/internal/version"
	"github.com/s2s-dev/s2s/store"
	"github.com/s2s-dev/s2s/subscription"
	"github.com/s2s-dev/s2s/tui"
)

// listenUI is everything the TUI of `s2s listen` is given.
type listenUI struct {
	Store     *store.Store
	Events    <-chan events.Event // subscribed before the listener starts serving
	LocalURL  string
	PublicURL string
	StorePath string
	LogPath   string                                    // shown in the header: where log lines go
	Log       io.Writer                                 // the open log file that LogPath names
	SendTest  func(ctx context.Context) error           // sends a simulated TEST notification to this listener
	Replay    func(ctx context.Context, id int64) error // nil when no forward targets: r is disabled
	Forward   []string                                  // the forward targets, for the header
	Hub       bool                                      // s2s hub: show which listeners acknowledged each capture
	HubURL    string                                    // the hub's NATS URL, credentials redacted; "" without a hub
	// AppleView and ImportApple are the Timeline's a and i (s2s subscription's view); nil
	// without the In-App Purchase key.
	AppleView   func(ctx context.Context, originalTransactionID string) (*subscription.View, error)
	ImportApple func(ctx context.Context, n subscription.Notification) (int64, error)
	// Verifier decodes bodies for the Summary and Decoded tabs; give it the same options as the
	// receiver's (extra roots, identity) so the detail agrees with the stored label.
	Verifier *decode.Verifier
}

var _ tui.Source = (*store.Store)(nil)

// runListenTUI runs the TUI until the user quits or ctx ends. While it runs, the standard
// loggers write to ui.Log so no line is ever drawn over the screen. interrupted is true when the
// user pressed ctrl+c (a key in raw mode, not a signal): listen then ends as on SIGINT.
func runListenTUI(ctx context.Context, f *Factory, ui listenUI) (interrupted bool, err error) {
	defer logTo(ui.Log)()

	noColor := !f.IO.ColorOut() || f.Getenv("NO_COLOR") != ""
	cwd, err := os.Getwd()
	if err != nil {
		cwd = "."
	}
	model := tui.New(tui.Config{
		Context:     ctx,
		Source:      ui.Store,
		Events:      ui.Events,
		Decode:      tui.VerifierDecoder(ui.Verifier),
		Version:     version.Get().Short(),
		LocalURL:    ui.LocalURL,
		PublicURL:   ui.PublicURL,
		StorePath:   ui.StorePath,
		LogPath:     ui.LogPath,
		SendTest:    ui.SendTest,
		Replay:      ui.Replay,
		AppleView:   ui.AppleView,
		ImportApple: ui.ImportApple,
		Spinner:     120 * time.Millisecond,
		Forward:     ui.Forward,
		Hub:         ui.Hub,
		HubURL:      ui.HubURL,
		ExportDir:   cwd,
		Refresh:     5 * time.Second,
		Clock:       10 * time.Second, // "last notification 14 min ago" counts in minutes
		Now:         f.Now,
		NoColor:     noColor,
	})
	// Signals end ctx (listen's own handler); Bubble Tea's handler would race it and turn SIGTERM
	// into a plain quit (exit 0) or SIGINT into an error, instead of listen's 130.
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(f.IO.In), tea.WithOutput(f.IO.Out), tea.WithoutSignalHandler()}
	if noColor {
		// NO_COLOR: a plain screen; selection and tabs stay visible through ▸ and [brackets].
		opts = append(opts, tea.WithColorProfile(colorprofile.NoTTY))
	}
	_, err = tea.NewProgram(model, opts...).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return false, nil // a signal ended the session; listen shuts down normally
	}
	if err != nil {
		return false, fmt.Errorf("listen: terminal UI: %w", err)
	}
	return model.Interrupted(), nil
}

// logTo sends the log and slog default loggers to w and returns a function that puts them back.
func logTo(w io.Writer) (restore func()) {
	prevOut, prevFlags, prevSlog := log.Writer(), log.Flags(), slog.Default()
	log.SetOutput(w)
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	slog.SetDefault(slog.New(slog.NewTextHandler(w, nil)))
	return func() {
		log.SetOutput(prevOut)
		log.SetFlags(prevFlags)
		slog.SetDefault(prevSlog)
	}
}
