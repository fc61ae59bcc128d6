package ui

// The directory's people: the list with its filters (admins, and moderators who read it),
// the form that adds a person, the page that changes one, and their deactivation (the
// platform refuses their sign-ins).

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
)

const peoplePageSize = 50

// peopleStateChoices filter the list by the person's own state.
var peopleStateChoices = []choice{{"actives", "Actives"}, {"desactivees", "Désactivées"}}

// peopleFilterForm is the list's filter, as the query gives it.
type peopleFilterForm struct {
	Role, Org, State, Cursor string
}

type peopleListData struct {
	Filter              peopleFilterForm
	People              []backend.Person
	OrgNames            map[string]string
	Roles, Orgs, States []choice
	NextURL, FirstURL   string
	// CanEdit: an admin, who opens each person's page; moderators only read the list.
	CanEdit bool
}

func (h *handlers) peopleList(c *gin.Context) {
	ctx := c.Request.Context()
	f := peopleFilterForm{Role: c.Query("role"), Org: c.Query("organisation"), State: c.Query("etat"), Cursor: cursorParam(c, "curseur")}
	filter := backend.PeopleFilter{Role: f.Role, Org: f.Org, Limit: peoplePageSize, Cursor: f.Cursor}
	switch f.State {
	case "actives", "desactivees":
		active := f.State == "actives"
		filter.Active = &active
	default:
		f.State = ""
	}
	var (
		page backend.PeoplePage
		orgs []backend.Organisation
		p    fanout
	)
	p.do(func() (err error) { page, err = h.Backend.Intake.People(ctx, filter); return err })
	p.do(func() (err error) { orgs, err = h.Backend.Intake.Organisations(ctx); return err })
	if err := p.wait(); err != nil {
		if _, bad := problemWithStatus(err, http.StatusUnprocessableEntity); bad {
			h.errorPage(c, http.StatusBadRequest, pageError{Detail: "Cette page de la liste n'existe pas (ou plus).",
				Back: "/administration/personnes", BackLabel: "Voir toutes les personnes"})
			return
		}
		h.backendFailed(c, err)
		return
	}
	d := peopleListData{Filter: f, People: page.Items, OrgNames: orgNames(orgs), Roles: personRoleChoices,
		Orgs: orgChoices(orgs, f.Org), States: peopleStateChoices, CanEdit: person(c).Role == auth.RoleAdmin}
	q := url.Values{}
	for k, v := range map[string]string{"role": f.Role, "organisation": f.Org, "etat": f.State} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Cursor != "" {
		d.FirstURL = "/administration/personnes?" + q.Encode()
	}
	if page.NextCursor != "" {
		q.Set("curseur", page.NextCursor)
		d.NextURL = "/administration/personnes?" + q.Encode()
	}
	h.render(c, http.StatusOK, "people", view{Title: "Personnes de l'annuaire", Section: "administration", Data: d})
}

// orgNames are the organisations' names by id, for the tables of people.
func orgNames(orgs []backend.Organisation) map[string]string {
	out := make(map[string]string, len(orgs))
	for _, o := range orgs {
		out[o.ID] = orRaw(o.Name, o.ID)
	}
	return out
}

// personForm is the person form as typed. AbsentUntil is the last day of an absence
// (2026-12-24), as the date field gives it.
type personForm struct {
	Sub, Name, Email, Role, Org, EntraID string
	Domains, AbsentUntil, Delegate       string
}

func readPersonForm(c *gin.Context) personForm {
	field := func(name string) string { return strings.TrimSpace(c.PostForm(name)) }
	return personForm{Sub: field("sub"), Name: field("name"), Email: field("email"), Role: field("role"), Org: field("org"), EntraID: field("entraId"),
		Domains: field("domains"), AbsentUntil: field("absentUntil"), Delegate: field("delegate")}
}

func formOfPerson(p backend.Person) personForm {
	return personForm{Sub: p.Sub, Name: p.Name, Email: p.Email, Role: p.Role, Org: p.Org, EntraID: p.EntraID,
		Domains: strings.Join(p.Domains, " "), AbsentUntil: lastDayOfAbsence(p.AbsentUntil), Delegate: p.Delegate}
}

// lastDayOfAbsence is the date an admin typed for an absence: the intake keeps a date as
// the midnight (UTC) that ends it, and a time as it is.
func lastDayOfAbsence(until *time.Time) string {
	if until == nil {
		return ""
	}
	t := until.UTC()
	if t.Equal(t.Truncate(24 * time.Hour)) {
		t = t.AddDate(0, 0, -1)
	}
	return t.Format(time.DateOnly)
}

type personPageData struct {
	// Person is the person as the directory holds them; nil on the form that adds one.
	Person *backend.Person
	Form   personForm
	Errors fieldErrors
	Roles  []choice
	Orgs   []choice
	// Delegates are the active moderators and admins who may stand in for the person.
	Delegates []choice
	// OrgName is the person's organisation's name.
	OrgName string
	// Self: the admin's own entry, which they may not deactivate.
	Self bool
	// Alert explains a refusal that is not about one field (a 409).
	Alert string
}

