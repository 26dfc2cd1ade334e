package relay

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/store"
)

// BenchmarkForward measures a forward end to end: the pending row, the HTTP POST of a real 18 KB
// notification to a loopback server, and the recorded outcome. Attempts run 8 at a time, as in
// s2s listen, so ns/op is the cost per delivery at full pace.
func BenchmarkForward(b *testing.B) {
	raw, err := os.ReadFile("../testdata/vectors/real/05-notification-2025-10-01-DID_RENEW-sandbox.jws")
	if err != nil {
		b.Fatal(err)
	}
	body := append(append([]byte(`{"signedPayload":"`), raw[:len(raw)-1]...), `"}`...)
	for _, kind := range []string{"mem", "sqlite"} {
		b.Run(kind, func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
			}))
			defer srv.Close()
			var st testStore = newMemStore()
			if kind == "sqlite" {
				s, err := store.Open(filepath.Join(b.TempDir(), "captures.db"))
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				st = s
			}
			c := &store.Capture{Method: "POST", Body: body, BodySize: len(body), Trust: "verified", ReceivedAt: time.Now(),
				Headers: http.Header{"Content-Type": {"application/json"}}}
			if err := st.Insert(context.Background(), c); err != nil {
				b.Fatal(err)
			}
			bus := events.NewBus()
			events, cancel := bus.Subscribe(b.N + 16)
			defer cancel()
			f, err := New(context.Background(), Config{Targets: []Target{{URL: srv.URL}}, Store: st, Bus: bus, PollInterval: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			for range b.N {
				f.Enqueue(c)
			}
			for range b.N {
				if e := <-events; e.Delivery.State != store.DeliverySucceeded {
					b.Fatalf("delivery %+v", e.Delivery)
				}
			}
		})
	}
}

// BenchmarkParseTarget is the cost of reading one --forward-to with rules.
func BenchmarkParseTarget(b *testing.B) {
	for range b.N {
		if _, err := ParseTarget("type=REFUND,DID_RENEW;env=Production=>localhost:3000/apple?x=1"); err != nil {
			b.Fatal(err)
		}
	}
}
