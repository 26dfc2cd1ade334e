package receiver

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"time"
)

// DefaultBodyBudget bounds the memory held by request bodies in flight, all requests together:
// room for 2,000 real notifications (5–19 KB) at once, and a small part of what a machine has.
const DefaultBodyBudget = 32 << 20

// bodyChunk is the unit in which a body's memory is reserved and allocated: a body whose size is
// not declared, or is declared larger, grows by this much at a time, so a client that declares a
// megabyte and sends nothing holds one chunk, not a megabyte.
const bodyChunk = 32 << 10

// errBudget is a read refused because the budget is full and the reader itself holds the most of
// the client holding the most: it is the one to give way.
var errBudget = errors.New("the memory for request bodies in flight is used up")

// errShed is a read cut off to make room for another client's: its client held the most.
var errShed = errors.New("cut off to make room for other clients' requests")

// bodyBudget is a byte budget for request bodies being read and handled. When a read needs more
// than is left, the budget is taken back from the greediest: the client (source address) holding
// the most, and of its requests the one holding the most (the oldest of equals), whose read is cut
// off. A new, small request (Apple's single notification of a few kilobytes) therefore always
// gets its bytes, however many stalled uploads hold the rest: they are shed in its favour, and a
// client can never take the budget from one holding less than itself.
type bodyBudget struct {
	limit int64

	mu      sync.Mutex
	used    int64
	clients map[string]*clientBodies
}

type clientBodies struct {
	used  int64
	reads map[*bodyRead]struct{}
}

// bodyRead is one request's share of the budget.
type bodyRead struct {
	b       *bodyBudget
	client  string
	started time.Time
	// cut stops the read in progress (it sets the connection's read deadline to now); nil when the
	// connection offers no way to, and then the read is never chosen to give way.
	cut func() error
	// active is true while the body is being read; a body read in full is being stored, which
	// takes a moment, and is not cut off.
	active bool
	held   int64
	shed   bool
}

func newBodyBudget(limit int64) *bodyBudget {
	return &bodyBudget{limit: limit, clients: map[string]*clientBodies{}}
}

// begin registers a read by client; release it with done.
func (b *bodyBudget) begin(client string, cut func() error) *bodyRead {
	return &bodyRead{b: b, client: client, started: time.Now(), cut: cut, active: true}
}

// reserve takes n more bytes for r, shedding greedier reads if needed. It fails with errShed once
// r has been shed, and with errBudget when r is itself the read to give way.
func (r *bodyRead) reserve(n int64) error {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.shed {
		return errShed
	}
	for b.used+n > b.limit {
		v := b.victim(r)
		if v == nil || v == r {
			return errBudget
		}
		b.drop(v)
		v.shed = true
		_ = v.cut() // its reader wakes up with a timeout and answers 503
	}
	c := b.clients[r.client]
	if c == nil {
		c = &clientBodies{reads: map[*bodyRead]struct{}{}}
		b.clients[r.client] = c
	}
	c.used += n
	c.reads[r] = struct{}{}
	r.held += n
	b.used += n
	return nil
}

// victim picks the read to give way: the largest (then oldest) read of the client holding the
// most, among reads that can be cut and hold something. r itself competes with what it holds and
// gives way to none smaller: among equals it is r that fails.
func (b *bodyBudget) victim(r *bodyRead) *bodyRead {
	var top *clientBodies
	for name, c := range b.clients {
		if !cuttable(c, r) {
			continue
		}
		if top == nil || c.used > top.used || c.used == top.used && name == r.client {
			top = c
		}
	}
	if top == nil {
		return nil
	}
	var v *bodyRead
	for x := range top.reads {
		if x != r && !x.cuttable() {
			continue
		}
		if v == nil || x.held > v.held || x.held == v.held && (x == r || v != r && x.started.Before(v.started)) {
			v = x
		}
	}
	return v
}

func (x *bodyRead) cuttable() bool { return x.cut != nil && x.active && x.held > 0 }

// cuttable reports whether c has a read that can give way (r counts: it can give way by failing).
func cuttable(c *clientBodies, r *bodyRead) bool {
	for x := range c.reads {
		if x == r || x.cuttable() {
			return true
		}
	}
	return false
}

// drop returns everything r holds to the budget and forgets r.
func (b *bodyBudget) drop(r *bodyRead) {
	if c := b.clients[r.client]; c != nil {
		c.used -= r.held
		delete(c.reads, r)
		if len(c.reads) == 0 {
			delete(b.clients, r.client)
		}
	}
	b.used -= r.held
	r.held = 0
}

// done returns what r holds; call it once the body is no longer needed.
func (r *bodyRead) done() {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	r.b.drop(r)
}

// wasShed reports whether r was cut off to make room for others.
func (r *bodyRead) wasShed() bool {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	return r.shed
}

// finished marks r's body as read in full: it is no longer cut off for others.
func (r *bodyRead) finished() {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	r.active = false
}

// holding is what r holds.
func (r *bodyRead) holding() int64 {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	return r.held
}

// give returns n of the bytes r holds.
func (r *bodyRead) give(n int64) {
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	n = min(n, r.held)
	if c := b.clients[r.client]; c != nil {
		c.used -= n
	}
	r.held -= n
	b.used -= n
}

// inUse is the number of bytes held, for tests.
func (b *bodyBudget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// readCutter returns a function that makes the request's body read in progress fail at once, or
// nil when w's connection cannot set a read deadline.
func readCutter(w http.ResponseWriter) func() error {
	for {
		if d, ok := w.(interface{ SetReadDeadline(time.Time) error }); ok {
			return func() error { return d.SetReadDeadline(time.Now()) }
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
}

// readBody reads r's body within MaxBody and the body budget. The body's bytes stay reserved
// until the returned read is done; read is nil when nothing was reserved.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) (body []byte, read *bodyRead, err error) {
	if r.ContentLength > h.o.MaxBody {
		// Declared too large: refused before a byte is read or reserved.
		return nil, nil, &http.MaxBytesError{Limit: h.o.MaxBody}
	}
	read = h.budget.begin(h.sourceIP(r), readCutter(w))
	src := http.MaxBytesReader(w, r.Body, h.o.MaxBody)
	// A declared small body is read into one buffer of its size (+1 to see the end); any other
	// grows a chunk at a time, as its bytes arrive.
	next := int64(bodyChunk)
	if r.ContentLength >= 0 && r.ContentLength < bodyChunk {
		next = r.ContentLength + 1
	}
	var chunks [][]byte
	var cur []byte
	total := 0
	for {
		if len(cur) == cap(cur) {
			if cur != nil {
				chunks = append(chunks, cur)
			}
			if err := read.reserve(next); err != nil {
				return nil, read, err
			}
			cur = make([]byte, 0, next)
			next = bodyChunk
		}
		n, err := src.Read(cur[len(cur):cap(cur)])
		cur = cur[:len(cur)+n]
		total += n
		if err == io.EOF {
			break
		}
		if err != nil {
			if read.wasShed() {
				err = errShed
			}
			return nil, read, err
		}
	}
	read.finished()
	if len(chunks) == 0 {
		return cur, read, nil
	}
	chunks = append(chunks, cur)
	// One contiguous copy for the store, reserved before it is made; the chunks go back after.
	held := read.holding()
	if err := read.reserve(int64(total)); err != nil {
		return nil, read, err
	}
	body = make([]byte, 0, total)
	for _, c := range chunks {
		body = append(body, c...)
	}
	read.give(held)
	return body, read, nil
}
