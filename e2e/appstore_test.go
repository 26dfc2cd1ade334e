package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/appstore/appstoretest"
	"github.com/s2s-dev/s2s/fixtures"
)

// The stand-in of Apple's App Store Server API runs inside the test process, one per script, and
// the binary reaches it through S2S_APPSTORE_URL.
const (
	standInKeyID    = "ABC123DEFG"
	standInIssuer   = "57246542-96fe-1a63-e053-0824d011072a"
	standInBundleID = "com.example.s2s"
)

var (
	standInsMu sync.Mutex
	standIns   = map[*testscript.TestScript]*appstoretest.Server{}
)

func init() {
	scriptCmds["appstore-standin"] = cmdAppStoreStandIn
	scriptCmds["appstore-seed"] = cmdAppStoreSeed
	scriptCmds["appstore-fault"] = cmdAppStoreFault
}

// appstore-standin [NOTIFICATION-URL]: starts a stand-in of the App Store Server API that accepts
// the test In-App Purchase key, signs with the script's own s2s test chain (so payloads decode as
// simulated) and delivers TEST notifications to NOTIFICATION-URL. It sets S2S_APPSTORE_URL,
// S2S_KEY_ID, S2S_ISSUER_ID, S2S_PRIVATE_KEY and S2S_BUNDLE_ID for the binary.
func cmdAppStoreStandIn(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) > 1 {
		ts.Fatalf("usage: appstore-standin [NOTIFICATION-URL]")
	}
	keyPath := filepath.Join(ts.Getenv("VECTORS"), "apple-lib-mock", "certs", "testSigningKey.p8")
	key, err := appstore.LoadPrivateKey(keyPath)
	ts.Check(err)
	chain, err := fixtures.LoadOrCreateChain(ts.Getenv("S2S_CONFIG_DIR"))
	ts.Check(err)
	o := appstoretest.Options{
		KeyID: standInKeyID, IssuerID: standInIssuer, BundleID: standInBundleID, PublicKey: key.Public(),
		Signer: chain, PageSize: 2,
	}
	if len(args) == 1 {
		o.NotificationURL = args[0]
	}
	// STANDIN_CLOCK moves the stand-in's clock, so the binary's fresh tokens look expired to it.
	if d := ts.Getenv("STANDIN_CLOCK"); d != "" {
		skew, err := time.ParseDuration(d)
		ts.Check(err)
		o.Now = func() time.Time { return time.Now().Add(skew) }
	}
	srv, err := appstoretest.New(o)
	ts.Check(err)
	ts.Defer(srv.Close)
	standInsMu.Lock()
	standIns[ts] = srv
	standInsMu.Unlock()
	ts.Defer(func() {
		standInsMu.Lock()
		delete(standIns, ts)
		standInsMu.Unlock()
	})
	ts.Setenv("S2S_APPSTORE_URL", srv.URL)
	ts.Setenv("S2S_KEY_ID", standInKeyID)
	ts.Setenv("S2S_ISSUER_ID", standInIssuer)
	ts.Setenv("S2S_PRIVATE_KEY", keyPath)
	ts.Setenv("S2S_BUNDLE_ID", standInBundleID)
}

// appstore-fault PATH-PREFIX STATUS CODE [TIMES [RETRY-AFTER]]: the next TIMES (default 1)
// requests whose path starts with PATH-PREFIX get HTTP STATUS with Apple's errorCode CODE (0: no
// body) and, when RETRY-AFTER (a duration from now) is given, a Retry-After header as Apple sends.
func cmdAppStoreFault(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 || len(args) > 5 {
		ts.Fatalf("usage: appstore-fault PATH-PREFIX STATUS CODE [TIMES [RETRY-AFTER]]")
	}
	standInsMu.Lock()
	srv := standIns[ts]
	standInsMu.Unlock()
	if srv == nil {
		ts.Fatalf("appstore-fault: run appstore-standin first")
	}
	var f appstoretest.Fault
	_, err := fmt.Sscan(args[1], &f.Status)
	ts.Check(err)
	_, err = fmt.Sscan(args[2], &f.Code)
	ts.Check(err)
	times := 1
	if len(args) > 3 {
		_, err = fmt.Sscan(args[3], &times)
		ts.Check(err)
	}
	if len(args) > 4 {
		d, err := time.ParseDuration(args[4])
		ts.Check(err)
		f.RetryAfter = time.Now().Add(d)
	}
	faults := make([]appstoretest.Fault, times)
	for i := range faults {
		faults[i] = f
	}
	srv.InjectFaults(args[0], faults...)
}

// appstore-seed TYPE[/SUBTYPE] HOURS-AGO RESULT[,RESULT...]: adds a signed notification, signed
// HOURS-AGO hours ago, to the stand-in's history with Apple's send attempts (an hour apart).
func cmdAppStoreSeed(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: appstore-seed TYPE[/SUBTYPE] HOURS-AGO RESULT[,RESULT...]")
	}
	standInsMu.Lock()
	srv := standIns[ts]
	standInsMu.Unlock()
	if srv == nil {
		ts.Fatalf("appstore-seed: run appstore-standin first")
	}
	typ, sub, _ := strings.Cut(args[0], "/")
	var hours int
	_, err := fmt.Sscan(args[1], &hours)
	ts.Check(err)
	signed := time.Now().Add(-time.Duration(hours) * time.Hour)
	var attempts []appstore.SendAttempt
	for i, r := range strings.Split(args[2], ",") {
		attempts = append(attempts, appstore.SendAttempt{
			AttemptDate:       appstore.ToMillis(signed.Add(time.Duration(i) * time.Hour)),
			SendAttemptResult: appstore.SendAttemptResult(r),
		})
	}
	_, err = srv.AddNotification(appstoretest.Notification{
		Type: typ, Subtype: sub, SignedDate: signed,
		TransactionID: fmt.Sprint(2000000000000100 + hours), OriginalTransactionID: "2000000000000100",
	}, attempts...)
	ts.Check(err)
}
