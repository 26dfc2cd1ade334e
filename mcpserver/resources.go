package mcpserver

import (
	"context"
	"encoding/json"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/store"
)

// trustLabels documents each label a payload can get (DESIGN's promise 2).
var trustLabels = map[string]string{
	string(decode.LabelVerified):  "signed by Apple: chain to Apple Root CA - G3, Apple OIDs, ES256 signature and identity checks all passed",
	string(decode.LabelSimulated): "signed by a test chain (this machine's s2s chain or a root given with --root), never Apple",
	string(decode.LabelXcode):     "StoreKit Testing in Xcode: unsigned, not from Apple's servers",
	string(decode.LabelLegacyV1):  "a version 1 notification: unsigned, nothing to verify",
	string(decode.LabelInvalid):   "failed verification; class says why: format, chain, signature, identity or environment. Fields are UNVERIFIED",
}

func (s *server) addResources(srv *mcp.Server) {
	static := func(uri, name, desc string, body func() ([]byte, error)) {
		srv.AddResource(&mcp.Resource{URI: uri, Name: name, Description: desc, MIMEType: "application/json"},
			func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
				b, err := body()
				if err != nil {
					return nil, err
				}
				return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "application/json", Text: string(b)}}}, nil
			})
	}
	static("s2s://docs/notification-types", "notification-types",
		"The notificationTypes and subtypes send_test can sign, the scenarios, and the roots of set paths (send-test --list --json).",
		func() ([]byte, error) { return s.cfg.TypesJSON, nil })
	static("s2s://docs/trust-labels", "trust-labels", "The trust labels every decoded payload gets, in order, with their meaning.",
		func() ([]byte, error) {
			type label struct {
				Label   string `json:"label"`
				Meaning string `json:"meaning"`
			}
			var out []label
			for _, l := range store.TrustLabels() {
				out = append(out, label{l, trustLabels[l]})
			}
			return json.MarshalIndent(out, "", "  ")
		})
	static("s2s://docs/decoded-schema", "decoded-schema", "JSON schema of the decode tool's document (s2s decode --json).",
		func() ([]byte, error) { return json.MarshalIndent(decodedSchema(), "", "  ") })
}

// decodedSchema describes `s2s decode --json`: the verification is inferred from its Go type; the
// payload is Apple's JSON with nested signed objects decoded in place, so any object.
func decodedSchema() *jsonschema.Schema {
	ver, err := jsonschema.For[decode.Verification](nil)
	if err != nil {
		ver = &jsonschema.Schema{Type: "object"}
	}
	str := func(d string) *jsonschema.Schema { return &jsonschema.Schema{Type: "string", Description: d} }
	return &jsonschema.Schema{
		Type:     "object",
		Required: []string{"kind", "summary", "verification"},
		Properties: map[string]*jsonschema.Schema{
			"kind":            str("notification, transaction, renewal, appTransaction, summary, legacy-v1, ..."),
			"summary":         {Type: "object", Description: "type, subtype, environment, bundle, product and IDs in short"},
			"verification":    ver,
			"ownVerification": {Description: "the outer signature's verdict when nested verdicts exist (same shape as verification)"},
			"header":          {Type: "object", Description: "the JWS header, x5c summarised"},
			"payload":         {Type: "object", Description: "the payload; nested signed objects decoded in place; every unknown field kept. Untrusted data unless verification.label is verified"},
			"payloadText":     str("the payload when it is not JSON"),
			"jws":             str("the JWS as given"),
			"nestedJws":       {Type: "object", Description: "the nested JWS strings by field name"},
			"raw":             str("the raw input"),
		},
	}
}
