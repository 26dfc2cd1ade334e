package cmd

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/appstoreconnect"
	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/paths"
	"github.com/s2s-dev/s2s/internal/state"
	"github.com/s2s-dev/s2s/internal/termsafe"
)

// Environment variables of the App Store Connect API team key (not the In-App Purchase key of
// S2S_KEY_ID and friends) and, for tests and proxies, the API's base URL.
const (
	envASCKeyID      = "S2S_ASC_KEY_ID"
	envASCIssuerID   = "S2S_ASC_ISSUER_ID"
	envASCPrivateKey = "S2S_ASC_PRIVATE_KEY"
	envASCURL        = "S2S_APPSTORECONNECT_URL"
)

// ascCredentials are the team API key that App Store Connect API calls need.
type ascCredentials struct {
	KeyID, IssuerID, PrivateKeyPath string
	BaseURL                         string // "" → S2S_APPSTORECONNECT_URL, else Apple's host
}

func (c *ascCredentials) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.KeyID, "asc-key-id", "", "App Store Connect API team key ID (default $"+envASCKeyID+")")
	fs.StringVar(&c.IssuerID, "asc-issuer-id", "", "App Store Connect API issuer ID (default $"+envASCIssuerID+")")
	fs.StringVar(&c.PrivateKeyPath, "asc-private-key", "", "the team API key file (.p8) (default $"+envASCPrivateKey+")")
}

// client resolves the credentials (flags, then the environment) and builds a client. Nothing of
// the key is ever printed: errors name the file, never its content.
func (c ascCredentials) client(f *Factory, who string) (*appstoreconnect.Client, error) {
	fill := func(v *string, env string) {
		if *v == "" {
			*v = strings.TrimSpace(f.Getenv(env))
		}
	}
	fill(&c.KeyID, envASCKeyID)
	fill(&c.IssuerID, envASCIssuerID)
	fill(&c.PrivateKeyPath, envASCPrivateKey)
	fill(&c.BaseURL, envASCURL)
	var missing []string
	for _, m := range []struct{ v, flag string }{
		{c.KeyID, "--asc-key-id"}, {c.IssuerID, "--asc-issuer-id"}, {c.PrivateKeyPath, "--asc-private-key"},
	} {
		if m.v == "" {
			missing = append(missing, m.flag)
		}
	}
	if len(missing) > 0 {
		return nil, usageErrorf("%s needs an App Store Connect API team key: --asc-key-id, --asc-issuer-id and --asc-private-key "+
			"(or %s, %s and %s); missing %s. Create one in App Store Connect → Users and Access → Integrations → "+
			"App Store Connect API (Team Keys) with the App Manager, Admin or Marketing role: the page shows the issuer ID "+
			"and the key ID, and lets you download the key's .p8 file once. The In-App Purchase key does not work here",
			who, envASCKeyID, envASCIssuerID, envASCPrivateKey, strings.Join(missing, ", "))
	}
	key, err := appstore.LoadPrivateKey(c.PrivateKeyPath)
	if err != nil {
		return nil, fmt.Errorf("--asc-private-key: %w", err)
	}
	cfg := appstoreconnect.Config{
		Credentials: appstoreconnect.Credentials{KeyID: c.KeyID, IssuerID: c.IssuerID, Key: key},
		BaseURL:     c.BaseURL,
		HTTPClient:  f.HTTPClient(),
		Now:         f.Now,
	}
	if f.Getenv(envDebug) != "" {
		cfg.Debug = f.IO.ErrOut
	}
	return appstoreconnect.New(cfg)
}

type connectOptions struct {
	f        *Factory
	creds    ascCredentials
	BundleID string
	JSON     bool
	// set
	URL         string
	Environment string
	Version     string
	Yes         bool
}

