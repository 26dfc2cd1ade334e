//go:build unix

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/appstore/appstoretest"
)

// TestTUIShowsHostileFieldsAsText runs the real binary's UI in tmux and posts a notification whose
// fields set the window title, write the clipboard, clear the screen and overwrite lines: the
// pane's title stays s2s's, and the list and every tab of the detail show the sequences as text.
func TestTUIShowsHostileFieldsAsText(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	dir := t.TempDir()
	port := FreePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	tm, _ := startTUI(t, dir, 120, 30, true, "--addr", fmt.Sprintf("127.0.0.1:%d", port))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := WaitHTTP(ctx, url); err != nil {
		t.Fatalf("%v; screen:\n%s", err, tm.screen())
	}
	tm.waitText("Waiting for notifications")
	title := tm.flag("#{pane_title}")

	chain, err := appstoretest.NewChain()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	tx := evilJWS(t, chain, map[string]any{"transactionId": "1", "originalTransactionId": "2", "productId": "com.x" + evil,
		"purchaseDate": now, "signedDate": now, "environment": "Sandbox"})
	jws := evilJWS(t, chain, map[string]any{
		"notificationType": "DID_RENEW" + evil, "notificationUUID": "u", "version": "2.0", "signedDate": now,
		"data": map[string]any{"bundleId": "com.x" + evil, "environment": "Sandbox", "signedTransactionInfo": tx},
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(string(Body(jws))))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Evil", "\u009b31m\u202e\u200b")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	screens := []string{tm.waitText(`DID_RENEW\x1b]52;c;ZXZpbA==`)}
	tm.keys("Enter")
	screens = append(screens, tm.waitText("[1 Summary]"))
	for i, name := range []string{"Decoded", "Raw", "Headers", "Deliveries", "Timeline"} {
		tm.keys(fmt.Sprint(i + 2))
		screens = append(screens, tm.waitText(fmt.Sprintf("[%d %s]", i+2, name)))
	}
	if !strings.Contains(screens[4], `X-Evil: \u009b31m\u202e\u200b`) {
		t.Errorf("the header is not shown escaped:\n%s", screens[4])
	}
	for i, scr := range screens {
		assertTerminalSafe(t, fmt.Sprintf("screen %d", i), []byte(scr))
		for _, line := range strings.Split(scr, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "OVERWRITE") || strings.HasPrefix(strings.TrimSpace(line), "NEWLINE") {
				t.Errorf("screen %d: a field's CR or newline started a line: %q\n%s", i, line, scr)
			}
		}
	}
	if all := strings.Join(screens, "\n"); !strings.Contains(all, `\rOVERWRITE`) {
		t.Errorf("the carriage return is not shown as text:\n%s", all)
	}
	if got := tm.flag("#{pane_title}"); got != title || strings.Contains(got, "pwned") {
		t.Errorf("the pane title changed from %q to %q", title, got)
	}
}
