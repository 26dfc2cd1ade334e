package decode_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/s2s-dev/s2s/decode"
)

// splitReference is SplitInputs as it was before it streamed (the whole input in memory, a
// json.Decoder at every object): the streaming Splitter must cut every input the same way.
func splitReference(data []byte) [][]byte {
	var out [][]byte
	rest := data
	for {
		rest = bytes.TrimLeft(rest, " \t\r\n\f\v")
		if len(rest) == 0 {
			return out
		}
		if rest[0] == '{' {
			dec := json.NewDecoder(bytes.NewReader(rest))
			var raw json.RawMessage
			if err := dec.Decode(&raw); err == nil {
				n := int(dec.InputOffset())
				out = append(out, bytes.TrimSpace(rest[:n]))
				rest = rest[n:]
				continue
			}
		}
		n := bytes.IndexByte(rest, '\n')
		if n < 0 {
			n = len(rest)
		}
		if line := bytes.TrimSpace(rest[:n]); len(line) > 0 {
			out = append(out, line)
		}
		rest = rest[n:]
	}
}

func splitAll(t *testing.T, r io.Reader) [][]byte {
	t.Helper()
	var out [][]byte
	s := decode.NewSplitter(r)
	for {
		in, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, in)
	}
}

func equalInputs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

var splitSeeds = []string{
	"", "\n\n", `{"signedPayload":"a.b.c"}`, "{\"a\":1}\n{\"b\":2}\n", "{\"a\":1} {\"b\":2}\n",
	"{\n  \"a\": 1\n}\n x.y.z \n", "{\"a\":1}}\n", "{\n{\"a\":1}\n", "{\"a\":\"}\"}\n", "{\"a\":\"\\\"}\"} \t\n",
	"{]\n", "{\"a\":[}\nq\n", "\u00a0{\"a\":1}\u00a0\n", "{\"a\":1}\u00a0\n", "\f{\"a\":1}\v\r\n", "a.b.c\r\nd.e.f",
	"{\"a\":1", "{\"a\":\n1}\n{", "  \"x.y.z\"  \n",
}

// TestSplitterMatchesReference: the streaming cut equals the in-memory one, also when the reader
// hands out one byte at a time (every buffer boundary) and on long lines.
func TestSplitterMatchesReference(t *testing.T) {
	long := `{"signedPayload":"` + string(bytes.Repeat([]byte("abc."), 50000)) + `"}`
	seeds := append(splitSeeds, long+"\n"+long, "{\n"+long+"\n", long[:len(long)-1]+"\n"+long)
	for _, s := range seeds {
		want := splitReference([]byte(s))
		if got := decode.SplitInputs([]byte(s)); !equalInputs(got, want) {
			t.Errorf("SplitInputs(%.60q) = %d inputs, want %d", s, len(got), len(want))
		}
		if got := splitAll(t, iotest.OneByteReader(bytes.NewReader([]byte(s)))); !equalInputs(got, want) {
			t.Errorf("one byte at a time, %.60q: %d inputs, want %d", s, len(got), len(want))
		}
	}
}

// TestSplitterReadError: inputs before a read error are returned, then the error.
func TestSplitterReadError(t *testing.T) {
	boom := errors.New("boom")
	s := decode.NewSplitter(io.MultiReader(bytes.NewReader([]byte("a.b.c\n{\"x\":1}\n{\"y\"")), iotest.ErrReader(boom)))
	for _, want := range []string{"a.b.c", `{"x":1}`} {
		in, err := s.Next()
		if err != nil || string(in) != want {
			t.Fatalf("Next = %q, %v; want %q", in, err, want)
		}
	}
	if _, err := s.Next(); !errors.Is(err, boom) {
		t.Fatalf("Next after the error = %v, want boom", err)
	}
}

// FuzzSplitInputs: any input is cut the same way streamed and in memory.
func FuzzSplitInputs(f *testing.F) {
	for _, s := range splitSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := splitReference(b)
		if got := decode.SplitInputs(b); !equalInputs(got, want) {
			t.Fatalf("SplitInputs: %q, want %q", got, want)
		}
		if got := splitAll(t, iotest.HalfReader(bytes.NewReader(b))); !equalInputs(got, want) {
			t.Fatalf("streamed: %q, want %q", got, want)
		}
	})
}
