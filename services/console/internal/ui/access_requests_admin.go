package ui

// Access requests, the admins' side: the list by status, and a request's page with what
// the applicant wrote, the exchange, and the three decisions: approve (an organisation of
// the directory and a role), ask a question, reject with a reason.

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
)

const accessPageSize = 50

// accessAll is the list's tab of every request, whatever its status.
const accessAll = "toutes"

// accessTabs are the list's tabs, in the order of the process (the admins' work first).
var accessTabs = []choice{
	{backend.AccessAwaitingReview, "À examiner"},
	{backend.AccessAwaitingApplicant, "En attente du demandeur"},
	{backend.AccessAwaitingVerification, "Adresse à vérifier"},
	{backend.AccessApproved, "Approuvées"},
	{backend.AccessRejected, "Refusées"},
	{backend.AccessExpired, "Expirées"},
	{accessAll, "Toutes"},
}

func accessAdminPath(id string) string { return "/administration/acces/" + url.PathEscape(id) }

type accessListData struct {
	Tab choice
	// Tabs are the statuses, with their counts when the intake gives them.
	Tabs              []choice
	Requests          []backend.AccessRequest
	NextURL, FirstURL string
	Cursor            string
}

func (h *handlers) accessRequestList(c *gin.Context) {
	d := accessListData{Tabs: accessTabs, Cursor: cursorParam(c, "curseur")}
	tab := c.DefaultQuery("statut", backend.AccessAwaitingReview)
	i := slices.IndexFunc(accessTabs, func(s choice) bool { return s.Value == tab })
	if i < 0 {
		h.notFound(c)
		return
	}
	d.Tab = accessTabs[i]
	status := tab
	if tab == accessAll {
		status = ""
	}
	page, err := h.Backend.Intake.AccessRequests(c.Request.Context(), status, d.Cursor, accessPageSize)
	if err != nil {
		if _, bad := problemWithStatus(err, http.StatusUnprocessableEntity); bad {
			h.errorPage(c, http.StatusBadRequest, pageError{Detail: "Cette page de la liste n'existe pas (ou plus).",
				Back: "/administration/acces", BackLabel: "Voir les demandes d'accès"})
			return
		}
		h.backendFailed(c, err)
		return
	}
	d.Requests, d.Tabs = page.Items, countedTabs(page.Counts)
	q := url.Values{"statut": {tab}}
	if d.Cursor != "" {
		d.FirstURL = "/administration/acces?" + q.Encode()
	}
	if page.NextCursor != "" {
		q.Set("curseur", page.NextCursor)
		d.NextURL = "/administration/acces?" + q.Encode()
	}
	h.render(c, http.StatusOK, "access_requests", view{Title: "Demandes d'accès – " + d.Tab.Label, Section: "administration", Data: d})
}

// countedTabs are the list's tabs, each label followed by how many requests it holds
// when the intake counts them.
func countedTabs(counts map[string]int64) []choice {
	if counts == nil {
		return accessTabs
	}
	out := make([]choice, len(accessTabs))
	var all int64
	for _, n := range counts {
		all += n
	}
	for i, t := range accessTabs {
		n := counts[t.Value]
		if t.Value == accessAll {
			n = all
		}
		out[i] = choice{t.Value, fmt.Sprintf("%s (%d)", t.Label, n)}
	}
	return out
}

type accessPageData struct {
	Request backend.AccessRequest
	// OrgName is the name of the organisation the request was approved for.
	OrgName string
	// What an admin may do now.
	CanApprove, CanAsk, CanReject bool
	// Orgs are the directory's active organisations; Match the one whose name is the
	// applicant's organisation's, preselected ("" when none is).
	Orgs  []choice
	Match string
	Roles []choice
	// NewOrgURL opens the organisation form filled in with what the applicant wrote.
	NewOrgURL string
	// Typed and Errors are the action forms' fields as sent, and the refusals next to them.
	Typed  map[string]string
	Errors fieldErrors
	// Alert explains a refusal that is not about a field (a 409); Unsent is the text of a
	// question or a reason the page no longer offers to send, shown so as not to be lost.
	Alert, Unsent string
}

