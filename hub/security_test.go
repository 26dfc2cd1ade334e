package hub

import (
	"context"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/s2s-dev/s2s/internal/testpki"
)

func newUser(t *testing.T) (nkeys.KeyPair, string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, err := kp.Seed()
	if err != nil {
		t.Fatal(err)
	}
	return kp, string(seed)
}

// An embedded server with NKeys admits their holders only; a wrong or missing key is ErrAuth, and
// no message quotes a seed.
func TestNKeyAuth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	alice, _ := newUser(t)
	hubKey, _ := newUser(t)
	srv, err := StartServer(ServerOptions{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), NKeys: []string{PublicKey(hubKey), PublicKey(alice)}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if u := srv.URL(); !strings.HasPrefix(u, "nats://127.0.0.1:") || strings.Contains(u, "@") {
		t.Fatalf("URL %q: an NKey hub's URL carries no credentials", u)
	}
	nc, _, err := srv.Connect(ctx, "hub", Credentials{NKey: hubKey}.Options()...)
	if err != nil {
		t.Fatalf("the hub's own in-process connection: %v", err)
	}
	nc.Close()
	nc, _, err = Connect(ctx, srv.URL(), "alice", Credentials{NKey: alice}.Options()...)
	if err != nil {
		t.Fatalf("alice: %v", err)
	}
	nc.Close()

	mallory, seed := newUser(t)
	for name, opts := range map[string]Credentials{"wrong key": {NKey: mallory}, "no key": {}} {
		_, _, err := Connect(ctx, srv.URL(), name, opts.Options()...)
		if !errors.Is(err, ErrAuth) || strings.Contains(err.Error(), seed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := StartServer(ServerOptions{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), Token: "t", NKeys: []string{PublicKey(alice)}}); err == nil {
		t.Error("a token and NKeys at once: want an error")
	}
}

// A seed file is read strictly: one user seed alone, bounded, private; errors never quote it.
func TestReadUserSeed(t *testing.T) {
	dir := t.TempDir()
	kp, seed := newUser(t)
	account, _ := nkeys.CreateAccount()
	accountSeed, _ := account.Seed()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	got, err := ReadUserSeed(write("good", "\n"+seed+"\r\n"))
	if err != nil || PublicKey(got) != PublicKey(kp) {
		t.Fatalf("good seed: %v", err)
	}
	// One character changed, always to another one: the same character would leave the seed whole.
	damaged := []byte(seed)
	if damaged[10] == 'A' {
		damaged[10] = 'B'
	} else {
		damaged[10] = 'A'
	}
	for name, content := range map[string]string{
		"empty":     "",
		"two seeds": seed + "\n" + seed + "\n",
		"comment":   "# my key\n" + seed,
		"public":    PublicKey(kp),
		"account":   string(accountSeed),
		"truncated": seed[:len(seed)-3],
		"damaged":   string(damaged),
		"huge":      seed + strings.Repeat(" ", maxSecurityFile),
	} {
		_, err := ReadUserSeed(write(name, content))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), seed[2:20]) || strings.Contains(err.Error(), string(accountSeed[2:20])) {
			t.Errorf("%s: the error quotes the seed: %v", name, err)
		}
	}
	if _, err := ReadUserSeed(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if _, err := ReadUserSeed(dir); err == nil {
		t.Error("a directory: accepted")
	}
	if runtime.GOOS != "windows" { // permissions mean something else there
		p := write("shared", seed)
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadUserSeed(p); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("a seed others can read: %v", err)
		}
	}
}

