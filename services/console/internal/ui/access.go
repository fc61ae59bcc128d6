package ui

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/services/console/internal/session"
)

// loadSession puts the signed-in person's session in the context, refreshing the token
// when it is about to expire and the provider gave a refresh token, and checks the CSRF
// token of every state-changing request of a session.
func (h *handlers) loadSession(c *gin.Context) {
	id := h.Cookies.SessionID(c.Request)
	if id == "" {
		return
	}
	ctx := c.Request.Context()
	s, err := h.Sessions.Get(ctx, id)
	if errors.Is(err, session.ErrNotFound) {
		h.Cookies.Clear(c.Writer)
		return
	}
	if err != nil {
		slog.ErrorContext(ctx, "session not read", "error", err)
		h.errorPage(c, http.StatusServiceUnavailable, pageError{Detail: "Les sessions sont momentanément indisponibles. Réessayez dans un instant."})
		c.Abort()
		return
	}
	if s.RefreshToken != "" && h.OIDC != nil && h.Now().Add(time.Minute).After(s.TokenExpiry) {
		refreshed, err := h.refresh(ctx, s)
		if err != nil {
			// Another request of the same person (a page and an htmx refresh) may have
			// used the refresh token first: the session then holds its new token.
			if again, gerr := h.Sessions.Get(ctx, id); gerr == nil && again.TokenExpiry.After(s.TokenExpiry) {
				refreshed, err = again, nil
			}
		}
		if err != nil {
			slog.InfoContext(ctx, "token not refreshed: the person signs in again", "error", err)
			_ = h.Sessions.Delete(ctx, id)
			h.Cookies.Clear(c.Writer)
			return
		}
		s = refreshed
	}
	if err := session.CheckCSRF(c, s); err != nil {
		h.errorPage(c, http.StatusForbidden, pageError{Detail: "Ce formulaire a expiré ou ne vient pas de la console. Rechargez la page et recommencez : ce que vous aviez saisi n'a pas été envoyé."})
		c.Abort()
		return
	}
	session.Put(c, s)
	c.Request = c.Request.WithContext(backend.WithToken(ctx, s.Token))
	if c.Request.Method == http.MethodGet && c.GetHeader("HX-Request") != "true" {
		h.startUnread(c)
	}
}

func (h *handlers) refresh(ctx context.Context, s session.Session) (session.Session, error) {
	t, err := h.OIDC.Refresh(ctx, s.RefreshToken)
	if err != nil {
		return s, err
	}
	p, err := h.Verifier.Verify(ctx, t.Bearer)
	if err != nil {
		return s, err
	}
	if t.Refresh == "" {
		t.Refresh = s.RefreshToken
	}
	s.Person, s.Token, s.RefreshToken, s.TokenExpiry = p, t.Bearer, t.Refresh, t.Expiry
	return s, h.Sessions.UpdateToken(ctx, s.ID, s.Person, s.Token, s.RefreshToken, s.TokenExpiry)
}

// requireSignIn sends people who are not signed in to the sign-in page, and back here after.
func (h *handlers) requireSignIn(c *gin.Context) {
	if _, ok := session.From(c); ok {
		return
	}
	back := "/"
	if c.Request.Method == http.MethodGet {
		back = c.Request.URL.RequestURI()
	}
	target := "/connexion?retour=" + url.QueryEscape(back)
	if c.GetHeader("HX-Request") == "true" {
		c.Header("HX-Redirect", target)
		c.Status(http.StatusUnauthorized)
	} else {
		c.Redirect(http.StatusSeeOther, target)
	}
	c.Abort()
}

// requireRole answers 403 to people whose role may not use the page.
func (h *handlers) requireRole(roles ...auth.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		s, _ := session.From(c)
		if !slices.Contains(roles, s.Person.Role) {
			h.errorPage(c, http.StatusForbidden, pageError{})
			c.Abort()
		}
	}
}

// person is the signed-in person (the route is behind requireSignIn).
func person(c *gin.Context) auth.Principal {
	s, _ := session.From(c)
	return s.Person
}

// localPath keeps a return address on this site: a path, never another origin.
func localPath(s string) string {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") {
		return "/"
	}
	return s
}
