package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/s2s-dev/s2s/hub"
	"github.com/s2s-dev/s2s/internal/testpki"
)

// s2sExit runs the binary in dir to its end and returns its output (stdout, then stderr) and
// whether it failed.
func s2sExit(t *testing.T, dir string, args ...string) ([]byte, error) {
	t.Helper()
	code, stdout, stderr := s2sIn(t, dir, nil, args...)
	var err error
	if code != 0 {
		err = fmt.Errorf("exit status %d", code)
	}
	return []byte(stdout + stderr), err
}

var publicUserKey = regexp.MustCompile(`^U[A-Z2-7]{55}$`)

// A hub with --nats-auth nkey makes a user NKey for its listeners once (a private seed file beside
// its store, apart from its own) and says where it is; a listener with that seed gets its
// notifications byte for byte; another seed,
// or none, is refused clearly, and no seed is ever printed. With --nats-auth nkey:PUBKEY the hub
// takes a teammate's own key, made with s2s hub nkey.
func TestHubNKey(t *testing.T) {
	dir := t.TempDir()
	hubStore := filepath.Join(dir, "hub", "captures.db")
	h := startReceiver(t, dir, "hub", "--nats-listen", "127.0.0.1:0", "--nats-auth", "nkey", "--store", hubStore)
	hubURL, _ := h.Ready["hub"].(string)
	seedFile, _ := h.Ready["hubNkeyFile"].(string)
	if !strings.HasPrefix(hubURL, "nats://127.0.0.1:") || strings.Contains(hubURL, "@") {
		t.Fatalf("ready event's hub URL %q: an NKey hub's URL carries no credentials", hubURL)
	}
	if seedFile != filepath.Join(dir, "hub", "hub-nkey.seed") {
		t.Fatalf("ready event's seed file %q", seedFile)
	}
	seed, err := os.ReadFile(seedFile)
	if err != nil || !bytes.HasPrefix(seed, []byte("SU")) {
		t.Fatalf("seed file: %v", err)
	}
	seed = bytes.TrimSpace(seed)

	aStore := filepath.Join(dir, "a", "captures.db")
	a := StartListener(t, dir, "--store", aStore, "--hub", hubURL, "--hub-nkey", seedFile, "--name", "alice")
	bodies := hubBodies(t, dir, "com.example.a", 3)
	postAll(t, h.URL, bodies)
	a.waitNotifications(t, 3)
	_ = a.Stop(t)
	wantExactly(t, aStore, bodies)

	// hub status finds the hub's seed through its store, and names the teammates' URL and seed
	// file (never the hub's own, nor any seed itself).
	if out, err := s2sExit(t, dir, "hub", "status", "--store", hubStore); err != nil || !bytes.Contains(out, []byte("alice")) ||
		!bytes.Contains(out, []byte("URL      "+hubURL+" ")) || !bytes.Contains(out, []byte("NKey     "+seedFile+" ")) ||
		bytes.Contains(out, []byte("hub-own")) || bytes.Contains(out, seed) {
		t.Fatalf("hub status: %v: %s", err, out)
	}

	// A teammate's own key, which this hub does not know: refused, its public key named, its seed not.
	malloryFile := filepath.Join(dir, "mallory.nk")
	out, err := s2sExit(t, dir, "hub", "nkey", malloryFile)
	mallory := strings.TrimSpace(string(out))
	if err != nil || !publicUserKey.MatchString(mallory) {
		t.Fatalf("hub nkey: %v: %q", err, out)
	}
	if out, err := s2sExit(t, dir, "hub", "nkey", malloryFile); err == nil || !bytes.Contains(out, []byte("never overwrites")) {
		t.Fatalf("hub nkey over an existing seed: %v: %s", err, out)
	}
	mallorySeed, err := os.ReadFile(malloryFile)
	if err != nil {
		t.Fatal(err)
	}
	mallorySeed = bytes.TrimSpace(mallorySeed)
	out, err = s2sExit(t, dir, "listen", "--output", "json", "--addr", "127.0.0.1:0", "--store", filepath.Join(dir, "m.db"), "--hub", hubURL, "--hub-nkey", malloryFile, "--name", "mallory")
	if err == nil || !bytes.Contains(out, []byte("refused the credentials")) || !bytes.Contains(out, []byte(mallory)) || bytes.Contains(out, mallorySeed) {
		t.Fatalf("a wrong NKey: %v: %s", err, out)
	}
	// No NKey at all: refused, and told which flag gives one.
	out, err = s2sExit(t, dir, "listen", "--output", "json", "--addr", "127.0.0.1:0", "--store", filepath.Join(dir, "n.db"), "--hub", hubURL, "--name", "nobody")
	if err == nil || !bytes.Contains(out, []byte("refused the credentials")) || !bytes.Contains(out, []byte("--hub-nkey")) {
		t.Fatalf("no NKey: %v: %s", err, out)
	}
	_ = h.Stop(t)
	// The hub's own key (every right; hub status uses it) is another, never shared.
	own, err := os.ReadFile(filepath.Join(dir, "hub", "hub-own-nkey.seed"))
	if err != nil || bytes.Equal(bytes.TrimSpace(own), seed) {
		t.Fatalf("the hub's own seed: %v", err)
	}
	own = bytes.TrimSpace(own)
	if bytes.Contains(h.stderr.Bytes(), seed) || bytes.Contains(h.stderr.Bytes(), own) {
		t.Fatal("the hub printed a seed")
	}

	// A hub that takes the teammates' own public keys.
	h2Store := filepath.Join(dir, "hub2", "captures.db")
	h2 := startReceiver(t, dir, "hub", "--nats-listen", "127.0.0.1:0", "--nats-auth", "nkey:"+mallory, "--store", h2Store)
	if _, ok := h2.Ready["hubNkeyFile"]; ok {
		t.Fatal("a hub with teammates' keys shares no seed file")
	}
	mStore := filepath.Join(dir, "m2", "captures.db")
	m := StartListener(t, dir, "--store", mStore, "--hub", h2.Ready["hub"].(string), "--hub-nkey", malloryFile, "--name", "mallory")
	more := hubBodies(t, dir, "com.example.b", 2)
	postAll(t, h2.URL, more)
	m.waitNotifications(t, 2)
	_ = m.Stop(t)
	wantExactly(t, mStore, more)
	// The hub's own seed opens nothing here but the hub's connection: not a teammate's key.
	out, err = s2sExit(t, dir, "hub", "--nats-auth", "nkey:"+string(mallorySeed), "--store", filepath.Join(dir, "hub3", "captures.db"))
	if err == nil || bytes.Contains(out, mallorySeed) || !bytes.Contains(out, []byte("is a seed")) {
		t.Fatalf("a seed given as a public key: %v: %s", err, out)
	}
}

