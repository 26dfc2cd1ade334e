package store

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/s2s-dev/s2s/decode"
)

// Filter selects captures. Zero fields match everything. Within one field any of the values may
// match (OR); across fields all must (AND). Results are newest first, paged by keyset: pass the
// smallest ID of the previous page as BeforeID (or, with Ascending, the largest as AfterID).
//
// ParseFilter reads the one filter grammar (FilterHelp) that the TUI's filter bar, the selection
// flags of captures and replay, and listen's forwarding rules all share.
type Filter struct {
	Types                  []string // "TYPE" or "TYPE/SUBTYPE", upper case
	Subtypes               []string // upper case
	Environments           []decode.Environment
	Trusts                 []decode.Label
	BundleIDs              []string      // exact
	Products               []string      // part of the product ID, any case
	OriginalTransactionIDs []string      // exact
	NotificationUUIDs      []string      // exact
	AccountTokens          []string      // appAccountToken, exact (any case: it is a UUID)
	AppAppleIDs            []int64       // appAppleId, exact (real-time requests carry it, not a bundle ID)
	Kinds                  []decode.Kind // what the body held; KindNotification also selects KindNotificationV1
	Text                   string        // free text over type, subtype, product, ids, bundle, path
	Since, Until           time.Time
	BeforeID               int64 // newest first: only captures with a smaller ID
	AfterID                int64 // only captures with a larger ID (next page when Ascending, or "what is new")
	Limit                  int   // 0: 100; negative: no limit
	Ascending              bool  // oldest first (timeline)
}

// FilterHelp is the grammar in one paragraph, for help texts and error messages.
const FilterHelp = `KEY:VALUE terms and free text. Keys: type (TYPE or TYPE/SUBTYPE), subtype, env, trust, product (part of the ID), bundle, app (appAppleId), otid, uuid, account (appAccountToken), kind (notification or realtime-request). A key given twice, or VALUE,VALUE, matches either value; different keys must all match; other words search type, product, IDs, bundle and path.`

// filterKeys are the keys of the grammar with their aliases, in the order messages list them.
var filterKeys = []struct {
	name    string
	aliases []string
	values  string // what a value is, for messages
}{
	{"type", []string{"t"}, "a notificationType such as DID_RENEW, or TYPE/SUBTYPE such as SUBSCRIBED/RESUBSCRIBE"},
	{"subtype", []string{"sub", "s"}, "a subtype such as VOLUNTARY"},
	{"env", []string{"environment", "e"}, decode.EnvironmentList(", ")},
	{"trust", []string{"label"}, strings.Join(TrustLabels(), ", ")},
	{"product", []string{"p"}, "a product ID or part of one"},
	{"bundle", []string{"bundleid", "bundle-id"}, "a bundle ID"},
	{"otid", []string{"original", "original-transaction-id"}, "an originalTransactionId"},
	{"uuid", []string{"notificationuuid"}, "a notificationUUID"},
	{"account", []string{"appaccounttoken"}, "an appAccountToken"},
	{"app", []string{"appappleid", "app-apple-id"}, "an appAppleId (a number)"},
	{"kind", nil, strings.Join(filterKinds(), ", ")},
}

// filterKinds are the kinds of capture a filter accepts: what a notification URL receives.
func filterKinds() []string {
	return []string{string(decode.KindNotification), string(decode.KindNotificationV1), string(decode.KindRealtimeRequest), string(decode.KindUnknown)}
}

// parseKind reads a kind as people type it (any case; realtime for realtime-request, v1 for
// notification-v1).
func parseKind(v string) (decode.Kind, bool) {
	switch k := strings.ToLower(v); k {
	case "realtime", "real-time", "real-time-request":
		return decode.KindRealtimeRequest, true
	case "v1":
		return decode.KindNotificationV1, true
	default:
		if slices.Contains(filterKinds(), k) {
			return decode.Kind(k), true
		}
	}
	return "", false
}

// kindsWith is kinds with what each selects: KindNotification selects V1 notifications too.
func kindsWith(kinds []decode.Kind) []decode.Kind {
	if slices.Contains(kinds, decode.KindNotification) && !slices.Contains(kinds, decode.KindNotificationV1) {
		return append(slices.Clone(kinds), decode.KindNotificationV1)
	}
	return kinds
}

// TrustLabels are the trust labels a filter accepts, in the order messages list them. Each call
// returns a new slice the caller may change.
func TrustLabels() []string {
	return []string{
		string(decode.LabelVerified), string(decode.LabelSimulated), string(decode.LabelXcode),
		string(decode.LabelLegacyV1), string(decode.LabelInvalid),
	}
}

