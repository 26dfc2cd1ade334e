package decode

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bodies and payloads are read as Apple's libraries and the developer's server read them: exact,
// case-sensitive keys, each once. Go's encoding/json is not such a reader on its own: it matches a
// key to a struct field whatever its case (and folds Unicode: "ſ" reads as "s") and keeps the last
// of duplicate keys, while JSON.parse, Python's json and most servers take the exact key. A body
// or payload that two readers could read differently is never labelled verified: checkJSON finds
// every such ambiguity before encoding/json fills the typed structs.

// maxJSONDepth bounds nesting, as encoding/json does.
const maxJSONDepth = 10000

// schema is what s2s reads of one JSON object: the exact names of the fields the typed structs
// decode, each with the schema of its value (nil: not an object s2s looks into), and the same
// names folded the way encoding/json folds them, to catch a key that only differs by case.
type schema struct {
	fields map[string]*schema
	folded map[string]string // foldKey(name) → name
}

// schemaOf derives the schema of the struct a type decodes into from its json tags, so the
// check cannot drift from the structs.
func schemaOf(t reflect.Type) *schema {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	s := &schema{fields: map[string]*schema{}, folded: map[string]string{}}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s.add(name, schemaOf(f.Type))
	}
	return s
}

func (s *schema) add(name string, child *schema) {
	s.fields[name] = child
	s.folded[string(appendFoldKey(nil, []byte(name)))] = name
}

var (
	notificationSchema   = schemaOf(reflect.TypeFor[Notification]())
	transactionSchema    = schemaOf(reflect.TypeFor[Transaction]())
	renewalInfoSchema    = schemaOf(reflect.TypeFor[RenewalInfo]())
	appTransactionSchema = schemaOf(reflect.TypeFor[AppTransaction]())
	// bodySchema is the top level of an HTTP body: signedPayload (version 2) or the fields of a
	// version 1 notification.
	bodySchema = func() *schema {
		s := schemaOf(reflect.TypeFor[NotificationV1]())
		s.add("signedPayload", nil)
		return s
	}()
)

// schemaFor is the schema of a signed payload of kind k; nil when the kind is not known yet.
func schemaFor(k Kind) *schema {
	switch k {
	case KindNotification:
		return notificationSchema
	case KindTransaction:
		return transactionSchema
	case KindRenewalInfo:
		return renewalInfoSchema
	case KindAppTransaction:
		return appTransactionSchema
	case KindRealtimeRequest:
		return realtimeRequestSchema
	}
	return nil
}

// appendFoldKey folds a key exactly as encoding/json matches keys to fields: ASCII letters to
// upper case, any other rune to ToUpper(ToLower(r)), so "ſ" (U+017F) and "s" fold alike.
func appendFoldKey(out, in []byte) []byte {
	for i := 0; i < len(in); {
		if c := in[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(in[i:])
		out = utf8.AppendRune(out, unicode.ToUpper(unicode.ToLower(r)))
		i += n
	}
	return out
}

// jsonScanner checks one JSON document strictly: RFC 8259 grammar, valid UTF-8, no duplicate key
// in any object, and, where a schema says which fields s2s reads, no key that differs from one of
// them only by case or folding. top, when set, sees each member of the top-level object.
type jsonScanner struct {
	b     []byte
	i     int
	where string // "the body", "the notification payload", ... for messages
	top   func(key, value []byte)
	// signals collects what the top-level keys say of the payload's kind.
	signals kindSignals
}

// jsonError is a sentence with the keys leading to the offending value in its middle; the path
// is filled in as the error returns through the objects that hold it, so a document that has no
// error costs nothing for it.
type jsonError struct {
	before, after string
	path          []string
}

func (e *jsonError) Error() string {
	if len(e.path) == 0 {
		return e.before + e.after
	}
	return e.before + " (in " + strings.Join(e.path, ".") + ")" + e.after
}

// checkJSON runs the strict check over b and returns what its top-level keys say of its kind.
// The error is a sentence for the format class.
func checkJSON(b []byte, where string, s *schema, top func(key, value []byte)) (kindSignals, error) {
	sc := jsonScanner{b: b, where: where, top: top}
	sc.ws()
	if err := sc.value(s, 0); err != nil {
		return 0, err
	}
	sc.ws()
	if sc.i != len(b) {
		return 0, sc.syntax("data after the end of the JSON value")
	}
	return sc.signals, nil
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jsonScanner) syntax(what string) error {
	return &jsonError{before: fmt.Sprintf("%s is not valid JSON: %s at byte %d", s.where, what, s.i)}
}

func (s *jsonScanner) value(sch *schema, depth int) error {
	if depth > maxJSONDepth {
		return s.syntax("nested too deeply")
	}
	if s.i >= len(s.b) {
		return s.syntax("unexpected end")
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(sch, depth)
	case c == '[':
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return nil
		}
		for {
			s.ws()
			if err := s.value(sch, depth+1); err != nil {
				return err
			}
			s.ws()
			if s.i >= len(s.b) {
				return s.syntax("unterminated array")
			}
			switch s.b[s.i] {
			case ',':
				s.i++
			case ']':
				s.i++
				return nil
			default:
				return s.syntax(fmt.Sprintf("unexpected %q in an array", s.b[s.i]))
			}
		}
	case c == '"':
		_, _, err := s.str()
		return err
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return s.syntax(fmt.Sprintf("unexpected %q", s.b[s.i]))
}

func (s *jsonScanner) literal(word string) error {
	if !bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		return s.syntax("invalid literal")
	}
	s.i += len(word)
	return nil
}

