package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

func runArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := TestIO()
	// Every path s2s derives lives in the test's own directory, never in the real home.
	dir := t.TempDir()
	vars := map[string]string{
		"HOME": dir, "XDG_DATA_HOME": filepath.Join(dir, "data"), "XDG_CONFIG_HOME": filepath.Join(dir, "config"),
		"XDG_STATE_HOME": filepath.Join(dir, "state"), "S2S_CONFIG_DIR": filepath.Join(dir, "config", "s2s"),
		"S2S_STATE_DIR": filepath.Join(dir, "state", "s2s"), "S2S_STORE": filepath.Join(dir, "data", "captures.db"),
	}
	f := &Factory{IO: ios, Getenv: func(k string) string { return vars[k] }, Now: time.Now}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code = run(ctx, f, args)
	return code, out.String(), errOut.String()
}

// TestUsageErrors: every mistake in how s2s was called exits 2 with the message as written (no
// capitalised flag or input) and where to find help; typos in completion and help are mistakes too.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
		hint string
	}{
		{[]string{"--bogus"}, "s2s: unknown flag: --bogus\n", "Run 's2s --help' for usage."},
		{[]string{"no-such-command"}, `s2s: unknown command "no-such-command" for "s2s"`, "Run 's2s --help' for usage."},
		{[]string{"decode", "--at", "nonsense", "x"}, `s2s: --at "nonsense": not a time`, "Run 's2s decode --help' for usage."},
		{[]string{"captures", "show", "abc"}, `s2s: "abc" is not a capture ID`, "Run 's2s captures show --help' for usage."},
		{[]string{"captures", "show"}, "s2s: captures show takes 1 argument (ID); none given\n", "Run 's2s captures show --help' for usage."},
		{[]string{"listen", "--output", "xml"}, `s2s: --output must be tui, lines or json, not "xml"`, "Run 's2s listen --help' for usage."},
		{[]string{"version", "extra"}, `s2s: version takes no arguments; 1 given: "extra"` + "\n", "Run 's2s version --help' for usage."},
		{[]string{"completion", "tcsh"}, `s2s: unknown command "tcsh" for "s2s completion"`, "Run 's2s completion --help' for usage."},
		{[]string{"help", "bogus"}, `s2s: unknown help topic "bogus"`, "Run 's2s help --help' for usage."},
		{[]string{"probe"}, "s2s: probe takes 1 argument (URL); none given\n", "Run 's2s probe --help' for usage."},
		{[]string{"send-test", "DID_RENEW", "REFUND"}, `s2s: send-test takes at most 1 argument ([URL]); 2 given: "DID_RENEW" "REFUND"` + "\n", "Run 's2s send-test --help' for usage."},
		{[]string{"captures", "list", "--limit", "abc"}, `s2s: invalid --limit "abc": use a whole number` + "\n", "Run 's2s captures list --help' for usage."},
		{[]string{"listen", "--addr"}, "s2s: --addr needs a value\n", "Run 's2s listen --help' for usage."},
		{[]string{"decode", "-Z"}, "s2s: unknown shorthand flag: 'Z' in -Z", "Run 's2s decode --help' for usage."},
		{[]string{"decode", "--at", "2026-01-01T00:00:00Z", "--now", "x"}, "s2s: --at and --now cannot be used together: give one of them\n", "Run 's2s decode --help' for usage."},
		{[]string{"send-test", "--type", "TEST", "--all"}, "s2s: --all and --type cannot be used together: give one of them\n", "Run 's2s send-test --help' for usage."},
	} {
		code, _, stderr := runArgs(t, tc.args...)
		if code != ExitUsage {
			t.Errorf("s2s %s: exit %d, want %d; stderr: %s", strings.Join(tc.args, " "), code, ExitUsage, stderr)
		}
		if !strings.HasPrefix(stderr, tc.want) || !strings.Contains(stderr, tc.hint) {
			t.Errorf("s2s %s: stderr %q, want it to start with %q and hold %q", strings.Join(tc.args, " "), stderr, tc.want, tc.hint)
		}
	}
}

func TestCompletionAndHelpStillWork(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"completion", "bash"}, "bash completion"},
		{[]string{"completion", "zsh"}, "compdef"},
		{[]string{"completion", "fish"}, "complete -c s2s"},
		{[]string{"completion", "powershell"}, "Register-ArgumentCompleter"},
		{[]string{"help", "decode"}, "--json"},
		{[]string{"help", "captures", "list"}, "--trust"},
	} {
		code, stdout, stderr := runArgs(t, tc.args...)
		if code != ExitOK || !strings.Contains(stdout, tc.want) {
			t.Errorf("s2s %s: exit %d, stdout without %q; stderr: %s", strings.Join(tc.args, " "), code, tc.want, stderr)
		}
	}
}