// FilterKeys lists the keys of the grammar.
func FilterKeys() []string {
	keys := make([]string, len(filterKeys))
	for i, k := range filterKeys {
		keys[i] = k.name
	}
	return keys
}

// FilterError is a term the grammar does not accept; its message names the key or value and what
// would be accepted.
type FilterError struct {
	Key   string // the key, "" when the key itself is unknown (then Value is the key)
	Value string // the value refused, "" when it is missing
	Why   string // what is wrong with it
	Valid string // what would be accepted
}

func (e *FilterError) Error() string {
	switch {
	case e.Key == "":
		return fmt.Sprintf("unknown filter key %q; the keys are %s", e.Value, e.Valid)
	case e.Value == "":
		return fmt.Sprintf("%s: needs a value: %s", e.Key, e.Valid)
	}
	return fmt.Sprintf("%s:%s: %s; use %s", e.Key, e.Value, e.Why, e.Valid)
}

// ParseFilter reads filter text: whitespace- or ";"-separated terms KEY:VALUE (or KEY=VALUE, as
// forwarding rules write them), where VALUE may list alternatives with "," or "|"; a word that
// does not start with a key and ":" or "=" is free text. Unknown keys, empty values and values a
// key cannot take are errors, never a filter that silently matches nothing.
func ParseFilter(text string) (Filter, error) {
	var (
		f    Filter
		free []string
	)
	for _, tok := range strings.FieldsFunc(text, func(r rune) bool { return r == ';' || unicode.IsSpace(r) }) {
		key, val, ok := cutTerm(tok)
		if !ok {
			free = append(free, tok)
			continue
		}
		if err := f.AddTerm(key, val); err != nil {
			return Filter{}, err
		}
	}
	f.Text = strings.Join(free, " ")
	return f, nil
}

// cutTerm splits KEY:VALUE or KEY=VALUE when the part before the separator looks like a key
// (letters, '-', '_'), so that times (12:30), URLs' paths and IDs stay free text.
func cutTerm(tok string) (key, val string, ok bool) {
	i := strings.IndexAny(tok, ":=")
	if i <= 0 {
		return "", "", false
	}
	for _, r := range tok[:i] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
			return "", "", false
		}
	}
	return tok[:i], tok[i+1:], true
}

// AddTerm adds the values of one KEY:VALUE term (VALUE may list alternatives with "," or "|") to
// f: the values of a key already present are alternatives to those before (OR). The command-line
// flags (--type, --env, ...) add their values through it, so they read values exactly as the
// filter bar does.
func (f *Filter) AddTerm(key, value string) error {
	k := strings.ToLower(strings.TrimSpace(key))
	name := ""
	for _, fk := range filterKeys {
		if k == fk.name || slices.Contains(fk.aliases, k) {
			name = fk.name
			break
		}
	}
	if name == "" {
		return &FilterError{Value: key, Valid: strings.Join(FilterKeys(), ", ")}
	}
	var vals []string
	for v := range strings.FieldsFuncSeq(value, func(r rune) bool { return r == ',' || r == '|' }) {
		if v = strings.TrimSpace(v); v != "" {
			vals = append(vals, v)
		}
	}
	if len(vals) == 0 {
		return &FilterError{Key: name, Why: "needs a value", Valid: keyValues(name)}
	}
	for _, v := range vals {
		if err := f.addValue(name, v); err != nil {
			return err
		}
	}
	return nil
}

func keyValues(name string) string {
	for _, fk := range filterKeys {
		if fk.name == name {
			return fk.values
		}
	}
	return ""
}

func (f *Filter) addValue(name, v string) error {
	bad := func(why string) error {
		return &FilterError{Key: name, Value: v, Why: why, Valid: keyValues(name)}
	}
	switch name {
	case "type":
		typ, sub, hasSub := strings.Cut(v, "/")
		if !validName(typ) || hasSub && !validName(sub) {
			return bad("not a notificationType")
		}
		addOnce(&f.Types, strings.ToUpper(v))
	case "subtype":
		if !validName(v) {
			return bad("not a subtype")
		}
		addOnce(&f.Subtypes, strings.ToUpper(v))
	case "env":
		env, ok := decode.ParseEnvironment(v)
		if !ok {
			return bad("unknown environment")
		}
		addOnce(&f.Environments, env)
	case "trust":
		label, ok := ParseTrust(v)
		if !ok {
			return bad("unknown trust label")
		}
		addOnce(&f.Trusts, label)
	case "product":
		addOnce(&f.Products, v)
	case "bundle":
		addOnce(&f.BundleIDs, v)
	case "otid":
		addOnce(&f.OriginalTransactionIDs, v)
	case "uuid":
		addOnce(&f.NotificationUUIDs, v)
	case "account":
		addOnce(&f.AccountTokens, strings.ToLower(v))
	case "app":
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return bad("not an appAppleId")
		}
		addOnce(&f.AppAppleIDs, id)
	case "kind":
		k, ok := parseKind(v)
		if !ok {
			return bad("unknown kind")
		}
		addOnce(&f.Kinds, k)
	}
	return nil
}