// offers tells whether the page still has the form of that text field.
func (d accessPageData) offers(field string) bool {
	switch field {
	case "question":
		return d.CanAsk
	case "motif":
		return d.CanReject
	}
	return d.CanApprove
}

// loadAccessPage reads the request and the organisations, or renders the error page.
func (h *handlers) loadAccessPage(c *gin.Context) (accessPageData, bool) {
	ctx := c.Request.Context()
	d := accessPageData{Typed: map[string]string{}, Errors: fieldErrors{}, Roles: personRoleChoices}
	var (
		orgs []backend.Organisation
		p    fanout
	)
	p.do(func() (err error) { d.Request, err = h.Backend.Intake.AccessRequest(ctx, c.Param("id")); return err })
	p.do(func() (err error) { orgs, err = h.Backend.Intake.Organisations(ctx); return err })
	if err := p.wait(); serviceNotFound(err) {
		h.accessNotFound(c)
		return d, false
	} else if err != nil {
		h.backendFailed(c, err)
		return d, false
	}
	r := d.Request
	d.OrgName = orgNames(orgs)[cmp.Or(r.Org, decisionOrg(r))]
	d.CanApprove = r.Status == backend.AccessAwaitingReview || r.Status == backend.AccessAwaitingApplicant
	d.CanReject = d.CanApprove
	d.CanAsk = r.Status == backend.AccessAwaitingReview
	if d.CanApprove {
		d.Orgs, d.Match = approvalChoices(orgs, r.OrgName)
		d.Typed["org"], d.Typed["role"] = d.Match, string(auth.RolePartner)
		q := url.Values{"nom": {r.OrgName}, "type": {r.OrgKind}, "domaines": {strings.Join(r.Domains, " ")}}
		d.NewOrgURL = "/administration/organisations/nouvelle?" + q.Encode()
	}
	return d, true
}

func decisionOrg(r backend.AccessRequest) string {
	if r.Decision == nil {
		return ""
	}
	return r.Decision.Org
}

// approvalChoices are the active organisations by name, and the one whose name (or id)
// is the applicant's organisation's, accents, case and punctuation aside; failing that,
// the only one whose name contains it or is contained in it.
func approvalChoices(orgs []backend.Organisation, applicantOrg string) ([]choice, string) {
	var out []choice
	want := foldName(applicantOrg)
	match := ""
	var near []string
	for _, o := range orgs {
		if !o.Active {
			continue
		}
		out = append(out, choice{o.ID, orRaw(o.Name, o.ID)})
		name := foldName(orRaw(o.Name, o.ID))
		switch {
		case want == "":
		case name == want || foldName(o.ID) == want:
			match = cmp.Or(match, o.ID)
		case len(want) >= 4 && len(name) >= 4 && (strings.Contains(name, want) || strings.Contains(want, name)):
			near = append(near, o.ID)
		}
	}
	slices.SortFunc(out, func(a, b choice) int { return strings.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label)) })
	if match == "" && len(near) == 1 {
		match = near[0]
	}
	return out, match
}

