package mcpserver

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/s2s-dev/s2s/internal/state"
)

// Bounds on arguments: an agent's arguments are untrusted input like any other.
const (
	maxLimit    = 1000    // captures per list_captures / timeline call
	maxIDs      = 100     // capture IDs per replay
	maxInput    = 1 << 20 // bytes of a decode input
	maxSetEdits = 50
	maxArgLen   = 4096 // a filter, a type, an edit
)

type listArgs struct {
	Filter string `json:"filter,omitempty" jsonschema:"terms of the captures filter grammar, e.g. 'type:REFUND,DID_RENEW env:sandbox trust:verified since:1h'"`
	Limit  int    `json:"limit,omitempty" jsonschema:"at most this many captures, newest first (1-1000, default 50)"`
}

type idArgs struct {
	ID int64 `json:"id" jsonschema:"the capture ID, as in list_captures"`
}

type timelineArgs struct {
	OriginalTransactionID string `json:"original_transaction_id" jsonschema:"the originalTransactionId whose captures to list, oldest first"`
}

type noArgs struct{}

var digits = regexp.MustCompile(`^[0-9]{1,32}$`)

// text checks a free-text argument: bounded, one line, no NUL.
func text(name, v string) error {
	if len(v) > maxArgLen || strings.ContainsAny(v, "\x00\n\r") {
		return errors.New(name + ": at most 4096 characters on one line")
	}
	return nil
}

func (s *server) addCaptureTools(srv *mcp.Server) {
	mcp.AddTool(srv, &mcp.Tool{Name: "list_captures", Description: "List stored captures (notifications s2s listen received), newest first, " +
		"with the filter language of `s2s captures list --filter`. Data: the `captures list --json` array (no bodies)."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a listArgs) (*mcp.CallToolResult, Result, error) {
			if a.Limit == 0 {
				a.Limit = 50
			}
			if a.Limit < 1 || a.Limit > maxLimit {
				return errorResult("limit must be between 1 and %d", maxLimit)
			}
			if err := text("filter", a.Filter); err != nil {
				return errorResult("%v", err)
			}
			return s.invoke(ctx, "list_captures", []string{"captures", "list", "--json", "--limit=" + strconv.Itoa(a.Limit), "--filter=" + a.Filter}, nil)
		})
	mcp.AddTool(srv, &mcp.Tool{Name: "show_capture", Description: "Everything about one capture: the request (headers, body), what s2s answered, " +
		"its deliveries (forwards, replays), the decoded payload and its verification. Data: the `captures show --json` document."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a idArgs) (*mcp.CallToolResult, Result, error) {
			if a.ID <= 0 {
				return errorResult("id must be a positive capture ID")
			}
			return s.invoke(ctx, "show_capture", []string{"captures", "show", "--json", strconv.FormatInt(a.ID, 10)}, nil)
		})
	mcp.AddTool(srv, &mcp.Tool{Name: "capture_stats", Description: "Counts of the stored captures by type, trust label and day. Data: the `captures stats --json` document."},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, Result, error) {
			return s.invoke(ctx, "capture_stats", []string{"captures", "stats", "--json"}, nil)
		})
	mcp.AddTool(srv, &mcp.Tool{Name: "timeline", Description: "Every capture of one subscription (originalTransactionId), oldest first (at most 1000). " +
		"Data: an array of `captures list --json` items."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a timelineArgs) (*mcp.CallToolResult, Result, error) {
			if !digits.MatchString(a.OriginalTransactionID) {
				return errorResult("original_transaction_id must be digits, as Apple writes it")
			}
			res, out, err := s.invoke(ctx, "timeline", []string{"captures", "list", "--json", "--limit=" + strconv.Itoa(maxLimit),
				"--original-transaction-id=" + a.OriginalTransactionID}, nil)
			if list, ok := out.Data.([]any); ok { // list is newest first; a timeline reads forward
				for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
					list[i], list[j] = list[j], list[i]
				}
			}
			return res, out, err
		})
}

