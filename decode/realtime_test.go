package decode_test

import (
	"crypto/x509"
	"encoding/json"
	"strings"
	"testing"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/testpki"
)

// realtimePayload is an Apple-shaped DecodedRealtimeRequestBody.
func realtimePayload(env string, appID int64) map[string]any {
	return map[string]any{
		"originalTransactionId": "2000001234567890", "appAppleId": appID,
		"productId": "com.example.monthly", "userLocale": "ja-JP",
		"requestIdentifier": "3db5c98d-8acf-4e29-831e-8e1f82f9f6e9",
		"signedDate":        signedAt.UnixMilli(), "environment": env,
	}
}

func realtimeBody(t *testing.T, c *testpki.Chain, payload any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]string{"signedPayload": c.SignJSON(payload)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRealtimeRequestDecodes(t *testing.T) {
	c := mustChain(t, testpki.Options{})
	v := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{c.Root}})
	jws := c.SignJSON(realtimePayload("Sandbox", 6450000001))

	d := v.Decode([]byte(jws))
	if d.Kind != decode.KindRealtimeRequest || d.Verification.Label != decode.LabelSimulated {
		t.Fatalf("bare JWS: %s %s/%s %q", d.Kind, d.Verification.Label, d.Verification.Class, d.Verification.Message)
	}
	s := d.Summary()
	if s.Kind != decode.KindRealtimeRequest || s.OriginalTransactionID != "2000001234567890" || s.ProductID != "com.example.monthly" ||
		s.UserLocale != "ja-JP" || s.RequestIdentifier != "3db5c98d-8acf-4e29-831e-8e1f82f9f6e9" || s.Environment != "Sandbox" ||
		s.AppAppleID != 6450000001 || !s.SignedDate.Equal(signedAt) {
		t.Errorf("summary: %+v", s)
	}

	body := realtimeBody(t, c, realtimePayload("Sandbox", 6450000001))
	if d := v.Decode(body); d.Kind != decode.KindRealtimeRequest || d.Verification.Label != decode.LabelSimulated {
		t.Errorf("decode of a real-time body: %s %s/%s %q", d.Kind, d.Verification.Label, d.Verification.Class, d.Verification.Message)
	}
	// Where a notification must be (captures replayed, Apple's history), it is not one.
	if d := v.DecodeBody(body); d.Kind != decode.KindRealtimeRequest || d.Verification.Class != decode.ClassFormat ||
		!strings.Contains(d.Verification.Message, "signedPayload holds a signed real-time request, not a notification") {
		t.Errorf("DecodeBody: %s/%s %q", d.Verification.Label, d.Verification.Class, d.Verification.Message)
	}
	if d := v.DecodeEndpointBody(body); d.Kind != decode.KindRealtimeRequest || d.Verification.Label != decode.LabelSimulated || d.RealtimeRequest == nil {
		t.Errorf("DecodeEndpointBody: %s %s/%s %q", d.Kind, d.Verification.Label, d.Verification.Class, d.Verification.Message)
	}
	if d := v.DecodeRealtimeBody(body); d.Kind != decode.KindRealtimeRequest || d.Verification.Label != decode.LabelSimulated {
		t.Errorf("DecodeRealtimeBody: %s %s/%s %q", d.Kind, d.Verification.Label, d.Verification.Class, d.Verification.Message)
	}

	// A notification at an endpoint is a notification; at a real-time endpoint it is not a request.
	nb, _ := json.Marshal(map[string]string{"signedPayload": c.Sign(notificationPayload("Sandbox", "com.example", 1, "", ""))})
	if d := v.DecodeEndpointBody(nb); d.Kind != decode.KindNotification || d.Verification.Label != decode.LabelSimulated {
		t.Errorf("DecodeEndpointBody of a notification: %s %s/%s %q", d.Kind, d.Verification.Label, d.Verification.Class, d.Verification.Message)
	}
	if d := v.DecodeRealtimeBody(nb); d.Verification.Class != decode.ClassFormat || !strings.Contains(d.Verification.Message, "a signed notification, not a real-time request") {
		t.Errorf("DecodeRealtimeBody of a notification: %s %s/%s %q", d.Kind, d.Verification.Label, d.Verification.Class, d.Verification.Message)
	}
	// A transaction is neither.
	tb, _ := json.Marshal(map[string]string{"signedPayload": c.Sign(txPayload("Sandbox", "com.example"))})
	if d := v.DecodeEndpointBody(tb); d.Verification.Class != decode.ClassFormat || !strings.Contains(d.Verification.Message, "a signed transaction, not a notification") {
		t.Errorf("DecodeEndpointBody of a transaction: %s %s/%s %q", d.Kind, d.Verification.Label, d.Verification.Class, d.Verification.Message)
	}
}

// TestRealtimeRequestIdentity follows verifyAndDecodeRealtimeRequest: appAppleId in Production,
// environment always.
func TestRealtimeRequestIdentity(t *testing.T) {
	c := mustChain(t, testpki.Options{})
	roots := []*x509.Certificate{c.Root}
	prod := realtimeBody(t, c, realtimePayload("Production", 6450000001))
	for _, tc := range []struct {
		name  string
		o     decode.Options
		body  []byte
		class decode.Class
	}{
		{"matching Production", decode.Options{Environment: "Production", AppAppleID: 6450000001}, prod, ""},
		{"another app in Production", decode.Options{Environment: "Production", AppAppleID: 6450000002}, prod, decode.ClassIdentity},
		{"another app in Sandbox is not checked", decode.Options{Environment: "Sandbox", AppAppleID: 6450000002}, realtimeBody(t, c, realtimePayload("Sandbox", 1)), ""},
		{"wrong environment", decode.Options{Environment: "Sandbox"}, prod, decode.ClassEnvironment},
	} {
		tc.o.ExtraRoots = roots
		d := decode.NewVerifier(tc.o).DecodeEndpointBody(tc.body)
		if d.Verification.Class != tc.class || (tc.class == "") != (d.Verification.Label == decode.LabelSimulated) {
			t.Errorf("%s: %s/%s %q", tc.name, d.Verification.Label, d.Verification.Class, d.Verification.Message)
		}
	}
}

// TestRealtimeRequestStrictKeys: a payload two readers could read differently is never trusted.
func TestRealtimeRequestStrictKeys(t *testing.T) {
	c := mustChain(t, testpki.Options{})
	v := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{c.Root}})
	for name, payload := range map[string]string{
		"duplicate appAppleId": `{"originalTransactionId":"1","appAppleId":1,"appAppleId":2,"productId":"p","userLocale":"en-US","requestIdentifier":"r","signedDate":1759302518000,"environment":"Sandbox"}`,
		"folded environment":   `{"originalTransactionId":"1","appAppleId":1,"productId":"p","userLocale":"en-US","requestIdentifier":"r","signedDate":1759302518000,"environment":"Sandbox","Environment":"Production"}`,
	} {
		body, _ := json.Marshal(map[string]string{"signedPayload": c.Sign([]byte(payload))})
		if d := v.DecodeEndpointBody(body); d.Verification.Label != decode.LabelInvalid || d.Verification.Class != decode.ClassFormat {
			t.Errorf("%s: %s %s/%s %q", name, d.Kind, d.Verification.Label, d.Verification.Class, d.Verification.Message)
		}
	}
}
