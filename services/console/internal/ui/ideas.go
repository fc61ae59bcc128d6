package ui

// The idea form: anyone, signed in or not, sends the ROME team an idea about the
// referential. A visitor has no session, so the form carries the pre-session CSRF token
// (a double-submit cookie, as the sign-in form); a signed-in person's carries their
// session's, which loadSession checks.

import (
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/services/console/internal/session"
)

// ideaForm is the idea form as typed; Website is the honeypot.
type ideaForm struct {
	Text, CodeRome, CodeOgr, Email, Website string
}

type ideaFormData struct {
	Form   ideaForm
	Errors fieldErrors
	CSRF   string
	// Alert says why the idea was not sent when no field is to blame.
	Alert string
}

func (h *handlers) ideaFormPage(c *gin.Context) {
	h.renderIdeaForm(c, http.StatusOK, ideaForm{}, fieldErrors{}, "")
}

func (h *handlers) renderIdeaForm(c *gin.Context, status int, f ideaForm, errs fieldErrors, alert string) {
	csrf := ""
	if s, ok := session.From(c); ok {
		csrf = s.CSRF
	} else {
		csrf = h.Cookies.PreSessionCSRF(c.Writer, c.Request)
	}
	h.render(c, status, "idea_form", view{Title: "Proposer une idée",
		Data: ideaFormData{Form: f, Errors: errs, CSRF: csrf, Alert: alert}})
}

func (h *handlers) submitIdea(c *gin.Context) {
	f := ideaForm{
		// The text keeps its lines; the intake trims and checks it.
		Text: c.PostForm("text"), CodeRome: strings.ToUpper(strings.TrimSpace(c.PostForm("codeRome"))),
		CodeOgr: strings.TrimSpace(c.PostForm("codeOgr")), Email: strings.TrimSpace(c.PostForm("email")), Website: c.PostForm("website"),
	}
	if _, signedIn := session.From(c); !signedIn && !h.Cookies.CheckPreSessionCSRF(c.Request) {
		h.renderIdeaForm(c, http.StatusForbidden, f, fieldErrors{}, "Ce formulaire a expiré : votre idée n'a pas été envoyée. Vérifiez-la ci-dessous et envoyez-la à nouveau.")
		return
	}
	ctx := c.Request.Context()
	_, err := h.Backend.Intake.SubmitIdea(ctx, backend.NewIdea{Text: f.Text, CodeRome: f.CodeRome, CodeOgr: f.CodeOgr,
		Email: f.Email, Website: f.Website}, forwardedFor(c.Request))
	if err == nil {
		c.Redirect(http.StatusSeeOther, "/idees/merci")
		return
	}
	e, ok := backend.AsError(err)
	switch {
	case ok && e.Status == http.StatusUnprocessableEntity:
		h.renderIdeaForm(c, e.Status, f, fromProblem(e, sameField), "")
	case ok && e.Status == http.StatusTooManyRequests:
		h.renderIdeaForm(c, e.Status, f, fieldErrors{}, "Trop d'idées ont été envoyées depuis votre connexion ou avec cette adresse e-mail ces derniers temps : "+
			"votre idée n'a pas été envoyée. Elle est conservée ci-dessous ; réessayez dans une heure.")
	default:
		slog.WarnContext(ctx, "idea not sent", "error", err)
		h.renderIdeaForm(c, http.StatusServiceUnavailable, f, fieldErrors{}, "La plateforme ne répond pas pour le moment : votre idée n'a pas été envoyée. "+
			"Elle est conservée ci-dessous ; réessayez dans un instant.")
	}
}

func (h *handlers) ideaThanks(c *gin.Context) {
	h.render(c, http.StatusOK, "idea_thanks", view{Title: "Idée envoyée"})
}

// forwardedFor is the X-Forwarded-For the console passes on: the chain it received with
// the address of its own peer appended, as any proxy does. The intake believes only the
// hops it trusts, so a visitor cannot choose the address they are limited as.
func forwardedFor(r *http.Request) string {
	peer, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		peer = r.RemoteAddr
	}
	if prior := strings.Join(r.Header.Values("X-Forwarded-For"), ", "); prior != "" {
		return prior + ", " + peer
	}
	return peer
}
