// Command compare measures s2s against Apple's Node library (@apple/app-store-server-library,
// SignedDataVerifier, offline) on the same distinct notifications in the same run, and prints
// both rates and their ratio. It is a measurement tool, not part of s2s; make bench-compare and
// make bench-listen run it.
//
//	go run ./bench/compare decode   # s2s decode --json --root R FILE vs a Node loop over FILE
//	go run ./bench/compare listen   # s2s listen vs a minimal Node receiver, load from bench/load
//
// It builds s2s and the load generator from this checkout, generates the notifications with
// internal/benchgen (P-384 root and intermediate, P-256 leaf, trusted through --root), and
// installs Apple's library with npm into the user cache on first use (the only network access;
// the cross-check test of fixtures/ uses the same place).
package main

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Apple's Node library, pinned to the version the cross-check uses (fixtures/node_test.go).
const (
	nodeLibrary        = "@apple/app-store-server-library"
	nodeLibraryVersion = "3.1.0"
)

//go:embed node/*.js
var nodeScripts embed.FS

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "decode" && os.Args[1] != "listen") {
		fmt.Fprintln(os.Stderr, "usage: compare decode|listen [-n N] [-runs R] [-c IN-FLIGHT]")
		os.Exit(2)
	}
	mode := os.Args[1]
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	n := fs.Int("n", 0, "distinct notifications (default 3000 for decode, 8000 for listen)")
	runs := fs.Int("runs", 3, "runs of each side, alternating")
	inflight := fs.Int("c", 32, "listen: requests in flight")
	keep := fs.Bool("keep", false, "keep the work directory and print its path")
	_ = fs.Parse(os.Args[2:])
	if *n == 0 {
		*n = map[string]int{"decode": 3000, "listen": 8000}[mode]
	}
	if err := run(mode, *n, *runs, *inflight, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

type env struct {
	dir, s2s, load, modules, root, file string
}

func run(mode string, n, runs, inflight int, keep bool) error {
	dir, err := os.MkdirTemp("", "s2s-bench-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("work directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	e := &env{dir: dir, s2s: filepath.Join(dir, "s2s"+exe()), load: filepath.Join(dir, "load"+exe()),
		root: filepath.Join(dir, "root.pem"), file: filepath.Join(dir, "notifications.ndjson")}
	step("building s2s, the generator and the load generator")
	if err := goBuild(e.s2s, "."); err != nil {
		return err
	}
	gen := filepath.Join(dir, "gen"+exe())
	if err := goBuild(gen, "./bench/gen"); err != nil {
		return err
	}
	if mode == "listen" {
		if err := goBuild(e.load, "./bench/load"); err != nil {
			return err
		}
	}
	step(fmt.Sprintf("signing %d distinct DID_RENEW notifications (Apple-shaped chain: P-384 root and intermediate, P-256 leaf)", n))
	// In its own process, so this one stays small: a child's peak memory as the system reports
	// it can include what it inherited from this process before it started.
	cmd := exec.Command(gen, "-n", strconv.Itoa(n), "-out", e.file, "-root", e.root)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("bench/gen: %w", err)
	}
	step("locating Apple's Node library " + nodeLibraryVersion)
	if e.modules, err = nodeModules(); err != nil {
		return err
	}
	for _, name := range []string{"decode.js", "receiver.js"} {
		b, _ := nodeScripts.ReadFile("node/" + name)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("machine: %s, %d CPUs, %s/%s, %s; load average before: %s\n", cpuName(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), loadAvg())
	if mode == "decode" {
		return compareDecode(e, n, runs)
	}
	return compareListen(e, n, runs, inflight)
}

func step(s string) { fmt.Fprintln(os.Stderr, "==>", s) }

func exe() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

func goBuild(out, pkg string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// nodeModules returns a node_modules directory holding Apple's library, installing it with npm
// into the user cache when it is not there yet.
func nodeModules() (string, error) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("%s is not installed: the comparison needs Node.js and npm", tool)
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil || cache == "" {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "s2s-test-npm", "app-store-server-library-"+nodeLibraryVersion)
	modules := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, nodeLibrary, "package.json")); err == nil {
		return modules, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".install-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("npm", "install", "--prefix", tmp, "--no-audit", "--no-fund", "--no-save", "--loglevel=error", nodeLibrary+"@"+nodeLibraryVersion)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("npm install %s@%s: %w", nodeLibrary, nodeLibraryVersion, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(modules, nodeLibrary, "package.json")); serr != nil {
			return "", err
		}
	}
	return modules, nil
}

