package cmd

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/s2s-dev/s2s/store"
)

// TestMCPConcurrentCallsRunSeparateCommands drives s2s mcp in-process with calls in flight at
// once: each runs its own command tree on its own buffers (run it with -race), and nothing but
// the protocol reaches the server's stdout (the client would fail to read anything else).
func TestMCPConcurrentCallsRunSeparateCommands(t *testing.T) {
	dir := t.TempDir()
	storePath := filepath.Join(dir, "captures.db")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := store.Open(storePath)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := os.ReadFile(filepath.Join("..", "testdata", "vectors", "real", "05-notification-2025-10-01-DID_RENEW-sandbox.jws"))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"signedPayload":"` + strings.TrimSpace(string(jws)) + `"}`)
	for range 3 {
		if err := st.Insert(ctx, &store.Capture{Method: "POST", Path: "/", RemoteAddr: "127.0.0.1:1", Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	serverIn, clientOut := io.Pipe()
	clientIn, serverOut := io.Pipe()
	var errOut strings.Builder
	vars := map[string]string{"S2S_CONFIG_DIR": filepath.Join(dir, "config"), "S2S_STATE_DIR": filepath.Join(dir, "state"), "S2S_STORE": storePath}
	f := &Factory{IO: &IOStreams{In: serverIn, Out: serverOut, ErrOut: &lockedWriter{w: &errOut}},
		Getenv: func(k string) string { return vars[k] }, Now: time.Now,
		HTTPClient: func() *http.Client { return &http.Client{Timeout: 10 * time.Second} }}
	done := make(chan int, 1)
	go func() { done <- run(ctx, f, []string{"mcp"}); serverOut.Close() }()

	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test"}, nil).Connect(ctx, &mcp.IOTransport{Reader: clientIn, Writer: clientOut}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 30)
	for i := range 10 {
		for _, c := range []mcp.CallToolParams{
			{Name: "list_captures", Arguments: map[string]any{"limit": 2}},
			{Name: "capture_stats"},
			{Name: "decode", Arguments: map[string]any{"input": []string{"1", "2", "3"}[i%3]}},
		} {
			wg.Go(func() {
				res, err := cs.CallTool(ctx, &c)
				if err != nil || res.IsError {
					errs <- c.Name + ": " + func() string {
						if err != nil {
							return err.Error()
						}
						return res.Content[0].(*mcp.TextContent).Text
					}()
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	cs.Close()
	clientOut.Close()
	if code := <-done; code != 0 {
		t.Errorf("s2s mcp exited %d: %s", code, errOut.String())
	}
}

// lockedWriter serialises the server's own stderr writes, which the test reads at the end.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
