package tui

import (
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
