package decode

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// NodeKind is the JSON type of a Node.
type NodeKind byte

const (
	NodeObject NodeKind = '{'
	NodeArray  NodeKind = '['
	NodeString NodeKind = 's'
	NodeNumber NodeKind = 'n'
	NodeBool   NodeKind = 'b'
	NodeNull   NodeKind = 'z'
)

// Node is a JSON value in the order it was signed, with every unknown field intact, so output
// shows exactly what Apple sent. A nested signed object decoded in place has Nested set and
// describes the nested payload; its compact JWS is Nested.JWS.
type Node struct {
	Kind    NodeKind
	Members []Member        // NodeObject, in payload order
	Elems   []*Node         // NodeArray
	Raw     json.RawMessage // scalars: the exact JSON text
	Nested  *Decoded
}

// Member is one key of a JSON object.
type Member struct {
	Key   string
	Value *Node
}

// Get returns the value of key in an object node, or nil.
func (n *Node) Get(key string) *Node {
	if n == nil || n.Kind != NodeObject {
		return nil
	}
	for _, m := range n.Members {
		if m.Key == key {
			return m.Value
		}
	}
	return nil
}

// ParseNode parses JSON text into an ordered tree.
func ParseNode(b []byte) (*Node, error) {
	if n, ok := parseNodeFast(b); ok {
		return n, nil
	}
	return parseNodeTokens(b)
}

// parseNodeTokens is the general parser, on encoding/json's tokenizer: it gives the canonical
// tree and error for everything the fast one declines.
func parseNodeTokens(b []byte) (*Node, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	n, err := parseNode(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON value")
	}
	return n, nil
}

func parseNode(dec *json.Decoder) (*Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &Node{Kind: NodeObject}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := parseNode(dec)
				if err != nil {
					return nil, err
				}
				n.Members = append(n.Members, Member{Key: k, Value: v})
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return n, nil
		case '[':
			n := &Node{Kind: NodeArray}
			for dec.More() {
				v, err := parseNode(dec)
				if err != nil {
					return nil, err
				}
				n.Elems = append(n.Elems, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return n, nil
		}
		return nil, errors.New("unexpected delimiter")
	case string:
		return &Node{Kind: NodeString, Raw: marshalString(t)}, nil
	case json.Number:
		return &Node{Kind: NodeNumber, Raw: json.RawMessage(t)}, nil
	case bool:
		if t {
			return &Node{Kind: NodeBool, Raw: json.RawMessage("true")}, nil
		}
		return &Node{Kind: NodeBool, Raw: json.RawMessage("false")}, nil
	case nil:
		return &Node{Kind: NodeNull, Raw: json.RawMessage("null")}, nil
	}
	return nil, errors.New("unexpected JSON token")
}

func marshalString(s string) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimRight(b.Bytes(), "\n")
}

// String returns a string node's value.
func (n *Node) String() string {
	if n == nil || n.Kind != NodeString {
		return ""
	}
	var s string
	_ = json.Unmarshal(n.Raw, &s)
	return s
}

// AppendJSON writes the node as compact JSON.
func (n *Node) AppendJSON(b []byte) []byte {
	switch n.Kind {
	case NodeObject:
		b = append(b, '{')
		for i, m := range n.Members {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, marshalString(m.Key)...)
			b = append(b, ':')
			b = m.Value.AppendJSON(b)
		}
		return append(b, '}')
	case NodeArray:
		b = append(b, '[')
		for i, e := range n.Elems {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.AppendJSON(b)
		}
		return append(b, ']')
	}
	return append(b, n.Raw...)
}

