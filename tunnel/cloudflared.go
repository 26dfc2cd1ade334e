package tunnel

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/s2s-dev/s2s/internal/termsafe"
)

// Cloudflared runs the user's cloudflared binary for a Cloudflare quick tunnel (no account, a new
// random *.trycloudflare.com name each start). The URL and readiness come from cloudflared's
// metrics server; its stderr is the fallback for the URL and the source of error causes.
type Cloudflared struct {
	// Binary is the program to run; empty means "cloudflared" looked up on PATH.
	Binary string
	// Env is added to the child's environment.
	Env []string
	// StartTimeout bounds Start; zero means DefaultStartTimeout.
	StartTimeout time.Duration
	// PollInterval is how often the metrics server is asked; zero means 100 ms.
	PollInterval time.Duration
	// HealthInterval is how often /ready is asked once the tunnel is up; zero means 5 s.
	HealthInterval time.Duration
	// Grace is how long cloudflared gets to stop after SIGTERM before it is killed; zero means 5 s.
	Grace time.Duration
	// Log receives cloudflared's output; nil discards it.
	Log io.Writer
}

func (p *Cloudflared) Name() string { return "cloudflared" }

// quickURLRE finds the quick tunnel's URL in cloudflared's log lines, boxed or JSON.
var quickURLRE = regexp.MustCompile(`https://[a-z0-9-]+\.trycloudflare\.com`)

// rateLimitedRE finds HTTP status 429 in a log line ("status 429", status_code="429 ..."). A bare
// "429" is not enough: the line may quote the origin's URL, whose port or a timestamp can hold it.
var rateLimitedRE = regexp.MustCompile(`status[_a-z]*[=:" ]*429\b`)

// cloudflaredFailure sorts one stderr line into a failure class, or "".
func cloudflaredFailure(line string) (Class, string) {
	l := strings.ToLower(line)
	switch {
	case rateLimitedRE.MatchString(l) || strings.Contains(l, "too many requests") || strings.Contains(l, "error code: 1015"):
		return ClassRateLimited, "Cloudflare is rate-limiting quick tunnels from your address; wait a few minutes, or use --tunnel ssh or ngrok"
	case strings.Contains(l, "failed to request quick tunnel") || strings.Contains(l, "no such host") ||
		strings.Contains(l, "network is unreachable") || strings.Contains(l, "connection refused") && strings.Contains(l, "api.trycloudflare.com"):
		return ClassNetwork, "cloudflared could not reach api.trycloudflare.com; check your network or proxy"
	case strings.Contains(l, "cert.pem") || strings.Contains(l, "unauthorized") || strings.Contains(l, "invalid token"):
		return ClassAuth, "cloudflared found account settings that break quick tunnels; move ~/.cloudflared/config.yml aside and try again"
	}
	return "", ""
}

// Start runs cloudflared and returns once the tunnel has a URL and an edge connection.
func (p *Cloudflared) Start(ctx context.Context, t Target) (Tunnel, error) {
	local, err := dialAddr(t.Addr)
	if err != nil {
		return nil, classify("cloudflared", err)
	}
	bin := p.Binary
	if bin == "" {
		bin = "cloudflared"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, &Error{Provider: "cloudflared", Class: ClassBinaryMissing, Err: err,
			Hint: "install cloudflared (https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/downloads/, e.g. brew install cloudflared), or use --tunnel ssh"}
	}
	metrics, err := freeLoopbackAddr()
	if err != nil {
		return nil, classify("cloudflared", err)
	}
	// The child's lifetime is ours, not the caller's start context.
	life, kill := context.WithCancel(context.Background())
	cmd := exec.CommandContext(life, path, "tunnel", "--no-autoupdate", "--metrics", metrics, "--url", "http://"+local)
	cmd.Env = append(os.Environ(), p.Env...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = p.grace()
	setChildAttrs(cmd)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		kill()
		return nil, classify("cloudflared", err)
	}
	if err := cmd.Start(); err != nil {
		kill()
		return nil, &Error{Provider: "cloudflared", Class: ClassBinaryMissing, Err: err, Hint: "check that " + path + " is an executable cloudflared"}
	}
	ct := &cloudflaredTunnel{base: newBase(p.Log), p: p, cmd: cmd, kill: kill, metrics: metrics,
		exited: make(chan struct{}), stderrDone: make(chan struct{}), stderrURL: make(chan string, 1)}
	go ct.readStderr(stderr)
	go func() {
		<-ct.stderrDone // Wait closes the pipe; read it to the end first
		ct.waitErr = cmd.Wait()
		close(ct.exited)
	}()

	sctx, cancel := withStartDeadline(ctx, p.StartTimeout)
	defer cancel()
	u, err := ct.waitReady(sctx)
	if err != nil {
		ct.stop()
		return nil, err
	}
	ct.setURL(u)
	go ct.watch()
	return ct, nil
}

