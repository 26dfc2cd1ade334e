package decode_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/testpki"
)

func b64(der []byte) string { return base64.StdEncoding.EncodeToString(der) }

// encodeUnsigned builds a JWS with a signature of 64 zero bytes, for tests that fail before the
// signature is looked at.
func encodeUnsigned(header map[string]any, payload []byte) string {
	return testpki.EncodeJWS(header, payload, func([]byte) []byte { return make([]byte, 64) })
}

var signedAt = time.Date(2025, 10, 1, 7, 8, 38, 0, time.UTC)

func txPayload(env, bundle string) []byte {
	b, _ := json.Marshal(map[string]any{
		"transactionId": "2000000000000001", "originalTransactionId": "2000000000000001",
		"bundleId": bundle, "productId": "com.example.monthly", "environment": env,
		"type": "Auto-Renewable Subscription", "purchaseDate": signedAt.UnixMilli(),
		"signedDate": signedAt.UnixMilli(), "price": 9990, "someFutureField": map[string]any{"x": 1},
	})
	return b
}

func notificationPayload(env, bundle string, appID int64, tx, renewal string) []byte {
	data := map[string]any{"bundleId": bundle, "environment": env, "appAppleId": appID, "status": 1}
	if tx != "" {
		data["signedTransactionInfo"] = tx
	}
	if renewal != "" {
		data["signedRenewalInfo"] = renewal
	}
	b, _ := json.Marshal(map[string]any{
		"notificationType": "DID_RENEW", "notificationUUID": "6f1c3d0e-0000-4000-8000-000000000001",
		"data": data, "version": "2.0", "signedDate": signedAt.UnixMilli(),
	})
	return b
}

