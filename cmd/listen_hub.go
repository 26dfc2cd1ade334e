package cmd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/pflag"

	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/hub"
	"github.com/s2s-dev/s2s/internal/termsafe"
	"github.com/s2s-dev/s2s/receiver"
	"github.com/s2s-dev/s2s/store"
)

// hubListenOptions are listen's flags for consuming from an s2s hub.
type hubListenOptions struct {
	URL      string
	Name     string
	Filters  []string
	AckWait  time.Duration
	NKeyFile string
	CAFile   string

	filters []store.Filter
	creds   hub.Credentials
}

func (o *hubListenOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.URL, "hub", "", "also take notifications from an s2s hub: the NATS URL it printed (nats://TOKEN@HOST:PORT, or tls://…)")
	fs.StringVar(&o.Name, "name", "", "with --hub: your durable consumer's name (letters, digits, - and _); the hub keeps what you have not acknowledged under it")
	fs.StringArrayVar(&o.Filters, "hub-filter", nil, "with --hub: take only the notifications this filter selects, in the filter language of captures list ("+store.FilterHelp+"). Given again, a capture either selects is taken: real-time requests carry no bundle ID, so bundle:ID alone leaves them out; add --hub-filter 'kind:realtime-request app:APP-APPLE-ID' to take them too")
	fs.DurationVar(&o.AckWait, "hub-ack-wait", hub.DefaultAckWait, "with --hub: how long the hub waits for this listener's acknowledgement before delivering a message again (what a killed listener held comes back this long after)")
	fs.StringVar(&o.NKeyFile, "hub-nkey", "", "with --hub: authenticate with the user NKey seed in this `FILE` (a hub started with --nats-auth nkey)")
	fs.StringVar(&o.CAFile, "hub-ca", "", "with --hub: trust the certificate authorities in this PEM `FILE` too, for a tls:// hub with a private CA or a self-signed certificate")
}

func (o *hubListenOptions) validate() error {
	if o.URL == "" {
		// (s2s hub has no --hub-ack-wait: zero there.)
		if o.Name != "" || len(o.Filters) > 0 || o.NKeyFile != "" || o.CAFile != "" || o.AckWait != 0 && o.AckWait != hub.DefaultAckWait {
			return usageErrorf("--name, --hub-filter, --hub-ack-wait, --hub-nkey and --hub-ca go with --hub")
		}
		return nil
	}
	if o.AckWait < time.Second || o.AckWait > time.Hour {
		return usageErrorf("--hub-ack-wait must be from 1s to 1h, not %s", o.AckWait)
	}
	if !hub.ValidName(o.Name) {
		return usageErrorf("--hub needs --name NAME (letters, digits, - and _, up to 64), the durable consumer the hub keeps for you, e.g. --name alice")
	}
	for _, text := range o.Filters {
		f, err := store.ParseFilter(text)
		if err != nil {
			return usageErrorf("--hub-filter: %v", err)
		}
		o.filters = append(o.filters, f)
	}
	creds, err := clientCredentials("--hub-nkey", o.NKeyFile, "--hub-ca", o.CAFile)
	if err != nil {
		return err
	}
	o.creds = creds
	return nil
}

// clientCredentials reads a seed file and a CA file (either may be ""), given to the named flags.
func clientCredentials(nkeyFlag, nkeyFile, caFlag, caFile string) (c hub.Credentials, err error) {
	if nkeyFile != "" {
		if c.NKey, err = hub.ReadUserSeed(nkeyFile); err != nil {
			return c, usageErrorf("%s: %w", nkeyFlag, err)
		}
	}
	if caFile != "" {
		if c.RootCAs, err = caPool(caFlag, caFile); err != nil {
			return c, usageErrorf("%w", err)
		}
	}
	return c, nil
}

