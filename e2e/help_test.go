package e2e

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// helpOf runs `s2s ARGS... --help` with COLUMNS set and returns its output.
func helpOf(t *testing.T, dir, columns string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary, append(args, "--help")...)
	cmd.Env = append(Env(dir), "COLUMNS="+columns)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("s2s %s --help: %v: %s", strings.Join(args, " "), err, stderrOf(err))
	}
	return string(out)
}

// subcommands reads the command names a help output lists: the rows of its command sections.
func subcommands(help string) []string {
	var names []string
	section := ""
	for _, line := range strings.Split(help, "\n") {
		if line != "" && line == strings.ToUpper(line) && !strings.HasPrefix(line, " ") {
			section = line
			continue
		}
		switch section {
		case "", "USAGE", "ALIASES", "EXAMPLES", "FLAGS", "GLOBAL FLAGS":
			continue
		}
		if strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") {
			names = append(names, strings.Fields(line)[0])
		}
	}
	return names
}

// TestHelpFitsEightyColumns: `s2s --help` and the help of every command and subcommand, at
// COLUMNS=80, has no line wider than 80 columns and none ending in spaces (help used to be wrapped
// at the source's 100 columns, padded to 120, and folded again by the terminal mid-word).
func TestHelpFitsEightyColumns(t *testing.T) {
	dir := t.TempDir()
	seen := map[string]bool{}
	var walk func(path []string)
	walk = func(path []string) {
		key := strings.Join(path, " ")
		if seen[key] {
			return
		}
		seen[key] = true
		help := helpOf(t, dir, "80", path...)
		for i, line := range strings.Split(help, "\n") {
			if n := utf8.RuneCountInString(line); n > 80 {
				t.Errorf("s2s %s --help, line %d is %d columns: %q", key, i+1, n, line)
			}
			if strings.TrimRight(line, " \t") != line {
				t.Errorf("s2s %s --help, line %d ends in spaces: %q", key, i+1, line)
			}
		}
		for _, sub := range subcommands(help) {
			if sub != "help" {
				walk(append(append([]string(nil), path...), sub))
			}
		}
	}
	walk(nil)
	// The walk found the tree: top-level commands and the subcommands below them.
	for _, want := range []string{"listen", "decode", "send-test", "probe", "replay", "history", "version",
		"captures list", "captures show", "completion bash"} {
		if !seen[want] {
			t.Errorf("the help walk never reached %q (reached %d commands)", want, len(seen))
		}
	}
	// Wider screens get longer lines, up to a readable measure: the width is the screen's, not
	// the source's.
	wide := helpOf(t, dir, "100", "send-test")
	longest := 0
	for _, line := range strings.Split(wide, "\n") {
		longest = max(longest, utf8.RuneCountInString(line))
	}
	if longest <= 80 || longest > 100 {
		t.Errorf("at COLUMNS=100 the longest help line is %d columns, want 81..100", longest)
	}
}
