package cmd

import (
	"bytes"
	"testing"
)

// Every JSON output writes strings exactly: probe's escaped <, > and & as \u003c…, the store's did
// not.
func TestJSONOutputsKeepStringsExact(t *testing.T) {
	var doc, line bytes.Buffer
	if err := writeJSON(&doc, map[string]string{"reason": "<html> & more"}); err != nil {
		t.Fatal(err)
	}
	if err := jsonEncoder(&line).Encode(map[string]string{"reason": "<html> & more"}); err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"reason\": \"<html> & more\"\n}\n"; doc.String() != want {
		t.Errorf("writeJSON = %q, want %q", doc.String(), want)
	}
	if want := "{\"reason\":\"<html> & more\"}\n"; line.String() != want {
		t.Errorf("jsonEncoder = %q, want %q", line.String(), want)
	}
}
