package appstore

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error codes the client acts on. The full table of names is errorNames.
const (
	CodeGeneralBadRequest                 = 4000000
	CodeInvalidPaginationToken            = 4000014
	CodeMultipleFiltersSupplied           = 4000019
	CodeInvalidTestNotificationToken      = 4000020
	CodeAccountNotFoundRetryable          = 4040002
	CodeAppNotFoundRetryable              = 4040004
	CodeOriginalTransactionIDNotFoundRetr = 4040006
	CodeServerNotificationURLNotFound     = 4040007
	CodeTestNotificationNotFound          = 4040008
	CodeTransactionIDNotFound             = 4040010
	CodeRateLimitExceeded                 = 4290000
	CodeGeneralInternal                   = 5000000
	CodeGeneralInternalRetryable          = 5000001
)

// errorNames maps Apple's error codes to the names Apple's documentation and libraries use.
var errorNames = map[int64]string{
	4000000: "GeneralBadRequest",
	4000002: "InvalidAppIdentifier",
	4000005: "InvalidRequestRevision",
	4000006: "InvalidTransactionId",
	4000008: "InvalidOriginalTransactionId",
	4000009: "InvalidExtendByDays",
	4000010: "InvalidExtendReasonCode",
	4000011: "InvalidRequestIdentifier",
	4000012: "StartDateTooFarInPast",
	4000013: "StartDateAfterEndDate",
	4000014: "InvalidPaginationToken",
	4000015: "InvalidStartDate",
	4000016: "InvalidEndDate",
	4000017: "PaginationTokenExpired",
	4000018: "InvalidNotificationType",
	4000019: "MultipleFiltersSupplied",
	4000020: "InvalidTestNotificationToken",
	4000021: "InvalidSort",
	4000022: "InvalidProductType",
	4000023: "InvalidProductId",
	4000024: "InvalidSubscriptionGroupIdentifier",
	4000025: "InvalidExcludeRevoked",
	4000026: "InvalidInAppOwnershipType",
	4000027: "InvalidEmptyStorefrontCountryCodeList",
	4000028: "InvalidStorefrontCountryCode",
	4000030: "InvalidRevoked",
	4000031: "InvalidStatus",
	4000047: "InvalidTransactionTypeNotSupported",
	4000048: "AppTransactionIdNotSupported",
	4000183: "InvalidAppAccountTokenUUID",
	4000185: "FamilyTransactionNotSupported",
	4000187: "TransactionIdIsNotOriginalTransactionId",
	4030004: "SubscriptionExtensionIneligible",
	4030005: "SubscriptionMaxExtension",
	4030007: "FamilySharedSubscriptionExtensionIneligible",
	4040001: "AccountNotFound",
	4040002: "AccountNotFoundRetryable",
	4040003: "AppNotFound",
	4040004: "AppNotFoundRetryable",
	4040005: "OriginalTransactionIdNotFound",
	4040006: "OriginalTransactionIdNotFoundRetryable",
	4040007: "ServerNotificationURLNotFound",
	4040008: "TestNotificationNotFound",
	4040009: "StatusRequestNotFound",
	4040010: "TransactionIdNotFound",
	4040019: "AppTransactionDoesNotExist",
	4290000: "RateLimitExceeded",
	5000000: "GeneralInternal",
	5000001: "GeneralInternalRetryable",
}

// ErrorName is Apple's name for code, or "" for a code this client does not know.
func ErrorName(code int64) string { return errorNames[code] }

// hints are a sentence on what to do about errors a developer meets with this tool.
var hints = map[int64]string{
	4000002: "the bundle id does not match an app of this key's team; check --bundle-id (it is case-sensitive)",
	4000012: "Apple keeps 180 days of history in Production and 30 days in Sandbox; choose a later start",
	4000013: "the start of the range must come before its end",
	4000017: "the pagination token expired; start the query again",
	4000018: "not a notificationType Apple knows (`s2s send-test --list` lists them)",
	4000019: "a transaction id cannot be combined with a notification type; use one filter or the other",
	4040003: "Apple does not know this bundle id in this environment",
	4040005: "Apple knows no original transaction with this id for this app in this environment; check the id and --environment",
	4040010: "Apple knows no transaction with this id for this app in this environment; check the id, --bundle-id and --environment (a Sandbox purchase is not in Production)",
	4000006: "not a transaction id Apple accepts: it is a string of digits",
	4000005: "the revision token of the transaction history is not Apple's; start the query again",
	4040007: "no App Store Server Notifications URL is set for this environment: set it in App Store Connect → your app → App Information",
	4040008: "Apple has no status for this test notification yet, or its token expired",
	4290000: "Apple's rate limit was exceeded; wait and try again",
}

// APIError is an unsuccessful answer of the App Store Server API.
type APIError struct {
	HTTPStatus int
	Code       int64  // Apple's errorCode; 0 when the body had none (401 has no body)
	Name       string // Apple's name for Code; "" for codes this client does not know
	Message    string // Apple's errorMessage
	// RetryAfter is when Apple said requests may resume (429's Retry-After), zero otherwise.
	RetryAfter time.Time
	Method     string
	Path       string // the request path, never the query or the token
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("App Store Server API %s %s: HTTP %d", e.Method, e.Path, e.HTTPStatus)
	switch {
	case e.Code != 0 && e.Name != "":
		s += fmt.Sprintf(" %s (%d)", e.Name, e.Code)
	case e.Code != 0:
		s += fmt.Sprintf(" error %d", e.Code)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if h := e.Hint(); h != "" {
		s += " — " + h
	}
	if !e.RetryAfter.IsZero() {
		s += "; Apple allows requests again from " + e.RetryAfter.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return s
}

// Hint is a sentence on what to do, or "".
func (e *APIError) Hint() string {
	if h, ok := hints[e.Code]; ok {
		return h
	}
	if e.HTTPStatus == http.StatusUnauthorized {
		return "Apple rejected the token: check the key id, issuer id, bundle id and .p8 file (all from App Store Connect → Users and Access → Integrations → In-App Purchase) and the computer's clock"
	}
	return ""
}

// Retryable reports whether Apple says the same request may succeed later.
func (e *APIError) Retryable() bool {
	switch e.Code {
	case CodeAccountNotFoundRetryable, CodeAppNotFoundRetryable, CodeOriginalTransactionIDNotFoundRetr,
		CodeGeneralInternalRetryable, CodeRateLimitExceeded:
		return true
	}
	return e.HTTPStatus == http.StatusTooManyRequests || e.HTTPStatus >= 500
}

// IsCode reports whether err is an APIError with the given code.
func IsCode(err error, code int64) bool {
	var e *APIError
	return errors.As(err, &e) && e.Code == code
}

// IsUnauthorized reports whether Apple rejected the token.
func IsUnauthorized(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.HTTPStatus == http.StatusUnauthorized
}
