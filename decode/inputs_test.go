package decode_test

import (
	"crypto/x509"
	"encoding/json"
	"strings"
	"testing"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/testpki"
)

func TestSplitInputs(t *testing.T) {
	jws := "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"
	cases := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"whitespace", " \n\t\r\n", nil},
		{"bare JWS with newline", jws + "\n", []string{jws}},
		{"bare JWS in spaces", "  " + jws + "  ", []string{jws}},
		{"newline-delimited bodies", `{"signedPayload":"a.b.c"}` + "\n\n" + `{"signedPayload":"d.e.f"}` + "\r\n", []string{`{"signedPayload":"a.b.c"}`, `{"signedPayload":"d.e.f"}`}},
		{"pretty-printed body is one input", "{\n  \"signedPayload\": \"a.b.c\"\n}\n", []string{"{\n  \"signedPayload\": \"a.b.c\"\n}"}},
		{"two bodies on one line", `{"a":1}{"b":2}`, []string{`{"a":1}`, `{"b":2}`}},
		{"JWS lines", jws + "\n" + jws, []string{jws, jws}},
		{"mixed", jws + "\n{\"notification_type\":\"DID_RENEW\"}\n", []string{jws, `{"notification_type":"DID_RENEW"}`}},
		{"malformed object is its line", "{\"signedPayload\": \n" + jws, []string{`{"signedPayload":`, jws}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := decode.SplitInputs([]byte(c.in))
			if len(got) != len(c.want) {
				t.Fatalf("got %d inputs %q, want %q", len(got), got, c.want)
			}
			for i := range got {
				if string(got[i]) != c.want[i] {
					t.Errorf("input %d: %q, want %q", i, got[i], c.want[i])
				}
			}
		})
	}
}

func TestMillis(t *testing.T) {
	cases := []struct {
		in   string
		want decode.Millis
		err  bool
	}{
		{"1759302518835", 1759302518835, false},
		{"1697679936049.7297", 1697679936049, false},
		{"-62135769600000", -62135769600000, false},
		{"1.7e12", 1700000000000, false},
		{"null", 0, false},
		{`"1759302518835"`, 0, true},
		{"true", 0, true},
		{"1e300", 0, true},
	}
	for _, c := range cases {
		var m decode.Millis
		err := json.Unmarshal([]byte(c.in), &m)
		if (err != nil) != c.err || m != c.want {
			t.Errorf("%s: %d, %v; want %d, error %v", c.in, m, err, c.want, c.err)
		}
	}
	if s := decode.Millis(1759302518835).String(); s != "2025-10-01T07:08:38.835Z" {
		t.Errorf("String %s", s)
	}
}

// TestInputForms: the body Apple sends, a bare JWS, a quoted JWS and surrounding whitespace all
// decode to the same verified notification.
func TestInputForms(t *testing.T) {
	jws := strings.TrimSpace(string(readVector(t, "real/04-notification-2025-09-05-TEST-sandbox.jws")))
	v := decode.NewVerifier(decode.Options{Clock: clock})
	for name, in := range map[string]string{
		"bare":        jws,
		"body":        `{"signedPayload":"` + jws + `"}`,
		"pretty body": "{\n  \"signedPayload\": \"" + jws + "\"\n}\n",
		"quoted":      `"` + jws + `"`,
		"whitespace":  "\n\t " + jws + " \r\n",
		"escaped key": `{"signed\u0050ayload":"` + jws + `"}`,
	} {
		d := v.Decode([]byte(in))
		if d.Kind != decode.KindNotification || d.Verification.Label != decode.LabelVerified || d.JWS != jws {
			t.Errorf("%s: %s %s %q", name, d.Kind, d.Verification.Label, d.Verification.Message)
		}
		if string(d.Raw) != in {
			t.Errorf("%s: Raw is not the input", name)
		}
	}
}

