package decode

// PLACEHOLDER: the decode helper replaces this file with the real implementation. It exists so
// other packages compile against the API while it is being written.

import "crypto/x509"

type Notification struct{}
type NotificationV1 struct{}
type Transaction struct{}
type RenewalInfo struct{}
type AppTransaction struct{}

// Verifier verifies and decodes; safe for concurrent use; caches verified chains.
type Verifier struct{ opts Options }

func NewVerifier(o Options) *Verifier { return &Verifier{opts: o} }

// Decode never returns nil: input that is not an App Store object is KindUnknown, invalid/format.
func (v *Verifier) Decode(input []byte) *Decoded {
	return &Decoded{Kind: KindUnknown, Raw: input, Verification: Verification{Label: LabelInvalid, Class: ClassFormat, Message: "not implemented"}}
}

func (d *Decoded) Summary() Summary { return Summary{Kind: d.Kind, Label: d.Verification.Label, Class: d.Verification.Class} }

func (d *Decoded) MarshalJSON() ([]byte, error) { return []byte(`{}`), nil }

func SplitInputs(data []byte) [][]byte { return [][]byte{data} }

func ParseRootsPEM(data []byte) ([]*x509.Certificate, error) { return nil, nil }

func AppleRootG3() *x509.Certificate { return nil }
