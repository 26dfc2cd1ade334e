// Package appstoretest is a local stand-in for Apple's App Store Server API, for tests: an HTTP
// server on loopback that checks each bearer token the way Apple does (ES256 signature with the
// key's public half, kid, iss, aud, bid, iat, exp), answers with Apple's JSON shapes and error
// codes, pages notification history, and, when asked for a test notification, delivers a signed
// TEST notification to a configured URL and records Apple's sendAttemptResult for it.
//
// Faults are injected per path: rate limiting with a Retry-After in milliseconds, 5xx, any error
// code. Everything it signs chains to a root minted in memory (or to a Signer the test supplies),
// never to Apple.
package appstoretest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/appstore"
	"github.com/s2s-dev/s2s/decode"
)

// Notification describes a notification for a Signer to sign.
type Notification struct {
	Type, Subtype         string
	UUID                  string
	SignedDate            time.Time
	BundleID              string
	Environment           decode.Environment
	AppAppleID            int64
	TransactionID         string
	OriginalTransactionID string
	ProductID             string
}

// Signer signs a JSON payload as a compact JWS with an x5c chain. *Chain is one; a test may plug
// in another (s2s's own local chain, so that the binary under test labels payloads simulated).
type Signer interface {
	Sign(payload []byte) (string, error)
}

// Options configure a Server. KeyID, IssuerID, BundleID and PublicKey are what tokens must match.
type Options struct {
	KeyID, IssuerID, BundleID string
	PublicKey                 *ecdsa.PublicKey
	Environment               decode.Environment // Sandbox when empty
	AppAppleID                int64              // in Production payloads; 0: 1234567890

	// NotificationURL is where test notifications are delivered; empty makes Request a Test
	// Notification answer 4040007 ServerNotificationURLNotFound, as Apple does without a URL.
	NotificationURL string
	Signer          Signer       // nil: a Chain minted by New
	DeliveryClient  *http.Client // nil: 10 s timeout, Apple-like redirect limit
	// StatusNotFoundPolls makes the first N status polls of each test notification answer 4040008
	// even after delivery, as Apple does while the status is not available yet.
	StatusNotFoundPolls int

	PageSize    int              // history records per page; 0: 20 as Apple
	MaxTokenAge time.Duration    // oldest acceptable iat; 0: 1 hour
	Now         func() time.Time // nil: time.Now
}

// Fault is an answer served instead of the real one.
type Fault struct {
	Status     int
	Code       int64     // Apple's errorCode; 0 sends no body
	Message    string    // errorMessage; a default is used when empty
	RetryAfter time.Time // non-zero: a Retry-After header in UNIX milliseconds, as Apple sends
}

// RateLimited is the 429 Apple sends, with requests allowed again at retryAfter.
func RateLimited(retryAfter time.Time) Fault {
	return Fault{Status: http.StatusTooManyRequests, Code: appstore.CodeRateLimitExceeded, Message: "Rate limit exceeded.", RetryAfter: retryAfter}
}

// InternalError is Apple's 500 with 5000000 GeneralInternal (not retryable by code, but a 5xx).
func InternalError() Fault { return internalError("An unknown error occurred.") }

// internalError is that 500 with the stand-in's own failure as the message, so a test that hits
// it sees why.
func internalError(msg string) Fault {
	return Fault{Status: http.StatusInternalServerError, Code: appstore.CodeGeneralInternal, Message: msg}
}

// Request is one request the server answered.
type Request struct {
	Method, Path string
	Query        string
	At           time.Time
	Status       int
	AuthError    string // why the token was refused, "" when accepted
}

// HistoryRecord is one notification in the history.
type HistoryRecord struct {
	SignedPayload  string
	SendAttempts   []appstore.SendAttempt
	SignedDate     time.Time
	Type, Subtype  string
	TransactionIDs []string // any of these matches a transactionId filter
}