func (s *jsonScanner) number() error {
	b, i := s.b, s.i
	digits := func() bool {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > start
	}
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return s.syntax("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return s.syntax("invalid number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return s.syntax("invalid number")
		}
	}
	s.i = i
	return nil
}

// plainByte marks the bytes a JSON string holds as they are: not the quote, the backslash, a
// control character or the start of a multi-byte UTF-8 sequence.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str reads the string at s.i and returns its raw content (between the quotes) and whether it
// holds escapes.
func (s *jsonScanner) str() (raw []byte, escaped bool, err error) {
	b := s.b
	start := s.i + 1
	for i := start; i < len(b); {
		// Eight plain bytes at a time: most of a payload is the base64 of nested JWS.
		for i+8 <= len(b) && plainWord(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		if plainByte[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			s.i = i + 1
			return b[start:i], escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				s.i = i
				return nil, false, s.syntax("unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					s.i = i
					return nil, false, s.syntax(`invalid \u escape`)
				}
				i += 6
			default:
				s.i = i
				return nil, false, s.syntax("invalid escape in a string")
			}
		case c < 0x20:
			s.i = i
			return nil, false, s.syntax("control character in a string")
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				s.i = i
				return nil, false, &jsonError{before: fmt.Sprintf("%s is not valid UTF-8 at byte %d", s.where, i), after: ": readers repair or reject such bytes differently"}
			}
			i += n
		}
	}
	s.i = len(b)
	return nil, false, s.syntax("unterminated string")
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plainWord reports whether all eight bytes of x are plain (see plainByte): none below 0x20, at
// or above 0x80, a quote or a backslash.
func plainWord(x uint64) bool {
	hasZero := func(v uint64) bool { return (v-ones)&^v&highs != 0 }
	below20 := (x-ones*0x20)&^x&highs != 0
	return x&highs == 0 && !below20 && !hasZero(x^(ones*'"')) && !hasZero(x^(ones*'\\'))
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// smallObject is how many keys an object may have before duplicates are found with a map.
const smallObject = 32

func (s *jsonScanner) object(sch *schema, depth int) error {
	s.i++ // '{'
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	var seen seenKeys
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return s.syntax("expected a key")
		}
		raw, escaped, err := s.str()
		if err != nil {
			return err
		}
		key := raw
		if escaped {
			if key, err = s.unescapeKey(raw); err != nil {
				return err
			}
		}
		if seen.add(key) {
			return &jsonError{before: fmt.Sprintf("the key %q appears twice in %s", key, s.where), after: ": JSON readers disagree on duplicates (some keep the last, some the first, some refuse the object), so it does not say one thing to every reader"}
		}
		child, err := s.field(sch, key)
		if err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return s.syntax("expected ':' after a key")
		}
		s.i++
		s.ws()
		start := s.i
		if err := s.value(child, depth+1); err != nil {
			if je := (*jsonError)(nil); errors.As(err, &je) {
				je.path = append([]string{string(key)}, je.path...)
			}
			return err
		}
		if depth == 0 {
			s.signals |= kindSignalOf[string(key)]
			if s.top != nil {
				s.top(key, s.b[start:s.i])
			}
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.syntax("unterminated object")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.syntax(fmt.Sprintf("unexpected %q in an object", s.b[s.i]))
		}
	}
}

// seenKeys are the keys of one object so far: the first smallObject are compared one by one
// (no allocation for Apple's objects), more go into a map.
type seenKeys struct {
	small [smallObject][]byte
	n     int
	many  map[string]bool
}

// add records key and reports whether it was there already.
func (k *seenKeys) add(key []byte) (dup bool) {
	if k.many != nil {
		dup = k.many[string(key)]
		k.many[string(key)] = true
		return dup
	}
	for _, seen := range k.small[:k.n] {
		if bytes.Equal(seen, key) {
			return true
		}
	}
	k.small[k.n] = key
	k.n++
	if k.n == smallObject {
		k.many = make(map[string]bool, 2*smallObject)
		for _, seen := range k.small[:k.n] {
			k.many[string(seen)] = true
		}
	}
	return false
}

