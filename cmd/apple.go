package cmd

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/paths"
	"github.com/s2s-dev/s2s/internal/termsafe"
)

// appleCredentials are the In-App Purchase key and issuer that App Store Server API calls need.
type appleCredentials struct {
	KeyID, IssuerID, PrivateKeyPath string
	BaseURL                         string // empty: Apple's host for the environment (or S2S_APPSTORE_URL); tests point it at a stand-in
	// Wait is how long send-test --apple waits for Apple to record a send attempt.
	Wait time.Duration
	// pollInterval is the first wait between status polls (0: 1 s); tests shorten it.
	pollInterval time.Duration
	// retry overrides the client's retry policy; tests shorten its waits.
	retry appstore.RetryPolicy
}

// Environment variables that stand in for the credential flags (and, for tests and proxies, the
// API's base URL).
const (
	envKeyID       = "S2S_KEY_ID"
	envIssuerID    = "S2S_ISSUER_ID"
	envPrivateKey  = "S2S_PRIVATE_KEY"
	envAppStoreURL = "S2S_APPSTORE_URL"
	envBundleID    = "S2S_BUNDLE_ID"
	envDebug       = "S2S_DEBUG"
)

// addFlags registers --key-id, --issuer-id and --private-key (with S2S_* environment fallbacks)
// and --apple-wait.
func (c *appleCredentials) addFlags(fs *pflag.FlagSet) {
	c.addKeyFlags(fs)
	fs.DurationVar(&c.Wait, "apple-wait", 2*time.Minute, "with --apple, how long to wait for Apple to record its send attempt")
}

// addKeyFlags registers the credential flags alone (s2s history has no use for --apple-wait).
func (c *appleCredentials) addKeyFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.KeyID, "key-id", "", "In-App Purchase key ID from App Store Connect (default $"+envKeyID+")")
	fs.StringVar(&c.IssuerID, "issuer-id", "", "issuer ID from App Store Connect → Users and Access → Integrations (default $"+envIssuerID+")")
	fs.StringVar(&c.PrivateKeyPath, "private-key", "", "the In-App Purchase key `FILE` (.p8) (default $"+envPrivateKey+")")
}

// resolve fills empty fields from the environment and says, for the command named who, what is
// still missing.
func (c appleCredentials) resolve(getenv paths.Getenv, who string) (appleCredentials, error) {
	fill := func(v *string, env string) {
		if *v == "" {
			*v = strings.TrimSpace(getenv(env))
		}
	}
	fill(&c.KeyID, envKeyID)
	fill(&c.IssuerID, envIssuerID)
	fill(&c.PrivateKeyPath, envPrivateKey)
	fill(&c.BaseURL, envAppStoreURL)
	var missing []string
	for _, m := range []struct{ v, flag string }{
		{c.KeyID, "--key-id"}, {c.IssuerID, "--issuer-id"}, {c.PrivateKeyPath, "--private-key"},
	} {
		if m.v == "" {
			missing = append(missing, m.flag)
		}
	}
	if len(missing) > 0 {
		return c, usageErrorf("%s needs --key-id, --issuer-id and --private-key (or %s, %s and %s); missing %s. "+
			"Create an In-App Purchase key in App Store Connect → Users and Access → Integrations → In-App Purchase: "+
			"the page shows the issuer ID and the key ID, and lets you download the key's .p8 file once",
			who, envKeyID, envIssuerID, envPrivateKey, strings.Join(missing, ", "))
	}
	return c, nil
}

// appleClient builds an App Store Server API client for bundleID in environment. Retries and, with
// S2S_DEBUG set, each request are reported on errOut; the key and tokens never are.
func (c appleCredentials) appleClient(f *Factory, who, bundleID, environment string, errOut io.Writer) (*appstore.Client, decode.Environment, error) {
	c, err := c.resolve(f.Getenv, who)
	if err != nil {
		return nil, "", err
	}
	if bundleID == "" {
		return nil, "", usageErrorf("%s needs --bundle-id: the app's bundle ID, exactly as in App Store Connect (it is case-sensitive)", who)
	}
	env, err := appstore.ParseEnvironment(environment)
	if err != nil {
		return nil, "", usageErrorf("invalid --environment: %v", err)
	}
	key, err := appstore.LoadPrivateKey(c.PrivateKeyPath)
	if err != nil {
		return nil, "", fmt.Errorf("--private-key: %w", err)
	}
	cfg := appstore.Config{
		Credentials: appstore.Credentials{KeyID: c.KeyID, IssuerID: c.IssuerID, BundleID: bundleID, Key: key},
		Environment: env,
		BaseURL:     c.BaseURL,
		HTTPClient:  f.HTTPClient(),
		Now:         f.Now,
		Retry:       c.retry,
		OnRetry: func(e appstore.RetryEvent) {
			fmt.Fprintf(errOut, "%s; retrying in %s\n", termsafe.String(retryReason(e.Err)), e.Wait.Round(100*time.Millisecond))
		},
	}
	if f.Getenv(envDebug) != "" {
		cfg.Debug = errOut
	}
	client, err := appstore.New(cfg)
	if err != nil {
		return nil, "", err
	}
	return client, env, nil
}

