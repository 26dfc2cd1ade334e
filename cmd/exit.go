package cmd

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit codes are the contract scripts rely on; every command maps its errors here and nowhere else.
const (
	ExitOK          = 0
	ExitError       = 1   // unreadable or malformed input, I/O, network
	ExitUsage       = 2   // bad flags or arguments
	ExitNotVerified = 3   // decoded, but not verified (or not simulated where that was expected)
	ExitInterrupted = 130 // SIGINT
)

// UsageError marks a mistake in how the command was called.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// usageErrorf builds a UsageError with a formatted message.
func usageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ResultError reports a completed run whose outcome is not the one asked for (exit 3). The command
// has already printed its findings, so Main prints nothing more unless Err carries a message.
type ResultError struct {
	Err    error
	Silent bool
}

func (e *ResultError) Error() string {
	if e.Err == nil {
		return "not verified"
	}
	return e.Err.Error()
}
func (e *ResultError) Unwrap() error { return e.Err }

// SilentError fails with exit status Code (ExitError, ExitInterrupted, …) without printing: the
// command has already explained on stderr.
type SilentError struct{ Code int }

func (e *SilentError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// ExitCode maps any error returned by a command to the documented exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var se *SilentError
	if errors.As(err, &se) {
		return se.Code
	}
	var re *ResultError
	if errors.As(err, &re) {
		return ExitNotVerified
	}
	var ue *UsageError
	if errors.As(err, &ue) || isCobraUsageError(err) {
		return ExitUsage
	}
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	return ExitError
}

// silent reports whether Main should print nothing for err.
func silent(err error) bool {
	var se *SilentError
	if errors.As(err, &se) {
		return true
	}
	var re *ResultError
	return errors.As(err, &re) && (re.Silent || re.Err == nil)
}

