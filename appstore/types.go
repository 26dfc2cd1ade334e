package appstore

import (
	"fmt"
	"time"

	"github.com/s2s-dev/s2s/decode"
)

// Hosts Apple recommends since 2026-05-05 (the older *.itunes.apple.com hosts still work).
const (
	ProductionURL = "https://api.storekit.apple.com"
	SandboxURL    = "https://api.storekit-sandbox.apple.com"
)

// ParseEnvironment reads an environment as every s2s command does (decode.ParseEnvironment) and
// accepts the two the App Store Server API serves: decode.EnvProduction and decode.EnvSandbox,
// each with its own host.
func ParseEnvironment(s string) (decode.Environment, error) {
	if env, ok := decode.ParseServerEnvironment(s); ok {
		return env, nil
	}
	return "", fmt.Errorf("environment %q: the App Store Server API has Production and Sandbox (Xcode and LocalTesting have no API)", s)
}

// HostURL is Apple's host for the environment.
func HostURL(env decode.Environment) string {
	if env == decode.EnvProduction {
		return ProductionURL
	}
	return SandboxURL
}

// HistoryRetention is how far back Get Notification History reaches in the environment.
func HistoryRetention(env decode.Environment) time.Duration {
	if env == decode.EnvProduction {
		return 180 * 24 * time.Hour
	}
	return 30 * 24 * time.Hour
}

// Millis is a UNIX time in milliseconds, the way Apple writes dates in JSON.
type Millis int64

// Time converts to a time.Time in UTC; zero stays the zero time.
func (m Millis) Time() time.Time {
	if m == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(m)).UTC()
}

// ToMillis converts t; the zero time gives 0.
func ToMillis(t time.Time) Millis {
	if t.IsZero() {
		return 0
	}
	return Millis(t.UnixMilli())
}

// SendAttempt is one delivery attempt Apple recorded.
type SendAttempt struct {
	AttemptDate       Millis            `json:"attemptDate"`
	SendAttemptResult SendAttemptResult `json:"sendAttemptResult"`
}

// TestNotificationToken is the answer of Request a Test Notification.
type TestNotificationToken struct {
	TestNotificationToken string `json:"testNotificationToken"`
}

// TestNotificationStatus is the answer of Get Test Notification Status.
type TestNotificationStatus struct {
	SignedPayload string        `json:"signedPayload"`
	SendAttempts  []SendAttempt `json:"sendAttempts"`
	// FirstSendAttemptResult is deprecated by Apple but still sent by older servers.
	FirstSendAttemptResult SendAttemptResult `json:"firstSendAttemptResult,omitempty"`
}

// LastResult is the result of the newest attempt, or "" when Apple has not tried yet.
func (s *TestNotificationStatus) LastResult() SendAttemptResult {
	if s == nil {
		return ""
	}
	if len(s.SendAttempts) == 0 {
		return s.FirstSendAttemptResult
	}
	return s.SendAttempts[len(s.SendAttempts)-1].SendAttemptResult
}

// NotificationHistoryRequest is the body of Get Notification History.
type NotificationHistoryRequest struct {
	StartDate           Millis `json:"startDate"`
	EndDate             Millis `json:"endDate"`
	NotificationType    string `json:"notificationType,omitempty"`
	NotificationSubtype string `json:"notificationSubtype,omitempty"`
	TransactionID       string `json:"transactionId,omitempty"`
	OnlyFailures        bool   `json:"onlyFailures,omitempty"`
}

// Validate applies Apple's documented rules so a mistake is caught before a request (and its rate
// limit) is spent. now is the current time; retention comes from the environment.
func (r NotificationHistoryRequest) Validate(env decode.Environment, now time.Time) error {
	switch {
	case r.StartDate == 0:
		return fmt.Errorf("a start date is required")
	case r.EndDate == 0:
		return fmt.Errorf("an end date is required")
	case r.StartDate >= r.EndDate:
		return fmt.Errorf("the start (%s) must come before the end (%s)", r.StartDate.Time().Format(time.RFC3339), r.EndDate.Time().Format(time.RFC3339))
	case r.NotificationSubtype != "" && r.NotificationType == "":
		return fmt.Errorf("a subtype filter needs a notification type too")
	case r.TransactionID != "" && (r.NotificationType != "" || r.NotificationSubtype != ""):
		return fmt.Errorf("a transaction id cannot be combined with a notification type (Apple answers MultipleFiltersSupplied)")
	}
	oldest := now.Add(-HistoryRetention(env))
	if r.StartDate.Time().Before(oldest) {
		return fmt.Errorf("the start (%s) is older than the %d days of history Apple keeps in %s; the oldest possible start is %s",
			r.StartDate.Time().Format(time.RFC3339), int(HistoryRetention(env).Hours()/24), env, oldest.UTC().Format(time.RFC3339))
	}
	return nil
}

// NotificationHistoryItem is one notification in the history, with Apple's delivery record.
type NotificationHistoryItem struct {
	SignedPayload string        `json:"signedPayload"`
	SendAttempts  []SendAttempt `json:"sendAttempts"`
}

// Delivered reports whether any attempt succeeded.
func (it NotificationHistoryItem) Delivered() bool {
	for _, a := range it.SendAttempts {
		if a.SendAttemptResult == ResultSuccess {
			return true
		}
	}
	return false
}

// NotificationHistoryResponse is one page of Get Notification History.
type NotificationHistoryResponse struct {
	NotificationHistory []NotificationHistoryItem `json:"notificationHistory"`
	HasMore             bool                      `json:"hasMore"`
	PaginationToken     string                    `json:"paginationToken,omitempty"`
}

// TransactionInfoResponse is the answer of Get Transaction Info.
type TransactionInfoResponse struct {
	SignedTransactionInfo string `json:"signedTransactionInfo"`
}

// LastTransaction is one subscription's newest transaction and renewal info.
type LastTransaction struct {
	Status                int    `json:"status"`
	OriginalTransactionID string `json:"originalTransactionId"`
	SignedTransactionInfo string `json:"signedTransactionInfo"`
	SignedRenewalInfo     string `json:"signedRenewalInfo"`
}

// SubscriptionGroupStatus is the statuses of one subscription group.
type SubscriptionGroupStatus struct {
	SubscriptionGroupIdentifier string            `json:"subscriptionGroupIdentifier"`
	LastTransactions            []LastTransaction `json:"lastTransactions"`
}

// StatusResponse is the answer of Get All Subscription Statuses.
type StatusResponse struct {
	Environment string                    `json:"environment"`
	BundleID    string                    `json:"bundleId"`
	AppAppleID  int64                     `json:"appAppleId"`
	Data        []SubscriptionGroupStatus `json:"data"`
}