func newConnectCmd(f *Factory) *cobra.Command {
	o := &connectOptions{f: f}
	c := &cobra.Command{
		Use:   "connect",
		Short: "Read and change the app's notification URLs in App Store Connect",
		Long: `Read and change where Apple sends an app's App Store Server Notifications, through the
App Store Connect API, with a team API key (not the In-App Purchase key).

  s2s connect status   both environments' URL and version, and any restore still pending
  s2s connect set URL  change the Sandbox URL (Production only when named, and confirmed)
  s2s connect restore  put back what the last "s2s listen --connect" replaced

"s2s listen --connect BUNDLE-ID" does this by itself: it points the sandbox URL at the listener's
public URL and restores the old one when it stops. See docs/connect.md.`,
		Example: `  export S2S_ASC_KEY_ID=2X9R4HXF34 S2S_ASC_ISSUER_ID=57246542-96fe-1a63-e053-0824d011072a
  export S2S_ASC_PRIVATE_KEY=~/keys/AuthKey_2X9R4HXF34.p8
  s2s connect status --bundle-id com.example.app
  s2s connect set https://example.ngrok.app/ --bundle-id com.example.app
  s2s connect restore --bundle-id com.example.app`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	o.addFlags(c)
	c.AddCommand(newConnectStatusCmd(o, nil), newConnectSetCmd(o, nil), newConnectRestoreCmd(o, nil))
	return c
}

// addFlags adds the flags every subcommand shares to c and the commands below it.
func (o *connectOptions) addFlags(c *cobra.Command) {
	pf := c.PersistentFlags()
	o.creds.addFlags(pf)
	pf.StringVar(&o.BundleID, "bundle-id", "", "the app's bundle ID, exactly as in App Store Connect (default $"+envBundleID+")")
}

func newConnectStatusCmd(o *connectOptions, runF func(*connectOptions) error) *cobra.Command {
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the app's notification URLs for both environments",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			return runConnectStatus(c.Context(), o)
		},
	}
	status.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	return status
}

