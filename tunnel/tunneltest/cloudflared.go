package tunneltest

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// FakeCloudflaredEnv selects the fake cloudflared's scenario; FakeCloudflaredPIDFile, when set,
// names a file the fake writes its process id to.
const (
	FakeCloudflaredEnv     = "S2S_FAKE_CLOUDFLARED"
	FakeCloudflaredPIDFile = "S2S_FAKE_CLOUDFLARED_PIDFILE"
	// FakeCloudflaredAddrFile, when set, names a file the fake writes its metrics (and edge)
	// address to once it serves.
	FakeCloudflaredAddrFile = "S2S_FAKE_CLOUDFLARED_ADDRFILE"
	// FakeCloudflaredLoopback, when "1", makes /quicktunnel hand out the metrics address itself
	// as the hostname, so that a self-check of the public URL stays on loopback (no DNS lookup).
	FakeCloudflaredLoopback = "S2S_FAKE_CLOUDFLARED_LOOPBACK"
)

// Fake cloudflared scenarios.
const (
	ScenarioOK             = "ok"            // URL, metrics, ready; POST /__crash on the metrics port makes it crash
	ScenarioStderrOnly     = "stderr-only"   // as ok, but /quicktunnel is missing (older builds)
	ScenarioRateLimit      = "ratelimit"     // older builds' 1015 / 429 wording, exit 1
	ScenarioRateLimitNew   = "ratelimit-new" // newer builds' "provisioning failed with status 429", exit 1
	ScenarioNoNetwork      = "dns"           // cannot resolve api.trycloudflare.com, exit 1
	ScenarioNeverReady     = "never-ready"   // URL printed, /ready stays 503
	ScenarioIgnoresSIGTERM = "stubborn"      // as ok, but ignores SIGTERM
)

// FakeQuickTunnelHost is the hostname the fake hands out.
const FakeQuickTunnelHost = "gentle-fake-tunnel-words.trycloudflare.com"

// FakeCloudflaredMain behaves like `cloudflared tunnel --url ... --metrics ...` in the scenario
// named by $S2S_FAKE_CLOUDFLARED, writing cloudflared's log format to stderr, and returns the exit
// code. Its metrics server also plays Cloudflare's edge: a request whose Host is the quick tunnel's
// name is proxied to --url.
func FakeCloudflaredMain(args []string, stderr io.Writer) int {
	fc := &fakeCloudflared{scenario: os.Getenv(FakeCloudflaredEnv), args: args, stderr: stderr, crash: make(chan struct{}, 1)}
	if fc.scenario == "" {
		fc.scenario = ScenarioOK
	}
	fc.ready = fc.scenario != ScenarioNeverReady
	if p := os.Getenv(FakeCloudflaredPIDFile); p != "" {
		if err := os.WriteFile(p, []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
			fmt.Fprintln(stderr, "fake cloudflared:", err)
			return 1
		}
	}
	if len(args) == 0 || args[0] != "tunnel" {
		fmt.Fprintln(stderr, "fake cloudflared: only `tunnel` is implemented")
		return 2
	}
	fs := flag.NewFlagSet("cloudflared tunnel", flag.ContinueOnError)
	fs.SetOutput(stderr)
	origin := fs.String("url", "", "origin")
	metrics := fs.String("metrics", "", "metrics address")
	fs.Bool("no-autoupdate", false, "")
	fs.String("protocol", "", "")
	fs.String("grace-period", "", "")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fc.scenario == ScenarioIgnoresSIGTERM {
		signal.Ignore(syscall.SIGTERM)
	}
	term := make(chan os.Signal, 1)
	if fc.scenario != ScenarioIgnoresSIGTERM {
		signal.Notify(term, syscall.SIGTERM, os.Interrupt)
	}
	if code, failed := fc.provision(); failed {
		return code
	}

	target, err := url.Parse(*origin)
	if err != nil || target.Host == "" {
		fc.logf("ERR", "invalid --url %q", *origin)
		return 1
	}
	ln, err := net.Listen("tcp", *metrics)
	if err != nil {
		fc.logf("ERR", "failed to start the metrics server: %v", err)
		return 1
	}
	fc.logf("INF", "Starting metrics server on %s/metrics", ln.Addr())
	hostname := FakeQuickTunnelHost
	if os.Getenv(FakeCloudflaredLoopback) == "1" {
		hostname = ln.Addr().String()
	}
	srv := &http.Server{Handler: fc.handler(target, hostname), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }() // ends with Shutdown
	if p := os.Getenv(FakeCloudflaredAddrFile); p != "" {
		if err := os.WriteFile(p, []byte(ln.Addr().String()), 0o600); err != nil {
			fmt.Fprintln(stderr, "fake cloudflared:", err)
			return 1
		}
	}
	if fc.scenario != ScenarioNeverReady {
		fc.logf("INF", "Registered tunnel connection connIndex=0 connection=00000000-0000-0000-0000-000000000000 event=0 ip=198.41.192.7 location=ams01 protocol=quic")
	}

	select {
	case <-term:
		fc.logf("INF", "Initiating graceful shutdown due to signal terminated ...")
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx) // exiting anyway
		return 0
	case <-fc.crash:
		fc.logf("ERR", "Serve tunnel error error=\"connection with edge closed\" connIndex=0")
		fc.logf("ERR", "panic: runtime error: the fake was asked to crash")
		return 2
	}
}

