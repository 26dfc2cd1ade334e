// Package tunneltest holds loopback doubles of the tunnel services: an SSH server that forwards
// its "public" port the way localhost.run does, and a fake cloudflared.
package tunneltest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"

	"golang.org/x/crypto/ssh"
)

// SSHServer is a loopback SSH tunnel service. Each tcpip-forward request opens a new public
// listener on 127.0.0.1; connections to it are relayed to the client as forwarded-tcpip channels,
// and the shell session prints the public URL like localhost.run does.
type SSHServer struct {
	opts    SSHOptions
	ln      net.Listener
	mu      sync.Mutex
	hostKey ssh.Signer
	conns   []*ssh.ServerConn
	forward int
	users   []string
	keys    []string
	sess    []ssh.Channel
	events  chan string
	closed  bool
	wg      sync.WaitGroup
}

// SSHOptions shape the server's behaviour; the zero value is a cooperative localhost.run.
type SSHOptions struct {
	// URL makes the URL printed for the n-th forward (from 1) whose public listener is at public.
	// The default prints https://tunnel-N.lhr.life.
	URL func(n int, public string) string
	// JSON prints localhost.run's --output json event shape instead of text.
	JSON bool
	// DenyForward refuses tcpip-forward requests.
	DenyForward bool
	// DenyAuth refuses every authentication method.
	DenyAuth bool
	// Silent never prints a URL (the client's deadline must end Start).
	Silent bool
	// StallKeepalives never answers keepalive requests, like a server behind a dead path.
	StallKeepalives bool
	// TLS, when set, terminates TLS on the public listeners and relays the plain bytes, as the
	// real services' HTTPS edges do; nil serves the public side in plain TCP.
	TLS *tls.Config
}

// NewSSHServer listens on 127.0.0.1 with a fresh ed25519 host key; stop it with Close.
func NewSSHServer(opts SSHOptions) (*SSHServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &SSHServer{opts: opts, ln: ln, events: make(chan string, 64)}
	if err := s.RotateHostKey(); err != nil {
		ln.Close()
		return nil, err
	}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Addr is the SSH listener's host:port.
func (s *SSHServer) Addr() string { return s.ln.Addr().String() }

// Forwards reports the public address of each forward as it is registered.
func (s *SSHServer) Forwards() <-chan string { return s.events }

// RotateHostKey replaces the host key for the connections that follow.
func (s *SSHServer) RotateHostKey() error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.hostKey = signer
	s.mu.Unlock()
	return nil
}

// Users lists the login names clients used, in order; Keys the public keys they offered.
func (s *SSHServer) Users() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.users...)
}

// Keys lists the authorized_keys form of every public key clients offered.
func (s *SSHServer) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.keys...)
}

// DropAll closes every client connection, as a service restart or a network cut would.
func (s *SSHServer) DropAll() {
	s.mu.Lock()
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// Announce prints line on every open session, as localhost.run does when it re-registers a name.
func (s *SSHServer) Announce(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.sess {
		_, _ = io.WriteString(ch, line+"\r\n") // the client may be gone
	}
}

// Close stops the server and drops its clients.
func (s *SSHServer) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	err := s.ln.Close()
	s.DropAll()
	s.wg.Wait()
	return err
}

func (s *SSHServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(c)
		}()
	}
}

func (s *SSHServer) config() *ssh.ServerConfig {
	s.mu.Lock()
	key := s.hostKey
	s.mu.Unlock()
	cfg := &ssh.ServerConfig{NoClientAuth: !s.opts.DenyAuth}
	cfg.PublicKeyCallback = func(meta ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		s.mu.Lock()
		s.keys = append(s.keys, string(ssh.MarshalAuthorizedKey(k)))
		s.mu.Unlock()
		if s.opts.DenyAuth {
			return nil, errors.New("denied")
		}
		return nil, nil
	}
	cfg.AddHostKey(key)
	return cfg
}

// conn is one client connection's forwards.
type conn struct {
	sc      *ssh.ServerConn
	mu      sync.Mutex
	url     string
	urlSet  chan struct{}
	gone    chan struct{}
	publics []net.Listener
}

func (s *SSHServer) handle(nc net.Conn) {
	sc, chans, reqs, err := ssh.NewServerConn(nc, s.config())
	if err != nil {
		nc.Close()
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		sc.Close()
		return
	}
	s.conns = append(s.conns, sc)
	s.users = append(s.users, sc.User())
	s.mu.Unlock()
	c := &conn{sc: sc, urlSet: make(chan struct{}), gone: make(chan struct{})}
	defer close(c.gone)
	defer func() {
		c.mu.Lock()
		for _, l := range c.publics {
			l.Close()
		}
		c.mu.Unlock()
	}()
	go s.globalRequests(c, reqs)
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "only sessions") // the client may be gone
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			continue
		}
		go s.session(c, ch, creqs)
	}
	_ = sc.Wait() // the client went away: how is not this double's concern
}

