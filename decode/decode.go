package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// maxNesting stops a payload from nesting signed objects inside signed objects without end.
const maxNesting = 1

// Decode never returns nil: input that is not an App Store object is KindUnknown, invalid/format.
// The input may be an HTTP body (read with ReadBody's rules), a bare compact JWS of any kind, or
// a JWS in JSON quotes; decode's command line takes all three.
func (v *Verifier) Decode(input []byte) *Decoded {
	d := &Decoded{Raw: input, Kind: KindUnknown}
	t := bytes.TrimSpace(input)
	switch {
	case len(t) == 0:
		d.setOwn(invalid(ClassFormat, "the input is empty"))
	case t[0] == '{':
		// A body given to decode may be a notification or a real-time request.
		v.decodeBody(d, t, kindEndpoint)
	case t[0] == '"':
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			d.setOwn(invalid(ClassFormat, "the input is a quoted string that is not valid JSON"))
			break
		}
		v.decodeJWS(d, []byte(s), KindUnknown, 0)
	default:
		v.decodeJWS(d, t, KindUnknown, 0)
	}
	return d
}

// DecodeBody decodes an HTTP notification body as the receiver gets it, and as captures and
// imports store it: a JSON object read with ReadBody's rules, whose signedPayload must hold a
// notification. Anything else, a bare JWS included, is invalid/format: Apple never sends it and
// the developer's server could not read it as a notification.
func (v *Verifier) DecodeBody(body []byte) *Decoded {
	d := &Decoded{Raw: body, Kind: KindUnknown}
	v.decodeBody(d, body, KindNotification)
	return d
}

// DecodeSignedPayload decodes the JWS of a notification's signedPayload given on its own, as the
// App Store Server API returns it (notification history, test notification status): it must hold
// a notification, as in a body.
func (v *Verifier) DecodeSignedPayload(jws []byte) *Decoded {
	d := &Decoded{Raw: jws, Kind: KindUnknown}
	v.decodeJWS(d, jws, KindNotification, 0)
	return d
}

func invalid(c Class, msg string) Verification {
	return Verification{Label: LabelInvalid, Class: c, Message: msg}
}

func (d *Decoded) setOwn(ver Verification) {
	d.Own = ver
	d.Verification = ver
}

// decodeBody handles a JSON object: Apple's V2 body {"signedPayload": "..."} or a V1 body, read
// by ReadBody. want is the kind its signedPayload must hold: KindNotification, or kindEndpoint
// (a notification or a real-time request).
func (v *Verifier) decodeBody(d *Decoded, body []byte, want Kind) {
	b, err := ReadBody(body)
	switch {
	case err != nil:
		d.Payload = bytes.TrimSpace(body)
		d.setOwn(invalid(ClassFormat, err.Error()))
	case b.V1:
		v.decodeV1(d, bytes.TrimSpace(body))
	default:
		v.decodeJWS(d, b.SignedPayload, want, 0)
	}
}

// plainBody recognises the exact shape Apple sends, {"signedPayload":"<JWS>"} with optional
// whitespace, without a JSON decoder: the JWS alphabet needs no escaping, so such a body is valid
// JSON with that one member. Anything else takes the general path. The JWS is a subslice of b.
func plainBody(b []byte) ([]byte, bool) {
	const key = `"signedPayload"`
	ws := func(i int) int {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
		return i
	}
	i := ws(0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	i = ws(i + 1)
	if !bytes.HasPrefix(b[i:], []byte(key)) {
		return nil, false
	}
	i = ws(i + len(key))
	if i >= len(b) || b[i] != ':' {
		return nil, false
	}
	i = ws(i + 1)
	if i >= len(b) || b[i] != '"' {
		return nil, false
	}
	start := i + 1
	for i = start; i < len(b) && b[i] != '"'; i++ {
		if !jwsByte[b[i]] {
			return nil, false
		}
	}
	if i >= len(b) {
		return nil, false
	}
	end := i
	i = ws(i + 1)
	if i >= len(b) || b[i] != '}' || ws(i+1) != len(b) {
		return nil, false
	}
	return b[start:end], true
}

// jwsByte marks the bytes of a compact JWS (base64url, dots, and the padding some senders keep):
// a table, because plainBody looks at every byte of every body.
var jwsByte = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '='
	}
	return t
}()