// foldName is a name without accents, case, or anything but its letters and digits, one
// space between words.
func foldName(s string) string {
	return strings.Join(strings.FieldsFunc(accentFolder.Replace(strings.ToLower(s)), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}

// accentFolder takes the accents off the lower-case letters of French names.
var accentFolder = strings.NewReplacer("à", "a", "â", "a", "ä", "a", "ç", "c", "é", "e", "è", "e", "ê", "e", "ë", "e",
	"î", "i", "ï", "i", "ô", "o", "ö", "o", "ù", "u", "û", "u", "ü", "u", "ÿ", "y", "œ", "oe", "æ", "ae")

func (h *handlers) accessNotFound(c *gin.Context) {
	h.errorPage(c, http.StatusNotFound, pageError{Detail: "Aucune demande d'accès n'a cet identifiant.",
		Back: "/administration/acces", BackLabel: "Voir les demandes d'accès"})
}

func (h *handlers) renderAccessPage(c *gin.Context, status int, d accessPageData, alert string) {
	d.Alert = alert
	h.render(c, status, "access_request", view{Title: "Demande d'accès de " + orRaw(d.Request.Name, d.Request.ID), Section: "administration", Data: d})
}

func (h *handlers) accessRequestPage(c *gin.Context) {
	if d, ok := h.loadAccessPage(c); ok {
		h.renderAccessPage(c, http.StatusOK, d, "")
	}
}

// accessDecision is one of the request page's forms: its fields (form name → the intake's
// name), the intake's call, and the confirmation shown after it.
type accessDecision struct {
	fields  [][2]string
	message string
	call    func(b *backend.Intake, c *gin.Context, id string, v map[string]string) (backend.AccessRequest, error)
}

var (
	accessApprove = accessDecision{[][2]string{{"org", "org"}, {"role", "role"}}, "acces-approuve",
		func(b *backend.Intake, c *gin.Context, id string, v map[string]string) (backend.AccessRequest, error) {
			return b.ApproveAccessRequest(c.Request.Context(), id, v["org"], v["role"])
		}}
	accessAsk = accessDecision{[][2]string{{"question", "question"}}, "acces-question",
		func(b *backend.Intake, c *gin.Context, id string, v map[string]string) (backend.AccessRequest, error) {
			return b.AskAccessApplicant(c.Request.Context(), id, v["question"])
		}}
	accessReject = accessDecision{[][2]string{{"motif", "reason"}}, "acces-refuse",
		func(b *backend.Intake, c *gin.Context, id string, v map[string]string) (backend.AccessRequest, error) {
			return b.RejectAccessRequest(c.Request.Context(), id, v["motif"])
		}}
)

// accessDecisionHandler handles a decision's POST: back to the request with a
// confirmation, or its page again with the refusal next to the field (or, for a 409, its
// state now) and what was typed kept.
func (h *handlers) accessDecisionHandler(a accessDecision) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.Param("id")
		values := map[string]string{}
		for _, f := range a.fields {
			values[f[0]] = strings.TrimSpace(c.PostForm(f[0]))
		}
		_, err := a.call(h.Backend.Intake, c, id, values)
		if err == nil {
			c.Redirect(http.StatusSeeOther, accessAdminPath(id)+"?message="+a.message)
			return
		}
		e, ok := backend.AsError(err)
		var (
			status int
			errs   = fieldErrors{}
			alert  string
		)
		switch {
		case ok && e.Status == http.StatusNotFound:
			h.accessNotFound(c)
			return
		case ok && e.Status == http.StatusUnprocessableEntity:
			status = e.Status
			for _, fe := range e.Errors {
				field := a.fields[0][0]
				for _, f := range a.fields {
					if f[1] == fe.Field {
						field = f[0]
					}
				}
				errs.add(field, frenchMessage(fe))
			}
			errs.add(a.fields[0][0], "La plateforme a refusé cette décision : "+e.Detail)
		case ok && e.Status == http.StatusConflict:
			status = e.Status
		default:
			h.backendFailed(c, err)
			return
		}
		d, ok := h.loadAccessPage(c)
		if !ok {
			return
		}
		for k, v := range values {
			d.Typed[k] = v
			if status == http.StatusConflict && v != "" && !d.offers(k) && (k == "question" || k == "motif") {
				d.Unsent = v
			}
		}
		if status == http.StatusConflict {
			alert = "Cette demande a changé entre-temps : elle est maintenant « " + accessStatus(d.Request.Status) +
				" ». Rien n'a été enregistré ; la page montre son état actuel."
		}
		d.Errors = errs
		h.renderAccessPage(c, status, d, alert)
	}
}

// personRoleLabel says the role a person gets in French (as the directory's forms do).
func personRoleLabel(role string) string {
	for _, r := range personRoleChoices {
		if r.Value == role {
			return r.Label
		}
	}
	return role
}