// addOnce appends v to list unless it is there already.
func addOnce[T comparable](list *[]T, v T) {
	if !slices.Contains(*list, v) {
		*list = append(*list, v)
	}
}

// ParseTrust reads a trust label as people type it (any case, a trailing ✓ or ✗ as the TUI
// shows it, and the short forms ok, sim, xcode, unsigned, v1, legacy, bad).
func ParseTrust(v string) (decode.Label, bool) {
	switch strings.ToLower(strings.TrimRight(strings.TrimSpace(v), "✓✗")) {
	case "verified", "ok":
		return decode.LabelVerified, true
	case "simulated", "sim":
		return decode.LabelSimulated, true
	case "unsigned-xcode", "xcode", "unsigned":
		return decode.LabelXcode, true
	case "legacy-v1", "v1", "legacy":
		return decode.LabelLegacyV1, true
	case "invalid", "bad":
		return decode.LabelInvalid, true
	}
	return "", false
}

// validName accepts Apple's notificationType and subtype spellings (letters, digits, '_').
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// UnknownTypes lists the type and subtype values naming a notificationType or subtype Apple does
// not document: most likely a typo that selects nothing, possibly a type newer than this s2s.
func (f Filter) UnknownTypes() []string {
	var unknown []string
	for _, v := range f.Types {
		typ, sub, hasSub := strings.Cut(v, "/")
		if !decode.NotificationType(typ).Known() || hasSub && !decode.Subtype(sub).Known() {
			unknown = append(unknown, v)
		}
	}
	for _, v := range f.Subtypes {
		if !decode.Subtype(v).Known() {
			unknown = append(unknown, v)
		}
	}
	return unknown
}

// Selective reports whether f has any term (key or free text); paging, order and time bounds
// are not terms.
func (f Filter) Selective() bool { return f.String() != "" }

// String writes f's terms back in the grammar, in key order: what ParseFilter reads as f.
func (f Filter) String() string {
	var parts []string
	for _, t := range []struct {
		key  string
		vals []string
	}{
		{"type", f.Types}, {"subtype", f.Subtypes}, {"env", asStrings(f.Environments)}, {"trust", asStrings(f.Trusts)},
		{"product", f.Products}, {"bundle", f.BundleIDs}, {"otid", f.OriginalTransactionIDs},
		{"uuid", f.NotificationUUIDs}, {"account", f.AccountTokens}, {"app", appIDStrings(f.AppAppleIDs)},
		{"kind", asStrings(f.Kinds)},
	} {
		if len(t.vals) > 0 {
			parts = append(parts, t.key+":"+strings.Join(t.vals, ","))
		}
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		parts = append(parts, t)
	}
	return strings.Join(parts, " ")
}

// appIDStrings is ids in decimal.
func appIDStrings(ids []int64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.FormatInt(id, 10)
	}
	return out
}

// asStrings is vals as plain strings.
func asStrings[T ~string](vals []T) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