// loadPersonPage reads what the person page (sub) or the form that adds one (sub "") shows,
// or renders the error page.
func (h *handlers) loadPersonPage(c *gin.Context, sub string) (personPageData, bool) {
	ctx := c.Request.Context()
	var (
		d    = personPageData{Errors: fieldErrors{}, Roles: personRoleChoices}
		orgs []backend.Organisation
		p    fanout
	)
	p.do(func() (err error) { orgs, err = h.Backend.Intake.Organisations(ctx); return err })
	var team [2]backend.PeoplePage
	if sub != "" {
		active := true
		for i, role := range []auth.Role{auth.RoleModerator, auth.RoleAdmin} {
			p.do(func() (err error) {
				team[i], err = h.Backend.Intake.People(ctx, backend.PeopleFilter{Role: string(role), Active: &active, Limit: 200})
				return err
			})
		}
		p.do(func() error {
			found, err := h.Backend.Intake.Person(ctx, sub)
			d.Person = &found
			return err
		})
	}
	if err := p.wait(); serviceNotFound(err) {
		h.personNotFound(c)
		return d, false
	} else if err != nil {
		h.backendFailed(c, err)
		return d, false
	}
	current := ""
	if d.Person != nil {
		current, d.Form, d.Self = d.Person.Org, formOfPerson(*d.Person), d.Person.Sub == person(c).Subject
		d.OrgName = orgNames(orgs)[current]
	}
	d.Orgs = orgChoices(orgs, current)
	for _, p := range append(team[0].Items, team[1].Items...) {
		if p.Sub != sub {
			d.Delegates = append(d.Delegates, choice{p.Sub, p.Name + " (" + roleLabels[p.Role] + ")"})
		}
	}
	return d, true
}

func (h *handlers) personNotFound(c *gin.Context) {
	h.errorPage(c, http.StatusNotFound, pageError{Detail: "Aucune personne de l'annuaire n'a cet identifiant.",
		Back: "/administration/personnes", BackLabel: "Voir les personnes"})
}

func (h *handlers) renderPersonPage(c *gin.Context, status int, d personPageData, alert string) {
	d.Alert = alert
	title := "Nouvelle personne"
	if d.Person != nil {
		title = "Personne : " + d.Person.Name
	}
	h.render(c, status, "person", view{Title: title, Section: "administration", Data: d})
}

func (h *handlers) newPerson(c *gin.Context) {
	if d, ok := h.loadPersonPage(c, ""); ok {
		h.renderPersonPage(c, http.StatusOK, d, "")
	}
}

func (h *handlers) createPerson(c *gin.Context) {
	f := readPersonForm(c)
	p, err := h.Backend.Intake.CreatePerson(c.Request.Context(), backend.NewPerson{Sub: f.Sub, Name: f.Name, Email: f.Email,
		Role: f.Role, Org: f.Org, EntraID: f.EntraID, Domains: parseDomains(f.Domains)})
	if err == nil {
		c.Redirect(http.StatusSeeOther, personPath(p.Sub)+"?message=personne-ajoutee")
		return
	}
	h.personRefused(c, err, "", f)
}

func (h *handlers) personPage(c *gin.Context) {
	if d, ok := h.loadPersonPage(c, c.Param("sub")); ok {
		h.renderPersonPage(c, http.StatusOK, d, "")
	}
}

func (h *handlers) updatePerson(c *gin.Context) {
	sub := c.Param("sub")
	f := readPersonForm(c)
	f.Sub = sub
	domains := parseDomains(f.Domains)
	_, err := h.Backend.Intake.UpdatePerson(c.Request.Context(), sub, backend.PersonChange{Name: &f.Name, Email: &f.Email,
		Role: &f.Role, Org: &f.Org, EntraID: &f.EntraID, Domains: &domains, AbsentUntil: &f.AbsentUntil, Delegate: &f.Delegate})
	if err == nil {
		c.Redirect(http.StatusSeeOther, personPath(sub)+"?message=personne-modifiee")
		return
	}
	h.personRefused(c, err, sub, f)
}

// personActivation deactivates or reactivates a person.
func (h *handlers) personActivation(c *gin.Context) {
	sub := c.Param("sub")
	active, ok := activeParam(c)
	if !ok {
		h.errorPage(c, http.StatusBadRequest, pageError{Back: personPath(sub), BackLabel: "Retour à la personne"})
		return
	}
	_, err := h.Backend.Intake.UpdatePerson(c.Request.Context(), sub, backend.PersonChange{Active: &active})
	switch {
	case err != nil:
		h.personRefused(c, err, sub, personForm{})
	case active:
		c.Redirect(http.StatusSeeOther, personPath(sub)+"?message=personne-reactivee")
	default:
		c.Redirect(http.StatusSeeOther, personPath(sub)+"?message=personne-desactivee")
	}
}

// personRefused shows the person page (sub) or the form that adds one again with the
// intake's refusal; typed is what the form held (empty: the person as they are).
func (h *handlers) personRefused(c *gin.Context, err error, sub string, typed personForm) {
	if serviceNotFound(err) {
		h.personNotFound(c)
		return
	}
	status, errs, alert, ok := formRefusal(err, domainField)
	if !ok {
		h.backendFailed(c, err)
		return
	}
	if e, _ := backend.AsError(err); status == http.StatusUnprocessableEntity {
		badDomains(e, parseDomains(typed.Domains), errs)
	}
	d, ok := h.loadPersonPage(c, sub)
	if !ok {
		return
	}
	if typed != (personForm{}) {
		d.Form = typed
	}
	d.Errors = errs
	h.renderPersonPage(c, status, d, alert)
}
