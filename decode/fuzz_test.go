package decode_test

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/testpki"
)

// genuineJWS collects every compact JWS Apple signed in the vectors, nested ones included: the
// only strings that may ever come out verified.
func genuineJWS(t testing.TB) (seeds [][]byte, genuine map[string]bool) {
	genuine = map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(vectors, "*", "*.jws"))
	more, _ := filepath.Glob(filepath.Join(vectors, "*", "*", "*.jws"))
	v := decode.NewVerifier(decode.Options{Clock: clock})
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b, []byte(`{"signedPayload":"`+strings.TrimSpace(string(b))+`"}`))
		if strings.Contains(f, string(filepath.Separator)+"real"+string(filepath.Separator)) {
			d := v.Decode(b)
			genuine[d.JWS] = true
			for _, n := range []*decode.Decoded{d.SignedTransactionInfo, d.SignedRenewalInfo, d.SignedAppTransactionInfo} {
				if n != nil {
					genuine[n.JWS] = true
				}
			}
		}
	}
	payloads, _ := filepath.Glob(filepath.Join(vectors, "apple-lib-payloads", "*.json"))
	for _, f := range payloads {
		b, _ := os.ReadFile(f)
		seeds = append(seeds, b)
	}
	seeds = append(seeds,
		[]byte(`{"notification_type":"DID_RENEW","environment":"PROD","bid":"com.example","unified_receipt":{"latest_receipt_info":[{"product_id":"p"}]}}`),
		[]byte("a.b.c"), []byte(""), []byte(`"x.y.z"`))
	return seeds, genuine
}

// FuzzDecode: the whole decode path never panics, always gives a label, and never labels
// anything verified unless it is, byte for byte, a JWS Apple signed.
func FuzzDecode(f *testing.F) {
	seeds, genuine := genuineJWS(f)
	for _, s := range seeds {
		f.Add(s)
	}
	v := decode.NewVerifier(decode.Options{Clock: clock})
	f.Fuzz(func(t *testing.T, in []byte) {
		d := v.Decode(in)
		if d == nil {
			t.Fatal("nil result")
		}
		if d.Verification.Label == "" || d.Verification.Label == decode.LabelInvalid && d.Verification.Class == "" {
			t.Fatalf("label %q class %q", d.Verification.Label, d.Verification.Class)
		}
		check := func(x *decode.Decoded) {
			if x != nil && x.Own.Label == decode.LabelVerified && !genuine[x.JWS] {
				t.Fatalf("mutated JWS labelled verified: %q", x.JWS)
			}
		}
		check(d)
		check(d.SignedTransactionInfo)
		check(d.SignedRenewalInfo)
		check(d.SignedAppTransactionInfo)
		if d.Verification.Label == decode.LabelVerified && (d.Own.Label != decode.LabelVerified) {
			t.Fatal("combined verdict better than the JWS's own")
		}
		js, err := d.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		checkIndentedJSON(t, d, js)
		_ = d.Summary()
		_ = d.Tree()
	})
}

// exactObject is an exact-key reading of a JSON object, written apart from the decode package as
// JSON.parse with a duplicate check reads it: ok only for one JSON object with no key twice at
// its top level and nothing after it. Keys are compared exactly, as Node, Python and the
// developer's server compare them.
func exactObject(in []byte) (members map[string]json.RawMessage, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(in))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	members = map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		if _, dup := members[key]; dup {
			return nil, false
		}
		members[key] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return members, true
}

