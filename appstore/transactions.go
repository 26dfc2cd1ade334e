package appstore

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// TransactionHistoryRequest is the query of Get Transaction History (v2). Every field is optional;
// the zero value asks for every transaction of the customer, Apple's default order (ascending by
// modification).
type TransactionHistoryRequest struct {
	StartDate, EndDate          Millis
	ProductIDs                  []string
	ProductType                 string // AUTO_RENEWABLE, NON_RENEWABLE, CONSUMABLE, NON_CONSUMABLE
	Sort                        string // ASCENDING or DESCENDING
	SubscriptionGroupIdentifier []string
	InAppOwnershipType          string // PURCHASED or FAMILY_SHARED
	Revoked                     *bool
}

func (r TransactionHistoryRequest) query(revision string) url.Values {
	q := url.Values{}
	if revision != "" {
		q.Set("revision", revision)
	}
	if r.StartDate != 0 {
		q.Set("startDate", strconv.FormatInt(int64(r.StartDate), 10))
	}
	if r.EndDate != 0 {
		q.Set("endDate", strconv.FormatInt(int64(r.EndDate), 10))
	}
	for _, p := range r.ProductIDs {
		q.Add("productId", p)
	}
	if r.ProductType != "" {
		q.Set("productType", r.ProductType)
	}
	if r.Sort != "" {
		q.Set("sort", r.Sort)
	}
	for _, g := range r.SubscriptionGroupIdentifier {
		q.Add("subscriptionGroupIdentifier", g)
	}
	if r.InAppOwnershipType != "" {
		q.Set("inAppOwnershipType", r.InAppOwnershipType)
	}
	if r.Revoked != nil {
		q.Set("revoked", strconv.FormatBool(*r.Revoked))
	}
	return q
}

// TransactionHistoryResponse is one page of Get Transaction History (v2).
type TransactionHistoryResponse struct {
	Revision           string   `json:"revision"`
	HasMore            bool     `json:"hasMore"`
	BundleID           string   `json:"bundleId"`
	AppAppleID         int64    `json:"appAppleId"`
	Environment        string   `json:"environment"`
	SignedTransactions []string `json:"signedTransactions"`
}

// ValidateTransactionID checks an id before it goes into a request path: Apple's transaction ids
// are strings of digits, so anything else would only spend a request on 4000006.
func ValidateTransactionID(id string) error {
	if id == "" {
		return fmt.Errorf("a transaction id is required")
	}
	if len(id) > 64 {
		return fmt.Errorf("transaction id %.20q…: too long for an App Store transaction id", id)
	}
	for _, c := range id {
		if c < '0' || c > '9' {
			return fmt.Errorf("transaction id %q: App Store transaction ids are digits only", id)
		}
	}
	return nil
}

// GetTransactionHistory fetches one page of the customer's transactions; pass the previous page's
// Revision to continue.
func (c *Client) GetTransactionHistory(ctx context.Context, transactionID string, req TransactionHistoryRequest, revision string) (*TransactionHistoryResponse, error) {
	if err := ValidateTransactionID(transactionID); err != nil {
		return nil, err
	}
	var out TransactionHistoryResponse
	if err := c.do(ctx, http.MethodGet, "/inApps/v2/history/"+url.PathEscape(transactionID), req.query(revision), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// maxHistoryPages bounds how many pages a paging loop follows: a server that says hasMore forever
// with fresh tokens must not make the client loop (or grow) without end.
const maxHistoryPages = 1000

// TransactionHistory fetches every page, calling page for each (page numbers from 1). It stops at
// the first error, including one returned by page.
func (c *Client) TransactionHistory(ctx context.Context, transactionID string, req TransactionHistoryRequest, page func(n int, p *TransactionHistoryResponse) error) error {
	return followPages(
		func(revision string) (*TransactionHistoryResponse, error) {
			return c.GetTransactionHistory(ctx, transactionID, req, revision)
		},
		func(p *TransactionHistoryResponse) (bool, string) { return p.HasMore, p.Revision },
		page,
		"App Store Server API: transaction history page %d says hasMore but gives no new revision",
		"App Store Server API: transaction history still has more after %d pages; stopped")
}
