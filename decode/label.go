package decode

// Tone is what a trust label means to the person reading it. Every human output (the TUI, listen's
// lines, s2s decode) colours a label by its tone, so a label has one colour everywhere: Apple
// green, test chain cyan, unsigned yellow, invalid red.
type Tone int

const (
	ToneUnknown  Tone = iota // not decoded yet, or a label this version does not know
	ToneApple                // verified: signed by Apple
	ToneTest                 // simulated: signed by a test chain the user trusts
	ToneUnsigned             // unsigned-xcode, legacy-v1: nothing vouches for it
	ToneInvalid              // invalid: failed verification
)

// Tone is l's tone.
func (l Label) Tone() Tone {
	switch l {
	case LabelVerified:
		return ToneApple
	case LabelSimulated:
		return ToneTest
	case LabelXcode, LabelLegacyV1:
		return ToneUnsigned
	case LabelInvalid:
		return ToneInvalid
	}
	return ToneUnknown
}

// Text is the label as a person reads it, the same with or without colour: the glyphs ✓ and ✗
// carry the two verdicts that matter most, and an invalid label names its class.
func (l Label) Text(c Class) string {
	switch l {
	case LabelVerified:
		return "verified ✓"
	case LabelSimulated:
		return "simulated"
	case LabelXcode:
		return "xcode"
	case LabelLegacyV1:
		return "v1"
	case LabelInvalid:
		if c != ClassNone {
			return "invalid ✗ " + string(c)
		}
		return "invalid ✗"
	}
	if l == "" {
		return "?"
	}
	return string(l)
}
