package decode_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/s2s-dev/s2s/decode"
)

func TestValidateRealtimeResponse(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		choice     string
		problem    string // a part of the only problem; empty: valid
	}{
		{"message", `{"message":{"messageIdentifier":"a1b2c3d4-0000-4000-8000-000000000001"}}`, "message", ""},
		{"alternate product", `{"alternateProduct":{"messageIdentifier":"m","productId":"com.example.yearly","billingPlanType":"MONTHLY"}}`, "alternateProduct", ""},
		{"offer v2", `{"promotionalOffer":{"messageIdentifier":"m","promotionalOfferSignatureV2":"eyJ..."}}`, "promotionalOffer", ""},
		{"offer v1", `{"promotionalOffer":{"messageIdentifier":"m","promotionalOfferSignatureV1":{"encodedSignature":"s","productId":"p","nonce":"n","timestamp":1,"keyId":"k","offerIdentifier":"o"}}}`, "promotionalOffer", ""},
		{"advanced commerce", `{"advancedCommerceInfo":{"messageIdentifier":"m","advancedCommerceData":"d"}}`, "advancedCommerceInfo", ""},
		{"not JSON", `<html>ok</html>`, "", "not a JSON object"},
		{"empty", ``, "", "the answer is empty"},
		{"broken JSON", `{"message":`, "", "the answer"},
		{"unknown key", `{"message":{"messageIdentifier":"m"},"extra":1}`, "", `the key "extra"`},
		{"unknown nested key", `{"message":{"messageIdentifier":"m","text":"Stay!"}}`, "", `the key "text"`},
		{"duplicate key", `{"message":{"messageIdentifier":"m","messageIdentifier":"n"}}`, "", "messageIdentifier"},
		{"folded key", `{"Message":{"messageIdentifier":"m"}}`, "", "Message"},
		{"two choices", `{"message":{"messageIdentifier":"m"},"alternateProduct":{"messageIdentifier":"m","productId":"p"}}`, "message+alternateProduct", "chooses message and alternateProduct at once"},
		{"nothing", `{}`, "", "chooses nothing"},
		{"empty messageIdentifier", `{"message":{"messageIdentifier":""}}`, "message", "message.messageIdentifier is empty"},
		{"missing messageIdentifier", `{"message":{}}`, "message", "message.messageIdentifier is missing"},
		{"offer without signature", `{"promotionalOffer":{"messageIdentifier":"m"}}`, "promotionalOffer", "promotionalOffer has no signature"},
		{"offer with both signatures", `{"promotionalOffer":{"messageIdentifier":"m","promotionalOfferSignatureV2":"x","promotionalOfferSignatureV1":{"encodedSignature":"s","productId":"p","nonce":"n","timestamp":1,"keyId":"k","offerIdentifier":"o"}}}`, "promotionalOffer", "both"},
		{"v1 without nonce", `{"promotionalOffer":{"messageIdentifier":"m","promotionalOfferSignatureV1":{"encodedSignature":"s","productId":"p","timestamp":1,"keyId":"k","offerIdentifier":"o"}}}`, "promotionalOffer", "promotionalOfferSignatureV1.nonce is missing"},
		{"wrong type", `{"message":{"messageIdentifier":7}}`, "", "message.messageIdentifier is a JSON number, not the string"},
		{"bad billing plan", `{"alternateProduct":{"messageIdentifier":"m","productId":"p","billingPlanType":"WEEKLY"}}`, "alternateProduct", `"WEEKLY"`},
		{"trailing data", `{"message":{"messageIdentifier":"m"}} {}`, "", "after"},
		{"too large", `{"message":{"messageIdentifier":"` + strings.Repeat("x", decode.MaxRealtimeResponse) + `"}}`, "", "larger than 64 KiB"},
	} {
		r, problems := decode.ValidateRealtimeResponse([]byte(tc.body))
		switch {
		case tc.problem == "" && len(problems) != 0:
			t.Errorf("%s: problems %q, want none", tc.name, problems)
		case tc.problem != "" && (len(problems) != 1 || !strings.Contains(problems[0], tc.problem)):
			t.Errorf("%s: problems %q, want one with %q", tc.name, problems, tc.problem)
		}
		if got := ""; r != nil {
			got = r.Choice()
			if got != tc.choice {
				t.Errorf("%s: choice %q, want %q", tc.name, got, tc.choice)
			}
		} else if tc.choice != "" {
			t.Errorf("%s: no response, want choice %q", tc.name, tc.choice)
		}
	}
}

