package refclient

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/plateforme-rome/rome/platform/apiclient"
)

// Client calls the referential service. Its http.Client carries the bearer token
// (an oauth2 transport) for the routes that need one.
type Client struct {
	api *apiclient.Client
}

// New returns a client for the referential at baseURL (e.g. http://127.0.0.1:8082).
func New(baseURL string, hc *http.Client) *Client {
	return &Client{api: apiclient.New("referential", baseURL, hc)}
}

// Error is a non-2xx answer of the referential (see apiclient.Error).
type Error = apiclient.Error

// ConflictResults returns why each operation of a change set does (not) apply, when err
// is the referential's 409 changeset_conflict.
func ConflictResults(err error) ([]Result, bool) {
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusConflict || e.Code != "changeset_conflict" {
		return nil, false
	}
	var ext struct {
		Results []Result `json:"results"`
	}
	if e.Extension(&ext) != nil {
		return nil, false
	}
	return ext.Results, true
}

// Validate dry-runs a change set on the current version, with the fiche before and after.
func (c *Client) Validate(ctx context.Context, cs ChangeSet) (*Validation, error) {
	var v Validation
	return &v, c.api.Do(ctx, http.MethodPost, "/v1/changesets:validate", cs, &v)
}

// Check is Validate without the fiche documents: the verdict on each operation, the
// semantic diff and the version, in a few hundred bytes.
func (c *Client) Check(ctx context.Context, cs ChangeSet) (*Validation, error) {
	var v Validation
	return &v, c.api.Do(ctx, http.MethodPost, "/v1/changesets:validate?documents=false", cs, &v)
}

// Publish applies a change set (role service). Sending the same change set again is
// safe: it is applied once and answered the same way.
func (c *Client) Publish(ctx context.Context, cs ChangeSet) (*Publication, error) {
	var p Publication
	return &p, c.api.Do(ctx, http.MethodPost, "/v1/changesets", cs, &p)
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
	return &v, c.api.Do(ctx, http.MethodGet, "/v1/version", nil, &v)
}

// Fiche returns the fiche document (as JSON) at the current version.
func (c *Client) Fiche(ctx context.Context, codeRome string) (json.RawMessage, error) {
	var f json.RawMessage
	return f, c.api.Do(ctx, http.MethodGet, "/v1/fiches/"+codeRome, nil, &f)
}
