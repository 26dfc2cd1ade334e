package cmd

// PLACEHOLDER: the App Store Server API owner replaces this file.

import (
	"context"
	"errors"
	"io"

	"github.com/spf13/pflag"
)

// appleCredentials are the In-App Purchase key and issuer that App Store Server API calls need.
type appleCredentials struct {
	KeyID, IssuerID, PrivateKeyPath string
	BaseURL                         string // empty: Apple's host for the environment; tests point it at a stand-in
}

// addFlags registers --key-id, --issuer-id and --private-key (with S2S_* environment fallbacks).
func (c *appleCredentials) addFlags(fs *pflag.FlagSet) {}

// runAppleTestNotification asks Apple for a real TEST notification for bundleID in environment,
// polls its status and writes each send attempt to out. It returns Apple's last sendAttemptResult.
func runAppleTestNotification(ctx context.Context, f *Factory, c appleCredentials, bundleID, environment string, out io.Writer) (string, error) {
	return "", errors.New("App Store Server API: not yet built")
}
