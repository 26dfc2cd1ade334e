package store

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/s2s-dev/s2s/decode"
)

func TestParseFilter(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Filter
	}{
		{"", Filter{}},
		{"type:did_renew", Filter{Types: []string{"DID_RENEW"}}},
		{"subtype:voluntary env:prod", Filter{Subtypes: []string{"VOLUNTARY"}, Environments: []decode.Environment{"Production"}}},
		{"trust:v1 product:com.x.pro", Filter{Trusts: []decode.Label{"legacy-v1"}, Products: []string{"com.x.pro"}}},
		{"trust:verified✓ otid:2000 bundle:com.x", Filter{Trusts: []decode.Label{"verified"}, OriginalTransactionIDs: []string{"2000"}, BundleIDs: []string{"com.x"}}},
		{"2000001034582925", Filter{Text: "2000001034582925"}},
		{"type:REFUND free text", Filter{Types: []string{"REFUND"}, Text: "free text"}},
		// Repeated keys and value lists are alternatives; different keys all apply.
		{"type:REFUND type:DID_RENEW", Filter{Types: []string{"REFUND", "DID_RENEW"}}},
		{"type:REFUND,did_renew|EXPIRED env:sandbox env:Production", Filter{Types: []string{"REFUND", "DID_RENEW", "EXPIRED"}, Environments: []decode.Environment{"Sandbox", "Production"}}},
		// TYPE/SUBTYPE, as forwarding rules write it.
		{"type:subscribed/resubscribe", Filter{Types: []string{"SUBSCRIBED/RESUBSCRIBE"}}},
		// Forwarding rules' spelling: key=value, ";" between rules.
		{"type=REFUND;env=Production", Filter{Types: []string{"REFUND"}, Environments: []decode.Environment{"Production"}}},
		// Real-time requests: their kind and their appAppleId (they carry no bundle ID).
		{"kind:realtime app:1470168868", Filter{Kinds: []decode.Kind{decode.KindRealtimeRequest}, AppAppleIDs: []int64{1470168868}}},
		{"kind:notification,realtime-request", Filter{Kinds: []decode.Kind{decode.KindNotification, decode.KindRealtimeRequest}}},
		// Times and URLs are free text, not keys.
		{"12:30 /apple", Filter{Text: "12:30 /apple"}},
	} {
		got, err := ParseFilter(tt.in)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseFilter(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if again, err := ParseFilter(got.String()); err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("ParseFilter(%q.String() = %q) = %+v, %v", tt.in, got.String(), again, err)
		}
	}
}

// TestParseFilterErrors: a mistake is an error naming the bad key or value and what is valid,
// never a filter that silently matches nothing.
func TestParseFilterErrors(t *testing.T) {
	for _, tt := range []struct {
		in       string
		key      string
		mentions []string
	}{
		{"foo:bar", "", []string{`"foo"`, "type", "subtype", "env", "trust", "product", "bundle", "otid"}},
		{"trust:bogus", "trust", []string{"bogus", "verified", "simulated", "unsigned-xcode", "legacy-v1", "invalid"}},
		{"env:", "env", []string{"env", "Sandbox", "Production", "Xcode", "LocalTesting"}},
		{"env:moon", "env", []string{"moon", "Sandbox", "Production"}},
		{"type:REFUND env:prod type:A-B", "type", []string{"A-B", "TYPE/SUBTYPE"}},
		{"product:", "product", []string{"product"}},
		{"kind:bogus", "kind", []string{"bogus", "notification", "realtime-request"}},
		{"app:com.example", "app", []string{"com.example", "appAppleId"}},
		{"app:-1", "app", []string{"appAppleId"}},
	} {
		_, err := ParseFilter(tt.in)
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("ParseFilter(%q): error %v, want a *FilterError", tt.in, err)
			continue
		}
		if fe.Key != tt.key {
			t.Errorf("ParseFilter(%q): key %q, want %q", tt.in, fe.Key, tt.key)
		}
		for _, m := range tt.mentions {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("ParseFilter(%q): %q does not mention %q", tt.in, err, m)
			}
		}
	}
}

func TestFilterMatchProductSubstring(t *testing.T) {
	c := &Capture{Subject: decode.Subject{Type: "DID_RENEW", Subtype: "BILLING_RECOVERY", ProductID: "com.example.premium.yearly"}}
	for text, want := range map[string]bool{
		"product:premium":                 true,
		"product:PREMIUM.Year":            true,
		"product:monthly":                 false,
		"product:monthly,yearly":          true,
		"type:DID_RENEW/BILLING_RECOVERY": true,
		"type:DID_RENEW/VOLUNTARY":        false,
		"type:REFUND type:DID_RENEW":      true,
	} {
		f, err := ParseFilter(text)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Match(c); got != want {
			t.Errorf("%q: Match = %v, want %v", text, got, want)
		}
	}
}

// FuzzParseFilter: any text parses or is refused with a *FilterError, never a panic; what parses
// is written back by String into text that parses to the same filter.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"", "type:DID_RENEW", "env:prod trust:v1 free text", "type: :x ::", "product:a:b otid:1 bundle:é",
		"\t type:refund\n", "trust:verified✓ subtype:VOLUNTARY", "type=A,B;env=sb", "foo:bar", "type:A/B|C"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got, err := ParseFilter(text)
		if err != nil {
			var fe *FilterError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FilterError", err)
			}
			return
		}
		again, err := ParseFilter(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("%q: String %q parses to %+v, %v; want %+v", text, got.String(), again, err, got)
		}
	})
}

// account: selects by appAccountToken, in the store's query and in Match alike, without regard
// to case (it is a UUID).
func TestFilterAccount(t *testing.T) {
	s := openTemp(t)
	ctx := testCtx(t)
	for _, tok := range []string{"7E3FB20B-4CDB-47CC-936D-99D65F608138", "", "a1b2c3d4-0000-4000-8000-000000000000"} {
		if err := s.Insert(ctx, &Capture{Method: "POST", Path: "/", Body: []byte("{}"), Subject: decode.Subject{AppAccountToken: tok}}); err != nil {
			t.Fatal(err)
		}
	}
	f, err := ParseFilter("account:7e3fb20b-4cdb-47cc-936d-99d65f608138")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].AppAccountToken != "7E3FB20B-4CDB-47CC-936D-99D65F608138" || !f.Match(&got[0]) {
		t.Fatalf("account filter: %+v", got)
	}
	if f.Match(&Capture{Subject: decode.Subject{AppAccountToken: "a1b2c3d4-0000-4000-8000-000000000000"}}) || f.Match(&Capture{}) {
		t.Fatal("Match took another account")
	}
}
