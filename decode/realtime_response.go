package decode

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The answer of a Get Retention Message endpoint is plain JSON, not signed: Apple's
// RealtimeResponseBody with exactly one of message, alternateProduct, promotionalOffer and
// advancedCommerceInfo. s2s reads it as an exact-key reader would (Apple's is one) and says what
// is wrong with it in sentences, one per problem.

// MaxRealtimeResponse bounds the answer s2s reads and validates; Apple's answers are a few hundred
// bytes.
const MaxRealtimeResponse = 64 << 10

// RealtimeResponse is Apple's RealtimeResponseBody.
type RealtimeResponse struct {
	Message              *RealtimeMessage              `json:"message,omitempty"`
	AlternateProduct     *AlternateProduct             `json:"alternateProduct,omitempty"`
	PromotionalOffer     *PromotionalOffer             `json:"promotionalOffer,omitempty"`
	AdvancedCommerceInfo *RealtimeAdvancedCommerceInfo `json:"advancedCommerceInfo,omitempty"`
}

// RealtimeMessage is Apple's Message: a retention message the developer uploaded.
type RealtimeMessage struct {
	MessageIdentifier *string `json:"messageIdentifier,omitempty"`
}

// AlternateProduct is Apple's AlternateProduct: a message with another subscription to offer.
type AlternateProduct struct {
	MessageIdentifier *string `json:"messageIdentifier,omitempty"`
	ProductID         *string `json:"productId,omitempty"`
	BillingPlanType   *string `json:"billingPlanType,omitempty"`
}

// PromotionalOffer is Apple's PromotionalOffer: a message with a signed promotional offer.
type PromotionalOffer struct {
	MessageIdentifier           *string                      `json:"messageIdentifier,omitempty"`
	PromotionalOfferSignatureV2 *string                      `json:"promotionalOfferSignatureV2,omitempty"`
	PromotionalOfferSignatureV1 *PromotionalOfferSignatureV1 `json:"promotionalOfferSignatureV1,omitempty"`
}

// PromotionalOfferSignatureV1 is Apple's PromotionalOfferSignatureV1.
type PromotionalOfferSignatureV1 struct {
	EncodedSignature *string `json:"encodedSignature,omitempty"`
	ProductID        *string `json:"productId,omitempty"`
	Nonce            *string `json:"nonce,omitempty"`
	Timestamp        *int64  `json:"timestamp,omitempty"`
	KeyID            *string `json:"keyId,omitempty"`
	OfferIdentifier  *string `json:"offerIdentifier,omitempty"`
	AppAccountToken  *string `json:"appAccountToken,omitempty"`
}

// RealtimeAdvancedCommerceInfo is Apple's AdvancedCommerceInfo of a real-time answer (Advanced Commerce API apps).
type RealtimeAdvancedCommerceInfo struct {
	MessageIdentifier    *string `json:"messageIdentifier,omitempty"`
	AdvancedCommerceData *string `json:"advancedCommerceData,omitempty"`
}

var realtimeResponseSchema = schemaOf(reflect.TypeFor[RealtimeResponse]())

// Choice names what a valid answer asks Apple to show: "message", "alternateProduct",
// "promotionalOffer" or "advancedCommerceInfo"; empty when the answer chooses nothing.
func (r *RealtimeResponse) Choice() string {
	var c []string
	if r.Message != nil {
		c = append(c, "message")
	}
	if r.AlternateProduct != nil {
		c = append(c, "alternateProduct")
	}
	if r.PromotionalOffer != nil {
		c = append(c, "promotionalOffer")
	}
	if r.AdvancedCommerceInfo != nil {
		c = append(c, "advancedCommerceInfo")
	}
	return strings.Join(c, "+")
}

