package main

import (
	"go/build"
	"strings"
	"testing"
)

// TestPackageGraph keeps the package graph without back-edges: decode is the vocabulary every
// package uses and imports none of them; store knows nothing of who fills or shows it; relay
// meets the receiver only through the events package; the TUI never reaches into cmd.
func TestPackageGraph(t *testing.T) {
	const module = "github.com/s2s-dev/s2s/"
	for _, tc := range []struct {
		dir       string
		forbidden []string // "" forbids every package of the module
	}{
		{"decode", []string{""}},
		{"store", []string{"receiver", "relay", "tui", "tunnel", "probe", "cmd"}},
		{"relay", []string{"receiver", "tui", "cmd"}},
		{"tui", []string{"cmd"}},
		{"events", []string{"receiver", "relay", "tui", "cmd"}},
	} {
		pkg, err := build.Default.ImportDir(tc.dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range pkg.Imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			for _, f := range tc.forbidden {
				if f == "" || imp == module+f || strings.HasPrefix(imp, module+f+"/") {
					t.Errorf("%s imports %s", tc.dir, imp)
				}
			}
		}
	}
}
