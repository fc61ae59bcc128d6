// Package client is the Go client of the intake's internal API, which the worker's
// activities use to write a request's history and projection, to find overlapping
// requests, to carry the access requests and to synchronise the Entra groups. It
// implements the activities' intake.API, intake.AccessAPI and intake.DirectoryAPI. Its
// *http.Client carries the bearer token of the role service (an oauth2 transport, see
// auth.NewTokenSource).
package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/plateforme-rome/rome/platform/apiclient"
	"github.com/plateforme-rome/rome/workflows/access"
	"github.com/plateforme-rome/rome/workflows/groupsync"
	"github.com/plateforme-rome/rome/workflows/request"
)

// Client calls the intake.
type Client struct {
	api *apiclient.Client
}

// New returns a client for the intake at baseURL (e.g. http://127.0.0.1:8081).
func New(baseURL string, hc *http.Client) *Client {
	return &Client{api: apiclient.New("intake", baseURL, hc)}
}

// RecordEvent appends an event to its request's history and updates the request's
// projection, in one transaction on the intake's side. Recording the same (request, seq)
// again is a success that changes nothing.
func (c *Client) RecordEvent(ctx context.Context, e request.Event) error {
	return c.api.Do(ctx, http.MethodPost, "/internal/v1/events", e, nil)
}

// FindOverlaps lists the other open requests that touch some of the same elements of
// the fiche, in submission order.
func (c *Client) FindOverlaps(ctx context.Context, q request.OverlapQuery) ([]request.Overlap, error) {
	var out struct {
		Items []request.Overlap `json:"items"`
	}
	err := c.api.Do(ctx, http.MethodPost, "/internal/v1/overlaps", q, &out)
	return out.Items, err
}

// PickModerator has the intake choose, in turn, the moderator of a checked request whose
// fiche is in domain ("" when no active moderator covers it); the same request again
// gets the same moderator.
func (c *Client) PickModerator(ctx context.Context, requestID, domain string) (string, error) {
	body := struct {
		RequestID string `json:"requestId"`
		Domain    string `json:"domain"`
	}{requestID, domain}
	var out struct {
		Moderator string `json:"moderator"`
	}
	err := c.api.Do(ctx, http.MethodPost, "/internal/v1/assignments", body, &out)
	return out.Moderator, err
}

// RecordAccess stores an access request's state in the intake's projection, unless a
// record of a later Seq is there.
func (c *Client) RecordAccess(ctx context.Context, r access.Request) error {
	return c.api.Do(ctx, http.MethodPut, "/internal/v1/access-requests/"+url.PathEscape(r.ID), r, nil)
}

// NotifyAccess has the intake write and send a notice (access.Notice*) about access
// request id, once per key.
func (c *Client) NotifyAccess(ctx context.Context, id, notice, key string) error {
	body := struct {
		Notice string `json:"notice"`
		Key    string `json:"key"`
	}{notice, key}
	return c.api.Do(ctx, http.MethodPost, "/internal/v1/access-requests/"+url.PathEscape(id)+"/notices", body, nil)
}

// ProvisionPerson records the approved applicant of access request id in the directory
// (with the Entra object id of their invitation, if any) and returns their subject.
func (c *Client) ProvisionPerson(ctx context.Context, id, entraID string) (string, error) {
	body := struct {
		EntraID string `json:"entraId,omitempty"`
	}{entraID}
	var out struct {
		Sub string `json:"sub"`
	}
	err := c.api.Do(ctx, http.MethodPost, "/internal/v1/access-requests/"+url.PathEscape(id)+"/person", body, &out)
	return out.Sub, err
}

// SyncGroup applies one read of a synchronised Entra group's members to the directory.
func (c *Client) SyncGroup(ctx context.Context, g groupsync.Read) (groupsync.Report, error) {
	var out groupsync.Report
	err := c.api.Do(ctx, http.MethodPost, "/internal/v1/group-members", g, &out)
	return out, err
}

// Error is a non-2xx answer of the intake (see apiclient.Error).
type Error = apiclient.Error

// Temporary tells whether err, returned by this client, may go away on retry.
func Temporary(err error) bool { return apiclient.Temporary(err) }