// TestFlagValuesComplete: the filters people type by hand complete their values.
func TestFlagValuesComplete(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"captures", "list", "--type", ""}, []string{"DID_RENEW", "REFUND", "TEST"}},
		{[]string{"captures", "list", "--type", "EXPIRED", "--subtype", ""}, []string{"VOLUNTARY", "BILLING_RETRY"}},
		{[]string{"captures", "list", "--env", ""}, []string{"Sandbox", "Production", "Xcode"}},
		{[]string{"captures", "list", "--trust", ""}, []string{"verified", "simulated", "unsigned-xcode", "legacy-v1", "invalid"}},
		{[]string{"decode", "--environment", ""}, []string{"Sandbox", "Production"}},
		{[]string{"listen", "--output", ""}, []string{"tui", "lines", "json"}},
		{[]string{"listen", "--respond", ""}, []string{"auto", "passthrough", "503"}},
	} {
		code, stdout, stderr := runArgs(t, append([]string{"__complete"}, tc.args...)...)
		if code != ExitOK {
			t.Fatalf("__complete %v: exit %d: %s", tc.args, code, stderr)
		}
		got := map[string]bool{}
		for _, line := range strings.Split(stdout, "\n") {
			got[strings.SplitN(line, "\t", 2)[0]] = true
		}
		for _, w := range tc.want {
			if !got[w] {
				t.Errorf("__complete %v: no %q in\n%s", tc.args, w, stdout)
			}
		}
	}
}

// TestHelpShowsNoMarkup: s2s's help renderer prints flag usages as written, so pflag's backtick
// markup for argument names would show up literally.
func TestHelpShowsNoMarkup(t *testing.T) {
	for _, args := range [][]string{{"decode", "--help"}, {"listen", "--help"}, {"captures", "list", "--help"},
		{"captures", "show", "--help"}, {"captures", "export", "--help"}, {"captures", "rm", "--help"},
		{"captures", "stats", "--help"}, {"version", "--help"}} {
		code, stdout, stderr := runArgs(t, args...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		for _, line := range strings.Split(stdout, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "--") && strings.Contains(line, "`") {
				t.Errorf("%v: %s", args, strings.TrimSpace(line))
			}
		}
	}
}

// TestRootHelpOrder: the commands people come for are listed before completion, help and version.
func TestRootHelpOrder(t *testing.T) {
	code, stdout, stderr := runArgs(t, "--help")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	receive, other := strings.Index(stdout, "RECEIVE AND INSPECT"), strings.Index(stdout, "OTHER")
	completion := strings.Index(stdout, "\n  completion ")
	if receive < 0 || other < receive || completion < other {
		t.Errorf("s2s --help lists the everyday commands after completion/help/version:\n%s", stdout)
	}
}

