package decode

import "reflect"

// Retention Messaging: when a customer is about to cancel a subscription, Apple POSTs a signed
// real-time request ({"signedPayload": "<JWS>"}, the notifications' transport) to the developer's
// Get Retention Message endpoint and shows the customer what the server answers. Its payload is
// Apple's DecodedRealtimeRequestBody; verifyAndDecodeRealtimeRequest checks the chain, then
// appAppleId (Production only), then environment.

// KindRealtimeRequest is a Retention Messaging real-time request (DecodedRealtimeRequestBody).
const KindRealtimeRequest Kind = "realtime-request"

// kindEndpoint is the kind a body at a developer's endpoint may hold: a notification or a
// real-time request, told apart by the payload's keys. It is only ever a want, never a result.
const kindEndpoint Kind = "notification|realtime-request"

// RealtimeRequest is the payload of a real-time request, Apple's DecodedRealtimeRequestBody.
type RealtimeRequest struct {
	OriginalTransactionID string      `json:"originalTransactionId,omitempty"`
	AppAppleID            int64       `json:"appAppleId,omitempty"`
	ProductID             string      `json:"productId,omitempty"`
	UserLocale            string      `json:"userLocale,omitempty"`
	RequestIdentifier     string      `json:"requestIdentifier,omitempty"`
	SignedDate            Millis      `json:"signedDate,omitempty"`
	Environment           Environment `json:"environment,omitempty"`
}

var realtimeRequestSchema = schemaOf(reflect.TypeFor[RealtimeRequest]())

// DecodeEndpointBody decodes an HTTP body as a developer's endpoint gets it: a notification
// (read as DecodeBody reads it) or a Retention Messaging real-time request, which the payload's
// keys tell apart. Any other signed object in signedPayload is invalid/format, as in DecodeBody.
// The receiver uses it, so one listening URL can stand for both of Apple's endpoints; the kind
// of the result says which one Apple (or a sender) called.
func (v *Verifier) DecodeEndpointBody(body []byte) *Decoded {
	d := &Decoded{Raw: body, Kind: KindUnknown}
	v.decodeBody(d, body, kindEndpoint)
	return d
}

// DecodeRealtimeBody decodes an HTTP body that must hold a real-time request, as a Get Retention
// Message endpoint reads it: a notification there is invalid/format.
func (v *Verifier) DecodeRealtimeBody(body []byte) *Decoded {
	d := &Decoded{Raw: body, Kind: KindUnknown}
	b, err := ReadBody(body)
	switch {
	case err != nil:
		d.Payload = body
		d.setOwn(invalid(ClassFormat, err.Error()))
	case b.V1:
		d.Payload = body
		d.setOwn(invalid(ClassFormat, "the body is a version 1 notification, not a real-time request"))
	default:
		v.decodeJWS(d, b.SignedPayload, KindRealtimeRequest, 0)
	}
	return d
}