// ValidateRealtimeResponse reads the body a Get Retention Message endpoint answered with and
// lists its problems, each a sentence; none means Apple can use it. The response is nil when the
// body is not one JSON object s2s could read.
func ValidateRealtimeResponse(body []byte) (*RealtimeResponse, []string) {
	if len(body) > MaxRealtimeResponse {
		return nil, []string{fmt.Sprintf("the answer is larger than %d KiB: it is not a response body Apple reads", MaxRealtimeResponse>>10)}
	}
	t := bytes.TrimSpace(body)
	if len(t) == 0 {
		return nil, []string{"the answer is empty: Apple expects a JSON object choosing a message, an alternate product, a promotional offer or advanced commerce info"}
	}
	if t[0] != '{' {
		return nil, []string{"the answer is not a JSON object: Apple expects a JSON object choosing a message, an alternate product, a promotional offer or advanced commerce info"}
	}
	if _, err := checkJSON(t, "the answer", realtimeResponseSchema, nil); err != nil {
		return nil, []string{err.Error()}
	}
	r := &RealtimeResponse{}
	dec := json.NewDecoder(bytes.NewReader(t))
	dec.DisallowUnknownFields()
	if err := dec.Decode(r); err != nil {
		return nil, []string{responseDecodeError(err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, []string{"the answer has data after its JSON object"}
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	switch c := r.Choice(); {
	case c == "":
		bad("the answer chooses nothing: it needs one of message, alternateProduct, promotionalOffer or advancedCommerceInfo")
	case strings.Contains(c, "+"):
		bad("the answer chooses %s at once: Apple takes exactly one of message, alternateProduct, promotionalOffer or advancedCommerceInfo", strings.ReplaceAll(c, "+", " and "))
	}
	required := func(where string, s *string) {
		switch {
		case s == nil:
			bad("%s is missing", where)
		case strings.TrimSpace(*s) == "":
			bad("%s is empty", where)
		}
	}
	if m := r.Message; m != nil {
		required("message.messageIdentifier", m.MessageIdentifier)
	}
	if a := r.AlternateProduct; a != nil {
		required("alternateProduct.messageIdentifier", a.MessageIdentifier)
		required("alternateProduct.productId", a.ProductID)
		if b := a.BillingPlanType; b != nil && *b != "BILLED_UPFRONT" && *b != "MONTHLY" {
			bad("alternateProduct.billingPlanType is %q: Apple knows BILLED_UPFRONT and MONTHLY", *b)
		}
	}
	if p := r.PromotionalOffer; p != nil {
		required("promotionalOffer.messageIdentifier", p.MessageIdentifier)
		switch {
		case p.PromotionalOfferSignatureV2 == nil && p.PromotionalOfferSignatureV1 == nil:
			bad("promotionalOffer has no signature: it needs promotionalOfferSignatureV2 or promotionalOfferSignatureV1")
		case p.PromotionalOfferSignatureV2 != nil && p.PromotionalOfferSignatureV1 != nil:
			bad("promotionalOffer has both promotionalOfferSignatureV2 and promotionalOfferSignatureV1: give one")
		case p.PromotionalOfferSignatureV2 != nil:
			required("promotionalOffer.promotionalOfferSignatureV2", p.PromotionalOfferSignatureV2)
		default:
			s := p.PromotionalOfferSignatureV1
			const w = "promotionalOffer.promotionalOfferSignatureV1."
			required(w+"encodedSignature", s.EncodedSignature)
			required(w+"productId", s.ProductID)
			required(w+"nonce", s.Nonce)
			required(w+"keyId", s.KeyID)
			required(w+"offerIdentifier", s.OfferIdentifier)
			if s.Timestamp == nil {
				bad("%stimestamp is missing", w)
			}
		}
	}
	if a := r.AdvancedCommerceInfo; a != nil {
		required("advancedCommerceInfo.messageIdentifier", a.MessageIdentifier)
		required("advancedCommerceInfo.advancedCommerceData", a.AdvancedCommerceData)
	}
	return r, problems
}

// responseDecodeError says what encoding/json found, in the answer's terms.
func responseDecodeError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s is a JSON %s, not the %s Apple expects", te.Field, te.Value, jsonTypeName(te.Type))
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "the answer has the key " + f + ", which Apple's response body does not have"
	}
	return "the answer is not valid JSON: " + err.Error()
}

func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int64, reflect.Int:
		return "integer"
	case reflect.Struct:
		return "object"
	}
	return t.String()
}

// CheckRealtimeAnswer judges a whole answer as Apple uses it: status 200, a body not encoded
// (contentEncoding is the answer's Content-Encoding header), and a body that is a valid response
// (ValidateRealtimeResponse). The problems are sentences, none when Apple can use it.
func CheckRealtimeAnswer(status int, contentEncoding string, body []byte) (*RealtimeResponse, []string) {
	var problems []string
	if status != 200 {
		problems = append(problems, fmt.Sprintf("HTTP %d: Apple uses an answer only with status 200", status))
	}
	// Apple's request asks for no compression: an encoded body is read as the JSON it is not.
	if ce := strings.TrimSpace(contentEncoding); ce != "" && !strings.EqualFold(ce, "identity") {
		if len(ce) > 40 || strings.ContainsFunc(ce, func(r rune) bool { return r <= ' ' || r > '~' || r == '"' }) {
			ce = strconv.Quote(ce[:min(len(ce), 40)]) // the server's words, quoted when not a plain token
		}
		problems = append(problems, fmt.Sprintf("%s-encoded answer (Content-Encoding): Apple asks for no compression and reads the body as JSON", ce))
	}
	r, p := ValidateRealtimeResponse(body)
	return r, append(problems, p...)
}

// AnswerJSON is how s2s writes an answer body into JSON output without changing a byte: Answer
// holds it as a string when it is valid UTF-8 (a JSON string cannot carry anything else exactly,
// and control characters come out escaped), AnswerBase64 (standard encoding, padded) otherwise.
// Exactly one is set for a body, even an empty one; neither when there is no answer at all.
type AnswerJSON struct {
	Answer       *string `json:"answer,omitempty"`
	AnswerBase64 string  `json:"answerBase64,omitempty"`
}

// NewAnswerJSON carries body; a nil body (no answer) gives the zero AnswerJSON.
func NewAnswerJSON(body []byte) AnswerJSON {
	switch {
	case body == nil:
		return AnswerJSON{}
	case utf8.Valid(body):
		s := string(body)
		return AnswerJSON{Answer: &s}
	}
	return AnswerJSON{AnswerBase64: base64.StdEncoding.EncodeToString(body)}
}

// Bytes gives back the exact body; nil when there is none.
func (a AnswerJSON) Bytes() ([]byte, error) {
	switch {
	case a.Answer != nil && a.AnswerBase64 != "":
		return nil, errors.New("both answer and answerBase64 are set")
	case a.Answer != nil:
		return []byte(*a.Answer), nil
	case a.AnswerBase64 != "":
		return base64.StdEncoding.DecodeString(a.AnswerBase64)
	}
	return nil, nil
}