// Server is the stand-in. Create it with New or Start.
type Server struct {
	*httptest.Server
	opts   Options
	signer Signer

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	faults    map[string][]Fault
	requests  []Request
	history   []HistoryRecord
	tests     map[string]*testNotification
	pages     map[string]pageState
	customers customers // transactions and subscription statuses (transactions.go)
	delivered chan string
}

type testNotification struct {
	signedPayload string
	attempts      []appstore.SendAttempt
	done          bool
	notFoundLeft  int
}

type pageState struct {
	body   appstore.NotificationHistoryRequest
	offset int
}

// New starts a stand-in on 127.0.0.1 with an OS-chosen port. Close it when done.
func New(o Options) (*Server, error) {
	if o.PublicKey == nil || o.KeyID == "" || o.IssuerID == "" || o.BundleID == "" {
		return nil, errors.New("appstoretest: KeyID, IssuerID, BundleID and PublicKey are required")
	}
	if o.Environment == "" {
		o.Environment = decode.EnvSandbox
	}
	if o.AppAppleID == 0 {
		o.AppAppleID = 1234567890
	}
	if o.PageSize == 0 {
		o.PageSize = 20
	}
	if o.MaxTokenAge == 0 {
		o.MaxTokenAge = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DeliveryClient == nil {
		o.DeliveryClient = &http.Client{Timeout: 10 * time.Second}
	}
	s := &Server{
		opts: o, signer: o.Signer,
		faults: map[string][]Fault{}, tests: map[string]*testNotification{}, pages: map[string]pageState{},
		delivered: make(chan string, 64),
	}
	if s.signer == nil {
		chain, err := NewChain()
		if err != nil {
			return nil, err
		}
		s.signer = chain
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.Server.Listener = l
	s.Server.Start()
	return s, nil
}

// Start is New for a test: it fails the test on error and closes the server at cleanup.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Close stops the server and waits for deliveries in flight.
func (s *Server) Close() {
	s.cancel()
	s.Server.Close()
	s.wg.Wait()
}

// Chain is the minted signing chain, or nil when a Signer was supplied.
func (s *Server) Chain() *Chain {
	c, _ := s.signer.(*Chain)
	return c
}

// SetNotificationURL changes where test notifications go.
func (s *Server) SetNotificationURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.NotificationURL = u
}

// InjectFaults queues answers for requests whose path starts with pathPrefix ("" for any path),
// served in order before normal handling resumes.
func (s *Server) InjectFaults(pathPrefix string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[pathPrefix] = append(s.faults[pathPrefix], faults...)
}

// Requests returns what the server has answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// AddHistory adds records to the notification history.
func (s *Server) AddHistory(records ...HistoryRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.history = append(s.history, records...)
}

// AddNotification signs n (filling UUID, bundle id and environment when empty) and adds it to the
// history with the given attempts.
func (s *Server) AddNotification(n Notification, attempts ...appstore.SendAttempt) (HistoryRecord, error) {
	n = s.complete(n)
	jws, err := signNotification(s.signer, n)
	if err != nil {
		return HistoryRecord{}, err
	}
	r := HistoryRecord{
		SignedPayload: jws, SendAttempts: attempts, SignedDate: n.SignedDate,
		Type: n.Type, Subtype: n.Subtype,
	}
	for _, id := range []string{n.TransactionID, n.OriginalTransactionID} {
		if id != "" {
			r.TransactionIDs = append(r.TransactionIDs, id)
		}
	}
	s.AddHistory(r)
	if n.Type != "TEST" {
		s.recordTransaction(n)
	}
	return r, nil
}

// Delivered receives the token of each test notification once its delivery attempt is recorded.
func (s *Server) Delivered() <-chan string { return s.delivered }

func (s *Server) complete(n Notification) Notification {
	if n.UUID == "" {
		n.UUID = newUUID()
	}
	if n.BundleID == "" {
		n.BundleID = s.opts.BundleID
	}
	if n.Environment == "" {
		n.Environment = s.opts.Environment
	}
	if n.AppAppleID == 0 {
		n.AppAppleID = s.opts.AppAppleID
	}
	if n.SignedDate.IsZero() {
		n.SignedDate = s.opts.Now()
	}
	if n.Type != "TEST" && n.TransactionID == "" {
		n.TransactionID = "2000000000000001"
	}
	if n.OriginalTransactionID == "" {
		n.OriginalTransactionID = n.TransactionID
	}
	if n.Type != "TEST" && n.ProductID == "" {
		n.ProductID = "com.example.monthly"
	}
	return n
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, At: s.opts.Now()}
	status := s.handle(w, r, &rec)
	rec.Status = status
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
}

