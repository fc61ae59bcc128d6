package ui

// The ideas once sent: the ROME team lists them by status, sets one aside with a reason,
// answers its author or hands it to an organisation; that organisation's partners see it
// and record the request they filed from it.

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/workflows/request"
)

const ideasPageSize = 50

// ideaStatuses are the list's tabs, in the team's order of work.
var ideaStatuses = []choice{
	{backend.IdeaNew, "Nouvelles"}, {backend.IdeaReplied, "Répondues"},
	{backend.IdeaHandedOver, "Confiées à une organisation"}, {backend.IdeaDismissed, "Écartées"},
}

// ideaStatusLabels say an idea's status in French.
var ideaStatusLabels = map[string]string{
	backend.IdeaNew: "Nouvelle", backend.IdeaReplied: "Répondue",
	backend.IdeaHandedOver: "Confiée à une organisation", backend.IdeaDismissed: "Écartée",
}

func ideaPath(id string) string { return "/idees/" + url.PathEscape(id) }

type ideaListData struct {
	// Team: the ROME team, who see every idea by status; a partner sees those handed to
	// their organisation.
	Team              bool
	Status            choice
	Tabs              []choice
	Ideas             []backend.Idea
	OrgNames          map[string]string
	NextURL, FirstURL string
	Cursor            string
}

func (h *handlers) ideaList(c *gin.Context) {
	ctx := c.Request.Context()
	d := ideaListData{Team: person(c).Role != auth.RolePartner, Tabs: ideaStatuses, Cursor: cursorParam(c, "curseur")}
	status := c.DefaultQuery("statut", backend.IdeaNew)
	if !d.Team {
		status = backend.IdeaHandedOver
	}
	i := slices.IndexFunc(ideaStatuses, func(s choice) bool { return s.Value == status })
	if i < 0 {
		h.notFound(c)
		return
	}
	d.Status = ideaStatuses[i]
	var (
		page backend.IdeaPage
		orgs []backend.Organisation
		p    fanout
	)
	p.do(func() (err error) {
		page, err = h.Backend.Intake.Ideas(ctx, status, d.Cursor, ideasPageSize)
		return err
	})
	p.do(func() (err error) { orgs, err = h.Backend.Intake.Organisations(ctx); return err })
	if err := p.wait(); err != nil {
		if _, bad := problemWithStatus(err, http.StatusUnprocessableEntity); bad {
			h.errorPage(c, http.StatusBadRequest, pageError{Detail: "Cette page de la liste n'existe pas (ou plus).",
				Back: "/idees/a-traiter", BackLabel: "Voir les idées"})
			return
		}
		h.backendFailed(c, err)
		return
	}
	d.Ideas, d.OrgNames = page.Items, orgNames(orgs)
	q := url.Values{}
	if d.Team {
		q.Set("statut", status)
	}
	if d.Cursor != "" {
		d.FirstURL = "/idees/a-traiter?" + q.Encode()
	}
	if page.NextCursor != "" {
		q.Set("curseur", page.NextCursor)
		d.NextURL = "/idees/a-traiter?" + q.Encode()
	}
	title := "Idées confiées à votre organisation"
	if d.Team {
		title = "Idées reçues – " + d.Status.Label
	}
	h.render(c, http.StatusOK, "ideas", view{Title: title, Section: "idees", Data: d})
}

type ideaPageData struct {
	Idea    backend.Idea
	OrgName string
	Team    bool
	// What the person may do now.
	CanDismiss, CanReply, CanHandOver, CanFile bool
	// Orgs are the active organisations an idea may be handed to.
	Orgs []choice
	// NewRequestURL opens the request form on the idea's fiche.
	NewRequestURL string
	// Typed and Errors are the action forms' fields as sent, and the refusals next to them.
	Typed  map[string]string
	Errors fieldErrors
	// Alert explains a refusal that is not about a field (a 409, the notifications down).
	Alert string
}

// loadIdeaPage reads the idea and the organisations, or renders the error page.
func (h *handlers) loadIdeaPage(c *gin.Context) (ideaPageData, bool) {
	ctx := c.Request.Context()
	d := ideaPageData{Team: person(c).Role != auth.RolePartner, Typed: map[string]string{}, Errors: fieldErrors{}}
	var (
		orgs []backend.Organisation
		p    fanout
	)
	p.do(func() (err error) { d.Idea, err = h.Backend.Intake.Idea(ctx, c.Param("id")); return err })
	p.do(func() (err error) { orgs, err = h.Backend.Intake.Organisations(ctx); return err })
	if err := p.wait(); serviceNotFound(err) {
		h.ideaNotFound(c)
		return d, false
	} else if err != nil {
		h.backendFailed(c, err)
		return d, false
	}
	i := d.Idea
	d.OrgName = orgNames(orgs)[i.Org]
	open := i.Status == backend.IdeaNew
	d.CanDismiss = d.Team && open
	d.CanReply = d.Team && open && i.Email != ""
	d.CanHandOver = d.Team && (open || i.Status == backend.IdeaReplied)
	d.CanFile = !d.Team && i.Status == backend.IdeaHandedOver && i.RequestID == ""
	if d.CanHandOver {
		d.Orgs = handoverChoices(orgs, i.CodeRome)
	}
	d.NewRequestURL = "/demandes/nouvelle"
	if i.CodeRome != "" {
		d.NewRequestURL += "?" + url.Values{"type": {string(request.KindModifyFiche)}, "codeRome": {i.CodeRome}}.Encode()
	}
	return d, true
}

