package appstoretest

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// CheckBearerToken verifies an Authorization header's ES256 token the way Apple's APIs do, for
// this stand-in and App Store Connect's: a bearer token signed by pub, with header kid == keyID
// and typ JWT, aud and iss as given, exp and iat present and valid at now. It returns the claims
// with iat and exp for the checks that differ between the two APIs; the error says why a token
// was refused.
func CheckBearerToken(header, keyID string, pub *ecdsa.PublicKey, audience, issuer string, now time.Time) (claims jwt.MapClaims, iat, exp time.Time, err error) {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || raw == "" {
		return nil, iat, exp, errors.New("no bearer token")
	}
	claims = jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != keyID {
			return nil, fmt.Errorf("kid %q is not the key id %q", kid, keyID)
		}
		return pub, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
		jwt.WithAudience(audience),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil {
		return nil, iat, exp, err
	}
	if typ, _ := tok.Header["typ"].(string); typ != "JWT" {
		return nil, iat, exp, fmt.Errorf("typ %q, want JWT", typ)
	}
	issued, err := claims.GetIssuedAt()
	if err != nil || issued == nil {
		return nil, iat, exp, errors.New("no iat")
	}
	expires, _ := claims.GetExpirationTime() // required and checked by the parser above
	return claims, issued.Time, expires.Time, nil
}
