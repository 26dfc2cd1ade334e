// Package subscription puts Apple's view of one customer beside what this machine received: the
// subscription statuses, the transaction history and the notification history Apple keeps (App
// Store Server API, every answer verified and decoded), joined with the capture store by
// notificationUUID and originalTransactionId, so that a notification that never arrived, arrived
// late or arrived twice is visible without guessing. The s2s subscription command and the TUI's
// Timeline both use it.
package subscription

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/relay"
	"github.com/s2s-dev/s2s/store"
)

// Status is one subscription's current status as Apple reports it.
type Status struct {
	SubscriptionGroup     string                      `json:"subscriptionGroupIdentifier"`
	OriginalTransactionID string                      `json:"originalTransactionId"`
	Status                appstore.SubscriptionStatus `json:"status"`
	StatusName            string                      `json:"statusName"`
	Meaning               string                      `json:"meaning"`
	Transaction           decode.Summary              `json:"lastTransaction"`
	Renewal               Renewal                     `json:"renewalInfo"`
}

// Renewal is the decoded signedRenewalInfo of a subscription, with what decides what happens next.
type Renewal struct {
	decode.Summary
	AutoRenewStatus        *int      `json:"autoRenewStatus,omitempty"`
	AutoRenewProductID     string    `json:"autoRenewProductId,omitempty"`
	RenewalDate            time.Time `json:"renewalDate,omitzero"`
	ExpirationIntent       int       `json:"expirationIntent,omitempty"`
	IsInBillingRetryPeriod *bool     `json:"isInBillingRetryPeriod,omitempty"`
	GracePeriodExpiresDate time.Time `json:"gracePeriodExpiresDate,omitzero"`
}

// Transaction is one transaction of the customer's history, decoded and verified.
type Transaction struct {
	decode.Summary
	TransactionReason string    `json:"transactionReason,omitempty"`
	RevocationDate    time.Time `json:"revocationDate,omitzero"`
}

// Reception is one capture in the store of a notification Apple lists.
type Reception struct {
	CaptureID      int64     `json:"captureId"`
	ReceivedAt     time.Time `json:"receivedAt"`
	DelayMs        *int64    `json:"delayMs,omitempty"` // after signedDate
	ResponseStatus int       `json:"responseStatus,omitempty"`
	// Late: it arrived store.LateAfter (a minute) or more after it was signed; Apple sends within
	// seconds, so a late arrival is a retry after earlier failures (or a clock far off).
	Late bool `json:"late,omitempty"`
	// Replayed is a capture that s2s replay sent (X-S2S-Replay), not a delivery of Apple's.
	Replayed bool `json:"replayed,omitempty"`
	delay    time.Duration
	hasDelay bool
}

// Delay is how long after its signedDate the notification arrived, when known.
func (r Reception) Delay() (time.Duration, bool) { return r.delay, r.hasDelay }

// Notification is one notification Apple lists, with Apple's attempts and what arrived here.
type Notification struct {
	Notification decode.Summary         `json:"notification"`
	SendAttempts []appstore.SendAttempt `json:"sendAttempts"`
	// Delivered is Apple's word: some attempt succeeded.
	Delivered bool `json:"delivered"`
	// Received are the captures of Apple's deliveries (and of replays) of this notification,
	// oldest first; more than one Apple delivery means Apple retried or sent it again.
	Received []Reception `json:"received"`
	// NeverReceived: Apple lists it and no capture of it arrived here (an imported copy does not
	// count).
	NeverReceived bool `json:"neverReceived"`
	// LastResult is Apple's newest attempt result, and Fix what to do about it, for a
	// notification that never arrived.
	LastResult appstore.SendAttemptResult `json:"lastAttemptResult,omitempty"`
	Fix        string                     `json:"fix,omitempty"`
	// ImportedID is the capture --import stored (or found) for it; Imported says it was stored now.
	ImportedID int64 `json:"importedCaptureId,omitempty"`
	Imported   bool  `json:"imported,omitempty"`
	// Item is what Apple returned, kept for --import.
	Item appstore.NotificationHistoryItem `json:"-"`
}

