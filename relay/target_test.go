package relay

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/store"
)

func TestNormalizeURL(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "3000", want: "http://localhost:3000"},
		{in: "3000/apple/notifications", want: "http://localhost:3000/apple/notifications"},
		{in: ":3000/path", want: "http://localhost:3000/path"},
		{in: ":3000", want: "http://localhost:3000"},
		{in: "/path", want: "http://localhost/path"},
		{in: "localhost:3000", want: "http://localhost:3000"},
		{in: "localhost:3000/apple?env=sandbox&x=1", want: "http://localhost:3000/apple?env=sandbox&x=1"},
		{in: "127.0.0.1:8081/hook", want: "http://127.0.0.1:8081/hook"},
		{in: "[::1]:3000/x", want: "http://[::1]:3000/x"},
		{in: "https://dev.example.com/apple?token=a=b", want: "https://dev.example.com/apple?token=a=b"},
		{in: "HTTP://Example.com/A", want: "http://Example.com/A"},
		{in: "  http://localhost:3000/  ", want: "http://localhost:3000/"},
		{in: "http://localhost:3000/#frag", want: "http://localhost:3000/"},
		{in: "", err: "empty URL"},
		{in: "ftp://example.com", err: "only http and https"},
		{in: "99999", err: "out of range"},
		{in: ":0", err: "out of range"},
		{in: "http://", err: "no host"},
		{in: "http://user:pw@localhost:3000", err: "credentials"},
		{in: "localhost:port", err: "not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeURL(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("NormalizeURL(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		spec  string
		url   string
		envs  []decode.Environment
		types []string
		err   string
	}{
		{spec: "3000", url: "http://localhost:3000"},
		{spec: "http://localhost:3000/apple?env=Sandbox&type=REFUND", url: "http://localhost:3000/apple?env=Sandbox&type=REFUND"},
		{spec: "env=Sandbox=>3000", url: "http://localhost:3000", envs: []decode.Environment{"Sandbox"}},
		{spec: "env=sandbox,PRODUCTION => :3001/x", url: "http://localhost:3001/x", envs: []decode.Environment{"Sandbox", "Production"}},
		{spec: "type=REFUND|DID_RENEW;env=Production=>https://h.example/a?b=c", url: "https://h.example/a?b=c",
			envs: []decode.Environment{"Production"}, types: []string{"REFUND", "DID_RENEW"}},
		{spec: "type=subscribed/resubscribe=>3000", url: "http://localhost:3000", types: []string{"SUBSCRIBED/RESUBSCRIBE"}},
		{spec: " ; type=TEST ; =>3000", url: "http://localhost:3000", types: []string{"TEST"}},
		{spec: "=>3000", err: "empty rules"},
		{spec: "env=Staging=>3000", err: "unknown environment"},
		{spec: "colour=red=>3000", err: `unknown filter key "colour"; the keys are type, subtype, env`},
		// The one filter grammar: a repeated key is an alternative, as in the TUI and captures.
		{spec: "env=Sandbox;env=Production=>3000", url: "http://localhost:3000", envs: []decode.Environment{"Sandbox", "Production"}},
		{spec: "type:REFUND env:prod=>3000", url: "http://localhost:3000", envs: []decode.Environment{"Production"}, types: []string{"REFUND"}},
		{spec: "type==>3000", err: "needs a value"},
		{spec: "type=REFUND DID_RENEW=>3000", err: `"DID_RENEW" is not a rule`},
		{spec: "env Sandbox=>3000", err: "is not a rule"},
		{spec: "env=Sandbox=>", err: "empty URL"},
		// Rules without "=>" would otherwise become a host named "env=Sandbox,3000".
		{spec: "env=Sandbox,3000", err: `put the rules before "=>"`},
		{spec: "env=Sandbox:3000", err: `put the rules before "=>"`},
		{spec: "type=REFUND;env=Sandbox>3000", err: `put the rules before "=>"`},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseTarget(tt.spec)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseTarget(%q) = %+v, %v; want error containing %q", tt.spec, got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.URL != tt.url || !slices.Equal(got.Rules.Environments, tt.envs) || !slices.Equal(got.Rules.Types, tt.types) {
				t.Errorf("ParseTarget(%q) = %+v; want url %q envs %v types %v", tt.spec, got, tt.url, tt.envs, tt.types)
			}
		})
	}
}

// A misspelt type would silently route nothing; Apple also adds types, so it is a warning.
func TestTargetUnknownTypes(t *testing.T) {
	tg, err := ParseTarget("type=REFUN,DID_RENEW,SUBSCRIBED/RESUBSCRIBED,one_time_charge=>3000")
	if err != nil {
		t.Fatal(err)
	}
	if got := tg.UnknownTypes(); !slices.Equal(got, []string{"REFUN", "SUBSCRIBED/RESUBSCRIBED"}) {
		t.Errorf("UnknownTypes() = %v", got)
	}
	if tg, _ := ParseTarget("env=Sandbox=>3000"); tg.UnknownTypes() != nil {
		t.Errorf("no type rule, unknown %v", tg.UnknownTypes())
	}
}

