package cmd

import (
	"encoding/json"
	"io"
)

// jsonEncoder is the encoder of every JSON output (documents and JSON lines alike): strings are
// written exactly, without Go's HTML escaping of <, > and &, so a payload's text reads the same in
// every command's output.
func jsonEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// writeJSON writes v as one indented JSON document and a newline.
func writeJSON(w io.Writer, v any) error {
	enc := jsonEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
