package decode_test

import (
	"crypto/x509"
	"encoding/json"
	"strings"
	"testing"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/testpki"
)

// TestAmbiguousBodies: a body that an exact-key reader (Node's JSON.parse, Python's json, the
// developer's server) could read differently from Go's encoding/json is invalid/format with a
// sentence saying why, however genuine the JWS inside. Each of these was labelled verified before
// bodies were read strictly.
func TestAmbiguousBodies(t *testing.T) {
	genuine := strings.TrimSpace(string(readVector(t, "real/04-notification-2025-09-05-TEST-sandbox.jws")))
	forged := "eyJhbGciOiJub25lIn0.eyJub3RpZmljYXRpb25UeXBlIjoiUkVGVU5EIn0.AAAA"
	v := decode.NewVerifier(decode.Options{Clock: clock})
	for _, c := range []struct{ name, body, why string }{
		{"duplicate signedPayload, genuine last", `{"signedPayload":"` + forged + `","signedPayload":"` + genuine + `"}`, `"signedPayload" appears twice`},
		{"duplicate signedPayload, genuine first", `{"signedPayload":"` + genuine + `","signedPayload":"` + forged + `"}`, `"signedPayload" appears twice`},
		{"duplicate through an escape", `{"signedPayload":"` + forged + `","signed\u0050ayload":"` + genuine + `"}`, `"signedPayload" appears twice`},
		{"case variant beside the key", `{"signedPayload":"` + forged + `","SignedPayload":"` + genuine + `"}`, `"SignedPayload", which differs from "signedPayload" only by case`},
		{"case variant alone", `{"SignedPayload":"` + genuine + `"}`, `differs from "signedPayload" only by case`},
		{"upper case alone", `{"SIGNEDPAYLOAD":"` + genuine + `"}`, `differs from "signedPayload" only by case`},
		{"Unicode folding (U+017F long s)", `{"ſignedPayload":"` + genuine + `"}`, `only by case or Unicode folding`},
		{"folding beside the key", `{"signedPayload":"` + forged + `","ſignedPayload":"` + genuine + `"}`, `only by case or Unicode folding`},
		{"another key beside signedPayload", `{"signedPayload":"` + genuine + `","other":1}`, `the key "other" beside signedPayload`},
		{"a V1 key beside signedPayload", `{"signedPayload":"` + genuine + `","notification_type":"DID_RENEW"}`, "both signedPayload"},
		{"two objects", `{"signedPayload":"` + genuine + `"}{"signedPayload":"` + forged + `"}`, "data after the end"},
		{"invalid UTF-8 in a key", "{\"signedPayload\":\"" + genuine + "\",\"x\xff\":1}", "not valid UTF-8"},
		{"lone surrogate key", `{"signedPayload":"` + genuine + `","\ud800":1}`, "lone UTF-16 surrogate"},
		{"trailing comma", `{"signedPayload":"` + genuine + `",}`, "not valid JSON"},
		{"signedPayload not a string", `{"signedPayload":["` + genuine + `"]}`, "signedPayload is not a string"},
		{"V1: duplicate notification_type", `{"notification_type":"DID_RENEW","notification_type":"REFUND","bid":"com.example"}`, `"notification_type" appears twice`},
		{"V1: case variant of bid", `{"notification_type":"DID_RENEW","BID":"com.example"}`, `"BID", which differs from "bid"`},
		{"V1: duplicate inside unified_receipt", `{"notification_type":"DID_RENEW","unified_receipt":{"status":0,"status":21007}}`, `"status" appears twice`},
		{"V1: case variant inside latest_receipt_info", `{"notification_type":"DID_RENEW","unified_receipt":{"latest_receipt_info":[{"Product_ID":"p"}]}}`, `"Product_ID", which differs from "product_id"`},
		{"V1: Notification_Type alone", `{"Notification_Type":"DID_RENEW"}`, `differs from "notification_type"`},
	} {
		for _, d := range []*decode.Decoded{v.Decode([]byte(c.body)), v.DecodeBody([]byte(c.body))} {
			if d.Verification.Label != decode.LabelInvalid || d.Verification.Class != decode.ClassFormat || !strings.Contains(d.Verification.Message, c.why) {
				t.Errorf("%s: %s/%s %q; want invalid/format saying %q", c.name, d.Verification.Label, d.Verification.Class, d.Verification.Message, c.why)
			}
		}
		if _, err := decode.ReadBody([]byte(c.body)); err == nil {
			t.Errorf("%s: ReadBody accepted it", c.name)
		}
	}
	// What every reader reads alike stays as it was.
	for name, body := range map[string]string{
		"Apple's shape":      `{"signedPayload":"` + genuine + `"}`,
		"pretty":             "{\n  \"signedPayload\" : \"" + genuine + "\"\n}\n",
		"escaped key":        `{"signed\u0050ayload":"` + genuine + `"}`,
		"escaped value char": `{"signedPayload":"` + strings.Replace(genuine, "e", `\u0065`, 1) + `"}`,
	} {
		d := v.DecodeBody([]byte(body))
		if d.Verification.Label != decode.LabelVerified || d.JWS != genuine {
			t.Errorf("%s: %s %q", name, d.Verification.Label, d.Verification.Message)
		}
	}
	if d := v.DecodeBody([]byte(`{"notification_type":"DID_RENEW","environment":"PROD","bid":"com.example","unified_receipt":{"status":0}}`)); d.Verification.Label != decode.LabelLegacyV1 {
		t.Errorf("clean V1 body: %s %q", d.Verification.Label, d.Verification.Message)
	}
}