// measured is one process run: wall time, CPU time (user + system) and peak resident memory.
type measured struct {
	wall, cpu time.Duration
	maxRSS    int64 // bytes; 0 where the platform does not say
	stdout    []byte
}

// measure runs cmd; its output goes to stdout when given (not kept), else it is kept.
func measure(cmd *exec.Cmd, stdout io.Writer) (measured, error) {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdout != nil {
		cmd.Stdout = stdout
	}
	start := time.Now()
	err := cmd.Run()
	m := measured{wall: time.Since(start), stdout: out.Bytes()}
	if cmd.ProcessState != nil {
		m.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		m.maxRSS = maxRSS(cmd.ProcessState)
	}
	if err != nil {
		return m, fmt.Errorf("%s: %w\n%s", filepath.Base(cmd.Path), err, tail(errb.Bytes()))
	}
	return m, nil
}

func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}

func compareDecode(e *env, n, runs int) error {
	var s2sRates, nodeRates, ratios, s2sCPU, nodeCPU []float64
	// s2s takes about a second where Node takes tens: on a shared machine one second is at the
	// mercy of whatever else runs then, so each run takes the median of three s2s runs.
	decodeOnce := func() (measured, *docCounter, error) {
		s := exec.Command(e.s2s, "decode", "--json", "--root", e.root, e.file)
		s.Env = append(os.Environ(), "S2S_CONFIG_DIR="+filepath.Join(e.dir, "config"), "NO_COLOR=1")
		outPath := filepath.Join(e.dir, "decoded.json")
		out, err := os.Create(outPath)
		if err != nil {
			return measured{}, nil, err
		}
		ms, err := measure(s, out) // > decoded.json, as a user would
		out.Close()
		if err != nil {
			return ms, nil, err
		}
		docs, err := countDocs(outPath)
		if err != nil {
			return ms, nil, err
		}
		if docs.docs != n {
			return ms, nil, fmt.Errorf("s2s decode printed %d documents for %d notifications", docs.docs, n)
		}
		return ms, docs, nil
	}
	for r := 1; r <= runs; r++ {
		var all []measured
		var docs *docCounter
		for range 3 {
			m, d, err := decodeOnce()
			if err != nil {
				return err
			}
			all, docs = append(all, m), d
		}
		slices.SortFunc(all, func(a, b measured) int { return int(a.wall - b.wall) })
		ms := all[1]
		node := exec.Command("node", filepath.Join(e.dir, "decode.js"), e.root, e.file)
		node.Env = append(os.Environ(), "NODE_PATH="+e.modules)
		mn, err := measure(node, nil)
		if err != nil {
			return err
		}
		if want := fmt.Sprintf("verified %d failed 0", n); strings.TrimSpace(string(mn.stdout)) != want {
			return fmt.Errorf("Apple's library: %q, want %q", strings.TrimSpace(string(mn.stdout)), want)
		}
		sr, nr := float64(n)/ms.wall.Seconds(), float64(n)/mn.wall.Seconds()
		s2sRates, nodeRates, ratios = append(s2sRates, sr), append(nodeRates, nr), append(ratios, sr/nr)
		s2sCPU, nodeCPU = append(s2sCPU, float64(n)/ms.cpu.Seconds()), append(nodeCPU, float64(n)/mn.cpu.Seconds())
		fmt.Printf("run %d: s2s decode %6.0f/s (%.2fs wall, %.2fs CPU, %s peak RSS, %.1f KB out per notification)   Apple's Node library %5.0f/s (%.2fs wall, %.2fs CPU, %s)   ratio %.1fx\n",
			r, sr, ms.wall.Seconds(), ms.cpu.Seconds(), mib(ms.maxRSS), float64(docs.bytes)/float64(n)/1024,
			nr, mn.wall.Seconds(), mn.cpu.Seconds(), mib(mn.maxRSS), sr/nr)
	}
	fmt.Printf("\n%d distinct DID_RENEW notifications (outer + nested transaction + renewal info verified), %d runs, load average after: %s\n", n, runs, loadAvg())
	fmt.Printf("s2s decode --json --root R FILE   %s notifications/s   (%s per CPU-second)\n", span(s2sRates, "%.0f"), span(s2sCPU, "%.0f"))
	fmt.Printf("Apple's Node library %s        %s notifications/s   (%s per CPU-second)\n", nodeLibraryVersion, span(nodeRates, "%.0f"), span(nodeCPU, "%.0f"))
	fmt.Printf("ratio (wall clock, same run)      %sx   (s2s: median of 3 back-to-back runs)\n", span(ratios, "%.1f"))
	var perCPU []float64
	for i := range s2sCPU {
		perCPU = append(perCPU, s2sCPU[i]/nodeCPU[i])
	}
	fmt.Printf("ratio per CPU-second (per core)   %sx\n", span(perCPU, "%.1f"))
	return nil
}

