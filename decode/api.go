// Package decode parses, verifies and decodes App Store Server Notifications and the signed
// objects inside them, labelling every payload with exactly one trust label.
package decode

import (
	"crypto/x509"
	"time"
)

// Label is the single trust label every decoded payload carries.
type Label string

const (
	LabelVerified  Label = "verified"       // chains to Apple Root CA G3, Apple OIDs, ES256, identity checks
	LabelSimulated Label = "simulated"      // chains to a test root the user trusts (s2s's own or --root); never Apple
	LabelXcode     Label = "unsigned-xcode" // StoreKit Testing in Xcode
	LabelLegacyV1  Label = "legacy-v1"      // version 1 notification, unsigned
	LabelInvalid   Label = "invalid"        // see Class
)

// Class says why a payload is invalid.
type Class string

const (
	ClassNone        Class = ""
	ClassFormat      Class = "format"
	ClassChain       Class = "chain"
	ClassSignature   Class = "signature"
	ClassIdentity    Class = "identity"
	ClassEnvironment Class = "environment"
)

// Kind is what a decoded input turned out to be.
type Kind string

const (
	KindNotification   Kind = "notification"    // V2 responseBodyV2DecodedPayload
	KindNotificationV1 Kind = "notification-v1" // legacy V1 body
	KindTransaction    Kind = "transaction"     // JWSTransaction
	KindRenewalInfo    Kind = "renewal-info"    // JWSRenewalInfo
	KindAppTransaction Kind = "app-transaction" // AppTransaction
	KindUnknown        Kind = "unknown"         // not an App Store object
)

// CertInfo describes the leaf certificate a payload was signed with.
type CertInfo struct {
	Subject   string    `json:"subject"`
	Serial    string    `json:"serial"` // upper-case hex
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
}

// Verification is the verdict on one JWS (or one V1 body).
type Verification struct {
	Label   Label  `json:"label"`
	Class   Class  `json:"class,omitempty"`
	Message string `json:"message"` // a sentence a developer understands
	// EffectiveTime is the time certificate validity was checked at; TimeSource says where it
	// came from: "signedDate", "receiptCreationDate", "at" (--at), "now" (--now), or
	// "now-fallback" (the payload has no date, so the current time was used).
	EffectiveTime time.Time `json:"effectiveTime,omitzero"`
	TimeSource    string    `json:"timeSource,omitempty"`
	Leaf          *CertInfo `json:"leaf,omitempty"`
	Root          string    `json:"root,omitempty"` // subject CN of the trust anchor that matched
	// RootSHA256 is the SHA-256 fingerprint (lower-case hex) of that trust anchor, so a caller can
	// tell whether a simulated payload chains to a root it was given.
	RootSHA256 string `json:"rootSha256,omitempty"`
	// Nested holds the verdicts of a notification's nested signed objects, keyed by field name
	// (signedTransactionInfo, signedRenewalInfo, signedAppTransactionInfo). Only the combined
	// verdict of a notification has them.
	Nested map[string]*Verification `json:"nested,omitempty"`
}

// Shown is the label to show: a verdict that was never given one (decoding stopped before it)
// reads as invalid, so nothing unverified is ever shown without a label.
func (v Verification) Shown() Label {
	if v.Label == "" {
		return LabelInvalid
	}
	return v.Label
}

// Options configure a Verifier. The zero value verifies against Apple Root CA G3 only, at each
// payload's signedDate, with no identity checks.
type Options struct {
	ExtraRoots  []*x509.Certificate // payloads chaining to one of these are labelled simulated
	At          time.Time           // non-zero: check certificate validity at this time
	Now         bool                // check at the current time (Clock)
	BundleID    string              // non-empty: must match
	AppAppleID  int64               // non-zero: must match, for Production payloads only
	Environment Environment         // non-empty: EnvSandbox, EnvProduction (or EnvXcode to accept Xcode data)
	Clock       func() time.Time    // nil: time.Now
}

// Decoded is one decoded input with its verdict and the nested signed objects, each with its own.
type Decoded struct {
	Kind Kind
	// Verification is the verdict of the whole input: for a notification, the worst of its own
	// JWS and its nested ones (see Combine), with the nested verdicts in Verification.Nested.
	Verification Verification
	// Own is the verdict on this JWS alone, before nested verdicts are combined.
	Own Verification
	Raw []byte // the input exactly as given (body or JWS)
	JWS string // the compact JWS, if any

	Header  map[string]any // JWS header, x5c shortened for display is the caller's business
	Payload []byte         // the decoded JSON payload exactly as signed (unknown fields intact)

	Notification   *Notification   // KindNotification
	V1             *NotificationV1 // KindNotificationV1
	Transaction    *Transaction    // KindTransaction
	RenewalInfo    *RenewalInfo    // KindRenewalInfo
	AppTransaction *AppTransaction // KindAppTransaction
	// RealtimeRequest is a Retention Messaging real-time request (KindRealtimeRequest).
	RealtimeRequest *RealtimeRequest

	// Nested signed objects of a notification, decoded and verified on their own.
	SignedTransactionInfo    *Decoded
	SignedRenewalInfo        *Decoded
	SignedAppTransactionInfo *Decoded
}

// Subject is what a payload is about: which notification, which app in which environment, which
// purchase. Summary and a stored capture (store.Capture) both embed it, so the two share these
// fields and their JSON names; its fields sit where the JSON of each has always had them.
type Subject struct {
	NotificationUUID      string      `json:"notificationUUID,omitempty"`
	Type                  string      `json:"notificationType,omitempty"`
	Subtype               string      `json:"subtype,omitempty"`
	Environment           Environment `json:"environment,omitempty"`
	BundleID              string      `json:"bundleId,omitempty"`
	AppAppleID            int64       `json:"appAppleId,omitempty"`
	OriginalTransactionID string      `json:"originalTransactionId,omitempty"`
	TransactionID         string      `json:"transactionId,omitempty"`
	ProductID             string      `json:"productId,omitempty"`
	AppAccountToken       string      `json:"appAccountToken,omitempty"` // the app's own account ID for the customer
}

// Summary is the flat view of a notification that lists, filters, stores and one-line output use.
// A capture keeps its Subject, SignedDate and Kind, and its verdict as trust, trustClass and
// trustMessage (store.Capture.SetSummary).
type Summary struct {
	Kind Kind `json:"kind"`
	Subject
	RequestIdentifier string    `json:"requestIdentifier,omitempty"` // real-time requests
	UserLocale        string    `json:"userLocale,omitempty"`        // real-time requests
	SignedDate        time.Time `json:"signedDate,omitzero"`
	PurchaseDate      time.Time `json:"purchaseDate,omitzero"`
	ExpiresDate       time.Time `json:"expiresDate,omitzero"`
	Label             Label     `json:"label"`
	Class             Class     `json:"class,omitempty"`
	Message           string    `json:"message,omitempty"`
}
