package e2e

import (
	"os"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCmds["wrapjws"] = cmdWrapJWS
}

// wrapjws JWSFILE BODYFILE: writes the HTTP body Apple posts for a JWS, {"signedPayload":"..."},
// so a script can post it and compare what the store gives back byte for byte.
func cmdWrapJWS(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: wrapjws JWSFILE BODYFILE")
	}
	jws, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	body := `{"signedPayload":"` + strings.TrimSpace(string(jws)) + `"}`
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(body), 0o644))
}