// decodeV1 decodes a legacy version 1 body: unsigned, so at best legacy-v1.
func (v *Verifier) decodeV1(d *Decoded, body []byte) {
	d.Kind = KindNotificationV1
	d.Payload = body
	d.V1 = &NotificationV1{}
	if err := json.Unmarshal(body, d.V1); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			d.setOwn(invalid(ClassFormat, fmt.Sprintf("the version 1 body is not valid JSON: %v", err)))
			return
		}
	}
	ver := Verification{Label: LabelLegacyV1, Message: "version 1 notification: unsigned; the only authenticity check is the shared secret in its password field"}
	env := v1Environment(d.V1.Environment)
	switch {
	case v.opts.BundleID != "" && d.V1.BID != v.opts.BundleID:
		ver = invalid(ClassIdentity, fmt.Sprintf("bid is %q, not the expected bundle ID %q (version 1 notification, unsigned)", d.V1.BID, v.opts.BundleID))
	case v.opts.Environment != "" && env != v.opts.Environment:
		ver = invalid(ClassEnvironment, fmt.Sprintf("environment is %q, not the expected %s (version 1 notification, unsigned)", d.V1.Environment, v.opts.Environment))
	}
	d.setOwn(ver)
}

// v1Environment maps V1's "PROD" to the V2 spelling.
func v1Environment(e string) Environment {
	if e == "PROD" {
		return EnvProduction
	}
	return Environment(e)
}

// decodeJWS decodes one compact JWS into d. want is the kind the context implies (a nested field
// or a signedPayload); KindUnknown lets the payload's fields decide.
func (v *Verifier) decodeJWS(d *Decoded, compact []byte, want Kind, depth int) {
	// An endpoint's body is read as a notification, the common case, unless its keys say it is
	// a real-time request (see settleKind).
	accept := want
	if want == kindEndpoint {
		want = KindNotification
	}
	if want != KindUnknown {
		d.Kind = want
	}
	j, compact, ok := v.readJWS(d, compact, want)
	if !ok {
		return
	}
	if !v.settleKind(d, j, compact, want, accept, depth) {
		return
	}
	facts, typeErr, ok := v.readPayload(d, j.payload, depth)
	if !ok {
		return
	}
	d.Own = v.verifyPayload(d, j, facts, typeErr)
	d.Verification = combine(d)
}

// readJWS parses compact into d's JWS, header and payload; false when it is not a JWS whose
// payload is a JSON object (d then carries the reason). The compact it returns is the one parsed.
func (v *Verifier) readJWS(d *Decoded, compact []byte, want Kind) (*jws, []byte, bool) {
	if trimmed := bytes.TrimSpace(compact); len(trimmed) != len(compact) {
		// A JWS in a body, a nested field or an API answer is the exact string the developer's
		// server verifies: Apple's libraries check the signature over it as it is, space and
		// all, and reject it. Only decode's command line (a pasted JWS) forgives the space.
		if want != KindUnknown {
			d.JWS = string(compact)
			d.setOwn(invalid(ClassFormat, "the JWS has white space around it: Apple sends the compact JWS alone, and Apple's libraries verify the string as it is, so the developer's server would reject it"))
			return nil, compact, false
		}
		compact = trimmed
	}
	d.JWS = string(compact)
	j, err := v.parseJWS(d.JWS, compact)
	if err != nil {
		d.setOwn(invalid(ClassFormat, err.Error()))
		return nil, compact, false
	}
	d.Header = j.header
	d.Payload = j.payload
	if p := bytes.TrimLeft(j.payload, " \t\r\n"); len(p) == 0 || p[0] != '{' {
		d.setOwn(invalid(ClassFormat, "the JWS payload is not a JSON object"))
		return nil, compact, false
	}
	return j, compact, true
}

