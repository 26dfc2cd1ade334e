package decode

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// payloadKinds are the kinds whose payloads decodeJWS fills, with a fresh value of each.
var payloadKinds = []struct {
	kind Kind
	new  func() any
}{
	{KindNotification, func() any { return &Notification{} }},
	{KindTransaction, func() any { return &Transaction{} }},
	{KindRenewalInfo, func() any { return &RenewalInfo{} }},
	{KindAppTransaction, func() any { return &AppTransaction{} }},
	{KindRealtimeRequest, func() any { return &RealtimeRequest{} }},
}

// vectorPayloads are the JSON payloads of every signed vector (nested ones included) and of
// Apple's library test payloads.
func vectorPayloads(t testing.TB) [][]byte {
	var out [][]byte
	var add func(b []byte)
	add = func(b []byte) {
		out = append(out, b)
		// The nested JWS of a notification's data and appData.
		var n struct {
			Data, AppData map[string]any
		}
		if json.Unmarshal(b, &n) != nil {
			return
		}
		for _, m := range []map[string]any{n.Data, n.AppData} {
			for _, k := range []string{"signedTransactionInfo", "signedRenewalInfo", "signedAppTransactionInfo"} {
				if s, ok := m[k].(string); ok {
					if p := jwsPayload(s); p != nil {
						add(p)
					}
				}
			}
		}
	}
	files, _ := filepath.Glob("../testdata/vectors/*/*.jws")
	more, _ := filepath.Glob("../testdata/vectors/*/*/*.jws")
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if p := jwsPayload(strings.TrimSpace(string(b))); p != nil {
			add(p)
		}
	}
	jsons, _ := filepath.Glob("../testdata/vectors/apple-lib-payloads/*.json")
	for _, f := range jsons {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		add(b)
	}
	if len(out) < 40 {
		t.Fatalf("only %d vector payloads", len(out))
	}
	return out
}

func jwsPayload(s string) []byte {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return nil
	}
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	return p
}

// checkFill compares fillPayload with json.Unmarshal on b read as every payload kind the strict
// scan accepts it as, and returns how many of those the fast path took.
func checkFill(t *testing.T, b []byte) (fast int) {
	t.Helper()
	for _, pk := range payloadKinds {
		if _, err := checkJSON(b, "the payload", schemaFor(pk.kind), nil); err != nil {
			continue
		}
		want := pk.new()
		wantErr := json.Unmarshal(b, want)
		got := pk.new()
		if !fillPayload(b, got) {
			continue
		}
		fast++
		if wantErr != nil {
			t.Fatalf("%s: fillPayload took %q, which json.Unmarshal refuses: %v", pk.kind, b, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Fatalf("%s: fillPayload read %q as\n%s\njson.Unmarshal as\n%s", pk.kind, b, g, w)
		}
	}
	return fast
}

// TestFillPayloadIsUnmarshal: on every vector the fast path is taken and gives exactly what
// json.Unmarshal gives.
func TestFillPayloadIsUnmarshal(t *testing.T) {
	for _, p := range vectorPayloads(t) {
		checkFill(t, p)
	}
	// Every real notification, transaction and renewal info takes the fast path as the kind it is.
	files, _ := filepath.Glob("../testdata/vectors/real/*.jws")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		p := jwsPayload(strings.TrimSpace(string(b)))
		var dst any
		switch {
		case strings.Contains(f, "-notification-"):
			dst = &Notification{}
		case strings.Contains(f, "-transaction-"):
			dst = &Transaction{}
		case strings.Contains(f, "-renewalinfo-"):
			dst = &RenewalInfo{}
		default:
			continue
		}
		if !fillPayload(p, dst) {
			t.Errorf("%s: the fast path gave up on a real payload", filepath.Base(f))
		}
	}
}