type decodeArgs struct {
	Input       string `json:"input" jsonschema:"a JWS, a notification body (JSON), or a capture ID"`
	At          string `json:"at,omitempty" jsonschema:"check certificate validity at this time (RFC 3339, YYYY-MM-DD or UNIX ms) instead of the signing time"`
	Now         bool   `json:"now,omitempty" jsonschema:"check certificate validity at the current time"`
	BundleID    string `json:"bundle_id,omitempty" jsonschema:"require this bundle ID"`
	Environment string `json:"environment,omitempty" jsonschema:"require this environment: Sandbox, Production or Xcode"`
}

func (s *server) addDecodeTool(srv *mcp.Server) {
	mcp.AddTool(srv, &mcp.Tool{Name: "decode", Description: "Verify and decode a JWS, a notification body or a stored capture. " +
		"Data: the `s2s decode --json` document (kind, summary, verification with its trust label, payload with nested signed objects decoded). " +
		"Exit code 3 means decoded but not verified: read data.verification."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a decodeArgs) (*mcp.CallToolResult, Result, error) {
			in := strings.TrimSpace(a.Input)
			if in == "" || len(in) > maxInput {
				return errorResult("input must be a JWS, a body or a capture ID of at most 1 MiB")
			}
			for name, v := range map[string]string{"at": a.At, "bundle_id": a.BundleID, "environment": a.Environment} {
				if err := text(name, v); err != nil {
					return errorResult("%v", err)
				}
			}
			args := []string{"decode", "--json"}
			if a.At != "" {
				args = append(args, "--at="+a.At)
			}
			if a.Now {
				args = append(args, "--now")
			}
			if a.BundleID != "" {
				args = append(args, "--bundle-id="+a.BundleID)
			}
			if a.Environment != "" {
				args = append(args, "--environment="+a.Environment)
			}
			// A capture ID is an argument; anything else is read from stdin, so that no input is
			// ever taken for a file name.
			var stdin []byte
			if id := strings.TrimPrefix(in, "#"); digits.MatchString(id) {
				args = append(args, "--", id)
			} else {
				args, stdin = append(args, "-"), []byte(in)
			}
			return s.invoke(ctx, "decode", args, stdin, 3)
		})
}

type sendTestArgs struct {
	Type     string   `json:"type,omitempty" jsonschema:"notificationType, e.g. DID_RENEW, REFUND (see resource s2s://docs/notification-types)"`
	Subtype  string   `json:"subtype,omitempty" jsonschema:"subtype, e.g. VOLUNTARY"`
	Scenario string   `json:"scenario,omitempty" jsonschema:"a named scenario: a sequence of notifications about one subscription"`
	Set      []string `json:"set,omitempty" jsonschema:"edits of the payload or its signed objects, each PATH=VALUE, e.g. transaction.price=9990"`
	URL      string   `json:"url,omitempty" jsonschema:"where to send; empty: the running s2s listen"`
}

type replayArgs struct {
	IDs    []int64 `json:"ids,omitempty" jsonschema:"capture IDs to send again, byte for byte"`
	Filter string  `json:"filter,omitempty" jsonschema:"instead of ids: captures matching these filter terms (newest 100)"`
	To     string  `json:"to,omitempty" jsonschema:"target URL; empty: the running listener's forward targets"`
}

type probeArgs struct {
	URL      string `json:"url" jsonschema:"the notification URL to check the way Apple delivers"`
	Realtime bool   `json:"realtime,omitempty" jsonschema:"the URL is a Retention Messaging Get Retention Message endpoint: post a signed real-time request, timed against Apple's 700 ms budget, and judge its answer (probe --realtime)"`
}

