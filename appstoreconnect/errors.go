package appstoreconnect

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrorItem is one entry of Apple's JSON:API error answer {"errors":[{...}]}. Every field is
// Apple's text, untrusted: human output passes it through the sanitiser.
type ErrorItem struct {
	Status string
	Code   string // e.g. ENTITY_ERROR.ATTRIBUTE.INVALID
	Title  string
	Detail string
}

// APIError is an unsuccessful answer of the App Store Connect API.
type APIError struct {
	HTTPStatus int
	Errors     []ErrorItem
	Method     string
	Path       string // the request path, never the query or the token
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("App Store Connect API %s %s: HTTP %d", e.Method, e.Path, e.HTTPStatus)
	for i, it := range e.Errors {
		if i == 3 {
			s += fmt.Sprintf(" (and %d more)", len(e.Errors)-i)
			break
		}
		var parts []string
		for _, p := range []string{it.Code, it.Title, it.Detail} {
			if p = safeText(p); p != "" {
				parts = append(parts, p)
			}
		}
		if len(parts) > 0 {
			s += "; Apple: " + strings.Join(parts, ": ")
		}
	}
	if h := e.Hint(); h != "" {
		s += " — " + h
	}
	return s
}

// Hint is a sentence on what to do, or "".
func (e *APIError) Hint() string {
	switch e.HTTPStatus {
	case http.StatusUnauthorized:
		return "Apple rejected the token: check the key ID, the issuer ID and the .p8 file of a team API key " +
			"(App Store Connect → Users and Access → Integrations → App Store Connect API; not the In-App Purchase key) " +
			"and the computer's clock"
	case http.StatusForbidden:
		return "this API key may not change the app's notification URLs: App Store Connect lets the Account Holder, " +
			"Admin, App Manager and Marketing roles set them; create a team key with one of those roles"
	case http.StatusConflict, http.StatusUnprocessableEntity:
		return "Apple refused the value (an App Store Server Notifications URL must be an absolute https URL)"
	case http.StatusTooManyRequests:
		return "Apple's rate limit was exceeded; wait a minute and try again"
	}
	return ""
}

// IsUnauthorized reports whether Apple rejected the token.
func IsUnauthorized(err error) bool { return statusIs(err, http.StatusUnauthorized) }

// IsForbidden reports whether the key's role may not do what was asked.
func IsForbidden(err error) bool { return statusIs(err, http.StatusForbidden) }

func statusIs(err error, status int) bool {
	var e *APIError
	return errors.As(err, &e) && e.HTTPStatus == status
}

// AppNotFoundError means no app of the key's team has exactly this bundle ID. Similar lists bundle
// IDs Apple's filter returned that are not equal to it (the filter is not an exact match).
type AppNotFoundError struct {
	BundleID string
	Similar  []string
}

func (e *AppNotFoundError) Error() string {
	s := fmt.Sprintf("no app with the bundle ID %q in this API key's team (bundle IDs are case-sensitive)", e.BundleID)
	if len(e.Similar) > 0 {
		names := make([]string, 0, len(e.Similar))
		for _, b := range e.Similar[:min(len(e.Similar), 5)] {
			names = append(names, fmt.Sprintf("%q", safeText(b)))
		}
		s += "; similar: " + strings.Join(names, ", ")
	}
	return s
}
