package cmd

import (
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
		{[]string{"--tunnel", "bogus"}, "", true},
	} {
		f, _, _, _ := TestIO()
		c := newListenCmd(&Factory{IO: f})
		if err := c.ParseFlags(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		err := c.Args(c, c.Flags().Args())
		if tc.bad {
			if err == nil || ExitCode(err) != ExitUsage {
				t.Errorf("%v: err %v, want a usage error", tc.args, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if got := c.Flags().Lookup("tunnel").Value.String(); got != tc.want {
			t.Errorf("%v: tunnel %q, want %q", tc.args, got, tc.want)
		}
	}
}