// Tree is the decoded payload as an ordered tree with the nested signed objects (data's
// signedTransactionInfo and signedRenewalInfo, appData's signedAppTransactionInfo) decoded in
// place. Nil when the payload is not JSON.
func (d *Decoded) Tree() *Node {
	if len(d.Payload) == 0 {
		return nil
	}
	root, err := ParseNode(d.Payload)
	if err != nil {
		return nil
	}
	replace := func(obj *Node, key string, nd *Decoded) {
		if obj == nil || nd == nil {
			return
		}
		for i, m := range obj.Members {
			if m.Key != key || m.Value.Kind != NodeString {
				continue
			}
			inner := nd.Tree()
			if inner == nil {
				inner = &Node{Kind: NodeString, Raw: m.Value.Raw}
			}
			inner.Nested = nd
			obj.Members[i].Value = inner
		}
	}
	if d.Kind == KindNotification {
		data := root.Get("data")
		replace(data, "signedTransactionInfo", d.SignedTransactionInfo)
		replace(data, "signedRenewalInfo", d.SignedRenewalInfo)
		replace(root.Get("appData"), "signedAppTransactionInfo", d.SignedAppTransactionInfo)
	}
	return root
}

// CertSummary describes one certificate of a JWS header's x5c, for display.
type CertSummary struct {
	Subject   string `json:"subject,omitempty"`
	Issuer    string `json:"issuer,omitempty"`
	Serial    string `json:"serial,omitempty"`
	NotBefore string `json:"notBefore,omitempty"`
	NotAfter  string `json:"notAfter,omitempty"`
	Error     string `json:"error,omitempty"`
}

// HeaderForDisplay is the JWS header with each x5c certificate replaced by its summary (the
// certificates themselves are in the JWS).
func (d *Decoded) HeaderForDisplay() map[string]any {
	if d.Header == nil {
		return nil
	}
	out := make(map[string]any, len(d.Header))
	for k, v := range d.Header {
		out[k] = v
	}
	if list, ok := d.Header["x5c"].([]any); ok {
		sums := make([]CertSummary, 0, len(list))
		for _, e := range list {
			s, _ := e.(string)
			sums = append(sums, summarizeCert(s))
		}
		out["x5c"] = sums
	}
	return out
}

// certSummaries caches summaries by the certificate's base64 text: every JWS signed by one leaf
// carries the same three, and parsing them again for each input cost as much as a signature check.
var certSummaries = newBoundedCache[string, *CertSummary](64)

func summarizeCert(s string) CertSummary {
	if c := certSummaries.get(s); c != nil {
		return *c
	}
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return CertSummary{Error: "not base64"}
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return CertSummary{Error: "not a DER certificate"}
	}
	info := certInfo(c)
	sum := CertSummary{Subject: subjectName(c), Issuer: issuerName(c), Serial: info.Serial,
		NotBefore: info.NotBefore.Format("2006-01-02T15:04:05Z"), NotAfter: info.NotAfter.Format("2006-01-02T15:04:05Z")}
	if len(s) <= maxCachedHeader {
		// The header is unverified when it is summarised: a certificate larger than any real one
		// is summarised each time rather than kept.
		certSummaries.put(s, &sum)
	}
	return sum
}

// jsonDoc is the --json document of one input; docs/readme/decode.md describes it.
type jsonDoc struct {
	Kind            Kind              `json:"kind"`
	Summary         Summary           `json:"summary"`
	Verification    Verification      `json:"verification"`
	OwnVerification *Verification     `json:"ownVerification,omitempty"`
	Header          map[string]any    `json:"header,omitempty"`
	Payload         json.RawMessage   `json:"payload,omitempty"`
	PayloadText     string            `json:"payloadText,omitempty"`
	JWS             string            `json:"jws,omitempty"`
	NestedJWS       map[string]string `json:"nestedJws,omitempty"`
	Raw             string            `json:"raw,omitempty"`
}

