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
		lines := strings.Split(help, "\n")
		for i, line := range lines {
			if n := utf8.RuneCountInString(line); n > 80 {
				t.Errorf("s2s %s --help, line %d is %d columns: %q", key, i+1, n, line)
			}
			// An example wraps between options, never between a flag and its value
			// ("--environment \" then "Production").
			if f := strings.Fields(line); len(f) >= 2 && f[len(f)-1] == `\` && strings.HasPrefix(f[len(f)-2], "-") && i+1 < len(lines) {
				if next := strings.Fields(lines[i+1]); len(next) > 0 && !strings.HasPrefix(next[0], "-") {
					t.Errorf("s2s %s --help, line %d parts a flag from its value: %q / %q", key, i+1, line, lines[i+1])
				}
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
	// The forwarding rules' examples line their descriptions up in one column, measured in columns
	// ("https://…" is one column wider than "https://", not three).
	starts := map[int][]string{}
	for _, line := range strings.Split(helpOf(t, dir, "80", "listen"), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.Contains(f[0], "=>") && strings.HasPrefix(line, "    ") {
			end := strings.Index(line, f[0]) + len(f[0])
			desc := end + strings.Index(line[end:], f[1])
			n := utf8.RuneCountInString(line[:desc])
			starts[n] = append(starts[n], line)
		}
	}
	if len(starts) != 1 {
		t.Errorf("listen --help: the --forward-to rules examples' descriptions start at %d different columns: %v", len(starts), starts)
	}
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

// commandTree lists every command path the help reaches ("captures show", "completion bash"...).
func commandTree(t *testing.T, dir string) [][]string {
	t.Helper()
	var paths [][]string
	seen := map[string]bool{}
	var walk func(path []string)
	walk = func(path []string) {
		key := strings.Join(path, " ")
		if seen[key] {
			return
		}
		seen[key] = true
		if len(path) > 0 {
			paths = append(paths, path)
		}
		for _, sub := range subcommands(helpOf(t, dir, "80", path...)) {
			if sub != "help" {
				walk(append(append([]string(nil), path...), sub))
			}
		}
	}
	walk(nil)
	return paths
}

// TestUsageErrorsInOwnWords: cobra's generic messages never reach the user. Every command, given
// arguments it does not take, and the flag-group conflicts, answer in s2s's own sentences, exit 2.
func TestUsageErrorsInOwnWords(t *testing.T) {
	dir := t.TempDir()
	cobraWords := []string{"arg(s)", "flags in the group", "required flag(s)"}
	for _, path := range commandTree(t, dir) {
		// Too many arguments for any command (without arguments, listen would start listening).
		args := append(append([]string(nil), path...), "x1", "x2", "x3", "x4", "x5", "x6", "x7")
		code, _, stderr := s2sIn(t, dir, nil, args...)
		for _, w := range cobraWords {
			if strings.Contains(stderr, w) {
				t.Errorf("s2s %s: exit %d, cobra's words %q: %s", strings.Join(args, " "), code, w, stderr)
			}
		}
		// A command without subcommands is not asked for an "unknown command".
		if strings.Contains(stderr, `unknown command "x1" for "s2s `+strings.Join(path, " ")+`"`) && !strings.Contains(helpOf(t, dir, "80", path...), "\nCOMMANDS\n") {
			t.Errorf("s2s %s: %s", strings.Join(args, " "), stderr)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"decode", "--at", "2026-01-01T00:00:00Z", "--now", "x"}, "s2s: --at and --now cannot be used together: give one of them\n"},
		{[]string{"captures", "show"}, "s2s: captures show takes 1 argument (ID); none given\n"},
		{[]string{"send-test", "--type", "TEST", "--all"}, "s2s: --all and --type cannot be used together: give one of them\n"},
		{[]string{"version", "extra"}, "s2s: version takes no arguments; 1 given: \"extra\"\n"},
		// A flag value that does not parse: what the flag takes, not Go's parser's error.
		{[]string{"captures", "list", "--limit", "abc"}, "s2s: invalid --limit \"abc\": use a whole number\n"},
		{[]string{"send-test", "-n", "x"}, "s2s: invalid --count \"x\": use a whole number\n"},
		{[]string{"probe", "--timeout", "5", "https://127.0.0.1/"}, "s2s: invalid --timeout \"5\": use a duration with its unit: 500ms, 10s, 2m, 1h\n"},
		{[]string{"send-test", "--realtime"}, "s2s: --realtime needs a value\n"},
	} {
		code, _, stderr := s2sIn(t, dir, nil, tc.args...)
		if code != 2 || !strings.HasPrefix(stderr, tc.want) {
			t.Errorf("s2s %s: exit %d, stderr %q, want exit 2 and %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
}

// TestRootHelpGroups: `s2s --help` lists history, subscription and connect apart from the
// simulations: they call Apple's real APIs (connect changes the app's notification URL), and
// used to be listed under "SIMULATE APPLE".
func TestRootHelpGroups(t *testing.T) {
	section := map[string]string{}
	cur := ""
	for _, line := range strings.Split(helpOf(t, t.TempDir(), "80"), "\n") {
		if line != "" && line == strings.ToUpper(line) && !strings.HasPrefix(line, " ") {
			cur = line
			continue
		}
		if strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") {
			section[strings.Fields(line)[0]] = cur
		}
	}
	for _, c := range []string{"send-test", "probe", "replay"} {
		if !strings.Contains(section[c], "SIMULATE") {
			t.Errorf("%s is under %q, want the simulations", c, section[c])
		}
	}
	for _, c := range []string{"history", "subscription", "connect"} {
		if s := section[c]; s == "" || strings.Contains(s, "SIMULATE") {
			t.Errorf("%s is under %q: it calls Apple's real API, not a simulation", c, s)
		}
	}
}
