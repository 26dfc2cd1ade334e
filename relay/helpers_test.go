package relay

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/events"
	"github.com/s2s-dev/s2s/store"
)

// memStore is an in-memory Store with the semantics forwarding relies on: DueDeliveries returns
// pending rows whose NextRetryAt has passed, oldest first.
type memStore struct {
	mu         sync.Mutex
	captures   map[int64]*store.Capture
	deliveries []store.Delivery
	nextID     int64
}

func newMemStore() *memStore { return &memStore{captures: map[int64]*store.Capture{}} }

func (m *memStore) Insert(_ context.Context, c *store.Capture) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextID++
	c.ID = m.nextID
	cp := *c
	m.captures[c.ID] = &cp
	return nil
}

func (m *memStore) Get(_ context.Context, id int64) (*store.Capture, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.captures[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	cp := *c
	return &cp, nil
}

func (m *memStore) AddDelivery(_ context.Context, d *store.Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d.ID = int64(len(m.deliveries) + 1)
	m.deliveries = append(m.deliveries, *d)
	return nil
}

func (m *memStore) UpdateDelivery(_ context.Context, d *store.Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d.ID < 1 || int(d.ID) > len(m.deliveries) {
		return store.ErrNotFound
	}
	m.deliveries[d.ID-1] = *d
	return nil
}

func (m *memStore) DueDeliveries(_ context.Context, now time.Time, limit int, except ...string) ([]store.Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []store.Delivery
	for _, d := range m.deliveries {
		if d.State == store.DeliveryPending && !d.NextRetryAt.After(now) && !slices.Contains(except, d.Target) {
			due = append(due, d)
		}
	}
	sort.Slice(due, func(i, j int) bool { return due[i].NextRetryAt.Before(due[j].NextRetryAt) })
	if len(due) > limit {
		due = due[:limit]
	}
	return due, nil
}

func (m *memStore) Deliveries(_ context.Context, captureID int64) ([]store.Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Delivery
	for _, d := range m.deliveries {
		if d.CaptureID == captureID {
			out = append(out, d)
		}
	}
	return out, nil
}

func (m *memStore) RetryDelivery(_ context.Context, prevID int64, next *store.Delivery) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if prevID < 1 || int(prevID) > len(m.deliveries) {
		return false, store.ErrNotFound
	}
	if m.deliveries[prevID-1].State != store.DeliveryPending {
		return false, nil
	}
	// The real store deletes a queued row (attempt 0); rows here are indexed by ID, so it is
	// marked instead, in a way no test mistakes for an attempt.
	m.deliveries[prevID-1].State = store.DeliveryFailed
	m.deliveries[prevID-1].NextRetryAt = time.Time{}
	next.ID = int64(len(m.deliveries) + 1)
	m.deliveries = append(m.deliveries, *next)
	return true, nil
}

func (m *memStore) TakeOverPending(_ context.Context, captureID int64, target string, now time.Time) (store.TakeOver, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out store.TakeOver
	var pending []int
	for i, d := range m.deliveries {
		if d.CaptureID != captureID || d.Target != target {
			continue
		}
		switch {
		case d.State == store.DeliverySucceeded:
			out.Accepted = &d
		case d.State == store.DeliveryPending && d.Error == "" && d.NextRetryAt.After(now):
			out.InFlight = &d
		case d.State == store.DeliveryPending:
			pending = append(pending, i)
		}
	}
	if out.InFlight != nil {
		return out, nil
	}
	for _, i := range pending {
		out.Taken = append(out.Taken, m.deliveries[i])
		m.deliveries[i].State = store.DeliveryFailed
		m.deliveries[i].NextRetryAt = time.Time{}
		m.deliveries[i].Error += "; " + store.TakeOverNote
	}
	return out, nil
}

func (m *memStore) RestorePending(_ context.Context, taken []store.Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range taken {
		if cur := &m.deliveries[d.ID-1]; cur.State == store.DeliveryFailed {
			cur.State, cur.NextRetryAt, cur.Error = store.DeliveryPending, d.NextRetryAt, d.Error
		}
	}
	return nil
}

func (m *memStore) Close() error { return nil }

// testStore is what the tests need of a store: forwarding's methods plus inserting and listing.
type testStore interface {
	Store
	Insert(ctx context.Context, c *store.Capture) error
	Deliveries(ctx context.Context, captureID int64) ([]store.Delivery, error)
	Close() error
}

