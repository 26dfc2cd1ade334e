package decode_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/s2s-dev/s2s/decode"
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
