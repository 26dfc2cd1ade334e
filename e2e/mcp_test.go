package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// mcpSession starts `s2s mcp` in dir with the SDK's own client over stdio.
func mcpSession(t *testing.T, ctx context.Context, dir string, args ...string) (*mcp.ClientSession, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(Binary, append([]string{"mcp"}, args...)...)
	cmd.Env = Env(dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	client := mcp.NewClient(&mcp.Implementation{Name: "s2s-e2e", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatalf("connecting to s2s mcp: %v\n%s", err, stderr.String())
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs, &stderr
}

// mcpResult is a tool result's structured content, as every s2s tool writes it.
type mcpResult struct {
	ExitCode int             `json:"exitCode"`
	Data     json.RawMessage `json:"data"`
	Messages string          `json:"messages"`
}

func callTool(t *testing.T, ctx context.Context, cs *mcp.ClientSession, name string, args map[string]any) (*mcp.CallToolResult, mcpResult) {
	t.Helper()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var r mcpResult
	if res.StructuredContent != nil {
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: structured content: %v", name, err)
		}
	}
	return res, r
}

func toolText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func TestMCPServer(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l := StartListener(t, dir)

	// A genuine Apple notification arrives at the running listener.
	body := `{"signedPayload":"` + realJWS(t, "05-notification-2025-10-01-DID_RENEW-sandbox.jws") + `"}`
	resp, err := http.Post(l.URL, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("listener answered %d", resp.StatusCode)
	}

	cs, stderr := mcpSession(t, ctx, dir)
	if cs.InitializeResult() == nil || !strings.Contains(cs.InitializeResult().Instructions, "strictly as data") {
		t.Fatalf("the server's instructions do not say payload fields are data: %+v", cs.InitializeResult())
	}

	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
		if tool.InputSchema == nil || tool.OutputSchema == nil {
			t.Errorf("tool %s has no input or output schema", tool.Name)
		}
	}
	for _, want := range []string{"list_captures", "show_capture", "capture_stats", "timeline", "decode", "send_test", "replay", "probe", "listener_status"} {
		if !slices.Contains(names, want) {
			t.Errorf("tools/list lacks %s: %v", want, names)
		}
	}

	// list_captures sees what the listener stored.
	res, r := callTool(t, ctx, cs, "list_captures", map[string]any{"limit": 10})
	var caps []struct {
		ID                    int64  `json:"id"`
		Type                  string `json:"notificationType"`
		OriginalTransactionID string `json:"originalTransactionId"`
	}
	if res.IsError || json.Unmarshal(r.Data, &caps) != nil || len(caps) != 1 || caps[0].Type != "DID_RENEW" {
		t.Fatalf("list_captures: error=%v %s %s\n%s", res.IsError, toolText(res), r.Data, r.Messages)
	}
	id := caps[0].ID

	res, r = callTool(t, ctx, cs, "show_capture", map[string]any{"id": id})
	if res.IsError || !strings.Contains(string(r.Data), `"deliveries"`) || !strings.Contains(string(r.Data), `"verified"`) {
		t.Fatalf("show_capture: %s %s", toolText(res), r.Data)
	}

	// decode by capture ID: the real vector is verified.
	res, r = callTool(t, ctx, cs, "decode", map[string]any{"input": json.Number(jsonInt(id))})
	if !res.IsError {
		t.Fatalf("decode accepted a number where input is a string: %s", r.Data)
	}
	res, r = callTool(t, ctx, cs, "decode", map[string]any{"input": jsonInt(id)})
	var doc struct {
		Verification struct {
			Label string `json:"label"`
		} `json:"verification"`
	}
	if res.IsError || r.ExitCode != 0 || json.Unmarshal(r.Data, &doc) != nil || doc.Verification.Label != "verified" {
		t.Fatalf("decode %d: exit %d %s %s\n%s", id, r.ExitCode, toolText(res), r.Data, r.Messages)
	}
	// decode of a forged body: decoded, not verified, and not an error.
	res, r = callTool(t, ctx, cs, "decode", map[string]any{"input": `{"signedPayload":"` + forgedJWS + `"}`})
	if res.IsError || r.ExitCode != 3 || json.Unmarshal(r.Data, &doc) != nil || doc.Verification.Label != "invalid" {
		t.Fatalf("decode forged: exit %d %s %s\n%s", r.ExitCode, toolText(res), r.Data, r.Messages)
	}

	if len(caps[0].OriginalTransactionID) > 0 {
		res, r = callTool(t, ctx, cs, "timeline", map[string]any{"original_transaction_id": caps[0].OriginalTransactionID})
		if res.IsError || !strings.Contains(string(r.Data), jsonInt(id)) {
			t.Fatalf("timeline: %s %s", toolText(res), r.Data)
		}
	}

	// send_test with no url goes to the running listener, which stores it.
	res, r = callTool(t, ctx, cs, "send_test", map[string]any{"type": "REFUND", "set": []string{"transaction.price=9990"}})
	if res.IsError || !strings.Contains(string(r.Data), "REFUND") {
		t.Fatalf("send_test: %s %s\n%s", toolText(res), r.Data, r.Messages)
	}
	res, r = callTool(t, ctx, cs, "list_captures", map[string]any{"filter": "type:REFUND trust:simulated"})
	if res.IsError || json.Unmarshal(r.Data, &caps) != nil || len(caps) != 1 {
		t.Fatalf("the test notification is not in the store: %s %s", toolText(res), r.Data)
	}

	// replay to a local target: it receives the capture byte for byte.
	var mu sync.Mutex
	var got [][]byte
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		mu.Lock()
		got = append(got, b)
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer target.Close()
	res, r = callTool(t, ctx, cs, "replay", map[string]any{"ids": []int64{id}, "to": target.URL + "/hook"})
	if res.IsError || !strings.Contains(string(r.Data), `"captureId"`) {
		t.Fatalf("replay: %s %s\n%s", toolText(res), r.Data, r.Messages)
	}
	mu.Lock()
	if len(got) != 1 || string(got[0]) != body {
		t.Errorf("the target received %q, want the capture's body", got)
	}
	mu.Unlock()

	// probe a local URL: a report with a verdict.
	res, r = callTool(t, ctx, cs, "probe", map[string]any{"url": target.URL + "/hook"})
	var rep struct {
		Verdict string `json:"verdict"`
	}
	if res.IsError || json.Unmarshal(r.Data, &rep) != nil || rep.Verdict == "" {
		t.Fatalf("probe: %s %s\n%s", toolText(res), r.Data, r.Messages)
	}

	// Sends to anything else are refused, and the refusal names --allow-url.
	for _, call := range []struct {
		tool string
		args map[string]any
	}{
		{"send_test", map[string]any{"type": "TEST", "url": "http://example.com/hook"}},
		{"send_test", map[string]any{"url": "http://127.0.0.1.nip.io/hook"}},
		{"replay", map[string]any{"ids": []int64{id}, "to": "https://example.com/"}},
		{"probe", map[string]any{"url": "https://example.com/"}},
	} {
		res, _ := callTool(t, ctx, cs, call.tool, call.args)
		if !res.IsError || !strings.Contains(toolText(res), "--allow-url") {
			t.Errorf("%s %v: not refused with --allow-url named: %s", call.tool, call.args, toolText(res))
		}
	}

	res, _ = callTool(t, ctx, cs, "listener_status", nil)
	var st struct {
		Running bool   `json:"running"`
		URL     string `json:"url"`
	}
	b, _ := json.Marshal(res.StructuredContent)
	if res.IsError || json.Unmarshal(b, &st) != nil || !st.Running || st.URL != l.URL {
		t.Fatalf("listener_status: %s %s (listener at %s)", toolText(res), b, l.URL)
	}

	rr, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "s2s://docs/trust-labels"})
	if err != nil || len(rr.Contents) != 1 || !strings.Contains(rr.Contents[0].Text, "unsigned-xcode") {
		t.Fatalf("trust-labels resource: %v %+v", err, rr)
	}
	if err := cs.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	if strings.Contains(stderr.String(), "panic") {
		t.Fatalf("s2s mcp panicked:\n%s", stderr)
	}
}

func jsonInt(id int64) string {
	b, _ := json.Marshal(id)
	return string(b)
}
