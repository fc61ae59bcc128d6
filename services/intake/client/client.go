// Package client is the Go client of the intake's internal API, which the worker's
// activities use to write a request's history and projection and to find overlapping
// requests. It implements the activities' intake.API. Its *http.Client carries the bearer
// token of the role service (an oauth2 transport, see auth.NewTokenSource).
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/plateforme-rome/rome/workflows/request"
)

// Client calls the intake.
type Client struct {
	base string
	http *http.Client
}

// New returns a client for the intake at baseURL (e.g. http://127.0.0.1:8081).
func New(baseURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: baseURL, http: hc}
}

// RecordEvent appends an event to its request's history and updates the request's
// projection, in one transaction on the intake's side. Recording the same (request, seq)
// again is a success that changes nothing.
func (c *Client) RecordEvent(ctx context.Context, e request.Event) error {
	return c.post(ctx, "/internal/v1/events", e, nil)
}

// FindOverlaps lists the other open requests that touch some of the same elements of
// the fiche, in submission order.
func (c *Client) FindOverlaps(ctx context.Context, q request.OverlapQuery) ([]request.Overlap, error) {
	var out struct {
		Items []request.Overlap `json:"items"`
	}
	err := c.post(ctx, "/internal/v1/overlaps", q, &out)
	return out.Items, err
}

// FieldError names an invalid input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a non-2xx answer of the intake, decoded from its problem+json.
type Error struct {
	Status     int          `json:"status"`
	Code       string       `json:"code"`
	Detail     string       `json:"detail"`
	Errors     []FieldError `json:"errors,omitempty"`
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("intake: HTTP %d %s: %s", e.Status, e.Code, e.Detail)
	for _, f := range e.Errors {
		msg += "; " + f.Field + " " + f.Message
	}
	return msg
}

// Temporary tells whether the same call may succeed later: the intake failed (5xx), was
// overloaded (429) or timed out (408), or refused the token (401: an expired or rotated
// key is fixed by a new token, and a request's history must not be given up for it).
// Other refusals (400, 403, 404, 413, 422) are final.
func (e *Error) Temporary() bool {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusRequestTimeout, http.StatusTooManyRequests:
		return true
	}
	return e.Status >= 500
}

// Temporary tells whether err, returned by this client, may go away on retry: a network
// failure, or an Error that is Temporary.
func Temporary(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Temporary()
	}
	return err != nil
}

func (c *Client) post(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		e := &Error{}
		if json.Unmarshal(raw, e) != nil || e.Code == "" {
			e = &Error{Code: "unexpected_response", Detail: string(raw)}
		}
		e.Status = res.StatusCode
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil {
			e.RetryAfter = time.Duration(s) * time.Second
		}
		return e
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}
