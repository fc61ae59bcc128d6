package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/workflows/request"
)

// The internal API serves the worker's activities (role service).

// maxEventBytes bounds an event, which carries the whole request's state.
const maxEventBytes = 8 << 20

// maxElements bounds an overlap query (a request has at most 100 operations, each
// touching a couple of elements).
const maxElements = 1000

// recordEvent answers POST /internal/v1/events: 204 once the event is recorded, also when
// it had been already.
func (h *handlers) recordEvent(c *gin.Context) {
	var e request.Event
	if err := decodeLenient(c, &e, maxEventBytes); err != nil {
		_ = c.Error(err)
		return
	}
	var errs fieldErrors
	if e.RequestID == "" {
		errs.add("requestId", "is required")
	}
	if e.Seq < 1 {
		errs.add("seq", "must be 1 or more")
	}
	if e.Type == "" {
		errs.add("type", "is required")
	}
	if e.At.IsZero() {
		errs.add("at", "is required")
	}
	if e.Request.ID != e.RequestID {
		errs.add("request.id", "must be the event's requestId: an event carries its own request's state")
	}
	if e.Request.Status == "" {
		errs.add("request.status", "is required")
	}
	if len(errs) > 0 {
		_ = c.Error(httpx.Unprocessable("invalid_event", "The event is invalid.", errs...))
		return
	}
	if err := h.requests.RecordEvent(c.Request.Context(), e); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}

// findOverlaps answers POST /internal/v1/overlaps.
func (h *handlers) findOverlaps(c *gin.Context) {
	var q request.OverlapQuery
	if err := decodeLenient(c, &q, httpx.MaxBodyBytes); err != nil {
		_ = c.Error(err)
		return
	}
	if len(q.Elements) > maxElements {
		_ = c.Error(httpx.Unprocessable("invalid_query", "Too many elements.",
			httpx.FieldError{Field: "elements", Message: "must list at most 1000 elements"}))
		return
	}
	overlaps, err := h.requests.FindOverlaps(c.Request.Context(), q)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": overlaps})
}

// decodeLenient decodes a body from the worker. Unlike the public routes, unknown fields
// are ignored: the worker and the intake are deployed separately, and a worker that knows
// a newer contract must not lose a request's history to a stricter intake.
func decodeLenient(c *gin.Context, dst any, limit int64) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
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
