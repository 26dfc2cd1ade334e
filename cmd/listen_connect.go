package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/s2s-dev/s2s/appstoreconnect"
	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/internal/paths"
	"github.com/s2s-dev/s2s/internal/state"
	"github.com/s2s-dev/s2s/tunnel"
)

// connectVersion is the notification version listen sets: s2s decodes version 2.
const connectVersion = "V2"

// connectSession keeps one app's sandbox notification URL in App Store Connect pointed at listen's
// public URL, and puts the old one back. What it replaced is recorded in the state directory
// before each change, so a crash leaves a record that the next start or `connect restore` uses.
type connectSession struct {
	client   *appstoreconnect.Client
	bundleID string
	path     string
	pid      int
	bus      *events.Bus

	mu  sync.Mutex
	rec state.Connect

	// The follower of tunnel URL changes (see ready and finish).
	events      <-chan events.Event
	unsubscribe func()
	stopFollow  context.CancelFunc
	followed    chan struct{}
	noticeText  string
}

// connectListenOptions are listen's --connect and --public-url, and the team key for the first.
type connectListenOptions struct {
	BundleID  string // --connect
	PublicURL string
	asc       ascCredentials
}

func (o *connectListenOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.BundleID, "connect", "", "while listening, point App Store Connect's sandbox notification URL of this bundle ID at the public URL, and restore it after (needs --tunnel or --public-url, and a team API key)")
	fs.StringVar(&o.PublicURL, "public-url", "", "the public HTTPS URL of your own tunnel or reverse proxy in front of this listener")
	o.asc.addFlags(fs)
}

// validate checks the flags against --tunnel before anything starts.
func (o *connectListenOptions) validate(tunnelSpec string) error {
	hasTunnel := tunnelSpec != "" && tunnelSpec != "none"
	if o.PublicURL != "" {
		if hasTunnel {
			return usageErrorf("--public-url is for a tunnel or proxy of your own; --tunnel starts one: use one or the other")
		}
		if err := validatePublicURL(o.PublicURL); err != nil {
			return err
		}
	}
	if o.BundleID == "" {
		return nil
	}
	if _, err := checkBundleID(o.BundleID, "--connect"); err != nil {
		return err
	}
	if !hasTunnel && o.PublicURL == "" {
		return usageErrorf("--connect needs a public URL for Apple to deliver to: add --tunnel, or --public-url with your own tunnel's URL")
	}
	return nil
}

// startPublic starts the tunnel --tunnel names, or watches the --public-url (the self-probe) as
// if it were one.
func (o *connectListenOptions) startPublic(ctx context.Context, f *Factory, spec, localAddr string, handler http.Handler, bus *events.Bus, logw io.Writer) (publicTunnel, error) {
	if o.PublicURL == "" {
		return startTunnel(ctx, f, spec, localAddr, handler, bus, logw)
	}
	return runTunnel(ctx, f, defaultTunnelSeams, staticProvider{url: o.PublicURL}, localAddr, handler, bus, func() {})
}