// where renders the filter as a WHERE clause over alias c, with its arguments.
func (f Filter) where() (string, []any) {
	var (
		conds []string
		args  []any
	)
	anyOf := func(vals []string, one func(v string) string) {
		if len(vals) == 0 {
			return
		}
		ors := make([]string, len(vals))
		for i, v := range vals {
			ors[i] = one(v)
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	eq := func(col string) func(string) string {
		return func(v string) string {
			args = append(args, v)
			return "c." + col + " = ?"
		}
	}
	anyOf(f.Types, func(v string) string {
		typ, sub, hasSub := strings.Cut(v, "/")
		if !hasSub {
			args = append(args, typ)
			return "c.type = ?"
		}
		args = append(args, typ, sub)
		return "(c.type = ? AND c.subtype = ?)"
	})
	anyOf(f.Subtypes, eq("subtype"))
	anyOf(asStrings(f.Environments), eq("environment"))
	anyOf(asStrings(f.Trusts), eq("trust"))
	anyOf(f.BundleIDs, eq("bundle_id"))
	anyOf(f.Products, func(v string) string {
		args = append(args, "%"+likeEscaper.Replace(v)+"%")
		return `c.product_id LIKE ? ESCAPE '\'`
	})
	anyOf(f.OriginalTransactionIDs, eq("original_transaction_id"))
	anyOf(f.NotificationUUIDs, eq("notification_uuid"))
	anyOf(f.AccountTokens, func(v string) string {
		args = append(args, v)
		return "lower(c.app_account_token) = ?"
	})
	anyOf(appIDStrings(f.AppAppleIDs), func(v string) string {
		id, _ := strconv.ParseInt(v, 10, 64)
		args = append(args, id)
		return "c.app_apple_id = ?"
	})
	anyOf(asStrings(kindsWith(f.Kinds)), eq("kind"))
	if !f.Since.IsZero() {
		conds = append(conds, "c.received_at >= ?")
		args = append(args, nanos(f.Since))
	}
	if !f.Until.IsZero() {
		conds = append(conds, "c.received_at < ?")
		args = append(args, nanos(f.Until))
	}
	if f.BeforeID > 0 {
		conds = append(conds, "c.id < ?")
		args = append(args, f.BeforeID)
	}
	if f.AfterID > 0 {
		conds = append(conds, "c.id > ?")
		args = append(args, f.AfterID)
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		pattern := "%" + likeEscaper.Replace(t) + "%"
		var ors []string
		for _, col := range []string{"c.type", "c.subtype", "c.product_id", "c.notification_uuid",
			"c.original_transaction_id", "c.transaction_id", "c.bundle_id", "c.path", "CAST(c.app_apple_id AS TEXT)"} {
			ors = append(ors, col+` LIKE ? ESCAPE '\'`)
			args = append(args, pattern)
		}
		conds = append(conds, "("+strings.Join(ors, " OR ")+")")
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// oneOf reports whether got is one of vals, or vals is empty (the term is absent).
func oneOf[T comparable](vals []T, got T) bool { return len(vals) == 0 || slices.Contains(vals, got) }

// Match reports whether f selects c, as where does in SQL, for a capture that is not read back
// from the store (a live arrival in the TUI, a notification a forwarding rule routes). Keep the
// two in step.
func (f Filter) Match(c *Capture) bool {
	// Exact, as in SQL: bundle IDs are case-sensitive at Apple.
	if !oneOf(f.Subtypes, c.Subtype) || !oneOf(f.Environments, c.Environment) || !oneOf(f.Trusts, c.Trust) ||
		!oneOf(f.BundleIDs, c.BundleID) || !oneOf(f.OriginalTransactionIDs, c.OriginalTransactionID) ||
		!oneOf(f.NotificationUUIDs, c.NotificationUUID) || !oneOf(f.AccountTokens, strings.ToLower(c.AppAccountToken)) ||
		!oneOf(f.AppAppleIDs, c.AppAppleID) || !oneOf(kindsWith(f.Kinds), c.Kind) {
		return false
	}
	if len(f.Types) > 0 && !slices.ContainsFunc(f.Types, func(v string) bool {
		typ, sub, hasSub := strings.Cut(v, "/")
		return typ == c.Type && (!hasSub || sub == c.Subtype)
	}) {
		return false
	}
	if len(f.Products) > 0 && !slices.ContainsFunc(f.Products, func(v string) bool { return likeContains(c.ProductID, v) }) {
		return false
	}
	if !f.Since.IsZero() && c.ReceivedAt.Before(f.Since) || !f.Until.IsZero() && !c.ReceivedAt.Before(f.Until) {
		return false
	}
	if f.BeforeID > 0 && c.ID >= f.BeforeID || f.AfterID > 0 && c.ID <= f.AfterID {
		return false
	}
	t := strings.TrimSpace(f.Text)
	if t == "" {
		return true
	}
	// One substring over the same fields as the free-text LIKE, without regard to case.
	for _, v := range []string{c.Type, c.Subtype, c.ProductID, c.NotificationUUID, c.OriginalTransactionID,
		c.TransactionID, c.BundleID, c.Path, strconv.FormatInt(c.AppAppleID, 10)} {
		if likeContains(v, t) {
			return true
		}
	}
	return false
}

// likeContains is SQLite's LIKE '%sub%': a substring, ignoring the case of ASCII letters only.
func likeContains(s, sub string) bool {
	return strings.Contains(asciiLower(s), asciiLower(sub))
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}