func newConnectSetCmd(o *connectOptions, runF func(*connectOptions) error) *cobra.Command {
	set := &cobra.Command{
		Use:   "set URL",
		Short: "Set the app's notification URL (Sandbox unless --environment Production)",
		Long: `Set the app's App Store Server Notifications URL and version. Sandbox is changed unless
--environment Production is given; Production is changed only with --yes or after you confirm on
a terminal, since it is where your customers' real notifications go.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.URL = args[0]
			if runF != nil {
				return runF(o)
			}
			return runConnectSet(c.Context(), o)
		},
	}
	set.Flags().StringVar(&o.Environment, "environment", "Sandbox", "Sandbox or Production")
	set.Flags().StringVar(&o.Version, "version", "V2", "notification version: V2 or V1")
	set.Flags().BoolVarP(&o.Yes, "yes", "y", false, "change Production without asking")
	_ = set.RegisterFlagCompletionFunc("environment", cobra.FixedCompletions([]string{"Sandbox", "Production"}, cobra.ShellCompDirectiveNoFileComp))
	return set
}

func newConnectRestoreCmd(o *connectOptions, runF func(*connectOptions) error) *cobra.Command {
	restore := &cobra.Command{
		Use:   "restore",
		Short: `Put back the sandbox URL that the last "s2s listen --connect" replaced`,
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			return runConnectRestore(c.Context(), o)
		},
	}
	return restore
}

// bundleID is --bundle-id or $S2S_BUNDLE_ID, checked against Apple's bundle ID alphabet.
func (o *connectOptions) bundleID(who string) (string, error) {
	id := o.BundleID
	if id == "" {
		id = strings.TrimSpace(o.f.Getenv(envBundleID))
	}
	return checkBundleID(id, who)
}

func checkBundleID(id, who string) (string, error) {
	if id == "" {
		return "", usageErrorf("%s needs --bundle-id: the app's bundle ID, exactly as in App Store Connect (it is case-sensitive)", who)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return "", usageErrorf("%s: %q is not a bundle ID (letters, digits, '.' and '-' only)", who, id)
		}
	}
	return id, nil
}

// connectStatusJSON is the --json shape of connect status.
type connectStatusJSON struct {
	AppID      string                          `json:"appId"`
	BundleID   string                          `json:"bundleId"`
	Name       string                          `json:"name,omitempty"`
	Production appstoreconnect.NotificationURL `json:"production"`
	Sandbox    appstoreconnect.NotificationURL `json:"sandbox"`
	// PendingRestore is the record of a `listen --connect` that has not put the old value back.
	PendingRestore *pendingRestoreJSON `json:"pendingRestore"`
}

type pendingRestoreJSON struct {
	appstoreconnect.NotificationURL
	SetURL  string `json:"setUrl"`
	PID     int    `json:"pid"`
	Running bool   `json:"running"`
}

func runConnectStatus(ctx context.Context, o *connectOptions) error {
	f := o.f
	id, err := o.bundleID("connect status")
	if err != nil {
		return err
	}
	client, err := o.creds.client(f, "connect status")
	if err != nil {
		return err
	}
	app, err := client.FindApp(ctx, id)
	if err != nil {
		return err
	}
	rec, recErr := state.ReadConnect(paths.ConnectStateFile(f.Getenv, id))
	if recErr != nil && !errors.Is(recErr, os.ErrNotExist) {
		return recErr
	}
	hasRec := recErr == nil && rec.BundleID == id
	if o.JSON {
		out := connectStatusJSON{AppID: app.ID, BundleID: app.BundleID, Name: app.Name, Production: app.Production, Sandbox: app.Sandbox}
		if hasRec {
			out.PendingRestore = &pendingRestoreJSON{
				NotificationURL: appstoreconnect.NotificationURL{URL: rec.PreviousURL, Version: rec.PreviousVersion},
				SetURL:          rec.SetURL, PID: rec.PID, Running: rec.Running(),
			}
		}
		enc := jsonEncoder(f.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	w := f.IO.Out
	name := ""
	if app.Name != "" {
		name = safeRemote(app.Name) + " "
	}
	fmt.Fprintf(w, "%s(%s, Apple ID %s)\n", name, id, safeRemote(app.ID))
	fmt.Fprintf(w, "  Production  %s\n", describeNotificationURL(app.Production, "none"))
	fmt.Fprintf(w, "  Sandbox     %s\n", describeNotificationURL(app.Sandbox, "none: Apple sends sandbox notifications to the production URL"))
	if hasRec {
		if rec.Running() {
			fmt.Fprintf(w, "s2s listen --connect (pid %d) has pointed the sandbox URL here; it restores %s when it stops.\n",
				rec.PID, describeNotificationURL(previousOf(rec), "none"))
		} else {
			fmt.Fprintf(w, "Restore pending: s2s listen --connect (pid %d) ended without restoring the sandbox URL to %s. "+
				"Run `s2s connect restore --bundle-id %s` (the next `s2s listen --connect %s` does it too).\n",
				rec.PID, describeNotificationURL(previousOf(rec), "none"), id, id)
		}
	}
	return nil
}

func previousOf(rec state.Connect) appstoreconnect.NotificationURL {
	return appstoreconnect.NotificationURL{URL: rec.PreviousURL, Version: rec.PreviousVersion}
}

// describeNotificationURL is "URL (V2)", or none when no URL is set.
func describeNotificationURL(u appstoreconnect.NotificationURL, none string) string {
	if u.URL == "" {
		return "(" + none + ")"
	}
	s := safeRemote(u.URL)
	if u.Version != "" {
		s += " (" + safeRemote(u.Version) + ")"
	}
	return s
}

// safeRemote is how Apple's text is shown to a person.
func safeRemote(s string) string { return termsafe.String(s) }

func runConnectSet(ctx context.Context, o *connectOptions) error {
	f, rawURL := o.f, o.URL
	id, err := o.bundleID("connect set")
	if err != nil {
		return err
	}
	env, err := appstore.ParseEnvironment(o.Environment)
	if err != nil {
		return usageErrorf("invalid --environment: %v", err)
	}
	version := strings.ToUpper(o.Version)
	if version != "V1" && version != "V2" {
		return usageErrorf("--version must be V2 or V1, not %q", o.Version)
	}
	if u, err := url.Parse(rawURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return usageErrorf("%q is not an absolute URL: Apple needs https://HOST/PATH", rawURL)
	}
	client, err := o.creds.client(f, "connect set")
	if err != nil {
		return err
	}
	app, err := client.FindApp(ctx, id)
	if err != nil {
		return err
	}
	old := app.URLs(env)
	want := appstoreconnect.NotificationURL{URL: rawURL, Version: version}
	if env == decode.EnvProduction && !o.Yes {
		ios := f.IO
		if !ios.IsStdinTTY() || !ios.IsStderrTTY() {
			return usageErrorf("refusing to change the Production URL of %s (where customers' real notifications go) "+
				"from %s to %s without confirmation: add --yes", id, describeNotificationURL(old, "none"), rawURL)
		}
		fmt.Fprintf(ios.ErrOut, "Change the Production notification URL of %s?\n  now  %s\n  new  %s (%s)\n[y/N] ",
			id, describeNotificationURL(old, "none"), rawURL, version)
		answer, err := readLineCtx(ctx, ios.In)
		if err != nil {
			fmt.Fprintln(ios.ErrOut, "\nNothing changed.")
			return err
		}
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			fmt.Fprintln(ios.ErrOut, "Nothing changed.")
			return &SilentError{Code: ExitError}
		}
	}
	got, err := client.SetNotificationURL(ctx, app.ID, env, want)
	if err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "%s URL of %s: %s (was %s)\n", env, id,
		describeNotificationURL(got.URLs(env), "none"), describeNotificationURL(old, "none"))
	if env == decode.EnvSandbox {
		if rec, err := state.ReadConnect(paths.ConnectStateFile(f.Getenv, id)); err == nil && rec.BundleID == id {
			fmt.Fprintf(f.IO.ErrOut, "Note: a restore is pending for %s; `s2s connect restore` (or the listen that recorded it) will put back %s.\n",
				id, describeNotificationURL(previousOf(rec), "none"))
		}
	}
	return nil
}

func runConnectRestore(ctx context.Context, o *connectOptions) error {
	f := o.f
	id, err := o.bundleID("connect restore")
	if err != nil {
		return err
	}
	path := paths.ConnectStateFile(f.Getenv, id)
	rec, err := state.ReadConnect(path)
	if errors.Is(err, os.ErrNotExist) || err == nil && rec.BundleID != id {
		fmt.Fprintf(f.IO.ErrOut, "Nothing to restore: no change by `s2s listen --connect` is recorded for %s.\n", id)
		return nil
	}
	if err != nil {
		return err
	}
	client, err := o.creds.client(f, "connect restore")
	if err != nil {
		return err
	}
	if rec.Running() {
		fmt.Fprintf(f.IO.ErrOut, "Note: s2s listen (pid %d) that made the change is still running; restoring now.\n", rec.PID)
	}
	msg, err := restoreConnect(ctx, client, path, rec)
	if err != nil {
		return err
	}
	fmt.Fprintln(f.IO.Out, msg)
	return nil
}

// restoreConnect puts back the sandbox setting rec saved, removes the record, and returns what
// to tell the user.
func restoreConnect(ctx context.Context, client *appstoreconnect.Client, path string, rec state.Connect) (string, error) {
	prev := previousOf(rec)
	if _, err := client.SetNotificationURL(ctx, rec.AppID, decode.EnvSandbox, prev); err != nil {
		return "", fmt.Errorf("restoring the sandbox URL of %s: %w", rec.BundleID, err)
	}
	if err := state.RemoveConnect(path); err != nil {
		return "", fmt.Errorf("the sandbox URL of %s is restored, but its record %s could not be removed: %w", rec.BundleID, path, err)
	}
	return restoredMessage(rec.BundleID, prev), nil
}

func restoredMessage(bundleID string, prev appstoreconnect.NotificationURL) string {
	if prev.URL == "" {
		return fmt.Sprintf("App Store Connect: the sandbox URL of %s is unset again, as it was (Apple sends sandbox notifications to the production URL).", bundleID)
	}
	return fmt.Sprintf("App Store Connect: the sandbox URL of %s is restored to %s.", bundleID, describeNotificationURL(prev, "none"))
}