// TestExitCodes: the documented contract, including errors that merely mention usage words.
func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errors.New("capture 9 not found"), ExitError},
		{fmt.Errorf("open /dev/x: %w", syscall.EINVAL), ExitError},
		{errors.New(`reading body: the server accepts only POST`), ExitError},
		{usageErrorf("--limit must be positive"), ExitUsage},
		{&UsageError{Err: errors.New(`accepts 1 arg(s), received 0`)}, ExitUsage},
		{errors.New(`unknown command "x" for "s2s"`), ExitUsage},
		{errors.New(`if any flags in the group [at now] are set none of the others can be; [at now] were all set`), ExitUsage},
		{errors.New(`writing report: the receiver accepts 1 arg(s)`), ExitError},
		{&ResultError{}, ExitNotVerified},
		{fmt.Errorf("waiting: %w", context.Canceled), ExitInterrupted},
		{&SilentError{Code: ExitInterrupted}, ExitInterrupted},
	} {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// blockingReader is a terminal nobody types into: Read blocks until the test ends.
type blockingReader struct {
	started chan struct{}
	once    sync.Once
	release chan struct{}
}

func newBlockingReader(t *testing.T) *blockingReader {
	r := &blockingReader{started: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(func() { close(r.release) })
	return r
}

func (r *blockingReader) Read([]byte) (int, error) {
	r.once.Do(func() { close(r.started) })
	<-r.release
	return 0, io.EOF
}

// TestCtrlCWhileReadingTheTerminal: s2s handles SIGINT itself, so a command waiting for typed
// input must still stop on Ctrl-C, with 130: decode reading standard input, and the confirmation
// of captures rm --all (which then deletes nothing).
func TestCtrlCWhileReadingTheTerminal(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		tty  bool
	}{
		{"decode -", []string{"decode", "-"}, false},
		{"captures rm --all", []string{"captures", "rm", "--all"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newCapturesEnv(t)
			e.seed()
			ios, _, _, errOut := TestIO()
			in := newBlockingReader(t)
			ios.In = in
			ios.SetTTY(tc.tty, false, tc.tty)
			vars := map[string]string{"HOME": e.dir, "S2S_CONFIG_DIR": filepath.Join(e.dir, "config"), "S2S_STORE": e.store}
			f := &Factory{IO: ios, Getenv: func(k string) string { return vars[k] }, Now: time.Now}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			code := make(chan int, 1)
			go func() { code <- run(ctx, f, tc.args) }()
			select {
			case <-in.started:
			case <-time.After(30 * time.Second):
				t.Fatal("never read standard input")
			}
			cancel() // what SIGINT does through fang's signal handling
			select {
			case c := <-code:
				if c != ExitInterrupted {
					t.Errorf("exit %d, want %d; stderr: %s", c, ExitInterrupted, errOut)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Ctrl-C did not stop the command while it read the terminal")
			}
			if tc.name == "captures rm --all" {
				if _, out, _ := e.run("list", "--json"); strings.Count(out, `"id"`) == 0 {
					t.Error("captures were deleted after Ctrl-C")
				}
			}
		})
	}
}

// TestInterruptedMessages: Ctrl-C alone prints nothing; an interrupted command that explains what
// it left undone still gets its line; both exit 130.
func TestInterruptedMessages(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{context.Canceled, ""},
		{fmt.Errorf("replay stopped after 3 of 10: %w", context.Canceled), "s2s: replay stopped after 3 of 10: context canceled\n"},
		{&SilentError{Code: ExitInterrupted}, ""},
	} {
		ios, _, _, errOut := TestIO()
		f := &Factory{IO: ios, Getenv: func(string) string { return "" }, Now: time.Now}
		root := NewRootCmd(f)
		err := tc.err
		root.AddCommand(&cobra.Command{Use: "interrupted", RunE: func(*cobra.Command, []string) error { return err }})
		code := execute(context.Background(), f, root, []string{"interrupted"})
		if code != ExitInterrupted || errOut.String() != tc.want {
			t.Errorf("%v: exit %d, stderr %q; want 130 and %q", tc.err, code, errOut.String(), tc.want)
		}
	}
}

// TestInOurWords: every usage message cobra builds itself is said in s2s's words, and stays a
// usage error; other errors pass through untouched.
func TestInOurWords(t *testing.T) {
	c := &cobra.Command{Use: "rm ID..."}
	(&cobra.Command{Use: "s2s"}).AddCommand(c)
	for _, tc := range []struct {
		in   string
		args []string
		want string
	}{
		{"accepts 1 arg(s), received 0", nil, "rm takes 1 argument (ID...); none given"},
		{"accepts at most 2 arg(s), received 3", []string{"a", "b", "c"}, `rm takes at most 2 arguments (ID...); 3 given: "a" "b" "c"`},
		{"requires at least 1 arg(s), only received 0", nil, "rm needs at least 1 argument (ID...); none given"},
		{"accepts between 1 and 3 arg(s), received 0", nil, "rm takes 1 to 3 arguments (ID...); none given"},
		{"if any flags in the group [at now] are set none of the others can be; [at now] were all set", nil, "--at and --now cannot be used together: give one of them"},
		{"if any flags in the group [key-id issuer-id] are set they must all be set; missing [issuer-id]", nil, "--key-id and --issuer-id go together: --issuer-id missing"},
		{"at least one of the flags in the group [all ids] is required", nil, "give --all or --ids"},
		{`required flag(s) "to" not set`, nil, "--to is required"},
		{`required flag(s) "a", "b" not set`, nil, "--a and --b are required"},
	} {
		err := inOurWords(c, tc.args, errors.New(tc.in))
		if err == nil || err.Error() != tc.want || ExitCode(err) != ExitUsage {
			t.Errorf("%q: %v (exit %d), want %q (exit 2)", tc.in, err, ExitCode(err), tc.want)
		}
	}
	other := errors.New("capture 9 not found")
	if got := inOurWords(c, nil, other); got != other { //nolint:errorlint // identity: returned unchanged
		t.Errorf("an ordinary error became %v", got)
	}
}
