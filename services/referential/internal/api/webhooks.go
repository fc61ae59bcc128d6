package api

import (
	"errors"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/referential/internal/app"
)

// The admin routes of consumers' webhooks: endpoints, their secrets, their delivery logs
// and the replay of dead letters.

// webhookBodyLimit bounds a registration: a URL, three event types, up to 2,000 codes ROME.
const webhookBodyLimit = 64 << 10

type webhookHandlers struct{ w *app.Webhooks }

func webhookRoutes(r *gin.Engine, d Deps) {
	h := &webhookHandlers{w: d.Webhooks}
	admin := r.Group("/v1/webhooks", d.Authenticate, d.RequireAdmin)
	admin.POST("", httpx.BodyLimit(webhookBodyLimit), h.register)
	admin.GET("", h.list)
	admin.GET("/:id", h.get)
	admin.DELETE("/:id", h.remove)
	admin.POST("/:id/rotate-secret", h.rotate)
	admin.POST("/:id/enable", h.enable)
	admin.GET("/:id/deliveries", h.deliveries)
	admin.GET("/:id/deliveries/:deliveryId", h.delivery)
	admin.POST("/:id/deliveries/:deliveryId/replay", h.replay)
	admin.POST("/:id/dead-letters/replay", h.replayDead)
}

func endpointNotFound() *httpx.Problem {
	return httpx.NotFound("webhook_not_found", "no webhook endpoint has this id")
}

func (h *webhookHandlers) register(c *gin.Context) {
	var req app.EndpointRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		c.Error(err)
		return
	}
	admin, _ := auth.FromContext(c.Request.Context())
	e, err := h.w.Register(c.Request.Context(), req, admin.Subject)
	if err != nil {
		c.Error(invalidProblem(err))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Location", "/v1/webhooks/"+e.ID)
	c.JSON(http.StatusCreated, e)
}

func (h *webhookHandlers) list(c *gin.Context) {
	es, err := h.w.Endpoints(c.Request.Context())
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": es})
}

func (h *webhookHandlers) get(c *gin.Context) {
	e, ok, err := h.w.Endpoint(c.Request.Context(), c.Param("id"))
	renderFound(c, e, ok, err, endpointNotFound)
}

// renderFound answers 200 with v, the problem of err, or notFound's 404.
func renderFound(c *gin.Context, v any, ok bool, err error, notFound func() *httpx.Problem) {
	switch {
	case err != nil:
		c.Error(invalidProblem(err))
	case !ok:
		c.Error(notFound())
	default:
		c.JSON(http.StatusOK, v)
	}
}

func (h *webhookHandlers) remove(c *gin.Context) {
	ok, err := h.w.Delete(c.Request.Context(), c.Param("id"))
	switch {
	case err != nil:
		c.Error(err)
	case !ok:
		c.Error(endpointNotFound())
	default:
		c.Status(http.StatusNoContent)
	}
}

func (h *webhookHandlers) rotate(c *gin.Context) {
	e, ok, err := h.w.RotateSecret(c.Request.Context(), c.Param("id"))
	c.Header("Cache-Control", "no-store")
	renderFound(c, e, ok, err, endpointNotFound)
}

func (h *webhookHandlers) enable(c *gin.Context) {
	e, ok, err := h.w.Enable(c.Request.Context(), c.Param("id"))
	renderFound(c, e, ok, err, endpointNotFound)
}

func (h *webhookHandlers) deliveries(c *gin.Context) {
	limit, after, ok := pageParams(c)
	if !ok {
		return
	}
	state := c.Query("state")
	if state != "" && !slices.Contains(app.DeliveryStates, state) {
		c.Error(httpx.Unprocessable("invalid_state", "state is pending, delivered or dead", httpx.FieldError{Field: "state", Message: "not a delivery state"}))
		return
	}
	page, found, err := h.w.Deliveries(c.Request.Context(), c.Param("id"), state, after, limit)
	if err != nil || !found {
		renderFound(c, nil, found, err, endpointNotFound)
		return
	}
	var next *string
	if page.Next != "" {
		n := cursor(page.Next)
		next = &n
	}
	c.JSON(http.StatusOK, gin.H{"items": page.Items, "nextCursor": next})
}

func deliveryNotFound() *httpx.Problem {
	return httpx.NotFound("delivery_not_found", "the webhook endpoint has no delivery with this id")
}

func (h *webhookHandlers) delivery(c *gin.Context) {
	d, ok, err := h.w.Delivery(c.Request.Context(), c.Param("id"), c.Param("deliveryId"))
	renderFound(c, d, ok, err, deliveryNotFound)
}

func (h *webhookHandlers) replay(c *gin.Context) {
	d, ok, err := h.w.Replay(c.Request.Context(), c.Param("id"), c.Param("deliveryId"))
	if errors.Is(err, app.ErrDeliveryPending) {
		c.Error(httpx.Conflict("delivery_pending", err.Error()).With("state", "pending"))
		return
	}
	renderFound(c, d, ok, err, deliveryNotFound)
}

func (h *webhookHandlers) replayDead(c *gin.Context) {
	n, ok, err := h.w.ReplayDead(c.Request.Context(), c.Param("id"))
	renderFound(c, gin.H{"replayed": n}, ok, err, endpointNotFound)
}