func retryReason(err error) string {
	var e *appstore.APIError
	if errors.As(err, &e) {
		s := fmt.Sprintf("Apple answered HTTP %d", e.HTTPStatus)
		if e.Name != "" {
			s += " " + e.Name
		}
		return s
	}
	return "the request failed (" + err.Error() + ")"
}

// appleVerifier decodes what Apple's API returns: verified when Apple signed it, simulated when it
// chains to this machine's s2s test chain or to a root given with --root (a stand-in of the API
// signs with one), invalid otherwise.
func appleVerifier(f *Factory, bundleID string, env decode.Environment, roots ...*x509.Certificate) *decode.Verifier {
	o := decode.Options{BundleID: bundleID, Environment: env, Clock: f.Now}
	o.ExtraRoots = append(localTestRoots(f), roots...)
	return decode.NewVerifier(o)
}

// runAppleTestNotification asks Apple for a real TEST notification for bundleID in environment,
// polls its status and writes each send attempt to out. It returns Apple's last sendAttemptResult.
func runAppleTestNotification(ctx context.Context, f *Factory, c appleCredentials, bundleID, environment string, out io.Writer) (appstore.SendAttemptResult, error) {
	errOut := f.IO.ErrOut
	client, env, err := c.appleClient(f, "--apple", bundleID, environment, errOut)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(errOut, "Asking Apple (%s, %s) to send a TEST notification to the URL set in App Store Connect…\n", env, bundleID)
	token, err := client.RequestTestNotification(ctx)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(out, "Test notification token: %s\n", termsafe.String(token))
	wait := c.Wait
	if wait <= 0 {
		wait = 2 * time.Minute
	}
	interval := c.pollInterval
	if interval <= 0 {
		interval = time.Second
	}
	fmt.Fprintf(errOut, "Waiting up to %s for Apple to record its send attempt…\n", wait)
	st, err := client.WaitTestNotification(ctx, token, appstore.PollOptions{Timeout: wait, Interval: interval})
	if errors.Is(err, appstore.ErrNoAttemptYet) {
		return "", fmt.Errorf("%w. Apple may still deliver it: look again later with `s2s history --since 1h --type TEST --bundle-id %s --environment %s`", err, bundleID, env)
	}
	if err != nil {
		return "", err
	}
	writeSendAttempts(out, st.SendAttempts)
	if st.SignedPayload != "" {
		d := appleVerifier(f, bundleID, env).DecodeSignedPayload([]byte(st.SignedPayload))
		fmt.Fprintln(out, termsafe.String(describeAppleNotification(d.Summary())))
	}
	return st.LastResult(), nil
}

// writeSendAttempts prints one line per attempt with what it means and, for a failure, what to fix.
// The result is Apple's word, and a word Apple has not documented is shown as it came.
func writeSendAttempts(w io.Writer, attempts []appstore.SendAttempt) {
	for i, a := range attempts {
		info := a.SendAttemptResult.Info()
		fmt.Fprintf(w, "Attempt %d  %s  %s\n", i+1, formatAttemptTime(a.AttemptDate), termsafe.String(string(a.SendAttemptResult)))
		fmt.Fprintf(w, "  %s\n", termsafe.String(info.Meaning))
		if a.SendAttemptResult != appstore.ResultSuccess {
			fmt.Fprintf(w, "  Fix: %s\n", termsafe.String(info.Fix))
		}
	}
}

func formatAttemptTime(m appstore.Millis) string {
	if m == 0 {
		return "(no date)"
	}
	return m.Time().Format("2006-01-02 15:04:05 UTC")
}

// describeAppleNotification is one line on the payload Apple returned, with its trust label first
// so that nothing unverified reads as verified.
func describeAppleNotification(s decode.Summary) string {
	label := string(s.Label)
	if s.Class != "" {
		label += " (" + string(s.Class) + ")"
	}
	kind := s.Type
	if s.Subtype != "" {
		kind += "/" + s.Subtype
	}
	if kind == "" {
		kind = "notification"
	}
	line := fmt.Sprintf("Signed payload: %s %s", label, kind)
	if s.Label == decode.LabelInvalid {
		line = fmt.Sprintf("Signed payload: %s — UNVERIFIED %s", label, kind)
	}
	if s.NotificationUUID != "" {
		line += " " + s.NotificationUUID
	}
	if !s.SignedDate.IsZero() {
		line += ", signed " + s.SignedDate.UTC().Format(time.RFC3339)
	}
	if s.Message != "" {
		line += ": " + s.Message
	}
	return line
}

// apiHost is the host part of the client's base URL, recorded as the remote address of imports.
func apiHost(c *appstore.Client) string {
	u, err := url.Parse(c.BaseURL())
	if err != nil {
		return c.BaseURL()
	}
	return u.Host
}