// TestFillPayloadLeavesTheUnusualToUnmarshal: what the fast path does not read exactly as
// encoding/json would, it refuses, and decodeJWS then reads it with json.Unmarshal.
func TestFillPayloadLeavesTheUnusualToUnmarshal(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		fast       bool
	}{
		{"plain", `{"transactionId":"1","quantity":2,"signedDate":1700000000000,"isUpgraded":true,"revocationReason":0}`, true},
		{"nulls", `{"transactionId":null,"quantity":null,"signedDate":null,"isUpgraded":null,"revocationReason":null,"commitmentInfo":null}`, true},
		{"unknown keys of every shape", `{"x":{"a":[1,2.5e3,{"b":null}],"c":"\u00e9"},"transactionId":"1"}`, true},
		{"negative and zero", `{"quantity":-3,"price":0,"signedDate":-0}`, true},
		{"non-ASCII", `{"productId":"café ☕","offerIdentifier":"日本"}`, true},
		{"nested struct", `{"commitmentInfo":{"billingPeriodNumber":2,"commitmentExpiresDate":1}}`, true},
		{"escape", `{"productId":"a\"b"}`, false},
		{"escaped unicode", `{"productId":"\u00e9"}`, false},
		{"fractional date", `{"signedDate":1697679936049.7297}`, false},
		{"exponent", `{"quantity":1e2}`, false},
		{"string for a number", `{"quantity":"2"}`, false},
		{"number for a string", `{"transactionId":2}`, false},
		{"bool for a number", `{"quantity":true}`, false},
		{"overflow", `{"quantity":12345678901234567890}`, false},
		{"19 digits", `{"price":1234567890123456789}`, false},
		{"array of objects", `{"advancedCommerceInfo":{"items":[{"SKU":"x"}]}}`, false},
		{"array for a struct", `{"commitmentInfo":[]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := []byte(tc.json)
			if _, err := checkJSON(b, "the payload", transactionSchema, nil); err != nil {
				t.Fatalf("the strict scan refuses the case: %v", err)
			}
			got := &Transaction{}
			if fast := fillPayload(b, got); fast != tc.fast {
				t.Fatalf("fast path %v, want %v", fast, tc.fast)
			}
			checkFill(t, b)
		})
	}
	// Renewal info's slice of strings: [] is an empty slice, as json.Unmarshal makes it.
	for _, s := range []string{`{"eligibleWinBackOfferIds":[]}`, `{"eligibleWinBackOfferIds":["a", "b"]}`, `{"eligibleWinBackOfferIds":null}`, `{"isInBillingRetryPeriod":false,"autoRenewStatus":1}`} {
		if checkFill(t, []byte(s)) == 0 {
			t.Errorf("%s: the fast path gave up", s)
		}
	}
}

// TestDecodeJWSFallsBackToAFreshValue: when the fast path gives up halfway, the value decodeJWS
// keeps is json.Unmarshal's alone, not a mix of both readings.
func TestDecodeJWSFallsBackToAFreshValue(t *testing.T) {
	b := []byte(`{"transactionId":"1","productId":"p","quantity":"2"}`)
	got := &Transaction{}
	gotErr := unmarshalPayload(b, got)
	want := &Transaction{}
	err := json.Unmarshal(b, want)
	if err == nil || gotErr == nil || gotErr.Error() != err.Error() || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v (%v), want %+v (%v)", got, gotErr, want, err)
	}
}

// FuzzFillPayload: whatever the strict scan accepts, the fast path either refuses or reads
// exactly as json.Unmarshal does.
func FuzzFillPayload(f *testing.F) {
	for _, p := range vectorPayloads(f) {
		f.Add(p)
	}
	f.Add([]byte(`{"notificationType":"DID_RENEW","data":{"appAppleId":1,"status":1},"signedDate":5}`))
	f.Add([]byte(`{"eligibleWinBackOfferIds":["a"],"autoRenewStatus":1,"isInBillingRetryPeriod":false}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 || !bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("{")) {
			return
		}
		checkFill(t, b)
	})
}
