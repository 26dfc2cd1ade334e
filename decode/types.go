package decode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Millis is an App Store date: milliseconds since the UNIX epoch. Apple sends whole numbers;
// StoreKit Testing in Xcode sends floats with a fractional part (1697679936049.7297), which are
// truncated to whole milliseconds as Apple's own libraries do.
type Millis int64

// UnmarshalJSON accepts integers, fractional numbers and null.
func (m *Millis) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if i, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		*m = Millis(i)
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f > math.MaxInt64 || f < math.MinInt64 {
		return fmt.Errorf("date %s is not a number of milliseconds", b)
	}
	*m = Millis(math.Trunc(f))
	return nil
}

// IsZero reports whether the date is absent.
func (m Millis) IsZero() bool { return m == 0 }

// Time is the date in UTC; the zero time when absent.
func (m Millis) Time() time.Time {
	if m == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(m)).UTC()
}

// String is the date in ISO 8601 UTC with milliseconds.
func (m Millis) String() string {
	if m == 0 {
		return ""
	}
	return m.Time().Format(isoMillis)
}

const isoMillis = "2006-01-02T15:04:05.000Z07:00"

// NotificationType is a V2 notificationType. The set is open: Apple adds values without notice,
// so an unknown value is kept as its raw string.
type NotificationType string

const (
	TypeSubscribed             NotificationType = "SUBSCRIBED"
	TypeDidChangeRenewalPref   NotificationType = "DID_CHANGE_RENEWAL_PREF"
	TypeDidChangeRenewalStatus NotificationType = "DID_CHANGE_RENEWAL_STATUS"
	TypeOfferRedeemed          NotificationType = "OFFER_REDEEMED"
	TypeDidRenew               NotificationType = "DID_RENEW"
	TypeExpired                NotificationType = "EXPIRED"
	TypeDidFailToRenew         NotificationType = "DID_FAIL_TO_RENEW"
	TypeGracePeriodExpired     NotificationType = "GRACE_PERIOD_EXPIRED"
	TypePriceIncrease          NotificationType = "PRICE_INCREASE"
	TypeRefund                 NotificationType = "REFUND"
	TypeRefundDeclined         NotificationType = "REFUND_DECLINED"
	TypeRefundReversed         NotificationType = "REFUND_REVERSED"
	TypeConsumptionRequest     NotificationType = "CONSUMPTION_REQUEST"
	TypeRenewalExtended        NotificationType = "RENEWAL_EXTENDED"
	TypeRenewalExtension       NotificationType = "RENEWAL_EXTENSION"
	TypeRevoke                 NotificationType = "REVOKE"
	TypeTest                   NotificationType = "TEST"
	TypeExternalPurchaseToken  NotificationType = "EXTERNAL_PURCHASE_TOKEN"
	TypeOneTimeCharge          NotificationType = "ONE_TIME_CHARGE"
	TypeMetadataUpdate         NotificationType = "METADATA_UPDATE"
	TypeMigration              NotificationType = "MIGRATION"
	TypeMigrate                NotificationType = "MIGRATE" // the spelling of Apple's changelog; libraries use MIGRATION
	TypePriceChange            NotificationType = "PRICE_CHANGE"
	TypeRescindConsent         NotificationType = "RESCIND_CONSENT"
)

// notificationTypes lists every known notificationType, in Apple's documentation order
// (docs/apple.md §2.2).
var notificationTypes = [...]NotificationType{
	TypeSubscribed, TypeDidChangeRenewalPref, TypeDidChangeRenewalStatus, TypeOfferRedeemed,
	TypeDidRenew, TypeExpired, TypeDidFailToRenew, TypeGracePeriodExpired, TypePriceIncrease,
	TypeRefund, TypeRefundDeclined, TypeRefundReversed, TypeConsumptionRequest, TypeRenewalExtended,
	TypeRenewalExtension, TypeRevoke, TypeTest, TypeExternalPurchaseToken, TypeOneTimeCharge,
	TypeMetadataUpdate, TypeMigration, TypePriceChange, TypeRescindConsent,
}

// Known reports whether Apple documents this type (MIGRATE counts, as Apple's changelog spells it).
func (t NotificationType) Known() bool {
	if t == TypeMigrate {
		return true
	}
	for _, k := range notificationTypes {
		if k == t {
			return true
		}
	}
	return false
}