// hubConnectError explains why a client (flags named for the command) could not connect, and
// what fixes it. It never quotes a secret: the URL is redacted, an NKey is named by its public key.
func hubConnectError(err error, creds hub.Credentials, nkeyFlag, nkeyFile, caFlag string) error {
	switch {
	case errors.Is(err, hub.ErrAuth) && creds.NKey != nil:
		return fmt.Errorf("%w; it does not accept the NKey of %s %s (public key %s): use the seed file the hub shares, or have this public key added to its --nats-auth nkey:…", err, nkeyFlag, nkeyFile, hub.PublicKey(creds.NKey))
	case errors.Is(err, hub.ErrAuth):
		return fmt.Errorf("%w; use the URL s2s hub printed, token included, or, for a hub with NKey authentication, %s FILE", err, nkeyFlag)
	case errors.Is(err, hub.ErrWrongHost):
		return fmt.Errorf("%w; connect with a host name the certificate names: the host of the URL s2s hub printed", err)
	case errors.Is(err, hub.ErrUntrusted) && creds.RootCAs != nil:
		return fmt.Errorf("%w; the authorities of %s do not include the one that signed it", err, caFlag)
	case errors.Is(err, hub.ErrUntrusted):
		return fmt.Errorf("%w; for a hub with a private CA or a self-signed certificate, trust it with %s FILE", err, caFlag)
	}
	return err
}

// hubServeOptions are s2s hub's own flags.
type hubServeOptions struct {
	NatsListen string
	NatsAuth   string
	NatsCert   string
	NatsKey    string
	NatsURL    string
	NatsNKey   string // with --nats
	NatsCA     string // with --nats
	MaxAge     time.Duration
	Replicas   int

	nkeyAuth bool              // --nats-auth nkey or nkey:LIST
	nkeys    []hub.ListenerKey // the teammates' public keys of nkey:LIST, each bound to a consumer or not
	cert     *tls.Certificate
	creds    hub.Credentials // for --nats
}

func (o *hubServeOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.NatsListen, "nats-listen", "127.0.0.1:4222", "address of the embedded NATS server (port 0 picks a free port)")
	fs.StringVar(&o.NatsAuth, "nats-auth", "", "how clients authenticate to the embedded NATS server: a TOKEN of 16 characters or more (default: one generated at the first start and kept in the store, so the URL stays the same), nkey (a listeners' user NKey made at the first start, its seed file kept beside the store for teammates to share; it may only consume), or nkey:NAME=PUBKEY,... (each teammate's own public user NKey, bound to their listen --name: it can use no one else's consumer; made with s2s hub nkey). A shared token or key, and a key given without NAME= (nkey:PUBKEY), lets its holder pull from, acknowledge for and reconfigure any teammate's consumer")
	fs.StringVar(&o.NatsCert, "nats-cert", "", "serve NATS over TLS with this PEM certificate `FILE` (the leaf, then any intermediates); with --nats-key")
	fs.StringVar(&o.NatsKey, "nats-key", "", "the PEM private key `FILE` of --nats-cert")
	fs.StringVar(&o.NatsURL, "nats", "", "use this NATS server or cluster (URL with credentials) instead of the embedded one")
	fs.StringVar(&o.NatsNKey, "nats-nkey", "", "with --nats: authenticate with the user NKey seed in this `FILE`")
	fs.StringVar(&o.NatsCA, "nats-ca", "", "with --nats: trust the certificate authorities in this PEM `FILE` too, for a tls:// server with a private CA")
	fs.DurationVar(&o.MaxAge, "retention", hub.DefaultMaxAge, "how long the stream keeps captures for listeners that are away")
	fs.IntVar(&o.Replicas, "replicas", 1, "stream replicas (3 on a three-node NATS cluster)")
}

func (o *hubServeOptions) validate(now time.Time) error {
	if o.NatsURL != "" && (o.NatsAuth != "" || o.NatsCert != "" || o.NatsKey != "") {
		return usageErrorf("--nats uses an existing NATS server (credentials in its URL, or --nats-nkey; its TLS is its own): --nats-auth, --nats-cert and --nats-key are the embedded server's")
	}
	if o.NatsURL == "" && (o.NatsNKey != "" || o.NatsCA != "") {
		return usageErrorf("--nats-nkey and --nats-ca go with --nats (the embedded server takes --nats-auth, --nats-cert and --nats-key)")
	}
	if err := o.parseAuth(); err != nil {
		return err
	}
	if (o.NatsCert == "") != (o.NatsKey == "") {
		return usageErrorf("--nats-cert and --nats-key go together")
	}
	if o.NatsCert != "" {
		cert, err := hub.LoadServerCertificate(o.NatsCert, o.NatsKey, now)
		if err != nil {
			return usageErrorf("%w", err)
		}
		o.cert = &cert
	}
	if o.NatsURL != "" {
		creds, err := clientCredentials("--nats-nkey", o.NatsNKey, "--nats-ca", o.NatsCA)
		if err != nil {
			return err
		}
		o.creds = creds
	}
	if o.MaxAge < time.Minute {
		return usageErrorf("--retention must be at least 1m, not %s", o.MaxAge)
	}
	if o.Replicas < 1 || o.Replicas > 5 {
		return usageErrorf("--replicas must be from 1 to 5, not %d", o.Replicas)
	}
	return nil
}