// A hub with --nats-cert and --nats-key serves NATS over TLS and prints a tls:// URL; a listener
// that trusts the development CA with --hub-ca gets its notifications byte for byte; one that does
// not is refused and told about --hub-ca; a certificate and key that do not belong together stop
// the hub before it opens anything. A second hub reaches that server with --nats and --nats-ca. A
// self-signed certificate is named in the ready event, and trusting it alone is enough.
func TestHubTLS(t *testing.T) {
	dir := t.TempDir()
	pki, err := testpki.NewTLSServer(testpki.TLSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := testpki.NewTLSServer(testpki.TLSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"ca.pem": pki.CAPEM, "cert.pem": pki.CertPEM, "key.pem": pki.KeyPEM, "other-key.pem": other.KeyPEM}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cert, key, ca := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "ca.pem")

	badStore := filepath.Join(dir, "bad", "captures.db")
	out, err := s2sExit(t, dir, "hub", "--nats-listen", "127.0.0.1:0", "--nats-cert", cert, "--nats-key", filepath.Join(dir, "other-key.pem"), "--store", badStore)
	if err == nil || !bytes.Contains(out, []byte("--nats-cert")) || bytes.Contains(out, []byte("PRIVATE KEY")) {
		t.Fatalf("a key that is not the certificate's: %v: %s", err, out)
	}
	if _, err := os.Stat(badStore); !os.IsNotExist(err) {
		t.Fatalf("the hub opened its store before checking its certificate: %v", err)
	}

	hubStore := filepath.Join(dir, "hub", "captures.db")
	h := startReceiver(t, dir, "hub", "--nats-listen", "127.0.0.1:0", "--nats-cert", cert, "--nats-key", key, "--store", hubStore)
	hubURL, _ := h.Ready["hub"].(string)
	if !strings.HasPrefix(hubURL, "tls://") || !strings.Contains(hubURL, "@127.0.0.1:") {
		t.Fatalf("ready event's hub URL %q", hubURL)
	}
	token := hubURL[len("tls://"):strings.LastIndex(hubURL, "@")]

	out, err = s2sExit(t, dir, "listen", "--output", "json", "--addr", "127.0.0.1:0", "--store", filepath.Join(dir, "u.db"), "--hub", hubURL, "--name", "untrusting")
	if err == nil || !bytes.Contains(out, []byte("not trusted")) || !bytes.Contains(out, []byte("--hub-ca FILE")) || bytes.Contains(out, []byte(token)) {
		t.Fatalf("without --hub-ca: %v: %s", err, out)
	}

	aStore := filepath.Join(dir, "a", "captures.db")
	a := StartListener(t, dir, "--store", aStore, "--hub", hubURL, "--hub-ca", ca, "--name", "alice")
	bodies := hubBodies(t, dir, "com.example.a", 3)
	postAll(t, h.URL, bodies)
	a.waitNotifications(t, 3)
	_ = a.Stop(t)
	wantExactly(t, aStore, bodies)

	// hub status trusts the hub's certificate through its store.
	if out, err := s2sExit(t, dir, "hub", "status", "--store", hubStore); err != nil || !bytes.Contains(out, []byte("alice")) {
		t.Fatalf("hub status: %v: %s", err, out)
	}

	// A second hub publishing to that NATS server (--nats): it trusts the CA with --nats-ca.
	b := filepath.Join(dir, "b", "captures.db")
	out, err = s2sExit(t, dir, "hub", "--addr", "127.0.0.1:0", "--nats", hubURL, "--store", b)
	if err == nil || !bytes.Contains(out, []byte("not trusted")) || !bytes.Contains(out, []byte("--nats-ca FILE")) || bytes.Contains(out, []byte(token)) {
		t.Fatalf("--nats without --nats-ca: %v: %s", err, out)
	}
	h2 := startReceiver(t, dir, "hub", "--nats", hubURL, "--nats-ca", ca, "--store", b)
	more := hubBodies(t, dir, "com.example.a", 2)
	postAll(t, h2.URL, more)
	a = StartListener(t, dir, "--store", aStore, "--hub", hubURL, "--hub-ca", ca, "--name", "alice")
	a.waitNotifications(t, 2)
	_ = a.Stop(t)
	wantExactly(t, aStore, append(bodies, more...))
	if out, err := s2sExit(t, dir, "hub", "status", "--store", b); err != nil || !bytes.Contains(out, []byte("alice")) {
		t.Fatalf("hub status of the second hub: %v: %s", err, out)
	}
	_ = h2.Stop(t)
	_ = h.Stop(t)

	// A self-signed certificate: the hub names it for --hub-ca, and trusting it is enough.
	self, err := testpki.NewTLSServer(testpki.TLSOptions{SelfSigned: true})
	if err != nil {
		t.Fatal(err)
	}
	selfCert, selfKey := filepath.Join(dir, "self.pem"), filepath.Join(dir, "self-key.pem")
	if err := os.WriteFile(selfCert, self.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(selfKey, self.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	h3 := startReceiver(t, dir, "hub", "--nats-listen", "127.0.0.1:0", "--nats-cert", selfCert, "--nats-key", selfKey, "--store", filepath.Join(dir, "h3", "captures.db"))
	if got, _ := h3.Ready["hubCaFile"].(string); got != selfCert {
		t.Fatalf("ready event's hubCaFile %q, want %q", got, selfCert)
	}
	cStore := filepath.Join(dir, "c", "captures.db")
	c := StartListener(t, dir, "--store", cStore, "--hub", h3.Ready["hub"].(string), "--hub-ca", selfCert, "--name", "carol")
	last := hubBodies(t, dir, "com.example.c", 1)
	postAll(t, h3.URL, last)
	c.waitNotifications(t, 1)
	_ = c.Stop(t)
	wantExactly(t, cStore, last)
}

// With a key per teammate bound to their --name (--nats-auth nkey:alice=PUBKEY,bob=PUBKEY), alice's
// listener gets its notifications; her seed with bob's name is refused and told why; a plain NATS
// client holding her seed cannot pull from bob's consumer. --nats-auth refuses a short token and
// an NKey given as a token (never printing a seed).
func TestHubNKeyPerTeammate(t *testing.T) {
	dir := t.TempDir()
	seeds, pubs := map[string]string{}, map[string]string{}
	for _, name := range []string{"alice", "bob"} {
		seeds[name] = filepath.Join(dir, name+".nk")
		out, err := s2sExit(t, dir, "hub", "nkey", seeds[name])
		if pubs[name] = strings.TrimSpace(string(out)); err != nil || !publicUserKey.MatchString(pubs[name]) {
			t.Fatalf("hub nkey: %v: %q", err, out)
		}
	}
	h := startReceiver(t, dir, "hub", "--nats-listen", "127.0.0.1:0", "--nats-auth", "nkey:alice="+pubs["alice"]+",bob="+pubs["bob"], "--store", filepath.Join(dir, "hub", "captures.db"))
	hubURL := h.Ready["hub"].(string)
	aStore, bStore := filepath.Join(dir, "a", "captures.db"), filepath.Join(dir, "b", "captures.db")
	a := StartListener(t, dir, "--store", aStore, "--hub", hubURL, "--hub-nkey", seeds["alice"], "--name", "alice")
	b := StartListener(t, dir, "--store", bStore, "--hub", hubURL, "--hub-nkey", seeds["bob"], "--name", "bob")
	bodies := hubBodies(t, dir, "com.example.a", 2)
	postAll(t, h.URL, bodies)
	a.waitNotifications(t, 2)
	b.waitNotifications(t, 2)
	_ = b.Stop(t)
	_ = a.Stop(t)
	wantExactly(t, aStore, bodies)
	wantExactly(t, bStore, bodies)

	// alice's seed, bob's name.
	out, err := s2sExit(t, dir, "listen", "--output", "json", "--addr", "127.0.0.1:0", "--store", filepath.Join(dir, "x.db"), "--hub", hubURL, "--hub-nkey", seeds["alice"], "--name", "bob")
	if err == nil || !bytes.Contains(out, []byte("does not let this NKey use")) || !bytes.Contains(out, []byte("--name")) {
		t.Fatalf("alice's key as bob: %v: %s", err, out)
	}
	// In lines mode too, the refusal is said once, in s2s's words: the server's raw permissions
	// violation is not logged before it.
	out, err = s2sExit(t, dir, "listen", "--output", "lines", "--addr", "127.0.0.1:0", "--store", filepath.Join(dir, "y.db"), "--hub", hubURL, "--hub-nkey", seeds["alice"], "--name", "bob")
	if err == nil || !bytes.Contains(out, []byte("does not let this NKey use")) || bytes.Contains(out, []byte("permissions violation")) {
		t.Fatalf("alice's key as bob, lines: %v: %s", err, out)
	}
	// A plain client with alice's seed: bob's consumer is out of reach.
	kp, err := hub.ReadUserSeed(seeds["alice"])
	if err != nil {
		t.Fatal(err)
	}
	violation := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nc, _, err := hub.Connect(ctx, hubURL, "alice", append(hub.Credentials{NKey: kp}.Options(), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case violation <- err:
		default:
		}
	}))...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Request("$JS.API.CONSUMER.MSG.NEXT."+hub.DefaultStream+".bob", []byte(`{"batch":1}`), 2*time.Second); err == nil {
		t.Fatal("alice's seed pulled from bob's consumer")
	}
	select {
	case v := <-violation:
		if !errors.Is(v, nats.ErrPermissionViolation) {
			t.Fatalf("pulling from bob's consumer: %v", v)
		}
	case <-ctx.Done():
		t.Fatal("pulling from bob's consumer: no permissions violation")
	}
	_ = h.Stop(t)

	// Tokens: too short, or an NKey.
	seed, err := os.ReadFile(seeds["alice"])
	if err != nil {
		t.Fatal(err)
	}
	seed = bytes.TrimSpace(seed)
	for arg, want := range map[string]string{"a": "at least 16", string(seed): "nkey:", pubs["bob"]: "nkey:"} {
		out, err := s2sExit(t, dir, "hub", "--nats-listen", "127.0.0.1:0", "--nats-auth", arg, "--store", filepath.Join(dir, "t", "captures.db"))
		if err == nil || !bytes.Contains(out, []byte(want)) || bytes.Contains(out, seed) {
			t.Errorf("--nats-auth %.4s…: %v: %s", arg, err, out)
		}
	}
}

