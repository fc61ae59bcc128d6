package ui

// The directory's organisations (admins): the list, the form that adds one, the page that
// changes one, and its deactivation (its partners can no longer sign in).

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/services/console/internal/backend"
)

type orgListData struct {
	Orgs []backend.Organisation
}

func (h *handlers) organisationList(c *gin.Context) {
	orgs, err := h.Backend.Intake.Organisations(c.Request.Context())
	if err != nil {
		h.backendFailed(c, err)
		return
	}
	h.render(c, http.StatusOK, "organisations", view{Title: "Organisations", Section: "administration", Data: orgListData{Orgs: orgs}})
}

// orgForm is the organisation form as typed.
type orgForm struct {
	ID, Name, Kind, Domains string
}

func readOrgForm(c *gin.Context) orgForm {
	return orgForm{ID: strings.TrimSpace(c.PostForm("id")), Name: strings.TrimSpace(c.PostForm("name")),
		Kind: c.PostForm("kind"), Domains: strings.TrimSpace(c.PostForm("domains"))}
}

type orgPageData struct {
	// Org is the organisation as the directory holds it; nil on the form that adds one.
	Org    *backend.Organisation
	Form   orgForm
	Errors fieldErrors
	Kinds  []choice
	// Alert explains a refusal that is not about one field (a 409).
	Alert string
}

func (h *handlers) renderOrgPage(c *gin.Context, status int, d orgPageData, alert string) {
	d.Kinds, d.Alert = orgKindChoices, alert
	if d.Errors == nil {
		d.Errors = fieldErrors{}
	}
	title := "Nouvelle organisation"
	if d.Org != nil {
		title = "Organisation : " + orRaw(d.Org.Name, d.Org.ID)
	}
	h.render(c, status, "organisation", view{Title: title, Section: "administration", Data: d})
}

// newOrganisation shows the form, filled in with what the query proposes (nom, type,
// domaines: the link of an access request whose organisation the directory lacks).
func (h *handlers) newOrganisation(c *gin.Context) {
	f := orgForm{Name: strings.TrimSpace(c.Query("nom")), Domains: strings.TrimSpace(c.Query("domaines"))}
	if _, ok := orgKindLabels[c.Query("type")]; ok {
		f.Kind = c.Query("type")
	}
	h.renderOrgPage(c, http.StatusOK, orgPageData{Form: f}, "")
}

func (h *handlers) createOrganisation(c *gin.Context) {
	f := readOrgForm(c)
	domains := parseDomains(f.Domains)
	o, err := h.Backend.Intake.CreateOrganisation(c.Request.Context(), backend.NewOrganisation{ID: f.ID, Name: f.Name, Kind: f.Kind, Domains: domains})
	if err == nil {
		c.Redirect(http.StatusSeeOther, orgPath(o.ID)+"?message=organisation-ajoutee")
		return
	}
	h.orgRefused(c, err, orgPageData{Form: f}, domains)
}

// findOrganisation reads one organisation (the intake lists them; it has no route for one).
func (h *handlers) findOrganisation(c *gin.Context, id string) (*backend.Organisation, bool) {
	orgs, err := h.Backend.Intake.Organisations(c.Request.Context())
	if err != nil {
		h.backendFailed(c, err)
		return nil, false
	}
	for _, o := range orgs {
		if o.ID == id {
			return &o, true
		}
	}
	h.orgNotFound(c)
	return nil, false
}

func (h *handlers) orgNotFound(c *gin.Context) {
	h.errorPage(c, http.StatusNotFound, pageError{Detail: "Aucune organisation de l'annuaire n'a cet identifiant.",
		Back: "/administration/organisations", BackLabel: "Voir les organisations"})
}

func (h *handlers) organisationPage(c *gin.Context) {
	o, ok := h.findOrganisation(c, c.Param("id"))
	if !ok {
		return
	}
	h.renderOrgPage(c, http.StatusOK, orgPageData{Org: o, Form: orgForm{ID: o.ID, Name: o.Name, Kind: o.Kind, Domains: strings.Join(o.Domains, " ")}}, "")
}

func (h *handlers) updateOrganisation(c *gin.Context) {
	id := c.Param("id")
	f := readOrgForm(c)
	f.ID = id
	domains := parseDomains(f.Domains)
	_, err := h.Backend.Intake.UpdateOrganisation(c.Request.Context(), id, backend.OrganisationChange{Name: &f.Name, Kind: &f.Kind, Domains: &domains})
	if err == nil {
		c.Redirect(http.StatusSeeOther, orgPath(id)+"?message=organisation-modifiee")
		return
	}
	if serviceNotFound(err) {
		h.orgNotFound(c)
		return
	}
	o, ok := h.findOrganisation(c, id)
	if !ok {
		return
	}
	h.orgRefused(c, err, orgPageData{Org: o, Form: f}, domains)
}

// orgRefused shows the form again with the intake's refusal and what was typed.
func (h *handlers) orgRefused(c *gin.Context, err error, d orgPageData, domains []string) {
	status, errs, alert, ok := formRefusal(err, domainField)
	if !ok {
		h.backendFailed(c, err)
		return
	}
	if e, _ := backend.AsError(err); status == http.StatusUnprocessableEntity {
		badDomains(e, domains, errs)
	}
	d.Errors = errs
	h.renderOrgPage(c, status, d, alert)
}

// organisationActivation deactivates or reactivates an organisation.
func (h *handlers) organisationActivation(c *gin.Context) {
	id := c.Param("id")
	active, ok := activeParam(c)
	if !ok {
		h.errorPage(c, http.StatusBadRequest, pageError{Back: orgPath(id), BackLabel: "Retour à l'organisation"})
		return
	}
	_, err := h.Backend.Intake.UpdateOrganisation(c.Request.Context(), id, backend.OrganisationChange{Active: &active})
	switch {
	case serviceNotFound(err):
		h.orgNotFound(c)
	case err != nil:
		h.backendFailed(c, err)
	case active:
		c.Redirect(http.StatusSeeOther, orgPath(id)+"?message=organisation-reactivee")
	default:
		c.Redirect(http.StatusSeeOther, orgPath(id)+"?message=organisation-desactivee")
	}
}