// minTokenLen is the shortest token --nats-auth takes: it is the team's secret, and whoever
// guesses it reads every notification (the generated one has 32 hexadecimal digits).
const minTokenLen = 16

// parseAuth reads --nats-auth: a token, nkey, or nkey:[NAME=]PUBKEY,...
func (o *hubServeOptions) parseAuth() error {
	a := o.NatsAuth
	switch {
	case a == "":
	case a == "nkey":
		o.nkeyAuth = true
	case strings.HasPrefix(a, "nkey:"):
		keys, err := hub.ParseUserKeys(strings.TrimPrefix(a, "nkey:"))
		if err != nil {
			return usageErrorf("--nats-auth nkey:…: %w", err)
		}
		o.nkeyAuth, o.nkeys = true, keys
	case hub.LooksLikeNKey(a):
		// As a token it would be printed in the teammates' URL; a seed is a secret.
		return usageErrorf("--nats-auth: that looks like an NKey, not a token (a token is printed in the URL teammates use): for NKey authentication give public keys, --nats-auth nkey:PUBKEY,… (or nkey:NAME=PUBKEY,…), never a seed; or --nats-auth nkey for a key made for the team")
	case len(a) < minTokenLen:
		return usageErrorf("--nats-auth: a token must have at least %d characters (whoever guesses it reads every notification); leave --nats-auth out for a generated one", minTokenLen)
	}
	return nil
}

// hubRun is what a hub or a hub-fed listener runs beside the receiver.
type hubRun struct {
	URL      string // the URL teammates pass to --hub (s2s hub only)
	NKeyFile string // the seed file teammates use, with --nats-auth nkey
	CAFile   string // the self-signed certificate teammates trust with --hub-ca
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	close    []func()
}

// stop ends the publisher or consumer and waits for it, then closes the connection and server;
// call it before the store closes.
func (r *hubRun) stop() {
	if r == nil {
		return
	}
	r.cancel()
	r.wg.Wait()
	for i := len(r.close) - 1; i >= 0; i-- {
		r.close[i]()
	}
}

// startHub starts what o asks for: the hub's server, stream and outbox publisher (s2s hub), or a
// durable consumer feeding handler (listen --hub), or nothing.
func (o *listenOptions) startHub(ctx context.Context, st *store.Store, storePath string, handler *receiver.Handler, bus *events.Bus, log *slog.Logger) (*hubRun, error) {
	switch {
	case o.hubServe != nil:
		return o.startHubServe(ctx, st, storePath, bus, log)
	case o.Hub.URL != "":
		return o.startHubConsume(ctx, handler, log)
	}
	return nil, nil
}

