// Package client is the Go client of the intake's internal API, which the worker's
// activities use to write a request's history and projection and to find overlapping
// requests. It implements the activities' intake.API. Its *http.Client carries the bearer
// token of the role service (an oauth2 transport, see auth.NewTokenSource).
package client

import (
	"context"
	"net/http"

	"github.com/plateforme-rome/rome/platform/apiclient"
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

// Error is a non-2xx answer of the intake (see apiclient.Error).
type Error = apiclient.Error

// Temporary tells whether err, returned by this client, may go away on retry.
func Temporary(err error) bool { return apiclient.Temporary(err) }
