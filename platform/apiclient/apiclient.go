// Package apiclient is the JSON-over-HTTP plumbing of the platform's service clients: one
// way to send a request, decode an answer, and turn a problem+json refusal into an error
// that says whether retrying can help.
package apiclient

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

	"github.com/plateforme-rome/rome/platform/httpx"
)

// maxAnswer bounds what is read of an answer (an export is not fetched through this).
const maxAnswer = 64 << 20

// Client calls one service. Its http.Client carries the bearer token, when the routes
// need one (an oauth2 transport, see auth.NewTokenSource), and the trace
// (httpx.OutboundTransport).
type Client struct {
	service string
	base    string
	http    *http.Client
}

// New returns a client for service (named in errors) at baseURL, e.g. http://127.0.0.1:8082.
func New(service, baseURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second, Transport: httpx.OutboundTransport(nil)}
	}
	return &Client{service: service, base: baseURL, http: hc}
}

// Do sends body (nil for none) as JSON and decodes a 2xx answer into out (nil to ignore
// it). A non-2xx answer is an *Error.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	return c.DoWithHeader(ctx, method, path, nil, body, out)
}

// DoWithHeader is Do with extra request headers (e.g. an Idempotency-Key).
func (c *Client) DoWithHeader(ctx context.Context, method, path string, header http.Header, body, out any) error {
	var raw []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		raw = b
		header = header.Clone()
		if header == nil {
			header = http.Header{}
		}
		header.Set("Content-Type", "application/json")
	}
	return c.send(ctx, method, path, header, raw, out)
}

// DoRaw sends body as it is, of contentType (a CSV file, say), and decodes a 2xx answer
// into out as Do does.
func (c *Client) DoRaw(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	return c.send(ctx, method, path, http.Header{"Content-Type": {contentType}}, body, out)
}

func (c *Client) send(ctx context.Context, method, path string, header http.Header, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		return newError(c.service, res, raw)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// Error is a non-2xx answer, decoded from its problem+json.
type Error struct {
	Service    string             `json:"-"`
	Status     int                `json:"status"`
	Code       string             `json:"code"`
	Detail     string             `json:"detail"`
	Errors     []httpx.FieldError `json:"errors,omitempty"`
	RetryAfter time.Duration      `json:"-"`
	Body       []byte             `json:"-"` // the whole answer, for extension members
}

func newError(service string, res *http.Response, raw []byte) *Error {
	e := &Error{}
	if json.Unmarshal(raw, e) != nil || e.Code == "" {
		e = &Error{Code: "unexpected_response", Detail: string(raw)}
	}
	e.Service, e.Status, e.Body = service, res.StatusCode, raw
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s: HTTP %d %s: %s", e.Service, e.Status, e.Code, e.Detail)
	for _, f := range e.Errors {
		msg += "; " + f.Field + " " + f.Message
	}
	return msg
}

// Extension decodes the problem's extension members (e.g. a conflict's per-operation
// results) into v.
func (e *Error) Extension(v any) error { return json.Unmarshal(e.Body, v) }

// Temporary tells whether the same call may succeed later: the service failed (5xx), was
// overloaded (429) or timed out (408), or refused the token (401: an expired or rotated key
// is fixed by a new token). Other refusals (400, 403, 404, 409, 413, 422) are final.
func (e *Error) Temporary() bool {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusRequestTimeout, http.StatusTooManyRequests:
		return true
	}
	return e.Status >= 500
}

// Temporary tells whether err, returned by a Client, may go away on retry: a network
// failure, or an Error that is Temporary.
func Temporary(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Temporary()
	}
	return err != nil
}
