package appstore

import "strconv"

// SubscriptionStatus is Apple's status of an auto-renewable subscription (Get All Subscription
// Statuses, and a notification's data.status).
type SubscriptionStatus int

const (
	StatusActive             SubscriptionStatus = 1
	StatusExpired            SubscriptionStatus = 2
	StatusBillingRetry       SubscriptionStatus = 3
	StatusBillingGracePeriod SubscriptionStatus = 4
	StatusRevoked            SubscriptionStatus = 5
)

// String is Apple's name of the status, or "status N" for a value this version does not know.
func (s SubscriptionStatus) String() string {
	switch s {
	case StatusActive:
		return "ACTIVE"
	case StatusExpired:
		return "EXPIRED"
	case StatusBillingRetry:
		return "BILLING_RETRY"
	case StatusBillingGracePeriod:
		return "BILLING_GRACE_PERIOD"
	case StatusRevoked:
		return "REVOKED"
	}
	return "status " + strconv.Itoa(int(s))
}

// Meaning is a sentence on what the status means for the customer's access.
func (s SubscriptionStatus) Meaning() string {
	switch s {
	case StatusActive:
		return "the subscription is active"
	case StatusExpired:
		return "the subscription expired"
	case StatusBillingRetry:
		return "Apple is retrying a failed renewal charge; the customer has no service unless you grant it"
	case StatusBillingGracePeriod:
		return "a renewal charge failed and Apple is retrying it within the billing grace period; keep giving service"
	case StatusRevoked:
		return "Apple revoked the subscription (refund, or Family Sharing ended)"
	}
	return "a status this version of s2s does not know"
}
