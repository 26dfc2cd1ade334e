package cmd

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/benchgen"
	"github.com/s2s-dev/s2s/internal/decodeview"
)

// decodeStreamFactory is a Factory whose test chain directory is private to the test.
func decodeStreamFactory(t *testing.T, ios *IOStreams) *Factory {
	dir := t.TempDir()
	return &Factory{IO: ios, Getenv: func(k string) string {
		if k == "S2S_CONFIG_DIR" {
			return dir
		}
		return ""
	}, Now: time.Now}
}

func writeRootPEM(t *testing.T, root *x509.Certificate) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "root.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDecodeManyInputsInOrder: many inputs (distinct notifications, tampered, malformed, an
// unreadable argument and an empty file between them) are verified on every core but printed in
// input order, each exactly as one decode of it alone prints it, with the messages about bad
// arguments in their place; one bad input stops none of the others, and the exit status is that
// of the worst.
func TestDecodeManyInputsInOrder(t *testing.T) {
	c, err := benchgen.AppleShapedChain()
	if err != nil {
		t.Fatal(err)
	}
	bodies, err := benchgen.DIDRenews(c, 40)
	if err != nil {
		t.Fatal(err)
	}
	rootPath := writeRootPEM(t, c.Root())
	bodies[7] = bytes.Replace(bodies[7], []byte(`"signedPayload":"ey`), []byte(`"signedPayload":"ez`), 1) // bad header
	bodies[19] = []byte("not a jws")
	var file bytes.Buffer
	for _, b := range bodies {
		file.Write(b)
		file.WriteByte('\n')
	}
	dir := t.TempDir()
	first, empty := filepath.Join(dir, "first.ndjson"), filepath.Join(dir, "empty.ndjson")
	if err := os.WriteFile(first, file.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.jws")
	args := []string{first, missing, empty, first}

	v := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{c.Root()}})
	for _, asJSON := range []bool{true, false} {
		var want bytes.Buffer
		count := 0
		for range 2 {
			for _, b := range bodies {
				if count > 0 && !asJSON {
					want.WriteByte('\n')
				}
				count++
				d := v.Decode(b)
				if asJSON {
					err = renderDecodedJSON(&want, d)
				} else {
					err = decodeview.Write(&want, d, decodeview.Styles{})
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		ios, _, out, errOut := TestIO()
		err := runDecode(context.Background(), &decodeOptions{f: decodeStreamFactory(t, ios), Args: args, JSON: asJSON, Roots: []string{rootPath}})
		if ExitCode(err) != ExitError {
			t.Errorf("json=%v: exit %d (%v), want %d: a malformed input and a missing file", asJSON, ExitCode(err), err, ExitError)
		}
		if !bytes.Equal(out.Bytes(), want.Bytes()) {
			t.Errorf("json=%v: output differs from decoding each input alone, in order (%d bytes, want %d)", asJSON, out.Len(), want.Len())
		}
		msgs := strings.Split(strings.TrimSpace(errOut.String()), "\n")
		if len(msgs) != 2 || !strings.Contains(msgs[0], "missing.jws") || !strings.Contains(msgs[1], "empty.ndjson is empty") {
			t.Errorf("json=%v: messages %q, want the missing file then the empty one", asJSON, msgs)
		}
	}
}

// TestDecodeStreamsStandardInput: the first notification of a stream is printed before the
// stream ends, so decode works on a pipe that stays open and never holds a whole file.
func TestDecodeStreamsStandardInput(t *testing.T) {
	c, err := benchgen.AppleShapedChain()
	if err != nil {
		t.Fatal(err)
	}
	bodies, err := benchgen.DIDRenews(c, 2)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	ios, _, _, _ := TestIO()
	ios.In = pr
	out := &notifyingBuffer{grew: make(chan struct{}, 1)}
	ios.Out = out
	done := make(chan error, 1)
	go func() {
		done <- runDecode(context.Background(), &decodeOptions{f: decodeStreamFactory(t, ios), JSON: true, Roots: []string{writeRootPEM(t, c.Root())}})
	}()
	if _, err := pw.Write(append(bodies[0], '\n')); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(30 * time.Second)
	for !strings.Contains(out.String(), `"label": "simulated"`) {
		select {
		case <-out.grew:
		case err := <-done:
			t.Fatalf("decode returned before its input ended: %v", err)
		case <-deadline:
			t.Fatal("the first notification was not printed while the stream was still open")
		}
	}
	if _, err := pw.Write(append(bodies[1], '\n')); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit %d: %v", ExitCode(err), err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("decode did not end with its input")
	}
	if n := strings.Count(out.String(), "\n{\n") + 1; n != 2 {
		t.Fatalf("%d documents, want 2", n)
	}
}

// TestDecodeInterruptedWhileReading: Ctrl-C while standard input stays open ends decode with
// the interrupted status, after printing what was decoded.
func TestDecodeInterruptedWhileReading(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ios, _, _, _ := TestIO()
	ios.In = pr
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runDecode(ctx, &decodeOptions{f: decodeStreamFactory(t, ios), JSON: true}) }()
	cancel()
	select {
	case err := <-done:
		if ExitCode(err) != ExitInterrupted {
			t.Fatalf("exit %d (%v), want %d", ExitCode(err), err, ExitInterrupted)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("decode ignored the interruption")
	}
}

// notifyingBuffer is a concurrency-safe buffer that signals each write.
type notifyingBuffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	grew chan struct{}
}

func (n *notifyingBuffer) Write(p []byte) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	select {
	case n.grew <- struct{}{}:
	default:
	}
	return n.b.Write(p)
}

func (n *notifyingBuffer) String() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.b.String()
}
