package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/referential/internal/app"
)

// The OAuth2 client-credentials token route, shaped as France Travail's
// (POST /connexion/oauth2/access_token?realm=/partenaire), and the admin registry of the
// clients that use it.

// tokenBodyLimit bounds the token request: four short form fields.
const tokenBodyLimit = 4 << 10

func (h *handlers) clientRoutes(r *gin.Engine, d Deps) {
	r.POST("/connexion/oauth2/access_token", httpx.BodyLimit(tokenBodyLimit), h.accessToken)
	admin := r.Group("/v1/api-clients", d.Authenticate, d.RequireAdmin)
	admin.POST("", httpx.BodyLimit(tokenBodyLimit), h.registerClient)
	admin.GET("", h.listClients)
	admin.DELETE("/:clientId", h.revokeClient)
}

// oauthError answers an error of the token route as RFC 6749 §5.2 shapes it.
func oauthError(c *gin.Context, status int, code, description string) {
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(status, gin.H{"error": code, "error_description": description})
}

// accessToken issues a token for client credentials sent in the form (as France
// Travail's consumers send them) or by HTTP Basic (RFC 6749 §2.3.1).
func (h *handlers) accessToken(c *gin.Context) {
	if realm, ok := c.GetQuery("realm"); ok && realm != "/partenaire" {
		oauthError(c, http.StatusBadRequest, "invalid_request", "the only realm is /partenaire")
		return
	}
	if ct, _, _ := strings.Cut(c.ContentType(), ";"); ct != "application/x-www-form-urlencoded" {
		oauthError(c, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	if err := c.Request.ParseForm(); err != nil {
		oauthError(c, http.StatusBadRequest, "invalid_request", "the body is not a valid form")
		return
	}
	form := c.Request.PostForm
	for _, name := range []string{"grant_type", "client_id", "client_secret", "scope"} {
		if len(form[name]) > 1 {
			oauthError(c, http.StatusBadRequest, "invalid_request", name+" is repeated")
			return
		}
	}
	if g := form.Get("grant_type"); g != "client_credentials" {
		if g == "" {
			oauthError(c, http.StatusBadRequest, "invalid_request", "grant_type is required")
			return
		}
		oauthError(c, http.StatusBadRequest, "unsupported_grant_type", "the only grant type is client_credentials")
		return
	}
	id, secret, basic := c.Request.BasicAuth()
	if !basic {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id == "" || secret == "" {
		oauthError(c, http.StatusBadRequest, "invalid_request", "client_id and client_secret are required")
		return
	}
	tok, err := h.clients.Issue(c.Request.Context(), id, secret, form.Get("scope"))
	var scope *app.ScopeError
	switch {
	case errors.Is(err, app.ErrInvalidClient):
		if basic {
			c.Header("WWW-Authenticate", `Basic realm="/partenaire"`)
		}
		oauthError(c, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	case errors.As(err, &scope):
		oauthError(c, http.StatusBadRequest, "invalid_scope", scope.Error())
		return
	case err != nil:
		c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	c.JSON(http.StatusOK, tok)
}

// registerClient registers a client (POST /v1/api-clients). With an Idempotency-Key, a
// retry of the same registration answers 201 with the same client, marked
// Idempotent-Replayed and without its secret (see app.Clients.Register).
func (h *handlers) registerClient(c *gin.Context) {
	var req app.ClientRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		c.Error(err)
		return
	}
	admin, _ := auth.FromContext(c.Request.Context())
	key, err := app.NewIdempotencyKey(admin.Subject, c.GetHeader(httpx.HeaderIdempotencyKey), c.Request.Method+" "+c.Request.URL.Path, req)
	if err != nil {
		c.Error(invalidProblem(err))
		return
	}
	client, replayed, err := h.clients.Register(c.Request.Context(), req, admin.Subject, key)
	if err != nil {
		c.Error(invalidProblem(err))
		return
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Location", "/v1/api-clients/"+client.ClientID)
	c.JSON(http.StatusCreated, client)
}

func (h *handlers) listClients(c *gin.Context) {
	cs, err := h.clients.List(c.Request.Context())
	if err != nil {
		c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": cs})
}

func (h *handlers) revokeClient(c *gin.Context) {
	ok, err := h.clients.Revoke(c.Request.Context(), c.Param("clientId"))
	if err != nil {
		c.Error(err)
		return
	}
	if !ok {
		c.Error(httpx.NotFound("api_client_not_found", "no API client has this id"))
		return
	}
	c.Status(http.StatusNoContent)
}