func mustChain(t testing.TB, o testpki.Options) *testpki.Chain {
	t.Helper()
	c, err := testpki.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// flipByte changes one byte of a base64url segment's decoded content.
func flipSegmentByte(jws string, seg, at int) string {
	parts := strings.Split(jws, ".")
	b, _ := base64.RawURLEncoding.DecodeString(parts[seg])
	b[at%len(b)] ^= 0x01
	parts[seg] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

// TestMintedRejections: self-minted bad inputs are each rejected with the right class, and none
// is ever labelled verified (or simulated).
func TestMintedRejections(t *testing.T) {
	good := mustChain(t, testpki.Options{})
	roots := []*x509.Certificate{good.Root}
	payload := txPayload("Sandbox", "com.example")
	goodJWS := good.Sign(payload)
	header := good.Header()
	withHeader := func(mod func(h map[string]any)) string {
		h := map[string]any{}
		for k, v := range header {
			h[k] = v
		}
		mod(h)
		return testpki.EncodeJWS(h, payload, testpki.ES256(good.LeafKey))
	}
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	noLeafOID := mustChain(t, testpki.Options{RootKey: good.RootKey, RootRawSubject: good.Root.RawSubject, NoLeafOID: true})
	noInterOID := mustChain(t, testpki.Options{RootKey: good.RootKey, RootRawSubject: good.Root.RawSubject, NoIntermediateOID: true})
	// Same root name as the trusted test root, another key: x5c[2] of this chain looks right by
	// name but must not be trusted.
	forgedTest := mustChain(t, testpki.Options{RootRawSubject: good.Root.RawSubject})
	// Same name as Apple Root CA - G3.
	forgedApple := mustChain(t, testpki.Options{RootRawSubject: decode.AppleRootG3().RawSubject})
	expiredLeaf := mustChain(t, testpki.Options{RootKey: good.RootKey, RootRawSubject: good.Root.RawSubject,
		LeafNotBefore: signedAt.AddDate(-2, 0, 0), LeafNotAfter: signedAt.AddDate(0, 0, -1)})
	futureLeaf := mustChain(t, testpki.Options{RootKey: good.RootKey, RootRawSubject: good.Root.RawSubject,
		LeafNotBefore: signedAt.AddDate(0, 0, 1)})
	sameRoot := func(o testpki.Options) *testpki.Chain {
		o.RootKey, o.RootRawSubject = good.RootKey, good.Root.RawSubject
		return mustChain(t, o)
	}
	notCA := sameRoot(testpki.Options{IntermediateNotCA: true})
	leafJustExpired := sameRoot(testpki.Options{LeafNotBefore: signedAt.AddDate(-1, 0, 0), LeafNotAfter: signedAt.Add(-30 * time.Second)})
	leafJustValid := sameRoot(testpki.Options{LeafNotBefore: signedAt.Add(20 * time.Second)})
	intermJustExpired := sameRoot(testpki.Options{IntermediateNotAfter: signedAt.Add(-45 * time.Second)})
	intermExpired := sameRoot(testpki.Options{IntermediateNotAfter: signedAt.AddDate(0, 0, -3)})
	hs256 := func(input []byte) []byte {
		m := hmac.New(sha256.New, []byte("secret"))
		m.Write(input)
		return m.Sum(nil)
	}
	tampered := strings.Replace(string(payload), `"com.example.monthly"`, `"com.example.yearly!"`, 1)
	goodParts := strings.Split(goodJWS, ".")

	cases := []struct {
		name     string
		input    string
		opts     decode.Options
		class    decode.Class
		contains string
	}{
		{"alg ES384", withHeader(func(h map[string]any) { h["alg"] = "ES384" }), decode.Options{}, decode.ClassSignature, `alg "ES384"`},
		{"alg none", testpki.EncodeJWS(map[string]any{"alg": "none", "x5c": good.X5C()}, payload, nil), decode.Options{}, decode.ClassSignature, `alg "none"`},
		{"alg HS256", testpki.EncodeJWS(map[string]any{"alg": "HS256", "x5c": good.X5C()}, payload, hs256), decode.Options{}, decode.ClassSignature, `alg "HS256"`},
		{"no alg", withHeader(func(h map[string]any) { delete(h, "alg") }), decode.Options{}, decode.ClassSignature, "no alg"},
		{"two certificates", withHeader(func(h map[string]any) { h["x5c"] = good.X5C()[:2] }), decode.Options{}, decode.ClassChain, "holds 2 certificates"},
		{"four certificates", withHeader(func(h map[string]any) { h["x5c"] = append(good.X5C(), testpki.B64(good.Root)) }), decode.Options{}, decode.ClassChain, "holds 4 certificates"},
		{"x5c not strings", withHeader(func(h map[string]any) { h["x5c"] = []any{1, 2, 3} }), decode.Options{}, decode.ClassChain, "no x5c"},
		{"leaf not base64", withHeader(func(h map[string]any) {
			h["x5c"] = []string{"***", testpki.B64(good.Intermediate), testpki.B64(good.Root)}
		}), decode.Options{}, decode.ClassChain, "x5c[0]"},
		{"leaf not DER", withHeader(func(h map[string]any) {
			h["x5c"] = []string{"AAAA", testpki.B64(good.Intermediate), testpki.B64(good.Root)}
		}), decode.Options{}, decode.ClassChain, "not a DER certificate"},
		{"DER signature", testpki.EncodeJWS(header, payload, testpki.ES256DER(good.LeafKey)), decode.Options{}, decode.ClassSignature, "raw 64-byte"},
		{"flipped signature byte", flipSegmentByte(goodJWS, 2, 17), decode.Options{}, decode.ClassSignature, "does not match"},
		{"flipped payload byte", goodParts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(tampered)) + "." + goodParts[2], decode.Options{}, decode.ClassSignature, "does not match"},
		{"signed by another key", testpki.EncodeJWS(header, payload, testpki.ES256(otherKey)), decode.Options{}, decode.ClassSignature, "does not match"},
		{"leaf without OID", noLeafOID.Sign(payload), decode.Options{}, decode.ClassChain, "1.2.840.113635.100.6.11.1"},
		{"intermediate without OID", noInterOID.Sign(payload), decode.Options{}, decode.ClassChain, "1.2.840.113635.100.6.2.1"},
		{"forged root with the trusted test root's name", forgedTest.Sign(payload), decode.Options{}, decode.ClassChain, "forged chain"},
		{"forged root named Apple Root CA - G3", forgedApple.Sign(payload), decode.Options{}, decode.ClassChain, `"Apple Root CA - G3" as its issuer`},
		{"forged chain carrying the trusted root as x5c[2]", testpki.EncodeJWS(map[string]any{"alg": "ES256", "x5c": []string{testpki.B64(forgedTest.Leaf), testpki.B64(forgedTest.Intermediate), testpki.B64(good.Root)}}, payload, testpki.ES256(forgedTest.LeafKey)), decode.Options{}, decode.ClassChain, "forged chain"},
		{"intermediate signed by the root but not a CA", notCA.Sign(payload), decode.Options{}, decode.ClassChain, `is signed by the trusted root "s2s Test Root", but it is not a CA certificate`},
		{"leaf expired 30 s before signedDate", leafJustExpired.Sign(payload), decode.Options{}, decode.ClassChain, "leaf certificate expired at 2025-10-01T07:08:08Z, 30 s before the time it was checked: Apple's Node library, which allows 60 s of clock skew, would accept it; its Python, Java and Swift libraries would not"},
		{"leaf valid 20 s after signedDate", leafJustValid.Sign(payload), decode.Options{}, decode.ClassChain, "leaf certificate is not valid before 2025-10-01T07:08:58Z, 20 s after the time it was checked: Apple's Node library"},
		{"intermediate expired 45 s before signedDate", intermJustExpired.Sign(payload), decode.Options{}, decode.ClassChain, "intermediate certificate expired at 2025-10-01T07:07:53Z, 45 s before the time it was checked: Apple's Node library"},
		{"intermediate expired days before signedDate", intermExpired.Sign(payload), decode.Options{}, decode.ClassChain, "intermediate certificate expired on 2025-09-28; it was checked at its signedDate"},
		{"leaf expired before signedDate", expiredLeaf.Sign(payload), decode.Options{}, decode.ClassChain, "leaf certificate expired on 2025-09-30; it was checked at its signedDate"},
		{"leaf not yet valid at signedDate", futureLeaf.Sign(payload), decode.Options{}, decode.ClassChain, "leaf certificate is not valid before 2025-10-02"},
		{"good leaf checked at --at outside its window", goodJWS, decode.Options{At: time.Date(2041, 1, 1, 0, 0, 0, 0, time.UTC)}, decode.ClassChain, "expired on 2040-01-01; it was checked at --at 2041-01-01T00:00:00Z"},
		{"wrong bundleId", goodJWS, decode.Options{BundleID: "com.other"}, decode.ClassIdentity, `"com.example", not "com.other"`},
		{"wrong appAppleId in Production", good.Sign(notificationPayload("Production", "com.example", 1234, "", "")), decode.Options{AppAppleID: 9999}, decode.ClassIdentity, "appAppleId 1234, not 9999"},
		{"missing appAppleId in Production", good.Sign([]byte(`{"notificationType":"TEST","data":{"bundleId":"com.example","environment":"Production"},"signedDate":1759302518000}`)), decode.Options{AppAppleID: 9999, Environment: "Production"}, decode.ClassIdentity, "no appAppleId"},
		{"wrong environment", goodJWS, decode.Options{Environment: "Production"}, decode.ClassEnvironment, "Sandbox environment, not Production"},
		{"environment Xcode with an App Store chain", good.Sign(txPayload("Xcode", "com.example")), decode.Options{}, decode.ClassEnvironment, "never signs Xcode data"},
		{"Xcode key id with an App Store chain", withHeader(func(h map[string]any) { h["kid"] = "Apple_Xcode_Key" }), decode.Options{Environment: "Xcode"}, decode.ClassEnvironment, "not Xcode"},
		{"single self-signed cert claiming Xcode but Sandbox data", testpki.EncodeJWS(map[string]any{"alg": "ES256", "kid": "Apple_Xcode_Key", "x5c": []string{testpki.B64(good.Root)}}, payload, testpki.ES256(good.RootKey)), decode.Options{}, decode.ClassChain, "holds 1 certificates"},
		{"notification without data", good.Sign([]byte(`{"notificationType":"TEST","signedDate":1759302518000}`)), decode.Options{BundleID: "com.example"}, decode.ClassIdentity, "no data"},
		{"signature not base64url", goodParts[0] + "." + goodParts[1] + ".***", decode.Options{}, decode.ClassFormat, "signature is not base64url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.ExtraRoots, c.opts.Clock = roots, clock
			d := decode.NewVerifier(c.opts).Decode([]byte(c.input))
			ver := d.Verification
			if ver.Label == decode.LabelVerified || ver.Label == decode.LabelSimulated {
				t.Fatalf("accepted as %s", ver.Label)
			}
			if ver.Label != decode.LabelInvalid || ver.Class != c.class {
				t.Fatalf("got %s/%s (%s), want invalid/%s", ver.Label, ver.Class, ver.Message, c.class)
			}
			if !strings.Contains(ver.Message, c.contains) {
				t.Errorf("message %q lacks %q", ver.Message, c.contains)
			}
		})
	}
	// The baseline: the same chain and payload, untouched, is simulated (never verified).
	d := decode.NewVerifier(decode.Options{ExtraRoots: roots, BundleID: "com.example", Environment: "Sandbox"}).Decode([]byte(goodJWS))
	if d.Verification.Label != decode.LabelSimulated || d.Verification.Leaf == nil || d.Verification.Root != "s2s Test Root" {
		t.Fatalf("baseline: %s/%s %q", d.Verification.Label, d.Verification.Class, d.Verification.Message)
	}
	// And without the test root it is not trusted at all.
	d = decode.NewVerifier(decode.Options{}).Decode([]byte(goodJWS))
	if d.Verification.Class != decode.ClassChain || !strings.Contains(d.Verification.Message, "--root") {
		t.Fatalf("untrusted root: %s/%s %q", d.Verification.Label, d.Verification.Class, d.Verification.Message)
	}
}

