package tunnel

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// Class sorts tunnel failures by what the user should do about them.
type Class string

const (
	ClassAuth          Class = "auth"           // credentials missing, malformed or refused
	ClassRateLimited   Class = "rate-limited"   // the service refuses new tunnels for a while
	ClassBinaryMissing Class = "binary-missing" // a helper program is not installed
	ClassNetwork       Class = "network"        // the service could not be reached
	ClassTimeout       Class = "timeout"        // the tunnel did not become ready in time
	ClassRejected      Class = "rejected"       // the service (or a pinned host key) said no
)

// Error is a classified tunnel failure with one sentence on what to do about it.
type Error struct {
	Provider string
	Class    Class
	Err      error
	Hint     string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("tunnel %s: %s", e.Provider, e.Class)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// ClassOf returns err's class, or "" when err is not a classified tunnel error.
func ClassOf(err error) Class {
	var te *Error
	if errors.As(err, &te) {
		return te.Class
	}
	return ""
}

// classify wraps err as an *Error for provider, keeping an existing classification and sorting
// context and network errors into timeout and network.
func classify(provider string, err error) error {
	if err == nil {
		return nil
	}
	var te *Error
	if errors.As(err, &te) {
		if te.Provider == "" {
			te.Provider = provider
		}
		return te
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Provider: provider, Class: ClassTimeout, Err: err,
			Hint: "the tunnel did not come up in time; check your network and try again"}
	}
	var ne net.Error
	var oe *net.OpError
	var de *net.DNSError
	if errors.As(err, &de) || errors.As(err, &oe) || errors.As(err, &ne) {
		if ne != nil && ne.Timeout() {
			return &Error{Provider: provider, Class: ClassTimeout, Err: err,
				Hint: "the service did not answer in time; check your network or try another provider"}
		}
		return &Error{Provider: provider, Class: ClassNetwork, Err: err,
			Hint: "the tunnel service could not be reached; check your network or try another provider"}
	}
	return &Error{Provider: provider, Class: ClassNetwork, Err: err,
		Hint: "try again, or try another provider"}
}