// Subtype is a V2 notification subtype; an open set like NotificationType.
type Subtype string

const (
	SubtypeInitialBuy          Subtype = "INITIAL_BUY"
	SubtypeResubscribe         Subtype = "RESUBSCRIBE"
	SubtypeDowngrade           Subtype = "DOWNGRADE"
	SubtypeUpgrade             Subtype = "UPGRADE"
	SubtypeAutoRenewEnabled    Subtype = "AUTO_RENEW_ENABLED"
	SubtypeAutoRenewDisabled   Subtype = "AUTO_RENEW_DISABLED"
	SubtypeVoluntary           Subtype = "VOLUNTARY"
	SubtypeBillingRetry        Subtype = "BILLING_RETRY"
	SubtypePriceIncrease       Subtype = "PRICE_INCREASE"
	SubtypeGracePeriod         Subtype = "GRACE_PERIOD"
	SubtypePending             Subtype = "PENDING"
	SubtypeAccepted            Subtype = "ACCEPTED"
	SubtypeBillingRecovery     Subtype = "BILLING_RECOVERY"
	SubtypeProductNotForSale   Subtype = "PRODUCT_NOT_FOR_SALE"
	SubtypeSummary             Subtype = "SUMMARY"
	SubtypeFailure             Subtype = "FAILURE"
	SubtypeUnreported          Subtype = "UNREPORTED"
	SubtypeCreated             Subtype = "CREATED"
	SubtypeActiveTokenReminder Subtype = "ACTIVE_TOKEN_REMINDER"
)

// subtypes lists every known subtype (docs/apple.md §2.3).
var subtypes = [...]Subtype{
	SubtypeInitialBuy, SubtypeResubscribe, SubtypeDowngrade, SubtypeUpgrade, SubtypeAutoRenewEnabled,
	SubtypeAutoRenewDisabled, SubtypeVoluntary, SubtypeBillingRetry, SubtypePriceIncrease,
	SubtypeGracePeriod, SubtypePending, SubtypeAccepted, SubtypeBillingRecovery,
	SubtypeProductNotForSale, SubtypeSummary, SubtypeFailure, SubtypeUnreported, SubtypeCreated,
	SubtypeActiveTokenReminder,
}

// Known reports whether Apple documents this subtype.
func (s Subtype) Known() bool {
	for _, k := range subtypes {
		if k == s {
			return true
		}
	}
	return false
}

// Environment is where a payload comes from, spelled as Apple spells it. JSON reads and writes it
// as the plain string; a payload may carry a value this version does not know.
type Environment string

// Environment values. Apple sends Sandbox and Production; StoreKit Testing sends Xcode, Apple's
// library tests LocalTesting.
const (
	EnvSandbox      Environment = "Sandbox"
	EnvProduction   Environment = "Production"
	EnvXcode        Environment = "Xcode"
	EnvLocalTesting Environment = "LocalTesting"
)

// Environments are the environment values, in the order messages list them. Each call returns
// a new slice the caller may change.
func Environments() []Environment {
	return []Environment{EnvSandbox, EnvProduction, EnvXcode, EnvLocalTesting}
}

// EnvironmentList is Environments joined with sep, for messages and help.
func EnvironmentList(sep string) string {
	var b strings.Builder
	for i, e := range Environments() {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(string(e))
	}
	return b.String()
}

// ParseEnvironment reads an environment as people type it (any case; sandbox, sbx, sb;
// production, prod, and V1's PROD; xcode; localtesting, local) and returns Apple's spelling. Every
// command, filter and forwarding rule reads environments through it, so they accept the same
// words.
func ParseEnvironment(s string) (Environment, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "sandbox", "sbx", "sb":
		return EnvSandbox, true
	case "production", "prod":
		return EnvProduction, true
	case "xcode":
		return EnvXcode, true
	case "localtesting", "local":
		return EnvLocalTesting, true
	}
	return "", false
}

// ParseServerEnvironment is ParseEnvironment limited to the environments of Apple's servers,
// Sandbox and Production: the ones Apple delivers from and its APIs answer for (Xcode and
// LocalTesting data never leaves the developer's machine).
func ParseServerEnvironment(s string) (Environment, bool) {
	env, ok := ParseEnvironment(s)
	if !ok || !env.Server() {
		return "", false
	}
	return env, true
}

