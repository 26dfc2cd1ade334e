package tui

import (
	"strconv"
	"strings"

	"github.com/s2s-dev/s2s/store"
)

// parseFilter maps the filter bar's text to a store.Filter: prefixed terms (type:, subtype:, env:,
// trust:, product:, bundle:, otid:) set fields; the rest is free text.
func parseFilter(text string) store.Filter {
	var f store.Filter
	var free []string
	for _, tok := range strings.Fields(text) {
		k, v, ok := strings.Cut(tok, ":")
		if !ok || v == "" {
			free = append(free, tok)
			continue
		}
		switch strings.ToLower(k) {
		case "type", "t":
			f.Type = strings.ToUpper(v)
		case "subtype", "sub", "s":
			f.Subtype = strings.ToUpper(v)
		case "env", "environment", "e":
			f.Environment = normEnv(v)
		case "trust", "label":
			f.Trust = normTrust(v)
		case "product", "p":
			f.ProductID = v
		case "bundle", "bundleid":
			f.BundleID = v
		case "otid", "original":
			f.OriginalTransactionID = v
		default:
			free = append(free, tok)
		}
	}
	f.Text = strings.Join(free, " ")
	return f
}

func normEnv(v string) string {
	switch strings.ToLower(v) {
	case "sandbox", "sbx", "sb":
		return "Sandbox"
	case "production", "prod":
		return "Production"
	case "xcode":
		return "Xcode"
	case "localtesting", "local":
		return "LocalTesting"
	}
	return v
}

func normTrust(v string) string {
	switch strings.ToLower(strings.TrimRight(v, "✓✗")) {
	case "verified", "ok":
		return "verified"
	case "simulated", "sim":
		return "simulated"
	case "xcode", "unsigned-xcode", "unsigned":
		return "unsigned-xcode"
	case "v1", "legacy-v1", "legacy":
		return "legacy-v1"
	case "invalid", "bad":
		return "invalid"
	}
	return strings.ToLower(v)
}

// matches decides whether a live capture belongs in the filtered list, as the store would.
func matches(c *store.Capture, f store.Filter) bool {
	// Exact, as in the store: parseFilter already wrote type, subtype, environment and trust in
	// their stored case, and bundle and product IDs are case-sensitive at Apple.
	eq := func(want, got string) bool { return want == "" || want == got }
	if !eq(f.Type, c.Type) || !eq(f.Subtype, c.Subtype) || !eq(f.Environment, c.Environment) ||
		!eq(f.Trust, c.Trust) || !eq(f.BundleID, c.BundleID) || !eq(f.ProductID, c.ProductID) ||
		!eq(f.OriginalTransactionID, c.OriginalTransactionID) || !eq(f.NotificationUUID, c.NotificationUUID) {
		return false
	}
	if f.Text != "" {
		// One substring over several fields, as the store's free-text search does.
		text, found := strings.ToLower(f.Text), false
		for _, v := range []string{c.Type, c.Subtype, c.ProductID, c.OriginalTransactionID, c.TransactionID,
			c.NotificationUUID, c.BundleID, c.Path, strconv.FormatInt(c.AppAppleID, 10)} {
			if strings.Contains(strings.ToLower(v), text) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