// fakeCloudflared is one run of the fake.
type fakeCloudflared struct {
	scenario string
	args     []string
	stderr   io.Writer
	mu       sync.Mutex
	ready    bool          // the edge connection is up (/ready says 200); under mu
	crash    chan struct{} // POST /__crash
}

// logf writes one line in cloudflared's log format.
func (fc *fakeCloudflared) logf(level, format string, a ...any) {
	fmt.Fprintf(fc.stderr, "%s %s %s\n", time.Now().UTC().Format(time.RFC3339), level, fmt.Sprintf(format, a...))
}

// provision asks for the quick tunnel as cloudflared does: the failure scenarios end here with
// their exit code (failed), the others print the box with the public URL.
func (fc *fakeCloudflared) provision() (code int, failed bool) {
	fc.logf("INF", "Thank you for trying Cloudflare Tunnel. Doing so, without a Cloudflare account, is a quick way to experiment and try it out. However, be aware that these account-less Tunnels have no uptime guarantee, are subject to the Cloudflare Online Services Terms of Use (https://www.cloudflare.com/website-terms/), and Cloudflare reserves the right to investigate your use of Tunnels for violations of such terms. If you intend to use Tunnels in production you should use a pre-created named tunnel by following: https://developers.cloudflare.com/cloudflare-one/connections/connect-networks")
	fc.logf("INF", "Requesting new quick Tunnel on trycloudflare.com...")
	switch fc.scenario {
	case ScenarioRateLimit:
		fc.logf("ERR", `Error unmarshaling QuickTunnel response: error code: 1015 error="invalid character 'e' looking for beginning of value" status_code="429 Too Many Requests"`)
		fc.logf("ERR", "failed to unmarshal quick Tunnel: invalid character 'e' looking for beginning of value")
		return 1, true
	case ScenarioRateLimitNew:
		fc.logf("ERR", "quick tunnel provisioning failed with status 429 Too Many Requests: error code: 1015")
		return 1, true
	case ScenarioNoNetwork:
		fc.logf("ERR", `failed to request quick Tunnel: Post "https://api.trycloudflare.com/tunnel": dial tcp: lookup api.trycloudflare.com on 127.0.0.53:53: no such host`)
		return 1, true
	}
	publicURL := "https://" + FakeQuickTunnelHost
	box := "|  Your quick Tunnel has been created! Visit it at (it may take some time to be reachable):  |"
	fc.logf("INF", "+%s+", strings.Repeat("-", len(box)-2))
	fc.logf("INF", "%s", box)
	fc.logf("INF", "|  %-*s|", len(box)-4, publicURL)
	fc.logf("INF", "+%s+", strings.Repeat("-", len(box)-2))
	return 0, false
}

// handler is the metrics server (/ready, /quicktunnel, and the test's /__ controls), which also
// plays Cloudflare's edge: a request for the tunnel's hostname is proxied to target.
func (fc *fakeCloudflared) handler(target *url.URL, hostname string) http.Handler {
	edge := httputil.NewSingleHostReverseProxy(target)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fc.mu.Lock()
		defer fc.mu.Unlock()
		if !fc.ready {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"status":503,"readyConnections":0,"connectorId":"00000000-0000-0000-0000-000000000000"}`)
			return
		}
		fmt.Fprint(w, `{"status":200,"readyConnections":1,"connectorId":"00000000-0000-0000-0000-000000000000"}`)
	})
	if fc.scenario != ScenarioStderrOnly {
		mux.HandleFunc("GET /quicktunnel", func(w http.ResponseWriter, r *http.Request) {
			_ = json.NewEncoder(w).Encode(map[string]string{"hostname": hostname}) // the client may be gone
		})
	}
	mux.HandleFunc("GET /__args", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(fc.args) // the client may be gone
	})
	// POST /__edge?up=0 drops the edge connection, up=1 restores it.
	mux.HandleFunc("POST /__edge", func(w http.ResponseWriter, r *http.Request) {
		fc.mu.Lock()
		fc.ready = r.URL.Query().Get("up") == "1"
		up := fc.ready
		fc.mu.Unlock()
		if up {
			fc.logf("INF", "Registered tunnel connection connIndex=0 location=ams01 protocol=quic")
		} else {
			fc.logf("ERR", "Connection terminated error=\"connection with edge closed\" connIndex=0")
		}
	})
	mux.HandleFunc("POST /__crash", func(w http.ResponseWriter, r *http.Request) {
		fc.crash <- struct{}{}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		metricsPath := strings.HasPrefix(r.URL.Path, "/__") || r.URL.Path == "/ready" || r.URL.Path == "/quicktunnel"
		if !metricsPath && (strings.EqualFold(strings.Split(r.Host, ":")[0], FakeQuickTunnelHost) || r.Host == hostname) {
			edge.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}
