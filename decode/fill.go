package decode

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// fillPayload is the fast path of json.Unmarshal for a signed payload that checkJSON has
// accepted (valid JSON, exact keys, no duplicates): it fills dst, a pointer to a zero struct,
// with exactly what json.Unmarshal would put there, without encoding/json's second validation
// pass and its reflection-driven tokenizer, which cost more than the strict scan itself. It
// handles the plain shapes Apple sends (strings without escapes, whole numbers, booleans,
// objects of known structs, arrays of strings); on anything else (an escape, a value of a type
// its field does not take, a fraction, an array of objects, a type it has no plan for) it
// returns false, and the caller discards dst's contents and calls json.Unmarshal, which gives
// the canonical value or error. The tests compare the two on every vector and under fuzzing.
func fillPayload(b []byte, dst any) bool {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return false
	}
	p := planOf(rv.Type().Elem())
	if p == nil {
		return false
	}
	f := filler{b: b}
	f.ws()
	if f.i >= len(b) || b[f.i] != '{' {
		return false
	}
	if !f.object(p, rv.Elem(), 0) {
		return false
	}
	f.ws()
	return f.i == len(b)
}

// fieldKind is how fillPayload stores one JSON value in a field.
type fieldKind uint8

const (
	kindFallback  fieldKind = iota // a type fillPayload leaves to encoding/json
	kindString                     // string, or a named string type without JSON methods
	kindInt                        // a signed integer type without JSON methods
	kindMillis                     // Millis (its UnmarshalJSON, for whole numbers and null)
	kindBool                       // bool
	kindIntPtr                     // *int and the like
	kindBoolPtr                    // *bool
	kindStructPtr                  // a pointer to a struct with a plan
	kindStrings                    // a slice of a string type
)

type fillField struct {
	index int
	kind  fieldKind
	elem  *fillPlan // kindStructPtr
}

// fillPlan is how fillPayload fills one struct type: its fields by exact JSON name.
type fillPlan struct {
	fields map[string]fillField
}

var (
	fillPlansMu sync.Mutex
	fillPlans   = map[reflect.Type]*fillPlan{}

	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	millisType      = reflect.TypeFor[Millis]()
)

// planOf returns the plan of struct type t, nil when fillPayload does not handle t at all.
func planOf(t reflect.Type) *fillPlan {
	fillPlansMu.Lock()
	defer fillPlansMu.Unlock()
	return planLocked(t, 0)
}

func planLocked(t reflect.Type, depth int) *fillPlan {
	if p, ok := fillPlans[t]; ok {
		return p
	}
	if t.Kind() != reflect.Struct || depth > 8 || hasJSONMethods(t) {
		return nil
	}
	p := &fillPlan{fields: map[string]fillField{}}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return nil // embedded structs promote fields: leave those rules to encoding/json
		}
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		if _, dup := p.fields[name]; dup {
			return nil
		}
		f := fillField{index: i, kind: kindOf(sf.Type)}
		if f.kind == kindStructPtr {
			if f.elem = planLocked(sf.Type.Elem(), depth+1); f.elem == nil {
				f.kind = kindFallback
			}
		}
		if strings.Contains(","+opts+",", ",string,") {
			f.kind = kindFallback
		}
		p.fields[name] = f
	}
	fillPlans[t] = p
	return p
}

func hasJSONMethods(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler)
}

func kindOf(t reflect.Type) fieldKind {
	if t == millisType {
		return kindMillis
	}
	if hasJSONMethods(t) {
		return kindFallback
	}
	switch t.Kind() {
	case reflect.String:
		return kindString
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return kindInt
	case reflect.Bool:
		return kindBool
	case reflect.Pointer:
		e := t.Elem()
		if hasJSONMethods(e) || e.Kind() == reflect.Pointer {
			return kindFallback
		}
		switch e.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return kindIntPtr
		case reflect.Bool:
			return kindBoolPtr
		case reflect.Struct:
			return kindStructPtr
		}
	case reflect.Slice:
		if e := t.Elem(); e.Kind() == reflect.String && !hasJSONMethods(e) {
			return kindStrings
		}
	}
	return kindFallback
}

// filler walks JSON that checkJSON has already accepted (its grammar, its UTF-8, its keys); it
// gives up (false) on anything it does not expect rather than guess.
type filler struct {
	b []byte
	i int
}

func (f *filler) ws() {
	for f.i < len(f.b) {
		switch f.b[f.i] {
		case ' ', '\t', '\n', '\r':
			f.i++
		default:
			return
		}
	}
}

// str reads a string without escapes and returns its content; false for any escape. Without a
// backslash before it, the first quote ends the string; checkJSON has refused control
// characters and invalid UTF-8, so the content is the string's value as it is.
func (f *filler) str() ([]byte, bool) {
	if f.i >= len(f.b) || f.b[f.i] != '"' {
		return nil, false
	}
	start := f.i + 1
	end := bytes.IndexByte(f.b[start:], '"')
	if end < 0 {
		return nil, false
	}
	s := f.b[start : start+end]
	if bytes.IndexByte(s, '\\') >= 0 {
		return nil, false
	}
	f.i = start + end + 1
	return s, true
}