// The hub's seed is made once, private, and the same at the next start.
func TestLoadOrCreateUserSeed(t *testing.T) {
	p := filepath.Join(t.TempDir(), SeedFileName)
	first, created, err := LoadOrCreateUserSeed(p)
	if err != nil || !created {
		t.Fatalf("first: created %v, %v", created, err)
	}
	again, created, err := LoadOrCreateUserSeed(p)
	if err != nil || created || PublicKey(again) != PublicKey(first) {
		t.Fatalf("again: created %v, %v", created, err)
	}
	if runtime.GOOS != "windows" {
		if info, err := os.Stat(p); err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, %v", info.Mode(), err)
		}
	}
	if err := WriteUserSeed(p); !errors.Is(err, os.ErrExist) {
		t.Fatalf("WriteUserSeed over a seed: %v", err)
	}
}

// A seed under directories that do not exist yet (~/.config/s2s/ on a fresh machine) makes them,
// private; an existing seed is still never overwritten.
func TestWriteUserSeedMakesParents(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "config", "s2s", "hub.nk")
	if err := WriteUserSeed(p); err != nil {
		t.Fatalf("WriteUserSeed: %v", err)
	}
	if _, err := ReadUserSeed(p); err != nil {
		t.Fatalf("ReadUserSeed: %v", err)
	}
	if runtime.GOOS != "windows" {
		for _, d := range []string{filepath.Join(root, "config"), filepath.Join(root, "config", "s2s")} {
			if info, err := os.Stat(d); err != nil || info.Mode().Perm() != 0o700 {
				t.Errorf("%s: mode %v, %v", d, info.Mode(), err)
			}
		}
		if info, err := os.Stat(p); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("seed mode %v, %v", info.Mode(), err)
		}
	}
	if err := WriteUserSeed(p); !errors.Is(err, os.ErrExist) {
		t.Fatalf("WriteUserSeed over a seed: %v", err)
	}
}

