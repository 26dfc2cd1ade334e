// Package appstoreconnecttest is a local stand-in for the part of Apple's App Store Connect API
// that s2s uses, for tests: an HTTP server on loopback that checks each bearer token as Apple does
// (ES256 signature with the key's public half, kid, typ, iss, aud, exp, and exp at most 20 minutes
// after iat), serves the apps resource (GET /v1/apps?filter[bundleId]=…, GET and PATCH
// /v1/apps/{id}) with its App Store Server Notifications URL attributes, and answers errors in
// Apple's JSON:API format {"errors":[{"status","code","title","detail"}]}.
//
// Like Apple's, its filter[bundleId] is not an exact match: it returns every app whose bundle ID
// starts with the value, so clients must pick the exact one themselves.
package appstoreconnecttest

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s2s-dev/s2s/appstore/appstoretest"
	"github.com/s2s-dev/s2s/appstoreconnect"
)

// App is an app the stand-in knows. Empty URL and version fields are null at Apple.
type App struct {
	ID, BundleID, Name               string
	ProductionURL, ProductionVersion string
	SandboxURL, SandboxVersion       string
}

// Options configure a Server. KeyID, IssuerID and PublicKey are what tokens must match.
type Options struct {
	KeyID, IssuerID string
	PublicKey       *ecdsa.PublicKey
	Apps            []App
	Now             func() time.Time // nil: time.Now
}

// Fault is an answer served instead of the real one.
type Fault struct {
	Status              int
	Code, Title, Detail string
}

// Forbidden is what Apple answers when the key's role may not change the app.
func Forbidden() Fault {
	return Fault{Status: http.StatusForbidden, Code: "FORBIDDEN_ERROR", Title: "This request is forbidden for security reasons",
		Detail: "The API key in use does not allow this request"}
}

// Request is one request the server answered.
type Request struct {
	Method, Path, Query string
	Status              int
	AuthError           string          // why the token was refused, "" when accepted
	Attributes          map[string]any  // a PATCH's attributes as sent (null values are nil)
	Body                json.RawMessage // a PATCH's body
}

// Server is the stand-in. Create it with New or Start.
type Server struct {
	*httptest.Server
	opts Options

	mu       sync.Mutex
	apps     []App
	faults   map[string][]Fault // by method
	requests []Request
	patched  chan App
}

// New starts a stand-in on 127.0.0.1 with an OS-chosen port. Close it when done.
func New(o Options) (*Server, error) {
	if o.PublicKey == nil || o.KeyID == "" || o.IssuerID == "" {
		return nil, errors.New("appstoreconnecttest: KeyID, IssuerID and PublicKey are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{opts: o, apps: slices.Clone(o.Apps), faults: map[string][]Fault{}, patched: make(chan App, 64)}
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

// App returns the app with Apple's id as the stand-in has it now.
func (s *Server) App(id string) (App, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.apps {
		if a.ID == id {
			return a, true
		}
	}
	return App{}, false
}

// SetApp adds or replaces an app (by id).
func (s *Server) SetApp(a App) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.apps {
		if s.apps[i].ID == a.ID {
			s.apps[i] = a
			return
		}
	}
	s.apps = append(s.apps, a)
}

// Patched receives the app after each successful PATCH.
func (s *Server) Patched() <-chan App { return s.patched }

// InjectFaults queues answers for requests with method ("" for any), served in order.
func (s *Server) InjectFaults(method string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = append(s.faults[method], faults...)
}

// Requests returns what the server has answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	rec.Status = s.handle(w, r, &rec)
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, rec *Request) int {
	if err := s.checkToken(r.Header.Get("Authorization")); err != nil {
		rec.AuthError = err.Error()
		return writeError(w, Fault{Status: http.StatusUnauthorized, Code: "NOT_AUTHORIZED",
			Title:  "Authentication credentials are missing or invalid.",
			Detail: "Provide a properly configured and signed bearer token, and make sure that it has not expired. Learn more about Generating Tokens for API Requests https://developer.apple.com/go/?id=api-generating-tokens"})
	}
	if f, ok := s.nextFault(r.Method); ok {
		return writeError(w, f)
	}
	id, isOne := strings.CutPrefix(r.URL.Path, "/v1/apps/")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/apps":
		return s.list(w, r.URL.Query().Get("filter[bundleId]"))
	case r.Method == http.MethodGet && isOne && !strings.Contains(id, "/"):
		a, ok := s.App(id)
		if !ok {
			return notFound(w, id)
		}
		return writeJSON(w, http.StatusOK, map[string]any{"data": resource(a)})
	case r.Method == http.MethodPatch && isOne && !strings.Contains(id, "/"):
		return s.patch(w, r, id, rec)
	}
	return writeError(w, Fault{Status: http.StatusNotFound, Code: "NOT_FOUND", Title: "The specified resource does not exist",
		Detail: "The path provided does not match a defined resource type."})
}

// checkToken verifies the bearer token as Apple does; the error says why it was refused.
func (s *Server) checkToken(header string) error {
	_, iat, exp, err := appstoretest.CheckBearerToken(header, s.opts.KeyID, s.opts.PublicKey, appstoreconnect.Audience, s.opts.IssuerID, s.opts.Now())
	if err != nil {
		return err
	}
	if exp.Sub(iat) > appstoreconnect.MaxTokenLifetime {
		return errors.New("exp is more than 20 minutes after iat")
	}
	return nil
}

