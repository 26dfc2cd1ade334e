package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/fixtures"
	"github.com/s2s-dev/s2s/store"
)

// hubBodies signs n simulated notifications for bundle with the chain the binary trusts in dir.
func hubBodies(t *testing.T, dir, bundle string, n int) [][]byte {
	t.Helper()
	chain, err := fixtures.LoadOrCreateChain(filepath.Join(dir, ".s2s-config"))
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, n)
	for i := range out {
		if out[i], err = chain.Notification("TEST", "", fixtures.Overrides{BundleID: bundle, Environment: "Sandbox"}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// waitNotifications waits for n notification events of l and returns their captures.
func (l *Listener) waitNotifications(t *testing.T, n int) []map[string]any {
	t.Helper()
	var got []map[string]any
	deadline := time.After(90 * time.Second)
	for len(got) < n {
		select {
		case e, ok := <-l.events:
			if !ok {
				t.Fatalf("listener exited after %d of %d notifications: %s", len(got), n, l.stderr)
			}
			if e["event"] == "notification" {
				got = append(got, e["capture"].(map[string]any))
			}
		case <-deadline:
			t.Fatalf("%d of %d notifications after 90s: %s", len(got), n, l.stderr)
		}
	}
	return got
}

// storedBodies reads every capture of the store at path: body digests, each with its count, and
// the hub origins.
func storedBodies(t *testing.T, path string) (map[[32]byte]int, []store.Capture) {
	t.Helper()
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	list, err := st.List(ctx, store.Filter{Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	sums := map[[32]byte]int{}
	for _, c := range list {
		full, err := st.Get(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		sums[sha256.Sum256(full.Body)]++
	}
	return sums, list
}

// wantExactly fails unless the store at path holds each of bodies exactly once, and nothing else,
// each arrived through the hub.
func wantExactly(t *testing.T, path string, bodies [][]byte) {
	t.Helper()
	sums, list := storedBodies(t, path)
	if len(list) != len(bodies) {
		t.Fatalf("%s holds %d captures, want %d", path, len(list), len(bodies))
	}
	for i, b := range bodies {
		if sums[sha256.Sum256(b)] != 1 {
			t.Fatalf("%s: body %d stored %d times, want once byte for byte", path, i, sums[sha256.Sum256(b)])
		}
	}
	for _, c := range list {
		if c.HubOrigin == "" || c.Trust != "simulated" {
			t.Fatalf("%s: capture %d: origin %q, trust %q", path, c.ID, c.HubOrigin, c.Trust)
		}
	}
}

func postAll(t *testing.T, url string, bodies [][]byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i, b := range bodies {
		if status, err := Post(ctx, url, b); err != nil || status != http.StatusOK {
			t.Fatalf("POST %d: %d %v", i, status, err)
		}
	}
}

// Two listeners with different filters each get exactly their notifications, byte for byte; a
// listener stopped while notifications arrive gets them when it starts again; a hub status shows
// the consumers; a wrong token is refused with a clear error.
func TestHubTwoListeners(t *testing.T) {
	dir := t.TempDir()
	h := startReceiver(t, dir, "hub", "--nats-listen", "127.0.0.1:0", "--store", filepath.Join(dir, "hub", "captures.db"))
	hubURL, _ := h.Ready["hub"].(string)
	if !strings.HasPrefix(hubURL, "nats://") || !strings.Contains(hubURL, "@127.0.0.1:") {
		t.Fatalf("ready event's hub URL %q", hubURL)
	}
	// (The same URL is printed on stderr before the ready event; the stderr buffer is read only
	// after the process ends, since the copy into it is asynchronous.)
	aStore, bStore := filepath.Join(dir, "a", "captures.db"), filepath.Join(dir, "b", "captures.db")
	a := StartListener(t, dir, "--store", aStore, "--hub", hubURL, "--name", "alice", "--hub-filter", "bundle:com.example.a")
	b := StartListener(t, dir, "--store", bStore, "--hub", hubURL, "--name", "bob", "--hub-filter", "bundle:com.example.b")

	as, bs := hubBodies(t, dir, "com.example.a", 3), hubBodies(t, dir, "com.example.b", 4)
	postAll(t, h.URL, as[:2])
	postAll(t, h.URL, bs[:2])
	a.waitNotifications(t, 2)
	b.waitNotifications(t, 2)

	// bob is away while more arrive.
	if err := b.Stop(t); err == nil {
		t.Fatal("want the interrupted exit status")
	}
	postAll(t, h.URL, bs[2:])
	postAll(t, h.URL, as[2:])
	a.waitNotifications(t, 1)
	b = StartListener(t, dir, "--store", bStore, "--hub", hubURL, "--name", "bob", "--hub-filter", "bundle:com.example.b")
	b.waitNotifications(t, 2)
	// The hub's output says which listeners acknowledged each capture.
	acked := map[string]int{}
	deadline := time.After(60 * time.Second)
	for acked["alice"] < 7 || acked["bob"] < 7 {
		select {
		case e, ok := <-h.events:
			if !ok {
				t.Fatalf("hub exited: %s", h.stderr)
			}
			if e["event"] == "hub-ack" {
				acked[e["consumer"].(string)]++
			}
		case <-deadline:
			t.Fatalf("hub-ack events after 60s: %v", acked)
		}
	}
	_ = a.Stop(t)
	_ = b.Stop(t)
	wantExactly(t, aStore, as)
	wantExactly(t, bStore, bs)

	out, err := exec.Command(Binary, "hub", "status", "--store", filepath.Join(dir, "hub", "captures.db")).CombinedOutput()
	if err != nil {
		t.Fatalf("hub status: %v: %s", err, out)
	}
	// The URL teammates pass to --hub, token and all, is there while the hub's TUI hides stderr.
	for _, want := range []string{"7 messages", "Outbox   0", "alice", "bob", "URL      " + hubURL + " "} {
		if !bytes.Contains(out, []byte(want)) {
			t.Fatalf("hub status lacks %q:\n%s", want, out)
		}
	}
	out, err = exec.Command(Binary, "hub", "status", "--json", "--store", filepath.Join(dir, "hub", "captures.db")).Output()
	var status struct {
		TeammateURL string `json:"teammateUrl"`
	}
	if err != nil || json.Unmarshal(out, &status) != nil || status.TeammateURL != hubURL {
		t.Fatalf("hub status --json: teammateUrl %q, want %q (%v)\n%s", status.TeammateURL, hubURL, err, out)
	}

	// A wrong token: refused, said so, the token not echoed.
	wrong := "nats://not-the-token@" + hubURL[strings.LastIndex(hubURL, "@")+1:]
	cmd := exec.Command(Binary, "listen", "--output", "json", "--addr", "127.0.0.1:0", "--store", filepath.Join(dir, "c.db"), "--hub", wrong, "--name", "carol")
	cmd.Env = Env(dir)
	out, err = cmd.CombinedOutput()
	if err == nil || !bytes.Contains(out, []byte("refused the credentials")) || bytes.Contains(out, []byte("not-the-token")) {
		t.Fatalf("wrong token: %v: %s", err, out)
	}
}

// A hub killed with SIGKILL mid-load loses nothing it acknowledged: after it restarts, every body
// it answered 200 reaches the listener, once. A listener killed with SIGKILL mid-stream gets what
// it had not acknowledged again and stores each once.
func TestHubCrashes(t *testing.T) {
	dir := t.TempDir()
	port := FreePort(t)
	hubStore := filepath.Join(dir, "hub", "captures.db")
	hubArgs := []string{"--nats-listen", fmt.Sprintf("127.0.0.1:%d", port), "--store", hubStore}
	h := startReceiver(t, dir, "hub", hubArgs...)
	hubURL := h.Ready["hub"].(string)
	aStore := filepath.Join(dir, "a", "captures.db")
	a := StartListener(t, dir, "--store", aStore, "--hub", hubURL, "--name", "alice")

	bodies := hubBodies(t, dir, "com.example.a", 60)
	var (
		mu    sync.Mutex
		acked [][]byte
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	next := make(chan []byte)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range next {
				if status, err := Post(ctx, h.URL, b); err == nil && status == http.StatusOK {
					mu.Lock()
					acked = append(acked, b)
					mu.Unlock()
				}
			}
		}()
	}
	for i, b := range bodies {
		if i == 30 {
			h.Kill() // mid-load: some requests are in flight
		}
		select {
		case next <- b:
		case <-ctx.Done():
			t.Fatal("posting timed out")
		}
	}
	close(next)
	wg.Wait()
	mu.Lock()
	n := len(acked)
	mu.Unlock()
	if n < 20 {
		t.Fatalf("only %d bodies acknowledged before the kill", n)
	}

	h = startReceiver(t, dir, "hub", hubArgs...)
	a.waitNotifications(t, n)

	// The listener dies with messages in flight; what it had not acknowledged comes again.
	more := hubBodies(t, dir, "com.example.a", 20)
	postAll(t, h.URL, more)
	a.waitNotifications(t, 5)
	a.Kill()
	a = StartListener(t, dir, "--store", aStore, "--hub", hubURL, "--name", "alice")
	// Every acknowledged body arrives; bodies the hub stored but could not answer before it died
	// may arrive too (at least once): nothing is stored twice, nothing that was not sent.
	all := append(acked, more...)
	sent := map[[32]byte]bool{}
	for _, b := range append(bodies, more...) {
		sent[sha256.Sum256(b)] = true
	}
	missing := func(sums map[[32]byte]int) int {
		n := 0
		for _, b := range all {
			if sums[sha256.Sum256(b)] == 0 {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		sums, _ := storedBodies(t, aStore)
		m := missing(sums)
		if m == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d acknowledged bodies never reached the listener", m)
		}
		// Each new capture is an event; the tick only bounds a wait for redeliveries it stores nothing for.
		select {
		case <-a.events:
		case <-time.After(time.Second):
		}
	}
	_ = a.Stop(t)
	sums, list := storedBodies(t, aStore)
	for sum, k := range sums {
		if k != 1 || !sent[sum] {
			t.Fatalf("a body stored %d times (sent: %v)", k, sent[sum])
		}
	}
	for _, c := range list {
		if c.HubOrigin == "" {
			t.Fatalf("capture %d has no hub origin", c.ID)
		}
	}
}

// --nats: a hub that uses an existing NATS server (here, another hub's embedded one) publishes to
// the same stream; a listener gets the captures of both, each from its own hub.
func TestHubExistingNATS(t *testing.T) {
	dir := t.TempDir()
	h1 := startReceiver(t, dir, "hub", "--nats-listen", "127.0.0.1:0", "--store", filepath.Join(dir, "hub1", "captures.db"))
	url := h1.Ready["hub"].(string)
	h2 := startReceiver(t, dir, "hub", "--nats", url, "--store", filepath.Join(dir, "hub2", "captures.db"))
	if h2.Ready["hub"] != url {
		t.Fatalf("hub with --nats: ready %v", h2.Ready)
	}
	aStore := filepath.Join(dir, "a", "captures.db")
	a := StartListener(t, dir, "--store", aStore, "--hub", url, "--name", "alice", "--hub-filter", "bundle:com.example.a")
	bodies := hubBodies(t, dir, "com.example.a", 2)
	postAll(t, h1.URL, bodies[:1])
	postAll(t, h2.URL, bodies[1:])
	a.waitNotifications(t, 2)
	_ = a.Stop(t)
	wantExactly(t, aStore, bodies)
	_, list := storedBodies(t, aStore)
	if strings.Split(list[0].HubOrigin, "/")[0] == strings.Split(list[1].HubOrigin, "/")[0] {
		t.Fatalf("two hubs, one identity: %s %s", list[0].HubOrigin, list[1].HubOrigin)
	}
}

// A listener fed by a hub did not answer the real-time requests it shows (the hub did): its line
// says so, and shows no status or latency of its own, never "answer valid".
func TestHubListenerRealtimeAnsweredByTheHub(t *testing.T) {
	dir := t.TempDir()
	h := startReceiver(t, dir, "hub", "--nats-listen", "127.0.0.1:0", "--store", filepath.Join(dir, "hub", "captures.db"))
	hubURL, _ := h.Ready["hub"].(string)
	lStore := filepath.Join(dir, "dan", "captures.db")
	// dan's durable consumer exists, then dan is away while the request arrives (no
	// --realtime-response: the hub answers it with no body, an invalid answer).
	dan := StartListener(t, dir, "--store", lStore, "--hub", hubURL, "--name", "dan")
	if err := dan.Stop(t); err == nil {
		t.Fatal("want the interrupted exit status")
	}
	if _, errOut, code := stRunCode(t, dir, "send-test", "--realtime", h.URL); code != 3 {
		t.Fatalf("send-test to the hub: exit %d, want 3 (no answer body)\n%s", code, errOut)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary, "listen", "--output", "lines", "--addr", "127.0.0.1:0", "--store", lStore, "--hub", hubURL, "--name", "dan")
	cmd.Env = Env(dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line := make(chan string, 1)
	go func() {
		defer close(line)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "REAL-TIME REQUEST") {
				line <- sc.Text()
				return
			}
		}
	}()
	var got string
	select {
	case got = <-line:
	case <-ctx.Done():
		t.Fatal("no real-time request line from the listener within 60s")
	}
	if !strings.Contains(got, "answer: none here (answered by the hub)") || strings.Contains(got, "answer valid") ||
		strings.Contains(got, "  0  ") || strings.Contains(got, " 0s ") || !strings.Contains(got, "  -  -  #") {
		t.Errorf("the listener's line: %q", got)
	}
}

// Real-time requests carry an appAppleId and no bundle ID: a listener's bundle filter leaves them
// out, a second --hub-filter (kind:realtime-request) takes them too. The hub alone answers them,
// with its --realtime-response, and says so when it starts; without one, its recorded answer
// problem names the hub's flag, not listen's --forward-to (which the hub does not have).
func TestHubRealtimeRequestsAndFilters(t *testing.T) {
	dir := t.TempDir()
	answerFile := filepath.Join(dir, "answer.json")
	if err := os.WriteFile(answerFile, []byte(`{"message":{"messageIdentifier":"m-1"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startReceiver(t, dir, "hub", "--nats-listen", "127.0.0.1:0", "--realtime-response", answerFile, "--store", filepath.Join(dir, "hub", "captures.db"))
	hubURL := h.Ready["hub"].(string)
	aStore := filepath.Join(dir, "a", "captures.db")
	a := StartListener(t, dir, "--store", aStore, "--hub", hubURL, "--name", "alice",
		"--hub-filter", "bundle:com.example.a", "--hub-filter", "kind:realtime-request")
	postAll(t, h.URL, hubBodies(t, dir, "com.example.b", 1))
	mine := hubBodies(t, dir, "com.example.a", 1)
	postAll(t, h.URL, mine)
	if out, errOut, code := stRunCode(t, dir, "send-test", "--realtime", h.URL); code != 0 || !strings.Contains(out, "m-1") {
		t.Fatalf("send-test --realtime to the hub: exit %d\n%s%s", code, out, errOut)
	}
	a.waitNotifications(t, 2)
	_ = a.Stop(t)
	_ = h.Stop(t)
	_, stored := storedBodies(t, aStore)
	kinds := map[string]string{}
	for _, c := range stored {
		kinds[string(c.Kind)] = c.BundleID
	}
	if len(stored) != 2 || kinds["notification"] != "com.example.a" || len(kinds) != 2 {
		t.Fatalf("alice stored %d captures, kinds %v; want her notification and the real-time request", len(stored), kinds)
	}
	if _, ok := kinds["realtime-request"]; !ok {
		t.Fatalf("alice did not take the real-time request: %v", kinds)
	}
	if s := h.stderr.String(); !strings.Contains(s, "--hub-filter 'kind:realtime-request app:") || !strings.Contains(s, "The hub alone answers them (with --realtime-response "+answerFile+")") {
		t.Errorf("the hub's start message does not say how to take real-time requests or who answers them:\n%s", s)
	}

	// A hub without --realtime-response: the problem it records names its own flag.
	h2Store := filepath.Join(dir, "hub2", "captures.db")
	h2 := startReceiver(t, dir, "hub", "--nats-listen", "127.0.0.1:0", "--store", h2Store)
	if _, errOut, code := stRunCode(t, dir, "send-test", "--realtime", h2.URL); code != 3 {
		t.Fatalf("send-test --realtime to a hub without an answer: exit %d\n%s", code, errOut)
	}
	_ = h2.Stop(t)
	st, err := store.Open(h2Store)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, err := st.List(context.Background(), store.Filter{Kinds: []decode.Kind{decode.KindRealtimeRequest}})
	if err != nil || len(list) != 1 {
		t.Fatalf("the hub's real-time request: %v, %v", list, err)
	}
	c, err := st.Get(context.Background(), list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if p := strings.Join(c.AnswerProblems, "; "); !strings.Contains(p, "start s2s hub with --realtime-response FILE") || strings.Contains(p, "--forward-to") || strings.Contains(p, "s2s listen") {
		t.Errorf("the hub's answer problems: %q", p)
	}
	if out, err := s2sExit(t, dir, "hub", "--help"); err != nil || bytes.Contains(out, []byte("with --forward-to, your server's answer")) || !bytes.Contains(out, []byte("the hub alone answers Apple")) {
		t.Errorf("s2s hub --help on --realtime-response: %v\n%s", err, out)
	}
}