// Server reports whether e is an environment of Apple's servers (Sandbox or Production).
func (e Environment) Server() bool { return e == EnvSandbox || e == EnvProduction }

// Notification is the V2 responseBodyV2DecodedPayload. Exactly one of Data, Summary,
// ExternalPurchaseToken and AppData is present.
type Notification struct {
	NotificationType      NotificationType         `json:"notificationType"`
	Subtype               Subtype                  `json:"subtype,omitempty"`
	NotificationUUID      string                   `json:"notificationUUID,omitempty"`
	Data                  *Data                    `json:"data,omitempty"`
	Summary               *RenewalExtensionSummary `json:"summary,omitempty"`
	ExternalPurchaseToken *ExternalPurchaseToken   `json:"externalPurchaseToken,omitempty"`
	AppData               *AppData                 `json:"appData,omitempty"`
	Version               string                   `json:"version,omitempty"`
	SignedDate            Millis                   `json:"signedDate,omitempty"`
}

// Subscription status values of Data.Status.
const (
	StatusActive             = 1
	StatusExpired            = 2
	StatusBillingRetry       = 3
	StatusBillingGracePeriod = 4
	StatusRevoked            = 5
)

// Data is the notification's data object.
type Data struct {
	AppAppleID               int64       `json:"appAppleId,omitempty"`
	BundleID                 string      `json:"bundleId,omitempty"`
	BundleVersion            string      `json:"bundleVersion,omitempty"`
	Environment              Environment `json:"environment,omitempty"`
	SignedTransactionInfo    string      `json:"signedTransactionInfo,omitempty"`
	SignedRenewalInfo        string      `json:"signedRenewalInfo,omitempty"`
	Status                   int         `json:"status,omitempty"`
	ConsumptionRequestReason string      `json:"consumptionRequestReason,omitempty"`
}

// RenewalExtensionSummary is the notification's summary object (RENEWAL_EXTENSION / SUMMARY).
type RenewalExtensionSummary struct {
	Environment            Environment `json:"environment,omitempty"`
	AppAppleID             int64       `json:"appAppleId,omitempty"`
	BundleID               string      `json:"bundleId,omitempty"`
	ProductID              string      `json:"productId,omitempty"`
	RequestIdentifier      string      `json:"requestIdentifier,omitempty"`
	StorefrontCountryCodes []string    `json:"storefrontCountryCodes,omitempty"`
	SucceededCount         int64       `json:"succeededCount,omitempty"`
	FailedCount            int64       `json:"failedCount,omitempty"`
}

// ExternalPurchaseToken is the notification's externalPurchaseToken object.
type ExternalPurchaseToken struct {
	ExternalPurchaseID  string `json:"externalPurchaseId,omitempty"`
	TokenCreationDate   Millis `json:"tokenCreationDate,omitempty"`
	AppAppleID          int64  `json:"appAppleId,omitempty"`
	BundleID            string `json:"bundleId,omitempty"`
	TokenExpirationDate Millis `json:"tokenExpirationDate,omitempty"`
	TokenType           string `json:"tokenType,omitempty"`
}

// Environment derives the token's environment: the SANDBOX prefix of externalPurchaseId is the
// only signal Apple gives.
func (t *ExternalPurchaseToken) Environment() Environment {
	if len(t.ExternalPurchaseID) >= 7 && t.ExternalPurchaseID[:7] == "SANDBOX" {
		return EnvSandbox
	}
	return EnvProduction
}

// AppData is the notification's appData object (RESCIND_CONSENT).
type AppData struct {
	AppAppleID               int64       `json:"appAppleId,omitempty"`
	BundleID                 string      `json:"bundleId,omitempty"`
	Environment              Environment `json:"environment,omitempty"`
	SignedAppTransactionInfo string      `json:"signedAppTransactionInfo,omitempty"`
}

