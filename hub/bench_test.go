package hub

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/fixtures"
	"github.com/s2s-dev/s2s/receiver"
	"github.com/s2s-dev/s2s/store"
)

// BenchmarkHubEndToEnd posts distinct signed notifications to a hub (the receiver with its outbox,
// the embedded NATS server, the publisher), one at a time or 16 in flight, and measures the hub's throughput
// (answers/s) and the latency from the POST to the capture stored by a listener consuming with
// a filter that selects everything it is sent (p50, p99). With 1 in flight the latency is the
// pipeline's own; with 16 the hub answers faster than a listener stores, and the latency is
// mostly the queue. published/s is the hub's outbox (acknowledged by JetStream, which syncs each
// message to disk), so a queue before the listener shows. cpu-ms/msg is the process's CPU time (hub, NATS server and listener
// together) per notification, where the OS reports it.
//
//	go test ./hub -run '^$' -bench HubEndToEnd -benchtime 2000x
func BenchmarkHubEndToEnd(b *testing.B) {
	for _, inflight := range []int{1, 16} {
		b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) { benchHub(b, inflight) })
	}
}

func benchHub(b *testing.B, inflight int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, chain, verifier := benchServer(b)
	bodies := make([][]byte, b.N)
	uuids := make(map[string]int, b.N)
	for i := range bodies {
		var err error
		if bodies[i], err = chain.Notification("DID_RENEW", "", fixtures.Overrides{BundleID: "com.example.a", Environment: "Sandbox"}); err != nil {
			b.Fatal(err)
		}
		uuids[verifier.DecodeBody(bodies[i]).Summary().NotificationUUID] = i
	}

	hubStore, err := store.Open(b.TempDir() + "/hub.db")
	if err != nil {
		b.Fatal(err)
	}
	defer hubStore.Close()
	hubBus := events.NewBus()
	handler := receiver.New(receiver.Options{Store: hubStore, Verifier: verifier, Bus: hubBus, HubOutbox: true})
	web := httptest.NewServer(handler)
	defer web.Close()
	nc, js, err := Connect(ctx, srv.URL(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	if _, err := EnsureStream(ctx, js, StreamOptions{MaxBody: receiver.DefaultMaxBody}); err != nil {
		b.Fatal(err)
	}
	pub := NewPublisher(js, hubStore, "bench", nil)
	var (
		pubMu   sync.Mutex
		pubN    int
		pubLast time.Time
	)
	pub.Published = func(*store.Capture, uint64) {
		pubMu.Lock()
		pubN++
		pubLast = time.Now()
		pubMu.Unlock()
	}
	wake, unsub := hubBus.Subscribe(1 << 16)
	defer unsub()
	go func() {
		for range wake {
			pub.Wake()
		}
	}()
	go pub.Run(ctx)

	listenStore, err := store.Open(b.TempDir() + "/listen.db")
	if err != nil {
		b.Fatal(err)
	}
	defer listenStore.Close()
	listenBus := events.NewBus()
	stored, unsub2 := listenBus.Subscribe(1 << 16)
	defer unsub2()
	sink := receiver.New(receiver.Options{Store: listenStore, Verifier: verifier, Bus: listenBus})
	filter, _ := store.ParseFilter("bundle:com.example.a")
	go func() {
		_ = (&Consumer{JS: js, Name: "bench", Filters: []store.Filter{filter}, MaxBody: receiver.DefaultMaxBody, Sink: sink}).Run(ctx)
	}()

	var mu sync.Mutex
	sent := make([]time.Time, b.N)
	lat := make([]time.Duration, 0, b.N)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range stored {
			if e.Kind != events.Notification {
				continue
			}
			i := uuids[e.Capture.NotificationUUID]
			mu.Lock()
			lat = append(lat, time.Since(sent[i]))
			mu.Unlock()
			if len(lat) == b.N {
				return
			}
		}
	}()

	b.ResetTimer()
	start := time.Now()
	cpuStart, cpuOK := processCPU()
	var wg sync.WaitGroup
	next := make(chan int)
	for range inflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				mu.Lock()
				sent[i] = time.Now()
				mu.Unlock()
				resp, err := http.Post(web.URL, "application/json", bytes.NewReader(bodies[i]))
				if err != nil || resp.StatusCode != 200 {
					b.Errorf("POST: %v", err)
					return
				}
				resp.Body.Close()
			}
		}()
	}
	for i := range bodies {
		next <- i
	}
	close(next)
	wg.Wait()
	answered := time.Since(start)
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		b.Fatalf("%d of %d stored by the listener", len(lat), b.N)
	}
	cpuEnd, _ := processCPU()
	b.StopTimer()
	slices.Sort(lat)
	if cpuOK {
		// The machine may be shared: CPU per message does not depend on what else runs.
		b.ReportMetric(float64((cpuEnd-cpuStart).Microseconds())/1000/float64(b.N), "cpu-ms/msg")
	}
	b.ReportMetric(float64(b.N)/answered.Seconds(), "hub-answers/s")
	pubMu.Lock()
	b.ReportMetric(float64(pubN)/pubLast.Sub(start).Seconds(), "published/s")
	pubMu.Unlock()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "end-to-end/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkHubConsume measures one listener alone: the stream already holds b.N distinct signed
