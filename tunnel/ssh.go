package tunnel

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/s2s-dev/s2s/internal/termsafe"
)

// SSH is a native reverse tunnel (no ssh binary) to an SSH tunnel service such as localhost.run,
// Pinggy or serveo: it asks the server to forward its public port to us, pipes each forwarded
// connection to the local listener, and reads the public URL from the session's output.
type SSH struct {
	// Addr is the service as host[:port]; empty means localhost.run:22.
	Addr string
	// User is the login name; empty means the service's default ("nokey" for localhost.run).
	User string
	// ConfigDir holds the pinned host keys (known_hosts) and the client key (tunnel_ed25519).
	ConfigDir string
	// StartTimeout bounds Start and each reconnection; zero means DefaultStartTimeout.
	StartTimeout time.Duration
	// KeepAlive is the interval between keepalive requests; zero means 20 s.
	KeepAlive time.Duration
	// Backoff is the wait before reconnection attempt n (from 0); nil means 1 s doubling to 60 s.
	Backoff func(attempt int) time.Duration
	// Log receives the service's output and reconnection notes; nil discards them.
	Log io.Writer
}

// sshService holds what differs between SSH tunnel services.
type sshService struct {
	port     string
	user     string
	bindAddr string
	bindPort uint32
}

// serviceFor knows the conventions of the services tunnels.md describes; an unknown host gets
// localhost.run's, which is also what sish and the test server speak.
func serviceFor(host string) sshService {
	switch {
	case host == "pinggy.io" || strings.HasSuffix(host, ".pinggy.io"):
		// Pinggy listens on 443 and picks the public port itself; its own Go SDK logs in as
		// "auth+http" (a token, when there is one, goes in front: TOKEN+auth+http) and binds 0.0.0.0:0.
		return sshService{port: "443", user: "auth+http", bindAddr: "0.0.0.0", bindPort: 0}
	default:
		// localhost.run reads a literal 0.0.0.0 as a custom domain, so bind "localhost" port 80 as
		// OpenSSH does for -R 80:...
		return sshService{port: "22", user: "nokey", bindAddr: "localhost", bindPort: 80}
	}
}

// DefaultSSHHost is the service used by `--tunnel ssh` without a host.
const DefaultSSHHost = "localhost.run"

func (p *SSH) Name() string { return "ssh" }

// resolve returns the dial address, user and service conventions.
func (p *SSH) resolve() (addr, user string, svc sshService, err error) {
	a := p.Addr
	if a == "" {
		a = DefaultSSHHost
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		host, port = a, ""
	}
	if host == "" {
		return "", "", svc, &Error{Provider: "ssh", Class: ClassRejected, Err: fmt.Errorf("no host in %q", a),
			Hint: "use --tunnel ssh=HOST[:PORT]"}
	}
	svc = serviceFor(host)
	if port == "" {
		port = svc.port
	}
	user = p.User
	if user == "" {
		user = svc.user
	}
	return net.JoinHostPort(host, port), user, svc, nil
}

// Start connects, registers the forward and returns once the service has printed the public URL.
func (p *SSH) Start(ctx context.Context, t Target) (Tunnel, error) {
	local, err := dialAddr(t.Addr)
	if err != nil {
		return nil, classify("ssh", err)
	}
	addr, user, svc, err := p.resolve()
	if err != nil {
		return nil, err
	}
	signer, err := loadOrCreateKey(p.ConfigDir)
	if err != nil {
		return nil, &Error{Provider: "ssh", Class: ClassRejected, Err: err, Hint: "check that the config directory is writable"}
	}
	life, stop := context.WithCancel(context.Background())
	st := &sshTunnel{
		base: newBase(p.Log), p: p, addr: addr, user: user, svc: svc, local: local, signer: signer,
		life: life, stop: stop,
	}
	sctx, cancel := withStartDeadline(ctx, p.StartTimeout)
	defer cancel()
	conn, err := st.connect(sctx)
	if err != nil {
		return nil, err
	}
	st.setURL(conn.firstURL)
	go st.run(conn)
	return st, nil
}

type sshTunnel struct {
	*base
	p      *SSH
	addr   string
	user   string
	svc    sshService
	local  string
	signer ssh.Signer
	life   context.Context    // ends at Close: every reconnection attempt runs under it
	stop   context.CancelFunc // ends life
}

// sshConn is one connection to the service.
type sshConn struct {
	client   *ssh.Client
	firstURL string
	urls     chan string   // URLs printed after the first
	dead     chan struct{} // closed when the connection ends
	err      error         // why it ended, readable after dead is closed
}

