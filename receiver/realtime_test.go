package receiver

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/testpki"
)

func realtimeRequestBody(t *testing.T, c *testpki.Chain) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]string{"signedPayload": c.SignJSON(map[string]any{
		"originalTransactionId": "2000001234567890", "appAppleId": 6450000001, "productId": "com.example.monthly",
		"userLocale": "en-US", "requestIdentifier": "3db5c98d-8acf-4e29-831e-8e1f82f9f6e9",
		"signedDate": time.Now().UnixMilli(), "environment": "Sandbox",
	})})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRealtimeRequestAnswered: a real-time request is captured as one (not as an invalid
// notification), answered with the configured body, and an answer later than the budget is
// flagged (the clock moves between receipt and answer; no real time passes).
func TestRealtimeRequestAnswered(t *testing.T) {
	pki := testpki.MustNew(testpki.Options{})
	st := &memStore{}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	calls := 0
	answer := []byte(`{"message":{"messageIdentifier":"m"}}`)
	h, events := newTestHandler(t, st, func(o *Options) {
		o.Verifier = decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{pki.Root}})
		o.Realtime = Realtime{Response: answer, Budget: 700 * time.Millisecond}
		o.Now = func() time.Time { calls++; return now.Add(time.Duration(calls) * 400 * time.Millisecond) }
	})
	rec := do(h, "POST", "/", bytes.NewReader(realtimeRequestBody(t, pki)), nil)
	h.Wait()
	if rec.Code != 200 || rec.Body.String() != string(answer) || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("answer: %d %q", rec.Code, rec.Body.String())
	}
	e := <-events
	c := e.Capture
	if c.Kind != decode.KindRealtimeRequest || c.Trust != decode.LabelSimulated {
		t.Fatalf("capture: kind %q trust %q %q", c.Kind, c.Trust, c.TrustMessage)
	}
	if len(c.AnswerProblems) != 1 || !strings.Contains(c.AnswerProblems[0], "over the budget of 700ms") {
		t.Errorf("problems: %q", c.AnswerProblems)
	}

	// Without a response configured, the empty answer is flagged.
	h2, events2 := newTestHandler(t, &memStore{}, func(o *Options) {
		o.Verifier = decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{pki.Root}})
	})
	do(h2, "POST", "/", bytes.NewReader(realtimeRequestBody(t, pki)), nil)
	h2.Wait()
	if e := <-events2; len(e.Capture.AnswerProblems) != 1 || !strings.Contains(e.Capture.AnswerProblems[0], "--realtime-response") {
		t.Errorf("no response configured: %q", e.Capture.AnswerProblems)
	}
}
