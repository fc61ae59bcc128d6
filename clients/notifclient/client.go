// Package notifclient is the Go client of the notifications service and its
// public contract (the request and response types of its API). The worker's
// activities use it to notify people, to count the followers of the fiches a
// request changes and to send the Teams activity-feed notifications the
// service queues. Its *http.Client carries the bearer token of the role
// service (an oauth2 transport, see auth.NewTokenSource), or, for Users, an
// admin's token.
package notifclient

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/plateforme-rome/rome/platform/apiclient"
)

// Client calls the notifications service.
type Client struct {
	api *apiclient.Client
}

// New returns a client for the service at baseURL (e.g. http://127.0.0.1:8083).
func New(baseURL string, hc *http.Client) *Client {
	return &Client{api: apiclient.New("notifications", baseURL, hc)}
}

// Notify creates a notification, idempotently by its Key: calling it again
// with the same notification returns the first answer and notifies nobody
// twice.
func (c *Client) Notify(ctx context.Context, n Notification) (Created, error) {
	var out Created
	err := c.api.Do(ctx, http.MethodPost, "/v1/notifications", n, &out)
	return out, err
}

// ClaimTeamsDeliveries leases up to max due Teams deliveries (1 to 100; 0
// asks for the service's default, 20) to owner, which identifies the
// claiming worker. Each must be reported with ReportTeamsDelivery before the
// lease ends, or it is handed out again.
func (c *Client) ClaimTeamsDeliveries(ctx context.Context, owner string, max int) ([]TeamsDelivery, error) {
	body := struct {
		Owner string `json:"owner"`
		Max   int    `json:"max,omitempty"`
	}{owner, max}
	var out struct {
		Items []TeamsDelivery `json:"items"`
	}
	err := c.api.Do(ctx, http.MethodPost, "/internal/v1/teams-deliveries/claim", body, &out)
	return out.Items, err
}

// ReportTeamsDelivery reports the attempt at the claimed delivery id. Reporting
// again is harmless: the outcome is then not Recorded, and its Status says
// what became of the delivery.
func (c *Client) ReportTeamsDelivery(ctx context.Context, id string, r TeamsResult) (TeamsOutcome, error) {
	var out TeamsOutcome
	err := c.api.Do(ctx, http.MethodPost, "/internal/v1/teams-deliveries/"+url.PathEscape(id)+"/result", r, &out)
	return out, err
}

// Users lists the people the service knows (role admin: the client's token must be an
// admin's), by subject: limit per page (1 to 200; 0 asks for the service's default, 50),
// from the page whose NextCursor is cursor (empty: the first).
func (c *Client) Users(ctx context.Context, limit int, cursor string) (Users, error) {
	q := url.Values{}
	if limit != 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	path := "/v1/users"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out Users
	err := c.api.Do(ctx, http.MethodGet, path, nil, &out)
	return out, err
}

// FollowerCounts counts the people who follow each fiche of codesRome, one
// count per code in the order given, zero included, asking the service for
// MaxFollowerCodes fiches at a time. Roles service, moderator and admin:
// followers are people, whom a partner must not learn about.
func (c *Client) FollowerCounts(ctx context.Context, codesRome []string) ([]FollowerCount, error) {
	var counts []FollowerCount
	for codes := range slices.Chunk(codesRome, MaxFollowerCodes) {
		var out struct {
			Items []FollowerCount `json:"items"`
		}
		if err := c.api.Do(ctx, http.MethodGet, "/v1/follows/counts?"+url.Values{"codeRome": codes}.Encode(), nil, &out); err != nil {
			return nil, err
		}
		counts = append(counts, out.Items...)
	}
	return counts, nil
}

// Error is a non-2xx answer of the service (see apiclient.Error).
type Error = apiclient.Error

// Temporary tells whether err, returned by this client, may go away on retry.
func Temporary(err error) bool { return apiclient.Temporary(err) }
