package cmd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/spf13/cobra"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/termsafe"
	"github.com/s2s-dev/s2s/store"
)

// decodeOptions are the flags of `s2s decode` and what it gets from the process.
type decodeOptions struct {
	f *Factory

	Args        []string
	JSON        bool
	At          string
	Now         bool
	BundleID    string
	AppAppleID  int64
	Environment string
	Roots       []string
	Store       string

	userRoots map[string]bool // SHA-256 fingerprints of the --root certificates
}

func newDecodeCmd(f *Factory, runF func(*decodeOptions) error) *cobra.Command {
	opts := &decodeOptions{f: f}
	c := &cobra.Command{
		Use:   "decode [FILE|-|JWS|CAPTURE-ID ...]",
		Short: "Verify and decode notifications, signed transactions and captures",
		Long: `Verify and decode App Store Server Notifications (version 2 and the legacy version 1),
signed transactions, renewal infos, app transactions and Retention Messaging
real-time requests.

Each argument is a file (the HTTP body Apple sends, {"signedPayload": ...}, a bare JWS, or
several of them one per line), "-" for standard input, a JWS itself, or the ID of a capture
stored by "s2s listen". With no argument, standard input is read.

Every payload gets exactly one trust label: verified (signed by the App Store, chained to Apple
Root CA - G3), simulated (chained to a test root given with --root), unsigned-xcode (StoreKit
Testing in Xcode), legacy-v1 (version 1, unsigned) or invalid with a class: format, chain,
signature, identity, environment. Nested signedTransactionInfo, signedRenewalInfo and
signedAppTransactionInfo are verified and decoded in place; a notification is only as trusted as
its weakest part.

Certificates are checked at the payload's signedDate, like Apple's own libraries do offline;
--at checks at another time, --now at the current time.

Payloads signed by this machine's own test chain ("s2s send-test", "s2s listen") are labelled
simulated too, but only a --root makes them count as success.

Exit status: 0 every input verified (or simulated through a --root), 1 unreadable or malformed
input, 2 usage, 3 decoded but not verified.`,
		Example: `  # Decode the body Apple posted, saved to a file
  s2s decode body.json

  # A JWS on the command line or through a pipe, as JSON
  pbpaste | s2s decode --json | jq .summary

  # Insist on your app's identity and environment
  s2s decode --bundle-id com.example.app --environment Production --app-apple-id 1234567890 body.json

  # An early-2022 notification without signedDate: check it when it was signed
  s2s decode --at 2022-03-04T09:43:28Z old.jws

  # Trust a test root (payloads chaining to it are labelled simulated)
  s2s decode --root testCA.pem signed.jws

  # Capture 42 from the store of "s2s listen"
  s2s decode 42`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return runDecode(cmd.Context(), opts)
		},
	}
	fl := c.Flags()
	fl.BoolVar(&opts.JSON, "json", false, "print one JSON document per input")
	fl.StringVar(&opts.At, "at", "", "check certificate validity at TIME (RFC 3339, YYYY-MM-DD, or UNIX ms)")
	fl.BoolVar(&opts.Now, "now", false, "check certificate validity at the current time instead of the signing time")
	fl.StringVar(&opts.BundleID, "bundle-id", "", "require this bundle ID")
	fl.Int64Var(&opts.AppAppleID, "app-apple-id", 0, "require this app Apple ID (checked for Production payloads)")
	fl.StringVar(&opts.Environment, "environment", "", "require this environment: Sandbox, Production or Xcode")
	fl.StringArrayVar(&opts.Roots, "root", nil, "also trust the root certificate in the PEM file; payloads chaining to it are simulated (repeatable)")
	fl.StringVar(&opts.Store, "store", "", "capture store for CAPTURE-ID arguments (default: $S2S_STORE or the user data directory)")
	c.MarkFlagsMutuallyExclusive("at", "now")
	_ = c.RegisterFlagCompletionFunc("environment", cobra.FixedCompletions([]string{"Sandbox", "Production", "Xcode"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("root", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"pem", "cer", "crt", "der"}, cobra.ShellCompDirectiveFilterFileExt
	})
	return c
}