// Deliveries is how many captures were Apple's deliveries (not replays).
func (n *Notification) Deliveries() int {
	k := 0
	for _, r := range n.Received {
		if !r.Replayed {
			k++
		}
	}
	return k
}

// LocalOnly is a capture about the customer that Apple's notification history does not list.
type LocalOnly struct {
	CaptureID        int64          `json:"captureId"`
	ReceivedAt       time.Time      `json:"receivedAt"`
	Method           string         `json:"method"`
	Notification     decode.Summary `json:"notification"`
	Reason           string         `json:"reason"`
	NotificationUUID string         `json:"-"`
}

// View is Apple's view of one customer beside this store's.
type View struct {
	TransactionID          string             `json:"transactionId"`
	Environment            decode.Environment `json:"environment"`
	BundleID               string             `json:"bundleId"`
	OriginalTransactionIDs []string           `json:"originalTransactionIds"`
	HistoryStart           time.Time          `json:"notificationHistoryStart"`
	HistoryEnd             time.Time          `json:"notificationHistoryEnd"`
	Statuses               []Status           `json:"statuses"`
	Transactions           []Transaction      `json:"transactions"`
	Notifications          []Notification     `json:"notifications"`
	LocalOnly              []LocalOnly        `json:"localOnly"`
	Store                  string             `json:"store,omitempty"`
}

// Options say whose view to fetch and report progress.
type Options struct {
	TransactionID string
	BundleID      string
	Now           time.Time
	// Progress, if set, gets one line per step (page counts), for stderr or a status bar.
	Progress func(string)
}

// Request is the notification history request for the customer: everything Apple keeps in env,
// ending now. Apple's rules are checked before it is sent.
func Request(transactionID string, env decode.Environment, now time.Time) (appstore.NotificationHistoryRequest, error) {
	req := appstore.NotificationHistoryRequest{
		// A minute inside the retention, so the start is not too old by the time Apple reads it.
		StartDate:     appstore.ToMillis(now.Add(-appstore.HistoryRetention(env) + time.Minute)),
		EndDate:       appstore.ToMillis(now),
		TransactionID: transactionID,
	}
	return req, req.Validate(env, now)
}

// Fetch asks Apple for the statuses, every page of the transaction history and every page of the
// notification history of the customer who made o.TransactionID, verifying each signed object
// with v. It does not read the store: Join does.
func Fetch(ctx context.Context, c *appstore.Client, v *decode.Verifier, o Options) (*View, error) {
	if err := appstore.ValidateTransactionID(o.TransactionID); err != nil {
		return nil, err
	}
	env := c.Environment()
	req, err := Request(o.TransactionID, env, o.Now)
	if err != nil {
		return nil, err
	}
	f := &fetch{c: c, v: v, o: o, progress: o.Progress, otids: map[string]bool{}}
	if f.progress == nil {
		f.progress = func(string) {}
	}
	f.view = &View{TransactionID: o.TransactionID, Environment: env, BundleID: o.BundleID,
		HistoryStart: req.StartDate.Time(), HistoryEnd: req.EndDate.Time(),
		OriginalTransactionIDs: []string{},
		Statuses:               []Status{}, Transactions: []Transaction{}, Notifications: []Notification{}, LocalOnly: []LocalOnly{}}
	if err := f.statuses(ctx); err != nil {
		return nil, err
	}
	if err := f.transactions(ctx); err != nil {
		return nil, err
	}
	if err := f.notifications(ctx, req); err != nil {
		return nil, err
	}
	return f.view, nil
}

// fetch is one Fetch under way.
type fetch struct {
	c        *appstore.Client
	v        *decode.Verifier
	o        Options
	progress func(string)
	view     *View
	otids    map[string]bool // the view's OriginalTransactionIDs, to add each once
}

func (f *fetch) addOTID(id string) {
	if id != "" && !f.otids[id] {
		f.otids[id] = true
		f.view.OriginalTransactionIDs = append(f.view.OriginalTransactionIDs, id)
	}
}

