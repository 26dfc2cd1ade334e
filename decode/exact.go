package decode

import (
	"encoding/json"
	"fmt"
	"reflect"
)

// UnmarshalExact decodes the JSON object b into v (a pointer to a struct) the way exact-key
// readers read it: a duplicate key anywhere, or a key that differs from one of v's json fields
// only by case or Unicode folding, is an error naming where (what describes b, e.g. "Apple's
// answer"). Unknown keys are fine. The App Store Server API client reads Apple's response
// envelopes (hasMore, revision, status, …) with it, so a field that decides something is never
// read differently from the way Apple's own libraries read it.
func UnmarshalExact(b []byte, where string, v any) error {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return fmt.Errorf("decode.UnmarshalExact: want a pointer, got %T", v)
	}
	if _, err := checkJSON(b, where, schemaOf(t), nil); err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// DecodeSignedTransaction decodes a signedTransactionInfo JWS given on its own, as the App Store
// Server API returns it (transaction history, subscription statuses): it must hold a transaction.
func (v *Verifier) DecodeSignedTransaction(jws []byte) *Decoded {
	d := &Decoded{Raw: jws, Kind: KindUnknown}
	v.decodeJWS(d, jws, KindTransaction, 0)
	return d
}

// DecodeSignedRenewalInfo decodes a signedRenewalInfo JWS given on its own, as Get All
// Subscription Statuses returns it: it must hold renewal info.
func (v *Verifier) DecodeSignedRenewalInfo(jws []byte) *Decoded {
	d := &Decoded{Raw: jws, Kind: KindUnknown}
	v.decodeJWS(d, jws, KindRenewalInfo, 0)
	return d
}