// settleKind checks the payload strictly and settles d.Kind: from its keys for a bare JWS, or
// the kind the context wants. False when d is finished (invalid, or decoded as another kind).
func (v *Verifier) settleKind(d *Decoded, j *jws, compact []byte, want, accept Kind, depth int) bool {
	// One strict pass reads the top-level keys (they tell the kind) and refuses any payload that
	// two readers could read differently: a verified signature over an ambiguous payload would
	// vouch for whichever reading the developer's server makes.
	signals, err := checkJSON(j.payload, payloadWhere(want), schemaFor(want), nil)
	if err != nil {
		d.setOwn(invalid(ClassFormat, err.Error()))
		return false
	}
	if want == KindUnknown {
		// A bare JWS: its keys tell its kind, and the payload is checked again against that
		// kind's fields (decode's command line only; bodies and nested fields know their kind).
		if d.Kind = signals.kind(); d.Kind == KindUnknown {
			d.setOwn(invalid(ClassFormat, notAnAppStoreObject))
			return false
		}
		if _, err := checkJSON(j.payload, payloadWhere(d.Kind), schemaFor(d.Kind), nil); err != nil {
			d.setOwn(invalid(ClassFormat, err.Error()))
			return false
		}
	} else if got := signals.kind(); !signals.has(want) && got != KindUnknown && got != want {
		// A genuine transaction (or other signed object) where a notification belongs is not a
		// notification: Apple's verifyAndDecodeNotification rejects it, and a server that takes
		// the label's word would act on it as one. It is decoded as what it is, for display,
		// and labelled invalid/format whatever its signature. At an endpoint, a real-time
		// request is what it says it is.
		v.decodeJWS(d, compact, got, depth)
		if accept == kindEndpoint && got == KindRealtimeRequest {
			return false
		}
		d.setOwn(kindMismatch(d.Own, got, want, depth))
		return false
	}
	return true
}

const notAnAppStoreObject = "the JWS payload is not an App Store object: it has none of the fields of a notification, transaction, renewal info, app transaction or real-time request"

// payloadFacts are what verification needs from a decoded payload.
type payloadFacts struct {
	date      time.Time // the payload's own signing date
	dateField string    // its name, for messages
	env       Environment
	hint      time.Time // a nested object's signing date, when the payload's own is missing
	hintOf    string
}

// readPayload decodes the payload into d's typed field for d.Kind (a notification's nested JWSs
// too). typeErr is a payload that does not fit its type; false when d.Kind is no App Store object.
func (v *Verifier) readPayload(d *Decoded, payload []byte, depth int) (f payloadFacts, typeErr error, ok bool) {
	f.dateField = "signedDate"
	switch d.Kind {
	case KindNotification:
		n := &Notification{}
		typeErr = unmarshalPayload(payload, n)
		d.Notification = n
		f.date = n.SignedDate.Time()
		f.env, _, _, _ = notificationIdentity(n)
		if depth < maxNesting {
			v.decodeNested(d, n)
		}
		if t := d.SignedTransactionInfo; t != nil && t.Transaction != nil {
			f.hint, f.hintOf = t.Transaction.SignedDate.Time(), "its signed transaction"
		}
		if f.hint.IsZero() && d.SignedRenewalInfo != nil && d.SignedRenewalInfo.RenewalInfo != nil {
			f.hint, f.hintOf = d.SignedRenewalInfo.RenewalInfo.SignedDate.Time(), "its signed renewal info"
		}
	case KindTransaction:
		t := &Transaction{}
		typeErr = unmarshalPayload(payload, t)
		d.Transaction = t
		f.date, f.env = t.SignedDate.Time(), t.Environment
	case KindRenewalInfo:
		r := &RenewalInfo{}
		typeErr = unmarshalPayload(payload, r)
		d.RenewalInfo = r
		f.date, f.env = r.SignedDate.Time(), r.Environment
	case KindAppTransaction:
		a := &AppTransaction{}
		typeErr = unmarshalPayload(payload, a)
		d.AppTransaction = a
		f.date, f.env, f.dateField = a.ReceiptCreationDate.Time(), a.ReceiptType, "receiptCreationDate"
	case KindRealtimeRequest:
		r := &RealtimeRequest{}
		typeErr = unmarshalPayload(payload, r)
		d.RealtimeRequest = r
		f.date, f.env = r.SignedDate.Time(), r.Environment
	default:
		d.setOwn(invalid(ClassFormat, notAnAppStoreObject))
		return f, nil, false
	}
	return f, typeErr, true
}