func (o *listenOptions) startHubServe(ctx context.Context, st *store.Store, storePath string, bus *events.Bus, log *slog.Logger) (r *hubRun, err error) {
	s := o.hubServe
	r = &hubRun{}
	ctx, r.cancel = context.WithCancel(ctx)
	defer func() {
		if err != nil {
			r.stop()
		}
	}()
	hubID, err := st.HubMeta(ctx, "hub-id", func() (string, error) { return store.RandomHex(6) })
	if err != nil {
		return r, err
	}
	var conn hubConn
	if s.NatsURL == "" {
		conn, err = o.startEmbeddedNATS(ctx, st, filepath.Dir(storePath), r, log)
	} else {
		conn, err = o.connectNATS(ctx, log)
	}
	if err != nil {
		return r, err
	}
	r.close = append(r.close, conn.nc.Close)
	if err := o.prepareHubStream(ctx, st, conn); err != nil {
		return r, err
	}
	r.runPublisher(ctx, hub.NewPublisher(conn.js, st, hubID, log), conn.js, bus)
	r.URL = conn.url
	if s.NatsURL == "" && s.cert != nil && hub.SelfSigned(*s.cert) {
		r.CAFile = conn.caFile
	}
	if err := r.recordTeammateAccess(ctx, st, s.NatsURL != ""); err != nil {
		return r, err
	}
	if s.NatsURL == "" {
		o.printHubStart(r)
	} else {
		fmt.Fprintf(o.f.IO.ErrOut, "s2s hub: publishing to the NATS server at %s; teammates pass its URL to s2s listen --hub\n", hub.Redact(conn.url))
	}
	return r, nil
}

// recordTeammateAccess records in the store what teammates pass to s2s listen --hub, so s2s hub
// status shows it while the hub's TUI hides its start-up lines: the embedded server's URL (its
// token in it, as the hub prints it), the shared seed file, the self-signed certificate. A NATS
// server of the user's own (--nats) has its URL recorded without the hub's credentials: teammates
// bring their own.
func (r *hubRun) recordTeammateAccess(ctx context.Context, st *store.Store, external bool) error {
	url := r.URL
	if external {
		url = hub.Redact(url)
	}
	for k, v := range map[string]string{"teammate-url": url, "teammate-nkey-file": r.NKeyFile, "teammate-ca-file": r.CAFile} {
		if err := st.SetHubMeta(ctx, k, v); err != nil {
			return err
		}
	}
	return nil
}

// hubConn is the hub's connection to its NATS server, and what s2s hub status needs to make its
// own.
type hubConn struct {
	url      string
	nc       *nats.Conn
	js       jetstream.JetStream
	nkeyFile string // the seed hub status uses: the hub's own, or --nats-nkey
	caFile   string // what hub status trusts
}

// startEmbeddedNATS starts the hub's own NATS server with JetStream under dataDir, protected as
// --nats-auth and --nats-cert ask, and connects to it in-process.
func (o *listenOptions) startEmbeddedNATS(ctx context.Context, st *store.Store, dataDir string, r *hubRun, log *slog.Logger) (hubConn, error) {
	s := o.hubServe
	so := hub.ServerOptions{
		Listen: s.NatsListen, StoreDir: filepath.Join(dataDir, "hub-jetstream"),
		TLS: s.cert, MaxMsg: hub.MaxMsg(o.MaxBody),
	}
	own, nkeyFile, err := o.embeddedAuth(ctx, st, dataDir, r, &so)
	if err != nil {
		return hubConn{}, err
	}
	srv, err := hub.StartServer(so)
	if err != nil {
		return hubConn{}, err
	}
	r.close = append(r.close, srv.Close)
	conn := hubConn{url: srv.URL(), nkeyFile: nkeyFile}
	if s.cert != nil {
		conn.caFile, _ = filepath.Abs(s.NatsCert)
	}
	if conn.nc, conn.js, err = srv.Connect(ctx, "s2s hub", append(own.Options(), hub.AsyncErrorLog(log))...); err != nil {
		return hubConn{}, err
	}
	return conn, nil
}

// embeddedAuth sets how the embedded server admits clients: with NKeys, the hub has a key of its
// own with every right, and teammates' keys may only consume (theirs, nkey:LIST, or one made here
// for them to share, nkey, whose file is r.NKeyFile); otherwise with the token (--nats-auth, or one
// generated on the first start and kept in the store). It returns the hub's own credentials and
// the seed file hub status uses.
func (o *listenOptions) embeddedAuth(ctx context.Context, st *store.Store, dataDir string, r *hubRun, so *hub.ServerOptions) (own hub.Credentials, nkeyFile string, err error) {
	s := o.hubServe
	if !s.nkeyAuth {
		so.Token = s.NatsAuth
		if so.Token == "" {
			so.Token, err = st.HubMeta(ctx, "nats-token", func() (string, error) { return store.RandomHex(16) })
		}
		return own, "", err
	}
	nkeyFile = filepath.Join(dataDir, hub.OwnSeedFileName)
	kp, _, err := hub.LoadOrCreateUserSeed(nkeyFile)
	if err != nil {
		return own, "", err
	}
	own.NKey = kp
	so.NKeys, so.ListenerNKeys = []string{hub.PublicKey(kp)}, s.nkeys
	if len(s.nkeys) == 0 {
		r.NKeyFile = filepath.Join(dataDir, hub.SeedFileName)
		team, _, err := hub.LoadOrCreateUserSeed(r.NKeyFile)
		if err != nil {
			return own, "", err
		}
		so.ListenerNKeys = []hub.ListenerKey{{NKey: hub.PublicKey(team)}}
	}
	return own, nkeyFile, nil
}

