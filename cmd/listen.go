package cmd

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/fixtures"
	"github.com/s2s-dev/s2s/hub"
	"github.com/s2s-dev/s2s/internal/paths"
	"github.com/s2s-dev/s2s/internal/state"
	"github.com/s2s-dev/s2s/receiver"
	"github.com/s2s-dev/s2s/sender"
	"github.com/s2s-dev/s2s/store"
	"github.com/s2s-dev/s2s/tunnel"
)

type listenOptions struct {
	f *Factory

	Addr        string
	StorePath   string
	Output      string
	Respond     string
	Tunnel      string
	BundleID    string
	AppAppleID  int64
	Environment string
	Roots       []string
	MaxBody     int64
	Forward     forwardOptions
	Connect     connectListenOptions  // --connect, --public-url (listen_connect.go)
	Realtime    realtimeListenOptions // --realtime-response, --realtime-budget (listen_realtime.go)
	Hub         hubListenOptions      // --hub, --name, --hub-filter (listen_hub.go)

	// hubServe is set by s2s hub: the listener is the hub, publishing every capture (hub.go).
	hubServe *hubServeOptions

	// ready, when set, is told the bound address once the listener serves (tests use it).
	ready func(addr string)
}

func newListenCmd(f *Factory, runF func(*listenOptions) error) *cobra.Command {
	o := &listenOptions{f: f}
	c := &cobra.Command{
		Use:   "listen",
		Short: "Receive, store, verify and show notifications on a local URL",
		Long: `Run a local receiver for App Store Server Notifications.

Every POST is written durably to the capture store (raw bytes, headers, time, remote address)
before s2s answers, then verified against Apple Root CA - G3 and decoded. If the store cannot
take it, s2s answers 500 so that Apple retries. Requests that are not App Store notifications
are still stored, labelled invalid, so you see whatever arrived. GET and HEAD answer 200 so URL
checks pass.

On a terminal the notifications appear in an interactive UI; otherwise one line per notification
is printed (--output lines), or one JSON object per event (--output json).

Apple only delivers to a public HTTPS URL: add --tunnel to get one, and paste the URL s2s prints
into App Store Connect (App Information → App Store Server Notifications).

` + forwardHelp,
		Example: `  # Listen on 127.0.0.1:8080, UI on a terminal
  s2s listen

  # Public URL through an SSH tunnel (no account needed), forward to your server on port 3000
  s2s listen --tunnel ssh --forward-to 3000/apple/notifications

  # Rehearse Apple's retries: answer 503 to everything (stored anyway)
  s2s listen --respond 503

  # For scripts: one JSON object per event on stdout
  s2s listen --output json --addr 127.0.0.1:0`,
		Args: o.tunnelArgs("listen"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			return runListen(cmd.Context(), o)
		},
	}
	o.addReceiverFlags(c)
	o.Forward.addFlags(c.Flags())
	o.Connect.addFlags(c.Flags())
	o.Hub.addFlags(c.Flags())
	return c
}

// tunnelArgs is the argument check of listen and hub.
func (o *listenOptions) tunnelArgs(name string) cobra.PositionalArgs {
	// `--tunnel` alone means ssh, so pflag cannot read `--tunnel cloudflared` as one flag; the
	// provider then arrives as an argument, and is taken back here.
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		if len(args) == 1 && cmd.Flags().Changed("tunnel") && o.Tunnel == "ssh" {
			if !looksLikeTunnelSpec(args[0]) {
				return usageErrorf("unknown --tunnel provider %q: use none, ssh[=HOST[:PORT]], cloudflared or ngrok", args[0])
			}
			o.Tunnel = args[0]
			return nil
		}
		return usageErrorf("%s takes no arguments (got %q); see s2s %s --help", name, strings.Join(args, " "), name)
	}
}