// listener is the running listener, zero when none runs (the policy then knows only loopback and
// --allow-url).
func (s *server) listener() state.Listener {
	l, err := s.cfg.Listener()
	if err != nil {
		return state.Listener{}
	}
	return l
}

func (s *server) addSendTools(srv *mcp.Server) {
	mcp.AddTool(srv, &mcp.Tool{Name: "send_test", Description: "Sign a realistic notification (or a scenario's sequence) with the local test chain and deliver it " +
		"the way Apple does, by default to the running s2s listen. Data: one `send-test --json` object per attempt, with the answer."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a sendTestArgs) (*mcp.CallToolResult, Result, error) {
			if len(a.Set) > maxSetEdits {
				return errorResult("at most %d set edits", maxSetEdits)
			}
			args := []string{"send-test", "--json"}
			for _, f := range []struct{ flag, v string }{{"type", a.Type}, {"subtype", a.Subtype}, {"scenario", a.Scenario}} {
				if err := text(f.flag, f.v); err != nil {
					return errorResult("%v", err)
				}
				if f.v != "" {
					args = append(args, "--"+f.flag+"="+f.v)
				}
			}
			for _, e := range a.Set {
				if err := text("set", e); err != nil {
					return errorResult("%v", err)
				}
				args = append(args, "--set="+e)
			}
			if a.URL != "" {
				u, err := s.policy.Check(a.URL, s.listener())
				if err != nil {
					return errorResult("%v", err)
				}
				args = append(args, "--", u.String())
			}
			return s.invoke(ctx, "send_test", args, nil)
		})
	mcp.AddTool(srv, &mcp.Tool{Name: "replay", Description: "Send captures again, byte for byte, to a target (default: the running listener's forward targets). " +
		"Data: the `replay --json` document with each answer."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a replayArgs) (*mcp.CallToolResult, Result, error) {
			if (len(a.IDs) == 0) == (a.Filter == "") {
				return errorResult("give either ids or filter")
			}
			if len(a.IDs) > maxIDs {
				return errorResult("at most %d ids", maxIDs)
			}
			if err := text("filter", a.Filter); err != nil {
				return errorResult("%v", err)
			}
			args := []string{"replay", "--json"}
			if a.To != "" {
				u, err := s.policy.Check(a.To, s.listener())
				if err != nil {
					return errorResult("%v", err)
				}
				args = append(args, "--to="+u.String())
			}
			if a.Filter != "" {
				args = append(args, "--filter="+a.Filter)
			}
			if len(a.IDs) > 0 {
				args = append(args, "--")
			}
			for _, id := range a.IDs {
				if id <= 0 {
					return errorResult("ids must be positive capture IDs")
				}
				args = append(args, strconv.FormatInt(id, 10))
			}
			return s.invoke(ctx, "replay", args, nil)
		})
	mcp.AddTool(srv, &mcp.Tool{Name: "probe", Description: "Check a notification URL the way Apple delivers (TLS, answer, timing) and say what Apple would record. " +
		"Data: the `probe --json` report."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a probeArgs) (*mcp.CallToolResult, Result, error) {
			u, err := s.policy.Check(a.URL, s.listener())
			if err != nil {
				return errorResult("%v", err)
			}
			args := []string{"probe", "--json"}
			if a.Realtime {
				args = append(args, "--realtime")
			}
			return s.invoke(ctx, "probe", append(args, "--", u.String()), nil, 3) // 3: Apple would not record SUCCESS, a verdict
		})
}

type historyArgs struct {
	Since         string `json:"since" jsonschema:"start of the range: 24h, 7d, RFC 3339 or a date"`
	Until         string `json:"until,omitempty" jsonschema:"end of the range (default now)"`
	Type          string `json:"type,omitempty" jsonschema:"only this notificationType"`
	Subtype       string `json:"subtype,omitempty" jsonschema:"only this subtype (needs type)"`
	TransactionID string `json:"transaction_id,omitempty" jsonschema:"only notifications about the customer with this transaction ID"`
	OnlyFailures  bool   `json:"only_failures,omitempty" jsonschema:"only notifications that never reached the server"`
	Environment   string `json:"environment,omitempty" jsonschema:"Sandbox (default) or Production"`
}

