package api

import (
	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/intake/internal/app"
)

// cutRelease answers POST /v1/releases: the workflow that cuts the open release starts.
// The call says it all: its body is empty, or an empty object.
func (h *handlers) cutRelease(c *gin.Context) {
	if c.Request.ContentLength != 0 {
		var empty struct{}
		if err := httpx.BindJSON(c, &empty); err != nil {
			_ = c.Error(err)
			return
		}
	}
	p := principal(c)
	key, err := app.NewKey(p, c.GetHeader(app.HeaderIdempotencyKey), callOf(c), nil)
	if err != nil {
		_ = c.Error(err)
		return
	}
	a, err := h.app.CutRelease(c.Request.Context(), p, key)
	if err != nil {
		_ = c.Error(err)
		return
	}
	render(c, a)
}