func (s *Server) nextFault(method string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range []string{method, ""} {
		if q := s.faults[m]; len(q) > 0 {
			s.faults[m] = q[1:]
			return q[0], true
		}
	}
	return Fault{}, false
}

func (s *Server) list(w http.ResponseWriter, bundleID string) int {
	s.mu.Lock()
	data := []any{}
	for _, a := range s.apps {
		if strings.HasPrefix(a.BundleID, bundleID) {
			data = append(data, resource(a))
		}
	}
	s.mu.Unlock()
	return writeJSON(w, http.StatusOK, map[string]any{"data": data, "links": map[string]string{"self": "/v1/apps"}})
}

// patch applies an apps update as Apple does: the body's type and id must match, only known
// attributes, URLs absolute https (ENTITY_ERROR.ATTRIBUTE.INVALID otherwise), versions V1 or V2.
func (s *Server) patch(w http.ResponseWriter, r *http.Request, id string, rec *Request) int {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return writeError(w, Fault{Status: http.StatusBadRequest, Code: "PARAMETER_ERROR.INVALID", Title: "A parameter has an invalid value", Detail: "unreadable body"})
	}
	rec.Body = raw
	var body struct {
		Data struct {
			Type       string          `json:"type"`
			ID         string          `json:"id"`
			Attributes json.RawMessage `json:"attributes"`
		} `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return writeError(w, Fault{Status: http.StatusUnprocessableEntity, Code: "ENTITY_UNPROCESSABLE", Title: "The request entity is not valid", Detail: err.Error()})
	}
	if body.Data.Type != "apps" || body.Data.ID != id {
		return writeError(w, Fault{Status: http.StatusConflict, Code: "ENTITY_ERROR.INCLUDED.INVALID_ID",
			Title: "The provided entity includes an invalid id", Detail: "The id in the body does not match the id in the URL."})
	}
	var attrs map[string]any
	if err := json.Unmarshal(body.Data.Attributes, &attrs); err != nil {
		return writeError(w, Fault{Status: http.StatusUnprocessableEntity, Code: "ENTITY_UNPROCESSABLE", Title: "The request entity is not valid", Detail: "attributes is not an object"})
	}
	rec.Attributes = attrs
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.apps, func(a App) bool { return a.ID == id })
	if i < 0 {
		return notFound(w, id)
	}
	a := s.apps[i]
	fields := map[string]*string{
		"subscriptionStatusUrl": &a.ProductionURL, "subscriptionStatusUrlVersion": &a.ProductionVersion,
		"subscriptionStatusUrlForSandbox": &a.SandboxURL, "subscriptionStatusUrlVersionForSandbox": &a.SandboxVersion,
	}
	for k, v := range attrs {
		dst, ok := fields[k]
		if !ok {
			return writeError(w, Fault{Status: http.StatusConflict, Code: "ENTITY_ERROR.ATTRIBUTE.UNKNOWN",
				Title: "The provided entity includes an unknown attribute", Detail: "'" + k + "' is not a valid field name"})
		}
		str, isStr := v.(string)
		if v != nil && !isStr {
			return writeError(w, invalidAttr(k, "must be a string or null"))
		}
		switch {
		case v == nil:
		case strings.HasPrefix(k, "subscriptionStatusUrlVersion"):
			if str != "V1" && str != "V2" {
				return writeError(w, invalidAttr(k, "must be V1 or V2"))
			}
		default:
			if u, err := url.Parse(str); err != nil || u.Scheme != "https" || u.Host == "" {
				return writeError(w, invalidAttr(k, "must be a valid https URL"))
			}
		}
		*dst = str
	}
	s.apps[i] = a
	select {
	case s.patched <- a:
	default:
	}
	return writeJSON(w, http.StatusOK, map[string]any{"data": resource(a)})
}

func invalidAttr(k, why string) Fault {
	return Fault{Status: http.StatusConflict, Code: "ENTITY_ERROR.ATTRIBUTE.INVALID",
		Title: "An attribute value is invalid.", Detail: "The attribute '" + k + "' " + why + "."}
}

func notFound(w http.ResponseWriter, id string) int {
	return writeError(w, Fault{Status: http.StatusNotFound, Code: "NOT_FOUND", Title: "The specified resource does not exist",
		Detail: "There is no resource of type 'apps' with id '" + id + "'"})
}

func resource(a App) map[string]any {
	null := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	return map[string]any{
		"type": "apps",
		"id":   a.ID,
		"attributes": map[string]any{
			"name":                                   a.Name,
			"bundleId":                               a.BundleID,
			"sku":                                    "SKU" + a.ID,
			"primaryLocale":                          "en-US",
			"subscriptionStatusUrl":                  null(a.ProductionURL),
			"subscriptionStatusUrlVersion":           null(a.ProductionVersion),
			"subscriptionStatusUrlForSandbox":        null(a.SandboxURL),
			"subscriptionStatusUrlVersionForSandbox": null(a.SandboxVersion),
		},
		"links": map[string]string{"self": "/v1/apps/" + a.ID},
	}
}

func writeError(w http.ResponseWriter, f Fault) int {
	return writeJSON(w, f.Status, map[string]any{"errors": []map[string]string{{
		"id": "b4f5e8a2-0000-4000-8000-000000000000", "status": strconv.Itoa(f.Status),
		"code": f.Code, "title": f.Title, "detail": f.Detail,
	}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
	return status
}