// exactString is the string value of key in members, and whether it is one.
func exactString(members map[string]json.RawMessage, key string) (string, bool) {
	var s string
	raw, ok := members[key]
	if !ok || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// simulatedNotification mints a test chain and signs a notification with it: a JWS that decodes
// as simulated, so the fuzzer can rewrite the body around a payload that passes verification.
func simulatedNotification(t testing.TB) (*decode.Verifier, *testpki.Chain, string) {
	chain := testpki.MustNew(testpki.Options{})
	v := decode.NewVerifier(decode.Options{ExtraRoots: []*x509.Certificate{chain.Root}, Clock: clock})
	jws := chain.Sign(notificationPayload("Sandbox", "com.example", 1234, "", ""))
	return v, chain, jws
}

// FuzzBodyReader: no body is labelled verified or simulated unless an exact-key reader written
// independently here finds one object whose only key is signedPayload, holding exactly the JWS
// that was verified; no version 1 body is labelled legacy-v1 unless that reader finds the same
// notification_type, bid, environment and password as the decoded fields. Bodies are read alike
// by Decode and DecodeBody.
func FuzzBodyReader(f *testing.F) {
	v, _, jws := simulatedNotification(f)
	other := "eyJhbGciOiJub25lIn0.eyJub3RpZmljYXRpb25UeXBlIjoiUkVGVU5EIn0.AAAA"
	for _, s := range []string{
		`{"signedPayload":"` + jws + `"}`,
		"{\n  \"signedPayload\" : \"" + jws + "\"\n}\n",
		`{"signed\u0050ayload":"` + jws + `"}`,
		`{"signedPayload":"` + other + `","SignedPayload":"` + jws + `"}`,
		`{"signedPayload":"` + other + `","signedPayload":"` + jws + `"}`,
		`{"ſignedPayload":"` + jws + `"}`,
		`{"signedPayload":"` + jws + `","x":{"signedPayload":1}}`,
		`{"notification_type":"DID_RENEW","environment":"PROD","password":"s","bid":"com.example","unified_receipt":{"status":0}}`,
		`{"notification_type":"DID_RENEW","bid":"com.example","BID":"com.other"}`,
		`{"notification_type":"DID_RENEW","bid":"com.example","bid":"com.other"}`,
		`{"notification_type":"DID_RENEW","Notification_type":"REFUND"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		members, ok := exactObject(in)
		decoded := []*decode.Decoded{v.DecodeBody(in)}
		if t := bytes.TrimSpace(in); len(t) > 0 && t[0] == '{' {
			decoded = append(decoded, v.Decode(in)) // decode's command line, given a body
		}
		for _, d := range decoded {
			switch l := d.Verification.Label; {
			case l == decode.LabelVerified || l == decode.LabelSimulated:
				sp, isString := exactString(members, "signedPayload")
				if !ok || len(members) != 1 || !isString || strings.TrimSpace(sp) != d.JWS || d.Kind != decode.KindNotification {
					t.Fatalf("labelled %s, but an exact-key reader reads %q differently (object %v, %d keys)", l, in, ok, len(members))
				}
			case l == decode.LabelLegacyV1:
				if !ok || d.V1 == nil {
					t.Fatalf("labelled legacy-v1, but an exact-key reader finds no single object in %q", in)
				}
				for key, got := range map[string]string{"notification_type": d.V1.NotificationType, "bid": d.V1.BID,
					"environment": d.V1.Environment, "password": d.V1.Password} {
					if want, _ := exactString(members, key); want != got {
						t.Fatalf("legacy-v1 %s is %q, an exact-key reader reads %q, in %q", key, got, want, in)
					}
				}
			}
		}
	})
}

// FuzzSignedPayload: a payload signed by a trusted chain is labelled simulated only when an
// exact-key reader finds the same notificationType, subtype, notificationUUID and data.bundleId
// and data.environment as the decoded fields, with no key twice in the payload or its data.
func FuzzSignedPayload(f *testing.F) {
	v, chain, _ := simulatedNotification(f)
	clean := string(notificationPayload("Sandbox", "com.example", 1234, "", ""))
	for _, s := range []string{
		clean,
		`{"notificationType":"REFUND",` + clean[1:],
		`{"NotificationType":"REFUND",` + clean[1:],
		`{"data":{"bundleId":"com.other"},` + clean[1:],
		`{"Data":{"bundleId":"com.other"},` + clean[1:],
		strings.Replace(clean, `"data":{`, `"data":{"BundleId":"com.other",`, 1),
		`{"ſubtype":"UPGRADE",` + clean[1:],
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		b, _ := json.Marshal(map[string]string{"signedPayload": chain.Sign(payload)})
		d := v.DecodeBody(b)
		if d.Verification.Label != decode.LabelSimulated {
			return
		}
		top, ok := exactObject(payload)
		if !ok || d.Notification == nil {
			t.Fatalf("simulated, but an exact-key reader finds no single object in %q", payload)
		}
		check := func(members map[string]json.RawMessage, key, got string) {
			if want, _ := exactString(members, key); want != got {
				t.Fatalf("%s is %q, an exact-key reader reads %q, in %q", key, got, want, payload)
			}
		}
		n := d.Notification
		check(top, "notificationType", string(n.NotificationType))
		check(top, "subtype", string(n.Subtype))
		check(top, "notificationUUID", n.NotificationUUID)
		var data map[string]json.RawMessage
		if raw, has := top["data"]; has && string(raw) != "null" {
			if data, ok = exactObject(raw); !ok {
				t.Fatalf("simulated, but an exact-key reader finds a duplicate key in data: %q", payload)
			}
		}
		if (data != nil) != (n.Data != nil) {
			t.Fatalf("data present %v, decoded %v, in %q", data != nil, n.Data != nil, payload)
		}
		if n.Data != nil {
			check(data, "bundleId", n.Data.BundleID)
			check(data, "environment", string(n.Data.Environment))
		}
	})
}