// TestNotAppStoreInput: anything else is KindUnknown (or the kind its context says), invalid/format,
// with a message, never a panic.
func TestNotAppStoreInput(t *testing.T) {
	v := decode.NewVerifier(decode.Options{})
	for _, in := range []string{
		"", "   ", "hello", "a.b.c", "a.b.c.d", "{", "{}", `{"signedPayload":42}`, `{"foo":"bar"}`, "[1,2]", `"unterminated`,
		"eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.AAAA", // payload "not json"
		"eyJhbGciOiJFUzI1NiJ9.e30.AAAA",         // payload {}: not an App Store object
		"bm90IGpzb24.e30.AAAA",                  // header "not json"
	} {
		d := v.Decode([]byte(in))
		if d == nil {
			t.Fatalf("%q: nil", in)
		}
		if d.Verification.Label != decode.LabelInvalid || d.Verification.Class != decode.ClassFormat || d.Verification.Message == "" {
			t.Errorf("%q: %s/%s %q", in, d.Verification.Label, d.Verification.Class, d.Verification.Message)
		}
		if d.Kind != decode.KindUnknown && !strings.Contains(in, "signedPayload") {
			t.Errorf("%q: kind %s", in, d.Kind)
		}
		if _, err := json.Marshal(d); err != nil {
			t.Errorf("%q: MarshalJSON: %v", in, err)
		}
		_ = d.Summary()
	}
}

// TestV1 recognises legacy version 1 bodies: decoded, unsigned, labelled legacy-v1.
func TestV1(t *testing.T) {
	body := `{"notification_type":"DID_RENEW","environment":"PROD","password":"s3cret","bid":"com.example.app","bvrs":"42",
"auto_renew_product_id":"com.example.monthly","auto_renew_status":"true","original_transaction_id":"1000000000000001",
"unified_receipt":{"environment":"Production","status":0,"latest_receipt":"MIIT...",
"latest_receipt_info":[{"product_id":"com.example.monthly","transaction_id":"1000000000000009","original_transaction_id":"1000000000000001","purchase_date_ms":"1600000000000","expires_date_ms":"1602592000000"}],
"pending_renewal_info":[{"auto_renew_product_id":"com.example.monthly","auto_renew_status":"1","original_transaction_id":"1000000000000001","product_id":"com.example.monthly"}]},
"unknown_new_field":{"kept":true}}`
	d := decode.NewVerifier(decode.Options{}).Decode([]byte(body))
	if d.Kind != decode.KindNotificationV1 || d.Verification.Label != decode.LabelLegacyV1 || d.V1 == nil {
		t.Fatalf("%s %s %q", d.Kind, d.Verification.Label, d.Verification.Message)
	}
	s := d.Summary()
	if s.Type != "DID_RENEW" || s.Environment != "Production" || s.BundleID != "com.example.app" || s.TransactionID != "1000000000000009" ||
		s.OriginalTransactionID != "1000000000000001" || s.ProductID != "com.example.monthly" || s.ExpiresDate.UnixMilli() != 1602592000000 {
		t.Errorf("summary %+v", s)
	}
	b, _ := json.Marshal(d)
	if !strings.Contains(string(b), `"unknown_new_field":{"kept":true}`) {
		t.Errorf("unknown field dropped: %s", b)
	}
	// Identity checks apply to V1 too, although nothing in it is signed.
	d = decode.NewVerifier(decode.Options{BundleID: "com.other"}).Decode([]byte(body))
	if d.Verification.Class != decode.ClassIdentity {
		t.Errorf("bundle mismatch: %s/%s", d.Verification.Label, d.Verification.Class)
	}
	d = decode.NewVerifier(decode.Options{Environment: "Sandbox"}).Decode([]byte(body))
	if d.Verification.Class != decode.ClassEnvironment {
		t.Errorf("environment mismatch: %s/%s", d.Verification.Label, d.Verification.Class)
	}
}

