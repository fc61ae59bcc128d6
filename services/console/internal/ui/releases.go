package ui

// The releases of the referential (/referentiel/releases): under release trains, accepted
// change sets wait in the next release, which admins cut; each published release has its
// notes. A deployment that publishes every accepted request at once has none.

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
)

var (
	releaseStatusLabels = map[string]string{
		refclient.ReleaseOpen:      "Ouverte : elle reçoit les demandes acceptées",
		refclient.ReleaseFrozen:    "En cours de publication",
		refclient.ReleasePublished: "Publiée",
	}
	stagedStatusLabels = map[string]string{
		refclient.StagedWaiting:  "En attente de la release",
		refclient.StagedIncluded: "Incluse",
		refclient.StagedReturned: "Renvoyée à l'équipe ROME",
	}
)

type releasesData struct {
	// Next is the release being prepared; nil without release trains.
	Next     *backend.Release
	Past     []backend.Release
	CanStart bool   // an admin may cut the next release
	Key      string // the idempotency key of the form that cuts it
}

func (h *handlers) releasesPage(c *gin.Context) {
	ctx := c.Request.Context()
	var (
		d    releasesData
		list []backend.Release
		p    fanout
	)
	p.do(func() (err error) { d.Next, _, err = h.Backend.Referential.NextRelease(ctx); return err })
	p.do(func() (err error) { list, err = h.Backend.Referential.Releases(ctx); return err })
	if err := p.wait(); err != nil {
		h.backendFailed(c, err)
		return
	}
	for _, r := range list {
		if d.Next == nil || r.Number != d.Next.Number {
			d.Past = append(d.Past, r)
		}
	}
	d.CanStart, d.Key = d.Next != nil && person(c).Role == auth.RoleAdmin, newFormKey()
	h.render(c, http.StatusOK, "releases", view{Title: "Releases du référentiel", Section: "referentiel", Data: d})
}

type releaseData struct {
	R     *backend.Release
	Notes template.HTML
}

func (h *handlers) releasePage(c *gin.Context) {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n <= 0 {
		h.errorPage(c, http.StatusNotFound, pageError{Detail: "Une release se désigne par son numéro, par exemple 3.",
			Back: "/referentiel/releases", BackLabel: "Voir les releases"})
		return
	}
	r, err := h.Backend.Referential.Release(c.Request.Context(), n)
	if serviceNotFound(err) {
		h.errorPage(c, http.StatusNotFound, pageError{Detail: fmt.Sprintf("La release %d n'existe pas.", n),
			Back: "/referentiel/releases", BackLabel: "Voir les releases"})
		return
	}
	if err != nil {
		h.backendFailed(c, err)
		return
	}
	h.render(c, http.StatusOK, "release", view{Title: fmt.Sprintf("Release %d du référentiel", n), Section: "referentiel",
		Data: releaseData{R: r, Notes: notesHTML(r.Notes)}})
}

// releaseStart starts the workflow that cuts the next release (admins).
func (h *handlers) releaseStart(c *gin.Context) {
	started, err := h.Backend.Intake.CutRelease(c.Request.Context(), formKey(c.PostForm("cle")))
	if e, refused := problemWithStatus(err, http.StatusConflict); refused {
		detail := "La release ne peut pas être publiée maintenant : " + e.Detail
		switch e.Code {
		case refclient.CodeReleaseEmpty:
			detail = "Aucune demande acceptée n'attend dans la prochaine release : il n'y a rien à publier."
		case refclient.CodeReleaseTrainsOff:
			detail = "Ce déploiement publie chaque demande acceptée aussitôt : il n'y a pas de release à publier."
		}
		h.errorPage(c, http.StatusConflict, pageError{Detail: detail, Back: "/referentiel/releases", BackLabel: "Voir les releases"})
		return
	}
	if err != nil {
		h.backendFailed(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/referentiel/releases/%d?message=release-lancee", started.Release))
}

// notesHTML renders a release's notes, Markdown of three kinds of lines (headings, list
// items, paragraphs) as the referential writes them; every text is escaped.
func notesHTML(md string) template.HTML {
	var b strings.Builder
	inList := false
	closeList := func() {
		if inList {
			b.WriteString("</ul>\n")
			inList = false
		}
	}
	for _, line := range strings.Split(md, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			closeList()
		case strings.HasPrefix(line, "- "):
			if !inList {
				b.WriteString("<ul>\n")
				inList = true
			}
			fmt.Fprintf(&b, "<li>%s</li>\n", template.HTMLEscapeString(line[2:]))
		case strings.HasPrefix(line, "#"):
			closeList()
			level := len(line) - len(strings.TrimLeft(line, "#"))
			// The page's own heading is the h1: the notes' levels start at h2.
			fmt.Fprintf(&b, "<h%d>%s</h%d>\n", min(level+1, 6), template.HTMLEscapeString(strings.TrimSpace(line[level:])), min(level+1, 6))
		default:
			closeList()
			fmt.Fprintf(&b, "<p>%s</p>\n", template.HTMLEscapeString(line))
		}
	}
	closeList()
	return template.HTML(b.String()) //nolint:gosec // every text above is escaped
}