// addReceiverFlags adds the receiver's flags, which listen and hub share.
func (o *listenOptions) addReceiverFlags(c *cobra.Command) {
	fs := c.Flags()
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free port)")
	fs.StringVar(&o.StorePath, "store", "", "capture database (default $S2S_STORE or "+filepath.Join("$XDG_DATA_HOME", "s2s", "captures.db")+")")
	fs.StringVar(&o.Output, "output", "", "how to show notifications: tui, lines or json (default tui on a terminal, lines otherwise)")
	fs.StringVar(&o.Respond, "respond", "auto", "answer after storing: auto (200), passthrough (your server's status) or a status code")
	fs.StringVar(&o.Tunnel, "tunnel", "none", "public HTTPS tunnel: none, ssh[=HOST[:PORT]], cloudflared or ngrok")
	fs.Lookup("tunnel").NoOptDefVal = "ssh"
	fs.StringVar(&o.BundleID, "bundle-id", "", "expected bundle ID; other bundles are flagged")
	fs.Int64Var(&o.AppAppleID, "app-apple-id", 0, "expected app Apple ID (checked for Production)")
	fs.StringVar(&o.Environment, "environment", "", "expected environment: Sandbox or Production")
	fs.StringArrayVar(&o.Roots, "root", nil, "an extra trusted test root, as a PEM file (payloads chaining to it are 'simulated')")
	fs.Int64Var(&o.MaxBody, "max-body", receiver.DefaultMaxBody, "largest accepted body in bytes; larger ones get 413")
	o.Realtime.addFlags(fs, o.hubServe != nil)
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"tui", "lines", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("environment", cobra.FixedCompletions([]string{"Sandbox", "Production"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("respond", cobra.FixedCompletions([]string{"auto", "passthrough", "200", "500", "503"}, cobra.ShellCompDirectiveNoFileComp))
}

// validate checks the flags before anything is opened, and resolves the answer mode and the
// output (tui on a terminal, lines otherwise).
func (o *listenOptions) validate() (receiver.Respond, string, error) {
	f := o.f
	respond, err := receiver.ParseRespond(o.Respond)
	if err != nil {
		return receiver.Respond{}, "", &UsageError{Err: err}
	}
	if respond.Passthrough && len(o.Forward.Targets) == 0 {
		return receiver.Respond{}, "", usageErrorf("--respond passthrough needs at least one --forward-to target")
	}
	output := o.Output
	if output == "" {
		output = "lines"
		if f.IO.IsStdoutTTY() && f.IO.IsStdinTTY() {
			output = "tui"
		}
	}
	if output != "tui" && output != "lines" && output != "json" {
		return receiver.Respond{}, "", usageErrorf("--output must be tui, lines or json, not %q", output)
	}
	// Spelled as people type it, like the --env filter of s2s captures list.
	if o.Environment != "" {
		env, ok := decode.ParseServerEnvironment(o.Environment)
		if !ok {
			return receiver.Respond{}, "", usageErrorf("--environment must be Sandbox or Production, not %q", o.Environment)
		}
		o.Environment = string(env)
	}
	if err := o.Connect.validate(o.Tunnel); err != nil {
		return receiver.Respond{}, "", err
	}
	if err := o.Hub.validate(); err != nil {
		return receiver.Respond{}, "", err
	}
	if o.hubServe != nil {
		if err := o.hubServe.validate(f.Now()); err != nil {
			return receiver.Respond{}, "", err
		}
	}
	if o.MaxBody < 1 {
		return receiver.Respond{}, "", usageErrorf("--max-body must be a positive number of bytes, not %d", o.MaxBody)
	}
	if err := o.Realtime.load(f); err != nil {
		return receiver.Respond{}, "", err
	}
	_, port, err := net.SplitHostPort(o.Addr)
	if err == nil {
		_, err = net.LookupPort("tcp", port) // numbers, or service names from the local services file
	}
	if err != nil {
		return receiver.Respond{}, "", usageErrorf("--addr %q: use HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:8080 (port 0 picks a free port)", o.Addr)
	}
	return respond, output, nil
}

func runListen(ctx context.Context, o *listenOptions) error {
	respond, output, err := o.validate()
	if err != nil {
		return err
	}
	fwdPlan, err := o.Forward.plan(o.f)
	if err != nil {
		return err
	}
	defer collectLessOften(o.f.Getenv)()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := o.build(ctx, output, fwdPlan)
	if err != nil {
		s.close()
		return err
	}
	defer s.close()
	return s.serve(ctx, cancel, respond)
}

// listenSession is what listen has opened before it serves: the log, the verifier, the store, the
// event bus, the forwarder and the listening socket. close releases them in reverse order.
type listenSession struct {
	o         *listenOptions
	output    string
	storePath string
	logPath   string
	logw      io.Writer
	log       *slog.Logger
	roots     []*x509.Certificate // --root and the local test chain's root
	chain     *fixtures.Chain     // nil when the local test chain is unavailable
	verifier  *decode.Verifier
	st        *store.Store
	bus       *events.Bus
	evs       <-chan events.Event
	fwd       forwarder // nil without --forward-to
	ln        net.Listener
	hubURL    string // the hub's NATS URL (s2s hub), or the one --hub consumes from; "" for neither
	closers   []func()
}

func (s *listenSession) onClose(fn func()) { s.closers = append(s.closers, fn) }

func (s *listenSession) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// build opens everything listen needs, in the order a failure is cheapest: the log file, the
// roots, the store (checked writable), the forwarder, then the listening socket. On error, what
// was opened is released by close.
func (o *listenOptions) build(ctx context.Context, output string, fwdPlan *forwardPlan) (*listenSession, error) {
	f := o.f
	s := &listenSession{o: o, output: output, storePath: captureStorePath(f, o.StorePath), logPath: paths.LogFile(f.Getenv), logw: f.IO.ErrOut}

	// While the TUI owns the terminal, log lines go to a file.
	if output == "tui" {
		lf, err := openLogFile(s.logPath)
		if err != nil {
			return s, err
		}
		s.onClose(func() { lf.Close() })
		s.logw = lf
	}
	s.log = slog.New(slog.NewTextHandler(s.logw, &slog.HandlerOptions{Level: slog.LevelInfo}))

	roots, err := loadRoots(o.Roots)
	if err != nil {
		return s, err
	}
	chain, err := fixtures.LoadDefault(f.Getenv)
	if err != nil {
		s.log.Warn("local test chain unavailable; simulated notifications will show as invalid", "error", err)
	} else {
		roots = append(roots, chain.Root())
		s.chain = chain
	}
	s.roots = roots
	s.verifier = decode.NewVerifier(decode.Options{
		ExtraRoots:  roots,
		BundleID:    o.BundleID,
		AppAppleID:  o.AppAppleID,
		Environment: decode.Environment(o.Environment), // checked by validate
	})

	st, err := store.Open(s.storePath)
	if err != nil {
		return s, storeFault(s.storePath, err)
	}
	s.onClose(func() { st.Close() })
	s.st = st
	// Every notification would be answered 500: better to find out now, and say what to do.
	if err := st.CheckWritable(ctx); err != nil {
		return s, storeFault(s.storePath, err)
	}

	s.bus = events.NewBus()
	evs, unsubscribe := s.bus.Subscribe(4096)
	s.onClose(unsubscribe)
	s.evs = evs

	fwd, err := newForwarder(ctx, f, fwdPlan, st, s.bus)
	if err != nil {
		return s, err
	}
	if fwd != nil {
		s.onClose(func() { fwd.Close() })
		s.fwd = fwd
	}

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return s, fmt.Errorf("%s is already in use (another s2s listen?); choose another with --addr, e.g. --addr 127.0.0.1:0 for a free port", o.Addr)
		}
		return s, fmt.Errorf("listening on %s: %w", o.Addr, err)
	}
	s.ln = receiver.Limit(ln, receiver.MaxConns)
	return s, nil
}

