package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ackHolder is a TCP proxy between a listener and the hub's NATS server that reads just enough of
// the NATS client protocol to hold back the listener's JetStream acknowledgements (publishes to
// $JS.ACK.…): every other frame passes both ways unchanged. It puts a listener in the window
// between its store's commit and the hub hearing the acknowledgement, for as long as a test needs.
type ackHolder struct {
	ln     net.Listener
	target string
	held   chan string // the subject of each acknowledgement held back

	mu    sync.Mutex
	conns []net.Conn
}

func startAckHolder(t *testing.T, target string) *ackHolder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &ackHolder{ln: ln, target: target, held: make(chan string, 1024)}
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *ackHolder) addr() string { return p.ln.Addr().String() }

func (p *ackHolder) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

func (p *ackHolder) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.DialTimeout("tcp", p.target, 10*time.Second)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		go func() {
			_, _ = io.Copy(client, server)
			client.Close()
		}()
		go func() {
			_ = p.clientToServer(server, bufio.NewReader(client))
			server.Close()
		}()
	}
}

// clientToServer copies the client's protocol frames to the server, except acknowledgements.
// A frame is a control line; PUB and HPUB lines end with the size of the payload that follows
// (with its own CRLF).
func (p *ackHolder) clientToServer(dst io.Writer, src *bufio.Reader) error {
	for {
		line, err := src.ReadBytes('\n')
		if err != nil {
			return err
		}
		f := strings.Fields(string(line))
		var payload []byte
		if len(f) >= 3 && (strings.EqualFold(f[0], "PUB") || strings.EqualFold(f[0], "HPUB")) {
			n, err := strconv.Atoi(f[len(f)-1])
			if err != nil || n < 0 {
				return err
			}
			payload = make([]byte, n+2)
			if _, err := io.ReadFull(src, payload); err != nil {
				return err
			}
			if strings.HasPrefix(f[1], "$JS.ACK.") {
				select {
				case p.held <- f[1]:
				default:
				}
				continue
			}
		}
		if _, err := dst.Write(append(line, payload...)); err != nil {
			return err
		}
	}
}

// A listener killed with SIGKILL after its store committed a capture but before the hub heard its
// acknowledgement gets the message again when it restarts, and stores it once, byte for byte.
func TestHubListenerKilledBeforeAck(t *testing.T) {
	dir := t.TempDir()
	hubStore := filepath.Join(dir, "hub", "captures.db")
	h := startReceiver(t, dir, "hub", "--nats-listen", "127.0.0.1:0", "--store", hubStore)
	hubURL := h.Ready["hub"].(string)
	at := strings.LastIndex(hubURL, "@")
	proxy := startAckHolder(t, hubURL[at+1:])
	aStore := filepath.Join(dir, "a", "captures.db")
	// A long ack wait: nothing the proxy holds comes back while this listener lives.
	a := StartListener(t, dir, "--store", aStore, "--hub", hubURL[:at+1]+proxy.addr(), "--name", "alice", "--hub-ack-wait", "1h")

	body := hubBodies(t, dir, "com.example.a", 1)
	postAll(t, h.URL, body)
	a.waitNotifications(t, 1) // committed to the listener's store
	select {
	case subject := <-proxy.held:
		t.Logf("held %s", subject)
	case <-time.After(60 * time.Second):
		t.Fatalf("the listener stored the capture but sent no acknowledgement: %s", a.stderr)
	}
	a.Kill()
	sums, _ := storedBodies(t, aStore)
	if len(sums) != 1 {
		t.Fatalf("the killed listener stored %d bodies, want 1", len(sums))
	}

	// The hub never heard the acknowledgement: the message is still pending for alice.
	out, err := exec.Command(Binary, "hub", "status", "--json", "--store", hubStore).Output()
	if err != nil {
		t.Fatalf("hub status: %v", err)
	}
	var st struct {
		Consumers []struct {
			Name       string `json:"name"`
			AckPending int    `json:"ackPending"`
			AckFloor   uint64 `json:"ackFloor"`
		} `json:"consumers"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("hub status --json: %v: %s", err, out)
	}
	if len(st.Consumers) != 1 || st.Consumers[0].Name != "alice" || st.Consumers[0].AckPending != 1 || st.Consumers[0].AckFloor != 0 {
		t.Fatalf("after the kill, want alice holding one unacknowledged message: %s", out)
	}

	// Restarted straight against the hub, with a short ack wait (set on the durable consumer at
	// start): the held message is delivered again, found stored, acknowledged.
	a = StartListener(t, dir, "--store", aStore, "--hub", hubURL, "--name", "alice", "--hub-ack-wait", "1s")
	deadline := time.After(60 * time.Second)
	for acked := false; !acked; {
		select {
		case e, ok := <-h.events:
			if !ok {
				t.Fatalf("hub exited: %s", h.stderr)
			}
			acked = e["event"] == "hub-ack" && e["consumer"] == "alice"
		case e, ok := <-a.events:
			if !ok {
				t.Fatalf("listener exited: %s", a.stderr)
			}
			if e["event"] == "notification" {
				t.Fatalf("the redelivery was shown as a new capture: %v", e)
			}
		case <-deadline:
			t.Fatalf("the restarted listener did not acknowledge the held message within 60s: %s", a.stderr)
		}
	}
	if err := a.Stop(t); err == nil {
		t.Fatal("want the interrupted exit status")
	}
	wantExactly(t, aStore, body)
	if bytes.Contains(a.stderr.Bytes(), []byte("not stored")) {
		t.Fatalf("listener: %s", a.stderr)
	}
}