// handle answers one request and returns the status it wrote.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, rec *Request) int {
	if err := s.checkToken(r.Header.Get("Authorization")); err != nil {
		rec.AuthError = err.Error()
		// Apple answers 401 with no body worth relying on.
		w.WriteHeader(http.StatusUnauthorized)
		return http.StatusUnauthorized
	}
	if f, ok := s.nextFault(r.URL.Path); ok {
		return writeFault(w, f)
	}
	const testPath = "/inApps/v1/notifications/test"
	switch p := r.URL.Path; {
	case r.Method == http.MethodPost && p == testPath:
		return s.requestTest(w)
	case r.Method == http.MethodGet && strings.HasPrefix(p, testPath+"/"):
		return s.testStatus(w, strings.TrimPrefix(p, testPath+"/"))
	case r.Method == http.MethodPost && p == "/inApps/v1/notifications/history":
		return s.historyPage(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/inApps/v1/transactions/"):
		return s.transactionInfo(w, strings.TrimPrefix(p, "/inApps/v1/transactions/"))
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/inApps/v1/subscriptions/"):
		return s.subscriptionStatuses(w, strings.TrimPrefix(p, "/inApps/v1/subscriptions/"))
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/inApps/v2/history/"):
		return s.transactionHistory(w, r, strings.TrimPrefix(p, "/inApps/v2/history/"))
	}
	return writeFault(w, Fault{Status: http.StatusNotFound, Code: 4040000, Message: "No such endpoint in the stand-in."})
}

// checkToken verifies the bearer token as Apple does; the error says why it was refused.
func (s *Server) checkToken(header string) error {
	now := s.opts.Now()
	claims, iat, exp, err := CheckBearerToken(header, s.opts.KeyID, s.opts.PublicKey, appstore.Audience, s.opts.IssuerID, now)
	if err != nil {
		return err
	}
	if bid, _ := claims["bid"].(string); bid != s.opts.BundleID {
		return fmt.Errorf("bid %q is not the bundle id %q", bid, s.opts.BundleID)
	}
	if now.Sub(iat) > s.opts.MaxTokenAge {
		return fmt.Errorf("iat %s is older than %s", iat.UTC().Format(time.RFC3339), s.opts.MaxTokenAge)
	}
	if exp.Sub(iat) > time.Hour {
		return errors.New("token lifetime longer than 60 minutes")
	}
	return nil
}

func (s *Server) nextFault(path string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.faults))
	for k := range s.faults {
		keys = append(keys, k)
	}
	// The longest matching prefix wins, so a fault on one endpoint is not eaten by a catch-all.
	slices.SortFunc(keys, func(a, b string) int { return len(b) - len(a) })
	for _, k := range keys {
		if q := s.faults[k]; len(q) > 0 && strings.HasPrefix(path, k) {
			s.faults[k] = q[1:]
			return q[0], true
		}
	}
	return Fault{}, false
}

func writeFault(w http.ResponseWriter, f Fault) int {
	if !f.RetryAfter.IsZero() {
		w.Header().Set("Retry-After", strconv.FormatInt(f.RetryAfter.UnixMilli(), 10))
	}
	if f.Code == 0 {
		w.WriteHeader(f.Status)
		return f.Status
	}
	msg := f.Message
	if msg == "" {
		msg = appstore.ErrorName(f.Code)
	}
	writeJSON(w, f.Status, map[string]any{"errorCode": f.Code, "errorMessage": msg})
	return f.Status
}