// serve answers on the socket, opens the public side (tunnel, --connect), says it is ready, lets
// the UI or the printer present the session until it ends, and shuts down in order.
func (s *listenSession) serve(ctx context.Context, cancel context.CancelFunc, respond receiver.Respond) error {
	o, f := s.o, s.o.f
	localURL := "http://" + s.ln.Addr().String() + "/"

	handler := s.newHandler(respond)
	// The hub (its server, stream and outbox) or this listener's hub consumer starts before the
	// listener serves, and stops after it has, before the store closes.
	hubR, err := o.startHub(ctx, s.st, s.storePath, handler, s.bus, s.log)
	if err != nil {
		s.ln.Close()
		return err
	}
	defer hubR.stop()
	var hubURL, hubNKeyFile, hubCAFile string
	if hubR != nil {
		hubURL, hubNKeyFile, hubCAFile = hubR.URL, hubR.NKeyFile, hubR.CAFile
	}
	s.hubURL = hubURL
	if hubURL == "" {
		s.hubURL = o.Hub.URL // listen --hub: where its captures come from
	}
	srv := receiver.NewServer(handler, slog.NewLogLogger(s.log.Handler(), slog.LevelWarn))
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(s.ln) }()
	if o.ready != nil {
		o.ready(s.ln.Addr().String())
	}

	tun, err := o.Connect.startPublic(ctx, f, o.Tunnel, s.ln.Addr().String(), handler, s.bus, s.logw)
	if err != nil {
		shutdown(srv)
		handler.Wait()
		return err
	}
	publicURL := ""
	if tun != nil {
		defer tun.Close()
		publicURL = tun.PublicURL()
	}
	conn, err := o.Connect.start(ctx, f, publicURL, s.bus)
	if err != nil {
		shutdown(srv)
		handler.Wait()
		return err
	}

	unregister, err := state.Register(paths.ListenersDir(f.Getenv), state.Listener{
		PID: os.Getpid(), URL: localURL, PublicURL: publicURL, Store: s.storePath, Started: f.Now(),
		Hub: o.hubServe != nil, HubFed: o.Hub.URL != "", Forward: o.Forward.Targets,
	})
	if err != nil {
		s.log.Warn("could not write the listener state file; send-test will need a URL", "error", err)
	}
	defer unregister()

	s.bus.Publish(events.Event{Kind: events.Ready, URL: localURL, PublicURL: publicURL, Store: s.storePath, Hub: hubURL, HubNKeyFile: hubNKeyFile, HubCAFile: hubCAFile})
	if tun != nil {
		tun.Watch()
	}
	conn.ready(ctx, f)

	printer, signalled, runErr := s.present(ctx, cancel, localURL, publicURL, serveErr)
	return s.shutdown(ctx, srv, handler, printer, conn, signalled, runErr)
}