// A listener that reaches a TLS hub by a host name its certificate does not name (127.0.0.1 for a
// certificate for hub.example.com) is told that alone, and to use the host the hub printed: not
// that --hub-ca lacks the authority (it has it), nor to add --hub-ca.
func TestHubTLSWrongHostName(t *testing.T) {
	dir := t.TempDir()
	pki, err := testpki.NewTLSServer(testpki.TLSOptions{Hosts: []string{"hub.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	cert, key, ca := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "ca.pem")
	for path, data := range map[string][]byte{cert: pki.CertPEM, key: pki.KeyPEM, ca: pki.CAPEM} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	h := startReceiver(t, dir, "hub", "--nats-listen", "127.0.0.1:0", "--nats-cert", cert, "--nats-key", key, "--store", filepath.Join(dir, "hub", "captures.db"))
	hubURL := h.Ready["hub"].(string)
	if !strings.Contains(hubURL, "@hub.example.com:") {
		t.Fatalf("hub URL %q: want the certificate's host name", hubURL)
	}
	ipURL := strings.Replace(hubURL, "@hub.example.com:", "@127.0.0.1:", 1)
	cases := map[string][]string{"with --hub-ca": {"--hub-ca", ca}}
	if runtime.GOOS != "darwin" && runtime.GOOS != "windows" { // Go's verifier checks the host name first
		cases["without"] = nil
	}
	for name, extra := range cases {
		args := append([]string{"listen", "--output", "json", "--addr", "127.0.0.1:0", "--store", filepath.Join(dir, "l.db"), "--hub", ipURL, "--name", "alice"}, extra...)
		out, err := s2sExit(t, dir, args...)
		if err == nil || !bytes.Contains(out, []byte("not for the host name in the URL (it names hub.example.com)")) ||
			!bytes.Contains(out, []byte("a host name the certificate names")) ||
			bytes.Contains(out, []byte("do not include")) || bytes.Contains(out, []byte("trust it with")) {
			t.Errorf("%s: %v: %s", name, err, out)
		}
	}
	_ = h.Stop(t)
}