func writeJSON(w http.ResponseWriter, status int, v any) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
	return status
}

func (s *Server) requestTest(w http.ResponseWriter) int {
	s.mu.Lock()
	target := s.opts.NotificationURL
	s.mu.Unlock()
	if target == "" {
		return writeFault(w, Fault{Status: http.StatusNotFound, Code: appstore.CodeServerNotificationURLNotFound, Message: "An invalid request was made."})
	}
	n := s.complete(Notification{Type: "TEST"})
	jws, err := signNotification(s.signer, n)
	if err != nil {
		return writeFault(w, internalError(err.Error()))
	}
	token := newUUID()
	tn := &testNotification{signedPayload: jws, notFoundLeft: s.opts.StatusNotFoundPolls}
	s.mu.Lock()
	s.tests[token] = tn
	s.mu.Unlock()
	s.wg.Add(1)
	go s.deliver(token, tn, target, n)
	return writeJSON(w, http.StatusOK, appstore.TestNotificationToken{TestNotificationToken: token})
}

// deliver POSTs the TEST notification like Apple and records the attempt.
func (s *Server) deliver(token string, tn *testNotification, target string, n Notification) {
	defer s.wg.Done()
	body, _ := json.Marshal(map[string]string{"signedPayload": tn.signedPayload})
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, target, bytes.NewReader(body))
	var result appstore.SendAttemptResult
	if err != nil {
		result = appstore.ResultOther
	} else {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "App Store Server Notifications (s2s stand-in)")
		resp, err := s.opts.DeliveryClient.Do(req)
		if err == nil {
			// Apple reads the answer; an answer cut short counts against the server.
			_, cerr := io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if cerr != nil {
				err, resp = cerr, nil
			}
		}
		result = appstore.ClassifyDelivery(resp, err)
	}
	attempt := appstore.SendAttempt{AttemptDate: appstore.ToMillis(s.opts.Now()), SendAttemptResult: result}
	s.mu.Lock()
	tn.attempts = append(tn.attempts, attempt)
	tn.done = true
	s.history = append(s.history, HistoryRecord{
		SignedPayload: tn.signedPayload, SendAttempts: []appstore.SendAttempt{attempt},
		SignedDate: n.SignedDate, Type: n.Type,
	})
	s.mu.Unlock()
	select {
	case s.delivered <- token:
	default:
	}
}

func (s *Server) testStatus(w http.ResponseWriter, token string) int {
	s.mu.Lock()
	tn, ok := s.tests[token]
	var status appstore.TestNotificationStatus
	ready := false
	if ok && tn.done {
		if tn.notFoundLeft > 0 {
			tn.notFoundLeft--
		} else {
			ready = true
			status = appstore.TestNotificationStatus{SignedPayload: tn.signedPayload, SendAttempts: slices.Clone(tn.attempts)}
		}
	}
	s.mu.Unlock()
	if !ready {
		return writeFault(w, Fault{Status: http.StatusNotFound, Code: appstore.CodeTestNotificationNotFound, Message: "Either the test notification token is expired or the notification and status are not yet available."})
	}
	return writeJSON(w, http.StatusOK, status)
}

