package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/intake/internal/directory"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/groupsync"
)

// The directory's routes: organisations and people (package directory).

// People's listing pages: at most maxPeoplePage people, and a filter on at most
// maxPeopleFilter values (the notifications service asks for a notification's followers by
// subject).
const (
	defaultPeoplePage = 100
	maxPeoplePage     = 1000
	maxPeopleFilter   = 1000
)

func (h *handlers) createPerson(c *gin.Context) {
	var body directory.NewPerson
	if err := httpx.BindJSON(c, &body); err != nil {
		_ = c.Error(err)
		return
	}
	p, created, err := h.directory.CreatePerson(c.Request.Context(), body)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Location", "/v1/people/"+p.Sub)
	c.JSON(createdStatus(created), p)
}

func (h *handlers) updatePerson(c *gin.Context) {
	var body directory.PersonChange
	if err := httpx.BindJSON(c, &body); err != nil {
		_ = c.Error(err)
		return
	}
	p, err := h.directory.UpdatePerson(c.Request.Context(), principal(c), c.Param("sub"), body)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, p)
}

// getPerson answers GET /v1/people/{sub}: to the ROME team and the services, and to the
// person themself.
func (h *handlers) getPerson(c *gin.Context) {
	me := principal(c)
	if me.Role == auth.RolePartner && me.Subject != c.Param("sub") {
		_ = c.Error(httpx.Forbidden("forbidden_role", "A partner may read only their own entry of the directory."))
		return
	}
	// Another service checking a first sign-in gives the token's Entra object id: an
	// approved applicant recorded before it is bound to the token's subject.
	if entraID := c.Query("entraId"); entraID != "" && me.Role == auth.RoleService {
		if err := h.directory.BindInvited(c.Request.Context(), c.Param("sub"), entraID); err != nil && !errors.Is(err, store.ErrNoPerson) {
			_ = c.Error(err)
			return
		}
	}
	p, err := h.directory.PersonBySub(c.Request.Context(), c.Param("sub"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, p)
}

// listPeople answers GET /v1/people?role=&org=&sub=&active=&limit=&cursor= (role, org and
// sub repeat).
func (h *handlers) listPeople(c *gin.Context) {
	q := directory.PeopleQuery{Roles: c.QueryArray("role"), Orgs: c.QueryArray("org"), Subs: c.QueryArray("sub"),
		Limit: defaultPeoplePage, Cursor: c.Query("cursor")}
	var errs []httpx.FieldError
	for name, values := range map[string][]string{"role": q.Roles, "org": q.Orgs, "sub": q.Subs} {
		if len(values) > maxPeopleFilter {
			errs = append(errs, httpx.FieldError{Field: name, Message: "must be given at most " + strconv.Itoa(maxPeopleFilter) + " times"})
		}
	}
	if s, ok := c.GetQuery("active"); ok {
		active, err := strconv.ParseBool(s)
		if err != nil || (s != "true" && s != "false") {
			errs = append(errs, httpx.FieldError{Field: "active", Message: "must be true or false"})
		}
		q.Active = &active
	}
	if s, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPeoplePage {
			errs = append(errs, httpx.FieldError{Field: "limit", Message: "must be an integer from 1 to " + strconv.Itoa(maxPeoplePage)})
		}
		q.Limit = n
	}
	if len(errs) > 0 {
		_ = c.Error(httpx.Unprocessable("invalid_query", "The query parameters are invalid.", errs...))
		return
	}
	page, err := h.directory.People(c.Request.Context(), q)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, page)
}

// importPeople answers POST /v1/people:import?dryRun=true|false with a CSV file.
func (h *handlers) importPeople(c *gin.Context) {
	dryRun := false
	if s, ok := c.GetQuery("dryRun"); ok {
		if s != "true" && s != "false" {
			_ = c.Error(httpx.Unprocessable("invalid_query", "The query parameters are invalid.",
				httpx.FieldError{Field: "dryRun", Message: "must be true or false"}))
			return
		}
		dryRun = s == "true"
	}
	if ct, _, _ := strings.Cut(c.ContentType(), ";"); ct != "text/csv" {
		_ = c.Error(httpx.NewProblem(http.StatusUnsupportedMediaType, "unsupported_media_type", "Send the people as text/csv."))
		return
	}
	body, err := httpx.ReadBody(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	report, err := h.directory.ImportPeople(c.Request.Context(), body, dryRun)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, report)
}

func (h *handlers) createOrganisation(c *gin.Context) {
	var body directory.NewOrganisation
	if err := httpx.BindJSON(c, &body); err != nil {
		_ = c.Error(err)
		return
	}
	o, created, err := h.directory.CreateOrganisation(c.Request.Context(), body)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Location", "/v1/organisations/"+o.ID)
	c.JSON(createdStatus(created), o)
}

func (h *handlers) updateOrganisation(c *gin.Context) {
	var body directory.OrganisationChange
	if err := httpx.BindJSON(c, &body); err != nil {
		_ = c.Error(err)
		return
	}
	o, err := h.directory.UpdateOrganisation(c.Request.Context(), c.Param("id"), body)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, o)
}

func (h *handlers) listOrganisations(c *gin.Context) {
	items, err := h.directory.Organisations(c.Request.Context())
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

// createdStatus is 201 for what a POST created, 200 for what it found already there.
func createdStatus(created bool) int {
	if created {
		return http.StatusCreated
	}
	return http.StatusOK
}

// workload answers GET /v1/moderators/workload.
func (h *handlers) workload(c *gin.Context) {
	loads, err := h.app.Loads(c.Request.Context())
	if err != nil {
		_ = c.Error(err)
		return
	}
	w, err := h.directory.Workload(c.Request.Context(), loads)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, w)
}

// syncGroup answers POST /internal/v1/group-members: one read of a synchronised Entra
// group, applied to the directory; the answer counts what changed.
func (h *handlers) syncGroup(c *gin.Context) {
	var body groupsync.Read
	if err := decodeLenient(c, &body); err != nil {
		_ = c.Error(err)
		return
	}
	report, err := h.directory.SyncGroup(c.Request.Context(), body)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, report)
}

// assignInTurn answers POST /internal/v1/assignments: the moderator whose turn it is to
// take a checked request (the round-robin rule), "" when none covers its domain.
func (h *handlers) assignInTurn(c *gin.Context) {
	var body struct {
		RequestID string `json:"requestId"`
		Domain    string `json:"domain"`
	}
	if err := decodeLenient(c, &body); err != nil {
		_ = c.Error(err)
		return
	}
	moderator, err := h.directory.AssignInTurn(c.Request.Context(), body.RequestID, body.Domain)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"moderator": moderator})
}