// start points App Store Connect at publicURL (nil session without --connect).
func (o *connectListenOptions) start(ctx context.Context, f *Factory, publicURL string, bus *events.Bus) (*connectSession, error) {
	if o.BundleID == "" {
		return nil, nil
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	s, notice, err := startConnect(sctx, f, o.asc, o.BundleID, publicURL, bus)
	if err != nil {
		return nil, err
	}
	s.noticeText = notice
	// Subscribed now: the tunnel's events flow only once listen is ready.
	s.events, s.unsubscribe = bus.Subscribe(64)
	return s, nil
}

// appleTest is the TUI's t with --connect and the In-App Purchase key configured (S2S_KEY_ID,
// S2S_ISSUER_ID, S2S_PRIVATE_KEY): it asks Apple for a real TEST notification, which comes back
// through the public URL App Store Connect now names. nil otherwise.
func (o *connectListenOptions) appleTest(f *Factory, logw io.Writer) func(ctx context.Context) error {
	if o.BundleID == "" {
		return nil
	}
	creds, err := appleCredentials{}.resolve(f.Getenv, "t")
	if err != nil {
		return nil
	}
	return func(ctx context.Context) error {
		client, _, err := creds.appleClient(f, "t", o.BundleID, "Sandbox", logw)
		if err != nil {
			return err
		}
		_, err = client.RequestTestNotification(ctx)
		return err
	}
}

// ready says what was changed (the line after the ready line, and the TUI header) and starts
// following the tunnel's URL.
func (s *connectSession) ready(ctx context.Context, f *Factory) {
	if s == nil {
		return
	}
	s.mu.Lock()
	set := s.rec.SetURL
	s.mu.Unlock()
	s.bus.Publish(events.Event{Kind: events.Connect, Time: f.Now(), PublicURL: set, Message: s.noticeText})
	fctx, stop := context.WithCancel(ctx)
	s.stopFollow, s.followed = stop, make(chan struct{})
	go func() {
		defer close(s.followed)
		s.follow(fctx, s.events)
	}()
}

// finish stops following and puts the saved setting back, saying so on stderr. On failure the
// record stays for `s2s connect restore`.
func (s *connectSession) finish(f *Factory) error {
	if s == nil {
		return nil
	}
	if s.stopFollow != nil {
		s.stopFollow()
		<-s.followed
	}
	s.unsubscribe()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msg, err := s.restore(ctx)
	if err != nil {
		return fmt.Errorf("%w; the old value is saved: run `s2s connect restore --bundle-id %s` to put it back", err, s.bundleID)
	}
	fmt.Fprintln(f.IO.ErrOut, msg)
	return nil
}

// validatePublicURL checks --public-url: an absolute http(s) URL (Apple itself wants https, and
// says so when --connect sets it).
func validatePublicURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return usageErrorf("--public-url %q: want the absolute https URL that reaches this listener, e.g. https://example.ngrok.app/", raw)
	}
	return nil
}

// startConnect restores what a crashed listen left, saves the app's sandbox setting and points it
// at publicURL. It returns the sentence for the ready line and the header.
func startConnect(ctx context.Context, f *Factory, creds ascCredentials, bundleID, publicURL string, bus *events.Bus) (*connectSession, string, error) {
	client, err := creds.client(f, "listen --connect")
	if err != nil {
		return nil, "", err
	}
	s := &connectSession{client: client, bundleID: bundleID, path: paths.ConnectStateFile(f.Getenv, bundleID), pid: os.Getpid(), bus: bus}
	var notes []string
	switch old, err := state.ReadConnect(s.path); {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, "", err
	case old.Running() && old.PID != s.pid:
		return nil, "", fmt.Errorf("another s2s listen (pid %d) has pointed the sandbox URL of %s at %s; stop it first, or run without --connect "+
			"(if that process is not an s2s listen, `s2s connect restore --bundle-id %s` clears its record)", old.PID, bundleID, old.SetURL, bundleID)
	default:
		msg, err := restoreConnect(ctx, client, s.path, old)
		if err != nil {
			return nil, "", fmt.Errorf("an earlier s2s listen --connect (pid %d) ended without restoring the sandbox URL, and restoring it failed: %w", old.PID, err)
		}
		notes = append(notes, fmt.Sprintf("an earlier s2s listen --connect (pid %d) had not restored the sandbox URL: %s", old.PID, msg))
	}
	app, err := client.FindApp(ctx, bundleID)
	if err != nil {
		return nil, "", err
	}
	s.rec = state.Connect{
		BundleID: bundleID, AppID: app.ID, PreviousURL: app.Sandbox.URL, PreviousVersion: app.Sandbox.Version,
		PID: s.pid, Started: f.Now(),
	}
	// set saves the record before the change: a crash from there on leaves what to put back.
	if err := s.set(ctx, publicURL); err != nil {
		return nil, "", err
	}
	for _, n := range notes {
		bus.Publish(events.Event{Kind: events.Connect, Time: f.Now(), Message: n})
	}
	return s, s.notice(), nil
}

// set points the sandbox URL at u and records it. When Apple refused the change, nothing changed
// and the record of a fresh session is dropped; when the outcome is unknown (the network failed)
// the record stays, so the old value is put back in any case.
//
// The URL about to be set is recorded first (PendingURL): if listen stops while Apple is applying
// it, the restore still knows the value is its own and not someone else's.
func (s *connectSession) set(ctx context.Context, u string) error {
	s.mu.Lock()
	s.rec.PendingURL = u
	err := state.WriteConnect(s.path, s.rec)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("saving the App Store Connect restore record: %w", err)
	}
	_, err = s.client.SetNotificationURL(ctx, s.rec.AppID, decode.EnvSandbox, appstoreconnect.NotificationURL{URL: u, Version: connectVersion})
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		var apiErr *appstoreconnect.APIError
		if errors.As(err, &apiErr) { // Apple refused: nothing changed
			s.rec.PendingURL = ""
			if s.rec.SetURL == "" {
				_ = state.RemoveConnect(s.path)
			} else {
				_ = state.WriteConnect(s.path, s.rec)
			}
		}
		return fmt.Errorf("pointing the sandbox URL of %s at %s: %w", s.bundleID, u, err)
	}
	s.rec.SetURL, s.rec.PendingURL = u, ""
	if err := state.WriteConnect(s.path, s.rec); err != nil {
		return fmt.Errorf("the sandbox URL of %s now is %s, but the restore record could not be updated: %w", s.bundleID, u, err)
	}
	return nil
}