// TestNestedVerdicts: a notification is only as trusted as its weakest part, and each nested
// verdict is reported on its own.
func TestNestedVerdicts(t *testing.T) {
	chain := mustChain(t, testpki.Options{})
	goodTx := chain.Sign(txPayload("Sandbox", "com.example"))
	badTx := flipSegmentByte(goodTx, 2, 3)
	renewal := chain.Sign([]byte(`{"originalTransactionId":"2000000000000001","autoRenewStatus":1,"environment":"Sandbox","signedDate":1759302518000,"productId":"com.example.monthly"}`))
	v := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{chain.Root}, Clock: clock})

	d := v.Decode([]byte(chain.Sign(notificationPayload("Sandbox", "com.example", 1, goodTx, renewal))))
	if d.Verification.Label != decode.LabelSimulated || len(d.Verification.Nested) != 2 {
		t.Fatalf("all good: %s %q nested %d", d.Verification.Label, d.Verification.Message, len(d.Verification.Nested))
	}

	d = v.Decode([]byte(chain.Sign(notificationPayload("Sandbox", "com.example", 1, badTx, renewal))))
	ver := d.Verification
	if ver.Label != decode.LabelInvalid || ver.Class != decode.ClassSignature || !strings.HasPrefix(ver.Message, "signedTransactionInfo: ") {
		t.Fatalf("bad nested transaction: %s/%s %q", ver.Label, ver.Class, ver.Message)
	}
	if d.Own.Label != decode.LabelSimulated {
		t.Errorf("own verdict %s", d.Own.Label)
	}
	if ver.Nested["signedTransactionInfo"].Label != decode.LabelInvalid || ver.Nested["signedRenewalInfo"].Label != decode.LabelSimulated {
		t.Errorf("nested %+v", ver.Nested)
	}
	if s := d.Summary(); s.Label != decode.LabelInvalid || s.TransactionID != "2000000000000001" {
		t.Errorf("summary %+v", s)
	}

	// A nested transaction of another app, under an identity check, fails the whole notification.
	otherTx := chain.Sign(txPayload("Sandbox", "com.other"))
	d = decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{chain.Root}, BundleID: "com.example"}).
		Decode([]byte(chain.Sign(notificationPayload("Sandbox", "com.example", 1, otherTx, ""))))
	if d.Verification.Class != decode.ClassIdentity || d.Own.Label != decode.LabelSimulated {
		t.Errorf("nested identity: %s/%s own %s", d.Verification.Label, d.Verification.Class, d.Own.Label)
	}

	// A malformed nested JWS is a format problem of that part.
	d = v.Decode([]byte(chain.Sign(notificationPayload("Sandbox", "com.example", 1, "signed_transaction_info_value", ""))))
	if d.Verification.Class != decode.ClassFormat || d.SignedTransactionInfo == nil || d.SignedTransactionInfo.Kind != decode.KindTransaction {
		t.Errorf("malformed nested: %s/%s", d.Verification.Label, d.Verification.Class)
	}
}

