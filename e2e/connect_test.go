package e2e

import (
	"fmt"
	"path/filepath"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/appstoreconnect/appstoreconnecttest"
)

// The stand-in of Apple's App Store Connect API runs inside the test process, one per script (or
// Go test), and the binary reaches it through S2S_APPSTORECONNECT_URL.
const (
	ascKeyID    = "ASCKEY0001"
	ascIssuer   = "69a6de7e-1c2d-47e3-e053-5b8c7c11a4d1"
	ascAppID    = "1001"
	ascBundleID = "com.example.s2s"
)

var (
	ascStandInsMu sync.Mutex
	ascStandIns   = map[*testscript.TestScript]*appstoreconnecttest.Server{}
)

func init() {
	scriptCmds["asc-standin"] = cmdASCStandIn
	scriptCmds["asc-app"] = cmdASCApp
	scriptCmds["asc-fault"] = cmdASCFault
}

// ascApps are the stand-in's apps: com.example.s2s with both URLs set, and an app whose bundle ID
// merely starts with it (Apple's filter[bundleId] returns both).
func ascApps() []appstoreconnecttest.App {
	return []appstoreconnecttest.App{
		{ID: "1000", BundleID: ascBundleID + ".widget", Name: "Widget"},
		{ID: ascAppID, BundleID: ascBundleID, Name: "S2S Example",
			ProductionURL: "https://api.example.com/apple", ProductionVersion: "V2",
			SandboxURL: "https://sandbox.example.com/apple", SandboxVersion: "V2"},
	}
}

// ascKeyPath is the team key the stand-in accepts (a test key from Apple's library vectors).
func ascKeyPath(vectors string) string {
	return filepath.Join(vectors, "apple-lib-mock", "certs", "testSigningKey.p8")
}

func newASCStandIn(vectors string) (*appstoreconnecttest.Server, error) {
	key, err := appstore.LoadPrivateKey(ascKeyPath(vectors))
	if err != nil {
		return nil, err
	}
	return appstoreconnecttest.New(appstoreconnecttest.Options{
		KeyID: ascKeyID, IssuerID: ascIssuer, PublicKey: key.Public(), Apps: ascApps(),
	})
}

// ascEnv is the environment that points the binary at srv with the accepted key.
func ascEnv(srv *appstoreconnecttest.Server, vectors string) []string {
	return []string{
		"S2S_APPSTORECONNECT_URL=" + srv.URL, "S2S_ASC_KEY_ID=" + ascKeyID,
		"S2S_ASC_ISSUER_ID=" + ascIssuer, "S2S_ASC_PRIVATE_KEY=" + ascKeyPath(vectors),
	}
}

// asc-standin: starts a stand-in of the App Store Connect API (apps com.example.s2s, id 1001, and
// com.example.s2s.widget) and sets S2S_APPSTORECONNECT_URL and S2S_ASC_* for the binary.
func cmdASCStandIn(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: asc-standin")
	}
	srv, err := newASCStandIn(ts.Getenv("VECTORS"))
	ts.Check(err)
	ts.Defer(srv.Close)
	ascStandInsMu.Lock()
	ascStandIns[ts] = srv
	ascStandInsMu.Unlock()
	ts.Defer(func() {
		ascStandInsMu.Lock()
		delete(ascStandIns, ts)
		ascStandInsMu.Unlock()
	})
	ts.Setenv("S2S_APPSTORECONNECT_URL", srv.URL)
	ts.Setenv("S2S_ASC_KEY_ID", ascKeyID)
	ts.Setenv("S2S_ASC_ISSUER_ID", ascIssuer)
	ts.Setenv("S2S_ASC_PRIVATE_KEY", ascKeyPath(ts.Getenv("VECTORS")))
}

func ascStandIn(ts *testscript.TestScript) *appstoreconnecttest.Server {
	ascStandInsMu.Lock()
	defer ascStandInsMu.Unlock()
	srv := ascStandIns[ts]
	if srv == nil {
		ts.Fatalf("run asc-standin first")
	}
	return srv
}

// asc-app ID: prints the stand-in's settings of app ID, one line per environment:
// "production URL VERSION" and "sandbox URL VERSION" (null shows as -).
func cmdASCApp(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: asc-app ID")
	}
	a, ok := ascStandIn(ts).App(args[0])
	if !ok {
		ts.Fatalf("no app %s", args[0])
	}
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	fmt.Fprintf(ts.Stdout(), "production %s %s\nsandbox %s %s\n", dash(a.ProductionURL), dash(a.ProductionVersion),
		dash(a.SandboxURL), dash(a.SandboxVersion))
}

// asc-fault METHOD STATUS CODE: the next request with METHOD gets HTTP STATUS with Apple's error
// CODE (FORBIDDEN_ERROR with its own title and detail for 403).
func cmdASCFault(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: asc-fault METHOD STATUS CODE")
	}
	f := appstoreconnecttest.Fault{Code: args[2], Title: "Injected", Detail: "Injected by the test."}
	if args[1] == "403" {
		f = appstoreconnecttest.Forbidden()
	}
	_, err := fmt.Sscan(args[1], &f.Status)
	ts.Check(err)
	ascStandIn(ts).InjectFaults(args[0], f)
}
