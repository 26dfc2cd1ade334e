package decode

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"unicode/utf8"
)

// This file holds the fast paths of decode's JSON output: "s2s decode --json" writes tens of
// kilobytes per notification, and going through encoding/json's tokenizer, then its compaction
// and indentation of that output, cost more than verifying the three signatures. Each fast path
// produces exactly the bytes of the general one (the tests compare them) and hands anything
// unusual to it.

// maxFastDepth bounds the recursion of the fast parser; deeper input takes the general path.
const maxFastDepth = 512

// parseNodeFast parses b like ParseNode. ok is false when b is not plainly valid JSON, or holds
// something the fast path does not handle; the caller then uses the general parser, which gives
// the canonical result or error.
func parseNodeFast(b []byte) (*Node, bool) {
	p := fastParser{b: b}
	n, ok := p.value(0)
	if !ok {
		return nil, false
	}
	p.ws()
	return n, p.i == len(b)
}

type fastParser struct {
	b []byte
	i int
}

func (p *fastParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *fastParser) value(depth int) (*Node, bool) {
	if depth > maxFastDepth {
		return nil, false
	}
	p.ws()
	if p.i >= len(p.b) {
		return nil, false
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		raw, ok := p.str()
		if !ok {
			return nil, false
		}
		if plainString(raw) {
			return &Node{Kind: NodeString, Raw: json.RawMessage(raw)}, true
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		return &Node{Kind: NodeString, Raw: marshalString(s)}, true
	case c == '-' || c >= '0' && c <= '9':
		start := p.i
		if !p.number() {
			return nil, false
		}
		return &Node{Kind: NodeNumber, Raw: json.RawMessage(p.b[start:p.i])}, true
	case bytes.HasPrefix(p.b[p.i:], []byte("true")):
		p.i += 4
		return &Node{Kind: NodeBool, Raw: json.RawMessage("true")}, true
	case bytes.HasPrefix(p.b[p.i:], []byte("false")):
		p.i += 5
		return &Node{Kind: NodeBool, Raw: json.RawMessage("false")}, true
	case bytes.HasPrefix(p.b[p.i:], []byte("null")):
		p.i += 4
		return &Node{Kind: NodeNull, Raw: json.RawMessage("null")}, true
	}
	return nil, false
}

// object parses the object at p.i.
func (p *fastParser) object(depth int) (*Node, bool) {
	n := &Node{Kind: NodeObject}
	if p.open('}') {
		return n, true
	}
	for {
		p.ws()
		raw, ok := p.str()
		if !ok {
			return nil, false
		}
		key, ok := keyOf(raw)
		if !ok {
			return nil, false
		}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, false
		}
		p.i++
		v, ok := p.value(depth + 1)
		if !ok {
			return nil, false
		}
		n.Members = append(n.Members, Member{Key: key, Value: v})
		more, ok := p.next('}')
		if !ok {
			return nil, false
		}
		if !more {
			return n, true
		}
	}
}

// array parses the array at p.i.
func (p *fastParser) array(depth int) (*Node, bool) {
	n := &Node{Kind: NodeArray}
	if p.open(']') {
		return n, true
	}
	for {
		v, ok := p.value(depth + 1)
		if !ok {
			return nil, false
		}
		n.Elems = append(n.Elems, v)
		more, ok := p.next(']')
		if !ok {
			return nil, false
		}
		if !more {
			return n, true
		}
	}
}

// open consumes the opening bracket at p.i and, when the container is empty, its closing one.
func (p *fastParser) open(closing byte) (empty bool) {
	p.i++
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == closing {
		p.i++
		return true
	}
	return false
}

// next consumes what follows a member or element: a comma (more follow) or the closing bracket.
// ok is false on anything else.
func (p *fastParser) next(closing byte) (more, ok bool) {
	p.ws()
	if p.i >= len(p.b) {
		return false, false
	}
	switch p.b[p.i] {
	case ',':
		p.i++
		return true, true
	case closing:
		p.i++
		return false, true
	}
	return false, false
}

