//go:build unix

package tunnel

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/tunnel/tunneltest"
)

// fakeCloudflared installs the test binary as "cloudflared" in a fresh directory and returns a
// provider that runs it in scenario, with the pid file the fake writes.
func fakeCloudflared(t *testing.T, scenario string) (*Cloudflared, string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "cloudflared")
	if err := os.Symlink(self, bin); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, "pid")
	return &Cloudflared{
		Binary:       bin,
		Env:          []string{tunneltest.FakeCloudflaredEnv + "=" + scenario, tunneltest.FakeCloudflaredPIDFile + "=" + pidFile},
		StartTimeout: 10 * time.Second,
		PollInterval: 10 * time.Millisecond,
		Grace:        2 * time.Second,
	}, pidFile
}

// processGone reports whether the fake whose pid is in pidFile has ended.
func processGone(t *testing.T, pidFile string) bool {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(string(b))
	return !processAlive(pid)
}

func metricsAddr(t *testing.T, tun Tunnel) string {
	t.Helper()
	m, ok := tun.(interface{ MetricsAddr() string })
	if !ok {
		t.Fatalf("%T has no MetricsAddr", tun)
	}
	return m.MetricsAddr()
}

func TestCloudflaredQuickTunnel(t *testing.T) {
	for _, scenario := range []string{tunneltest.ScenarioOK, tunneltest.ScenarioStderrOnly} {
		t.Run(scenario, func(t *testing.T) {
			ctx := testCtx(t)
			local, got := localReceiver(t)
			p, pidFile := fakeCloudflared(t, scenario)
			tun, err := p.Start(ctx, Target{Addr: local})
			if err != nil {
				t.Fatal(err)
			}
			if tun.URL() != "https://"+tunneltest.FakeQuickTunnelHost {
				t.Errorf("URL = %q", tun.URL())
			}
			metrics := metricsAddr(t, tun)

			var args []string
			getJSON(t, ctx, "http://"+metrics+"/__args", "", &args)
			for _, want := range [][]string{{"--url", "http://" + local}, {"--no-autoupdate"}, {"--metrics", metrics}} {
				i := slices.Index(args, want[0])
				if i < 0 || (len(want) == 2 && (i+1 >= len(args) || args[i+1] != want[1])) {
					t.Errorf("cloudflared args %q lack %q", args, want)
				}
			}

			// Through the fake edge to the origin cloudflared was pointed at.
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+metrics+"/apple", strings.NewReader("via edge"))
			req.Host = tunneltest.FakeQuickTunnelHost
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if r := recv(t, ctx, got, "request at the receiver"); r != "POST /apple via edge" {
				t.Errorf("receiver saw %q", r)
			}

			if err := tun.Close(); err != nil {
				t.Fatal(err)
			}
			if !processGone(t, pidFile) {
				t.Error("cloudflared still runs after Close")
			}
			if tun.Err() != nil {
				t.Errorf("Err() after Close = %v", tun.Err())
			}
		})
	}
}