// MarshalJSON is the --json document: kind, summary, verification (with the nested verdicts),
// the header with x5c summarised, the payload with nested signed objects decoded in place and
// every unknown field kept, and the raw strings.
func (d *Decoded) MarshalJSON() ([]byte, error) {
	t := d.Tree()
	doc := d.jsonDoc(t)
	if t != nil {
		doc.Payload = t.AppendJSON(nil)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// jsonDoc is the document without its payload tree (Payload), which the caller writes.
func (d *Decoded) jsonDoc(tree *Node) *jsonDoc {
	doc := &jsonDoc{Kind: d.Kind, Summary: d.Summary(), Verification: d.Verification, Header: d.HeaderForDisplay(), JWS: d.JWS}
	doc.Verification.Label = d.Verification.Shown()
	if len(d.Verification.Nested) > 0 {
		own := d.Own
		doc.OwnVerification = &own
	}
	if tree == nil && len(d.Payload) > 0 {
		doc.PayloadText = string(d.Payload)
	}
	for _, p := range d.NestedParts() {
		if doc.NestedJWS == nil {
			doc.NestedJWS = map[string]string{}
		}
		doc.NestedJWS[p.Field] = p.Decoded.JWS
	}
	if string(bytes.TrimSpace(d.Raw)) != d.JWS { // compared without a copy
		doc.Raw = string(d.Raw)
	}
	return doc
}

// AppendIndentedJSON appends the --json document indented by two spaces, as json.Indent
// writes MarshalJSON's output, and a newline. It writes the large parts (payload tree, JWS,
// raw input) directly rather than through encoding/json, which would validate and re-indent them.
func (d *Decoded) AppendIndentedJSON(b []byte) ([]byte, error) {
	tree := d.Tree()
	doc := d.jsonDoc(tree)
	// The raw input, the JWS and the nested JWS dominate the size: grow once, not by doublings.
	size := 4096 + len(doc.Raw) + len(doc.JWS) + 2*len(d.Payload) + len(doc.PayloadText)
	for _, j := range doc.NestedJWS {
		size += len(j)
	}
	b = slices.Grow(b, size)
	b = append(b, "{\n  \"kind\": "...)
	b = appendString(b, string(doc.Kind))
	var err error
	small := func(key string, v any) {
		if err != nil {
			return
		}
		b = append(b, ",\n  \""...)
		b = append(b, key...)
		b = append(b, "\": "...)
		b, err = appendIndented(b, v, "  ")
	}
	str := func(key, v string) {
		if v == "" {
			return
		}
		b = append(b, ",\n  \""...)
		b = append(b, key...)
		b = append(b, "\": "...)
		b = appendString(b, v)
	}
	small("summary", doc.Summary)
	small("verification", doc.Verification)
	if doc.OwnVerification != nil {
		small("ownVerification", doc.OwnVerification)
	}
	if len(doc.Header) > 0 {
		small("header", doc.Header)
	}
	if err != nil {
		return nil, err
	}
	if tree != nil {
		b = append(b, ",\n  \"payload\": "...)
		b = tree.appendIndented(b, "  ")
	}
	str("payloadText", doc.PayloadText)
	str("jws", doc.JWS)
	if len(doc.NestedJWS) > 0 {
		b = append(b, ",\n  \"nestedJws\": {"...)
		first := true
		for _, p := range slices.Sorted(maps.Keys(doc.NestedJWS)) {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, "\n    "...)
			b = appendString(b, p)
			b = append(b, ": "...)
			b = appendString(b, doc.NestedJWS[p])
		}
		b = append(b, "\n  }"...)
	}
	str("raw", doc.Raw)
	return append(b, "\n}\n"...), nil
}

// DateNote spells out a millisecond date for people: a member named *Date (version 2) or *_ms
// (version 1) whose value (a JSON number, or a string holding one) is milliseconds since the epoch
// reads as its UTC time, "2025-10-16T05:22:02.000Z"; anything else gives "". The one annotation
// decode's printer and the TUI's Decoded tab both show.
func DateNote(key, value string) string {
	if !(strings.HasSuffix(key, "Date") || strings.HasSuffix(key, "_ms")) {
		return ""
	}
	f, err := strconv.ParseFloat(value, 64)
	if err != nil || f == 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return ""
	}
	return time.UnixMilli(int64(f)).UTC().Format("2006-01-02T15:04:05.000Z")
}
