package backend

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/apiclient"
	"github.com/plateforme-rome/rome/workflows/request"
)

// Intake calls the evolution-request API and the directory.
type Intake struct {
	api *apiclient.Client
}

// RequestPage is a page of GET /v1/requests.
type RequestPage struct {
	Items      []request.Request `json:"items"`
	NextCursor string            `json:"nextCursor"`
	Total      *int              `json:"total"` // nil from an intake that does not count
}

// Requests lists the requests the filter selects (status, kind, codeRome, org, assignee,
// q, overdue, limit, cursor), newest first.
func (c *Intake) Requests(ctx context.Context, filter url.Values) (RequestPage, error) {
	var p RequestPage
	err := c.api.Do(ctx, http.MethodGet, "/v1/requests?"+filter.Encode(), nil, &p)
	return p, err
}

// Request reads one request.
func (c *Intake) Request(ctx context.Context, id string) (request.Request, error) {
	var r request.Request
	err := c.api.Do(ctx, http.MethodGet, "/v1/requests/"+url.PathEscape(id), nil, &r)
	return r, err
}

// HistoryItem is one event of a request's history.
type HistoryItem struct {
	Seq   int               `json:"seq"`
	At    time.Time         `json:"at"`
	Actor request.Actor     `json:"actor"`
	Type  string            `json:"type"`
	Data  request.EventData `json:"data"`
}

// History reads a request's history, oldest first.
func (c *Intake) History(ctx context.Context, id string) ([]HistoryItem, error) {
	var out struct {
		Items []HistoryItem `json:"items"`
	}
	err := c.api.Do(ctx, http.MethodGet, "/v1/requests/"+url.PathEscape(id)+"/history", nil, &out)
	return out.Items, err
}

// Preview is the referential's dry run of what the request would publish now.
func (c *Intake) Preview(ctx context.Context, id string) (*refclient.Validation, error) {
	var v refclient.Validation
	err := c.api.Do(ctx, http.MethodGet, "/v1/requests/"+url.PathEscape(id)+"/preview", nil, &v)
	return &v, err
}

// Submission is the body of POST /v1/requests.
type Submission struct {
	Kind          request.Kind          `json:"kind"`
	CodeRome      string                `json:"codeRome,omitempty"`
	Title         string                `json:"title"`
	Justification string                `json:"justification"`
	Operations    []refclient.Operation `json:"operations"`
}

// Submit files a request. The idempotency key makes a double submission (a second click,
// a reload of the POST) one request.
func (c *Intake) Submit(ctx context.Context, s Submission, idempotencyKey string) (request.Request, error) {
	var r request.Request
	err := c.api.DoWithHeader(ctx, http.MethodPost, "/v1/requests", idempotent(idempotencyKey), s, &r)
	return r, err
}

// idempotent is the header of a call that a retry must not repeat; none without a key.
func idempotent(key string) http.Header {
	if key == "" {
		return nil
	}
	return http.Header{"Idempotency-Key": {key}}
}

// change posts an update to a request and returns the request after it.
func (c *Intake) change(ctx context.Context, method, path, key string, body any) (request.Request, error) {
	var r request.Request
	err := c.api.DoWithHeader(ctx, method, path, idempotent(key), body, &r)
	return r, err
}

// create posts what adds an item to a request (a message, a question).
func (c *Intake) create(ctx context.Context, path, key string, body any) error {
	return c.api.DoWithHeader(ctx, http.MethodPost, path, idempotent(key), body, nil)
}

func requestPath(id, rest string) string { return "/v1/requests/" + url.PathEscape(id) + rest }

// The changes below take the idempotency key of the form they come from: a form sent twice
// (a double click, a retry after a timeout) changes the request once.

// Amend replaces the operations of a request (partner).
func (c *Intake) Amend(ctx context.Context, id, key string, ops []refclient.Operation) (request.Request, error) {
	return c.change(ctx, http.MethodPatch, requestPath(id, "/operations"), key, map[string]any{"operations": ops})
}

// Message posts a message on a request (both sides).
func (c *Intake) Message(ctx context.Context, id, key, text string) error {
	return c.create(ctx, requestPath(id, "/messages"), key, map[string]string{"text": text})
}

// Assign gives the request to a moderator (moderator).
func (c *Intake) Assign(ctx context.Context, id, key, moderator string) (request.Request, error) {
	return c.change(ctx, http.MethodPost, requestPath(id, "/assign"), key, map[string]string{"moderator": moderator})
}

// Ask asks the partner a question (moderator).
func (c *Intake) Ask(ctx context.Context, id, key, text string) error {
	return c.create(ctx, requestPath(id, "/questions"), key, map[string]string{"text": text})
}

// Answer answers a question (partner).
func (c *Intake) Answer(ctx context.Context, id, key, questionID, text string) error {
	return c.create(ctx, requestPath(id, "/questions/"+url.PathEscape(questionID)+"/answer"), key, map[string]string{"text": text})
}

// Decision is the verdict on one operation, as POST …/decision takes it.
type Decision struct {
	OperationID string               `json:"operationId"`
	Decision    string               `json:"decision"`
	Rationale   string               `json:"rationale"`
	Amendment   *refclient.Operation `json:"amendment,omitempty"`
}

// Decide decides every operation of a request (moderator, not its submitter).
func (c *Intake) Decide(ctx context.Context, id, key string, decisions []Decision) (request.Request, error) {
	return c.change(ctx, http.MethodPost, requestPath(id, "/decision"), key, map[string]any{"decisions": decisions})
}

// Withdraw withdraws a request (partner).
func (c *Intake) Withdraw(ctx context.Context, id, key, reason string) (request.Request, error) {
	return c.change(ctx, http.MethodPost, requestPath(id, "/withdraw"), key, map[string]string{"reason": reason})
}

// DevTokenRequest asks the dev issuer for a token (dev mode only).
type DevTokenRequest struct {
	Sub  string `json:"sub"`
	Name string `json:"name"`
	Role string `json:"role"`
	Org  string `json:"org,omitempty"`
}

// DevToken gets a token from the intake's dev issuer.
func (c *Intake) DevToken(ctx context.Context, r DevTokenRequest) (token string, expiresAt time.Time, err error) {
	var out struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expiresAt"`
	}
	err = c.api.Do(ctx, http.MethodPost, "/dev/token", r, &out)
	return out.Token, out.ExpiresAt, err
}

// ReleaseStart is the answer to POST /v1/releases: the release being cut and the workflow
// that cuts it.
type ReleaseStart struct {
	Release    int    `json:"release"`
	WorkflowID string `json:"workflowId"`
}

// CutRelease starts the release workflow of the next release (admin).
func (c *Intake) CutRelease(ctx context.Context, key string) (ReleaseStart, error) {
	var out ReleaseStart
	err := c.api.DoWithHeader(ctx, http.MethodPost, "/v1/releases", idempotent(key), struct{}{}, &out)
	return out, err
}
