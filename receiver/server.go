package receiver

import (
	"log"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// MaxHeaderBytes bounds one request's headers. Apple's are a few hundred bytes (Host,
// Content-Type, Content-Length, User-Agent) and a tunnel adds a few forwarding headers; 16 KiB
// leaves ample room for any proxy's. Go's server allows 4 KiB of slack on top; more gets 431.
const MaxHeaderBytes = 16 << 10

// MaxConns bounds the connections served at once. Each may hold up to MaxHeaderBytes (+4 KiB)
// while its headers arrive, and its buffers, so 256 connections cost at most about 7 MiB besides
// the bodies' budget (DefaultBodyBudget): a flood of connections can delay requests (the rest wait
// in the kernel's accept queue until one closes), never exhaust memory. Apple sends one
// notification at a time per app, so 256 is far more than it needs.
const MaxConns = 256

// Limit returns ln accepting at most n connections at once (MaxConns for the receiver); a
// connection counts until it is closed.
func Limit(ln net.Listener, n int) net.Listener { return netutil.LimitListener(ln, n) }

// NewServer is the HTTP server in front of a receiver handler, with the bounds that keep slow
// or numerous clients from holding it: serve it on a listener from Limit.
func NewServer(h http.Handler, errLog *log.Logger) *http.Server {
	return &http.Server{
		Handler: h,
		// A slow or stalled client must not hold a connection: Apple itself sends small bodies fast.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       20 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          errLog,
	}
}
