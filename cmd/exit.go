package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// SilentError fails with exit 1 without printing: the command has already explained on stderr.
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
