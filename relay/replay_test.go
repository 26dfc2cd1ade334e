package relay

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/store"
)

// TestReplayTakesOverPendingRetry: following the "target down" hint (the server is back, then r
// in the TUI or s2s replay in another process) delivers the notification once: the replay takes
// the pending retry over in the store, and the forwarder, when the retry falls due, does not make
// it. A replay that fails puts the retry back on its schedule.
func TestReplayTakesOverPendingRetry(t *testing.T) {
	for _, kind := range storeKinds() {
		for _, via := range []string{"tui", "other-process"} {
			t.Run(kind.name+"/"+via, func(t *testing.T) {
				st, _ := kind.open(t)
				srv := newRecorder(t, http.StatusServiceUnavailable)
				clk := newClock()
				bus := events.NewBus()
				wait := deliveries(t, bus)
				f := newForwarder(t, Config{
					Targets: []Target{mustTarget(t, srv.URL)}, Store: st, Bus: bus, Now: clk.Now,
					Backoff: []time.Duration{time.Minute, time.Minute},
				})
				c := insert(t, st, &store.Capture{Body: []byte(`{"signedPayload":"once"}`)})
				f.Enqueue(c)
				srv.next(t)
				if d := wait(func(store.Delivery) bool { return true }); d.State != store.DeliveryPending {
					t.Fatalf("first attempt %+v, want pending", d)
				}
				replay := func() error {
					if via == "tui" {
						return f.Replay(context.Background(), c)
					}
					// s2s replay: its own store handle and sender, no forwarder.
					r := &Replayer{Store: st, Poster: &Poster{}, SkipAccepted: true}
					out, err := r.Replay(context.Background(), c, c.Body, srv.URL, Meta{})
					if err == nil && out.Delivery.State != store.DeliverySucceeded {
						return &replayErr{out.Delivery.Error}
					}
					return err
				}

				// Replayed while the server still fails: the retry is put back.
				if err := replay(); err == nil || !strings.Contains(err.Error(), "the pending forward retry stays scheduled") {
					t.Fatalf("replay to a failing server: %v", err)
				}
				srv.next(t)
				rows, _ := st.Deliveries(context.Background(), c.ID)
				if rows[0].State != store.DeliveryPending {
					t.Fatalf("after a failed replay the retry is %+v, want pending again", rows[0])
				}

				// The server is back: the replay delivers, and takes the retry over.
				srv.status.Store(http.StatusOK)
				if err := replay(); err != nil {
					t.Fatalf("replay: %v", err)
				}
				srv.next(t)

				// The retry falls due; the forwarder looks and finds it taken.
				clk.Advance(10 * time.Minute)
				f.retryDue()
				f.Close()
				if n := len(srv.hits); n != 0 {
					t.Fatalf("the target received %d more requests: the notification was delivered twice", n)
				}
				rows, _ = st.Deliveries(context.Background(), c.ID)
				var pending, succeeded int
				for _, r := range rows {
					switch r.State {
					case store.DeliveryPending:
						pending++
					case store.DeliverySucceeded:
						succeeded++
						if !r.Replay {
							t.Errorf("the delivery that succeeded is not the replay: %+v", r)
						}
					}
				}
				if pending != 0 || succeeded != 1 || !strings.Contains(rows[0].Error, store.TakeOverNote) {
					t.Errorf("rows %+v: want no pending retry, one successful replay, and the retry marked taken over", rows)
				}
			})
		}
	}
}

type replayErr struct{ s string }

func (e *replayErr) Error() string { return e.s }

// TestReplaySkipsTargetsThatAccepted: r replays only to the targets that have not accepted the
// capture; when all have, to all of them again (the developer asked).
func TestReplaySkipsTargetsThatAccepted(t *testing.T) {
	st := newMemStore()
	ok := newRecorder(t, http.StatusOK)
	failing := newRecorder(t, http.StatusInternalServerError)
	bus := events.NewBus()
	wait := deliveries(t, bus)
	f := newForwarder(t, Config{Store: st, Bus: bus, Targets: []Target{mustTarget(t, ok.URL), mustTarget(t, failing.URL)}, Backoff: []time.Duration{}})
	c := insert(t, st, &store.Capture{Body: []byte(`{}`), Trust: "verified"})
	f.Enqueue(c)
	ok.next(t)
	failing.next(t)
	for range 2 { // both outcomes recorded
		wait(func(d store.Delivery) bool { return d.State != store.DeliveryPending })
	}

	failing.status.Store(http.StatusOK)
	if err := f.Replay(context.Background(), c); err != nil {
		t.Fatal(err)
	}

	failing.next(t)
	if n := len(ok.hits); n != 0 {
		t.Fatalf("the target that had accepted got the replay too (%d requests)", n)
	}
	if err := f.Replay(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	ok.next(t)
	failing.next(t)
}