// notice is the sentence for the ready line and the TUI header.
func (s *connectSession) notice() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	back := "restored to " + describeNotificationURL(previousOf(s.rec), "none") + " when listen stops"
	if s.rec.PreviousURL == "" {
		back = "unset again when listen stops (none was set: Apple then sends sandbox notifications to the production URL)"
	}
	return fmt.Sprintf("App Store Connect: sandbox notifications for %s now come to %s; %s", s.bundleID, s.rec.SetURL, back)
}

// follow updates the sandbox URL whenever the tunnel's public URL changes, until ctx ends.
func (s *connectSession) follow(ctx context.Context, evs <-chan events.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-evs:
			if !ok {
				return
			}
			s.mu.Lock()
			current := s.rec.SetURL
			s.mu.Unlock()
			if e.Kind != events.Tunnel || e.Err != "" || e.PublicURL == "" || e.PublicURL == current {
				continue
			}
			ev := events.Event{Kind: events.Connect, Time: time.Now(), PublicURL: e.PublicURL}
			if err := s.set(ctx, e.PublicURL); err != nil {
				if ctx.Err() != nil {
					return
				}
				ev.Err = err.Error()
				ev.Message = "App Store Connect: could not follow the new public URL: sandbox notifications still go to " + current
			} else {
				ev.Message = s.notice()
			}
			s.bus.Publish(ev)
		}
	}
}

// restore puts the saved setting back, unless someone changed the sandbox URL meanwhile (then it is
// left alone) or the record is gone (`connect restore` ran). It returns what to tell the user.
func (s *connectSession) restore(ctx context.Context) (string, error) {
	rec, err := state.ReadConnect(s.path)
	if errors.Is(err, os.ErrNotExist) || err == nil && rec.PID != s.pid {
		return fmt.Sprintf("App Store Connect: the sandbox URL of %s was already restored (s2s connect restore).", s.bundleID), nil
	}
	if err != nil {
		return "", err
	}
	app, err := s.client.GetApp(ctx, rec.AppID)
	if err != nil {
		return "", fmt.Errorf("restoring the sandbox URL of %s: %w", s.bundleID, err)
	}
	ours := app.Sandbox.URL == rec.SetURL || rec.PendingURL != "" && app.Sandbox.URL == rec.PendingURL
	if !ours && (rec.SetURL != "" || rec.PendingURL != "") {
		if err := state.RemoveConnect(s.path); err != nil {
			return "", err
		}
		return fmt.Sprintf("App Store Connect: the sandbox URL of %s was changed to %s while listen ran; left as it is (it was %s before).",
			s.bundleID, describeNotificationURL(app.Sandbox, "none"), describeNotificationURL(previousOf(rec), "none")), nil
	}
	return restoreConnect(ctx, s.client, s.path, rec)
}

// staticTunnel is the --public-url a developer's own tunnel or reverse proxy provides: listen
// watches it (the self-probe) as it watches its own tunnels, but it never changes.
type staticTunnel struct {
	url    string
	events chan tunnel.Event
	done   chan struct{}
	once   sync.Once
}

type staticProvider struct{ url string }

func (staticProvider) Name() string { return "public-url" }

func (p staticProvider) Start(context.Context, tunnel.Target) (tunnel.Tunnel, error) {
	return &staticTunnel{url: p.url, events: make(chan tunnel.Event), done: make(chan struct{})}, nil
}

func (t *staticTunnel) URL() string                 { return t.url }
func (t *staticTunnel) Events() <-chan tunnel.Event { return t.events }
func (t *staticTunnel) Done() <-chan struct{}       { return t.done }
func (t *staticTunnel) Err() error                  { return nil }
func (t *staticTunnel) Close() error {
	t.once.Do(func() {
		close(t.done)
		close(t.events)
	})
	return nil
}
