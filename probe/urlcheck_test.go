package probe

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/s2s-dev/s2s/appstore"
)

// A real-time probe's URL without a path is a Get Retention Message endpoint's, not a
// notification URL: the fix says so.
func TestCheckURLRealtimePath(t *testing.T) {
	for _, rt := range []bool{false, true} {
		_, steps, _ := checkURL("https://example.com/", rt)
		var fix string
		for _, st := range steps {
			if st.Name == "path" {
				fix = st.Fix
			}
		}
		if got := strings.Contains(fix, "Get Retention Message endpoint"); got != rt || strings.Contains(fix, "notification URL") == rt {
			t.Errorf("realtime %v: path fix %q", rt, fix)
		}
	}
}

func TestCheckURL(t *testing.T) {
	cases := []struct {
		url     string
		want    Verdict // "" when the probe can go on
		warn    []string
		fixHint string // a substring of the failing step's fix
	}{
		{url: "https://example.com/apple/notifications"},
		{url: "https://example.com:443/apple"},
		{url: "https://example.com/hooks/apple?key=abc123"},
		{url: "", want: Other},
		{url: "example.com/apple", want: Other, fixHint: "https://example.com/apple"},
		{url: "https//example.com/apple", want: Other, fixHint: "https://"},
		{url: "https:/example.com/apple", want: Other, fixHint: "https://example.com/apple"},
		{url: "http://example.com/apple", want: TLSIssue},
		{url: "ftp://example.com/apple", want: Other},
		{url: "https://exa mple.com/apple", want: Other, fixHint: "%20"},
		{url: "https://example.com/apple notifications", want: Other},
		{url: "https://example.com:99999/apple", want: Other},
		{url: "https://example.com:/apple", want: Other},
		{url: "https://[::1/apple", want: Other},
		{url: "  https://example.com/apple\n", warn: []string{"url-whitespace"}},
		{url: "https://example.com", warn: []string{"path"}},
		{url: "https://example.com/", warn: []string{"path"}},
		{url: "https://example.com:8443/apple", warn: []string{"port"}},
		{url: "https://example.com:80/apple", warn: []string{"port"}},
		{url: "https://example.com/apple#key", warn: []string{"fragment"}},
		{url: "https://example.com/apple#", warn: []string{"fragment"}},
		{url: "https://example.com/hooks/{appId}", warn: []string{"path"}},
		{url: "https://example.com/hooks/<key>", warn: []string{"path"}},
		{url: "https://example.com/hooks/:key", warn: []string{"path"}},
		{url: "https://example.com/hooks/YOUR_API_KEY", warn: []string{"path"}},
		{url: "https://user:secret@example.com/apple", warn: []string{"url-userinfo"}},
		{url: "https://example.com:8443#x", warn: []string{"port", "path", "fragment"}},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			u, steps, v := CheckURL(tc.url)
			if v != tc.want {
				t.Fatalf("verdict %q, want %q; steps %+v", v, tc.want, steps)
			}
			if tc.want != "" {
				if u != nil || len(steps) == 0 || steps[len(steps)-1].Status != StatusFail || steps[len(steps)-1].Fix == "" {
					t.Fatalf("a failing URL gave %v and steps %+v", u, steps)
				}
				if !strings.Contains(steps[len(steps)-1].Fix, tc.fixHint) {
					t.Errorf("fix %q lacks %q", steps[len(steps)-1].Fix, tc.fixHint)
				}
				return
			}
			if u == nil || steps[0].Name != "url" || steps[0].Status != StatusOK {
				t.Fatalf("steps %+v", steps)
			}
			var warned []string
			for _, s := range steps[1:] {
				if s.Status != StatusWarn || s.Fix == "" {
					t.Errorf("step %+v", s)
				}
				warned = append(warned, s.Name)
			}
			if strings.Join(warned, ",") != strings.Join(tc.warn, ",") {
				t.Errorf("warnings %v, want %v", warned, tc.warn)
			}
		})
	}
}