func getJSON(t *testing.T, ctx context.Context, url, host string, v any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestCloudflaredCrashIsAnEvent(t *testing.T) {
	ctx := testCtx(t)
	local, _ := localReceiver(t)
	p, _ := fakeCloudflared(t, tunneltest.ScenarioOK)
	tun, err := p.Start(ctx, Target{Addr: local})
	if err != nil {
		t.Fatal(err)
	}
	defer tun.Close()
	resp, err := http.Post("http://"+metricsAddr(t, tun)+"/__crash", "text/plain", nil)
	if err == nil {
		resp.Body.Close()
	}
	e := nextEvent(t, ctx, tun)
	if e.Kind != EventFailed || !strings.Contains(e.Err.Error(), "stopped unexpectedly") {
		t.Fatalf("event = %+v, want a failure saying cloudflared stopped", e)
	}
	if !strings.Contains(e.Err.Error(), "connection with edge closed") && !strings.Contains(e.Err.Error(), "panic") {
		t.Errorf("the failure does not quote cloudflared: %v", e.Err)
	}
	waitDone(t, ctx, tun)
	if tun.Err() == nil {
		t.Error("Err() is nil after a crash")
	}
}

func TestCloudflaredEdgeLossIsAnEvent(t *testing.T) {
	ctx := testCtx(t)
	local, _ := localReceiver(t)
	p, _ := fakeCloudflared(t, tunneltest.ScenarioOK)
	p.HealthInterval = 10 * time.Millisecond
	tun, err := p.Start(ctx, Target{Addr: local})
	if err != nil {
		t.Fatal(err)
	}
	defer tun.Close()
	edge := func(up string) {
		resp, err := http.Post("http://"+metricsAddr(t, tun)+"/__edge?up="+up, "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	edge("0")
	if e := nextEvent(t, ctx, tun); e.Kind != EventDown || e.Err == nil {
		t.Fatalf("got %+v, want down", e)
	}
	edge("1")
	if e := nextEvent(t, ctx, tun); e.Kind != EventUp || e.URL != tun.URL() {
		t.Fatalf("got %+v, want up", e)
	}
}

func TestCloudflaredStartFailures(t *testing.T) {
	tests := []struct {
		scenario string
		want     Class
		hint     string
	}{
		{tunneltest.ScenarioRateLimit, ClassRateLimited, "wait"},
		{tunneltest.ScenarioRateLimitNew, ClassRateLimited, "wait"},
		{tunneltest.ScenarioNoNetwork, ClassNetwork, "network"},
		{tunneltest.ScenarioNeverReady, ClassTimeout, "7844"},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			ctx := testCtx(t)
			local, _ := localReceiver(t)
			p, pidFile := fakeCloudflared(t, tt.scenario)
			if tt.want == ClassTimeout {
				p.StartTimeout = 500 * time.Millisecond
			}
			tun, err := p.Start(ctx, Target{Addr: local})
			if err == nil {
				tun.Close()
				t.Fatal("Start succeeded")
			}
			if ClassOf(err) != tt.want {
				t.Fatalf("err = %v (class %q), want %q", err, ClassOf(err), tt.want)
			}
			var te *Error
			errors.As(err, &te)
			if !strings.Contains(te.Hint, tt.hint) {
				t.Errorf("hint %q does not mention %q", te.Hint, tt.hint)
			}
			if !processGone(t, pidFile) {
				t.Error("cloudflared still runs after a failed Start")
			}
		})
	}
}

func TestCloudflaredKilledWhenIgnoringSIGTERM(t *testing.T) {
	ctx := testCtx(t)
	local, _ := localReceiver(t)
	p, pidFile := fakeCloudflared(t, tunneltest.ScenarioIgnoresSIGTERM)
	p.Grace = 200 * time.Millisecond
	tun, err := p.Start(ctx, Target{Addr: local})
	if err != nil {
		t.Fatal(err)
	}
	tun.Close()
	if !processGone(t, pidFile) {
		t.Error("cloudflared survived Close")
	}
}

func TestCloudflaredBinaryMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := (&Cloudflared{}).Start(testCtx(t), Target{Addr: "127.0.0.1:8080"})
	if ClassOf(err) != ClassBinaryMissing || !strings.Contains(err.Error(), "install cloudflared") {
		t.Fatalf("err = %v, want binary-missing with install advice", err)
	}
}

func TestCloudflaredFoundOnPATH(t *testing.T) {
	p, _ := fakeCloudflared(t, tunneltest.ScenarioOK)
	t.Setenv("PATH", filepath.Dir(p.Binary))
	p.Binary = ""
	local, _ := localReceiver(t)
	tun, err := p.Start(testCtx(t), Target{Addr: local})
	if err != nil {
		t.Fatal(err)
	}
	tun.Close()
}

func TestCloudflaredFailureLines(t *testing.T) {
	tests := []struct {
		line string
		want Class
	}{
		{`2023-01-16T08:32:58Z ERR Error unmarshaling QuickTunnel response: error code: 1015 error="invalid character 'e' looking for beginning of value" status_code="429 Too Many Requests"`, ClassRateLimited},
		{`{"level":"error","message":"quick tunnel provisioning failed with status 429"}`, ClassRateLimited},
		// A port or a fraction of a second holding 429 is not Cloudflare's answer.
		{`2026-12-04T20:14:03Z INF Starting tunnel originService=http://127.0.0.1:42915`, ""},
		{`2026-12-04T20:14:03.429Z INF Connection registered connIndex=0`, ""},
		{`2023-01-16T08:32:58Z ERR failed to request quick Tunnel: Post "https://api.trycloudflare.com/tunnel": dial tcp: lookup api.trycloudflare.com: no such host`, ClassNetwork},
		{`2023-01-16T08:32:58Z INF Registered tunnel connection connIndex=0`, ""},
		{`2023-01-16T08:32:58Z INF |  https://oklahoma-solo-younger-truck.trycloudflare.com  |`, ""},
	}
	for _, tt := range tests {
		if got, _ := cloudflaredFailure(tt.line); got != tt.want {
			t.Errorf("cloudflaredFailure(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
	if u := quickURLRE.FindString(tests[len(tests)-1].line); u != "https://oklahoma-solo-younger-truck.trycloudflare.com" {
		t.Errorf("URL from the box = %q", u)
	}
}
