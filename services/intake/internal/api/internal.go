package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/intake/internal/app"
	"github.com/plateforme-rome/rome/workflows/request"
)

// The internal API serves the worker's activities (role service), and the webhook
// Microsoft Graph's change notifications.

// recordEvent answers POST /internal/v1/events: 204 once the event is recorded, also when
// it had been already.
func (h *handlers) recordEvent(c *gin.Context) {
	var e request.Event
	if err := decodeLenient(c, &e); err != nil {
		_ = c.Error(err)
		return
	}
	if err := h.app.RecordEvent(c.Request.Context(), e); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}

// findOverlaps answers POST /internal/v1/overlaps.
func (h *handlers) findOverlaps(c *gin.Context) {
	var q request.OverlapQuery
	if err := decodeLenient(c, &q); err != nil {
		_ = c.Error(err)
		return
	}
	overlaps, err := h.app.FindOverlaps(c.Request.Context(), q)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": overlaps})
}

// graphWebhook receives Graph's change notifications on the requests' Teams channels.
// Creating a subscription, Graph first sends a validationToken to echo within 10 s. Graph
// retries what is not acknowledged, so the answer is 202 as soon as the signals are sent.
func (h *handlers) graphWebhook(c *gin.Context) {
	if token := c.Query("validationToken"); token != "" {
		c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(token))
		return
	}
	var n struct {
		Value []app.GraphNotification `json:"value"`
	}
	if err := json.NewDecoder(c.Request.Body).Decode(&n); err != nil {
		_ = c.Error(httpx.BadRequest("malformed_json", "the body is not a Graph change notification"))
		return
	}
	if err := h.app.TeamsMessages(c.Request.Context(), n.Value); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusAccepted)
}

// decodeLenient decodes a body from the worker, within the route's limit. Unlike the
// public routes, unknown fields are ignored: the worker and the intake are deployed
// separately, and a worker that knows a newer contract must not lose a request's history
// to a stricter intake.
func decodeLenient(c *gin.Context, dst any) error {
	body, err := io.ReadAll(c.Request.Body)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return httpx.NewProblem(http.StatusRequestEntityTooLarge, "body_too_large", "The request body is too large.")
	case err != nil:
		return httpx.BadRequest("unreadable_body", "The request body could not be read.")
	}
	err = json.Unmarshal(body, dst)
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typ):
		return httpx.Unprocessable("invalid_body", "A field has the wrong type.", httpx.FieldError{Field: typ.Field, Message: "has the wrong type"})
	case err != nil:
		return httpx.BadRequest("malformed_json", "The request body is not a JSON document.")
	}
	return nil
}
