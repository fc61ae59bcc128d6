package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/platform/logging"
)

// Authenticate requires a valid bearer token and stores its Principal in
// the request context (see FromContext).
func Authenticate(v *Verifier) gin.HandlerFunc {
	return func(c *gin.Context) {
		header := c.GetHeader("Authorization")
		scheme, token, _ := strings.Cut(header, " ")
		token = strings.TrimSpace(token)
		if header == "" || !strings.EqualFold(scheme, "Bearer") || token == "" {
			c.Header("WWW-Authenticate", "Bearer")
			httpx.WriteProblem(c, httpx.Unauthorized("unauthenticated", "A bearer token is required: Authorization: Bearer <token>."))
			return
		}
		p, err := v.Verify(c.Request.Context(), token)
		if err != nil {
			var prob *httpx.Problem
			if !errors.As(err, &prob) {
				_ = c.Error(err)
				c.Abort()
				return
			}
			if prob.Status == http.StatusUnauthorized {
				c.Header("WWW-Authenticate", fmt.Sprintf("Bearer error=%q, error_description=%q", "invalid_token", prob.Detail))
			}
			httpx.WriteProblem(c, prob)
			return
		}
		ctx := WithPrincipal(c.Request.Context(), p)
		ctx = logging.With(ctx, slog.String("sub", p.Subject), slog.String("role", string(p.Role)))
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// RequireRole lets through principals holding one of roles; it must follow
// Authenticate.
func RequireRole(roles ...Role) gin.HandlerFunc {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	detail := "This action requires the role " + strings.Join(names, " or ") + "."
	return func(c *gin.Context) {
		p, ok := FromContext(c.Request.Context())
		if !ok {
			c.Header("WWW-Authenticate", "Bearer")
			httpx.WriteProblem(c, httpx.Unauthorized("unauthenticated", "A bearer token is required."))
			return
		}
		if !slices.Contains(roles, p.Role) {
			httpx.WriteProblem(c, httpx.Forbidden("forbidden_role", detail))
			return
		}
		c.Next()
	}
}

// Me answers GET /v1/me with the caller's principal.
func Me(c *gin.Context) {
	p, ok := FromContext(c.Request.Context())
	if !ok {
		_ = c.Error(errors.New("auth.Me is mounted without Authenticate"))
		return
	}
	c.JSON(http.StatusOK, p)
}
