package hub

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ServerOptions configure the embedded NATS server of s2s hub.
type ServerOptions struct {
	Listen   string // HOST:PORT; port 0 (or -1) lets the OS choose
	StoreDir string // JetStream file storage
	// Clients authenticate with Token, or, when NKeys is set, with one of these public user NKeys
	// (the hub's own: every right) or of ListenerNKeys (teammates: they consume, their own
	// consumer only when the key names one; see listenerPermissions).
	Token         string
	NKeys         []string
	ListenerNKeys []ListenerKey
	// TLS, when set, is the certificate the server presents (LoadServerCertificate): clients
	// then connect with TLS only.
	TLS    *tls.Certificate
	MaxMsg int32 // largest message payload; 0: the server's default
}

// Server is an embedded NATS server with JetStream.
type Server struct {
	ns    *server.Server
	token string // "" with NKeys
	host  string // the host of the URL teammates use
	tls   bool
}

// StartServer starts the embedded server and waits until it accepts connections.
func StartServer(o ServerOptions) (*Server, error) {
	if (o.Token == "") == (len(o.NKeys) == 0) {
		return nil, errors.New("the embedded NATS server needs a token or NKeys, not both")
	}
	if len(o.ListenerNKeys) > 0 && len(o.NKeys) == 0 {
		return nil, errors.New("listeners' NKeys go with the hub's own")
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
	for _, k := range o.NKeys {
		opts.Nkeys = append(opts.Nkeys, &server.NkeyUser{Nkey: k})
	}
	for _, k := range o.ListenerNKeys {
		if !slices.Contains(o.NKeys, k.NKey) {
			opts.Nkeys = append(opts.Nkeys, &server.NkeyUser{Nkey: k.NKey, Permissions: listenerPermissions(DefaultStream, k)})
		}
	}
	var leaf *x509.Certificate
	if o.TLS != nil {
		opts.TLSConfig = serverTLSConfig(*o.TLS)
		opts.TLSTimeout = 2
		leaf = o.TLS.Leaf
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
	return &Server{ns: ns, token: o.Token, host: urlHost(host, leaf), tls: opts.TLSConfig != nil}, nil
}

// listenerPermissions are what a teammate's key may do: what s2s listen --hub and s2s hub status
// need (read the stream's state, create and read durable consumers, pull and acknowledge
// messages, receive answers on its own inbox), and nothing more: it cannot publish captures into
// the stream, delete or purge it, or delete consumers. It can read every capture: that is the
// point. A key bound to a consumer (k.Consumer) creates, updates, reads, pulls from and
// acknowledges for that one only (JetStream takes the consumer's name from the subject, so a
// request for another name in the body is refused); an unbound key may use any consumer, as a
// shared token can. Either receives answers on InboxPrefix(k.NKey) only, never on _INBOX.>,
// where other clients' answers go.
func listenerPermissions(stream string, k ListenerKey) *server.Permissions {
	api := "$JS.API."
	allow := []string{api + "INFO", api + "STREAM.INFO." + stream, api + "CONSUMER.LIST." + stream, api + "CONSUMER.NAMES." + stream}
	if c := k.Consumer; c != "" {
		allow = append(allow,
			// The create subject carries a filter subject after the name when the request has one.
			api+"CONSUMER.CREATE."+stream+"."+c,
			api+"CONSUMER.CREATE."+stream+"."+c+".>",
			api+"CONSUMER.DURABLE.CREATE."+stream+"."+c,
			api+"CONSUMER.INFO."+stream+"."+c,
			api+"CONSUMER.MSG.NEXT."+stream+"."+c,
			// $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>
			"$JS.ACK."+stream+"."+c+".>",
		)
	} else {
		allow = append(allow,
			api+"CONSUMER.CREATE."+stream,
			api+"CONSUMER.CREATE."+stream+".>",
			api+"CONSUMER.DURABLE.CREATE."+stream+".>",
			api+"CONSUMER.INFO."+stream+".>",
			api+"CONSUMER.MSG.NEXT."+stream+".>",
			"$JS.ACK."+stream+".>",
		)
	}
	return &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: allow},
		Subscribe: &server.SubjectPermission{Allow: []string{InboxPrefix(k.NKey) + ".>"}},
	}
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ns.Addr().String() }

// URL is what teammates pass to --hub: tls:// with TLS, the token when there is one (an NKey
// travels apart, as a seed file), and the host the certificate names when it does not cover the
// listen address.
func (s *Server) URL() string {
	scheme := "nats"
	if s.tls {
		scheme = "tls"
	}
	u := url.URL{Scheme: scheme, Host: s.Addr()}
	if s.host != "" {
		_, port, _ := net.SplitHostPort(s.Addr())
		u.Host = net.JoinHostPort(s.host, port)
	}
	if s.token != "" {
		u.User = url.User(s.token)
	}
	return u.String()
}

// Connect is the hub's own connection to its embedded server: in process (no network, so no TLS
// and no host name to resolve), presenting the token or, with NKeys, auth.
func (s *Server) Connect(ctx context.Context, name string, auth ...nats.Option) (*nats.Conn, jetstream.JetStream, error) {
	u := url.URL{Scheme: "nats", Host: s.Addr()}
	if s.token != "" {
		u.User = url.User(s.token)
	}
	return Connect(ctx, u.String(), name, append(auth, nats.InProcessServer(s.ns))...)
}

// Close shuts the server down and waits for it.
func (s *Server) Close() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}