// connectNATS connects to an existing NATS server or cluster (--nats).
func (o *listenOptions) connectNATS(ctx context.Context, log *slog.Logger) (hubConn, error) {
	s := o.hubServe
	conn := hubConn{url: s.NatsURL, nkeyFile: absOrEmpty(s.NatsNKey), caFile: absOrEmpty(s.NatsCA)}
	var err error
	if conn.nc, conn.js, err = hub.Connect(ctx, conn.url, "s2s hub", append(s.creds.Options(), hub.AsyncErrorLog(log))...); err != nil {
		return hubConn{}, hubConnectError(err, s.creds, "--nats-nkey", s.NatsNKey, "--nats-ca")
	}
	return conn, nil
}

// prepareHubStream makes sure the captures stream exists as asked, and records in the store what
// s2s hub status needs to find the hub and connect to it.
func (o *listenOptions) prepareHubStream(ctx context.Context, st *store.Store, conn hubConn) error {
	s := o.hubServe
	if _, err := hub.EnsureStream(ctx, conn.js, hub.StreamOptions{MaxAge: s.MaxAge, MaxBody: o.MaxBody, Replicas: s.Replicas}); err != nil {
		return err
	}
	for k, v := range map[string]string{"url": conn.url, "nkey-file": conn.nkeyFile, "ca-file": conn.caFile} {
		if err := st.SetHubMeta(ctx, k, v); err != nil {
			return err
		}
	}
	return nil
}

// runPublisher publishes the outbox, woken by each new capture, and follows which listeners
// acknowledge what it published, so the hub's output can say it; all three stop with ctx.
func (r *hubRun) runPublisher(ctx context.Context, pub *hub.Publisher, js jetstream.JetStream, bus *events.Bus) {
	acks := &hub.AckWatcher{JS: js, Acked: func(id int64, consumer string) {
		bus.Publish(events.Event{Kind: events.HubAck, CaptureID: id, Consumer: consumer})
	}}
	pub.Published = func(c *store.Capture, seq uint64) { acks.Add(c.ID, seq) }
	wake, unsubscribe := bus.Subscribe(1024)
	r.wg.Add(3)
	go func() {
		defer r.wg.Done()
		acks.Run(ctx)
	}()
	go func() {
		defer r.wg.Done()
		pub.Run(ctx)
	}()
	go func() {
		defer r.wg.Done()
		for {
			select {
			case <-ctx.Done():
				unsubscribe()
				return
			case e := <-wake:
				if e.Kind == events.Notification {
					pub.Wake()
				}
			}
		}
	}()
}

