package cmd

import (
	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/termsafe"
)

// printableSummary returns a copy of s for a person to read: its text fields come from the
// payload (signed or not), so each is passed through termsafe.String. JSON output uses s itself.
// It lives here, not in decode, so that decode imports no package of this module.
func printableSummary(s decode.Summary) decode.Summary {
	for _, p := range []*string{&s.NotificationUUID, &s.Type, &s.Subtype, &s.Environment, &s.BundleID,
		&s.OriginalTransactionID, &s.TransactionID, &s.ProductID, &s.Message} {
		*p = termsafe.String(*p)
	}
	return s
}