func FuzzValidateRealtimeResponse(f *testing.F) {
	for _, s := range []string{`{"message":{"messageIdentifier":"m"}}`, `{"promotionalOffer":{"messageIdentifier":"m","promotionalOfferSignatureV1":{"timestamp":1}}}`, `{}`, `[`, `{"a":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, problems := decode.ValidateRealtimeResponse(b)
		if r == nil && len(problems) == 0 {
			t.Fatal("no response and no problem")
		}
		if len(problems) == 0 && (r.Choice() == "" || strings.Contains(r.Choice(), "+")) {
			t.Fatalf("valid with choice %q", r.Choice())
		}
	})
}

func TestCheckRealtimeAnswer(t *testing.T) {
	const ok = `{"message":{"messageIdentifier":"m-1"}}`
	if r, p := decode.CheckRealtimeAnswer(200, "", []byte(ok)); len(p) != 0 || r == nil || r.Choice() != "message" {
		t.Errorf("valid: %v %q", r, p)
	}
	// A 201 with a valid body is still not used: one problem, the status.
	if _, p := decode.CheckRealtimeAnswer(201, "", []byte(ok)); len(p) != 1 || !strings.Contains(p[0], "HTTP 201") {
		t.Errorf("201: %q", p)
	}
	if _, p := decode.CheckRealtimeAnswer(500, "", []byte("oops")); len(p) != 2 {
		t.Errorf("500 with text: %q", p)
	}
	// An encoded answer is named, whatever its body: Apple asks for no compression and reads JSON.
	if _, p := decode.CheckRealtimeAnswer(200, "gzip", []byte(ok)); len(p) != 1 || !strings.Contains(p[0], "gzip-encoded answer") {
		t.Errorf("gzip: %q", p)
	}
	if _, p := decode.CheckRealtimeAnswer(200, "identity", []byte(ok)); len(p) != 0 {
		t.Errorf("identity: %q", p)
	}
	if _, p := decode.CheckRealtimeAnswer(200, "x\x1b[2J", []byte(ok)); len(p) != 1 || strings.Contains(p[0], "\x1b") {
		t.Errorf("hostile encoding name: %q", p)
	}
}

func TestAnswerJSONKeepsExactBytes(t *testing.T) {
	for _, body := range [][]byte{
		nil,
		{},
		[]byte(`{"message":{"messageIdentifier":"m"}}`),
		[]byte("\x1b]52;c;aGk=\x07\x1b[2J<script>\u2028\x00"), // valid UTF-8, hostile to terminals
		[]byte("\xff\xfe not UTF-8 \x80"),
	} {
		a := decode.NewAnswerJSON(body)
		j, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.ContainsAny(j, "\x1b\x07\x00") {
			t.Errorf("%q: control bytes in the JSON: %s", body, j)
		}
		var back decode.AnswerJSON
		if err := json.Unmarshal(j, &back); err != nil {
			t.Fatal(err)
		}
		got, err := back.Bytes()
		if err != nil || !bytes.Equal(got, body) || (got == nil) != (body == nil) {
			t.Errorf("%q: back %q %v (JSON %s)", body, got, err, j)
		}
		if utf8.Valid(body) != (back.AnswerBase64 == "") {
			t.Errorf("%q: JSON %s", body, j)
		}
	}
}