// TestDecodeBodyWantsABody: the receiver's reader takes only a JSON object; a bare JWS, which
// decode's command line accepts, is not a notification body.
func TestDecodeBodyWantsABody(t *testing.T) {
	jws := strings.TrimSpace(string(readVector(t, "real/04-notification-2025-09-05-TEST-sandbox.jws")))
	v := decode.NewVerifier(decode.Options{Clock: clock})
	for _, in := range []string{jws, `"` + jws + `"`, "", "  "} {
		if d := v.DecodeBody([]byte(in)); d.Verification.Label != decode.LabelInvalid || d.Verification.Class != decode.ClassFormat {
			t.Errorf("%.20q: %s/%s %q", in, d.Verification.Label, d.Verification.Class, d.Verification.Message)
		}
	}
	if d := v.Decode([]byte(jws)); d.Verification.Label != decode.LabelVerified {
		t.Errorf("bare JWS to Decode: %s", d.Verification.Label)
	}
}

// TestAmbiguousSignedPayloads: a good signature over a payload that readers read differently is
// not verified (or simulated): duplicate or case-variant keys in the notification, in its data,
// in a nested transaction, or in the JWS header are invalid/format, so no reader acts on fields
// another would see otherwise.
func TestAmbiguousSignedPayloads(t *testing.T) {
	chain := mustChain(t, testpki.Options{})
	v := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{chain.Root}})
	tx := chain.Sign(txPayload("Sandbox", "com.example"))
	clean := string(notificationPayload("Sandbox", "com.example", 1234, tx, ""))
	body := func(payload string) []byte {
		b, _ := json.Marshal(map[string]string{"signedPayload": chain.Sign([]byte(payload))})
		return b
	}
	if d := v.DecodeBody(body(clean)); d.Verification.Label != decode.LabelSimulated {
		t.Fatalf("control: %s %q", d.Verification.Label, d.Verification.Message)
	}
	// The payloads below are the clean one with a key added in front of the object it belongs to.
	insert := func(after, add string) string {
		i := strings.Index(clean, after)
		if i < 0 {
			t.Fatalf("%q not in %s", after, clean)
		}
		i += len(after)
		return clean[:i] + add + clean[i:]
	}
	dupTx := chain.Sign([]byte(strings.Replace(string(txPayload("Sandbox", "com.example")), `{`, `{"transactionId":"999",`, 1)))
	caseTx := chain.Sign([]byte(strings.Replace(string(txPayload("Sandbox", "com.example")), `{`, `{"ProductId":"com.example.lifetime",`, 1)))
	for _, c := range []struct{ name, payload, why string }{
		{"two notificationType", `{"notificationType":"REFUND",` + clean[1:], `"notificationType" appears twice in the notification payload`},
		{"NotificationType beside notificationType", `{"NotificationType":"REFUND",` + clean[1:], `"NotificationType", which differs from "notificationType"`},
		{"two data objects", `{"data":{"bundleId":"com.other","environment":"Production"},` + clean[1:], `"data" appears twice`},
		{"Data beside data", `{"Data":{"bundleId":"com.other"},` + clean[1:], `"Data", which differs from "data"`},
		{"folded subtype (U+017F)", `{"ſubtype":"UPGRADE",` + clean[1:], `"ſubtype", which differs from "subtype"`},
		{"two bundleId in data", insert(`"data":{`, `"bundleId":"com.other",`), `"bundleId" appears twice in the notification payload (in data)`},
		{"BundleId in data", insert(`"data":{`, `"BundleId":"com.other",`), `(in data)`},
		{"duplicate key deeper, in an unknown object", `{"future":{"a":1,"a":2},` + clean[1:], `"a" appears twice`},
		{"nested transaction with two transactionId", strings.Replace(clean, tx, dupTx, 1), `signedTransactionInfo: the key "transactionId" appears twice in the transaction payload`},
		{"nested transaction with ProductId", strings.Replace(clean, tx, caseTx, 1), `signedTransactionInfo: the transaction payload has the key "ProductId"`},
	} {
		d := v.DecodeBody(body(c.payload))
		if d.Verification.Label != decode.LabelInvalid || d.Verification.Class != decode.ClassFormat || !strings.Contains(d.Verification.Message, c.why) {
			t.Errorf("%s: %s/%s %q; want invalid/format saying %q", c.name, d.Verification.Label, d.Verification.Class, d.Verification.Message, c.why)
		}
		// Decode's command line reads a bare JWS with the same rule.
		var b struct{ SignedPayload string }
		_ = json.Unmarshal(body(c.payload), &b)
		if d := v.Decode([]byte(b.SignedPayload)); d.Verification.Label != decode.LabelInvalid {
			t.Errorf("%s, bare JWS: %s %q", c.name, d.Verification.Label, d.Verification.Message)
		}
	}
	// Unknown fields whose names differ only by case are read alike by every reader: no ambiguity.
	if d := v.DecodeBody(body(`{"futureField":1,"FutureField":2,` + clean[1:])); d.Verification.Label != decode.LabelSimulated {
		t.Errorf("unknown case-different keys: %s %q", d.Verification.Label, d.Verification.Message)
	}
	// A header with two alg (or x5c) names one thing to one reader and another to the next.
	h := chain.Header()
	hdr, _ := json.Marshal(h)
	dupHeader := strings.Replace(string(hdr), `{`, `{"alg":"none",`, 1)
	jws := testpki.EncodeJWSRawHeader([]byte(dupHeader), []byte(clean), testpki.ES256(chain.LeafKey))
	if d := v.Decode([]byte(jws)); d.Verification.Label != decode.LabelInvalid || !strings.Contains(d.Verification.Message, `"alg" appears twice in the JWS header`) {
		t.Errorf("duplicate alg in the header: %s %q", d.Verification.Label, d.Verification.Message)
	}
}

