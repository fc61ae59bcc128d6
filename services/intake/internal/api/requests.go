package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/intake/internal/app"
)

// The evolution-request routes: each decodes, calls its use case (package app) and renders.

// submit answers POST /v1/requests.
func (h *handlers) submit(c *gin.Context) {
	var body app.Submission
	if err := httpx.BindJSON(c, &body); err != nil {
		_ = c.Error(err)
		return
	}
	p := principal(c)
	key, err := app.NewKey(p, c.GetHeader(app.HeaderIdempotencyKey), callOf(c), body)
	if err != nil {
		_ = c.Error(err)
		return
	}
	a, err := h.app.Submit(c.Request.Context(), p, key, &body)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Location", "/v1/requests/"+a.RequestID)
	render(c, a)
}

// change serves a state change of a request (app.Service.Apply): the body B, completed
// from the path by fromPath when the route has more than the request's id.
func change[B any, PB interface {
	*B
	app.Change
}](h *handlers, fromPath func(*gin.Context, PB)) gin.HandlerFunc {
	return func(c *gin.Context) {
		var body B
		if err := httpx.BindJSON(c, &body); err != nil {
			_ = c.Error(err)
			return
		}
		if fromPath != nil {
			fromPath(c, &body)
		}
		p := principal(c)
		key, err := app.NewKey(p, c.GetHeader(app.HeaderIdempotencyKey), callOf(c), body)
		if err != nil {
			_ = c.Error(err)
			return
		}
		a, err := h.app.Apply(c.Request.Context(), p, key, c.Param("id"), PB(&body))
		if err != nil {
			_ = c.Error(err)
			return
		}
		render(c, a)
	}
}

// questionID completes an answer with the question of the path.
func questionID(c *gin.Context, b *app.AnswerQuestion) { b.QuestionID = c.Param("questionId") }

// list answers GET /v1/requests.
func (h *handlers) list(c *gin.Context) {
	limit, limitSet := c.GetQuery("limit")
	page, err := h.app.List(c.Request.Context(), principal(c), app.ListQuery{
		Status: c.Query("status"), Kind: c.Query("kind"), CodeRome: c.Query("codeRome"), Org: c.Query("org"),
		Assignee: c.Query("assignee"), Text: c.Query("q"), Cursor: c.Query("cursor"), Overdue: c.Query("overdue"),
		Limit: limit, LimitSet: limitSet,
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, page)
}

func (h *handlers) get(c *gin.Context) {
	row, err := h.app.Visible(c.Request.Context(), principal(c), c.Param("id"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	writeJSON(c, http.StatusOK, row.State)
}

func (h *handlers) history(c *gin.Context) {
	items, err := h.app.History(c.Request.Context(), principal(c), c.Param("id"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

// preview answers GET /v1/requests/{id}/preview: the referential's dry run of what the
// request would publish now.
func (h *handlers) preview(c *gin.Context) {
	v, err := h.app.Preview(c.Request.Context(), principal(c), c.Param("id"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// callOf names the call for its idempotency key: method and path.
func callOf(c *gin.Context) string { return c.Request.Method + " " + c.Request.URL.Path }

// render answers what a creating or changing use case answered.
func render(c *gin.Context, a app.Answer) {
	if a.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	writeJSON(c, a.Status, a.Body)
}

const jsonContentType = "application/json; charset=utf-8"

// writeJSON answers with a document already encoded.
func writeJSON(c *gin.Context, status int, doc []byte) {
	c.Data(status, jsonContentType, doc)
}

// contributions answers GET /v1/stats/contributions?from=&to=&period=.
func (h *handlers) contributions(c *gin.Context) {
	stats, err := h.app.Contributions(c.Request.Context(), principal(c), app.StatsQuery{
		From: c.Query("from"), To: c.Query("to"), Period: c.Query("period")})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, stats)
}
