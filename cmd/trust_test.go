package cmd

import (
	"testing"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/decodeview"
)

// A trust label has one colour in every output: listen's lines and s2s decode colour it by
// decode's tone (simulated was yellow in the lines and cyan elsewhere).
func TestTrustLabelColoursAgree(t *testing.T) {
	ios, _, _, _ := TestIO()
	ios.SetTTY(false, true, true)
	lines := newEventPrinter(ios, "lines").styles
	dec := decodeview.NewStyles(true)
	for _, l := range []decode.Label{decode.LabelVerified, decode.LabelSimulated, decode.LabelXcode, decode.LabelLegacyV1, decode.LabelInvalid} {
		got, want := lines.trust(l).GetForeground(), dec.LabelStyle(l).GetForeground()
		if got != want {
			t.Errorf("%s: lines colour %v, decode colour %v", l, got, want)
		}
	}
	if got := lines.trust(decode.LabelSimulated).Render("simulated"); got == "simulated" {
		t.Error("simulated is not coloured in the lines")
	}
}