// field is the schema of key's value in an object of schema sch (nil: any value). A key that
// matches one of sch's fields only by case or Unicode folding is an error: Go's encoding/json
// would read it as that field, exact-key readers would not.
func (s *jsonScanner) field(sch *schema, key []byte) (*schema, error) {
	if sch == nil {
		return nil, nil
	}
	if child, ok := sch.fields[string(key)]; ok {
		return child, nil
	}
	var buf [64]byte
	if name, ok := sch.folded[string(appendFoldKey(buf[:0], key))]; ok {
		return nil, &jsonError{before: fmt.Sprintf("%s has the key %q, which differs from %q only by case or Unicode folding", s.where, key, name),
			after: fmt.Sprintf(": Go's encoding/json would read it as %s, exact-key readers (Apple's libraries, Node, Python, your server) would not", name)}
	}
	return nil, nil
}

// unescapeKey decodes a key's escapes. A lone UTF-16 surrogate is refused: encoding/json turns
// it into U+FFFD, other readers keep it, so two different keys could be one to Go.
func (s *jsonScanner) unescapeKey(raw []byte) ([]byte, error) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		if raw[i] != '\\' {
			out = append(out, raw[i])
			i++
			continue
		}
		if c := raw[i+1]; c != 'u' {
			// str has checked the escape is one of these.
			switch c {
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			}
			out = append(out, c) // '"', '\\' and '/' stand for themselves
			i += 2
			continue
		}
		r := hexRune(raw[i+2 : i+6])
		i += 6
		if utf16IsSurrogate(r) {
			if r >= 0xDC00 || i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
				return nil, &jsonError{before: s.where + " has a key with a lone UTF-16 surrogate escape", after: ": readers decode it differently"}
			}
			lo := hexRune(raw[i+2 : i+6])
			if lo < 0xDC00 || lo > 0xDFFF {
				return nil, &jsonError{before: s.where + " has a key with a lone UTF-16 surrogate escape", after: ": readers decode it differently"}
			}
			r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
			i += 6
		}
		out = utf8.AppendRune(out, r)
	}
	return out, nil
}

func hexRune(b []byte) rune {
	n, _ := strconv.ParseUint(string(b), 16, 32)
	return rune(n)
}

func utf16IsSurrogate(r rune) bool { return r >= 0xD800 && r <= 0xDFFF }

// Body is what an HTTP notification body holds, read with exact keys.
type Body struct {
	// SignedPayload is the compact JWS of a version 2 body; nil for a version 1 body.
	SignedPayload []byte
	// V1 is set for a version 1 body (a JSON object with notification_type).
	V1 bool
}

// ReadBody reads an HTTP notification body the way Apple writes it and exact-key readers read it:
// one JSON object that is either {"signedPayload": "<JWS>"} and nothing else (version 2) or a
// version 1 object with notification_type. A duplicate key, a key that differs from a documented
// one only by case or folding, any other key beside signedPayload, or anything that is not one
// JSON object is an error, a sentence saying why. Every reader of bodies uses it (decode, the
// receiver, replay's re-signing), so all of them read the same JWS as the developer's server.
//
// Apple's exact shape is recognised without a JSON pass; anything else gets the strict one.
func ReadBody(body []byte) (Body, error) {
	if jws, ok := plainBody(body); ok {
		return Body{SignedPayload: jws}, nil
	}
	var (
		payload    []byte
		hasPayload bool
		hasV1      bool
		other      []byte
	)
	t := bytes.Trim(body, " \t\r\n")
	if len(t) == 0 {
		return Body{}, errors.New("the body is empty")
	}
	if t[0] != '{' {
		return Body{}, errors.New(`the body is not a JSON object: Apple sends {"signedPayload": "<JWS>"} (or a version 1 JSON object)`)
	}
	_, err := checkJSON(body, "the body", bodySchema, func(key, value []byte) {
		switch string(key) {
		case "signedPayload":
			payload, hasPayload = value, true
		case "notification_type":
			hasV1 = true
		default:
			if other == nil {
				other = key
			}
		}
	})
	if err != nil {
		return Body{}, err
	}
	switch {
	case hasPayload && hasV1:
		return Body{}, errors.New("the body has both signedPayload (version 2) and notification_type (version 1): readers would disagree on what it is")
	case hasPayload && other != nil:
		return Body{}, fmt.Errorf(`the body has the key %q beside signedPayload: Apple's version 2 body is exactly {"signedPayload": "<JWS>"}, so this one was not sent by Apple as it is`, other)
	case hasPayload:
		var s string
		if value := bytes.TrimSpace(payload); len(value) == 0 || value[0] != '"' || json.Unmarshal(value, &s) != nil {
			return Body{}, errors.New("signedPayload is not a string")
		}
		return Body{SignedPayload: []byte(s)}, nil
	case hasV1:
		return Body{V1: true}, nil
	}
	return Body{}, errors.New("the JSON object has neither signedPayload (version 2) nor notification_type (version 1): it is not an App Store notification body")
}