func TestParseUserKeys(t *testing.T) {
	a, aSeed := newUser(t)
	b, _ := newUser(t)
	keys, err := ParseUserKeys(PublicKey(a) + ", " + PublicKey(b) + "," + PublicKey(a))
	if err != nil || len(keys) != 2 || keys[0] != (ListenerKey{NKey: PublicKey(a)}) {
		t.Fatalf("%v, %v", keys, err)
	}
	// Bound to a consumer name each, alone or with unbound keys.
	keys, err = ParseUserKeys("alice=" + PublicKey(a) + ", bob = " + PublicKey(b))
	if err != nil || len(keys) != 2 || keys[0] != (ListenerKey{NKey: PublicKey(a), Consumer: "alice"}) || keys[1] != (ListenerKey{NKey: PublicKey(b), Consumer: "bob"}) {
		t.Fatalf("bound: %v, %v", keys, err)
	}
	for name, list := range map[string]string{
		"a seed":              PublicKey(a) + "," + aSeed,
		"a bound seed":        "alice=" + aSeed,
		"empty":               PublicKey(a) + ",",
		"garbage":             "UNOTAKEY",
		"account":             "A" + PublicKey(a)[1:],
		"empty name":          "=" + PublicKey(a),
		"bad name":            "al.ice=" + PublicKey(a),
		"empty key":           "alice=",
		"one key, two names":  "alice=" + PublicKey(a) + ",bob=" + PublicKey(a),
		"bound, then unbound": "alice=" + PublicKey(a) + "," + PublicKey(a),
	} {
		_, err := ParseUserKeys(list)
		if err == nil || strings.Contains(err.Error(), aSeed) || strings.Contains(err.Error(), "UNOTAKEY") || strings.Contains(err.Error(), PublicKey(a)) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, list := range []string{PublicKey(a) + "," + aSeed, "alice=" + aSeed} {
		if _, err := ParseUserKeys(list); err == nil || !strings.Contains(err.Error(), "seed") {
			t.Errorf("a seed in the list: %v", err)
		}
	}
}

func writePKI(t *testing.T, o testpki.TLSOptions) (dir string, pki *testpki.TLSServer) {
	t.Helper()
	pki, err := testpki.NewTLSServer(o)
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	for name, data := range map[string][]byte{"ca.pem": pki.CAPEM, "cert.pem": pki.CertPEM, "key.pem": pki.KeyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir, pki
}

// The server's certificate and key are checked before anything opens.
func TestLoadServerCertificate(t *testing.T) {
	now := time.Now()
	dir, _ := writePKI(t, testpki.TLSOptions{})
	other, _ := writePKI(t, testpki.TLSOptions{})
	expired, _ := writePKI(t, testpki.TLSOptions{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
	cert, err := LoadServerCertificate(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), now)
	if err != nil || cert.Leaf == nil || SelfSigned(cert) {
		t.Fatalf("good pair: %v", err)
	}
	for name, files := range map[string][2]string{
		"mismatched key": {filepath.Join(dir, "cert.pem"), filepath.Join(other, "key.pem")},
		"expired":        {filepath.Join(expired, "cert.pem"), filepath.Join(expired, "key.pem")},
		"key as cert":    {filepath.Join(dir, "key.pem"), filepath.Join(dir, "key.pem")},
		"cert as key":    {filepath.Join(dir, "cert.pem"), filepath.Join(dir, "cert.pem")},
		"missing cert":   {filepath.Join(dir, "none.pem"), filepath.Join(dir, "key.pem")},
		"missing key":    {filepath.Join(dir, "cert.pem"), filepath.Join(dir, "none.pem")},
	} {
		_, err := LoadServerCertificate(files[0], files[1], now)
		if err == nil || strings.Contains(err.Error(), "PRIVATE KEY") {
			t.Errorf("%s: %v", name, err)
		}
	}
	self, _ := writePKI(t, testpki.TLSOptions{SelfSigned: true})
	cert, err = LoadServerCertificate(filepath.Join(self, "cert.pem"), filepath.Join(self, "key.pem"), now)
	if err != nil || !SelfSigned(cert) {
		t.Fatalf("self-signed: %v", err)
	}
}

// Over TLS the URL is tls:// with a host the certificate covers; a client that does not trust the
// certificate is ErrUntrusted, one given the CA connects; the hub's own connection needs no trust.
func TestServerTLS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir, pki := writePKI(t, testpki.TLSOptions{Hosts: []string{"localhost"}})
	cert, err := LoadServerCertificate(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := StartServer(ServerOptions{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), Token: "s3cret", TLS: &cert})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// The certificate names localhost only: the URL says localhost, not the listen address.
	if u := srv.URL(); !strings.HasPrefix(u, "tls://s3cret@localhost:") {
		t.Fatalf("URL %q", u)
	}
	if _, _, err := Connect(ctx, srv.URL(), "untrusting"); !errors.Is(err, ErrUntrusted) || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("without the CA: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pki.CAPEM)
	nc, js, err := Connect(ctx, srv.URL(), "trusting", Credentials{RootCAs: roots}.Options()...)
	if err != nil {
		t.Fatalf("with the CA: %v", err)
	}
	if !nc.TLSRequired() {
		t.Error("connected without TLS")
	}
	if _, err := EnsureStream(ctx, js, StreamOptions{MaxBody: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	// The right CA, the wrong host name.
	ipURL := strings.Replace(srv.URL(), "localhost", "127.0.0.1", 1)
	// The error is about the host name alone, with the CA or without, and names the certificate's.
	cases := map[string]Credentials{"with the CA": {RootCAs: roots}}
	if goVerifier() {
		cases["without"] = Credentials{}
	}
	for name, creds := range cases {
		_, _, err := Connect(ctx, ipURL, "wrong host", creds.Options()...)
		if !errors.Is(err, ErrUntrusted) || !errors.Is(err, ErrWrongHost) || !strings.Contains(err.Error(), "(it names localhost)") || strings.Contains(err.Error(), "authority") {
			t.Fatalf("a host the certificate does not name, %s: %v", name, err)
		}
	}
	nc, _, err = srv.Connect(ctx, "hub")
	if err != nil {
		t.Fatalf("in process: %v", err)
	}
	nc.Close()
}

// A client asking for TLS (a CA given) never falls back to a server in clear.
func TestTrustCAsRefusesClear(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := startTestServer(t)
	if _, _, err := Connect(ctx, srv.URL(), "t", Credentials{RootCAs: x509.NewCertPool()}.Options()...); err == nil {
		t.Fatal("connected in clear with a CA given")
	}
}

func TestURLHost(t *testing.T) {
	leaf := &x509.Certificate{DNSNames: []string{"hub.example.com"}}
	for host, want := range map[string]string{"0.0.0.0": "hub.example.com", "": "hub.example.com", "127.0.0.1": "hub.example.com", "hub.example.com": "hub.example.com"} {
		if got := urlHost(host, leaf); got != want {
			t.Errorf("urlHost(%q) = %q, want %q", host, got, want)
		}
	}
	if got := urlHost("0.0.0.0", nil); got != "0.0.0.0" {
		t.Errorf("without TLS: %q", got)
	}
}

// The seed parser never panics, and what it accepts is a user key.
func FuzzParseUserSeed(f *testing.F) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		f.Fatal(err)
	}
	seed, err := kp.Seed()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(append(seed, '\n'))
	f.Add([]byte(""))
	f.Add([]byte("SU\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		kp, err := parseUserSeed("f", data)
		if err == nil && !nkeys.IsValidPublicUserKey(PublicKey(kp)) {
			t.Fatal("accepted a key that is not a user's")
		}
	})
}

// A teammate's key consumes and acknowledges, reads the stream's state, and can do nothing else:
// not publish into the stream, purge or delete it, or delete a consumer.
func TestListenerPermissions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	hubKey, _ := newUser(t)
	alice, _ := newUser(t)
	srv, err := StartServer(ServerOptions{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), NKeys: []string{PublicKey(hubKey)}, ListenerNKeys: []ListenerKey{{NKey: PublicKey(alice)}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hnc, hjs, err := srv.Connect(ctx, "hub", Credentials{NKey: hubKey}.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	defer hnc.Close()
	if _, err := EnsureStream(ctx, hjs, StreamOptions{MaxBody: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	if _, err := hjs.Publish(ctx, SubjectPrefix+"1", []byte("one")); err != nil {
		t.Fatal(err)
	}

	violations := make(chan error, 16)
	opts := append(Credentials{NKey: alice}.Options(), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		violations <- err
	}))
	anc, ajs, err := Connect(ctx, srv.URL(), "alice", opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer anc.Close()
	cons, err := ajs.CreateOrUpdateConsumer(ctx, DefaultStream, jetstream.ConsumerConfig{Durable: "alice", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatalf("creating a consumer: %v", err)
	}
	fetchAndAck(ctx, t, "alice", cons, 1)
	if st, err := StreamStatus(ctx, ajs, ""); err != nil || len(st.Consumers) != 1 || st.Consumers[0].AckFloor != 1 {
		t.Fatalf("status: %+v, %v", st, err)
	}

	forbidden := map[string]func(context.Context) error{
		"publish a capture": func(ctx context.Context) error {
			_, err := ajs.Publish(ctx, SubjectPrefix+"2", []byte("forged"))
			return err
		},
		"purge the stream": func(ctx context.Context) error {
			s, err := ajs.Stream(ctx, DefaultStream)
			if err != nil {
				return err
			}
			return s.Purge(ctx)
		},
		"delete the stream":   func(ctx context.Context) error { return ajs.DeleteStream(ctx, DefaultStream) },
		"delete the consumer": func(ctx context.Context) error { return ajs.DeleteConsumer(ctx, DefaultStream, "alice") },
	}
	for name, do := range forbidden {
		// The server refuses and says so; the request then waits for an answer that never comes.
		octx, ocancel := context.WithTimeout(ctx, time.Second)
		err := do(octx)
		ocancel()
		if err == nil {
			t.Errorf("%s: allowed", name)
			continue
		}
		select {
		case v := <-violations:
			if !errors.Is(v, nats.ErrPermissionViolation) {
				t.Errorf("%s: %v", name, v)
			}
		case <-ctx.Done():
			t.Fatalf("%s: no permissions violation reported (%v)", name, err)
		}
	}
	// Nothing changed.
	if st, err := StreamStatus(ctx, hjs, ""); err != nil || st.Messages != 1 || len(st.Consumers) != 1 {
		t.Fatalf("after: %+v, %v", st, err)
	}
}

// With a key per teammate, each bound to its consumer (--nats-auth nkey:alice=…,bob=…), a plain
// nats.go client holding alice's seed uses alice's consumer and nothing of anyone else's: it
// cannot pull from bob's consumer, acknowledge for it, update it, create consumers of other
// names, or receive answers meant for other clients.
func TestListenerKeyBoundToConsumer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	hubKey, _ := newUser(t)
	alice, _ := newUser(t)
	bob, _ := newUser(t)
	srv, err := StartServer(ServerOptions{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), NKeys: []string{PublicKey(hubKey)},
		ListenerNKeys: []ListenerKey{{NKey: PublicKey(alice), Consumer: "alice"}, {NKey: PublicKey(bob), Consumer: "bob"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hnc, hjs, err := srv.Connect(ctx, "hub", Credentials{NKey: hubKey}.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	defer hnc.Close()
	if _, err := EnsureStream(ctx, hjs, StreamOptions{MaxBody: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"one", "two"} {
		if _, err := hjs.Publish(ctx, SubjectPrefix+b, []byte(b)); err != nil {
			t.Fatal(err)
		}
	}
	connect := func(name string, kp nkeys.KeyPair, violations chan error) (*nats.Conn, jetstream.JetStream) {
		opts := Credentials{NKey: kp}.Options()
		if violations != nil {
			opts = append(opts, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
				select {
				case violations <- err:
				default:
				}
			}))
		}
		nc, js, err := Connect(ctx, srv.URL(), name, opts...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Cleanup(nc.Close)
		return nc, js
	}
	durable := func(name string) jetstream.ConsumerConfig {
		return jetstream.ConsumerConfig{Durable: name, AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy}
	}
	// bob's consumer exists and holds both messages.
	_, bjs := connect("bob", bob, nil)
	if _, err := bjs.CreateOrUpdateConsumer(ctx, DefaultStream, durable("bob")); err != nil {
		t.Fatalf("bob creating his consumer: %v", err)
	}

	violations := make(chan error, 64)
	anc, ajs := connect("alice", alice, violations)
	// alice's own consumer works: create, pull, acknowledge, read its state.
	acons, err := ajs.CreateOrUpdateConsumer(ctx, DefaultStream, durable("alice"))
	if err != nil {
		t.Fatalf("alice creating her consumer: %v", err)
	}
	fetchAndAck(ctx, t, "alice", acons, 2)
	if info, err := acons.Info(ctx); err != nil || info.AckFloor.Stream != 2 {
		t.Fatalf("alice's consumer info: %+v, %v", info, err)
	}

	refused := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: allowed", what)
			return
		}
		select {
		case v := <-violations:
			if !errors.Is(v, nats.ErrPermissionViolation) {
				t.Errorf("%s: %v", what, v)
			}
		case <-ctx.Done():
			t.Fatalf("%s: no permissions violation reported (%v)", what, err)
		}
	}
	short := func(do func(context.Context) error) error {
		octx, ocancel := context.WithTimeout(ctx, time.Second)
		defer ocancel()
		return do(octx)
	}
	// Pull from bob's consumer, by the API subject a plain client would use.
	_, err = anc.Request("$JS.API.CONSUMER.MSG.NEXT."+DefaultStream+".bob", []byte(`{"batch":1,"expires":500000000}`), time.Second)
	refused("pull from bob's consumer", err)
	// Acknowledge for bob's consumer (the subject of bob's first message).
	err = anc.Publish("$JS.ACK."+DefaultStream+".bob.1.1.1.0.1", nil)
	if err == nil {
		err = anc.Flush()
	}
	if err == nil {
		// The publish is refused asynchronously: wait for the server's word.
		err = errors.New("published")
	}
	refused("acknowledge for bob's consumer", err)
	// Update bob's consumer.
	refused("update bob's consumer", short(func(ctx context.Context) error {
		cfg := durable("bob")
		cfg.MaxDeliver = 1
		cfg.FilterSubject = SubjectPrefix + "one"
		_, err := ajs.UpdateConsumer(ctx, DefaultStream, cfg)
		return err
	}))
	// Create consumers of other names, durable or not.
	refused("create a consumer of another name", short(func(ctx context.Context) error {
		_, err := ajs.CreateConsumer(ctx, DefaultStream, durable("junk"))
		return err
	}))
	refused("create an ephemeral consumer", short(func(ctx context.Context) error {
		_, err := ajs.CreateConsumer(ctx, DefaultStream, jetstream.ConsumerConfig{AckPolicy: jetstream.AckExplicitPolicy})
		return err
	}))
	// A request for bob, in the body, on alice's subject: JetStream refuses the mismatch.
	if _, err := anc.Request("$JS.API.CONSUMER.CREATE."+DefaultStream+".alice", []byte(`{"stream_name":"`+DefaultStream+`","config":{"durable_name":"bob","ack_policy":"explicit"},"action":"update"}`), 5*time.Second); err != nil {
		t.Fatalf("alice's create subject: %v", err)
	}
	// Other clients' answers: the default inbox, and bob's.
	for _, subject := range []string{"_INBOX.>", InboxPrefix(PublicKey(bob)) + ".>"} {
		sub, err := anc.SubscribeSync(subject)
		if err == nil {
			err = errors.New("subscribed")
			_ = anc.Flush()
			defer func() { _ = sub.Unsubscribe() }()
		}
		refused("subscribe to "+subject, err)
	}

	// bob's consumer is as bob made it, and still holds both messages for him.
	bcons, err := bjs.Consumer(ctx, DefaultStream, "bob")
	if err != nil {
		t.Fatal(err)
	}
	info, err := bcons.Info(ctx)
	if err != nil || info.Config.MaxDeliver != -1 || info.Config.FilterSubject != "" || info.NumPending != 2 || info.NumAckPending != 0 {
		t.Fatalf("bob's consumer after alice's attempts: %+v, %v", info, err)
	}
	if st, err := StreamStatus(ctx, hjs, ""); err != nil || len(st.Consumers) != 2 {
		t.Fatalf("consumers after alice's attempts: %+v, %v", st, err)
	}
	// alice's own listener (Consumer) with bob's name is told why.
	c := &Consumer{JS: ajs, Name: "bob"}
	if err := short(c.Open); !errors.Is(err, ErrConsumerNotAllowed) {
		t.Fatalf("alice's key opening bob's consumer: %v", err)
	}
}

// goVerifier reports whether certificates are verified against the system's roots by Go's own
// verifier, which checks the host name before the chain; macOS's and Windows' may report an
// unknown authority first.
func goVerifier() bool { return runtime.GOOS != "darwin" && runtime.GOOS != "windows" }

// fetchAndAck pulls want messages from cons as who, acknowledging each and waiting for the
// server's confirmation, and fails the test unless exactly want came.
func fetchAndAck(ctx context.Context, t *testing.T, who string, cons jetstream.Consumer, want int) {
	t.Helper()
	batch, err := cons.Fetch(want, jetstream.FetchMaxWait(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range batch.Messages() {
		n++
		if err := m.DoubleAck(ctx); err != nil {
			t.Fatalf("%s acknowledging: %v", who, err)
		}
	}
	if n != want || batch.Error() != nil {
		t.Fatalf("%s fetched %d of %d, %v", who, n, want, batch.Error())
	}
}