// TestNestedKindConfusion: a nested field holds its own kind: a renewal info as
// signedTransactionInfo, or a notification as a nested object, is invalid/format.
func TestNestedKindConfusion(t *testing.T) {
	chain := mustChain(t, testpki.Options{})
	v := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{chain.Root}})
	renewal := chain.SignJSON(map[string]any{"originalTransactionId": "1", "autoRenewStatus": 1, "autoRenewProductId": "p",
		"environment": "Sandbox", "signedDate": signedAt.UnixMilli()})
	tx := chain.Sign(txPayload("Sandbox", "com.example"))
	for name, c := range map[string]struct{ tx, renewal, why string }{
		"renewal info as signedTransactionInfo": {renewal, "", "signedTransactionInfo: it holds a signed renewal info, not a transaction"},
		"transaction as signedRenewalInfo":      {tx, tx, "signedRenewalInfo: it holds a signed transaction, not a renewal info"},
	} {
		b, _ := json.Marshal(map[string]string{"signedPayload": chain.Sign(notificationPayload("Sandbox", "com.example", 1234, c.tx, c.renewal))})
		d := v.DecodeBody(b)
		if d.Verification.Label != decode.LabelInvalid || d.Verification.Class != decode.ClassFormat || !strings.Contains(d.Verification.Message, c.why) {
			t.Errorf("%s: %s/%s %q", name, d.Verification.Label, d.Verification.Class, d.Verification.Message)
		}
	}
}