func (p *Cloudflared) grace() time.Duration {
	if p.Grace > 0 {
		return p.Grace
	}
	return 5 * time.Second
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

type cloudflaredTunnel struct {
	*base
	p          *Cloudflared
	cmd        *exec.Cmd
	kill       context.CancelFunc
	metrics    string
	exited     chan struct{}
	waitErr    error
	stderrDone chan struct{}
	stderrURL  chan string

	fmu      sync.Mutex
	failure  *Error // the first classified failure seen on stderr
	lastLine string
}

// MetricsAddr is cloudflared's metrics server (host:port).
func (t *cloudflaredTunnel) MetricsAddr() string { return t.metrics }

func (t *cloudflaredTunnel) readStderr(r io.Reader) {
	defer close(t.stderrDone)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintf(t.logw, "tunnel cloudflared: %s\n", termsafe.String(line)) // quotes what the edge answered
		if u := quickURLRE.FindString(line); u != "" {
			select {
			case t.stderrURL <- u:
			default:
			}
		}
		class, hint := cloudflaredFailure(line)
		t.fmu.Lock()
		if strings.Contains(line, " ERR ") || strings.Contains(line, `"level":"error"`) || class != "" {
			t.lastLine = line
		}
		if class != "" && t.failure == nil {
			t.failure = &Error{Provider: "cloudflared", Class: class, Err: errors.New(strings.TrimSpace(line)), Hint: hint}
		}
		t.fmu.Unlock()
	}
}

// exitError explains why cloudflared ended, from what it printed.
func (t *cloudflaredTunnel) exitError() error {
	t.fmu.Lock()
	defer t.fmu.Unlock()
	if t.failure != nil {
		return t.failure
	}
	msg := fmt.Sprintf("cloudflared exited: %v", t.waitErr)
	if t.waitErr == nil {
		msg = "cloudflared exited"
	}
	if t.lastLine != "" {
		msg += ": " + strings.TrimSpace(t.lastLine)
	}
	return &Error{Provider: "cloudflared", Class: ClassRejected, Err: errors.New(msg),
		Hint: "run cloudflared tunnel --url http://127.0.0.1:PORT yourself to see its full output, or use --tunnel ssh"}
}

// metricsClient polls cloudflared's metrics server on loopback; one client keeps its connection
// alive across the polls (every 100 ms while starting).
var metricsClient = &http.Client{Timeout: 2 * time.Second}

// getJSON asks the metrics server for path and decodes its JSON into v; it returns the status.
func (t *cloudflaredTunnel) getJSON(ctx context.Context, path string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+t.metrics+path, nil)
	if err != nil {
		return 0, err
	}
	resp, err := metricsClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if v != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(v); err != nil {
			return resp.StatusCode, err
		}
	}
	return resp.StatusCode, nil
}

// waitReady polls /quicktunnel and /ready until both say yes, cloudflared exits, or ctx ends.
func (t *cloudflaredTunnel) waitReady(ctx context.Context) (string, error) {
	every := t.p.PollInterval
	if every <= 0 {
		every = 100 * time.Millisecond
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	var u string
	for {
		if u == "" {
			var qt struct {
				Hostname string `json:"hostname"`
			}
			if code, err := t.getJSON(ctx, "/quicktunnel", &qt); err == nil && code == http.StatusOK && qt.Hostname != "" {
				u = "https://" + strings.TrimPrefix(qt.Hostname, "https://")
			}
		}
		if u == "" {
			select {
			case u = <-t.stderrURL:
			default:
			}
		}
		if u != "" {
			if code, err := t.getJSON(ctx, "/ready", nil); err == nil && code == http.StatusOK {
				return u, nil
			}
		}
		select {
		case <-t.exited:
			return "", t.exitError()
		case <-ctx.Done():
			if ctx.Err() == context.Canceled {
				return "", ctx.Err()
			}
			why := "cloudflared printed no tunnel URL in time"
			if u != "" {
				why = "cloudflared got " + u + " but no edge connection became ready in time"
			}
			t.fmu.Lock()
			failure := t.failure
			t.fmu.Unlock()
			if failure != nil {
				return "", failure
			}
			return "", &Error{Provider: "cloudflared", Class: ClassTimeout, Err: errors.New(why),
				Hint: "outbound port 7844 may be blocked; try again or use --tunnel ssh"}
		case <-tick.C:
		}
	}
}

// watch follows cloudflared's edge connections (down and up again as /ready says) and reports
// an unexpected exit as the end of the tunnel.
func (t *cloudflaredTunnel) watch() {
	every := t.p.HealthInterval
	if every <= 0 {
		every = 5 * time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	up := true
poll:
	for {
		select {
		case <-t.exited:
			break poll
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		code, err := t.getJSON(ctx, "/ready", nil)
		cancel()
		if err != nil {
			continue // the exit, if that is what it is, arrives on t.exited
		}
		ready := code == http.StatusOK
		switch {
		case up && !ready:
			t.emit(Event{Kind: EventDown, URL: t.URL(), Err: errors.New("cloudflared has no connection to Cloudflare's edge; it keeps retrying")})
		case !up && ready:
			t.emit(Event{Kind: EventUp, URL: t.URL()})
		}
		up = ready
	}
	if t.isClosing() {
		t.finish(nil)
		return
	}
	err := t.exitError()
	var te *Error
	if errors.As(err, &te) && te.Class == ClassRejected {
		te.Err = fmt.Errorf("cloudflared stopped unexpectedly: %w", te.Err)
	}
	t.finish(err)
}

// stop asks cloudflared to end (SIGTERM, then a kill after the grace period) and waits.
func (t *cloudflaredTunnel) stop() {
	t.kill()
	<-t.exited
}

func (t *cloudflaredTunnel) Close() error {
	t.markClosing()
	t.stop()
	<-t.done
	return nil
}
