package hub

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ServerOptions configure the embedded NATS server of s2s hub.
type ServerOptions struct {
	Listen   string // HOST:PORT; port 0 (or -1) lets the OS choose
	StoreDir string // JetStream file storage
	Token    string // clients must present it; never empty
	CertFile string // TLS, both or neither
	KeyFile  string
	MaxMsg   int32 // largest message payload; 0: the server's default
}

// Server is an embedded NATS server with JetStream.
type Server struct {
	ns    *server.Server
	token string
	tls   bool
}

// StartServer starts the embedded server and waits until it accepts connections.
func StartServer(o ServerOptions) (*Server, error) {
	if o.Token == "" {
		return nil, errors.New("the embedded NATS server needs a token")
	}
	host, portText, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("--nats-listen %q: use HOST:PORT: %w", o.Listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < -1 || port > 65535 {
		return nil, fmt.Errorf("--nats-listen %q: the port must be a number from 0 to 65535", o.Listen)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName:    "s2s-hub",
		Host:          host,
		Port:          port,
		JetStream:     true,
		StoreDir:      o.StoreDir,
		Authorization: o.Token,
		NoSigs:        true, // s2s handles signals
		NoLog:         true,
		// JetStream acknowledges a message once it is on disk: the hub then forgets it, and a
		// crash of the hub's process (which is the server's) must not lose it.
		SyncAlways: true,
		HTTPPort:   0,
	}
	if o.MaxMsg > 0 {
		opts.MaxPayload = o.MaxMsg
	}
	if o.CertFile != "" || o.KeyFile != "" {
		if o.CertFile == "" || o.KeyFile == "" {
			return nil, errors.New("--nats-cert and --nats-key go together")
		}
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: o.CertFile, KeyFile: o.KeyFile})
		if err != nil {
			return nil, fmt.Errorf("NATS TLS: %w", err)
		}
		opts.TLSConfig = tc
		opts.TLSTimeout = 2
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded NATS server: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded NATS server did not start on %s (is the port in use? choose another with --nats-listen)", o.Listen)
	}
	return &Server{ns: ns, token: o.Token, tls: opts.TLSConfig != nil}, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ns.Addr().String() }

// URL is what teammates pass to --hub: the address with the token.
func (s *Server) URL() string {
	scheme := "nats"
	if s.tls {
		scheme = "tls"
	}
	u := url.URL{Scheme: scheme, User: url.User(s.token), Host: s.Addr()}
	return u.String()
}

// Close shuts the server down and waits for it.
func (s *Server) Close() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}
