package cmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/hub"
	"github.com/s2s-dev/s2s/receiver"
	"github.com/s2s-dev/s2s/store"
)

// hubListenOptions are listen's flags for consuming from an s2s hub.
type hubListenOptions struct {
	URL     string
	Name    string
	Filter  string
	AckWait time.Duration

	filter store.Filter
}

func (o *hubListenOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.URL, "hub", "", "also take notifications from an s2s hub: the NATS URL it printed (nats://TOKEN@HOST:PORT)")
	fs.StringVar(&o.Name, "name", "", "with --hub: your durable consumer's name (letters, digits, - and _); the hub keeps what you have not acknowledged under it")
	fs.StringVar(&o.Filter, "hub-filter", "", "with --hub: take only the notifications this filter selects, in the filter language of captures list ("+store.FilterHelp+")")
	fs.DurationVar(&o.AckWait, "hub-ack-wait", hub.DefaultAckWait, "with --hub: how long the hub waits for this listener's acknowledgement before delivering a message again (what a killed listener held comes back this long after)")
}

func (o *hubListenOptions) validate() error {
	if o.URL == "" {
		// (s2s hub has no --hub-ack-wait: zero there.)
		if o.Name != "" || o.Filter != "" || o.AckWait != 0 && o.AckWait != hub.DefaultAckWait {
			return usageErrorf("--name, --hub-filter and --hub-ack-wait go with --hub")
		}
		return nil
	}
	if o.AckWait < time.Second || o.AckWait > time.Hour {
		return usageErrorf("--hub-ack-wait must be from 1s to 1h, not %s", o.AckWait)
	}
	if !hub.ValidName(o.Name) {
		return usageErrorf("--hub needs --name NAME (letters, digits, - and _, up to 64), the durable consumer the hub keeps for you, e.g. --name alice")
	}
	f, err := store.ParseFilter(o.Filter)
	if err != nil {
		return usageErrorf("--hub-filter: %v", err)
	}
	o.filter = f
	return nil
}

// hubServeOptions are s2s hub's own flags.
type hubServeOptions struct {
	NatsListen string
	NatsAuth   string
	NatsURL    string
	MaxAge     time.Duration
	Replicas   int
}

func (o *hubServeOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.NatsListen, "nats-listen", "127.0.0.1:4222", "address of the embedded NATS server (port 0 picks a free port)")
	fs.StringVar(&o.NatsAuth, "nats-auth", "", "token clients must present to the embedded NATS server (default: one generated at the first start and kept in the store, so the URL stays the same)")
	fs.StringVar(&o.NatsURL, "nats", "", "use this NATS server or cluster (URL with credentials) instead of the embedded one")
	fs.DurationVar(&o.MaxAge, "retention", hub.DefaultMaxAge, "how long the stream keeps captures for listeners that are away")
	fs.IntVar(&o.Replicas, "replicas", 1, "stream replicas (3 on a three-node NATS cluster)")
}

func (o *hubServeOptions) validate() error {
	if o.NatsURL != "" && o.NatsAuth != "" {
		return usageErrorf("--nats uses an existing NATS server (credentials in its URL): --nats-auth is the embedded server's token")
	}
	if o.MaxAge < time.Minute {
		return usageErrorf("--retention must be at least 1m, not %s", o.MaxAge)
	}
	if o.Replicas < 1 || o.Replicas > 5 {
		return usageErrorf("--replicas must be from 1 to 5, not %d", o.Replicas)
	}
	return nil
}

// hubRun is what a hub or a hub-fed listener runs beside the receiver.
type hubRun struct {
	URL    string // the URL teammates pass to --hub (s2s hub only)
	cancel context.CancelFunc
	wg     sync.WaitGroup
	close  []func()
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
	url := s.NatsURL
	if url == "" {
		token := s.NatsAuth
		if token == "" {
			if token, err = st.HubMeta(ctx, "nats-token", func() (string, error) { return store.RandomHex(16) }); err != nil {
				return r, err
			}
		}
		srv, err := hub.StartServer(hub.ServerOptions{
			Listen: s.NatsListen, StoreDir: filepath.Join(filepath.Dir(storePath), "hub-jetstream"),
			Token: token, MaxMsg: hub.MaxMsg(o.MaxBody),
		})
		if err != nil {
			return r, err
		}
		r.close = append(r.close, srv.Close)
		url = srv.URL()
	}
	nc, js, err := hub.Connect(ctx, url, "s2s hub")
	if err != nil {
		return r, err
	}
	r.close = append(r.close, nc.Close)
	if _, err := hub.EnsureStream(ctx, js, hub.StreamOptions{MaxAge: s.MaxAge, MaxBody: o.MaxBody, Replicas: s.Replicas}); err != nil {
		return r, err
	}
	// hub status finds the hub through its store.
	if err := st.SetHubMeta(ctx, "url", url); err != nil {
		return r, err
	}
	pub := hub.NewPublisher(js, st, hubID, log)
	// The hub's output says which listeners acknowledged each capture.
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
	r.URL = url
	if s.NatsURL == "" {
		fmt.Fprintf(o.f.IO.ErrOut, "s2s hub: NATS with JetStream on %s; teammates run:\n  s2s listen --hub %s --name THEIR-NAME --hub-filter 'bundle:THEIR.BUNDLE.ID'\n", hub.Redact(url), url)
	} else {
		fmt.Fprintf(o.f.IO.ErrOut, "s2s hub: publishing to the NATS server at %s; teammates pass its URL to s2s listen --hub\n", hub.Redact(url))
	}
	return r, nil
}

func (o *listenOptions) startHubConsume(ctx context.Context, handler *receiver.Handler, log *slog.Logger) (r *hubRun, err error) {
	r = &hubRun{}
	ctx, r.cancel = context.WithCancel(ctx)
	defer func() {
		if err != nil {
			r.stop()
		}
	}()
	nc, js, err := hub.Connect(ctx, o.Hub.URL, "s2s listen "+o.Hub.Name)
	if err != nil {
		if errors.Is(err, hub.ErrAuth) {
			return r, fmt.Errorf("--hub: %w; use the URL s2s hub printed, token included", err)
		}
		return r, fmt.Errorf("--hub: %w", err)
	}
	r.close = append(r.close, nc.Close)
	c := &hub.Consumer{JS: js, Name: o.Hub.Name, Filter: o.Hub.filter, AckWait: o.Hub.AckWait, MaxBody: o.MaxBody, Sink: handler, Log: log}
	if err := c.Open(ctx); err != nil {
		return r, fmt.Errorf("--hub: %w", err)
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		_ = c.Run(ctx)
	}()
	fmt.Fprintf(o.f.IO.ErrOut, "s2s listen: taking notifications from the hub at %s as %q\n", hub.Redact(o.Hub.URL), o.Hub.Name)
	return r, nil
}
