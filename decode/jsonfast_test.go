package decode_test

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/benchgen"
)

// checkIndentedJSON: the directly written --json document is, byte for byte, MarshalJSON's
// laid out by json.Indent (what "s2s decode --json" printed through encoding/json before).
func checkIndentedJSON(t testing.TB, d *decode.Decoded, compact []byte) {
	t.Helper()
	var want bytes.Buffer
	if err := json.Indent(&want, compact, "", "  "); err != nil {
		t.Fatalf("MarshalJSON is not JSON: %v", err)
	}
	want.WriteByte('\n')
	got, err := d.AppendIndentedJSON(nil)
	if err != nil {
		t.Fatalf("AppendIndentedJSON: %v", err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		i := 0
		for i < len(got) && i < want.Len() && got[i] == want.Bytes()[i] {
			i++
		}
		lo := max(0, i-80)
		t.Fatalf("AppendIndentedJSON differs at byte %d:\n got %q\nwant %q", i, got[lo:min(len(got), i+80)], want.Bytes()[lo:min(want.Len(), i+80)])
	}
}

// TestAppendIndentedJSONMatchesEncoder: every vector, minted notifications and odd inputs (V1,
// errors, escapes, Unicode) give the same document through both writers.
func TestAppendIndentedJSONMatchesEncoder(t *testing.T) {
	seeds, _ := genuineJWS(t)
	c, err := benchgen.AppleShapedChain()
	if err != nil {
		t.Fatal(err)
	}
	bodies, err := benchgen.DIDRenews(c, 3)
	if err != nil {
		t.Fatal(err)
	}
	seeds = append(seeds, bodies...)
	seeds = append(seeds,
		[]byte(`{"signedPayload":"a.b.c", "x": "<&>\u2028 \"q\" \\ é"}`),
		[]byte(`{"notification_type":"<b>&amp;</b>","bid":"é\u0000","password":"\ud800","nested":{"a":[],"b":{},"c":[1,2.5e3,-0,true,false,null]}}`),
		[]byte(`{"other":"json"}`),
		[]byte("not a jws\x00\xff"),
	)
	for _, p := range []string{
		`{"notificationType":"TEST","signedDate":1,"data":{"bundleId":"é<>&\u2029","environment":"Sandbox","x":[{},[],{"k":"\t\u00e9\\/"}]}}`,
		`{"transactionId":"1","bundleId":"b","environment":"Sandbox","signedDate":1, "weird key \"x\"": "\ud83d\ude00", "ws" :  [ 1 , 2 ] }`,
	} {
		jws, err := c.Sign([]byte(p))
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, []byte(jws), []byte(`{"signedPayload":"`+jws+`"}`))
	}
	files, _ := filepath.Glob(filepath.Join(vectors, "*", "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	v := decode.NewVerifier(decode.Options{Clock: clock, ExtraRoots: []*x509.Certificate{c.Root()}})
	for _, in := range seeds {
		d := v.Decode(in)
		js, err := d.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		checkIndentedJSON(t, d, js)
	}
}

// FuzzParseNode: the fast parser accepts only what the tokenizer-based one accepts, and gives
// the same tree.
func FuzzParseNode(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":[1,-2.5e+3,"x\u00e9",true,null,{"b":false}]}`, `"\ud800"`, `{"a":1,}`, `01`, ` 1 `, `"\u2028"`, `{"a" 1}`, `[1 2]`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decode.ParseNode(b)
		want, werr := decode.ParseNodeTokens(b)
		if (err == nil) != (werr == nil) {
			t.Fatalf("ParseNode error %v, tokenizer error %v", err, werr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("trees differ:\n%s\n%s", got.AppendJSON(nil), want.AppendJSON(nil))
		}
	})
}

// FuzzAppendString: strings are written exactly as encoding/json writes them without HTML
// escaping.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "abcdefghijklm\"nopqrstuvwxyz0123456789\\ABCDEFGH\x01IJKLMNOPQRSTUVWXYZé0123456789", `q"b\s`, "é\u2028x", "\x00\x1f\t\n", "\xff\xfe", "<&>", "\x7f", "😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		got := decode.AppendString([]byte("prefix"), s)
		if string(got) != "prefix"+strings.TrimSuffix(want.String(), "\n") {
			t.Fatalf("%q: got %s, want %s", s, got, want.String())
		}
	})
}
