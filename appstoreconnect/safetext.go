package appstoreconnect

import "github.com/s2s-dev/s2s/internal/termsafe"

// safeText is how Apple's text appears in messages: through the one sanitiser for human output.
func safeText(s string) string { return termsafe.String(s) }
