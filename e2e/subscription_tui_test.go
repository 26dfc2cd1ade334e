//go:build unix

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/appstore/appstoretest"
	"github.com/s2s-dev/s2s/fixtures"
)

// TestTUIAppleViewInTmux: on the Timeline, a asks the (stand-in) App Store Server API about the
// customer without blocking the screen; the status from Apple shows above, the notification Apple
// sent that never arrived is a marked row with Apple's attempt result, and i imports it into the
// store, where it becomes a capture the timeline opens.
func TestTUIAppleViewInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	dir := t.TempDir()
	chain, err := fixtures.LoadOrCreateChain(filepath.Join(dir, ".s2s-config"))
	if err != nil {
		t.Fatal(err)
	}
	keyPath, err := filepath.Abs(filepath.Join("..", "testdata", "vectors", "apple-lib-mock", "certs", "testSigningKey.p8"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := appstore.LoadPrivateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	srv := appstoretest.Start(t, appstoretest.Options{KeyID: standInKeyID, IssuerID: standInIssuer, BundleID: standInBundleID,
		PublicKey: key.Public(), Signer: chain})
	for k, v := range map[string]string{"S2S_APPSTORE_URL": srv.URL, "S2S_KEY_ID": standInKeyID, "S2S_ISSUER_ID": standInIssuer,
		"S2S_PRIVATE_KEY": keyPath, "S2S_BUNDLE_ID": standInBundleID} {
		t.Setenv(k, v)
	}
	const otid = "2000000000000700"
	now := time.Now()
	srv.AddTransactions(appstoretest.Notification{TransactionID: otid, SignedDate: now.Add(-2 * time.Hour)})
	bought, err := srv.AddNotification(appstoretest.Notification{Type: "SUBSCRIBED", Subtype: "INITIAL_BUY", TransactionID: otid, SignedDate: now.Add(-90 * time.Minute)},
		appstore.SendAttempt{AttemptDate: appstore.ToMillis(now.Add(-90 * time.Minute)), SendAttemptResult: appstore.ResultSuccess})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddNotification(appstoretest.Notification{Type: "DID_FAIL_TO_RENEW", TransactionID: otid, SignedDate: now.Add(-60 * time.Minute)},
		appstore.SendAttempt{AttemptDate: appstore.ToMillis(now.Add(-60 * time.Minute)), SendAttemptResult: appstore.ResultTLSIssue}); err != nil {
		t.Fatal(err)
	}

	port := FreePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	tm, exitFile := startTUI(t, dir, 100, 30, true, "--addr", fmt.Sprintf("127.0.0.1:%d", port))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := WaitHTTP(ctx, url); err != nil {
		t.Fatalf("%v; screen:\n%s", err, tm.screen())
	}
	tm.waitText("● receiving")
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(fmt.Sprintf(`{"signedPayload":%q}`, bought.SignedPayload)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tm.waitText("SUBSCRIBED")
	tm.keys("Enter")
	tm.waitText("[1 Summary]")
	tm.keys("6")
	tm.waitText("[6 Timeline]", "a: Apple's view")
	tm.keys("a")
	scr := tm.waitText("Apple now: ACTIVE", "NEVER CAME · TLS_ISSUE")
	if !strings.Contains(scr, "Apple listed 2 notifications about "+otid+"; 1 never arrived") {
		t.Errorf("status line:\n%s", scr)
	}
	tm.keys("j")
	tm.waitText("Apple's attempts: TLS_ISSUE", "i imports it")
	tm.keys("i")
	scr = tm.waitText("imported as #2", "NEVER CAME · imported")
	if strings.Contains(scr, "NEVER CAME · TLS_ISSUE") {
		t.Errorf("the imported notification is still shown as never came:\n%s", scr)
	}
	tm.keys("Enter")
	tm.waitText("#2 DID_FAIL_TO_RENEW")
	tm.keys("q")
	if code := tm.waitExit(exitFile); code != "0" {
		t.Errorf("q: exit %s", code)
	}
}
