package appstoreconnect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// objectFields reads a JSON object into its members with exact, case-sensitive keys (Go's
// encoding/json matches struct fields case-insensitively) and refuses a key given twice, so an
// ambiguous answer is an error rather than whichever copy a decoder happens to keep.
func objectFields(raw []byte) (map[string]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("the key %q appears twice", key)
		}
		out[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("data after the JSON object")
	}
	return out, nil
}

// stringField reads fields[key] as a JSON string; null or absent is "" with ok false.
func stringField(fields map[string]json.RawMessage, key string) (s string, ok bool, err error) {
	raw, present := fields[key]
	if !present || string(bytes.TrimSpace(raw)) == "null" {
		return "", false, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, fmt.Errorf("%s: not a string", key)
	}
	return s, true, nil
}