// verifyPayload is the payload's own label: its type, then its signature (or Xcode's), then its
// identity (bundle ID, app, environment).
func (v *Verifier) verifyPayload(d *Decoded, j *jws, f payloadFacts, typeErr error) Verification {
	var own Verification
	ct := v.effectiveTime(f.date, f.dateField, f.hint, f.hintOf)
	switch {
	case typeErr != nil:
		var te *json.UnmarshalTypeError
		if errors.As(typeErr, &te) {
			own = invalid(ClassFormat, fmt.Sprintf("the %s payload has a field of the wrong type: %v", d.Kind, typeErr))
		} else {
			own = invalid(ClassFormat, fmt.Sprintf("the %s payload is not valid JSON: %v", d.Kind, typeErr))
		}
	case isXcode(j, f.env):
		own = Verification{Label: LabelXcode, Message: "StoreKit Testing in Xcode data: signed by Xcode's local key, not by the App Store; its signature and certificate are not checked"}
	default:
		own = v.verifySignature(j, ct)
	}
	if own.Label != LabelInvalid {
		if bad, ok := v.checkIdentity(d, f.env, own.Label); !ok {
			bad.EffectiveTime, bad.TimeSource, bad.Leaf, bad.Root, bad.RootSHA256 = own.EffectiveTime, own.TimeSource, own.Leaf, own.Root, own.RootSHA256
			own = bad
		}
	}
	return own
}

// kindSignals are the top-level keys of a payload that tell its kind.
type kindSignals uint8

const (
	signalNotification kindSignals = 1 << iota
	signalAppTransaction
	signalTransaction
	signalRenewalInfo
	signalBundleID
	signalEnvironmentOrOriginal
	signalRealtime
)

var kindSignalOf = map[string]kindSignals{
	"notificationType": signalNotification,
	"receiptType":      signalAppTransaction, "receiptCreationDate": signalAppTransaction,
	"applicationVersion": signalAppTransaction, "originalApplicationVersion": signalAppTransaction,
	"transactionId": signalTransaction, "purchaseDate": signalTransaction, "inAppOwnershipType": signalTransaction,
	"quantity": signalTransaction, "webOrderLineItemId": signalTransaction,
	"autoRenewStatus": signalRenewalInfo, "autoRenewProductId": signalRenewalInfo, "expirationIntent": signalRenewalInfo,
	"renewalDate": signalRenewalInfo, "isInBillingRetryPeriod": signalRenewalInfo,
	"requestIdentifier": signalRealtime, "userLocale": signalRealtime,
	"bundleId":    signalBundleID,
	"environment": signalEnvironmentOrOriginal, "originalTransactionId": signalEnvironmentOrOriginal,
}

// kind tells a payload's kind from its top-level keys.
func (s kindSignals) kind() Kind {
	switch {
	case s&signalNotification != 0:
		return KindNotification
	case s&signalRealtime != 0:
		return KindRealtimeRequest
	case s&signalAppTransaction != 0:
		return KindAppTransaction
	case s&signalTransaction != 0:
		return KindTransaction
	case s&signalRenewalInfo != 0:
		return KindRenewalInfo
	case s&signalBundleID != 0:
		return KindTransaction // renewal info has no bundleId
	case s&signalEnvironmentOrOriginal != 0:
		return KindRenewalInfo
	}
	return KindUnknown
}

// has reports whether the keys include one that only a payload of kind k has.
func (s kindSignals) has(k Kind) bool {
	switch k {
	case KindNotification:
		return s&signalNotification != 0
	case KindAppTransaction:
		return s&signalAppTransaction != 0
	case KindTransaction:
		return s&signalTransaction != 0
	case KindRenewalInfo:
		return s&signalRenewalInfo != 0
	case KindRealtimeRequest:
		return s&signalRealtime != 0
	}
	return false
}

// kindName is a kind as a sentence says it.
func kindName(k Kind) string {
	switch k {
	case KindRenewalInfo:
		return "renewal info"
	case KindAppTransaction:
		return "app transaction"
	case KindRealtimeRequest:
		return "real-time request"
	}
	return string(k)
}