// str returns the quoted string at p.i, quotes included, without interpreting escapes beyond
// skipping the escaped character; json.Unmarshal or plainString judges it afterwards.
func (p *fastParser) str() ([]byte, bool) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, false
	}
	start := p.i
	for i := p.i + 1; i < len(p.b); i++ {
		switch p.b[i] {
		case '\\':
			i++
		case '"':
			p.i = i + 1
			return p.b[start:p.i], true
		}
	}
	return nil, false
}

// number accepts JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *fastParser) number() bool {
	b, i := p.b, p.i
	digits := func() bool {
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > s
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if !digits() {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	p.i = i
	return true
}

// keyOf is the value of a quoted object key.
func keyOf(raw []byte) (string, bool) {
	if plainString(raw) {
		return string(raw[1 : len(raw)-1]), true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// plainString reports whether a quoted JSON string is written exactly as encoding/json (without
// HTML escaping) writes its value: no escapes, no control characters, valid UTF-8, and neither
// U+2028 nor U+2029 (which encoding/json always escapes).
func plainString(raw []byte) bool {
	s := raw[1 : len(raw)-1]
	ascii := true
	for len(s) >= 8 && plainWord(binary.LittleEndian.Uint64(s)) {
		s = s[8:]
	}
	for _, c := range s {
		if c < 0x20 || c == '\\' || c == '"' {
			return false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	if ascii {
		return true
	}
	s = raw[1 : len(raw)-1]
	return utf8.Valid(s) && !bytes.Contains(s, []byte("\u2028")) && !bytes.Contains(s, []byte("\u2029"))
}

// appendString appends s as encoding/json writes it without HTML escaping: quotes and
// backslashes escaped, valid UTF-8 other than U+2028 and U+2029 as it is. Anything else (control
// characters, invalid UTF-8, the two separators) takes encoding/json's own path.
func appendString(b []byte, s string) []byte {
	at := len(b)
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight plain ASCII bytes at a time: JWS and base64 text are nothing else.
		for i+8 <= len(s) && plainWord(uint64(s[i])|uint64(s[i+1])<<8|uint64(s[i+2])<<16|uint64(s[i+3])<<24|
			uint64(s[i+4])<<32|uint64(s[i+5])<<40|uint64(s[i+6])<<48|uint64(s[i+7])<<56) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			if c < 0x20 {
				return append(b[:at], marshalString(s)...)
			}
			b = append(b, s[start:i]...)
			b = append(b, '\\', c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return append(b[:at], marshalString(s)...)
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendIndented appends the JSON encoding of v indented as json.Indent does with the given
// prefix and an indent of two spaces, without HTML escaping.
func appendIndented(b []byte, v any, prefix string) ([]byte, error) {
	var compact bytes.Buffer
	enc := json.NewEncoder(&compact)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, bytes.TrimRight(compact.Bytes(), "\n"), prefix, "  "); err != nil {
		return nil, err
	}
	return append(b, out.Bytes()...), nil
}

// appendIndentedNode appends n as json.Indent writes its compact form (AppendJSON), with the
// given prefix before every line but the first.
func (n *Node) appendIndented(b []byte, prefix string) []byte {
	switch n.Kind {
	case NodeObject:
		if len(n.Members) == 0 {
			return append(b, '{', '}')
		}
		b = append(b, '{')
		inner := prefix + "  "
		for i, m := range n.Members {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '\n')
			b = append(b, inner...)
			b = appendString(b, m.Key)
			b = append(b, ':', ' ')
			b = m.Value.appendIndented(b, inner)
		}
		b = append(b, '\n')
		b = append(b, prefix...)
		return append(b, '}')
	case NodeArray:
		if len(n.Elems) == 0 {
			return append(b, '[', ']')
		}
		b = append(b, '[')
		inner := prefix + "  "
		for i, e := range n.Elems {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '\n')
			b = append(b, inner...)
			b = e.appendIndented(b, inner)
		}
		b = append(b, '\n')
		b = append(b, prefix...)
		return append(b, ']')
	}
	return append(b, n.Raw...)
}
