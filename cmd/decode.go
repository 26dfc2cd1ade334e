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

	"github.com/spf13/cobra"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/decodeview"
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
	j.err = decodeview.Write(&b, j.d, decodeview.NewStyles(color))
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
			return vo, usageErrorf("--environment %q: use %s", o.Environment, decode.EnvironmentList(", "))
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
