package store

import (
	"bytes"
	"encoding/json"
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