// connect makes one attempt: dial, handshake, forward, shell, first URL. The connection is torn
// down when ctx ends before the URL arrives.
func (t *sshTunnel) connect(ctx context.Context) (*sshConn, error) {
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return nil, t.failure(ctx, err)
	}
	// Until the URL is in, the context's end must interrupt every blocking step.
	stopWatch := context.AfterFunc(ctx, func() { raw.Close() })
	established := false
	defer func() {
		if !established {
			stopWatch()
			raw.Close()
		}
	}()

	client, err := t.handshake(ctx, raw)
	if err != nil {
		return nil, err
	}
	if err := t.forward(ctx, client); err != nil {
		client.Close()
		return nil, err
	}
	sc, first, err := t.startShell(ctx, client)
	if err != nil {
		client.Close()
		return nil, err
	}
	select {
	case u := <-first:
		sc.firstURL = u
	case <-sc.dead:
		return nil, t.failure(ctx, fmt.Errorf("the server closed the connection before printing a URL: %w", sc.err))
	case <-ctx.Done():
		client.Close()
		return nil, t.failure(ctx, ctx.Err())
	}
	if !stopWatch() {
		// The deadline fired as the URL arrived; the connection is already closed.
		client.Close()
		return nil, t.failure(ctx, ctx.Err())
	}
	established = true
	go t.keepAlive(sc)
	return sc, nil
}

// handshake opens the SSH connection over raw: the service's host key checked against
// known_hosts, then this machine's key (or no credentials, as these services accept).
func (t *sshTunnel) handshake(ctx context.Context, raw net.Conn) (*ssh.Client, error) {
	hk, err := newHostKeys(t.p.ConfigDir, t.addr)
	if err != nil {
		return nil, &Error{Provider: "ssh", Class: ClassRejected, Err: err, Hint: "check the known_hosts file in the config directory"}
	}
	cfg := &ssh.ClientConfig{
		User: t.user,
		Auth: []ssh.AuthMethod{
			ssh.PublicKeys(t.signer),
			ssh.Password(""),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				return make([]string, len(questions)), nil
			}),
		},
		HostKeyCallback:   hk.callback,
		HostKeyAlgorithms: hk.algorithms,
		ClientVersion:     "SSH-2.0-s2s",
	}
	c, chans, reqs, err := ssh.NewClientConn(raw, t.addr, cfg)
	if err != nil {
		if hk.mismatch != nil {
			return nil, hk.mismatch
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, &Error{Provider: "ssh", Class: ClassAuth, Err: err,
				Hint: "this service wants an account; pass --tunnel ssh=USER@HOST or pick another provider"}
		}
		return nil, t.failure(ctx, err)
	}
	return ssh.NewClient(c, chans, reqs), nil
}

// forward asks the service for the remote port forward, and serves what it forwards.
func (t *sshTunnel) forward(ctx context.Context, client *ssh.Client) error {
	// Registered before the forward request so no forwarded connection can arrive unhandled.
	forwarded := client.HandleChannelOpen("forwarded-tcpip")
	go t.serveForwards(forwarded)

	payload := ssh.Marshal(struct {
		Addr string
		Port uint32
	}{t.svc.bindAddr, t.svc.bindPort})
	ok, _, err := client.SendRequest("tcpip-forward", true, payload)
	if err != nil {
		return t.failure(ctx, err)
	}
	if !ok {
		return &Error{Provider: "ssh", Class: ClassRejected, Err: errors.New("the server refused the remote port forward"),
			Hint: "the service may be down or want an account; try again later or pick another provider"}
	}
	return nil
}

// startShell opens the shell in which the service prints its URLs: the first comes on first,
// later ones (after a change) on the connection's urls; dead closes when the connection ends.
func (t *sshTunnel) startShell(ctx context.Context, client *ssh.Client) (*sshConn, <-chan string, error) {
	sc := &sshConn{client: client, urls: make(chan string, 8), dead: make(chan struct{})}
	first := make(chan string, 1)
	sess, err := client.NewSession()
	if err != nil {
		return nil, nil, t.failure(ctx, err)
	}
	stdout, _ := sess.StdoutPipe()
	stderr, _ := sess.StderrPipe()
	if err := sess.Shell(); err != nil {
		return nil, nil, t.failure(ctx, err)
	}
	var once sync.Once
	onURL := func(u string) {
		sent := false
		once.Do(func() { first <- u; sent = true })
		if !sent {
			select {
			case sc.urls <- u:
			default:
			}
		}
	}
	go t.readOutput(stdout, onURL)
	go t.readOutput(stderr, onURL)
	go func() {
		sc.err = client.Wait()
		close(sc.dead)
	}()
	return sc, first, nil
}