// payloadWhere names a payload in messages.
func payloadWhere(k Kind) string {
	switch k {
	case KindNotification:
		return "the notification payload"
	case KindTransaction:
		return "the transaction payload"
	case KindRenewalInfo:
		return "the renewal info payload"
	case KindAppTransaction:
		return "the app transaction payload"
	case KindRealtimeRequest:
		return "the real-time request payload"
	}
	return "the JWS payload"
}

// kindMismatch is the verdict on a signed object of kind got found where a want belongs, keeping
// what was learnt of its signature.
func kindMismatch(own Verification, got, want Kind, depth int) Verification {
	where := "signedPayload holds"
	if depth > 0 {
		where = "it holds"
	}
	msg := fmt.Sprintf("%s a signed %s, not a %s", where, kindName(got), kindName(want))
	switch own.Label {
	case LabelVerified:
		msg += " (its signature is the App Store's, but a genuine " + kindName(got) + " is not a " + kindName(want) + ")"
	case LabelSimulated:
		msg += " (its signature is a trusted test chain's, but a " + kindName(got) + " is not a " + kindName(want) + ")"
	}
	switch want {
	case KindNotification:
		msg += "; Apple's verifyAndDecodeNotification rejects it too"
	case KindRealtimeRequest:
		msg += "; a Get Retention Message endpoint only takes real-time requests"
	}
	res := invalid(ClassFormat, msg)
	res.EffectiveTime, res.TimeSource, res.Leaf, res.Root, res.RootSHA256 = own.EffectiveTime, own.TimeSource, own.Leaf, own.Root, own.RootSHA256
	return res
}

// decodeNested decodes the signed objects inside a notification, each verified on its own.
func (v *Verifier) decodeNested(d *Decoded, n *Notification) {
	nested := func(s string, k Kind) *Decoded {
		nd := &Decoded{Raw: []byte(s), Kind: k}
		v.decodeJWS(nd, nd.Raw, k, 1)
		return nd
	}
	if n.Data != nil {
		if n.Data.SignedTransactionInfo != "" {
			d.SignedTransactionInfo = nested(n.Data.SignedTransactionInfo, KindTransaction)
		}
		if n.Data.SignedRenewalInfo != "" {
			d.SignedRenewalInfo = nested(n.Data.SignedRenewalInfo, KindRenewalInfo)
		}
	}
	if n.AppData != nil && n.AppData.SignedAppTransactionInfo != "" {
		d.SignedAppTransactionInfo = nested(n.AppData.SignedAppTransactionInfo, KindAppTransaction)
	}
}

// notificationIdentity is the environment and app of the first of data, summary,
// externalPurchaseToken and appData present, the order Apple's libraries use; ok is false when
// there is none of them.
func notificationIdentity(n *Notification) (env Environment, bundleID string, appAppleID int64, ok bool) {
	switch {
	case n.Data != nil:
		return n.Data.Environment, n.Data.BundleID, n.Data.AppAppleID, true
	case n.Summary != nil:
		return n.Summary.Environment, n.Summary.BundleID, n.Summary.AppAppleID, true
	case n.ExternalPurchaseToken != nil:
		t := n.ExternalPurchaseToken
		return t.Environment(), t.BundleID, t.AppAppleID, true
	case n.AppData != nil:
		return n.AppData.Environment, n.AppData.BundleID, n.AppData.AppAppleID, true
	}
	return "", "", 0, false
}

