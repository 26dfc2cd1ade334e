package decode_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/s2s-dev/s2s/decode"
)

type envelope struct {
	Revision string   `json:"revision"`
	HasMore  bool     `json:"hasMore"`
	Items    []item   `json:"items"`
	Tags     []string `json:"tags"`
}

type item struct {
	Status int `json:"status"`
}

func TestUnmarshalExact(t *testing.T) {
	for _, tt := range []struct{ in, err string }{
		{`{"revision":"r","hasMore":true,"items":[{"status":1}],"other":{"x":1,"X":2}}`, ""},
		{`{"hasMore":false,"hasMore":true}`, `"hasMore" appears twice`},
		{`{"HasMore":true}`, `differs from "hasMore" only by case`},
		{`{"items":[{"status":1,"Status":5}]}`, `differs from "status"`},
		{`{"revision":"r"} x`, "not valid JSON"},
	} {
		var e envelope
		err := decode.UnmarshalExact([]byte(tt.in), "Apple's answer", &e)
		if tt.err == "" {
			if err != nil || !e.HasMore || e.Items[0].Status != 1 {
				t.Errorf("%s: %+v %v", tt.in, e, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "Apple's answer") {
			t.Errorf("%s: err %v, want %q", tt.in, err, tt.err)
		}
	}
	if err := decode.UnmarshalExact([]byte(`{}`), "x", envelope{}); err == nil {
		t.Error("a non-pointer was accepted")
	}
}

// FuzzUnmarshalExact: whatever the input, no panic; what the exact reader accepts, encoding/json
// reads the same way.
func FuzzUnmarshalExact(f *testing.F) {
	for _, s := range []string{`{"revision":"r","hasMore":true,"items":[{"status":1}]}`, `{"hasMore":1}`, `{"ha\u0073More":true}`, `[]`, `{"tags":["a","b"]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got, want envelope
		if err := decode.UnmarshalExact(b, "x", &got); err != nil {
			return
		}
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("accepted what encoding/json refuses: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%+v != %+v", got, want)
		}
	})
}