// isCobraUsageError recognises the usage errors cobra builds inside itself, out of reach of the
// typed wrappers (typedArgErrors, the FlagErrorFunc): an unknown subcommand of a command without
// an argument check, and flag-group conflicts. Only at the start, so an error that merely
// mentions these words is not taken for one.
func isCobraUsageError(err error) bool {
	s := err.Error()
	for _, prefix := range []string{
		"unknown command", "if any flags in the group", "at least one of the flags in the group",
		"required flag",
	} {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// cobra's own usage messages, which name its internals ("arg(s)", "the group [at now]"): each
// is said again in s2s's words by inOurWords.
var (
	reArgsExact   = regexp.MustCompile(`^accepts (\d+) arg\(s\), received (\d+)$`)
	reArgsAtMost  = regexp.MustCompile(`^accepts at most (\d+) arg\(s\), received (\d+)$`)
	reArgsAtLeast = regexp.MustCompile(`^requires at least (\d+) arg\(s\), only received (\d+)$`)
	reArgsRange   = regexp.MustCompile(`^accepts between (\d+) and (\d+) arg\(s\), received (\d+)$`)
	reExclusive   = regexp.MustCompile(`^if any flags in the group \[([^\]]*)\] are set none of the others can be; \[([^\]]*)\] were all set$`)
	reTogether    = regexp.MustCompile(`^if any flags in the group \[([^\]]*)\] are set they must all be set; missing \[([^\]]*)\]$`)
	reOneRequired = regexp.MustCompile(`^at least one of the flags in the group \[([^\]]*)\] is required$`)
	reRequired    = regexp.MustCompile(`^required flag\(s\) (.*) not set$`)
)

// inOurWords says a usage error cobra built (a wrong number of arguments, a flag-group conflict,
// a missing required flag) as s2s would, naming the command's arguments from its Use line and the
// flags as they are typed; any other error is returned as it is. c is the command that failed
// (nil when unknown) and args its arguments. The result of a cobra usage error is a UsageError.
func inOurWords(c *cobra.Command, args []string, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	name, want := "s2s", ""
	if c != nil {
		// "captures show", after the "s2s: " every message starts with.
		name = strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ")
		if f := strings.Fields(c.Use); len(f) > 1 {
			want = " (" + strings.Join(f[1:], " ") + ")"
		}
	}
	given := func(n int) string {
		if n == 0 {
			return "none given"
		}
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = strconv.Quote(a)
		}
		return fmt.Sprintf("%d given: %s", n, strings.Join(quoted, " "))
	}
	// cobra.NoArgs says "unknown command" even of a command that has no subcommands.
	if c != nil && !c.HasSubCommands() && len(args) > 0 && strings.HasPrefix(msg, "unknown command ") {
		return usageErrorf("%s takes no arguments; %s", name, given(len(args)))
	}
	if m := reArgsExact.FindStringSubmatch(msg); m != nil {
		return usageErrorf("%s takes %s%s; %s", name, countArgs(m[1]), want, given(atoi(m[2])))
	}
	if m := reArgsAtMost.FindStringSubmatch(msg); m != nil {
		return usageErrorf("%s takes at most %s%s; %s", name, countArgs(m[1]), want, given(atoi(m[2])))
	}
	if m := reArgsAtLeast.FindStringSubmatch(msg); m != nil {
		return usageErrorf("%s needs at least %s%s; %s", name, countArgs(m[1]), want, given(atoi(m[2])))
	}
	if m := reArgsRange.FindStringSubmatch(msg); m != nil {
		return usageErrorf("%s takes %s to %s%s; %s", name, m[1], countArgs(m[2]), want, given(atoi(m[3])))
	}
	if m := reExclusive.FindStringSubmatch(msg); m != nil {
		return usageErrorf("%s cannot be used together: give one of them", flagList(m[2], "and"))
	}
	if m := reTogether.FindStringSubmatch(msg); m != nil {
		return usageErrorf("%s go together: %s missing", flagList(m[1], "and"), flagList(m[2], "and"))
	}
	if m := reOneRequired.FindStringSubmatch(msg); m != nil {
		return usageErrorf("give %s", flagList(m[1], "or"))
	}
	if m := reRequired.FindStringSubmatch(msg); m != nil {
		names := strings.ReplaceAll(strings.ReplaceAll(m[1], `"`, ""), ",", " ")
		verb := "is"
		if len(strings.Fields(names)) > 1 {
			verb = "are"
		}
		return usageErrorf("%s %s required", flagList(names, "and"), verb)
	}
	return err
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func countArgs(n string) string {
	if n == "1" {
		return "1 argument"
	}
	return n + " arguments"
}

// flagList writes cobra's "at now" as "--at and --now".
func flagList(names, conj string) string {
	var flags []string
	for _, n := range strings.Fields(names) {
		flags = append(flags, "--"+n)
	}
	switch len(flags) {
	case 0:
		return ""
	case 1:
		return flags[0]
	}
	return strings.Join(flags[:len(flags)-1], ", ") + " " + conj + " " + flags[len(flags)-1]
}

// flagUsageError is the root's flag error function: a flag that does not parse is a usage error
// (exit 2), in s2s's words.
func flagUsageError(_ *cobra.Command, err error) error {
	return &UsageError{Err: flagErrorInOurWords(err)}
}

// flagErrorInOurWords rewrites pflag's errors for a flag value that does not parse or is missing,
// which quote Go's parsers ("strconv.ParseInt: parsing \"abc\": invalid syntax", "time: missing
// unit in duration"), as what the flag takes. Other errors (an unknown flag) are kept.
func flagErrorInOurWords(err error) error {
	var missing *pflag.ValueRequiredError
	if errors.As(err, &missing) && missing.GetFlag() != nil {
		return fmt.Errorf("--%s needs a value", missing.GetFlag().Name)
	}
	var bad *pflag.InvalidValueError
	if !errors.As(err, &bad) || bad.GetFlag() == nil {
		return err
	}
	name := "--" + bad.GetFlag().Name
	var takes string
	switch bad.GetFlag().Value.Type() {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "count":
		takes = "a whole number"
	case "float32", "float64":
		takes = "a number"
	case "duration":
		takes = "a duration with its unit: 500ms, 10s, 2m, 1h"
	case "bool":
		takes = "true or false"
	default:
		// s2s's own flag types say what is wrong in their own error.
		return fmt.Errorf("invalid %s %q: %w", name, bad.GetValue(), errors.Unwrap(err))
	}
	return fmt.Errorf("invalid %s %q: use %s", name, bad.GetValue(), takes)
}
