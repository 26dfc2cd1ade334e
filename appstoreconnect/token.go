// Package appstoreconnect is a small client of Apple's App Store Connect API: the team API key's
// ES256 token, and reading and changing an app's App Store Server Notifications URLs (the apps
// resource's subscriptionStatusUrl attributes). It knows nothing of the terminal.
package appstoreconnect

import (
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/s2s-dev/s2s/appstore"
)

// Audience is the aud claim of every App Store Connect API token.
const Audience = "appstoreconnect-v1"

// MaxTokenLifetime is the longest Apple accepts: exp at most 20 minutes after iat.
const MaxTokenLifetime = 20 * time.Minute

// DefaultTokenLifetime is short: a token that leaks somewhere is soon worthless.
const DefaultTokenLifetime = 10 * time.Minute

// Credentials are a team API key (App Store Connect → Users and Access → Integrations → Team
// Keys): its id, the team's issuer id and the key itself. The key loads and formats as the In-App
// Purchase key does (appstore.PrivateKey), so it never ends up in an error or a log.
type Credentials struct {
	KeyID    string
	IssuerID string
	Key      *appstore.PrivateKey
}

// Validate says what is missing.
func (c Credentials) Validate() error {
	var missing []string
	if c.KeyID == "" {
		missing = append(missing, "key id")
	}
	if c.IssuerID == "" {
		missing = append(missing, "issuer id")
	}
	if c.Key == nil || c.Key.Public() == nil {
		missing = append(missing, "private key")
	}
	if len(missing) > 0 {
		return fmt.Errorf("App Store Connect API credentials incomplete: missing %v", missing)
	}
	return nil
}

// SignToken mints a token valid from now for lifetime (DefaultTokenLifetime when zero; at most
// MaxTokenLifetime, which Apple enforces).
func (c Credentials) SignToken(now time.Time, lifetime time.Duration) (string, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	if lifetime <= 0 {
		lifetime = DefaultTokenLifetime
	}
	lifetime = min(lifetime, MaxTokenLifetime)
	// A plain string aud, as Apple's examples send it (MapClaims leaves it alone).
	return c.Key.SignES256(c.KeyID, jwt.MapClaims{
		"iss": c.IssuerID,
		"iat": now.Unix(),
		"exp": now.Add(lifetime).Unix(),
		"aud": Audience,
	})
}