// failure classifies err from a connection attempt; the parent being cancelled is not a failure.
func (t *sshTunnel) failure(ctx context.Context, err error) error {
	if ctx.Err() == context.DeadlineExceeded {
		return &Error{Provider: "ssh", Class: ClassTimeout, Err: fmt.Errorf("%s did not give a public URL in time: %w", t.addr, err),
			Hint: "the service may be slow or down; try again or pick another provider"}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return classify("ssh", fmt.Errorf("%s: %w", t.addr, err))
}

// urlPatterns find the public URL in what each service prints: localhost.run (text and JSON
// events), serveo, Pinggy.
var urlPatterns = []*regexp.Regexp{
	regexp.MustCompile(`tunneled with tls termination, (https?://[A-Za-z0-9.-]+(?::[0-9]+)?)`),
	regexp.MustCompile(`Forwarding HTTP traffic from (https://[A-Za-z0-9.-]+)`),
	regexp.MustCompile(`(https://[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:pinggy-free\.link|pinggy\.link|pinggy\.online))`),
}

// FindURL returns the public URL in one line of a service's output, or "".
func FindURL(line string) string {
	for _, re := range urlPatterns {
		if m := re.FindStringSubmatch(line); m != nil {
			return m[1]
		}
	}
	return ""
}

var ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

func (t *sshTunnel) readOutput(r io.Reader, onURL func(string)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(ansiRE.ReplaceAllString(sc.Text(), ""), "\r ")
		if line == "" {
			continue
		}
		fmt.Fprintf(t.logw, "tunnel ssh: %s\n", termsafe.String(line)) // the server's words, read with cat or less
		if u := FindURL(line); u != "" {
			onURL(u)
		}
	}
}

// serveForwards pipes each connection the service forwards to the local listener.
func (t *sshTunnel) serveForwards(chans <-chan ssh.NewChannel) {
	for nc := range chans {
		go t.pipe(nc)
	}
}

func (t *sshTunnel) pipe(nc ssh.NewChannel) {
	d := net.Dialer{Timeout: 5 * time.Second}
	lc, err := d.Dial("tcp", t.local)
	if err != nil {
		_ = nc.Reject(ssh.ConnectionFailed, "local listener unreachable") // the client may be gone
		fmt.Fprintf(t.logw, "tunnel ssh: forwarded connection dropped: %v\n", err)
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		lc.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(ch, lc) // ends when either side closes
		_ = ch.CloseWrite()    // the peer may be gone
		close(done)
	}()
	_, _ = io.Copy(lc, ch) // ends when either side closes
	if tc, ok := lc.(*net.TCPConn); ok {
		_ = tc.CloseWrite() // the peer may be gone
	}
	<-done
	ch.Close()
	lc.Close()
}

// keepAlive closes the connection when the server stops answering, which turns a silently dead
// TCP path into a reconnection.
func (t *sshTunnel) keepAlive(sc *sshConn) {
	every := t.p.KeepAlive
	if every <= 0 {
		every = 20 * time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-sc.dead:
			return
		case <-tick.C:
		}
		reply := make(chan error, 1)
		go func() {
			_, _, err := sc.client.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		select {
		case err := <-reply:
			if err != nil {
				sc.client.Close()
				return
			}
		case <-time.After(every):
			fmt.Fprintf(t.logw, "tunnel ssh: no keepalive answer from %s, reconnecting\n", t.addr)
			sc.client.Close()
			return
		case <-sc.dead:
			return
		}
	}
}

func (t *sshTunnel) backoff(n int) time.Duration {
	if t.p.Backoff != nil {
		return t.p.Backoff(n)
	}
	d := time.Second << min(n, 6)
	return min(d, 60*time.Second)
}

// run follows one connection after another until Close or a failure that retrying cannot fix.
func (t *sshTunnel) run(sc *sshConn) {
	for {
		select {
		case u := <-sc.urls:
			if t.setURL(u) {
				t.emit(Event{Kind: EventURL, URL: u})
			}
			continue
		case <-t.life.Done():
			sc.client.Close()
			<-sc.dead
			t.finish(nil)
			return
		case <-sc.dead:
		}
		down := sc.err
		if down == nil {
			down = errors.New("connection closed")
		}
		t.emit(Event{Kind: EventDown, URL: t.URL(), Err: fmt.Errorf("connection to %s lost: %w", t.addr, down)})
		next, err := t.reconnect()
		if err != nil {
			t.finish(err)
			return
		}
		if next == nil { // closed while reconnecting
			t.finish(nil)
			return
		}
		sc = next
		if t.setURL(sc.firstURL) {
			t.emit(Event{Kind: EventURL, URL: sc.firstURL})
		} else {
			t.emit(Event{Kind: EventUp, URL: sc.firstURL})
		}
	}
}

// reconnect retries with backoff. It gives up only on a changed host key (class rejected), which
// must never be retried silently; it returns nil, nil when Close is called.
func (t *sshTunnel) reconnect() (*sshConn, error) {
	for n := 0; ; n++ {
		wait := time.NewTimer(t.backoff(n))
		select {
		case <-t.life.Done():
			wait.Stop()
			return nil, nil
		case <-wait.C:
		}
		ctx, cancel := withStartDeadline(t.life, t.p.StartTimeout)
		sc, err := t.connect(ctx)
		cancel()
		if err == nil {
			return sc, nil
		}
		if t.isClosing() {
			return nil, nil
		}
		if errors.Is(err, errHostKeyChanged) { // always ClassRejected (hostkeys.go)
			return nil, err
		}
		fmt.Fprintf(t.logw, "tunnel ssh: reconnecting to %s failed: %v\n", t.addr, err)
		t.emit(Event{Kind: EventDown, URL: t.URL(), Err: err})
	}
}

func (t *sshTunnel) Close() error {
	if t.markClosing() {
		t.stop()
	}
	<-t.done
	return nil
}
