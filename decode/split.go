package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// SplitInputs cuts a file or stream into inputs: each JSON object (however many lines it spans)
// or each non-empty line is one input, so newline-delimited bodies and a pretty-printed body both
// work. Surrounding whitespace is dropped.
func SplitInputs(data []byte) [][]byte {
	var out [][]byte
	s := NewSplitter(bytes.NewReader(data))
	for {
		in, err := s.Next()
		if err != nil {
			return out // a bytes.Reader fails only at its end
		}
		out = append(out, in)
	}
}

// Splitter cuts a stream into inputs as SplitInputs does, reading no further than the input it
// returns needs, so a file of any size is decoded in bounded memory.
type Splitter struct {
	r    io.Reader
	buf  []byte // buf[off:] is read but not yet returned
	off  int
	rerr error // the reader's error once seen: io.EOF at the end
}

// splitReadSize is how much the Splitter asks its reader for at a time.
const splitReadSize = 64 << 10

// NewSplitter reads inputs from r.
func NewSplitter(r io.Reader) *Splitter { return &Splitter{r: r} }

// Next returns the next input, a slice the caller owns; io.EOF after the last one, or the
// reader's error (inputs before it were returned).
func (s *Splitter) Next() ([]byte, error) {
	for {
		// Leading whitespace, as far as it goes.
		for {
			rest := s.buf[s.off:]
			t := bytes.TrimLeft(rest, " \t\r\n\f\v")
			s.off += len(rest) - len(t)
			if len(t) > 0 {
				break
			}
			if !s.fill() {
				return nil, s.rerr
			}
		}
		eol, err := s.lineEnd()
		if err != nil {
			return nil, err
		}
		if s.buf[s.off] == '{' {
			if n, ok := objectOnLine(s.buf[s.off:eol]); ok {
				return s.take(n), nil
			}
			n, ok, err := s.object()
			if err != nil {
				return nil, err
			}
			if ok {
				return s.take(n), nil
			}
			// A malformed object: the rest of its line is one input, reported as malformed.
			if eol, err = s.lineEnd(); err != nil {
				return nil, err
			}
		}
		line := bytes.TrimSpace(s.buf[s.off:eol])
		s.off = eol
		if len(line) > 0 {
			return bytes.Clone(line), nil
		}
	}
}

// take returns the next n bytes, trimmed, and consumes them.
func (s *Splitter) take(n int) []byte {
	in := bytes.Clone(bytes.TrimSpace(s.buf[s.off : s.off+n]))
	s.off += n
	return in
}

// lineEnd reads until buf[off:] holds a newline or the stream's end, and returns the index of
// that newline (or of the end). A reader error other than the end is returned.
func (s *Splitter) lineEnd() (int, error) {
	scanned := s.off
	for {
		if i := bytes.IndexByte(s.buf[scanned:], '\n'); i >= 0 {
			return scanned + i, nil
		}
		scanned = len(s.buf) - s.off // relative: fill may move the unread bytes to the front
		if !s.fill() {
			if !errors.Is(s.rerr, io.EOF) {
				return 0, s.rerr
			}
			return len(s.buf), nil
		}
		scanned += s.off
	}
}

// fill reads more into buf, moving the unread bytes to the front first; false when the reader
// has nothing more to give.
func (s *Splitter) fill() bool {
	if s.rerr != nil {
		return false
	}
	if s.off > 0 {
		n := copy(s.buf, s.buf[s.off:])
		s.buf = s.buf[:n]
		s.off = 0
	}
	if cap(s.buf)-len(s.buf) < splitReadSize {
		s.buf = append(s.buf, make([]byte, splitReadSize)...)[:len(s.buf)]
	}
	for {
		n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+n]
		if err != nil {
			s.rerr = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
}

// objectOnLine is the fast path for the common newline-delimited body: when the braces (outside
// strings) of line, which starts with '{', close at some point followed only by blanks to the end
// of the line, the input is line up to there whether or not it is valid JSON: a valid object ends
// exactly there, and a malformed one takes the rest of its line, which is the same bytes.
func objectOnLine(line []byte) (int, bool) {
	depth := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '"':
			// To the closing quote: the first one not escaped by an odd run of backslashes.
			for {
				q := bytes.IndexByte(line[i+1:], '"')
				if q < 0 {
					return 0, false
				}
				i += 1 + q
				k := 0
				for line[i-1-k] == '\\' {
					k++
				}
				if k%2 == 0 {
					break
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				if len(bytes.TrimLeft(line[i+1:], " \t\r\f\v")) == 0 {
					return i + 1, true
				}
				return 0, false
			}
		}
	}
	return 0, false
}

// object decodes one JSON value from buf[off:], reading more as needed, and returns its length;
// ok is false when it is not valid JSON. Only a reader error other than the end is an error.
func (s *Splitter) object() (n int, ok bool, err error) {
	r := &splitterReader{s: s}
	dec := json.NewDecoder(r)
	var raw json.RawMessage
	if dec.Decode(&raw) != nil {
		if s.rerr != nil && !errors.Is(s.rerr, io.EOF) {
			return 0, false, s.rerr
		}
		return 0, false, nil
	}
	return int(dec.InputOffset()), true, nil
}

// splitterReader serves the Splitter's unread bytes, then reads more into its buffer, so the
// bytes a json.Decoder consumed are still in buf when it is done.
type splitterReader struct {
	s   *Splitter
	rel int // next byte to serve, relative to s.off (fill moves off, not what follows it)
}

func (r *splitterReader) Read(p []byte) (int, error) {
	s := r.s
	if s.off+r.rel >= len(s.buf) && !s.fill() {
		return 0, s.rerr
	}
	n := copy(p, s.buf[s.off+r.rel:])
	r.rel += n
	return n, nil
}