func TestNonPublic(t *testing.T) {
	cases := map[string]bool{
		"127.0.0.1": true, "::1": true, "10.1.2.3": true, "172.16.0.1": true, "192.168.1.10": true,
		"169.254.1.1": true, "fe80::1": true, "fd00::1": true, "100.64.0.1": true, "0.0.0.0": true,
		"::": true, "198.18.0.1": true, "192.0.2.7": true, "2001:db8::1": true, "::ffff:10.0.0.1": true,
		"17.58.0.1": false, "8.8.8.8": false, "2606:4700::1111": false, "100.128.0.1": false,
	}
	for addr, want := range cases {
		if got := nonPublic(netip.MustParseAddr(addr)) != ""; got != want {
			t.Errorf("%s: non-public %v, want %v", addr, got, want)
		}
	}
}

func TestAnswerCharset(t *testing.T) {
	cases := []struct {
		contentType string
		want        charsetClass
	}{
		{"", charsetNone},
		{"application/json", charsetNone},
		{"application/json; charset=utf-8", charsetStandard},
		{"application/json; charset=UTF-8", charsetStandard},
		{`text/plain; charset="utf8"`, charsetStandard},
		{"text/plain; charset=us-ascii", charsetStandard},
		{"text/plain; charset=ISO-8859-1", charsetStandard},
		{"text/plain; charset=latin1", charsetStandard},
		{"text/plain; charset=UTF-16LE", charsetStandard},
		{"text/plain; charset=windows-1252", charsetKnown},
		{"text/plain; charset=Shift_JIS", charsetKnown},
		{"text/plain; charset=koi8-r", charsetKnown},
		{"text/plain; charset=klingon-8", charsetUnknown},
		{"text/plain; charset=", charsetUnknown},
		{"text/plain; charset=utf-9", charsetUnknown},
		{"text/plain;; charset=bogus", charsetUnknown}, // does not parse; the charset is still found
	}
	for _, tc := range cases {
		h := http.Header{}
		if tc.contentType != "" {
			h.Set("Content-Type", tc.contentType)
		}
		if _, got := answerCharset(h); got != tc.want {
			t.Errorf("%q: class %d, want %d", tc.contentType, got, tc.want)
		}
	}
}

func TestVerdicts(t *testing.T) {
	results := appstore.SendAttemptResults()
	if len(results) != 11 {
		t.Fatalf("%d verdicts; Apple documents 11", len(results))
	}
	seen := map[string]bool{}
	for _, r := range results {
		v := r.Result
		if !v.Known() || v.Meaning() == "" || seen[v.Meaning()] {
			t.Errorf("%s: meaning %q", v, v.Meaning())
		}
		seen[v.Meaning()] = true
	}
	if Verdict("BOGUS").Known() {
		t.Error("BOGUS is valid")
	}
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://example.com/apple", "example.com", "http://x/", "https://[::1]:8443/a#b", "https:/x", " https://a/b "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, steps, v := CheckURL(raw)
		if len(steps) == 0 {
			t.Fatal("no steps")
		}
		if v == "" {
			if u == nil || !strings.EqualFold(u.Scheme, "https") || u.Hostname() == "" || steps[0].Status != StatusOK {
				t.Fatalf("%q accepted as %v with %+v", raw, u, steps)
			}
		} else if u != nil || !v.Known() {
			t.Fatalf("%q: verdict %q with URL %v", raw, v, u)
		}
	})
}

func FuzzAnswerCharset(f *testing.F) {
	for _, s := range []string{"application/json; charset=utf-8", "text/html;charset=\"x\"", "a;charset=", ";;charset=q"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ct string) {
		h := http.Header{}
		h["Content-Type"] = []string{ct}
		cs, class := answerCharset(h)
		if class == charsetNone && cs != "" {
			t.Fatalf("%q: charset %q without a class", ct, cs)
		}
		if class == charsetStandard && !standardCharsets[strings.ToLower(strings.TrimSpace(cs))] {
			t.Fatalf("%q: %q is not standard", ct, cs)
		}
	})
}
