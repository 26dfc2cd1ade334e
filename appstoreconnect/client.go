package appstoreconnect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/s2s-dev/s2s/decode"
	"github.com/s2s-dev/s2s/internal/appleapi"
)

// DefaultBaseURL is Apple's App Store Connect API host.
const DefaultBaseURL = "https://api.appstoreconnect.apple.com"

// Config configures a Client.
type Config struct {
	Credentials   Credentials
	BaseURL       string       // "" → DefaultBaseURL; a stand-in or a proxy otherwise
	HTTPClient    *http.Client // nil: a client with a 30 s timeout
	Now           func() time.Time
	TokenLifetime time.Duration // 0: DefaultTokenLifetime
	// Debug, if set, receives one line per request and answer; never the token, the key or bodies.
	Debug io.Writer
}

// Client calls the App Store Connect API. It is safe for concurrent use.
type Client struct {
	cfg Config
	api *appleapi.Endpoint
}

// New checks the configuration and returns a client.
func New(cfg Config) (*Client, error) {
	if err := cfg.Credentials.Validate(); err != nil {
		return nil, err
	}
	raw := cfg.BaseURL
	if raw == "" {
		raw = DefaultBaseURL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Client{cfg: cfg}
	api, err := appleapi.New("App Store Connect API", raw, cfg.HTTPClient, maxResponse, c.debugf)
	if err != nil {
		return nil, err
	}
	c.api = api
	return c, nil
}

// NotificationURL is one environment's App Store Server Notifications setting.
type NotificationURL struct {
	URL     string `json:"url"`     // "" when none is set (null at Apple)
	Version string `json:"version"` // "V1", "V2", or "" when none is set
}

// App is the part of the apps resource this client reads.
type App struct {
	ID         string          `json:"id"`
	BundleID   string          `json:"bundleId"`
	Name       string          `json:"name,omitempty"`
	Production NotificationURL `json:"production"`
	Sandbox    NotificationURL `json:"sandbox"`
}

// URLs returns the setting for env.
func (a *App) URLs(env decode.Environment) NotificationURL {
	if env == decode.EnvProduction {
		return a.Production
	}
	return a.Sandbox
}

// The apps resource's attribute names for each environment's setting.
func urlAttributes(env decode.Environment) (urlKey, versionKey string) {
	if env == decode.EnvProduction {
		return "subscriptionStatusUrl", "subscriptionStatusUrlVersion"
	}
	return "subscriptionStatusUrlForSandbox", "subscriptionStatusUrlVersionForSandbox"
}

// FindApp returns the app whose bundleId is exactly bundleID. Apple's filter[bundleId] is not an
// exact match (it may return com.example.app.widget for com.example.app), so every answer is
// checked here.
func (c *Client) FindApp(ctx context.Context, bundleID string) (*App, error) {
	if bundleID == "" {
		return nil, errors.New("a bundle ID is required")
	}
	q := url.Values{}
	q.Set("filter[bundleId]", bundleID)
	q.Set("limit", "200")
	data, err := c.do(ctx, http.MethodGet, "/v1/apps", q, nil)
	if err != nil {
		return nil, err
	}
	apps, err := parseApps(data)
	if err != nil {
		return nil, fmt.Errorf("App Store Connect API GET /v1/apps: %w", err)
	}
	var similar []string
	var found *App
	for i := range apps {
		if apps[i].BundleID == bundleID {
			if found != nil {
				return nil, fmt.Errorf("App Store Connect API GET /v1/apps: two apps have the bundle ID %q", bundleID)
			}
			found = &apps[i]
			continue
		}
		similar = append(similar, apps[i].BundleID)
	}
	if found == nil {
		return nil, &AppNotFoundError{BundleID: bundleID, Similar: similar}
	}
	return found, nil
}

// GetApp returns the app with Apple's id.
func (c *Client) GetApp(ctx context.Context, id string) (*App, error) {
	if id == "" {
		return nil, errors.New("an app id is required")
	}
	path := "/v1/apps/" + url.PathEscape(id)
	data, err := c.do(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, err
	}
	app, err := parseOneApp(data)
	if err != nil {
		return nil, fmt.Errorf("App Store Connect API GET %s: %w", path, err)
	}
	return app, nil
}

// SetNotificationURL changes env's URL and version of the app with Apple's id and returns the app
// as Apple then has it. An empty URL (or version) is sent as null: Apple then has no URL for that
// environment (for Sandbox, it sends sandbox notifications to the production URL).
func (c *Client) SetNotificationURL(ctx context.Context, id string, env decode.Environment, u NotificationURL) (*App, error) {
	if id == "" {
		return nil, errors.New("an app id is required")
	}
	if env != decode.EnvSandbox && env != decode.EnvProduction {
		return nil, fmt.Errorf("environment %q: want Sandbox or Production", env)
	}
	urlKey, versionKey := urlAttributes(env)
	attrs := map[string]any{urlKey: nullable(u.URL), versionKey: nullable(u.Version)}
	body, err := json.Marshal(map[string]any{
		"data": map[string]any{"type": "apps", "id": id, "attributes": attrs},
	})
	if err != nil {
		return nil, err
	}
	path := "/v1/apps/" + url.PathEscape(id)
	data, err := c.do(ctx, http.MethodPatch, path, nil, body)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return c.GetApp(ctx, id)
	}
	app, err := parseOneApp(data)
	if err != nil {
		return nil, fmt.Errorf("App Store Connect API PATCH %s: %w", path, err)
	}
	return app, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// maxResponse bounds what is read of an answer (a larger one is an error): an apps page with a
// few apps is a few KiB.
const maxResponse = 4 << 20

// do sends one request (path's variable segments are escaped already) and returns the body of a
// 2xx answer.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body []byte) ([]byte, error) {
	token, err := c.cfg.Credentials.SignToken(c.cfg.Now(), c.cfg.TokenLifetime)
	if err != nil {
		return nil, err
	}
	ans, err := c.api.Do(ctx, token, method, path, query, body)
	if err != nil {
		return nil, err
	}
	if !ans.OK() {
		return nil, parseError(ans.Status, ans.Body, method, path)
	}
	return ans.Body, nil
}

