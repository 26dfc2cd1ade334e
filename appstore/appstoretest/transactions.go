package appstoretest

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/s2s-dev/s2s/appstore"
)

// SubscriptionGroup is the subscriptionGroupIdentifier of every subscription the stand-in signs.
const SubscriptionGroup = "21000001"

// customers are the stand-in's transactions, each customer being one originalTransactionId, and
// the subscription status Get All Subscription Statuses reports for each. Guarded by Server.mu.
type customers struct {
	transactions []Notification // completed: ids, product, signed date (the purchase date)
	status       map[string]appstore.SubscriptionStatus
	revisions    map[string]revisionState
}

type revisionState struct {
	original, query string
	offset          int
}

// AddTransactions adds purchases and renewals to the transaction history (each needs a
// TransactionID; OriginalTransactionID defaults to it, SignedDate to now, and is the purchase
// date). Notifications added with AddNotification add their transaction too.
func (s *Server) AddTransactions(ns ...Notification) {
	for _, n := range ns {
		s.recordTransaction(s.complete(n))
	}
}

// SetSubscriptionStatus sets the status Get All Subscription Statuses reports for the customer
// (default 1, active).
func (s *Server) SetSubscriptionStatus(originalTransactionID string, status appstore.SubscriptionStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.customers.status == nil {
		s.customers.status = map[string]appstore.SubscriptionStatus{}
	}
	s.customers.status[originalTransactionID] = status
}

// recordTransaction keeps n's transaction once (a notification about a known transaction adds
// nothing).
func (s *Server) recordTransaction(n Notification) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.customers.transactions {
		if t.TransactionID == n.TransactionID {
			return
		}
	}
	s.customers.transactions = append(s.customers.transactions, n)
}

// customerOf is the originalTransactionId of the customer who made id (any of its transaction
// ids or the original), and that customer's transactions oldest first. Callers hold s.mu.
func (s *Server) customerOf(id string) (string, []Notification) {
	original := ""
	for _, t := range s.customers.transactions {
		if t.TransactionID == id || t.OriginalTransactionID == id {
			original = t.OriginalTransactionID
			break
		}
	}
	if original == "" {
		return "", nil
	}
	var txs []Notification
	for _, t := range s.customers.transactions {
		if t.OriginalTransactionID == original {
			txs = append(txs, t)
		}
	}
	slices.SortStableFunc(txs, func(a, b Notification) int { return a.SignedDate.Compare(b.SignedDate) })
	return original, txs
}

func transactionNotFound(w http.ResponseWriter) int {
	return writeFault(w, Fault{Status: http.StatusNotFound, Code: appstore.CodeTransactionIDNotFound, Message: "Transaction id not found."})
}

// transactionHistory answers Get Transaction History v2: the customer's transactions, PageSize a
// page, paged with an opaque revision bound to the query.
func (s *Server) transactionHistory(w http.ResponseWriter, r *http.Request, id string) int {
	q := r.URL.Query()
	sort := q.Get("sort")
	if sort != "" && sort != "ASCENDING" && sort != "DESCENDING" {
		return writeFault(w, Fault{Status: http.StatusBadRequest, Code: 4000021, Message: "Invalid sort."})
	}
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return writeFault(w, Fault{Status: http.StatusBadRequest, Code: 4000006, Message: "Invalid transaction id."})
	}
	revision := q.Get("revision")
	q.Del("revision")
	key := q.Encode()

	s.mu.Lock()
	defer s.mu.Unlock()
	original, txs := s.customerOf(id)
	if original == "" {
		return transactionNotFound(w)
	}
	if sort == "DESCENDING" {
		slices.Reverse(txs)
	}
	offset := 0
	if revision != "" {
		st, ok := s.customers.revisions[revision]
		if !ok || st.original != original || st.query != key {
			return writeFault(w, Fault{Status: http.StatusBadRequest, Code: 4000005, Message: "Invalid request revision."})
		}
		offset = st.offset
	}
	stop := min(offset+s.opts.PageSize, len(txs))
	offset = min(offset, stop)
	resp := appstore.TransactionHistoryResponse{
		BundleID: s.opts.BundleID, AppAppleID: s.opts.AppAppleID, Environment: string(s.opts.Environment),
		SignedTransactions: []string{}, HasMore: stop < len(txs), Revision: newUUID(),
	}
	for _, t := range txs[offset:stop] {
		jws, err := s.signTransaction(t)
		if err != nil {
			return writeFault(w, internalError(err.Error()))
		}
		resp.SignedTransactions = append(resp.SignedTransactions, jws)
	}
	if s.customers.revisions == nil {
		s.customers.revisions = map[string]revisionState{}
	}
	s.customers.revisions[resp.Revision] = revisionState{original: original, query: key, offset: stop}
	return writeJSON(w, http.StatusOK, resp)
}

// subscriptionStatuses answers Get All Subscription Statuses: the customer's newest transaction
// and renewal info in the one subscription group the stand-in knows.
func (s *Server) subscriptionStatuses(w http.ResponseWriter, id string) int {
	s.mu.Lock()
	original, txs := s.customerOf(id)
	status, ok := s.customers.status[original]
	s.mu.Unlock()
	if original == "" {
		return transactionNotFound(w)
	}
	if !ok {
		status = appstore.StatusActive
	}
	last := txs[len(txs)-1]
	jws, err := s.signTransaction(last)
	if err != nil {
		return writeFault(w, internalError(err.Error()))
	}
	autoRenew := 1
	if status != appstore.StatusActive {
		autoRenew = 0
	}
	renewal, err := signJSON(s.signer, map[string]any{
		"originalTransactionId": last.OriginalTransactionID, "autoRenewProductId": last.ProductID,
		"productId": last.ProductID, "autoRenewStatus": autoRenew, "signedDate": s.opts.Now().UnixMilli(),
		"environment": string(last.Environment),
		"renewalDate": last.SignedDate.Add(30 * 24 * time.Hour).UnixMilli(),
	})
	if err != nil {
		return writeFault(w, internalError(err.Error()))
	}
	return writeJSON(w, http.StatusOK, appstore.StatusResponse{
		Environment: string(s.opts.Environment), BundleID: s.opts.BundleID, AppAppleID: s.opts.AppAppleID,
		Data: []appstore.SubscriptionGroupStatus{{
			SubscriptionGroupIdentifier: SubscriptionGroup,
			LastTransactions: []appstore.LastTransaction{{
				Status: int(status), OriginalTransactionID: last.OriginalTransactionID,
				SignedTransactionInfo: jws, SignedRenewalInfo: renewal,
			}},
		}},
	})
}