// handoverChoices are the active organisations, those whose domains cover the idea's
// fiche first and said so (the intake refuses the others for an idea about a fiche).
func handoverChoices(orgs []backend.Organisation, codeRome string) []choice {
	var covering, others []choice
	for _, o := range orgs {
		if !o.Active {
			continue
		}
		name := orRaw(o.Name, o.ID)
		if codeRome != "" && slices.ContainsFunc(o.Domains, func(d string) bool { return d == codeRome || d == codeRome[:1] }) {
			covering = append(covering, choice{o.ID, name + " (son domaine couvre " + codeRome + ")"})
		} else {
			others = append(others, choice{o.ID, name})
		}
	}
	byLabel := func(a, b choice) int { return strings.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label)) }
	slices.SortFunc(covering, byLabel)
	slices.SortFunc(others, byLabel)
	return append(covering, others...)
}

func (h *handlers) ideaNotFound(c *gin.Context) {
	h.errorPage(c, http.StatusNotFound, pageError{Detail: "Aucune idée que vous pouvez voir n'a cet identifiant.",
		Back: "/idees/a-traiter", BackLabel: "Voir les idées"})
}

func (h *handlers) renderIdeaPage(c *gin.Context, status int, d ideaPageData, alert string) {
	d.Alert = alert
	h.render(c, status, "idea", view{Title: "Idée du " + frenchDate(d.Idea.CreatedAt), Section: "idees", Data: d})
}

func (h *handlers) ideaPage(c *gin.Context) {
	if d, ok := h.loadIdeaPage(c); ok {
		h.renderIdeaPage(c, http.StatusOK, d, "")
	}
}

// ideaAction is one of the idea page's forms: its single field, the intake's call, and the
// confirmation shown after it.
type ideaAction struct {
	field, message string
	call           func(b *backend.Intake, c *gin.Context, id, value string) (backend.Idea, error)
}

var (
	ideaDismiss = ideaAction{"motif", "idee-ecartee", func(b *backend.Intake, c *gin.Context, id, v string) (backend.Idea, error) {
		return b.DismissIdea(c.Request.Context(), id, v)
	}}
	ideaReply = ideaAction{"reponse", "idee-repondue", func(b *backend.Intake, c *gin.Context, id, v string) (backend.Idea, error) {
		return b.ReplyToIdea(c.Request.Context(), id, v)
	}}
	ideaHandOver = ideaAction{"org", "idee-confiee", func(b *backend.Intake, c *gin.Context, id, v string) (backend.Idea, error) {
		return b.HandOverIdea(c.Request.Context(), id, v)
	}}
	ideaFile = ideaAction{"demande", "idee-demande", func(b *backend.Intake, c *gin.Context, id, v string) (backend.Idea, error) {
		return b.LinkIdeaRequest(c.Request.Context(), id, requestIDOf(v))
	}}
)

// ideaActionHandler handles the POST of an idea's action: back to the idea with a confirmation, or the
// idea page again with the refusal next to the field and what was typed kept.
func (h *handlers) ideaActionHandler(a ideaAction) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, value := c.Param("id"), strings.TrimSpace(c.PostForm(a.field))
		_, err := a.call(h.Backend.Intake, c, id, value)
		if err == nil {
			c.Redirect(http.StatusSeeOther, ideaPath(id)+"?message="+a.message)
			return
		}
		e, ok := backend.AsError(err)
		var (
			status = 0
			errs   = fieldErrors{}
			alert  string
		)
		switch {
		case ok && e.Status == http.StatusNotFound && e.Code == "request_not_found":
			status = http.StatusUnprocessableEntity
			errs.add(a.field, "Aucune demande de votre organisation n'a cet identifiant : copiez-le depuis la page de la demande.")
		case ok && e.Status == http.StatusNotFound:
			h.ideaNotFound(c)
			return
		case ok && e.Status == http.StatusUnprocessableEntity:
			status = e.Status
			for _, f := range e.Errors {
				errs.add(a.field, frenchMessage(f))
			}
			errs.add(a.field, "La plateforme a refusé cette valeur : "+e.Detail)
		case ok && e.Status == http.StatusConflict:
			status, alert = e.Status, cmp.Or(ideaConflicts[e.Code], ideaConflicts["invalid_transition"])
		case ok && e.Status == http.StatusServiceUnavailable && e.Code == "notifications_unavailable":
			status, alert = e.Status, "Le service des notifications ne répond pas : rien n'a été enregistré ni envoyé. Réessayez dans un instant ; votre texte est conservé."
		default:
			h.backendFailed(c, err)
			return
		}
		d, ok := h.loadIdeaPage(c)
		if !ok {
			return
		}
		d.Typed[a.field], d.Errors = value, errs
		h.renderIdeaPage(c, status, d, alert)
	}
}

// ideaConflicts explain the intake's 409s about an idea; the page then shows its state now.
var ideaConflicts = map[string]string{
	"invalid_transition": "Cette idée a été traitée entre-temps : la page montre son état actuel. Rien n'a été enregistré.",
	"idea_without_email": "L'auteur de cette idée n'a pas laissé d'adresse e-mail : il n'est pas possible de lui répondre.",
	"idea_already_filed": "Une autre demande est déjà enregistrée pour cette idée : la page montre laquelle. Rien n'a été enregistré.",
}

// requestIDOf is the request id typed, or taken from the address of the request's page
// pasted instead.
func requestIDOf(s string) string {
	if _, after, ok := strings.Cut(s, "/demandes/"); ok {
		s, _, _ = strings.Cut(after, "?")
		s = strings.Trim(s, "/")
	}
	return s
}
