package hub

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/fixtures"
	"github.com/s2s-dev/s2s/receiver"
	"github.com/s2s-dev/s2s/store"
)

func startTestServer(t *testing.T) *Server {
	t.Helper()
	srv, err := StartServer(ServerOptions{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), Token: "s3cret", MaxMsg: MaxMsg(receiver.DefaultMaxBody)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func openStore(t *testing.T, name string) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// The outbox publishes what the hub stored; a consumer with a filter takes only what matches,
// byte for byte, verified by itself; a redelivery is the capture already stored.
func TestPublishConsumeFilter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := startTestServer(t)
	if !strings.HasPrefix(srv.URL(), "nats://s3cret@127.0.0.1:") {
		t.Fatalf("URL %q", srv.URL())
	}
	chain, err := fixtures.LoadOrCreateChain(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	verifier := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{chain.Root()}})

	hubStore := openStore(t, "hub.db")
	bodies := map[string][]byte{}
	for _, b := range []string{"com.example.a", "com.example.b", "com.example.a"} {
		body, err := chain.Notification("TEST", "", fixtures.Overrides{BundleID: b, Environment: "Sandbox"})
		if err != nil {
			t.Fatal(err)
		}
		c := &store.Capture{Method: "POST", Path: "/", Body: body, HubPending: true}
		c.SetSummary(verifier.DecodeBody(body).Summary())
		if err := hubStore.Insert(ctx, c); err != nil {
			t.Fatal(err)
		}
		bodies[Origin("hub1", c.ID)] = body
	}

	nc, js, err := Connect(ctx, srv.URL(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := EnsureStream(ctx, js, StreamOptions{MaxBody: receiver.DefaultMaxBody}); err != nil {
		t.Fatal(err)
	}
	pub := NewPublisher(js, hubStore, "hub1", nil)
	published := make(chan uint64, 10)
	pub.Published = func(_ *store.Capture, seq uint64) { published <- seq }
	pctx, pcancel := context.WithCancel(ctx)
	defer pcancel()
	go pub.Run(pctx)
	for range 3 {
		select {
		case <-published:
		case <-ctx.Done():
			t.Fatal("outbox not published")
		}
	}
	if n, err := hubStore.HubPendingCount(ctx); err != nil || n != 0 {
		t.Fatalf("outbox after publishing: %d, %v", n, err)
	}

	listenStore := openStore(t, "listen.db")
	bus := events.NewBus()
	evs, unsub := bus.Subscribe(100)
	defer unsub()
	sink := receiver.New(receiver.Options{Store: listenStore, Verifier: verifier, Bus: bus})
	filter, err := store.ParseFilter("bundle:com.example.a")
	if err != nil {
		t.Fatal(err)
	}
	cctx, ccancel := context.WithCancel(ctx)
	defer ccancel()
	done := make(chan error, 1)
	go func() {
		done <- (&Consumer{JS: js, Name: "alice", Filters: []store.Filter{filter}, MaxBody: receiver.DefaultMaxBody, Sink: sink}).Run(cctx)
	}()
	for got := 0; got < 2; {
		select {
		case e := <-evs:
			if e.Kind == events.Notification {
				got++
			}
		case err := <-done:
			t.Fatalf("consumer ended: %v", err)
		case <-ctx.Done():
			t.Fatal("listener did not get its captures")
		}
	}
	list, err := listenStore.List(ctx, store.Filter{Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("listener stored %d captures, want 2", len(list))
	}
	for _, c := range list {
		full, err := listenStore.Get(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.BundleID != "com.example.a" || c.Trust != decode.LabelSimulated || !bytes.Equal(full.Body, bodies[c.HubOrigin]) {
			t.Fatalf("capture %+v: bundle, label or body differ", c)
		}
	}

	// A redelivery of a stored capture stores nothing.
	again, err := listenStore.Get(ctx, list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	re := &store.Capture{Method: "POST", Path: "/", Body: again.Body, HubOrigin: again.HubOrigin, ReceivedAt: again.ReceivedAt}
	if err := sink.Accept(ctx, re, nil); err != nil {
		t.Fatal(err)
	}
	if !re.HubRedelivery || re.ID != list[0].ID {
		t.Fatalf("redelivery: %+v", re)
	}
	if n, _ := listenStore.Count(ctx, store.Filter{}); n != 2 {
		t.Fatalf("after a redelivery the listener has %d captures", n)
	}

	st, err := StreamStatus(ctx, js, "")
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages != 3 || len(st.Consumers) != 1 || st.Consumers[0].Name != "alice" {
		t.Fatalf("status %+v", st)
	}
	ccancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestWrongToken(t *testing.T) {
	srv := startTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, _, err := Connect(ctx, "nats://wrong@"+srv.Addr(), "test")
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("wrong token: %v", err)
	}
	if strings.Contains(err.Error(), "wrong@") {
		t.Fatalf("the error shows the token: %v", err)
	}
}

func TestDecodeStrict(t *testing.T) {
	c := &store.Capture{ID: 7, Method: "POST", Path: "/", Body: []byte("{}"), ReceivedAt: time.Now()}
	m, err := Encode("hub1", c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(m.Header, m.Data, 1); err == nil {
		t.Fatal("a body over max-body was taken")
	}
	got, err := Decode(m.Header, m.Data, 100)
	if err != nil || got.HubOrigin != "hub1/7" {
		t.Fatalf("%+v %v", got, err)
	}
	m.Header.Add(hOrigin, "hub1/8")
	if _, err := Decode(m.Header, m.Data, 100); err == nil {
		t.Fatal("two origins were taken")
	}
	m.Header.Set(hOrigin, "../x/1")
	if _, err := Decode(m.Header, m.Data, 100); err == nil {
		t.Fatal("a malformed origin was taken")
	}
}

func FuzzDecode(f *testing.F) {
	c := &store.Capture{ID: 7, Method: "POST", Path: "/", Body: []byte("{}"), ReceivedAt: time.Unix(1, 0)}
	m, _ := Encode("hub1", c)
	f.Add(m.Header.Get(hOrigin), m.Header.Get(hReceivedAt), m.Header.Get(hHeaders), []byte("{}"))
	f.Fuzz(func(t *testing.T, origin, received, headers string, body []byte) {
		h := nats.Header{}
		h.Set(hOrigin, origin)
		h.Set(hReceivedAt, received)
		h.Set(hMethod, "POST")
		h.Set(hHeaders, headers)
		got, err := Decode(h, body, 1<<10)
		if err == nil && (got.HubOrigin != origin || len(got.Body) > 1<<10) {
			t.Fatalf("decoded %+v", got)
		}
	})
}

// A listener's pulls are bounded in bytes (whoever holds the token can publish large messages),
// never below two of the largest messages the hub sends, or the consumer would stall.
func TestPullBytes(t *testing.T) {
	if got := pullBytes(receiver.DefaultMaxBody); got != consumeBuffer {
		t.Errorf("pull limit with the default --max-body: %d, want %d", got, consumeBuffer)
	}
	if got, min := pullBytes(64<<20), 2*int(MaxMsg(64<<20)); got < min {
		t.Errorf("pull limit with --max-body 64 MiB: %d, below two messages (%d)", got, min)
	}
}
