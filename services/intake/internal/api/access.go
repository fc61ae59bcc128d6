package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/intake/internal/accessreq"
	"github.com/plateforme-rome/rome/workflows/access"
)

// The access requests' routes (package accessreq): experts apply without a token and follow
// their request through the signed links of their e-mails; admins review; the workflows
// record their state and have their e-mails sent through the internal API.

// accessPerAddress is how many access requests one e-mail address may send per day.
const accessPerAddress = 3

// maxAccessBody bounds an application: a motivation of 5,000 characters and a few fields.
const maxAccessBody = 32 << 10

// submitAccess answers POST /v1/access-requests, without a token: 202 with the request's id.
func (h *handlers) submitAccess(c *gin.Context) {
	var body accessreq.NewRequest
	if err := httpx.BindJSON(c, &body); err != nil {
		_ = c.Error(err)
		return
	}
	id, err := h.access.Submit(c.Request.Context(), body)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"id": id})
}

// applicantAction serves what the applicant does through a signed link: the body B,
// applied by the use case apply.
func applicantAction[B any](apply func(context.Context, string, B) (accessreq.ApplicantView, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		var body B
		if err := httpx.BindJSON(c, &body); err != nil {
			_ = c.Error(err)
			return
		}
		v, err := apply(c.Request.Context(), c.Param("id"), body)
		if err != nil {
			_ = c.Error(err)
			return
		}
		c.JSON(http.StatusOK, v)
	}
}

// applicantView answers GET /v1/access-requests/{id}/applicant?token=.
func (h *handlers) applicantView(c *gin.Context) {
	v, err := h.access.View(c.Request.Context(), c.Param("id"), c.Query("token"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// listAccess answers GET /v1/access-requests?status=&limit=&cursor=.
func (h *handlers) listAccess(c *gin.Context) {
	limit, err := pageLimit(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	page, err := h.access.List(c.Request.Context(), accessreq.Query{Status: c.Query("status"), Cursor: c.Query("cursor"), Limit: limit})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, page)
}

func (h *handlers) getAccess(c *gin.Context) {
	r, err := h.access.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, r)
}

// reviewAccess serves an admin's review: the body B, applied by the use case apply.
func reviewAccess[B any](apply func(context.Context, auth.Principal, string, B) (access.Request, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		var body B
		if err := httpx.BindJSON(c, &body); err != nil {
			_ = c.Error(err)
			return
		}
		r, err := apply(c.Request.Context(), principal(c), c.Param("id"), body)
		if err != nil {
			_ = c.Error(err)
			return
		}
		c.JSON(http.StatusOK, r)
	}
}

// recordAccess answers PUT /internal/v1/access-requests/{id}: 204 once the state is
// recorded (or a later one already was).
func (h *handlers) recordAccess(c *gin.Context) {
	var r access.Request
	if err := decodeLenient(c, &r); err != nil {
		_ = c.Error(err)
		return
	}
	if r.ID != c.Param("id") {
		_ = c.Error(httpx.Unprocessable("invalid_access_record", "The record is of another request.",
			httpx.FieldError{Field: "id", Message: "must be the id of the path"}))
		return
	}
	if err := h.access.Record(c.Request.Context(), r); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}

// notifyAccess answers POST /internal/v1/access-requests/{id}/notices: 204 once the notice
// is handed to the notifications service.
func (h *handlers) notifyAccess(c *gin.Context) {
	var body struct {
		Notice string `json:"notice"`
		Key    string `json:"key"`
	}
	if err := httpx.BindJSON(c, &body); err != nil {
		_ = c.Error(err)
		return
	}
	if err := h.access.Notify(c.Request.Context(), c.Param("id"), body.Notice, body.Key); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}

// provisionPerson answers POST /internal/v1/access-requests/{id}/person: the approved
// applicant, recorded in the directory (again: the same person).
func (h *handlers) provisionPerson(c *gin.Context) {
	var body struct {
		EntraID string `json:"entraId"`
	}
	if err := httpx.BindJSON(c, &body); err != nil {
		_ = c.Error(err)
		return
	}
	p, err := h.access.Provision(c.Request.Context(), c.Param("id"), body.EntraID)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, p)
}