func (s *Server) historyPage(w http.ResponseWriter, r *http.Request) int {
	var body appstore.NotificationHistoryRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		return writeFault(w, Fault{Status: http.StatusBadRequest, Code: appstore.CodeGeneralBadRequest, Message: "Invalid request body."})
	}
	now := s.opts.Now()
	switch {
	case body.StartDate <= 0:
		return writeFault(w, Fault{Status: 400, Code: 4000015, Message: "Invalid start date."})
	case body.EndDate <= 0:
		return writeFault(w, Fault{Status: 400, Code: 4000016, Message: "Invalid end date."})
	case body.StartDate.Time().Before(now.Add(-appstore.HistoryRetention(s.opts.Environment))):
		return writeFault(w, Fault{Status: 400, Code: 4000012, Message: "Start date too far in past."})
	case body.StartDate >= body.EndDate:
		return writeFault(w, Fault{Status: 400, Code: 4000013, Message: "Start date after end date."})
	case body.NotificationSubtype != "" && body.NotificationType == "":
		return writeFault(w, Fault{Status: 400, Code: appstore.CodeGeneralBadRequest, Message: "A subtype requires a notification type."})
	case body.TransactionID != "" && body.NotificationType != "":
		return writeFault(w, Fault{Status: 400, Code: appstore.CodeMultipleFiltersSupplied, Message: "Invalid request. Only one of notificationType or transactionId may be supplied."})
	}
	offset := 0
	if tok := r.URL.Query().Get("paginationToken"); tok != "" {
		s.mu.Lock()
		st, ok := s.pages[tok]
		s.mu.Unlock()
		if !ok || st.body != body {
			return writeFault(w, Fault{Status: 400, Code: appstore.CodeInvalidPaginationToken, Message: "Invalid pagination token."})
		}
		offset = st.offset
	}
	end := body.EndDate.Time()
	if end.After(now) {
		end = now
	}
	s.mu.Lock()
	// As Apple does, a transactionId stands for its customer: any of their transactions matches.
	customer := map[string]bool{body.TransactionID: true}
	if original, txs := s.customerOf(body.TransactionID); original != "" {
		customer[original] = true
		for _, t := range txs {
			customer[t.TransactionID] = true
		}
	}
	var match []HistoryRecord
	for _, h := range s.history {
		switch {
		case h.SignedDate.Before(body.StartDate.Time()), h.SignedDate.After(end):
			continue
		case body.NotificationType != "" && h.Type != body.NotificationType:
			continue
		case body.NotificationSubtype != "" && h.Subtype != body.NotificationSubtype:
			continue
		case body.TransactionID != "" && !slices.ContainsFunc(h.TransactionIDs, func(id string) bool { return customer[id] }):
			continue
		case body.OnlyFailures && delivered(h.SendAttempts):
			continue
		}
		match = append(match, h)
	}
	slices.SortStableFunc(match, func(a, b HistoryRecord) int { return a.SignedDate.Compare(b.SignedDate) })
	resp := appstore.NotificationHistoryResponse{NotificationHistory: []appstore.NotificationHistoryItem{}}
	if offset > len(match) {
		offset = len(match)
	}
	stop := min(offset+s.opts.PageSize, len(match))
	for _, h := range match[offset:stop] {
		resp.NotificationHistory = append(resp.NotificationHistory, appstore.NotificationHistoryItem{SignedPayload: h.SignedPayload, SendAttempts: h.SendAttempts})
	}
	if stop < len(match) {
		resp.HasMore = true
		resp.PaginationToken = newUUID()
		s.pages[resp.PaginationToken] = pageState{body: body, offset: stop}
	}
	s.mu.Unlock()
	return writeJSON(w, http.StatusOK, resp)
}

func delivered(attempts []appstore.SendAttempt) bool {
	return appstore.NotificationHistoryItem{SendAttempts: attempts}.Delivered()
}

// transactionInfo answers for transactions that appear in the history; others are unknown.
func (s *Server) transactionInfo(w http.ResponseWriter, id string) int {
	if !s.knownTransaction(id) {
		return writeFault(w, Fault{Status: http.StatusNotFound, Code: appstore.CodeTransactionIDNotFound, Message: "Transaction id not found."})
	}
	n := s.complete(Notification{Type: "DID_RENEW", TransactionID: id})
	jws, err := s.signTransaction(n)
	if err != nil {
		return writeFault(w, internalError(err.Error()))
	}
	return writeJSON(w, http.StatusOK, appstore.TransactionInfoResponse{SignedTransactionInfo: jws})
}

func (s *Server) knownTransaction(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.history {
		if slices.Contains(h.TransactionIDs, id) {
			return true
		}
	}
	return false
}

func (s *Server) signTransaction(n Notification) (string, error) {
	return signJSON(s.signer, transactionPayload(n))
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