// printHubStart tells, on stderr, what teammates need to reach the embedded server: the URL (the
// token in it), the seed file to share or the keys accepted, the certificate to trust; and warns
// when the server is reachable beyond this machine in clear.
func (o *listenOptions) printHubStart(r *hubRun) {
	s, w := o.hubServe, o.f.IO.ErrOut
	cmd := "s2s listen --hub " + r.URL
	var notes []string
	switch {
	case r.NKeyFile != "":
		notes = append(notes, fmt.Sprintf("NKey authentication: give teammates the seed file %s privately (a secret: whoever holds it reads every notification and can use any teammate's consumer; a key per teammate, --nats-auth nkey:NAME=PUBKEY,…, prevents that)", r.NKeyFile))
		cmd += " --hub-nkey " + hub.SeedFileName
	case s.nkeyAuth:
		bound := 0
		for _, k := range s.nkeys {
			if k.Consumer != "" {
				bound++
			}
		}
		note := fmt.Sprintf("NKey authentication for %d teammate key(s): each teammate uses the seed of their own key (s2s hub nkey FILE makes one)", len(s.nkeys))
		if bound > 0 {
			note += fmt.Sprintf("; %d key(s) bound to a consumer: those teammates pass the --name their key is given", bound)
		}
		if bound < len(s.nkeys) {
			note += fmt.Sprintf("; %d key(s) without NAME= can use any teammate's consumer", len(s.nkeys)-bound)
		}
		notes = append(notes, note)
		cmd += " --hub-nkey THEIR-SEED-FILE"
	}
	switch {
	case r.CAFile != "":
		notes = append(notes, fmt.Sprintf("TLS with the self-signed certificate %s: teammates trust it with --hub-ca", r.CAFile))
		cmd += " --hub-ca " + filepath.Base(r.CAFile)
	case s.cert != nil:
		notes = append(notes, "TLS: teammates whose system does not trust its authority add --hub-ca CA-FILE")
	}
	fmt.Fprintf(w, "s2s hub: NATS with JetStream on %s\n", hub.Redact(r.URL))
	if u, err := neturl.Parse(r.URL); err == nil && net.ParseIP(u.Hostname()) != nil && net.ParseIP(u.Hostname()).IsUnspecified() {
		name, _ := os.Hostname()
		notes = append(notes, fmt.Sprintf("%s means every address of this machine: teammates replace it with its host name or address (%s)", u.Hostname(), termsafe.String(name)))
	}
	for _, n := range notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
	fmt.Fprintf(w, "  Teammates run: %s --name THEIR-NAME --hub-filter 'bundle:THEIR.BUNDLE.ID'\n", cmd)
	// Real-time requests carry an appAppleId, no bundle ID: the suggested filter leaves them out.
	answer := "with no body: add --realtime-response FILE"
	if o.Realtime.ResponseFile != "" {
		answer = "with --realtime-response " + o.Realtime.ResponseFile
	}
	fmt.Fprintf(w, "  Real-time requests carry no bundle ID: to take them too, add --hub-filter 'kind:realtime-request app:THEIR-APP-APPLE-ID'. The hub alone answers them (%s); listeners only observe\n", answer)
	if s.cert == nil && !loopbackListen(s.NatsListen) {
		fmt.Fprintf(w, "s2s hub: warning: NATS listens on %s without TLS: credentials and every notification cross the network in clear; add --nats-cert and --nats-key\n", s.NatsListen)
	}
}

// loopbackListen reports whether a HOST:PORT listen address is reachable from this machine only.
func loopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// absOrEmpty is path made absolute, "" for "".
func absOrEmpty(path string) string {
	if path == "" {
		return ""
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

func (o *listenOptions) startHubConsume(ctx context.Context, handler *receiver.Handler, log *slog.Logger) (r *hubRun, err error) {
	r = &hubRun{}
	ctx, r.cancel = context.WithCancel(ctx)
	defer func() {
		if err != nil {
			r.stop()
		}
	}()
	var opened atomic.Bool // the consumer's start-up check reports a refused permission itself
	nc, js, err := hub.Connect(ctx, o.Hub.URL, "s2s listen "+o.Hub.Name, append(o.Hub.creds.Options(), hub.ConsumerErrorLog(log, &opened))...)
	if err != nil {
		return r, fmt.Errorf("--hub: %w", hubConnectError(err, o.Hub.creds, "--hub-nkey", o.Hub.NKeyFile, "--hub-ca"))
	}
	r.close = append(r.close, nc.Close)
	c := &hub.Consumer{JS: js, Name: o.Hub.Name, Filters: o.Hub.filters, AckWait: o.Hub.AckWait, MaxBody: o.MaxBody, Sink: handler, Log: log}
	if err := c.Open(ctx); err != nil {
		return r, fmt.Errorf("--hub: %w", err)
	}
	opened.Store(true)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		_ = c.Run(ctx)
	}()
	fmt.Fprintf(o.f.IO.ErrOut, "s2s listen: taking notifications from the hub at %s as %q\n", hub.Redact(o.Hub.URL), o.Hub.Name)
	return r, nil
}
