package receiver

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingListener records the connections accepted and how many were open at most at once.
type countingListener struct {
	net.Listener
	accepted chan struct{}

	mu            sync.Mutex
	open, maxOpen int
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.open++
	l.maxOpen = max(l.maxOpen, l.open)
	l.mu.Unlock()
	l.accepted <- struct{}{}
	return &countedConn{Conn: c, l: l}, nil
}

type countedConn struct {
	net.Conn
	l    *countingListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		c.l.open--
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

func serveTest(t *testing.T, ln net.Listener) {
	t.Helper()
	srv := NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}), nil)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// TestConnectionsAreCapped: a listener from Limit serves at most its cap of connections at once;
// one more waits, unaccepted, until one of them closes, and is then served.
func TestConnectionsAreCapped(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: inner, accepted: make(chan struct{}, 16)}
	const limit = 2
	serveTest(t, Limit(cl, limit))
	addr := inner.Addr().String()
	waitAccepted := func() {
		t.Helper()
		select {
		case <-cl.accepted:
		case <-time.After(10 * time.Second):
			t.Fatal("a connection was not accepted")
		}
	}
	// Two idle connections, sending nothing, take the two places.
	a := dial(t, addr)
	dial(t, addr)
	waitAccepted()
	waitAccepted()
	c := dial(t, addr)
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: s2s\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	a.Close() // frees a place: the third is accepted and answered
	waitAccepted()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the third connection got %d", resp.StatusCode)
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.maxOpen > limit {
		t.Errorf("%d connections were served at once, want at most %d", cl.maxOpen, limit)
	}
}

// TestOversizedHeadersGet431: headers past MaxHeaderBytes (and Go's 4 KiB of slack) are refused
// with 431 before any handler runs; Apple-sized ones, and a generous 8 KiB, are served.
func TestOversizedHeadersGet431(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveTest(t, Limit(ln, MaxConns))
	for _, tc := range []struct {
		size int
		want int
	}{
		{8 << 10, http.StatusOK},
		{MaxHeaderBytes + 8<<10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		c := dial(t, ln.Addr().String())
		req := "POST / HTTP/1.1\r\nHost: s2s\r\nContent-Length: 0\r\nX-Pad: " + strings.Repeat("a", tc.size) + "\r\n\r\n"
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%d bytes of headers: %d, want %d", tc.size, resp.StatusCode, tc.want)
		}
	}
}
