package cmd

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// execFlags runs one command alone on args, as the root runs it (flag and argument errors are
// typed usage errors). The command is built with a runF that keeps the parsed options, so a test
// checks them without calling ParseFlags by hand or running the command.
func execFlags(t *testing.T, c *cobra.Command, args ...string) error {
	t.Helper()
	c.SetFlagErrorFunc(flagUsageError)
	typedArgErrors(c)
	c.SetArgs(args)
	c.SetIn(strings.NewReader(""))
	c.SetOut(io.Discard)
	c.SetErr(io.Discard)
	c.SilenceUsage, c.SilenceErrors = true, true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.ExecuteContext(ctx)
}

// keep is a runF that stores the options it is given in *into.
func keep[T any](into **T) func(*T) error {
	return func(o *T) error { *into = o; return nil }
}

func testFactory() *Factory {
	ios, _, _, _ := TestIO()
	return &Factory{IO: ios, Getenv: func(string) string { return "" }, Now: time.Now}
}

func TestReplayFlags(t *testing.T) {
	var o *replayOptions
	err := execFlags(t, newReplayCmd(testFactory(), keep(&o)), "12", "13", "--type", "REFUND", "--type", "DID_RENEW/BILLING_RECOVERY",
		"--resign", "--set", "data.status=2", "--rate", "2/s", "--to", "3000")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.IDs, []int64{12, 13}) || !slices.Equal(o.Type, []string{"REFUND", "DID_RENEW/BILLING_RECOVERY"}) ||
		!o.Resign || !slices.Equal(o.Sets, []string{"data.status=2"}) || o.Rate != "2/s" || o.To != "3000" || o.Limit != 100 {
		t.Errorf("options %+v", o)
	}
	if err := execFlags(t, newReplayCmd(testFactory(), keep(&o)), "12", "abc"); ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), `"abc"`) {
		t.Errorf("a capture ID that is not a number: %v, want a usage error naming it", err)
	}
}

func TestDecodeFlags(t *testing.T) {
	var o *decodeOptions
	err := execFlags(t, newDecodeCmd(testFactory(), keep(&o)), "a.json", "-", "--json", "--at", "2026-01-02T03:04:05Z",
		"--bundle-id", "com.example", "--app-apple-id", "42", "--root", "a.pem", "--root", "b.pem")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Args, []string{"a.json", "-"}) || !o.JSON || o.At != "2026-01-02T03:04:05Z" || o.BundleID != "com.example" ||
		o.AppAppleID != 42 || !slices.Equal(o.Roots, []string{"a.pem", "b.pem"}) {
		t.Errorf("options %+v", o)
	}
	if err := execFlags(t, newDecodeCmd(testFactory(), keep(&o)), "--app-apple-id", "x"); ExitCode(err) != ExitUsage {
		t.Errorf("--app-apple-id x: %v, want a usage error", err)
	}
}

func TestProbeFlags(t *testing.T) {
	var o *probeOptions
	if err := execFlags(t, newProbeCmd(testFactory(), keep(&o)), "https://example.com/apple", "--timeout", "2s", "--json"); err != nil {
		t.Fatal(err)
	}
	if o.URL != "https://example.com/apple" || o.Timeout != 2*time.Second || !o.JSON {
		t.Errorf("options %+v", o)
	}
	if err := execFlags(t, newProbeCmd(testFactory(), keep(&o))); ExitCode(err) != ExitUsage {
		t.Errorf("no URL: %v, want a usage error", err)
	}
}

func TestSubscriptionFlags(t *testing.T) {
	var o *subscriptionOptions
	if err := execFlags(t, newSubscriptionCmd(testFactory(), keep(&o)), "2000000123456789", "--json"); err != nil {
		t.Fatal(err)
	}
	if o.TransactionID != "2000000123456789" || !o.JSON {
		t.Errorf("options %+v", o)
	}
	if err := execFlags(t, newSubscriptionCmd(testFactory(), keep(&o))); ExitCode(err) != ExitUsage {
		t.Errorf("no transaction ID: %v, want a usage error", err)
	}
}

func TestCapturesFlags(t *testing.T) {
	co := &capturesOptions{f: testFactory()}
	var rm *capturesRmOptions
	c := newCapturesRmCmd(co, keep(&rm))
	co.addFlags(c)
	if err := execFlags(t, c, "4", "5", "--store", "x.db", "--json"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rm.IDs, []int64{4, 5}) || rm.StorePath != "x.db" || !rm.JSON || rm.All {
		t.Errorf("rm options %+v", rm)
	}
	for _, args := range [][]string{{}, {"4", "--all"}} {
		co := &capturesOptions{f: testFactory()}
		if err := execFlags(t, newCapturesRmCmd(co, keep(&rm)), args...); ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "IDs or --all") {
			t.Errorf("rm %v: %v, want a usage error", args, err)
		}
	}

	var show *capturesShowOptions
	co = &capturesOptions{f: testFactory()}
	if err := execFlags(t, newCapturesShowCmd(co, keep(&show)), "42", "--root", "a.pem"); err != nil {
		t.Fatal(err)
	}
	if show.ID != 42 || !slices.Equal(show.Roots, []string{"a.pem"}) {
		t.Errorf("show options %+v", show)
	}
	var export *capturesExportOptions
	if err := execFlags(t, newCapturesExportCmd(co, keep(&export)), "x"); ExitCode(err) != ExitUsage {
		t.Errorf("export x: %v, want a usage error", err)
	}
}

func TestConnectSetFlags(t *testing.T) {
	o := &connectOptions{f: testFactory()}
	var got *connectOptions
	c := newConnectSetCmd(o, keep(&got))
	o.addFlags(c)
	if err := execFlags(t, c, "https://example.com/apple", "--bundle-id", "com.example", "--environment", "Production", "--yes"); err != nil {
		t.Fatal(err)
	}
	if got.URL != "https://example.com/apple" || got.BundleID != "com.example" || got.Environment != "Production" || !got.Yes || got.Version != "V2" {
		t.Errorf("options %+v", got)
	}
	o = &connectOptions{f: testFactory()}
	if err := execFlags(t, newConnectSetCmd(o, keep(&got))); ExitCode(err) != ExitUsage {
		t.Errorf("no URL: %v, want a usage error", err)
	}
}

func TestHubFlags(t *testing.T) {
	var o *listenOptions
	if err := execFlags(t, newHubCmd(testFactory(), keep(&o)), "--tunnel", "cloudflared", "--nats-listen", "0.0.0.0:4222", "--replicas", "3"); err != nil {
		t.Fatal(err)
	}
	if o.Tunnel != "cloudflared" || o.hubServe == nil || o.hubServe.NatsListen != "0.0.0.0:4222" || o.hubServe.Replicas != 3 {
		t.Errorf("options %+v, hub %+v", o, o.hubServe)
	}
	if err := execFlags(t, newHubCmd(testFactory(), keep(&o)), "stray"); ExitCode(err) != ExitUsage {
		t.Errorf("hub stray: %v, want a usage error", err)
	}

	var st *hubStatusOptions
	if err := execFlags(t, newHubStatusCmd(testFactory(), keep(&st)), "--store", "h.db", "--nats-ca", "ca.pem", "--json"); err != nil {
		t.Fatal(err)
	}
	if st.StorePath != "h.db" || st.CAFile != "ca.pem" || !st.JSON {
		t.Errorf("status options %+v", st)
	}
}
