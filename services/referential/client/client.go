package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Client calls the referential service. Its http.Client carries the bearer token
// (an oauth2 transport) for the routes that need one.
type Client struct {
	base string
	http *http.Client
}

// New returns a client for the referential at baseURL (e.g. http://127.0.0.1:8082).
func New(baseURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: baseURL, http: hc}
}

// Error is a non-2xx answer of the referential, decoded from its problem+json.
type Error struct {
	Status     int      `json:"status"`
	Code       string   `json:"code"`
	Detail     string   `json:"detail"`
	Results    []Result `json:"results,omitempty"` // a change_set conflict: why each operation does (not) apply
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("referential: HTTP %d %s: %s", e.Status, e.Code, e.Detail)
}

// Temporary tells whether retrying the same call may succeed: the service was
// unavailable, overloaded or failed, as opposed to refusing the request.
func (e *Error) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500 || e.Status == http.StatusUnauthorized
}

// Validate dry-runs a change set on the current version, with the fiche before and after.
func (c *Client) Validate(ctx context.Context, cs ChangeSet) (*Validation, error) {
	var v Validation
	return &v, c.do(ctx, http.MethodPost, "/v1/changesets:validate", cs, &v)
}

// Check is Validate without the fiche documents: the verdict on each operation, the
// semantic diff and the version, in a few hundred bytes.
func (c *Client) Check(ctx context.Context, cs ChangeSet) (*Validation, error) {
	var v Validation
	return &v, c.do(ctx, http.MethodPost, "/v1/changesets:validate?documents=false", cs, &v)
}

// Publish applies a change set (role service). Sending the same change set again is
// safe: it is applied once and answered the same way.
func (c *Client) Publish(ctx context.Context, cs ChangeSet) (*Publication, error) {
	var p Publication
	return &p, c.do(ctx, http.MethodPost, "/v1/changesets", cs, &p)
}

// VersionInfo is GET /v1/version.
type VersionInfo struct {
	Version          int       `json:"version"`
	Label            string    `json:"label"`
	PublishedAt      time.Time `json:"publishedAt"`
	LastModifiedDate time.Time `json:"lastModifiedDate"`
}

// Version returns the current referential version.
func (c *Client) Version(ctx context.Context) (*VersionInfo, error) {
	var v VersionInfo
	return &v, c.do(ctx, http.MethodGet, "/v1/version", nil, &v)
}

// Fiche returns the fiche document (as JSON) at the current version.
func (c *Client) Fiche(ctx context.Context, codeRome string) (json.RawMessage, error) {
	var f json.RawMessage
	return f, c.do(ctx, http.MethodGet, "/v1/fiches/"+codeRome, nil, &f)
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		e := &Error{Status: res.StatusCode}
		if json.Unmarshal(raw, e) != nil || e.Code == "" {
			e.Code, e.Detail = "unexpected_response", string(raw)
		}
		e.Status = res.StatusCode
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil {
			e.RetryAfter = time.Duration(s) * time.Second
		}
		return e
	}
	return json.Unmarshal(raw, out)
}