// Transaction is the payload of a signedTransactionInfo (JWSTransactionDecodedPayload).
type Transaction struct {
	OriginalTransactionID         string                `json:"originalTransactionId,omitempty"`
	TransactionID                 string                `json:"transactionId,omitempty"`
	WebOrderLineItemID            string                `json:"webOrderLineItemId,omitempty"`
	BundleID                      string                `json:"bundleId,omitempty"`
	ProductID                     string                `json:"productId,omitempty"`
	SubscriptionGroupIdentifier   string                `json:"subscriptionGroupIdentifier,omitempty"`
	PurchaseDate                  Millis                `json:"purchaseDate,omitempty"`
	OriginalPurchaseDate          Millis                `json:"originalPurchaseDate,omitempty"`
	ExpiresDate                   Millis                `json:"expiresDate,omitempty"`
	Quantity                      int                   `json:"quantity,omitempty"`
	Type                          string                `json:"type,omitempty"` // "Auto-Renewable Subscription", "Non-Consumable", "Consumable", "Non-Renewing Subscription"
	AppAccountToken               string                `json:"appAccountToken,omitempty"`
	InAppOwnershipType            string                `json:"inAppOwnershipType,omitempty"` // PURCHASED, FAMILY_SHARED
	SignedDate                    Millis                `json:"signedDate,omitempty"`
	RevocationReason              *int                  `json:"revocationReason,omitempty"` // 0 other reason, 1 app issue
	RevocationDate                Millis                `json:"revocationDate,omitempty"`
	IsUpgraded                    bool                  `json:"isUpgraded,omitempty"`
	OfferType                     int                   `json:"offerType,omitempty"` // 1 introductory, 2 promotional, 3 offer code, 4 win-back
	OfferIdentifier               string                `json:"offerIdentifier,omitempty"`
	Environment                   Environment           `json:"environment,omitempty"`
	Storefront                    string                `json:"storefront,omitempty"`
	StorefrontID                  string                `json:"storefrontId,omitempty"`
	TransactionReason             string                `json:"transactionReason,omitempty"` // PURCHASE, RENEWAL
	Currency                      string                `json:"currency,omitempty"`
	Price                         int64                 `json:"price,omitempty"` // milliunits
	OfferDiscountType             string                `json:"offerDiscountType,omitempty"`
	AppTransactionID              string                `json:"appTransactionId,omitempty"`
	OfferPeriod                   string                `json:"offerPeriod,omitempty"`
	PreviousOriginalTransactionID string                `json:"previousOriginalTransactionId,omitempty"`
	RevocationType                string                `json:"revocationType,omitempty"`
	RevocationPercentage          int64                 `json:"revocationPercentage,omitempty"` // milliunits of a percent
	AdvancedCommerceInfo          *AdvancedCommerceInfo `json:"advancedCommerceInfo,omitempty"`
	BillingPlanType               string                `json:"billingPlanType,omitempty"`
	CommitmentInfo                *CommitmentInfo       `json:"commitmentInfo,omitempty"`
}

// CommitmentInfo describes a transaction's 12-month commitment plan.
type CommitmentInfo struct {
	BillingPeriodNumber   int    `json:"billingPeriodNumber,omitempty"`
	CommitmentExpiresDate Millis `json:"commitmentExpiresDate,omitempty"`
	CommitmentPrice       int64  `json:"commitmentPrice,omitempty"`
	TotalBillingPeriods   int    `json:"totalBillingPeriods,omitempty"`
}

// RenewalCommitmentInfo describes a renewal's 12-month commitment plan.
type RenewalCommitmentInfo struct {
	CommitmentAutoRenewProductID     string `json:"commitmentAutoRenewProductId,omitempty"`
	CommitmentAutoRenewStatus        *int   `json:"commitmentAutoRenewStatus,omitempty"`
	CommitmentRenewalBillingPlanType string `json:"commitmentRenewalBillingPlanType,omitempty"`
	CommitmentRenewalDate            Millis `json:"commitmentRenewalDate,omitempty"`
	CommitmentRenewalPrice           int64  `json:"commitmentRenewalPrice,omitempty"`
}

// AdvancedCommerceInfo is the Advanced Commerce API part of a transaction or renewal info.
type AdvancedCommerceInfo struct {
	ConsistencyToken   string                 `json:"consistencyToken,omitempty"`
	Descriptors        *AdvancedCommerceDescr `json:"descriptors,omitempty"`
	EstimatedTax       int64                  `json:"estimatedTax,omitempty"`
	Items              []AdvancedCommerceItem `json:"items,omitempty"`
	Period             string                 `json:"period,omitempty"`
	RequestReferenceID string                 `json:"requestReferenceId,omitempty"`
	TaxCode            string                 `json:"taxCode,omitempty"`
	TaxExclusivePrice  int64                  `json:"taxExclusivePrice,omitempty"`
	TaxRate            string                 `json:"taxRate,omitempty"`
}

