package ui

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/services/console/internal/session"
)

// pageError is what an error page says beyond its status's own explanation.
type pageError struct {
	Detail string
	// Back is where the page offers to go next.
	Back, BackLabel string
}

// errorTitles and errorTexts explain each status in French.
var (
	errorTitles = map[int]string{
		http.StatusBadRequest:            "Demande incorrecte",
		http.StatusForbidden:             "Accès refusé",
		http.StatusNotFound:              "Page introuvable",
		http.StatusMethodNotAllowed:      "Action impossible ici",
		http.StatusConflict:              "La situation a changé",
		http.StatusRequestEntityTooLarge: "Fichier trop volumineux",
		http.StatusBadGateway:            "Service indisponible",
		http.StatusServiceUnavailable:    "Service indisponible",
		http.StatusGatewayTimeout:        "Service trop lent",
		http.StatusInternalServerError:   "Erreur interne",
	}
	errorTexts = map[int]string{
		http.StatusBadRequest:            "La console n'a pas compris cette demande.",
		http.StatusForbidden:             "Votre rôle ne vous permet pas d'accéder à cette page ou de faire cette action.",
		http.StatusNotFound:              "Cette page n'existe pas, ou vous n'y avez pas accès. Une demande n'est visible que par l'organisation qui l'a déposée et par l'équipe ROME.",
		http.StatusMethodNotAllowed:      "Cette adresse ne permet pas cette action.",
		http.StatusConflict:              "L'élément a changé depuis que vous avez ouvert la page.",
		http.StatusRequestEntityTooLarge: "Ce que vous avez envoyé dépasse la taille acceptée : rien n'a été enregistré.",
		http.StatusBadGateway:            "Un service de la plateforme a répondu de façon inattendue. Réessayez dans un instant ; si cela persiste, prévenez l'équipe ROME.",
		http.StatusServiceUnavailable:    "Un service de la plateforme ne répond pas pour le moment. Réessayez dans un instant : rien de ce que vous aviez saisi n'a été enregistré.",
		http.StatusGatewayTimeout:        "Un service de la plateforme a mis trop de temps à répondre. Réessayez dans un instant.",
		http.StatusInternalServerError:   "La console a rencontré une erreur. Réessayez dans un instant.",
	}
)

type errorData struct {
	Status int
	Text   string
	pageError
}

// errorPage renders the French page of an HTTP error status.
func (h *handlers) errorPage(c *gin.Context, status int, e pageError) {
	if e.Back == "" {
		e.Back, e.BackLabel = "/", "Retour à l'accueil"
	}
	if _, signedIn := session.From(c); !signedIn && status == http.StatusForbidden && e.Detail == "" {
		e.Back, e.BackLabel = "/connexion", "Se connecter"
	}
	title := errorTitles[status]
	if title == "" {
		title = "Erreur"
	}
	h.render(c, status, "error", view{Title: title, Data: errorData{Status: status, Text: errorTexts[status], pageError: e}})
}

func (h *handlers) notFound(c *gin.Context) { h.errorPage(c, http.StatusNotFound, pageError{}) }

// backendFailed renders the error page for a service's failure that the page cannot
// handle itself: a refusal keeps its status (403, 404), a signed-out token sends the
// person to sign in again, anything else is the service being unavailable.
func (h *handlers) backendFailed(c *gin.Context, err error) {
	e, ok := backend.AsError(err)
	switch {
	case ok && e.Status == http.StatusUnauthorized:
		h.signOutExpired(c)
	case ok && (e.Status == http.StatusForbidden || e.Status == http.StatusNotFound):
		h.errorPage(c, e.Status, pageError{})
	case ok && e.Status == http.StatusConflict:
		h.errorPage(c, http.StatusConflict, pageError{Detail: e.Detail})
	case ok && e.Status < 500 && e.Status != http.StatusTooManyRequests:
		slog.WarnContext(c.Request.Context(), "a service refused the console's call", "service", e.Service, "status", e.Status, "code", e.Code, "detail", e.Detail)
		h.errorPage(c, http.StatusBadGateway, pageError{})
	case errors.Is(err, context.DeadlineExceeded):
		h.errorPage(c, http.StatusGatewayTimeout, pageError{})
	default:
		slog.WarnContext(c.Request.Context(), "a service is unavailable", "error", err)
		h.errorPage(c, http.StatusServiceUnavailable, pageError{})
	}
}

// signOutExpired ends a session whose token the services no longer accept.
func (h *handlers) signOutExpired(c *gin.Context) {
	if s, ok := session.From(c); ok {
		_ = h.Sessions.Delete(c.Request.Context(), s.ID)
	}
	h.Cookies.Clear(c.Writer)
	c.Redirect(http.StatusSeeOther, "/connexion?message=session-expiree")
}
