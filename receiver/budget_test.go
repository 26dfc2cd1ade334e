package receiver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// cutCounter is a read's cut function that counts its calls.
type cutCounter struct {
	mu sync.Mutex
	n  int
}

func (c *cutCounter) cut() error { c.mu.Lock(); c.n++; c.mu.Unlock(); return nil }
func (c *cutCounter) calls() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// TestBodyBudgetShedsTheGreediestClient: when the budget is used up, the client holding the most
// gives way, its largest read first; a client never takes the budget from one holding no more
// than itself; what is done goes back.
func TestBodyBudgetShedsTheGreediestClient(t *testing.T) {
	b := newBodyBudget(4)
	var aCut, bCut cutCounter
	a1 := b.begin("192.0.2.1", aCut.cut)
	if err := a1.reserve(3); err != nil {
		t.Fatal(err)
	}
	b1 := b.begin("17.58.0.1", bCut.cut)
	if err := b1.reserve(1); err != nil {
		t.Fatal(err)
	}
	// Full. The smaller client needs one more: the greedier client's read is cut off.
	if err := b1.reserve(1); err != nil {
		t.Fatalf("the client holding less was refused: %v", err)
	}
	if aCut.calls() != 1 || !a1.wasShed() || bCut.calls() != 0 {
		t.Fatalf("cuts: greedy %d (shed %v), small %d; want the greedy read cut", aCut.calls(), a1.wasShed(), bCut.calls())
	}
	if err := a1.reserve(1); !errors.Is(err, errShed) {
		t.Errorf("a shed read reserved again: %v", err)
	}
	a1.done()
	// The greedy client comes back and grows to the same share as the other: then it is the one
	// to give way, never the other.
	a2 := b.begin("192.0.2.1", aCut.cut)
	if err := a2.reserve(2); err != nil {
		t.Fatal(err)
	}
	if err := a2.reserve(1); !errors.Is(err, errBudget) {
		t.Errorf("a client took the budget from one holding as much as itself: %v", err)
	}
	if bCut.calls() != 0 {
		t.Error("the smaller client's read was cut")
	}
	// One client (every request from the same address, as behind a proxy or in a test): a new
	// small request sheds the largest read of that client.
	b1.done()
	a3 := b.begin("192.0.2.1", aCut.cut)
	a5 := b.begin("192.0.2.1", aCut.cut)
	if err := errors.Join(a3.reserve(1), a5.reserve(1)); err != nil {
		t.Fatal(err)
	}
	if err := a3.reserve(1); err != nil {
		t.Fatalf("a new request of the same client was refused while a larger one held the budget: %v", err)
	}
	if !a2.wasShed() || a3.wasShed() || a5.wasShed() {
		t.Errorf("shed: larger %v, smaller %v and %v; want only the larger read shed", a2.wasShed(), a3.wasShed(), a5.wasShed())
	}
	// A read that has its whole body is being stored: it is not cut, a read still reading is.
	a3.finished()
	a4 := b.begin("192.0.2.1", aCut.cut)
	if err := a4.reserve(2); err != nil {
		t.Fatal(err)
	}
	if a3.wasShed() || !a5.wasShed() {
		t.Errorf("shed: complete %v, reading %v; want the one still reading shed", a3.wasShed(), a5.wasShed())
	}
	a5.done()
	a2.done()
	a3.done()
	a4.done()
	if n := b.inUse(); n != 0 {
		t.Errorf("%d bytes still held after every read is done", n)
	}
}

// TestStalledUploadsGiveWayToANotification: many connections send most of a body and stall,
// holding more than the budget; they are cut off (503 where they can still read it), the memory
// held never exceeds the budget, and a notification sent meanwhile is stored and answered 200.
func TestStalledUploadsGiveWayToANotification(t *testing.T) {
	st := &memStore{}
	const maxBody = 64 << 10
	var logged syncBuffer
	h, _ := newTestHandler(t, st, func(o *Options) {
		o.MaxBody = maxBody
		o.BodyBudget = 1 // the least: four bodies
		o.Log = slog.New(slog.NewTextHandler(&logged, nil))
	})
	limit := h.o.BodyBudget
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")

	const stalled = 24 // 24 × 63 KiB is four times the budget
	var wg sync.WaitGroup
	conns := make([]net.Conn, stalled)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns[i] = c
		wg.Go(func() {
			_ = c.SetWriteDeadline(time.Now().Add(20 * time.Second))
			fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", maxBody)
			_, _ = c.Write(bytes.Repeat([]byte("x"), maxBody-1024))
		})
	}
	wg.Wait()
	if n := h.budget.inUse(); n > limit {
		t.Errorf("%d bytes held, over the budget of %d", n, limit)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(`{"signedPayload":"genuine"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the notification during stalled uploads got %d", resp.StatusCode)
	}
	if n := h.budget.inUse(); n > limit {
		t.Errorf("%d bytes held, over the budget of %d", n, limit)
	}
	// The cut-off uploads were told why, where they could still read it.
	answered := 0
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "too many request bodies") {
			t.Errorf("a cut-off upload got %d %q", resp.StatusCode, b)
		}
		answered++
	}
	// Some may have been reset before they read their answer; the log says it happened.
	t.Logf("%d of %d stalled uploads read their 503", answered, stalled)
	if !strings.Contains(logged.String(), "too many bodies in flight; answered 503") {
		t.Errorf("no refusal logged: %s", logged.String())
	}
	if got := st.all(); len(got) != 1 || string(got[0].Body) != `{"signedPayload":"genuine"}` {
		t.Errorf("stored %d captures, want only the notification", len(got))
	}
}

// TestBodyShapesWithinTheBudget: a declared size over the limit is refused before reading, a
// chunked body without a declared size is read whole or refused at the limit, and what the
// reads held goes back.
func TestBodyShapesWithinTheBudget(t *testing.T) {
	st := &memStore{}
	const maxBody = 100 << 10
	h, _ := newTestHandler(t, st, func(o *Options) { o.MaxBody = maxBody })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	post := func(body io.Reader, size int64) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL, body)
		req.ContentLength = size
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	big := bytes.Repeat([]byte("0123456789"), 9<<10) // 90 KiB: three chunks and a bit
	if code := post(io.MultiReader(bytes.NewReader(big)), -1); code != 200 {
		t.Errorf("a chunked body under the limit: %d", code)
	}
	if code := post(io.MultiReader(bytes.NewReader(big), bytes.NewReader(big)), -1); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a chunked body over the limit: %d", code)
	}
	// Declared at 1 GB and never sent: refused at once.
	pr, pw := io.Pipe()
	defer pw.Close()
	if code := post(pr, 1<<30); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a declared 1 GB body: %d", code)
	}
	under := bytes.Repeat([]byte("u"), maxBody-1)
	if code := post(bytes.NewReader(under), -1); code != 200 {
		t.Errorf("a body one byte under the limit: %d", code)
	}
	got := st.all()
	if len(got) != 2 || !bytes.Equal(got[0].Body, big) || !bytes.Equal(got[1].Body, under) {
		t.Errorf("stored %d captures, or not byte for byte", len(got))
	}
	if n := h.budget.inUse(); n != 0 {
		t.Errorf("%d bytes still held", n)
	}
}