func (s *SSHServer) globalRequests(c *conn, reqs <-chan *ssh.Request) {
	for r := range reqs {
		switch r.Type {
		case "tcpip-forward":
			var bind struct {
				Addr string
				Port uint32
			}
			if s.opts.DenyForward || ssh.Unmarshal(r.Payload, &bind) != nil {
				_ = r.Reply(false, nil) // the client may be gone
				continue
			}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				_ = r.Reply(false, nil) // the client may be gone
				continue
			}
			if s.opts.TLS != nil {
				l = tls.NewListener(l, s.opts.TLS)
			}
			s.mu.Lock()
			s.forward++
			n := s.forward
			s.mu.Unlock()
			c.mu.Lock()
			c.publics = append(c.publics, l)
			first := c.url == ""
			c.url = s.urlFor(n, l.Addr().String())
			c.mu.Unlock()
			if first {
				close(c.urlSet)
			}
			_ = r.Reply(true, nil) // the client may be gone
			go s.relay(c, l, bind.Addr, bind.Port)
			select {
			case s.events <- l.Addr().String():
			default:
			}
		case "keepalive@openssh.com":
			if !s.opts.StallKeepalives {
				_ = r.Reply(true, nil) // the client may be gone
			}
		default:
			if r.WantReply {
				_ = r.Reply(false, nil) // the client may be gone
			}
		}
	}
}

func (s *SSHServer) urlFor(n int, public string) string {
	if s.opts.URL != nil {
		return s.opts.URL(n, public)
	}
	return "https://tunnel-" + strconv.Itoa(n) + ".lhr.life"
}

// relay sends each public connection to the client, echoing the bind address it asked for.
func (s *SSHServer) relay(c *conn, l net.Listener, bindAddr string, bindPort uint32) {
	for {
		pc, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer pc.Close()
			origin := pc.RemoteAddr().(*net.TCPAddr)
			payload := ssh.Marshal(struct {
				Addr       string
				Port       uint32
				OriginAddr string
				OriginPort uint32
			}{bindAddr, bindPort, origin.IP.String(), uint32(origin.Port)})
			ch, reqs, err := c.sc.OpenChannel("forwarded-tcpip", payload)
			if err != nil {
				return
			}
			go ssh.DiscardRequests(reqs)
			done := make(chan struct{})
			go func() {
				_, _ = io.Copy(ch, pc) // ends when either side closes
				_ = ch.CloseWrite()    // the peer may be gone
				close(done)
			}()
			_, _ = io.Copy(pc, ch)                                  // ends when either side closes
			if cw, ok := pc.(interface{ CloseWrite() error }); ok { // *net.TCPConn and *tls.Conn
				_ = cw.CloseWrite() // the peer may be gone
			}
			<-done
			ch.Close()
		}()
	}
}

func (s *SSHServer) session(c *conn, ch ssh.Channel, reqs <-chan *ssh.Request) {
	for r := range reqs {
		switch r.Type {
		case "shell", "exec":
			_ = r.Reply(true, nil) // the client may be gone
			s.mu.Lock()
			s.sess = append(s.sess, ch)
			s.mu.Unlock()
			go s.greet(c, ch)
		case "pty-req", "env":
			_ = r.Reply(true, nil) // the client may be gone
		default:
			if r.WantReply {
				_ = r.Reply(false, nil) // the client may be gone
			}
		}
	}
}

// greet prints localhost.run's welcome and, once the forward exists, the URL line.
func (s *SSHServer) greet(c *conn, ch ssh.Channel) {
	fmt.Fprint(ch, "\r\n===============================================================================\r\n")
	fmt.Fprint(ch, "Welcome to the s2s test tunnel!\r\n\r\nFollow your favourite reverse tunnel at [https://twitter.com/localhost_run].\r\n")
	fmt.Fprint(ch, "To set up and manage custom domains go to https://admin.localhost.run/\r\n\r\n")
	if s.opts.Silent {
		return
	}
	select {
	case <-c.urlSet:
	case <-c.gone:
		return
	}
	c.mu.Lock()
	u := c.url
	c.mu.Unlock()
	fmt.Fprint(ch, URLLine(u, s.opts.JSON)+"\r\n")
}

// URLLine is how localhost.run announces a URL, in text or JSON form.
func URLLine(u string, json bool) string {
	host := u
	if i := len("https://"); len(u) > i && u[:i] == "https://" {
		host = u[i:]
	} else if i := len("http://"); len(u) > i && u[:i] == "http://" {
		host = u[i:]
	}
	text := host + " tunneled with tls termination, " + u
	if !json {
		return text
	}
	return `{"specversion":"1.0","id":"localhost/` + host + `","type":"v1.tcpip_forward.register.accepted","source":"ssh://localhost.run/","data":"` + text + `\r\n"}`
}