// storeKind opens a store; reopen simulates a restart of s2s on the same data.
type storeKind struct {
	name string
	open func(t *testing.T) (s testStore, reopen func() testStore)
}

// storeKinds runs a test against the in-memory store and against the real SQLite store.
func storeKinds() []storeKind {
	return []storeKind{
		{"mem", func(t *testing.T) (testStore, func() testStore) {
			m := newMemStore()
			return m, func() testStore { return m }
		}},
		{"sqlite", func(t *testing.T) (testStore, func() testStore) {
			path := filepath.Join(t.TempDir(), "captures.db")
			open := func() testStore {
				s, err := store.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			}
			s := open()
			probe := &store.Capture{Method: "POST", Path: "/", Body: []byte("{}"), BodySize: 2, ReceivedAt: time.Now(), Headers: http.Header{}}
			if err := s.Insert(context.Background(), probe); err != nil {
				t.Skipf("the SQLite store is not usable yet: %v", err)
			}
			return s, open
		}},
	}
}

// clock is a settable clock: retries become due when the test says so, never by waiting.
type clock struct{ t atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.t.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.t.Add(int64(d)) }

// hit is one request a test server received.
type hit struct {
	Header http.Header
	Body   []byte
}

// recorder is a loopback target that records requests and answers with status.
type recorder struct {
	*httptest.Server
	status atomic.Int32
	hits   chan hit
}

func newRecorder(t *testing.T, status int) *recorder {
	r := &recorder{hits: make(chan hit, 256)}
	r.status.Store(int32(status))
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.hits <- hit{Header: req.Header.Clone(), Body: body}
		w.WriteHeader(int(r.status.Load()))
		_, _ = io.WriteString(w, "answer from the developer's server")
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) next(t *testing.T) hit {
	t.Helper()
	select {
	case h := <-r.hits:
		return h
	case <-time.After(10 * time.Second):
		t.Fatal("the target received nothing within 10s")
		return hit{}
	}
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// serveOn starts a recorder on addr (a port that was closed a moment ago).
func serveOn(t *testing.T, addr string, status int) *recorder {
	t.Helper()
	var l net.Listener
	var err error
	deadline := time.Now().Add(5 * time.Second)
	for {
		if l, err = net.Listen("tcp", addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond) // the port may linger briefly after close
	}
	if err != nil {
		t.Fatalf("cannot listen on %s again: %v", addr, err)
	}
	r := &recorder{hits: make(chan hit, 256)}
	r.status.Store(int32(status))
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.hits <- hit{Header: req.Header.Clone(), Body: body}
		w.WriteHeader(int(r.status.Load()))
	}))
	r.Listener.Close()
	r.Listener = l
	r.Start()
	t.Cleanup(r.Close)
	return r
}

// deliveries subscribes to bus and returns a function that waits for the first delivery event
// accepted by match.
func deliveries(t *testing.T, bus *events.Bus) func(match func(store.Delivery) bool) store.Delivery {
	ch, cancel := bus.Subscribe(1024)
	t.Cleanup(cancel)
	return func(match func(store.Delivery) bool) store.Delivery {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case e := <-ch:
				if e.Kind == events.Delivery && match(*e.Delivery) {
					return *e.Delivery
				}
			case <-timeout:
				t.Fatal("no matching delivery event within 10s")
				return store.Delivery{}
			}
		}
	}
}

func insert(t *testing.T, s testStore, c *store.Capture) *store.Capture {
	t.Helper()
	if c.Headers == nil {
		c.Headers = http.Header{"Content-Type": {"application/json"}}
	}
	if c.Method == "" {
		c.Method = http.MethodPost
	}
	if c.ReceivedAt.IsZero() {
		c.ReceivedAt = time.Now()
	}
	if c.Trust == "" {
		c.Trust = "verified"
	}
	c.BodySize = len(c.Body)
	if err := s.Insert(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

func mustTarget(t *testing.T, spec string) Target {
	t.Helper()
	tg, err := ParseTarget(spec)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func newForwarder(t *testing.T, cfg Config) *Forwarder {
	t.Helper()
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 5 * time.Millisecond
	}
	f, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
