package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestListenTunnelFlagForms(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
		bad  bool
	}{
		{[]string{}, "none", false},
		{[]string{"--tunnel"}, "ssh", false},
		{[]string{"--tunnel", "cloudflared"}, "cloudflared", false},
		{[]string{"--tunnel=ngrok"}, "ngrok", false},
		{[]string{"--tunnel", "ssh=127.0.0.1:2222"}, "ssh=127.0.0.1:2222", false},
		{[]string{"stray"}, "", true},
		{[]string{"--tunnel", "bogus"}, "unknown --tunnel provider \"bogus\"", true},
	} {
		var o *listenOptions
		err := execFlags(t, newListenCmd(testFactory(), keep(&o)), tc.args...)
		if tc.bad {
			if err == nil || ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v: err %v, want a usage error saying %q", tc.args, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if o.Tunnel != tc.want {
			t.Errorf("%v: tunnel %q, want %q", tc.args, o.Tunnel, tc.want)
		}
	}
}

// TestListenFlagValues: wrong values are usage errors found before anything is opened; the
// environment is accepted however it is capitalised, as in s2s captures list --env.
func TestListenFlagValues(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-body", "0"}, "--max-body must be a positive number of bytes, not 0"},
		{[]string{"--max-body", "-5"}, "--max-body must be a positive number of bytes, not -5"},
		{[]string{"--addr", "nonsense"}, `--addr "nonsense": use HOST:PORT`},
		{[]string{"--addr", "127.0.0.1:99999"}, `--addr "127.0.0.1:99999": use HOST:PORT`},
		{[]string{"--environment", "Xcode"}, `--environment must be Sandbox or Production, not "Xcode"`},
		{[]string{"--root", filepath.Join(dir, "missing.pem")}, "reading --root"},
		// The forwarding flags are checked before the store is opened too.
		{[]string{"--forward-to", "3000", "--forward-retries", "bogus"}, `retry schedule "bogus"`},
		{[]string{"--forward-to", "3000", "--forward-timeout", "-1s"}, "--forward-timeout must be positive"},
		{[]string{"--forward-invalid"}, "--forward-invalid needs at least one --forward-to target"},
		{[]string{"--hub-ack-wait", "5s"}, "--name, --hub-filter, --hub-ack-wait, --hub-nkey and --hub-ca go with --hub"},
		{[]string{"--hub-nkey", "seed.nk"}, "--hub-nkey and --hub-ca go with --hub"},
		{[]string{"--hub-ca", "ca.pem"}, "--hub-nkey and --hub-ca go with --hub"},
		{[]string{"--hub", "nats://127.0.0.1:1", "--name", "a", "--hub-nkey", filepath.Join(dir, "missing.nk")}, "--hub-nkey: NKey seed file"},
		{[]string{"--hub", "tls://127.0.0.1:1", "--name", "a", "--hub-ca", filepath.Join(dir, "missing.pem")}, "--hub-ca:"},
		{[]string{"--hub", "nats://t@127.0.0.1:1", "--name", "a", "--hub-ack-wait", "100ms"}, "--hub-ack-wait must be from 1s to 1h, not 100ms"},
		// Accepted: the error is the next check's, about --addr.
		{[]string{"--environment", "sandbox", "--addr", "x"}, `--addr "x"`},
		{[]string{"--environment", "production", "--addr", "x"}, `--addr "x"`},
	} {
		args := append([]string{"listen", "--output", "lines", "--store", filepath.Join(dir, "c.db")}, tc.args...)
		code, _, stderr := runArgs(t, args...)
		if code != ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 with %q", tc.args, code, stderr, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "c.db")); err == nil {
		t.Error("a usage error created the store")
	}
}

// TestListenWarnsOfUnknownForwardTypes: a misspelt type rule would route nothing without a word,
// so listen says so; it still starts (here the next flag stops it), as Apple adds types.
func TestListenWarnsOfUnknownForwardTypes(t *testing.T) {
	dir := t.TempDir()
	_, _, stderr := runArgs(t, "listen", "--output", "lines", "--store", filepath.Join(dir, "c.db"),
		"--forward-to", "type=REFUN,DID_RENEW=>3000", "--forward-retries", "bogus")
	if !strings.Contains(stderr, `warning: --forward-to "type=REFUN,DID_RENEW=>3000": REFUN is not a notificationType`) ||
		strings.Contains(stderr, "DID_RENEW is not") {
		t.Errorf("stderr %q", stderr)
	}
	_, _, stderr = runArgs(t, "listen", "--output", "lines", "--store", filepath.Join(dir, "c.db"),
		"--forward-to", "env=Sandbox,3000")
	if !strings.Contains(stderr, `put the rules before "=>"`) {
		t.Errorf("rules without => : stderr %q", stderr)
	}
	code, _, stderr := runArgs(t, "listen", "--output", "lines", "--store", filepath.Join(dir, "c.db"), "--forward-invalid")
	if code != ExitUsage || !strings.Contains(stderr, "--forward-invalid needs at least one --forward-to target") {
		t.Errorf("--forward-invalid alone: exit %d, stderr %q", code, stderr)
	}
}
