package store

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestJSONLatencyInMilliseconds: a capture's and a delivery's latency are written as latencyMs
// (the unit in the name, as every duration in s2s's JSON) and read back.
func TestJSONLatencyInMilliseconds(t *testing.T) {
	c := Capture{ID: 1, Trust: "verified", ResponseStatus: 200, Latency: 3811864 * time.Nanosecond}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"latencyMs":3.812`) || strings.Contains(string(b), `"latency"`) {
		t.Errorf("capture JSON %s", b)
	}
	var back Capture
	if err := json.Unmarshal(b, &back); err != nil || back.Latency != 3812*time.Microsecond || back.ID != 1 || back.Trust != "verified" {
		t.Errorf("read back %+v, %v", back, err)
	}
	if b, _ := json.Marshal(Capture{ID: 2}); strings.Contains(string(b), "latency") {
		t.Errorf("an unanswered capture has a latency: %s", b)
	}
	d := Delivery{ID: 7, Status: 200, Latency: 1500 * time.Microsecond, State: DeliverySucceeded}
	b, err = json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"latencyMs":1.5`) || strings.Contains(string(b), `"latency"`) {
		t.Errorf("delivery JSON %s", b)
	}
	var dd Delivery
	if err := json.Unmarshal(b, &dd); err != nil || dd.Latency != d.Latency || dd.ID != 7 || dd.State != DeliverySucceeded {
		t.Errorf("read back %+v, %v", dd, err)
	}
}

// A real-time request's answer travels in the capture's JSON byte for byte: "answer" for UTF-8
// text (even empty), "answerBase64" otherwise, nothing when none was recorded.
func TestCaptureJSONAnswer(t *testing.T) {
	for _, answer := range [][]byte{nil, {}, []byte(`{"message":{"messageIdentifier":"m"}}`), []byte("\xff\x1b[2J")} {
		b, err := json.Marshal(Capture{ID: 1, Answer: answer})
		if err != nil {
			t.Fatal(err)
		}
		var back Capture
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(back.Answer, answer) || (back.Answer == nil) != (answer == nil) {
			t.Errorf("%q came back %q from %s", answer, back.Answer, b)
		}
		if has := bytes.Contains(b, []byte(`"answer`)); has != (answer != nil) {
			t.Errorf("%q: %s", answer, b)
		}
	}
	if err := json.Unmarshal([]byte(`{"id":1,"answer":"a","answerBase64":"YQ=="}`), &Capture{}); err == nil {
		t.Error("both answer and answerBase64 accepted")
	}
}

// TestCaptureJSONEveryField pins a capture's JSON with every field set, byte for byte, and reads
// it back: the shape captures list/show, listen --output json and the MCP tools write. Fields
// are assigned one by one, so the test reads the same whatever the layout of Capture.
func TestCaptureJSONEveryField(t *testing.T) {
	c := Capture{ID: 9, ReceivedAt: time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC), Method: "POST", Path: "/apple", Query: "a=1",
		Headers: http.Header{"Content-Type": {"application/json"}}, RemoteAddr: "127.0.0.1:1", SourceIP: "17.0.0.1", AppleRange: "17.0.0.0/8",
		BodySize: 12, DuplicateOf: 3, ResponseStatus: 200, Latency: 1500 * time.Microsecond, AnswerProblems: []string{"too slow"},
		HubPending: true, HubOrigin: "hub/1", Answer: []byte(`{"message":{"messageIdentifier":"m"}}`)}
	c.NotificationUUID, c.Type, c.Subtype, c.Environment = "u-1", "DID_RENEW", "BILLING_RECOVERY", "Sandbox"
	c.BundleID, c.AppAppleID, c.OriginalTransactionID, c.TransactionID = "com.example", 42, "1000", "1001"
	c.ProductID, c.AppAccountToken, c.SignedDate = "p.monthly", "acct", time.Date(2025, 10, 1, 9, 30, 15, 123e6, time.UTC)
	c.Trust, c.TrustClass, c.TrustMessage, c.IdentityMismatch = "invalid", "chain", "bad chain", "bundle"
	c.Kind = "notification"
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"id":9,"receivedAt":"2026-11-23T11:00:00Z","method":"POST","path":"/apple","query":"a=1",` +
		`"headers":{"Content-Type":["application/json"]},"remoteAddr":"127.0.0.1:1","sourceIp":"17.0.0.1","appleRange":"17.0.0.0/8",` +
		`"bodySize":12,"notificationUUID":"u-1","notificationType":"DID_RENEW","subtype":"BILLING_RECOVERY","environment":"Sandbox",` +
		`"bundleId":"com.example","appAppleId":42,"originalTransactionId":"1000","transactionId":"1001","productId":"p.monthly",` +
		`"appAccountToken":"acct","signedDate":"2025-10-01T09:30:15.123Z","trust":"invalid","trustClass":"chain","trustMessage":"bad chain",` +
		`"identityMismatch":"bundle","duplicateOf":3,"responseStatus":200,"kind":"notification","answerProblems":["too slow"],` +
		`"hubPending":true,"hubOrigin":"hub/1","latencyMs":1.5,"delayMs":36120584877,"answer":"{\"message\":{\"messageIdentifier\":\"m\"}}"}`
	if string(b) != want {
		t.Errorf("capture JSON changed\n got: %s\nwant: %s", b, want)
	}
	var back Capture
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("read back\n got: %+v\nwant: %+v", back, c)
	}
	if b, _ := json.Marshal(Capture{}); string(b) != `{"id":0,"receivedAt":"0001-01-01T00:00:00Z","method":"","path":"","headers":null,"remoteAddr":"","bodySize":0,"trust":""}` {
		t.Errorf("empty capture JSON changed: %s", b)
	}
}