// TestTypedPayloads decodes Apple's example payloads into the typed structs: int64 fields, open
// enums, nested objects, the SANDBOX prefix rule.
func TestTypedPayloads(t *testing.T) {
	var tx decode.Transaction
	if err := json.Unmarshal(readVector(t, "apple-lib-payloads/signedTransaction.json"), &tx); err != nil {
		t.Fatal(err)
	}
	if tx.Price != 10990 || tx.AdvancedCommerceInfo == nil || tx.CommitmentInfo == nil || tx.AppTransactionID == "" || tx.OfferPeriod == "" {
		t.Errorf("transaction %+v", tx)
	}
	var rev decode.Transaction
	if err := json.Unmarshal(readVector(t, "apple-lib-payloads/signedTransactionWithRevocation.json"), &rev); err != nil {
		t.Fatal(err)
	}
	if rev.RevocationType != "REFUND_PRORATED" || rev.RevocationPercentage != 50000 || rev.RevocationReason == nil {
		t.Errorf("revocation %+v", rev)
	}
	var ri decode.RenewalInfo
	if err := json.Unmarshal(readVector(t, "apple-lib-payloads/signedRenewalInfo.json"), &ri); err != nil {
		t.Fatal(err)
	}
	if len(ri.EligibleWinBackOfferIDs) == 0 || ri.CommitmentInfo == nil || ri.RenewalBillingPlanType == "" || ri.AutoRenewStatus == nil {
		t.Errorf("renewal info %+v", ri)
	}
	var at decode.AppTransaction
	if err := json.Unmarshal(readVector(t, "apple-lib-payloads/appTransaction.json"), &at); err != nil {
		t.Fatal(err)
	}
	if at.AppAppleID == 0 || at.BundleID == "" || at.ReceiptType == "" {
		t.Errorf("app transaction %+v", at)
	}
	for file, want := range map[string]decode.Environment{
		"signedExternalPurchaseTokenNotification.json":        decode.EnvProduction,
		"signedExternalPurchaseTokenSandboxNotification.json": decode.EnvSandbox,
	} {
		var n decode.Notification
		if err := json.Unmarshal(readVector(t, "apple-lib-payloads/"+file), &n); err != nil {
			t.Fatal(err)
		}
		if n.ExternalPurchaseToken == nil || n.ExternalPurchaseToken.Environment() != want || n.NotificationType != decode.TypeExternalPurchaseToken || !n.Subtype.Known() {
			t.Errorf("%s: %+v", file, n.ExternalPurchaseToken)
		}
	}
	var sum decode.Notification
	if err := json.Unmarshal(readVector(t, "apple-lib-payloads/signedSummaryNotification.json"), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Summary == nil || sum.Summary.SucceededCount != 5 || len(sum.Summary.StorefrontCountryCodes) != 3 {
		t.Errorf("summary %+v", sum.Summary)
	}
	var rc decode.Notification
	if err := json.Unmarshal(readVector(t, "apple-lib-payloads/signedRescindConsentNotification.json"), &rc); err != nil {
		t.Fatal(err)
	}
	if rc.AppData == nil || rc.NotificationType != decode.TypeRescindConsent {
		t.Errorf("rescind consent %+v", rc)
	}
	if decode.NotificationType("SOMETHING_NEW").Known() || !decode.TypeMigrate.Known() {
		t.Error("Known() is wrong about open enum values")
	}
}

// TestBodyHoldingTransaction: a genuine signed transaction posted as a body's signedPayload is
// not a notification: invalid/format, decoded as the transaction it is (for display), and saying
// so. The same JWS on its own is a verified transaction.
func TestBodyHoldingTransaction(t *testing.T) {
	jws := strings.TrimSpace(string(readVector(t, "real/27-transaction-2025-02-10-consumable-sandbox.jws")))
	v := decode.NewVerifier(decode.Options{})
	for name, d := range map[string]*decode.Decoded{
		"Decode of a body":     v.Decode([]byte(`{"signedPayload":"` + jws + `"}`)),
		"DecodeBody":           v.DecodeBody([]byte(`{"signedPayload":"` + jws + `"}`)),
		"DecodeSignedPayload":  v.DecodeSignedPayload([]byte(jws)),
		"pretty body (strict)": v.DecodeBody([]byte("{\n \"signedPayload\": \"" + jws + "\"\n}")),
	} {
		if d.Kind != decode.KindTransaction || d.Verification.Label != decode.LabelInvalid || d.Verification.Class != decode.ClassFormat ||
			!strings.Contains(d.Verification.Message, "signedPayload holds a signed transaction, not a notification") {
			t.Errorf("%s: %s %s/%s %q", name, d.Kind, d.Verification.Label, d.Verification.Class, d.Verification.Message)
		}
		if d.Transaction == nil || d.Transaction.TransactionID == "" {
			t.Errorf("%s: the transaction's fields are not decoded for display", name)
		}
	}
	bare := v.Decode([]byte(jws))
	if bare.Kind != decode.KindTransaction || bare.Verification.Label != decode.LabelVerified {
		t.Fatalf("bare transaction: %s %s %q", bare.Kind, bare.Verification.Label, bare.Verification.Message)
	}
	renewal := strings.TrimSpace(string(readVector(t, "real/26-renewalinfo-2023-05-23-sandbox.jws")))
	if d := v.DecodeBody([]byte(`{"signedPayload":"` + renewal + `"}`)); d.Verification.Label != decode.LabelInvalid ||
		!strings.Contains(d.Verification.Message, "a signed renewal info, not a notification") {
		t.Errorf("renewal info as a notification: %s %q", d.Verification.Label, d.Verification.Message)
	}
}

// TestJWSWithSpaceAround: a JWS carried in a body, a nested field or an API answer is the exact
// string the developer's server verifies. Apple's libraries sign-check the string as it is, so
// one with white space (ASCII or Unicode: NBSP, NEL) around a genuine JWS fails there; s2s used to
// trim it and label the notification verified. Only decode's command line, given a bare JWS or a
// quoted one, forgives the space around it.
func TestJWSWithSpaceAround(t *testing.T) {
	jws := strings.TrimSpace(string(readVector(t, "real/05-notification-2025-10-01-DID_RENEW-sandbox.jws")))
	v := decode.NewVerifier(decode.Options{})
	if d := v.DecodeBody([]byte(`{"signedPayload":"` + jws + `"}`)); d.Verification.Label != decode.LabelVerified {
		t.Fatalf("the genuine body: %s %q", d.Verification.Label, d.Verification.Message)
	}
	for name, s := range map[string]string{
		"space before": " " + jws, "newline after": jws + `\n`, "tab before": `\t` + jws,
		"NBSP before": `\u00a0` + jws, "NEL after": jws + `\u0085`, "ideographic space": `\u3000` + jws,
	} {
		for where, d := range map[string]*decode.Decoded{
			"DecodeBody":          v.DecodeBody([]byte(`{"signedPayload":"` + s + `"}`)),
			"Decode of a body":    v.Decode([]byte(`{"signedPayload":"` + s + `"}`)),
			"DecodeEndpointBody":  v.DecodeEndpointBody([]byte(`{"signedPayload":"` + s + `"}`)),
			"DecodeSignedPayload": v.DecodeSignedPayload([]byte(unquote(t, s))),
		} {
			if d.Verification.Label != decode.LabelInvalid || d.Verification.Class != decode.ClassFormat ||
				!strings.Contains(d.Verification.Message, "white space") {
				t.Errorf("%s, %s: %s/%s %q", where, name, d.Verification.Label, d.Verification.Class, d.Verification.Message)
			}
		}
	}
	// decode's command line takes a pasted JWS with the space around it.
	for _, in := range []string{" " + jws + "\n", `"` + jws + ` "`} {
		if d := v.Decode([]byte(in)); d.Verification.Label != decode.LabelVerified {
			t.Errorf("Decode(%.12q…): %s %q", in, d.Verification.Label, d.Verification.Message)
		}
	}
}

// unquote reads s as the content of a JSON string.
func unquote(t *testing.T, s string) string {
	t.Helper()
	var out string
	if err := json.Unmarshal([]byte(`"`+s+`"`), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestNestedJWSWithSpaceAround: a nested signed field with space around its JWS is a format
// problem of that part, whatever its signature.
func TestNestedJWSWithSpaceAround(t *testing.T) {
	chain := mustChain(t, testpki.Options{})
	tx := chain.Sign(txPayload("Sandbox", "com.example"))
	v := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{chain.Root}, Clock: clock})
	if d := v.DecodeBody([]byte(`{"signedPayload":"` + chain.Sign(notificationPayload("Sandbox", "com.example", 1, tx, "")) + `"}`)); d.Verification.Label != decode.LabelSimulated {
		t.Fatalf("the well-formed notification: %s %q", d.Verification.Label, d.Verification.Message)
	}
	d := v.DecodeBody([]byte(`{"signedPayload":"` + chain.Sign(notificationPayload("Sandbox", "com.example", 1, tx+"\u00a0", "")) + `"}`))
	if ver := d.Verification; ver.Label != decode.LabelInvalid || ver.Class != decode.ClassFormat ||
		!strings.HasPrefix(ver.Message, "signedTransactionInfo: ") || !strings.Contains(ver.Message, "white space") {
		t.Errorf("nested JWS with a space: %s/%s %q", ver.Label, ver.Class, ver.Message)
	}
}
