package cmd

import (
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
		{o: hubServeOptions{NatsAuth: "some-token"}},
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
