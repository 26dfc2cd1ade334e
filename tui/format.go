package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/store"
)

// kindOf classifies a V2 (or V1) notificationType for colour.
func kindOf(typ string) kind {
	switch decode.NotificationType(typ) {
	case decode.TypeSubscribed, decode.TypeOneTimeCharge, decode.TypeOfferRedeemed, "INITIAL_BUY": // the last: version 1
		return kindPurchase
	case decode.TypeDidRenew, decode.TypeDidChangeRenewalPref, decode.TypeDidChangeRenewalStatus, decode.TypeRenewalExtended,
		decode.TypeRenewalExtension, decode.TypePriceIncrease,
		"INTERACTIVE_RENEWAL", "DID_RECOVER": // version 1 types
		return kindRenewal
	case decode.TypeDidFailToRenew, decode.TypeExpired, decode.TypeGracePeriodExpired:
		return kindFailure
	case decode.TypeRefund, decode.TypeRefundDeclined, decode.TypeRefundReversed, decode.TypeRevoke, decode.TypeConsumptionRequest, "CANCEL": // the last: version 1
		return kindRefund
	case decode.TypeTest:
		return kindTest
	}
	return kindOther
}

// lifecycle says in words (24 columns at most) what a notification means for the subscription,
// for the timeline.
func lifecycle(typ, subtype string) string {
	sub := decode.Subtype(subtype)
	switch decode.NotificationType(typ) {
	case decode.TypeSubscribed:
		if sub == decode.SubtypeResubscribe {
			return "resubscribed"
		}
		return "subscribed"
	case decode.TypeDidRenew:
		if sub == decode.SubtypeBillingRecovery {
			return "renewed after retry"
		}
		return "renewed"
	case decode.TypeDidFailToRenew:
		if sub == decode.SubtypeGracePeriod {
			return "billing failed, grace"
		}
		return "billing failed, retrying"
	case decode.TypeGracePeriodExpired:
		return "grace period ended"
	case decode.TypeExpired:
		switch sub {
		case decode.SubtypeVoluntary:
			return "expired: user turned off"
		case decode.SubtypeBillingRetry:
			return "expired: billing failed"
		case decode.SubtypePriceIncrease:
			return "expired: price refused"
		}
		return "expired"
	case decode.TypeDidChangeRenewalStatus:
		if sub == decode.SubtypeAutoRenewDisabled {
			return "auto-renew turned off"
		}
		return "auto-renew turned on"
	case decode.TypeDidChangeRenewalPref:
		switch sub {
		case decode.SubtypeUpgrade:
			return "upgraded"
		case decode.SubtypeDowngrade:
			return "downgrade scheduled"
		}
		return "plan change cancelled"
	case decode.TypeRefund:
		return "refunded"
	case decode.TypeRefundDeclined:
		return "refund declined"
	case decode.TypeRefundReversed:
		return "refund reversed"
	case decode.TypeRevoke:
		return "family sharing revoked"
	case decode.TypeConsumptionRequest:
		return "refund requested"
	case decode.TypeOfferRedeemed:
		return "offer redeemed"
	case decode.TypePriceIncrease:
		return "price increase"
	case decode.TypeRenewalExtended:
		return "renewal date extended"
	case decode.TypeOneTimeCharge:
		return "one-time purchase"
	case decode.TypeTest:
		return "test notification"
	}
	return strings.ToLower(strings.ReplaceAll(typ, "_", " "))
}

func typeText(c *store.Capture) string {
	t := c.Type
	if c.Kind == decode.KindRealtimeRequest {
		// Retention Messaging: Apple waits for the answer; its own mark in the list and detail.
		return "⏱ REAL-TIME REQUEST"
	}
	if t == "" {
		t = "(undecoded)"
	}
	if c.Subtype != "" {
		t += " · " + c.Subtype
	}
	return t
}

// trustText is the trust column: decode's one presenter of a label.
func trustText(label decode.Label, class decode.Class) string {
	return label.Text(class)
}

// trust colours a label by its tone, as every output does.
func (s styles) trust(label decode.Label) lipgloss.Style {
	switch label.Tone() {
	case decode.ToneApple:
		return s.TrustOK
	case decode.ToneTest:
		return s.TrustSim
	case decode.ToneInvalid:
		return s.TrustBad
	}
	return s.TrustWeak
}