// notifications, and a listener consuming with a filter that selects them all verifies and
// stores them durably. It is the rate a listener catches up at, and its CPU per message.
//
//	go test ./hub -run '^$' -bench HubConsume -benchtime 2000x
func BenchmarkHubConsume(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, chain, verifier := benchServer(b)
	nc, js, err := Connect(ctx, srv.URL(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	if _, err := EnsureStream(ctx, js, StreamOptions{MaxBody: receiver.DefaultMaxBody}); err != nil {
		b.Fatal(err)
	}
	for i := range b.N {
		body, err := chain.Notification("DID_RENEW", "", fixtures.Overrides{BundleID: "com.example.a", Environment: "Sandbox"})
		if err != nil {
			b.Fatal(err)
		}
		m, err := Encode("bench", &store.Capture{ID: int64(i + 1), Method: "POST", Path: "/", Body: body, ReceivedAt: time.Now()})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := js.PublishMsgAsync(m); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		b.Fatal("the stream did not take the messages")
	}

	listenStore, err := store.Open(b.TempDir() + "/listen.db")
	if err != nil {
		b.Fatal(err)
	}
	defer listenStore.Close()
	listenBus := events.NewBus()
	stored, unsub := listenBus.Subscribe(1 << 16)
	defer unsub()
	sink := receiver.New(receiver.Options{Store: listenStore, Verifier: verifier, Bus: listenBus})
	filter, _ := store.ParseFilter("bundle:com.example.a")

	b.ResetTimer()
	start := time.Now()
	cpuStart, cpuOK := processCPU()
	go func() {
		_ = (&Consumer{JS: js, Name: "bench", Filters: []store.Filter{filter}, MaxBody: receiver.DefaultMaxBody, Sink: sink}).Run(ctx)
	}()
	deadline := time.After(2 * time.Minute)
	for n := 0; n < b.N; {
		select {
		case e := <-stored:
			if e.Kind == events.Notification {
				n++
			}
		case <-deadline:
			b.Fatalf("%d of %d stored by the listener", n, b.N)
		}
	}
	cpuEnd, _ := processCPU()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "stored/s")
	if cpuOK {
		b.ReportMetric(float64((cpuEnd-cpuStart).Microseconds())/1000/float64(b.N), "cpu-ms/msg")
	}
}

// benchServer starts an embedded server for a benchmark (closed when it ends) and gives the local
// test chain that signs its notifications, with a verifier that trusts it.
func benchServer(b *testing.B) (*Server, *fixtures.Chain, *decode.Verifier) {
	b.Helper()
	srv, err := StartServer(ServerOptions{Listen: "127.0.0.1:0", StoreDir: b.TempDir(), Token: "t", MaxMsg: MaxMsg(receiver.DefaultMaxBody)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	chain, err := fixtures.LoadOrCreateChain(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	return srv, chain, decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{chain.Root()}})
}