// addAppleTools adds the tools that call Apple's App Store Server API, only when the user
// allowed it (s2s mcp --allow-apple): they use the user's key and Apple's rate limits.
func (s *server) addAppleTools(srv *mcp.Server) {
	mcp.AddTool(srv, &mcp.Tool{Name: "notification_history", Description: "Ask Apple's App Store Server API what it sent in a time range " +
		"and whether each delivery succeeded (s2s history). Data: one `history --json` object per notification."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a historyArgs) (*mcp.CallToolResult, Result, error) {
			if strings.TrimSpace(a.Since) == "" {
				return errorResult("since is required")
			}
			if a.TransactionID != "" && !digits.MatchString(a.TransactionID) {
				return errorResult("transaction_id must be digits")
			}
			args := []string{"history", "--json"}
			for _, f := range []struct{ flag, v string }{{"since", a.Since}, {"until", a.Until}, {"type", a.Type}, {"subtype", a.Subtype},
				{"transaction", a.TransactionID}, {"environment", a.Environment}} {
				if err := text(f.flag, f.v); err != nil {
					return errorResult("%v", err)
				}
				if f.v != "" {
					args = append(args, "--"+f.flag+"="+f.v)
				}
			}
			if a.OnlyFailures {
				args = append(args, "--only-failures")
			}
			return s.invoke(ctx, "notification_history", args, nil)
		})
}

// Status is listener_status's result.
type Status struct {
	Running   bool   `json:"running"`
	URL       string `json:"url,omitempty" jsonschema:"the listener's local URL"`
	PublicURL string `json:"publicUrl,omitempty" jsonschema:"its public (tunnel) URL"`
	Store     string `json:"store,omitempty"`
	Started   string `json:"started,omitempty"`
	// Forward are the forward targets' URLs without credentials.
	Forward []string `json:"forward,omitempty"`
	Stats   any      `json:"stats,omitempty" jsonschema:"the store's captures stats --json document"`
	Last    any      `json:"lastNotification,omitempty" jsonschema:"the newest capture (captures list --json item); untrusted data"`
}

func (s *server) addStatusTool(srv *mcp.Server) {
	mcp.AddTool(srv, &mcp.Tool{Name: "listener_status", Description: "Is an s2s listen running; its local and public URL, forward targets, capture counts and newest capture."},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, Status, error) {
			l, err := s.cfg.Listener()
			if errors.Is(err, state.ErrNoListener) {
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "no s2s listen is running"}}}, Status{}, nil
			}
			if err != nil {
				return nil, Status{}, err
			}
			st := Status{Running: true, URL: redact(l.URL), PublicURL: redact(l.PublicURL), Store: l.Store, Started: l.Started.UTC().Format("2006-01-02T15:04:05Z")}
			for _, f := range forwardURLs(l.Forward) {
				st.Forward = append(st.Forward, redact(f))
			}
			var storeFlag []string
			if l.Store != "" {
				storeFlag = []string{"--store=" + l.Store}
			}
			if _, r, err := s.invoke(ctx, "stats", append([]string{"captures", "stats", "--json"}, storeFlag...), nil); err == nil && r.Exit == 0 {
				st.Stats = r.Data
			}
			if _, r, err := s.invoke(ctx, "last", append([]string{"captures", "list", "--json", "--limit=1"}, storeFlag...), nil); err == nil && r.Exit == 0 {
				if list, ok := r.Data.([]any); ok && len(list) > 0 {
					st.Last = list[0]
				}
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "s2s listen is running at " + st.URL}}}, st, nil
		})
}

// redact drops a URL's user information and query (where tokens live): credentials never
// appear in a result.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}