func runDecode(ctx context.Context, opts *decodeOptions) error {
	vopts, err := opts.verifierOptions()
	if err != nil {
		return err
	}
	if err := opts.checkInputs(); err != nil {
		return err
	}
	v := decode.NewVerifier(vopts)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if opts.f.Getenv == nil || opts.f.Getenv("GOGC") == "" {
		// The live heap stays small (the window below), so the default target makes the
		// collector run every few inputs; a larger one saves a fifth of the CPU and still keeps
		// memory to tens of megabytes.
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	p := &decodePrinter{opts: opts, order: opts.startDecoding(ctx, v), out: bufio.NewWriterSize(opts.f.IO.Out, 64<<10)}
	if err := p.printAll(ctx); err != nil {
		return err
	}
	if err := p.out.Flush(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case p.failed:
		return &SilentError{Code: ExitError}
	case p.unproven:
		return &ResultError{Silent: true}
	}
	return nil
}

// checkInputs makes no arguments mean standard input (unless it is a terminal), given once.
func (opts *decodeOptions) checkInputs() error {
	if len(opts.Args) == 0 {
		if opts.f.IO.IsStdinTTY() {
			return usageErrorf("nothing to decode: give a file, a JWS or a capture ID, or pipe a body on standard input")
		}
		opts.Args = []string{"-"}
	}
	if i := slices.Index(opts.Args, "-"); i >= 0 && slices.Contains(opts.Args[i+1:], "-") {
		return usageErrorf(`"-" (standard input) can be given once: it is read to its end the first time`)
	}
	return nil
}

// startDecoding reads and cuts the inputs one at a time, and verifies and renders them on every
// core; the jobs come out of the channel it returns in input order, each to be waited for. At most
// window of them are held at once, so memory does not grow with the input.
func (opts *decodeOptions) startDecoding(ctx context.Context, v *decode.Verifier) <-chan *decodeJob {
	color := opts.f.IO.ColorOut()
	workers := runtime.GOMAXPROCS(0)
	window := 4 * workers
	work := make(chan *decodeJob)
	order := make(chan *decodeJob, window)
	for range workers {
		go func() {
			for j := range work {
				j.run(v, opts.JSON, color)
			}
		}()
	}
	go func() {
		defer close(work)
		defer close(order)
		opts.produce(ctx, order, work)
	}()
	return order
}

// decodePrinter prints the decoded inputs in input order, and keeps what the exit status says.
type decodePrinter struct {
	opts     *decodeOptions
	order    <-chan *decodeJob
	out      *bufio.Writer
	failed   bool // an input could not be read or was malformed
	unproven bool // an input decoded but is not verified
	count    int
}

// printAll prints every input as it is decoded; an error stops it (the output is flushed by the caller).
func (p *decodePrinter) printAll(ctx context.Context) error {
	for {
		j, err := p.next(ctx)
		if err != nil {
			return err
		}
		if j == nil {
			return nil
		}
		if j.message != "" {
			if err := p.out.Flush(); err != nil {
				return err
			}
			if ctx.Err() != nil {
				return ctx.Err() // Ctrl-C while reading: 130, not "unreadable input"
			}
			fmt.Fprintf(p.opts.f.IO.ErrOut, "s2s: %s\n", termsafe.String(j.message)) // errors may quote the input
			p.failed = true
			continue
		}
		if j.err != nil {
			return j.err
		}
		if err := p.print(j); err != nil {
			return err
		}
	}
}

// print writes one decoded input and notes its outcome.
func (p *decodePrinter) print(j *decodeJob) error {
	if p.count > 0 && !p.opts.JSON {
		_ = p.out.WriteByte('\n') // a bufio.Writer keeps its first error for Flush, which is checked
	}
	p.count++
	_, err := p.out.Write(j.out)
	if p.opts.JSON {
		putOutBuf(j.out)
	}
	if err != nil {
		return err
	}
	switch {
	case j.d.Verification.Class == decode.ClassFormat:
		p.failed = true
	case !p.opts.accepted(j.d):
		p.unproven = true
	}
	return nil
}

// next waits for what comes next in input order (nil at the end), flushing the output first when
// it is not ready yet, so a slow or interactive input is printed as it is decoded.
func (p *decodePrinter) next(ctx context.Context) (*decodeJob, error) {
	var j *decodeJob
	var ok bool
	select {
	case j, ok = <-p.order:
	default:
		if err := p.out.Flush(); err != nil {
			return nil, err
		}
		select {
		case j, ok = <-p.order:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if !ok {
		return nil, nil
	}
	select {
	case <-j.done:
		return j, nil
	default:
	}
	if err := p.out.Flush(); err != nil {
		return nil, err
	}
	select {
	case <-j.done:
		return j, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// decodeJob is one input on its way through runDecode, or a message about an argument that gave
// none (unreadable, empty).
type decodeJob struct {
	in      []byte
	done    chan struct{} // closed once d and out (or err) are set
	d       *decode.Decoded
	out     []byte
	err     error
	message string
}

func (j *decodeJob) run(v *decode.Verifier, asJSON, color bool) {
	defer close(j.done)
	j.d = v.Decode(j.in)
	if asJSON {
		j.out, j.err = j.d.AppendIndentedJSON(getOutBuf())
		return
	}
	var b bytes.Buffer
	j.err = renderDecodedHuman(&b, j.d, color)
	j.out = b.Bytes()
}

// outBufs recycles the buffers of --json documents (tens of kilobytes each) once printed.
var outBufs sync.Pool

func getOutBuf() []byte {
	if b, ok := outBufs.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return nil
}

func putOutBuf(b []byte) {
	if cap(b) <= 1<<20 {
		outBufs.Put(&b)
	}
}

// produce reads the arguments in order and queues each input they hold: on order for the
// printer, then on work for a verifier. It stops when ctx ends.
func (o *decodeOptions) produce(ctx context.Context, order, work chan<- *decodeJob) {
	var st *store.Store
	defer func() {
		if st != nil {
			st.Close()
		}
	}()
	send := func(j *decodeJob) bool {
		select {
		case order <- j:
		case <-ctx.Done():
			return false
		}
		if j.message != "" {
			return true // nothing to decode
		}
		select {
		case work <- j:
			return true
		case <-ctx.Done():
			return false
		}
	}
	note := func(msg string) bool {
		j := &decodeJob{message: msg, done: make(chan struct{})}
		close(j.done)
		return send(j)
	}
	for _, arg := range o.Args {
		if ctx.Err() != nil {
			return
		}
		r, err := o.open(ctx, arg, &st)
		if err != nil {
			if !note(err.Error()) {
				return
			}
			continue
		}
		s := decode.NewSplitter(r)
		n := 0
		for {
			in, err := s.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if arg == "-" {
					err = fmt.Errorf("reading standard input: %w", err)
				}
				if !note(err.Error()) {
					return
				}
				n = -1
				break
			}
			n++
			if !send(&decodeJob{in: in, done: make(chan struct{})}) {
				return
			}
		}
		r.Close()
		if n == 0 && !note(describeArg(arg)+" is empty") {
			return
		}
	}
}

func (o *decodeOptions) verifierOptions() (decode.Options, error) {
	vo := decode.Options{BundleID: o.BundleID, AppAppleID: o.AppAppleID, Now: o.Now, Clock: o.f.Now}
	if o.At != "" {
		t, err := parseTime(o.At)
		if err != nil {
			return vo, usageErrorf("--at %q: %v", o.At, err)
		}
		vo.At = t
	}
	if o.Environment != "" {
		env, ok := decode.ParseEnvironment(o.Environment)
		if !ok {
			return vo, usageErrorf("--environment %q: use %s", o.Environment, strings.Join(decode.Environments(), ", "))
		}
		vo.Environment = env
	}
	certs, err := loadRoots(o.Roots)
	if err != nil {
		return vo, err
	}
	vo.ExtraRoots = append(vo.ExtraRoots, certs...)
	for _, c := range certs {
		if o.userRoots == nil {
			o.userRoots = map[string]bool{}
		}
		o.userRoots[decode.Fingerprint(c)] = true
	}
	vo.ExtraRoots = append(vo.ExtraRoots, localTestRoots(o.f)...)
	return vo, nil
}

// accepted reports whether a decoded input counts as success: verified, or simulated only
// through roots given with --root (the machine's own test chain labels payloads simulated, but
// a script asking for trust gets exit 3 for them).
func (o *decodeOptions) accepted(d *decode.Decoded) bool {
	if d.Verification.Label != decode.LabelVerified && d.Verification.Label != decode.LabelSimulated {
		return false
	}
	parts := []*decode.Decoded{d}
	for _, p := range d.NestedParts() {
		parts = append(parts, p.Decoded)
	}
	for _, p := range parts {
		switch p.Own.Label {
		case decode.LabelVerified:
		case decode.LabelSimulated:
			if !o.userRoots[p.Own.RootSHA256] {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// parseTime reads --at: RFC 3339 (fractions allowed), a date, or UNIX milliseconds (seconds when
// the number is too small to be milliseconds).
func parseTime(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 100_000_000_000 {
			return time.Unix(n, 0).UTC(), nil
		}
		return time.UnixMilli(n).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("not a time: use RFC 3339 (2022-03-04T09:43:28Z), a date (2022-03-04) or UNIX milliseconds")
}

// open returns the bytes an argument stands for, as a stream: standard input, a file, a capture
// of the store, or the argument itself when it is a JWS or a JSON body.
func (o *decodeOptions) open(ctx context.Context, arg string, st **store.Store) (io.ReadCloser, error) {
	if arg == "-" {
		return io.NopCloser(o.f.IO.In), nil
	}
	if fi, err := os.Stat(arg); err == nil {
		if fi.IsDir() {
			return nil, fmt.Errorf("%s is a directory: give the files in it (s2s decode %s), a JWS, a capture ID, or - for standard input", arg, filepath.Join(arg, "*.json"))
		}
		return os.Open(arg)
	}
	if id, err := strconv.ParseInt(arg, 10, 64); err == nil && id > 0 {
		if *st == nil {
			path := captureStorePath(o.f, o.Store)
			s, err := openExistingStore(path)
			if errors.Is(err, errNoStore) {
				return nil, fmt.Errorf("capture %d: no capture store at %s (run \"s2s listen\" first, or give --store)", id, path)
			}
			if err != nil {
				return nil, err
			}
			*st = s
		}
		c, err := (*st).Get(ctx, id)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, fmt.Errorf("capture %d: not in the store %s", id, (*st).Path())
			}
			return nil, fmt.Errorf("capture %d: %w", id, err)
		}
		return io.NopCloser(bytes.NewReader(c.Body)), nil
	}
	t := strings.TrimSpace(arg)
	if strings.HasPrefix(t, "{") || strings.Count(t, ".") == 2 && !strings.ContainsAny(t, "/\\ ") {
		return io.NopCloser(strings.NewReader(arg)), nil
	}
	return nil, fmt.Errorf("%s: no such file, and not a JWS or a capture ID", arg)
}

// readLineCtx reads one line of an answer, or gives up when ctx ends: s2s catches SIGINT to shut
// down cleanly, so a read from a terminal nobody answers would otherwise ignore Ctrl-C.
func readLineCtx(ctx context.Context, r io.Reader) (string, error) {
	done := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		done <- line
	}()
	select {
	case line := <-done:
		return line, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func describeArg(arg string) string {
	if arg == "-" {
		return "standard input"
	}
	return arg
}

// decodeStyles colour human output; the zero value prints plain text.
type decodeStyles struct {
	key, str, num, lit, dim, bold, ok, sim, warn, bad lipgloss.Style
}

func newDecodeStyles(color bool) decodeStyles {
	if !color {
		return decodeStyles{}
	}
	return decodeStyles{
		key:  lipgloss.NewStyle().Foreground(lipgloss.Blue),
		str:  lipgloss.NewStyle().Foreground(lipgloss.Green),
		num:  lipgloss.NewStyle().Foreground(lipgloss.Magenta),
		lit:  lipgloss.NewStyle().Foreground(lipgloss.Yellow),
		dim:  lipgloss.NewStyle().Faint(true),
		bold: lipgloss.NewStyle().Bold(true),
		ok:   lipgloss.NewStyle().Foreground(lipgloss.Green).Bold(true),
		sim:  lipgloss.NewStyle().Foreground(lipgloss.Cyan).Bold(true),
		warn: lipgloss.NewStyle().Foreground(lipgloss.Yellow).Bold(true),
		bad:  lipgloss.NewStyle().Foreground(lipgloss.Red).Bold(true),
	}
}

func (s decodeStyles) label(l decode.Label, c decode.Class) string {
	text := string(l)
	if c != decode.ClassNone {
		text += "/" + string(c)
	}
	return s.labelStyle(l).Render(text)
}

// labelStyle colours a label by its tone, as every output does.
func (s decodeStyles) labelStyle(l decode.Label) lipgloss.Style {
	switch l.Tone() {
	case decode.ToneApple:
		return s.ok
	case decode.ToneTest:
		return s.sim
	case decode.ToneUnsigned:
		return s.warn
	}
	return s.bad
}

// renderDecodedJSON writes the --json document of one decoded input, indented, with a newline:
// Decoded's MarshalJSON (key order and number text kept) as json.Indent would lay it out.
func renderDecodedJSON(w io.Writer, d *decode.Decoded) error {
	b, err := d.AppendIndentedJSON(nil)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// renderDecodedHuman writes one decoded input for a reader: the summary line, the verdicts,
// then the payload with nested signed objects decoded in place and dates spelled out.
func renderDecodedHuman(w io.Writer, d *decode.Decoded, color bool) error {
	st := newDecodeStyles(color)
	var b strings.Builder
	b.WriteString(summaryLine(d.Summary(), st))
	b.WriteByte('\n')
	ver := d.Verification
	if ver.Label == decode.LabelInvalid {
		fmt.Fprintf(&b, "%s the fields below are NOT verified\n", st.bad.Render("UNVERIFIED:"))
	}
	writeVerdict(&b, "trust", d.Own, st, "")
	for _, p := range d.NestedParts() {
		if nv := ver.Nested[p.Field]; nv != nil {
			writeVerdict(&b, p.Field, *nv, st, "  ")
		}
	}
	if h := headerLine(d); h != "" {
		fmt.Fprintf(&b, "%s %s\n", st.dim.Render("header:"), termsafe.String(h))
	}
	if t := d.Tree(); t != nil {
		writeNode(&b, t, "", "", st)
		b.WriteByte('\n')
	} else if len(d.Payload) > 0 {
		// Not JSON: one escaped line, so its newlines cannot fake lines of this report
		// (decode --json has every byte).
		b.WriteString(termsafe.String(string(d.Payload)))
		b.WriteByte('\n')
	} else if d.Kind == decode.KindUnknown && len(bytes.TrimSpace(d.Raw)) > 0 {
		raw := string(bytes.TrimSpace(d.Raw))
		if len(raw) > 200 {
			raw = raw[:200] + "…"
		}
		fmt.Fprintf(&b, "%s %q\n", st.dim.Render("input:"), raw)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func summaryLine(s decode.Summary, st decodeStyles) string {
	s = printableSummary(s) // before styling: the fields come from the payload
	var parts []string
	if s.Label == decode.LabelInvalid {
		// Decoded fields of an invalid payload never appear without this marker before them.
		parts = append(parts, st.bad.Render("UNVERIFIED"))
	}
	what := s.Type
	if what == "" {
		what = string(s.Kind)
	}
	if s.Subtype != "" {
		what += "/" + s.Subtype
	}
	parts = append(parts, st.bold.Render(what))
	for _, p := range []string{s.Environment, s.BundleID} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	kv := func(k, v string) {
		if v != "" {
			parts = append(parts, st.dim.Render(k+"=")+v)
		}
	}
	kv("product", s.ProductID)
	kv("locale", s.UserLocale)
	kv("originalTransactionId", s.OriginalTransactionID)
	kv("transactionId", s.TransactionID)
	for _, d := range []struct {
		k string
		t time.Time
	}{{"signed", s.SignedDate}, {"purchased", s.PurchaseDate}, {"expires", s.ExpiresDate}} {
		if !d.t.IsZero() {
			kv(d.k, d.t.UTC().Format(time.RFC3339))
		}
	}
	parts = append(parts, st.label(s.Label, s.Class))
	return strings.Join(parts, "  ")
}

func writeVerdict(b *strings.Builder, name string, v decode.Verification, st decodeStyles, indent string) {
	// The message may quote the payload, the leaf's names are the signer's own words.
	fmt.Fprintf(b, "%s%s %s  %s\n", indent, st.dim.Render(name+":"), st.label(v.Shown(), v.Class), termsafe.String(v.Message))
	if v.Leaf != nil {
		fmt.Fprintf(b, "%s  %s %s, serial %s, valid %s to %s\n", indent, st.dim.Render("leaf:"), termsafe.String(v.Leaf.Subject), termsafe.String(v.Leaf.Serial),
			v.Leaf.NotBefore.Format(time.RFC3339), v.Leaf.NotAfter.Format(time.RFC3339))
	}
}

func headerLine(d *decode.Decoded) string {
	h := d.HeaderForDisplay()
	if h == nil {
		return ""
	}
	var parts []string
	for _, k := range []string{"alg", "kid", "typ"} {
		if v, ok := h[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %v", k, v))
		}
	}
	if certs, ok := h["x5c"].([]decode.CertSummary); ok {
		var names []string
		for _, c := range certs {
			if c.Error != "" {
				names = append(names, "("+c.Error+")")
			} else {
				names = append(names, strconv.Quote(c.Subject))
			}
		}
		parts = append(parts, fmt.Sprintf("x5c [%s]", strings.Join(names, ", ")))
	}
	return strings.Join(parts, ", ")
}

// writeNode prints a JSON tree indented, in payload order, with nested signed objects decoded in
// place (their label before the brace) and millisecond dates followed by their ISO form.
func writeNode(b *strings.Builder, n *decode.Node, key, indent string, st decodeStyles) {
	if n.Nested != nil {
		v := n.Nested.Own
		fmt.Fprintf(b, "%s ", st.dim.Render("<"+string(n.Nested.Kind)+", ")+st.label(v.Shown(), v.Class)+st.dim.Render(">"))
	}
	switch n.Kind {
	case decode.NodeObject:
		if len(n.Members) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		for i, m := range n.Members {
			b.WriteString(indent + "  ")
			b.WriteString(st.key.Render(termsafe.String(strconv.Quote(m.Key))))
			b.WriteString(": ")
			writeNode(b, m.Value, m.Key, indent+"  ", st)
			if i < len(n.Members)-1 {
				b.WriteByte(',')
			}
			if note := dateNote(m.Key, m.Value); note != "" {
				b.WriteString("  " + st.dim.Render("// "+note))
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	case decode.NodeArray:
		if len(n.Elems) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		for i, e := range n.Elems {
			b.WriteString(indent + "  ")
			writeNode(b, e, "", indent+"  ", st)
			if i < len(n.Elems)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
	case decode.NodeString:
		// The raw token: JSON escapes stay as written, but C1, bidi and zero-width characters
		// may be there unescaped, and a value may run to megabytes.
		b.WriteString(st.str.Render(termsafe.String(string(n.Raw))))
	case decode.NodeNumber:
		b.WriteString(st.num.Render(string(n.Raw)))
	default:
		b.WriteString(st.lit.Render(string(n.Raw)))
	}
}

// dateNote spells out a millisecond date (decode.DateNote); a nested signed object is not one.
func dateNote(key string, n *decode.Node) string {
	switch {
	case n.Nested != nil:
		return ""
	case n.Kind == decode.NodeNumber:
		return decode.DateNote(key, string(n.Raw))
	case n.Kind == decode.NodeString:
		return decode.DateNote(key, n.String())
	}
	return ""
}
