package e2e

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/appstore/appstoretest"
)

func init() {
	scriptCmds["appstore-customer"] = cmdAppStoreCustomer
	scriptCmds["appstore-notify"] = cmdAppStoreNotify
}

func standInOf(ts *testscript.TestScript, cmd string) *appstoretest.Server {
	standInsMu.Lock()
	srv := standIns[ts]
	standInsMu.Unlock()
	if srv == nil {
		ts.Fatalf("%s: run appstore-standin first", cmd)
	}
	return srv
}

// appstore-customer OTID COUNT [STATUS]: gives the stand-in a customer whose original transaction
// is OTID, with COUNT monthly transactions (IDs OTID, OTID+1, …; the last one a day old) and the
// subscription status STATUS (1 active … 5 revoked; default 1).
func cmdAppStoreCustomer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: appstore-customer OTID COUNT [STATUS]")
	}
	srv := standInOf(ts, "appstore-customer")
	var otid int64
	var count, status int
	_, err := fmt.Sscan(args[0], &otid)
	ts.Check(err)
	_, err = fmt.Sscan(args[1], &count)
	ts.Check(err)
	status = 1
	if len(args) == 3 {
		_, err = fmt.Sscan(args[2], &status)
		ts.Check(err)
	}
	last := time.Now().Add(-24 * time.Hour)
	for i := range count {
		srv.AddTransactions(appstoretest.Notification{
			TransactionID: fmt.Sprint(otid + int64(i)), OriginalTransactionID: args[0],
			SignedDate: last.Add(-time.Duration(count-1-i) * 30 * 24 * time.Hour),
		})
	}
	srv.SetSubscriptionStatus(args[0], appstore.SubscriptionStatus(status))
}

// appstore-notify OTID TYPE[/SUBTYPE] MINUTES-AGO RESULT[,RESULT...] FILE: adds a notification
// about the customer OTID, signed MINUTES-AGO minutes ago, to the stand-in's history with Apple's
// send attempts (a minute apart), and writes its signedPayload to FILE (for "post URL FILE
// --wrap", Apple's delivery).
func cmdAppStoreNotify(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 5 {
		ts.Fatalf("usage: appstore-notify OTID TYPE[/SUBTYPE] MINUTES-AGO RESULT[,RESULT...] FILE")
	}
	srv := standInOf(ts, "appstore-notify")
	typ, sub, _ := strings.Cut(args[1], "/")
	var minutes int
	_, err := fmt.Sscan(args[2], &minutes)
	ts.Check(err)
	signed := time.Now().Add(-time.Duration(minutes) * time.Minute)
	var attempts []appstore.SendAttempt
	for i, r := range strings.Split(args[3], ",") {
		attempts = append(attempts, appstore.SendAttempt{
			AttemptDate:       appstore.ToMillis(signed.Add(time.Duration(i) * time.Minute)),
			SendAttemptResult: appstore.SendAttemptResult(r),
		})
	}
	rec, err := srv.AddNotification(appstoretest.Notification{
		Type: typ, Subtype: sub, SignedDate: signed, TransactionID: args[0], OriginalTransactionID: args[0],
	}, attempts...)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[4]), []byte(rec.SignedPayload), 0o600))
}
