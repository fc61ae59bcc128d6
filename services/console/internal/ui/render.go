package ui

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/console/internal/assets"
	"github.com/plateforme-rome/rome/services/console/internal/session"
)

//go:embed templates
var templateFS embed.FS

// pages holds one template set per page: the layout, the shared partials and the page.
type pages struct {
	byName map[string]*template.Template
}

// mustParsePages parses every page under templates/pages with the layout and partials. A
// template that does not parse is a programming error found by any test that starts the UI.
func mustParsePages(set *assets.Set) *pages {
	funcs := templateFuncs(set)
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html"))
	names, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		panic(err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range names {
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFS, name))
		p.byName[strings.TrimSuffix(path.Base(name), ".html")] = t
	}
	return p
}

// view is what every page's template receives.
type view struct {
	// Title is the page's own title; the layout adds " – Plateforme du ROME".
	Title string
	// Section is the navigation entry the page belongs to (aria-current).
	Section string
	Person  *auth.Principal
	CSRF    string
	// Message is a confirmation shown at the top of the page (after a redirect).
	Message string
	// Alert is an error about the whole page (a 409, a service down), shown at the top.
	Alert string
	// Unread is the person's unread notifications, shown in the header.
	Unread int64
	// Data is the page's own.
	Data any
}

// render writes a page (status 200 unless status says otherwise). htmx requests that
// target a fragment get only that block, rendered from the same template.
func (h *handlers) render(c *gin.Context, status int, page string, v view) {
	if s, ok := session.From(c); ok {
		p := s.Person
		v.Person, v.CSRF = &p, s.CSRF
	}
	if v.Person != nil && v.Unread == 0 {
		v.Unread = unread(c)
	}
	if v.Message == "" {
		v.Message = confirmations[c.Query("message")]
	}
	t, ok := h.pages.byName[page]
	if !ok {
		panic("ui: no page template " + page)
	}
	name := "layout"
	if frag := c.GetHeader("HX-Target"); c.GetHeader("HX-Request") == "true" && frag != "" && t.Lookup("fragment-"+frag) != nil {
		name = "fragment-" + frag
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, v); err != nil {
		slog.ErrorContext(c.Request.Context(), "page not rendered", "page", page, "error", err)
		c.String(http.StatusInternalServerError, "Erreur interne : la page n'a pas pu être affichée.")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Vary", "HX-Request, HX-Target")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// confirmations are the messages a redirect after a successful action asks for
// (?message=code), so that a reload shows the page, not the action again.
var confirmations = map[string]string{
	"soumise":                 "Votre demande a été soumise. Les vérifications automatiques sont en cours.",
	"prise":                   "Vous avez pris en charge cette demande.",
	"confiee":                 "La demande a été confiée au modérateur indiqué.",
	"question":                "Votre question a été envoyée au partenaire.",
	"reponse":                 "Votre réponse a été envoyée à l'équipe ROME.",
	"message":                 "Votre message a été publié.",
	"decision":                "La décision a été enregistrée.",
	"retiree":                 "La demande a été retirée.",
	"operations":              "Les opérations ont été modifiées : les vérifications automatiques reprennent.",
	"suivie":                  "Vous suivez désormais cet élément : vous serez notifié de ses évolutions.",
	"plus-suivie":             "Vous ne suivez plus cet élément.",
	"preferences":             "Vos préférences de notification ont été enregistrées.",
	"lue":                     "La notification est marquée comme lue.",
	"relancee":                "L'envoi a été relancé.",
	"organisation-ajoutee":    "L'organisation est enregistrée dans l'annuaire.",
	"organisation-modifiee":   "Les modifications de l'organisation sont enregistrées.",
	"organisation-desactivee": "L'organisation est désactivée : ses partenaires ne peuvent plus se connecter (d'ici 30 secondes pour tous les services).",
	"organisation-reactivee":  "L'organisation est de nouveau active : ses partenaires actifs peuvent se connecter.",
	"personne-ajoutee":        "La personne est enregistrée dans l'annuaire : elle peut se connecter et reçoit les notifications de son rôle.",
	"personne-modifiee":       "Les modifications de la personne sont enregistrées.",
	"personne-desactivee":     "La personne est désactivée : la plateforme refuse ses connexions (d'ici 30 secondes pour tous les services).",
	"personne-reactivee":      "La personne est de nouveau active : elle peut se connecter.",
	"release-lancee":          "La publication de la release a commencé : elle re-valide les demandes acceptées ensemble, puis publie une version. Cette page montre où elle en est.",
	"idee-ecartee":            "L'idée est écartée ; le motif est gardé avec elle.",
	"idee-repondue":           "Votre réponse est envoyée par e-mail à l'auteur de l'idée.",
	"idee-confiee":            "L'idée est confiée à l'organisation : ses partenaires sont prévenus.",
	"idee-demande":            "La demande déposée à partir de cette idée est enregistrée.",
	"acces-approuve":          "La demande est approuvée : le demandeur entre dans l'annuaire avec l'organisation et le rôle choisis, et il est prévenu par e-mail.",
	"acces-question":          "Votre question est envoyée par e-mail au demandeur : sa réponse s'affichera ici.",
	"acces-refuse":            "La demande est refusée : le demandeur reçoit le motif par e-mail.",
	"acces-reponse":           "Votre réponse est envoyée à l'équipe ROME, qui reprend l'examen de votre demande.",
	"deconnecte":              "Vous êtes déconnecté.",
	"session-expiree":         "Votre session a expiré : reconnectez-vous pour continuer.",
}
