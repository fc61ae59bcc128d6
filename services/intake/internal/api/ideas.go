package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/intake/internal/ideas"
)

// The ideas' routes (package ideas): anyone sends one, the ROME team triages them.

// ideasPerAddress is how many ideas one e-mail address may send per hour.
const ideasPerAddress = 5

// submitIdea answers POST /v1/ideas, without a token: 202 with the idea's id.
func (h *handlers) submitIdea(c *gin.Context) {
	var body ideas.NewIdea
	if err := httpx.BindJSON(c, &body); err != nil {
		_ = c.Error(err)
		return
	}
	id, err := h.ideas.Submit(c.Request.Context(), body)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"id": id})
}

func (h *handlers) listIdeas(c *gin.Context) {
	limit, err := pageLimit(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	page, err := h.ideas.List(c.Request.Context(), principal(c), ideas.Query{Status: c.Query("status"), Cursor: c.Query("cursor"), Limit: limit})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, page)
}

func (h *handlers) getIdea(c *gin.Context) {
	i, err := h.ideas.Get(c.Request.Context(), principal(c), c.Param("id"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, i)
}

// pageLimit is a listing's limit query parameter: 1 to 200, 50 when absent.
func pageLimit(c *gin.Context) (int, error) {
	s, ok := c.GetQuery("limit")
	if !ok {
		return 50, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 200 {
		return 0, httpx.Unprocessable("invalid_query", "The query parameters are invalid.",
			httpx.FieldError{Field: "limit", Message: "must be an integer from 1 to 200"})
	}
	return n, nil
}

// ideaChange serves a change of an idea: the body B, applied by the use case apply.
func ideaChange[B any](apply func(context.Context, auth.Principal, string, B) (ideas.Idea, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		var body B
		if err := httpx.BindJSON(c, &body); err != nil {
			_ = c.Error(err)
			return
		}
		i, err := apply(c.Request.Context(), principal(c), c.Param("id"), body)
		if err != nil {
			_ = c.Error(err)
			return
		}
		c.JSON(http.StatusOK, i)
	}
}