// parseError reads Apple's {"errors":[{"status","code","title","detail"}]}; anything else leaves
// just the status.
func parseError(status int, data []byte, method, path string) *APIError {
	e := &APIError{HTTPStatus: status, Method: method, Path: path}
	var body struct {
		Errors []struct {
			Status string `json:"status"`
			Code   string `json:"code"`
			Title  string `json:"title"`
			Detail string `json:"detail"`
		} `json:"errors"`
	}
	if json.Unmarshal(data, &body) == nil {
		for _, it := range body.Errors[:min(len(body.Errors), 10)] {
			e.Errors = append(e.Errors, ErrorItem{Status: it.Status, Code: it.Code, Title: it.Title, Detail: it.Detail})
		}
	}
	return e
}

// appsDocument and appDocument are the JSON:API answers of the apps resource, read with exact keys
// (decode.UnmarshalExact): bundleId decides which app is changed, so a "BundleId" or a key given
// twice is an error, never a second reading.
type appsDocument struct {
	Data []appResource `json:"data"`
}

type appDocument struct {
	Data *appResource `json:"data"`
}

type appResource struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	Attributes struct {
		BundleID                               string `json:"bundleId"`
		Name                                   string `json:"name"`
		SubscriptionStatusURL                  string `json:"subscriptionStatusUrl"`
		SubscriptionStatusURLVersion           string `json:"subscriptionStatusUrlVersion"`
		SubscriptionStatusURLForSandbox        string `json:"subscriptionStatusUrlForSandbox"`
		SubscriptionStatusURLVersionForSandbox string `json:"subscriptionStatusUrlVersionForSandbox"`
	} `json:"attributes"`
}

// parseApps reads an apps collection answer {"data":[...]}.
func parseApps(data []byte) ([]App, error) {
	var doc appsDocument
	if err := decode.UnmarshalExact(data, "Apple's answer", &doc); err != nil {
		return nil, err
	}
	if doc.Data == nil {
		return nil, errors.New("the answer has no data")
	}
	apps := make([]App, 0, len(doc.Data))
	for _, r := range doc.Data {
		a, err := r.app()
		if err != nil {
			return nil, err
		}
		apps = append(apps, a)
	}
	return apps, nil
}

// parseOneApp reads an app answer {"data":{...}}.
func parseOneApp(data []byte) (*App, error) {
	var doc appDocument
	if err := decode.UnmarshalExact(data, "Apple's answer", &doc); err != nil {
		return nil, err
	}
	if doc.Data == nil {
		return nil, errors.New("the answer has no data")
	}
	a, err := doc.Data.app()
	if err != nil {
		return nil, err
	}
	return &a, nil
}

func (r appResource) app() (App, error) {
	if r.Type != "apps" {
		return App{}, fmt.Errorf("a resource of type %q where an app was expected", safeText(r.Type))
	}
	if r.ID == "" {
		return App{}, errors.New("an app without an id")
	}
	at := r.Attributes
	return App{
		ID: r.ID, BundleID: at.BundleID, Name: at.Name,
		Production: NotificationURL{URL: at.SubscriptionStatusURL, Version: at.SubscriptionStatusURLVersion},
		Sandbox:    NotificationURL{URL: at.SubscriptionStatusURLForSandbox, Version: at.SubscriptionStatusURLVersionForSandbox},
	}, nil
}

// debugf writes one line for a person: an error may quote what a server answered.
func (c *Client) debugf(format string, args ...any) {
	if c.cfg.Debug != nil {
		fmt.Fprintf(c.cfg.Debug, "appstoreconnect: %s\n", safeText(fmt.Sprintf(format, args...)))
	}
}