// docCounter counts the indented JSON documents written through it (each starts with a line
// holding only "{") and their bytes, without keeping them.
type docCounter struct {
	last  []byte // the last two bytes seen
	docs  int
	bytes int64
}

func (c *docCounter) Write(p []byte) (int, error) {
	c.bytes += int64(len(p))
	b := append(append([]byte{}, c.last...), p...)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '\n' && b[i+1] == '{' && b[i+2] == '\n' {
			c.docs++
		}
	}
	if len(b) >= 2 {
		c.last = append(c.last[:0], b[len(b)-2:]...)
	} else {
		c.last = append(c.last[:0], b...)
	}
	return len(p), nil
}

func countDocs(path string) (*docCounter, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c := &docCounter{last: []byte("\n")}
	_, err = io.Copy(c, f)
	return c, err
}

func mib(b int64) string {
	if b == 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}

func span(v []float64, f string) string {
	lo, hi := slices.Min(v), slices.Max(v)
	if fmt.Sprintf(f, lo) == fmt.Sprintf(f, hi) {
		return fmt.Sprintf(f, lo)
	}
	return fmt.Sprintf(f+"–"+f, lo, hi)
}

var loadLine = regexp.MustCompile(`rate (\d+)/s p50 ([\d.]+)ms p99 ([\d.]+)ms`)

type loadResult struct{ rate, p50, p99 float64 }

// server is a receiver process under load: started, its URL read from its output, stopped.
type server struct {
	cmd  *exec.Cmd
	url  string
	done chan error
	// lines counts the notification events s2s printed (its --output json), read as they come
	// so the pipe never stalls it.
	lines chan int
}

func startServer(cmd *exec.Cmd, urlOf func(string) string) (*server, error) {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, done: make(chan error, 1), lines: make(chan int, 1)}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		count := 0
		for sc.Scan() {
			line := sc.Text()
			if u := urlOf(line); u != "" {
				urlc <- u
			}
			if strings.Contains(line, `"event":"notification"`) {
				count++
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		s.lines <- count
	}()
	go func() { s.done <- cmd.Wait() }()
	select {
	case s.url = <-urlc:
		return s, nil
	case err := <-s.done:
		return nil, fmt.Errorf("%s exited before serving: %w\n%s", filepath.Base(cmd.Path), err, tail(errb.Bytes()))
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("%s did not start serving within a minute", filepath.Base(cmd.Path))
	}
}

// stop interrupts the server and returns how many notification events it printed and the CPU
// time it used in all (user and system, start-up included).
func (s *server) stop() (int, time.Duration) {
	if runtime.GOOS == "windows" || s.cmd.Process.Signal(os.Interrupt) != nil {
		_ = s.cmd.Process.Kill()
	}
	select {
	case err := <-s.done:
		_ = err // stopped: its exit status is the signal's
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		err := <-s.done
		_ = err // killed: its exit status is the signal's
	}
	var cpu time.Duration
	if ps := s.cmd.ProcessState; ps != nil {
		cpu = ps.UserTime() + ps.SystemTime()
	}
	return <-s.lines, cpu
}