// integer reads a JSON number that is a whole number in int64's range without a fraction or
// exponent.
func (f *filler) integer() (int64, bool) {
	i := f.i
	neg := i < len(f.b) && f.b[i] == '-'
	if neg {
		i++
	}
	start := i
	var n uint64
	for i < len(f.b) && f.b[i] >= '0' && f.b[i] <= '9' {
		if i-start >= 18 {
			return 0, false // 19 digits and more may overflow: encoding/json decides
		}
		n = n*10 + uint64(f.b[i]-'0')
		i++
	}
	if i == start {
		return 0, false
	}
	if i < len(f.b) {
		switch f.b[i] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	f.i = i
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}

func (f *filler) literal(word string) bool {
	if len(f.b)-f.i < len(word) {
		return false
	}
	for k := range len(word) {
		if f.b[f.i+k] != word[k] {
			return false
		}
	}
	f.i += len(word)
	return true
}

// skip passes over one value of a key no field takes, checking it as the strict scanner does.
func (f *filler) skip(depth int) bool {
	s := jsonScanner{b: f.b, i: f.i, where: "the payload"}
	if err := s.value(nil, depth); err != nil {
		return false
	}
	f.i = s.i
	return true
}

func (f *filler) object(p *fillPlan, v reflect.Value, depth int) bool {
	f.i++ // '{'
	f.ws()
	if f.i < len(f.b) && f.b[f.i] == '}' {
		f.i++
		return true
	}
	for {
		f.ws()
		key, ok := f.str()
		if !ok {
			return false
		}
		f.ws()
		if f.i >= len(f.b) || f.b[f.i] != ':' {
			return false
		}
		f.i++
		f.ws()
		if fld, ok := p.fields[string(key)]; ok {
			if !f.field(fld, v.Field(fld.index), depth+1) {
				return false
			}
		} else if !f.skip(depth + 1) {
			return false
		}
		f.ws()
		if f.i >= len(f.b) {
			return false
		}
		switch f.b[f.i] {
		case ',':
			f.i++
		case '}':
			f.i++
			return true
		default:
			return false
		}
	}
}

func (f *filler) field(fld fillField, v reflect.Value, depth int) bool {
	if f.i >= len(f.b) {
		return false
	}
	if f.b[f.i] == 'n' {
		// null leaves every kind here as it is (a zero value), as json.Unmarshal does; Millis's
		// UnmarshalJSON does the same.
		return fld.kind != kindFallback && f.literal("null")
	}
	switch fld.kind {
	case kindString:
		s, ok := f.str()
		if !ok {
			return false
		}
		v.SetString(string(s))
		return true
	case kindInt, kindMillis:
		n, ok := f.integer()
		if !ok || v.OverflowInt(n) {
			return false
		}
		v.SetInt(n)
		return true
	case kindIntPtr:
		n, ok := f.integer()
		if !ok {
			return false
		}
		e := reflect.New(v.Type().Elem())
		if e.Elem().OverflowInt(n) {
			return false
		}
		e.Elem().SetInt(n)
		v.Set(e)
		return true
	case kindBool, kindBoolPtr:
		var b bool
		switch {
		case f.literal("true"):
			b = true
		case f.literal("false"):
		default:
			return false
		}
		if fld.kind == kindBool {
			v.SetBool(b)
			return true
		}
		e := reflect.New(v.Type().Elem())
		e.Elem().SetBool(b)
		v.Set(e)
		return true
	case kindStructPtr:
		if f.b[f.i] != '{' {
			return false
		}
		e := reflect.New(v.Type().Elem())
		if !f.object(fld.elem, e.Elem(), depth) {
			return false
		}
		v.Set(e)
		return true
	case kindStrings:
		return f.strings(v)
	}
	return false
}

// strings fills a slice of strings; [] gives an empty slice, not nil, as json.Unmarshal does.
func (f *filler) strings(v reflect.Value) bool {
	if f.b[f.i] != '[' {
		return false
	}
	f.i++
	var items []string
	f.ws()
	if f.i < len(f.b) && f.b[f.i] == ']' {
		f.i++
	} else {
		for {
			f.ws()
			s, ok := f.str()
			if !ok {
				return false
			}
			items = append(items, string(s))
			f.ws()
			if f.i >= len(f.b) {
				return false
			}
			if f.b[f.i] == ']' {
				f.i++
				break
			}
			if f.b[f.i] != ',' {
				return false
			}
			f.i++
		}
	}
	out := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, s := range items {
		out.Index(i).SetString(s)
	}
	v.Set(out)
	return true
}

// unmarshalPayload reads a payload checkJSON has accepted into dst, a pointer to a zero struct:
// with fillPayload, or, when the fast path gives up, with json.Unmarshal into a fresh value (so
// what dst holds is one reader's reading, never a mix of both). The error is json.Unmarshal's.
func unmarshalPayload(b []byte, dst any) error {
	if fillPayload(b, dst) {
		return nil
	}
	reflect.ValueOf(dst).Elem().SetZero()
	return json.Unmarshal(b, dst)
}