// trustWords says what the verdict means, after its label in the Summary tab.
func trustWords(label decode.Label, class decode.Class) string {
	switch label {
	case decode.LabelVerified:
		return "signed by Apple (chain to Apple Root CA - G3, Apple OIDs, ES256 signature)"
	case decode.LabelSimulated:
		return "signed by a test chain you trust, not by Apple"
	case decode.LabelXcode:
		return "unsigned, from StoreKit Testing in Xcode; nothing here proves it came from Apple"
	case decode.LabelLegacyV1:
		return "a version 1 notification, unsigned; only the shared secret, if any, vouches for it"
	case decode.LabelInvalid:
		why := map[decode.Class]string{
			decode.ClassFormat:      "it is not a well-formed App Store payload",
			decode.ClassChain:       "its certificate chain does not lead to a trusted root",
			decode.ClassSignature:   "its signature does not match its content",
			decode.ClassIdentity:    "it is for another app (bundle ID or App Apple ID)",
			decode.ClassEnvironment: "it is for another environment",
		}[class]
		if why == "" {
			why = "it failed verification"
		}
		return why + "; the decoded fields are UNVERIFIED"
	}
	return "not decoded yet"
}

func envBadge(env decode.Environment) string {
	switch env {
	case decode.EnvProduction:
		return "PROD"
	case decode.EnvSandbox:
		return "SBX"
	case decode.EnvXcode:
		return "XCODE"
	case decode.EnvLocalTesting:
		return "LOCAL"
	case "":
		return "-"
	}
	return strings.ToUpper(string(env))
}

func (s styles) env(env decode.Environment) lipgloss.Style {
	switch env {
	case decode.EnvProduction:
		return s.EnvProd
	case decode.EnvSandbox:
		return s.EnvSandbox
	}
	return s.EnvOther
}

func (s styles) code(status int) lipgloss.Style {
	switch {
	case status >= 200 && status < 300:
		return s.CodeOK
	case status >= 500 || status == 0:
		return s.CodeBad
	}
	return s.CodeWarn
}

func codeText(status int) string {
	if status == 0 {
		return "-"
	}
	return fmt.Sprint(status)
}

// deliveryText is the list's forwarding column: last attempt's status and latency.
// A later attempt that did not succeed is shown beside the best outcome (store.Forwarding).
func deliveryText(f store.Forwarding) string {
	d := f.Latest
	switch {
	case d.ID == 0 && d.CaptureID == 0:
		return ""
	case skipped(d) && !f.Accepted():
		return "skipped"
	case f.Best.ID == d.ID && d.Status != 0:
		return fmt.Sprintf("%d %s", d.Status, shortDur(d.Latency))
	}
	return f.Outcome()
}

// skipped reports a capture the forwarder kept from its targets (its trust label, a loop): the
// relay announces it without an attempt number, and nothing is stored.
func skipped(d store.Delivery) bool { return d.Attempt == 0 && d.Error != "" }

func shortDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0ms"
	case d < time.Millisecond:
		return "<1ms"
	case d < 10*time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return d.Round(100 * time.Millisecond).String()
}

// cell cuts or pads s (plain text) to exactly w columns.
func cell(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	if pad := w - ansi.StringWidth(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}

// fit cuts a styled line to w columns.
func fit(s string, w int) string {
	if ansi.StringWidth(s) > w {
		return ansi.Truncate(s, w, "…")
	}
	return s
}

// wordwrap wraps s to width columns at spaces only. ansi.Wordwrap also breaks after every hyphen,
// which cuts dates ("2025-10-" / "16T05:22:02Z"), UUIDs and bundle IDs in two; here a word longer
// than a line is the only thing ever cut, and only because it cannot fit.
func wordwrap(s string, width int) string {
	width = max(1, width)
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, w := range strings.Split(para, " ") {
			switch {
			case line == "":
				line = w
			case ansi.StringWidth(line)+1+ansi.StringWidth(w) <= width:
				line += " " + w
			default:
				out = append(out, line)
				line = w
			}
			for ansi.StringWidth(line) > width {
				out = append(out, ansi.Truncate(line, width, ""))
				line = ansi.TruncateLeft(line, width, "")
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// fill lays out parts that must not be broken (a date with its zone, an ID) on lines of width
// columns, two spaces apart, starting a new line rather than cutting one; a part wider than a
// line is word-wrapped.
func fill(width int, parts ...string) []string {
	var out []string
	line := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		switch {
		case line == "":
		case ansi.StringWidth(line)+2+ansi.StringWidth(p) <= width:
			line += "  " + p
			continue
		default:
			out = append(out, line)
		}
		ls := strings.Split(wordwrap(p, width), "\n")
		out = append(out, ls[:len(ls)-1]...)
		line = ls[len(ls)-1]
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}