// AdvancedCommerceDescr is a display name and description.
type AdvancedCommerceDescr struct {
	Description string `json:"description,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// AdvancedCommerceItem is one SKU of an Advanced Commerce purchase.
type AdvancedCommerceItem struct {
	SKU               string                     `json:"SKU,omitempty"`
	Description       string                     `json:"description,omitempty"`
	DisplayName       string                     `json:"displayName,omitempty"`
	Offer             *AdvancedCommerceOffer     `json:"offer,omitempty"`
	Price             int64                      `json:"price,omitempty"`
	Refunds           []AdvancedCommerceRefund   `json:"refunds,omitempty"`
	RevocationDate    Millis                     `json:"revocationDate,omitempty"`
	PriceIncreaseInfo *AdvancedCommercePriceIncr `json:"priceIncreaseInfo,omitempty"`
}

// AdvancedCommerceOffer is a discount on an item.
type AdvancedCommerceOffer struct {
	Period      string `json:"period,omitempty"`
	PeriodCount int    `json:"periodCount,omitempty"`
	Price       int64  `json:"price,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// AdvancedCommerceRefund is one refund of an item.
type AdvancedCommerceRefund struct {
	RefundAmount int64  `json:"refundAmount,omitempty"`
	RefundDate   Millis `json:"refundDate,omitempty"`
	RefundReason string `json:"refundReason,omitempty"`
	RefundType   string `json:"refundType,omitempty"`
}

// AdvancedCommercePriceIncr is a scheduled price increase of an item.
type AdvancedCommercePriceIncr struct {
	DependentSKUs []string `json:"dependentSKUs,omitempty"`
	Price         int64    `json:"price,omitempty"`
	Status        string   `json:"status,omitempty"`
}

// RenewalInfo is the payload of a signedRenewalInfo (JWSRenewalInfoDecodedPayload).
type RenewalInfo struct {
	ExpirationIntent            int                    `json:"expirationIntent,omitempty"` // 1 cancelled, 2 billing error, 3 no price-increase consent, 4 unavailable, 5 other
	OriginalTransactionID       string                 `json:"originalTransactionId,omitempty"`
	AutoRenewProductID          string                 `json:"autoRenewProductId,omitempty"`
	ProductID                   string                 `json:"productId,omitempty"`
	AutoRenewStatus             *int                   `json:"autoRenewStatus,omitempty"` // 0 off, 1 on
	IsInBillingRetryPeriod      *bool                  `json:"isInBillingRetryPeriod,omitempty"`
	PriceIncreaseStatus         *int                   `json:"priceIncreaseStatus,omitempty"`
	GracePeriodExpiresDate      Millis                 `json:"gracePeriodExpiresDate,omitempty"`
	OfferType                   int                    `json:"offerType,omitempty"`
	OfferIdentifier             string                 `json:"offerIdentifier,omitempty"`
	SignedDate                  Millis                 `json:"signedDate,omitempty"`
	Environment                 Environment            `json:"environment,omitempty"`
	RecentSubscriptionStartDate Millis                 `json:"recentSubscriptionStartDate,omitempty"`
	RenewalDate                 Millis                 `json:"renewalDate,omitempty"`
	Currency                    string                 `json:"currency,omitempty"`
	RenewalPrice                int64                  `json:"renewalPrice,omitempty"`
	OfferDiscountType           string                 `json:"offerDiscountType,omitempty"`
	EligibleWinBackOfferIDs     []string               `json:"eligibleWinBackOfferIds,omitempty"`
	AppAccountToken             string                 `json:"appAccountToken,omitempty"`
	AppTransactionID            string                 `json:"appTransactionId,omitempty"`
	OfferPeriod                 string                 `json:"offerPeriod,omitempty"`
	AdvancedCommerceInfo        *AdvancedCommerceInfo  `json:"advancedCommerceInfo,omitempty"`
	CommitmentInfo              *RenewalCommitmentInfo `json:"commitmentInfo,omitempty"`
	RenewalBillingPlanType      string                 `json:"renewalBillingPlanType,omitempty"`
}

// AppTransaction is the payload of a signedAppTransactionInfo.
type AppTransaction struct {
	ReceiptType                Environment `json:"receiptType,omitempty"` // the environment
	AppAppleID                 int64       `json:"appAppleId,omitempty"`
	BundleID                   string      `json:"bundleId,omitempty"`
	ApplicationVersion         string      `json:"applicationVersion,omitempty"`
	VersionExternalIdentifier  int64       `json:"versionExternalIdentifier,omitempty"`
	ReceiptCreationDate        Millis      `json:"receiptCreationDate,omitempty"`
	OriginalPurchaseDate       Millis      `json:"originalPurchaseDate,omitempty"`
	OriginalApplicationVersion string      `json:"originalApplicationVersion,omitempty"`
	DeviceVerification         string      `json:"deviceVerification,omitempty"`
	DeviceVerificationNonce    string      `json:"deviceVerificationNonce,omitempty"`
	PreorderDate               Millis      `json:"preorderDate,omitempty"`
	AppTransactionID           string      `json:"appTransactionId,omitempty"`
	OriginalPlatform           string      `json:"originalPlatform,omitempty"`
}

// NotificationV1 is a legacy version 1 notification body (unsigned, snake_case keys).
type NotificationV1 struct {
	NotificationType          string          `json:"notification_type"`
	Environment               string          `json:"environment,omitempty"` // Sandbox or PROD
	Password                  string          `json:"password,omitempty"`    // the app's shared secret
	BID                       string          `json:"bid,omitempty"`
	BVRS                      string          `json:"bvrs,omitempty"`
	AutoRenewAdamID           json.Number     `json:"auto_renew_adam_id,omitempty"`
	AutoRenewProductID        string          `json:"auto_renew_product_id,omitempty"`
	AutoRenewStatus           string          `json:"auto_renew_status,omitempty"` // "true" / "false"
	AutoRenewStatusChangeDate string          `json:"auto_renew_status_change_date,omitempty"`
	AutoRenewStatusChangeMS   json.Number     `json:"auto_renew_status_change_date_ms,omitempty"`
	AutoRenewStatusChangePST  string          `json:"auto_renew_status_change_date_pst,omitempty"`
	ExpirationIntent          json.Number     `json:"expiration_intent,omitempty"`
	OriginalTransactionID     json.Number     `json:"original_transaction_id,omitempty"`
	UnifiedReceipt            *UnifiedReceipt `json:"unified_receipt,omitempty"`
	Deprecation               string          `json:"deprecation,omitempty"`
}

// UnifiedReceipt is a V1 notification's unified_receipt.
type UnifiedReceipt struct {
	Environment        string             `json:"environment,omitempty"`
	LatestReceipt      string             `json:"latest_receipt,omitempty"`
	LatestReceiptInfo  []V1ReceiptInfo    `json:"latest_receipt_info,omitempty"`
	PendingRenewalInfo []V1PendingRenewal `json:"pending_renewal_info,omitempty"`
	Status             json.Number        `json:"status,omitempty"`
}

// V1ReceiptInfo is one entry of latest_receipt_info; Apple sends every value as a string.
type V1ReceiptInfo struct {
	ProductID             string `json:"product_id,omitempty"`
	TransactionID         string `json:"transaction_id,omitempty"`
	OriginalTransactionID string `json:"original_transaction_id,omitempty"`
	PurchaseDateMS        string `json:"purchase_date_ms,omitempty"`
	ExpiresDateMS         string `json:"expires_date_ms,omitempty"`
	WebOrderLineItemID    string `json:"web_order_line_item_id,omitempty"`
	IsTrialPeriod         string `json:"is_trial_period,omitempty"`
	Quantity              string `json:"quantity,omitempty"`
}

// V1PendingRenewal is one entry of pending_renewal_info.
type V1PendingRenewal struct {
	AutoRenewProductID    string `json:"auto_renew_product_id,omitempty"`
	AutoRenewStatus       string `json:"auto_renew_status,omitempty"`
	OriginalTransactionID string `json:"original_transaction_id,omitempty"`
	ProductID             string `json:"product_id,omitempty"`
	ExpirationIntent      string `json:"expiration_intent,omitempty"`
}