func TestTargetMatches(t *testing.T) {
	tests := []struct {
		spec string
		c    store.Capture
		want bool
	}{
		{"3000", store.Capture{}, true},
		{"env=Sandbox=>3000", store.Capture{Subject: decode.Subject{Environment: "Sandbox"}}, true},
		{"env=Sandbox=>3000", store.Capture{Subject: decode.Subject{Environment: "Production"}}, false},
		{"env=Sandbox=>3000", store.Capture{}, false},
		{"type=REFUND=>3000", store.Capture{Subject: decode.Subject{Type: "REFUND", Subtype: "ANY"}}, true},
		{"type=refund=>3000", store.Capture{Subject: decode.Subject{Type: "REFUND"}}, true},
		{"type=SUBSCRIBED/INITIAL_BUY=>3000", store.Capture{Subject: decode.Subject{Type: "SUBSCRIBED", Subtype: "INITIAL_BUY"}}, true},
		{"type=SUBSCRIBED/INITIAL_BUY=>3000", store.Capture{Subject: decode.Subject{Type: "SUBSCRIBED", Subtype: "RESUBSCRIBE"}}, false},
		{"type=SUBSCRIBED/INITIAL_BUY=>3000", store.Capture{Subject: decode.Subject{Type: "SUBSCRIBED"}}, false},
		{"type=REFUND;env=Production=>3000", store.Capture{Subject: decode.Subject{Type: "REFUND", Environment: "Sandbox"}}, false},
		{"type=REFUND,TEST;env=Production,Sandbox=>3000", store.Capture{Subject: decode.Subject{Type: "TEST", Environment: "Sandbox"}}, true},
	}
	for _, tt := range tests {
		if got := mustTarget(t, tt.spec).Matches(&tt.c); got != tt.want {
			t.Errorf("%q matches %+v = %v, want %v", tt.spec, tt.c, got, tt.want)
		}
	}
}

func TestTargetString(t *testing.T) {
	got := mustTarget(t, "type=REFUND;env=Sandbox=>3000").String()
	if want := "http://localhost:3000 (type:REFUND env:Sandbox)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// FuzzParseTarget: any input either fails with a message or yields an absolute http(s) URL whose
// rules parse again to the same target.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"3000", ":3000/p", "/p", "localhost:3000", "https://a.example/x?y=z",
		"env=Sandbox=>3000", "type=REFUND|DID_RENEW;env=Production=>http://h/x", "type=A/B=>1", "=>", "env==>=>",
		"[::1]:80", "http://[fe80::1%25en0]:8080/", "type=\x00=>1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		tg, err := ParseTarget(spec)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		u, err := url.Parse(tg.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Fatalf("ParseTarget(%q).URL = %q: not an absolute http(s) URL (%v)", spec, tg.URL, err)
		}
		again, err := NormalizeURL(tg.URL)
		if err != nil || again != tg.URL {
			t.Fatalf("normalizing %q again gave %q, %v", tg.URL, again, err)
		}
		tg.Matches(&store.Capture{Subject: decode.Subject{Type: "REFUND", Environment: "Sandbox"}})
	})
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"", 0, false}, {"0", 0, false},
		{"5", 200 * time.Millisecond, false}, {"5/s", 200 * time.Millisecond, false},
		{"30/m", 2 * time.Second, false}, {"2/h", 30 * time.Minute, false}, {"0.5/s", 2 * time.Second, false},
		{"-1/s", 0, true}, {"5/d", 0, true}, {"fast", 0, true}, {"NaN/s", 0, true}, {"1e9/s", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"5/s", "30/m", "1/h", "0", "", "0.001/h", "1e6/s", "+Inf/s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		every, err := ParseRate(s)
		if err == nil && every < 0 {
			t.Fatalf("ParseRate(%q) = %v: negative interval", s, every)
		}
	})
}

func TestParseBackoff(t *testing.T) {
	tests := []struct {
		in   string
		want []time.Duration
		err  bool
	}{
		{"", nil, false},
		{"none", []time.Duration{}, false},
		{"1s, 5s,2m", []time.Duration{time.Second, 5 * time.Second, 2 * time.Minute}, false},
		{"1s,,2s", nil, true}, {"-1s", nil, true}, {"soon", nil, true},
		{strings.Repeat("1s,", 20) + "1s", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseBackoff(tt.in)
		if (err != nil) != tt.err || !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("ParseBackoff(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestDefaultBackoff(t *testing.T) {
	want := []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute}
	if got := DefaultBackoff(); !slices.Equal(got, want) {
		t.Errorf("DefaultBackoff() = %v, want %v", got, want)
	}
}