// checkIdentity applies §3.5 after a good signature: identity first, then environment. Data that
// claims the Xcode environment under an App Store or test chain is rejected even when no
// environment was asked for: the App Store never signs Xcode data.
func (v *Verifier) checkIdentity(d *Decoded, env Environment, label Label) (Verification, bool) {
	var (
		bundle     string
		appID      int64
		hasBundle  bool // the object has a bundle id to compare
		hasAppID   bool
		noIdentity bool
	)
	switch d.Kind {
	case KindNotification:
		var ok bool
		_, bundle, appID, ok = notificationIdentity(d.Notification)
		noIdentity = !ok
		hasBundle, hasAppID = true, true
	case KindTransaction:
		bundle, hasBundle = d.Transaction.BundleID, true
	case KindAppTransaction:
		bundle, appID, hasBundle, hasAppID = d.AppTransaction.BundleID, d.AppTransaction.AppAppleID, true, true
	case KindRealtimeRequest:
		// Apple's verifyAndDecodeRealtimeRequest checks appAppleId (Production) and environment.
		appID, hasAppID = d.RealtimeRequest.AppAppleID, true
	}
	what := string(d.Kind)
	if label != LabelXcode && (env == EnvXcode || env == EnvLocalTesting) {
		return invalid(ClassEnvironment, fmt.Sprintf("the %s says environment %s but carries an App Store certificate chain; the App Store never signs %s data", what, env, env)), false
	}
	if noIdentity && (v.opts.BundleID != "" || v.opts.Environment != "") {
		return invalid(ClassIdentity, "the notification has no data, summary, externalPurchaseToken or appData object, so its bundle ID and environment cannot be checked"), false
	}
	if hasBundle && v.opts.BundleID != "" && bundle != v.opts.BundleID {
		return invalid(ClassIdentity, fmt.Sprintf("the %s is for bundle ID %q, not %q (--bundle-id)", what, bundle, v.opts.BundleID)), false
	}
	production := v.opts.Environment == EnvProduction || (v.opts.Environment == "" && env == EnvProduction)
	if hasAppID && v.opts.AppAppleID != 0 && production && appID != v.opts.AppAppleID {
		if appID == 0 {
			return invalid(ClassIdentity, fmt.Sprintf("the Production %s has no appAppleId; expected %d (--app-apple-id)", what, v.opts.AppAppleID)), false
		}
		return invalid(ClassIdentity, fmt.Sprintf("the Production %s is for appAppleId %d, not %d (--app-apple-id)", what, appID, v.opts.AppAppleID)), false
	}
	if v.opts.Environment != "" && env != v.opts.Environment {
		if env == "" {
			return invalid(ClassEnvironment, fmt.Sprintf("the %s has no environment; expected %s (--environment)", what, v.opts.Environment)), false
		}
		if label == LabelXcode {
			return invalid(ClassEnvironment, fmt.Sprintf("StoreKit Testing in Xcode data is not signed by the App Store and is never valid for %s (--environment)", v.opts.Environment)), false
		}
		return invalid(ClassEnvironment, fmt.Sprintf("the %s is from the %s environment, not %s (--environment)", what, env, v.opts.Environment)), false
	}
	return Verification{}, true
}

// rank orders labels from best to worst; a notification is as trustworthy as its weakest part.
func rank(l Label) int {
	switch l {
	case LabelVerified:
		return 0
	case LabelSimulated:
		return 1
	case LabelXcode:
		return 2
	case LabelLegacyV1:
		return 3
	}
	return 4
}

// combine gives a notification the worst verdict of its own JWS and its nested ones: a
// notification whose nested transaction is invalid is invalid, with the class and message of
// that transaction. The nested verdicts stay available, each in Nested.
func combine(d *Decoded) Verification {
	res := d.Own
	for _, p := range d.NestedParts() {
		nv := p.Decoded.Own
		if res.Nested == nil {
			res.Nested = map[string]*Verification{}
		}
		res.Nested[p.Field] = &nv
		if rank(nv.Label) > rank(res.Label) {
			res.Label, res.Class = nv.Label, nv.Class
			res.Message = p.Field + ": " + nv.Message
		}
	}
	return res
}

// NestedPart is one signed object nested in a notification, under Apple's field name for it.
type NestedPart struct {
	Field   string // signedTransactionInfo, signedRenewalInfo or signedAppTransactionInfo
	Decoded *Decoded
}

// NestedParts lists the nested signed objects d holds, in the order Apple documents them.
func (d *Decoded) NestedParts() []NestedPart {
	var parts []NestedPart
	for _, p := range []NestedPart{
		{"signedTransactionInfo", d.SignedTransactionInfo},
		{"signedRenewalInfo", d.SignedRenewalInfo},
		{"signedAppTransactionInfo", d.SignedAppTransactionInfo},
	} {
		if p.Decoded != nil {
			parts = append(parts, p)
		}
	}
	return parts
}

// unmarshalObject decodes a JSON object, rejecting anything else and trailing data.
func unmarshalObject(b []byte, dst any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return errors.New("not a JSON object")
	}
	return json.Unmarshal(b, dst)
}