// TestJSONDocument: the --json document keeps unknown fields and number text, decodes nested
// JWS in place and carries every verdict and raw string.
func TestJSONDocument(t *testing.T) {
	chain := mustChain(t, testpki.Options{})
	tx := chain.Sign(txPayload("Sandbox", "com.example"))
	payload := notificationPayload("Sandbox", "com.example", 6445908697, tx, "")
	payload = append(payload[:len(payload)-1], []byte(`,"brandNewField":{"n":1.50,"list":[1,"a",null,true]}}`)...)
	body := `{"signedPayload":"` + chain.Sign(payload) + `"}`
	d := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{chain.Root}}).Decode([]byte(body))
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Kind         string `json:"kind"`
		Verification struct {
			Label  string                     `json:"label"`
			Leaf   *decode.CertInfo           `json:"leaf"`
			Nested map[string]json.RawMessage `json:"nested"`
		} `json:"verification"`
		Summary   decode.Summary `json:"summary"`
		Header    map[string]any `json:"header"`
		Payload   json.RawMessage
		JWS       string            `json:"jws"`
		NestedJWS map[string]string `json:"nestedJws"`
		Raw       string            `json:"raw"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if doc.Kind != "notification" || doc.Verification.Label != "simulated" || doc.Verification.Leaf == nil || doc.Verification.Nested["signedTransactionInfo"] == nil {
		t.Errorf("document %s", b)
	}
	if doc.Summary.AppAppleID != 6445908697 || doc.Summary.TransactionID != "2000000000000001" {
		t.Errorf("summary %+v", doc.Summary)
	}
	for _, want := range []string{`"brandNewField":{"n":1.50,"list":[1,"a",null,true]}`, `"signedTransactionInfo":{"bundleId":"com.example"`, `"someFutureField":{"x":1}`, `"appAppleId":6445908697`} {
		if !strings.Contains(string(doc.Payload), want) {
			t.Errorf("payload lacks %s:\n%s", want, doc.Payload)
		}
	}
	if doc.JWS == "" || doc.NestedJWS["signedTransactionInfo"] != tx || doc.Raw != body {
		t.Errorf("raw strings: jws %d bytes, nested %v, raw %q", len(doc.JWS), doc.NestedJWS, doc.Raw)
	}
	if x5c, ok := doc.Header["x5c"].([]any); !ok || len(x5c) != 3 {
		t.Errorf("header %v", doc.Header)
	}
}

// TestOtherNotificationShapes: the identity and environment of summary, externalPurchaseToken
// (SANDBOX prefix) and appData notifications, and a nested app transaction checked at its
// receiptCreationDate.
func TestOtherNotificationShapes(t *testing.T) {
	chain := mustChain(t, testpki.Options{})
	roots := []*x509.Certificate{chain.Root}
	appTx := chain.Sign([]byte(`{"receiptType":"Sandbox","appAppleId":42,"bundleId":"com.example","receiptCreationDate":1759302518000,"appTransactionId":"7000","originalPlatform":"iOS"}`))
	cases := []struct {
		name    string
		payload string
		env     decode.Environment
		class   decode.Class
	}{
		{"sandbox token", `{"notificationType":"EXTERNAL_PURCHASE_TOKEN","subtype":"UNREPORTED","externalPurchaseToken":{"externalPurchaseId":"SANDBOX_b2158121","bundleId":"com.example","appAppleId":42,"tokenCreationDate":1698148900000},"signedDate":1759302518000}`, "Sandbox", ""},
		{"sandbox token as Production", `{"notificationType":"EXTERNAL_PURCHASE_TOKEN","subtype":"UNREPORTED","externalPurchaseToken":{"externalPurchaseId":"SANDBOX_b2158121","bundleId":"com.example","appAppleId":42},"signedDate":1759302518000}`, "Production", decode.ClassEnvironment},
		{"production token", `{"notificationType":"EXTERNAL_PURCHASE_TOKEN","subtype":"CREATED","externalPurchaseToken":{"externalPurchaseId":"b2158121","bundleId":"com.example","appAppleId":42},"signedDate":1759302518000}`, "Production", ""},
		{"summary", `{"notificationType":"RENEWAL_EXTENSION","subtype":"SUMMARY","summary":{"environment":"Sandbox","bundleId":"com.example","appAppleId":42,"productId":"p","succeededCount":5,"failedCount":2},"signedDate":1759302518000}`, "Sandbox", ""},
		{"rescind consent", `{"notificationType":"RESCIND_CONSENT","appData":{"environment":"Sandbox","bundleId":"com.example","appAppleId":42,"signedAppTransactionInfo":"` + appTx + `"},"signedDate":1759302518000}`, "Sandbox", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := decode.NewVerifier(decode.Options{ExtraRoots: roots, BundleID: "com.example", AppAppleID: 42, Environment: c.env})
			d := v.Decode([]byte(chain.Sign([]byte(c.payload))))
			ver := d.Verification
			if c.class == "" && ver.Label != decode.LabelSimulated || c.class != "" && ver.Class != c.class {
				t.Fatalf("got %s/%s %q", ver.Label, ver.Class, ver.Message)
			}
			if s := d.Summary(); s.BundleID != "com.example" || s.AppAppleID != 42 {
				t.Errorf("summary %+v", s)
			}
		})
	}
	d := decode.NewVerifier(decode.Options{ExtraRoots: roots}).Decode([]byte(chain.Sign([]byte(cases[4].payload))))
	a := d.SignedAppTransactionInfo
	if a == nil || a.Kind != decode.KindAppTransaction || a.Own.TimeSource != "receiptCreationDate" || a.AppTransaction.AppTransactionID != "7000" {
		t.Fatalf("nested app transaction %+v", a)
	}
	if tree := d.Tree(); tree.Get("appData").Get("signedAppTransactionInfo").Nested != a {
		t.Error("app transaction not decoded in place")
	}
}
