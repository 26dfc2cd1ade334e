package tui

import (
	"image/color"

	"charm.land/lipgloss/v2"

	"github.com/s2s-dev/s2s/internal/decodeview"
)

// kind groups notification types for colour: what a developer scans the list for.
type kind int

const (
	kindOther kind = iota
	kindPurchase
	kindRenewal
	kindFailure
	kindRefund
	kindTest
)

// styles is built from semantic colours for a light or dark background; with noColor every style
// is plain and the screen relies on markers (▸, [tab]) alone.
type styles struct {
	Title, Dim, Label, Value, URL, Notice, Warn, Error, OK   lipgloss.Style
	ColHeader, Selected, Tab, ActiveTab, Status, Follow, Bar lipgloss.Style
	Kind                                                     map[kind]lipgloss.Style
	EnvProd, EnvSandbox, EnvOther                            lipgloss.Style
	TrustOK, TrustSim, TrustWeak, TrustBad                   lipgloss.Style
	JSONKey, JSONString, JSONNumber, JSONBool                lipgloss.Style
	CodeOK, CodeWarn, CodeBad                                lipgloss.Style
	// Decoded colours the Decoded tab, s2s decode's view (plain without colour).
	Decoded decodeview.Styles
}

func newStyles(isDark, noColor bool) styles {
	plain := lipgloss.NewStyle()
	if noColor {
		s := styles{Kind: map[kind]lipgloss.Style{}}
		for _, p := range []*lipgloss.Style{&s.Title, &s.Dim, &s.Label, &s.Value, &s.URL, &s.Notice, &s.Warn,
			&s.Error, &s.OK, &s.ColHeader, &s.Selected, &s.Tab, &s.ActiveTab, &s.Status, &s.Follow, &s.Bar,
			&s.EnvProd, &s.EnvSandbox, &s.EnvOther, &s.TrustOK, &s.TrustSim, &s.TrustWeak, &s.TrustBad,
			&s.JSONKey, &s.JSONString, &s.JSONNumber, &s.JSONBool,
			&s.CodeOK, &s.CodeWarn, &s.CodeBad} {
			*p = plain
		}
		for k := kindOther; k <= kindTest; k++ {
			s.Kind[k] = plain
		}
		return s
	}
	ld := lipgloss.LightDark(isDark)
	c := func(light, dark string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(dark)) }
	var (
		fg     = c("#1F1F28", "#DCD7BA")
		dim    = c("#6C6C7A", "#8A8A99")
		accent = c("#5A3FD6", "#A78BFA")
		green  = c("#1A7F37", "#3FB950")
		yellow = c("#9A6700", "#D29922")
		red    = c("#CF222E", "#F85149")
		blue   = c("#0550AE", "#58A6FF")
		cyan   = c("#0A6E7C", "#56D4DD")
		purple = c("#8250DF", "#D2A8FF")
		selBg  = c("#DDD6FE", "#3B3355")
		barBg  = c("#EAEAF0", "#26263A")
	)
	s := styles{
		Title:      plain.Bold(true).Foreground(accent),
		Dim:        plain.Foreground(dim),
		Label:      plain.Foreground(dim),
		Value:      plain.Foreground(fg),
		URL:        plain.Foreground(blue),
		Notice:     plain.Bold(true).Foreground(c("#FFFFFF", "#1F1F28")).Background(yellow),
		Warn:       plain.Foreground(yellow),
		Error:      plain.Bold(true).Foreground(red),
		OK:         plain.Foreground(green),
		ColHeader:  plain.Bold(true).Foreground(dim),
		Selected:   plain.Background(selBg).Bold(true),
		Tab:        plain.Foreground(dim),
		ActiveTab:  plain.Bold(true).Foreground(accent),
		Status:     plain.Foreground(fg).Background(barBg),
		Follow:     plain.Bold(true).Foreground(green).Background(barBg),
		Bar:        plain.Foreground(dim).Background(barBg),
		EnvProd:    plain.Bold(true).Foreground(red),
		EnvSandbox: plain.Foreground(blue),
		EnvOther:   plain.Foreground(dim),
		TrustOK:    plain.Foreground(green),
		TrustSim:   plain.Foreground(cyan),
		TrustWeak:  plain.Foreground(yellow),
		TrustBad:   plain.Bold(true).Foreground(red),
		JSONKey:    plain.Foreground(blue),
		JSONString: plain.Foreground(green),
		JSONNumber: plain.Foreground(purple),
		JSONBool:   plain.Foreground(yellow),
		CodeOK:     plain.Foreground(green),
		CodeWarn:   plain.Foreground(yellow),
		CodeBad:    plain.Bold(true).Foreground(red),
		Kind: map[kind]lipgloss.Style{
			kindOther:    plain.Foreground(fg),
			kindPurchase: plain.Foreground(green),
			kindRenewal:  plain.Foreground(blue),
			kindFailure:  plain.Foreground(yellow),
			kindRefund:   plain.Foreground(red),
			kindTest:     plain.Foreground(purple),
		},
	}
	s.Decoded = decodeview.Styles{Key: s.JSONKey, String: s.JSONString, Number: s.JSONNumber, Literal: s.JSONBool,
		Dim: s.Dim, Bold: plain.Bold(true).Foreground(fg), OK: s.TrustOK, Sim: s.TrustSim, Warn: s.TrustWeak, Bad: s.TrustBad}
	return s
}
