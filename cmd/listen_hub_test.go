package cmd

import (
	"bytes"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/hub"
)

func TestLoopbackListen(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:4222": true, "localhost:4222": true, "[::1]:4222": true, "127.1.2.3:0": true,
		"0.0.0.0:4222": false, ":4222": false, "[::]:4222": false, "192.168.1.5:4222": false, "hub.example.com:4222": false, "nonsense": false,
	} {
		if got := loopbackListen(addr); got != want {
			t.Errorf("loopbackListen(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestHubServeAuthFlags(t *testing.T) {
	for _, c := range []struct {
		o    hubServeOptions
		fail bool
	}{
		{o: hubServeOptions{NatsAuth: "nkey"}},
		{o: hubServeOptions{NatsAuth: "some-long-team-token"}},
		{o: hubServeOptions{NatsAuth: "a"}, fail: true},
		{o: hubServeOptions{NatsAuth: "fifteen-chars-x"}, fail: true},
		{o: hubServeOptions{NatsAuth: "SUAMK2FG4MI6UE3ACF3FK3OIQBCEIEZV7NSWFFEW63UXMRLFM2XLAXK4GY"}, fail: true}, // a seed's form
		{o: hubServeOptions{NatsAuth: "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4"}, fail: true},   // a public key's
		{o: hubServeOptions{NatsAuth: "nkey:alice=UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4"}},
		{o: hubServeOptions{NatsAuth: "nkey:UNOTAKEY"}, fail: true},
		{o: hubServeOptions{NatsURL: "nats://x@h:4222", NatsAuth: "nkey"}, fail: true},
		{o: hubServeOptions{NatsURL: "nats://x@h:4222", NatsCert: "c.pem", NatsKey: "k.pem"}, fail: true},
		{o: hubServeOptions{NatsCA: "ca.pem"}, fail: true},
		{o: hubServeOptions{NatsCert: "c.pem"}, fail: true},
	} {
		c.o.MaxAge, c.o.Replicas = hub.DefaultMaxAge, 1
		err := c.o.validate(time.Now())
		if (err != nil) != c.fail {
			t.Errorf("%+v: %v", c.o, err)
		}
	}
}

// The hub's start message tells teammates what they need, and warns when NATS is reachable
// beyond this machine in clear.
func TestPrintHubStart(t *testing.T) {
	for _, c := range []struct {
		name    string
		serve   hubServeOptions
		run     *hubRun
		want    []string
		notWant []string
	}{
		{
			name:    "token on loopback",
			serve:   hubServeOptions{NatsListen: "127.0.0.1:4222"},
			run:     &hubRun{URL: "nats://tok@127.0.0.1:4222"},
			want:    []string{"on nats://***@127.0.0.1:4222\n", "Teammates run: s2s listen --hub nats://tok@127.0.0.1:4222 --name"},
			notWant: []string{"warning", "--hub-nkey", "--hub-ca"},
		},
		{
			name:  "token everywhere in clear",
			serve: hubServeOptions{NatsListen: "0.0.0.0:4222"},
			run:   &hubRun{URL: "nats://tok@0.0.0.0:4222"},
			want:  []string{"0.0.0.0 means every address of this machine", "warning: NATS listens on 0.0.0.0:4222 without TLS"},
		},
		{
			name:    "shared NKey and a self-signed certificate",
			serve:   hubServeOptions{NatsListen: "0.0.0.0:4222", nkeyAuth: true, cert: &tls.Certificate{}},
			run:     &hubRun{URL: "tls://hub.example.com:4222", NKeyFile: "/data/hub-nkey.seed", CAFile: "/etc/hub.pem"},
			want:    []string{"seed file /data/hub-nkey.seed privately", "self-signed certificate /etc/hub.pem", "--hub tls://hub.example.com:4222 --hub-nkey hub-nkey.seed --hub-ca hub.pem --name"},
			notWant: []string{"warning", "every address"},
		},
		{
			name:  "teammates' own keys",
			serve: hubServeOptions{NatsListen: "127.0.0.1:4222", nkeyAuth: true, nkeys: []hub.ListenerKey{{NKey: "U1"}, {NKey: "U2", Consumer: "bob"}}},
			run:   &hubRun{URL: "nats://127.0.0.1:4222"},
			want:  []string{"for 2 teammate key(s)", "1 key(s) bound to a consumer", "1 key(s) without NAME= can use any teammate's consumer", "--hub-nkey THEIR-SEED-FILE"},
		},
	} {
		f := testFactory()
		o := &listenOptions{f: f, hubServe: &c.serve}
		o.printHubStart(c.run)
		got := f.IO.ErrOut.(*bytes.Buffer).String()
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: lacks %q:\n%s", c.name, w, got)
			}
		}
		for _, w := range c.notWant {
			if strings.Contains(got, w) {
				t.Errorf("%s: has %q:\n%s", c.name, w, got)
			}
		}
	}
}
