package decode

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestPlainWord: the eight-byte test agrees with the byte table on every byte value in every
// position, and on random words.
func TestPlainWord(t *testing.T) {
	check := func(w [8]byte) {
		want := true
		for _, c := range w {
			want = want && plainByte[c]
		}
		if got := plainWord(binary.LittleEndian.Uint64(w[:])); got != want {
			t.Fatalf("%q: plainWord %v, bytes say %v", w, got, want)
		}
	}
	for pos := range 8 {
		for c := range 256 {
			w := [8]byte{'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'}
			w[pos] = byte(c)
			check(w)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], r.Uint64())
		check(w)
		binary.LittleEndian.PutUint64(w[:], r.Uint64()&0x7f7f7f7f7f7f7f7f) // ASCII only
		check(w)
	}
}

// TestUnescapeKey: escaped keys compare as every JSON reader unescapes them.
func TestUnescapeKey(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`a\nb`, "a\nb"}, {`a\"b`, `a"b`}, {`a\\b`, `a\b`}, {`a\/b`, "a/b"}, {`\u00e9\t`, "é\t"}, {`\ud83d\ude00`, "😀"},
	} {
		s := &jsonScanner{where: "x"}
		if got, err := s.unescapeKey([]byte(c.in)); err != nil || string(got) != c.want {
			t.Errorf("%s: %q %v", c.in, got, err)
		}
	}
}

// TestDuplicateInALargeObject: past the small-object limit duplicates are still found.
func TestDuplicateInALargeObject(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 3 * smallObject {
		fmt.Fprintf(&b, `"k%d":%d,`, i, i)
	}
	for _, last := range []string{`"k70":0}`, `"k\u0037\u0030":0}`, `"k5":0}`} {
		if _, err := checkJSON([]byte(b.String()+last), "x", nil, nil); err == nil || !strings.Contains(err.Error(), "appears twice") {
			t.Errorf("%s: %v", last, err)
		}
	}
	if _, err := checkJSON([]byte(b.String()+`"other":0}`), "x", nil, nil); err != nil {
		t.Error(err)
	}
}