// statuses reads Get All Subscription Statuses: each subscription's last transaction and renewal.
func (f *fetch) statuses(ctx context.Context) error {
	f.progress("Get All Subscription Statuses…")
	st, err := f.c.GetAllSubscriptionStatuses(ctx, f.o.TransactionID)
	if err != nil {
		return err
	}
	for _, g := range st.Data {
		for _, lt := range g.LastTransactions {
			s := Status{SubscriptionGroup: g.SubscriptionGroupIdentifier, OriginalTransactionID: lt.OriginalTransactionID,
				Status: appstore.SubscriptionStatus(lt.Status)}
			s.StatusName, s.Meaning = s.Status.String(), s.Status.Meaning()
			s.Transaction = f.v.DecodeSignedTransaction([]byte(lt.SignedTransactionInfo)).Summary()
			s.Renewal = renewalOf(f.v.DecodeSignedRenewalInfo([]byte(lt.SignedRenewalInfo)))
			f.view.Statuses = append(f.view.Statuses, s)
			f.addOTID(lt.OriginalTransactionID)
		}
	}
	return nil
}

// transactions reads every page of Get Transaction History, oldest purchase first.
func (f *fetch) transactions(ctx context.Context) error {
	view := f.view
	err := f.c.TransactionHistory(ctx, f.o.TransactionID, appstore.TransactionHistoryRequest{Sort: "ASCENDING"}, func(n int, p *appstore.TransactionHistoryResponse) error {
		for _, jws := range p.SignedTransactions {
			d := f.v.DecodeSignedTransaction([]byte(jws))
			t := Transaction{Summary: d.Summary()}
			if d.Transaction != nil {
				t.TransactionReason = d.Transaction.TransactionReason
				t.RevocationDate = d.Transaction.RevocationDate.Time()
			}
			view.Transactions = append(view.Transactions, t)
			if t.Label != decode.LabelInvalid {
				f.addOTID(t.OriginalTransactionID)
			}
		}
		f.progress(fmt.Sprintf("Get Transaction History page %d: %d transactions so far", n, len(view.Transactions)))
		return nil
	})
	if err != nil {
		return err
	}
	// Oldest first whatever order pages came in (Apple sorts by modification date).
	slices.SortStableFunc(view.Transactions, func(a, b Transaction) int { return a.PurchaseDate.Compare(b.PurchaseDate) })
	return nil
}