// newHandler is the receiver for this session: its store, verifier, events, forwarding and
// answers, told whether a tunnel or proxy stands in front of it.
func (s *listenSession) newHandler(respond receiver.Respond) *receiver.Handler {
	o := s.o
	var forwarderArg receiver.Forwarder
	if s.fwd != nil {
		forwarderArg = s.fwd
	}
	return receiver.New(receiver.Options{
		Store:            s.st,
		Verifier:         s.verifier,
		Bus:              s.bus,
		Forwarder:        forwarderArg,
		Respond:          respond,
		MaxBody:          o.MaxBody,
		BehindTunnel:     o.Tunnel != "" && o.Tunnel != "none" || o.Connect.PublicURL != "",
		BehindCloudflare: behindCloudflare(o.Tunnel),
		Now:              o.f.Now,
		Log:              s.log,
		Realtime:         o.Realtime.config,
		HubOutbox:        o.hubServe != nil,
	})
}

// shutdown stops the session in order once it has ended: the server and the requests in flight,
// then forwarding, then the printer's last lines, then what --connect changed; and says how it
// ended.
func (s *listenSession) shutdown(ctx context.Context, srv *http.Server, handler *receiver.Handler, printer *eventPrinter, conn *connectSession, signalled bool, runErr error) error {
	f := s.o.f
	shutdown(srv)
	handler.Wait()
	if s.fwd != nil {
		// Stop forwarding before the last drain, so the outcome of every attempt that was under
		// way is printed too (an interrupted one stays pending and resumes at the next start).
		_ = s.fwd.Close()
	}
	if printer != nil {
		// Requests that were in flight when the signal came were answered during shutdown; a
		// script reading the output must see them too.
		printer.drain(s.evs)
	}
	// What --connect changed in App Store Connect goes back, however listen ends.
	runErr = errors.Join(runErr, conn.finish(f))
	if runErr == nil && (signalled || s.output != "tui" && ctx.Err() != nil) {
		fmt.Fprintln(f.IO.ErrOut, "s2s: stopped; every acknowledged notification is in", s.storePath)
		return &SilentError{Code: ExitInterrupted}
	}
	return runErr
}