func runLoad(e *env, url string, inflight int) (loadResult, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.load, "-url", url, "-file", e.file, "-c", strconv.Itoa(inflight))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return loadResult{}, "", fmt.Errorf("load: %w\n%s%s", err, out.String(), tail(errb.Bytes()))
	}
	m := loadLine.FindStringSubmatch(out.String())
	if m == nil {
		return loadResult{}, "", fmt.Errorf("load printed %q", out.String())
	}
	var r loadResult
	r.rate, _ = strconv.ParseFloat(m[1], 64)
	r.p50, _ = strconv.ParseFloat(m[2], 64)
	r.p99, _ = strconv.ParseFloat(m[3], 64)
	return r, strings.TrimSpace(out.String()), nil
}

func compareListen(e *env, n, runs, inflight int) error {
	var s2sRates, nodeRates, ratios, s2sP99, nodeP99, s2sCPU, nodeCPU []float64
	for r := 1; r <= runs; r++ {
		store := filepath.Join(e.dir, fmt.Sprintf("captures-%d.db", r))
		cmd := exec.Command(e.s2s, "listen", "--root", e.root, "--output", "json", "--addr", "127.0.0.1:0", "--store", store)
		cmd.Env = append(os.Environ(), "S2S_CONFIG_DIR="+filepath.Join(e.dir, "config"), "S2S_STATE_DIR="+filepath.Join(e.dir, "state"), "NO_COLOR=1")
		srv, err := startServer(cmd, func(line string) string {
			if m := regexp.MustCompile(`"event":"ready".*"url":"([^"]+)"`).FindStringSubmatch(line); m != nil {
				return m[1]
			}
			return ""
		})
		if err != nil {
			return err
		}
		sres, sline, err := runLoad(e, srv.url, inflight)
		printed, scpu := srv.stop()
		if err != nil {
			return err
		}
		if printed != n {
			return fmt.Errorf("s2s listen printed %d notification events for %d requests", printed, n)
		}
		node := exec.Command("node", filepath.Join(e.dir, "receiver.js"), e.root, "0")
		node.Env = append(os.Environ(), "NODE_PATH="+e.modules)
		nsrv, err := startServer(node, func(line string) string {
			if u, ok := strings.CutPrefix(line, "listening "); ok {
				return u
			}
			return ""
		})
		if err != nil {
			return err
		}
		nres, nline, err := runLoad(e, nsrv.url, inflight)
		_, ncpu := nsrv.stop()
		if err != nil {
			return err
		}
		s2sRates, nodeRates, ratios = append(s2sRates, sres.rate), append(nodeRates, nres.rate), append(ratios, sres.rate/nres.rate)
		s2sP99, nodeP99 = append(s2sP99, sres.p99), append(nodeP99, nres.p99)
		s2sCPU, nodeCPU = append(s2sCPU, float64(n)/scpu.Seconds()), append(nodeCPU, float64(n)/ncpu.Seconds())
		fmt.Printf("run %d: s2s listen: %s (receiver %.2fs CPU)\n       Node receiver: %s (receiver %.2fs CPU)\n       ratio %.1fx\n",
			r, sline, scpu.Seconds(), nline, ncpu.Seconds(), sres.rate/nres.rate)
	}
	fmt.Printf("\n%d distinct DID_RENEW bodies posted by a separate process, %d in flight (the first 200 are a warm-up), %d runs, load average after: %s\n", n, inflight, runs, loadAvg())
	fmt.Printf("s2s listen --root R --output json (verified, stored durably before the 200)   %s notifications/s, p99 %s ms\n", span(s2sRates, "%.0f"), span(s2sP99, "%.1f"))
	fmt.Printf("Node receiver on Apple's library %s (verified, not stored)                   %s notifications/s, p99 %s ms\n", nodeLibraryVersion, span(nodeRates, "%.0f"), span(nodeP99, "%.1f"))
	fmt.Printf("ratio (same run)   %sx\n", span(ratios, "%.1f"))
	fmt.Printf("receiver CPU: s2s %s, Node %s notifications per CPU-second of the receiver process\n", span(s2sCPU, "%.0f"), span(nodeCPU, "%.0f"))
	return nil
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func cpuName() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