// notifications reads every page of Get Notification History for req, oldest signed first.
func (f *fetch) notifications(ctx context.Context, req appstore.NotificationHistoryRequest) error {
	view := f.view
	err := f.c.NotificationHistory(ctx, req, func(n int, p *appstore.NotificationHistoryResponse) error {
		for _, item := range p.NotificationHistory {
			sum := f.v.DecodeSignedPayload([]byte(item.SignedPayload)).Summary()
			view.Notifications = append(view.Notifications, Notification{
				Notification: sum, SendAttempts: item.SendAttempts, Delivered: item.Delivered(), Item: item,
				Received: []Reception{},
			})
		}
		f.progress(fmt.Sprintf("Get Notification History page %d: %d notifications so far", n, len(view.Notifications)))
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortStableFunc(view.Notifications, func(a, b Notification) int {
		return a.Notification.SignedDate.Compare(b.Notification.SignedDate)
	})
	return nil
}

func renewalOf(d *decode.Decoded) Renewal {
	r := Renewal{Summary: d.Summary()}
	if ri := d.RenewalInfo; ri != nil {
		r.AutoRenewStatus, r.AutoRenewProductID = ri.AutoRenewStatus, ri.AutoRenewProductID
		r.RenewalDate = ri.RenewalDate.Time()
		r.ExpirationIntent, r.IsInBillingRetryPeriod = ri.ExpirationIntent, ri.IsInBillingRetryPeriod
		r.GracePeriodExpiresDate = ri.GracePeriodExpiresDate.Time()
	}
	return r
}

// Join reads the captures of the customer from st (by originalTransactionId and by the
// notificationUUIDs Apple lists) and fills each notification's receptions, never-received marks,
// and the captures Apple does not list. It may be called again after an import.
func (v *View) Join(ctx context.Context, st *store.Store) error {
	uuids := make([]string, 0, len(v.Notifications))
	for _, n := range v.Notifications {
		if n.Notification.NotificationUUID != "" {
			uuids = append(uuids, n.Notification.NotificationUUID)
		}
	}
	var caps []store.Capture
	seen := map[int64]bool{}
	add := func(f store.Filter) error {
		f.Limit, f.Ascending = -1, true
		list, err := st.List(ctx, f)
		if err != nil {
			return err
		}
		for _, c := range list {
			if !seen[c.ID] {
				seen[c.ID] = true
				caps = append(caps, c)
			}
		}
		return nil
	}
	if len(v.OriginalTransactionIDs) > 0 {
		if err := add(store.Filter{OriginalTransactionIDs: v.OriginalTransactionIDs}); err != nil {
			return err
		}
	}
	if len(uuids) > 0 {
		if err := add(store.Filter{NotificationUUIDs: uuids}); err != nil {
			return err
		}
	}
	slices.SortStableFunc(caps, func(a, b store.Capture) int { return a.ReceivedAt.Compare(b.ReceivedAt) })
	JoinCaptures(v, caps)
	return nil
}

// JoinCaptures is Join with the captures already read (the TUI has them).
func JoinCaptures(v *View, caps []store.Capture) {
	index := map[string]int{}
	for i := range v.Notifications {
		n := &v.Notifications[i]
		n.Received, n.ImportedID, n.NeverReceived, n.LastResult, n.Fix = []Reception{}, 0, false, "", ""
		if u := n.Notification.NotificationUUID; u != "" && n.Notification.Label != decode.LabelInvalid {
			index[u] = i
		}
	}
	v.LocalOnly = []LocalOnly{}
	for _, c := range caps {
		i, listed := index[c.NotificationUUID]
		if c.NotificationUUID != "" && listed {
			n := &v.Notifications[i]
			if c.Method == store.MethodImport {
				if n.ImportedID == 0 {
					n.ImportedID = c.ID
				}
				continue
			}
			r := Reception{CaptureID: c.ID, ReceivedAt: c.ReceivedAt, DelayMs: c.DelayMs(), ResponseStatus: c.ResponseStatus,
				Replayed: c.Headers.Get(relay.HeaderReplay) != ""}
			r.delay, r.hasDelay = c.Delay()
			r.Late = r.hasDelay && r.delay >= store.LateAfter
			n.Received = append(n.Received, r)
			continue
		}
		v.LocalOnly = append(v.LocalOnly, LocalOnly{
			CaptureID: c.ID, ReceivedAt: c.ReceivedAt, Method: c.Method, NotificationUUID: c.NotificationUUID,
			Notification: captureSummary(c), Reason: localReason(c, v.HistoryStart),
		})
	}
	for i := range v.Notifications {
		n := &v.Notifications[i]
		if n.Deliveries() == 0 {
			n.NeverReceived = true
			if len(n.SendAttempts) > 0 {
				n.LastResult = n.SendAttempts[len(n.SendAttempts)-1].SendAttemptResult
				if n.LastResult != appstore.ResultSuccess {
					n.Fix = n.LastResult.Info().Fix
				}
			}
		}
	}
}

func captureSummary(c store.Capture) decode.Summary {
	s := decode.Summary{Subject: c.Subject, SignedDate: c.SignedDate, Label: c.Trust, Class: c.TrustClass}
	// A local-only notification is shown as it always was: without the app's Apple ID and the
	// customer's account token.
	s.AppAppleID, s.AppAccountToken = 0, ""
	return s
}

// localReason says why Apple does not list a capture.
func localReason(c store.Capture, historyStart time.Time) string {
	switch {
	case c.Trust == decode.LabelSimulated:
		return "simulated: signed by a test chain (send-test, a re-signed replay or a stand-in), not sent by Apple"
	case c.Trust == decode.LabelXcode:
		return "StoreKit Testing in Xcode: Apple's servers never sent it"
	case c.Headers.Get(relay.HeaderReplay) != "":
		return "replayed by s2s replay"
	case c.Method == store.MethodImport:
		return "imported, but not in this notification history"
	case c.Trust == decode.LabelInvalid:
		return "invalid: not a notification Apple signed"
	case !c.SignedDate.IsZero() && c.SignedDate.Before(historyStart):
		return "signed before the oldest history Apple keeps"
	case c.Environment != "" && c.NotificationUUID != "":
		return "not in Apple's history for this environment and app"
	}
	return "not in Apple's history"
}