// present shows the session until it ends: the terminal UI, or lines or JSON events. It reports
// the printer (to drain after shutdown; nil for the UI) and whether a signal or ctrl+c ended it.
func (s *listenSession) present(ctx context.Context, cancel context.CancelFunc, localURL, publicURL string, serveErr <-chan error) (*eventPrinter, bool, error) {
	o, f := s.o, s.o.f
	if s.output != "tui" {
		printer := newEventPrinter(f.IO, s.output)
		printer.dropped = func() uint64 { return s.bus.Dropped(s.evs) }
		return printer, false, printer.run(ctx, s.evs, serveErr)
	}
	st, fwd, chain := s.st, s.fwd, s.chain
	ui := listenUI{
		Store: st, Events: s.evs, LocalURL: localURL, PublicURL: publicURL, Verifier: s.verifier,
		StorePath: s.storePath, LogPath: s.logPath, Log: s.logw, Hub: o.hubServe != nil, HubURL: hub.Redact(s.hubURL),
		SendTest: func(ctx context.Context) error { return sendSelfTest(ctx, f, chain, localURL, o) },
	}
	if apple := o.Connect.appleTest(f, s.logw); apple != nil {
		ui.SendTest = apple
	}
	ui.AppleView, ui.ImportApple = subscriptionForTUI(f, o.BundleID, o.Environment, s.roots, st, s.logw)
	if fwd != nil {
		ui.Forward = targetNames(fwd)
		ui.Replay = func(ctx context.Context, id int64) error {
			c, err := st.Get(ctx, id)
			if err != nil {
				return err
			}
			return fwd.Replay(ctx, c)
		}
	}
	interrupted, err := runListenTUI(ctx, f, ui)
	// Quitting with q ends ctx too; only a signal that ended it first, or ctrl+c (a key in the
	// UI's raw mode, not SIGINT), is an interruption.
	signalled := ctx.Err() != nil || interrupted
	cancel()
	return nil, signalled, err
}

// looksLikeTunnelSpec reports whether s names a tunnel provider (ssh=HOST included).
func looksLikeTunnelSpec(s string) bool {
	name, _, _ := strings.Cut(s, "=")
	switch name {
	case "none", "ssh", "cloudflared", "ngrok":
		return true
	}
	return false
}

// shutdown stops accepting and lets requests in flight finish, so nothing acknowledged is lost.
func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}

func openLogFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the log directory: %w", err)
	}
	return os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
}

// sendSelfTest posts a simulated TEST notification to this listener (the TUI's t key).
func sendSelfTest(ctx context.Context, f *Factory, chain *fixtures.Chain, url string, o *listenOptions) error {
	if chain == nil {
		return errors.New("the local test signing chain is unavailable")
	}
	env := o.Environment
	if env == "" {
		env = fixtures.DefaultEnvironment
	}
	body, err := chain.Notification("TEST", "", fixtures.Overrides{BundleID: o.BundleID, Environment: env, AppAppleID: o.AppAppleID})
	if err != nil {
		return err
	}
	r := (&sender.Sender{UserAgent: sendTestUserAgent()}).Send(ctx, url, body)
	if r.Err != nil {
		return r.Err
	}
	if !r.OK() {
		return fmt.Errorf("the listener answered %d", r.Status)
	}
	return nil
}

// storeFault says what is wrong with the capture store at path, and what to do about it.
func storeFault(path string, err error) error {
	dir := filepath.Dir(path)
	// What SQLite or the file system said, without the store's own words for it.
	detail := func(sentinel error) string {
		msg := err.Error()
		if _, after, ok := strings.Cut(msg, sentinel.Error()+": "); ok {
			return after
		}
		return msg
	}
	switch {
	case errors.Is(err, store.ErrEmptyFile):
		return fmt.Errorf("the capture store %s is an empty file (0 bytes), not a capture store, and s2s does not start a new store over it: remove the file if it holds nothing you need (s2s then creates a new store there), or choose another store with --store or S2S_STORE", path)
	case errors.Is(err, store.ErrCorrupt):
		return fmt.Errorf("the capture store %s is damaged, so notifications could not be stored in it (%v): move it aside (mv %s %s.damaged) and s2s starts a new store there, or choose another store with --store or S2S_STORE; sqlite3's .recover command may rescue the captures it holds", path, detail(store.ErrCorrupt), path, path)
	case errors.Is(err, store.ErrReadOnly), errors.Is(err, store.ErrNotWritable):
		why := "it is read-only for this user"
		if !errors.Is(err, store.ErrReadOnly) {
			why = detail(store.ErrNotWritable)
		}
		return fmt.Errorf("s2s listen cannot write to the capture store %s (%s), so it could not keep the notifications it answers: it needs to write the file and to create %s-wal and %s-shm in %s; check the permissions, the mount and the free space there, or choose another store with --store or S2S_STORE (s2s captures list still reads this one)", path, why, filepath.Base(path), filepath.Base(path), dir)
	}
	return fmt.Errorf("opening the capture store %s: %w", path, err)
}

// behindCloudflare reports whether --tunnel names Cloudflare's tunnel, the one whose
// Cf-Connecting-Ip header the receiver may believe.
func behindCloudflare(spec string) bool {
	sp, err := tunnel.ParseSpec(spec)
	return err == nil && sp.Provider == "cloudflared"
}
