package backend

// The intake's directory of organisations and people (admins keep it; moderators read the
// people).

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/plateforme-rome/rome/platform/httpx"
)

// The kinds of organisation the directory knows.
const (
	OrgKindOPCO          = "opco"
	OrgKindBranche       = "branche_professionnelle"
	OrgKindInstitution   = "institution"
	OrgKindFranceTravail = "france_travail"
)

// Organisation is an organisation of the directory.
type Organisation struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"` // empty for one the dev issuer created
	Domains   []string  `json:"domains"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// NewOrganisation is the body of POST /v1/organisations.
type NewOrganisation struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Domains []string `json:"domains"`
}

// OrganisationChange is the body of PATCH /v1/organisations/{id}: what it names changes.
type OrganisationChange struct {
	Name    *string   `json:"name,omitempty"`
	Kind    *string   `json:"kind,omitempty"`
	Domains *[]string `json:"domains,omitempty"`
	Active  *bool     `json:"active,omitempty"`
}

// Person is a person of the directory.
type Person struct {
	Sub     string `json:"sub"`
	EntraID string `json:"entraId"`
	Name    string `json:"name"`
	Email   string `json:"email"`
	Role    string `json:"role"`
	Org     string `json:"org"`
	Active  bool   `json:"active"`
	// OrgActive is their organisation's state (true without one): both must hold for them
	// to sign in.
	OrgActive  bool       `json:"orgActive"`
	Source     string     `json:"source"` // admin, import, dev_token, access_request, entra_sync
	LastSeenAt *time.Time `json:"lastSeenAt"`
	CreatedAt  time.Time  `json:"createdAt"`
	UpdatedAt  time.Time  `json:"updatedAt"`
	// Domains are a moderator's domains of expertise (the assignment follows them).
	Domains []string `json:"domains"`
	// AbsentUntil: until then, their reminders go to Delegate.
	AbsentUntil *time.Time `json:"absentUntil"`
	Delegate    string     `json:"delegate"`
}

// NewPerson is the body of POST /v1/people.
type NewPerson struct {
	Sub     string   `json:"sub"`
	Name    string   `json:"name"`
	Email   string   `json:"email"`
	Role    string   `json:"role"`
	Org     string   `json:"org"`
	EntraID string   `json:"entraId"`
	Domains []string `json:"domains,omitempty"`
}

// PersonChange is the body of PATCH /v1/people/{sub}: what it names changes.
type PersonChange struct {
	Name    *string   `json:"name,omitempty"`
	Email   *string   `json:"email,omitempty"`
	Role    *string   `json:"role,omitempty"`
	Org     *string   `json:"org,omitempty"`
	EntraID *string   `json:"entraId,omitempty"`
	Active  *bool     `json:"active,omitempty"`
	Domains *[]string `json:"domains,omitempty"`
	// AbsentUntil is a date (2026-12-24, the whole day) or ""; Delegate a sub or "".
	AbsentUntil *string `json:"absentUntil,omitempty"`
	Delegate    *string `json:"delegate,omitempty"`
}

// PeopleFilter selects a page of GET /v1/people; empty fields select everyone.
type PeopleFilter struct {
	Role, Org string
	Active    *bool
	Limit     int
	Cursor    string
}

func (f PeopleFilter) query() string {
	q := url.Values{}
	for k, v := range map[string]string{"role": f.Role, "org": f.Org, "cursor": f.Cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Active != nil {
		q.Set("active", strconv.FormatBool(*f.Active))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q.Encode()
}

// PeoplePage is a page of people, by subject.
type PeoplePage struct {
	Items      []Person `json:"items"`
	NextCursor string   `json:"nextCursor"`
}

// Import outcomes of a line.
const (
	ImportCreated   = "created"
	ImportUnchanged = "unchanged"
	ImportRefused   = "refused"
)

// ImportLine is what became, or would become, of one line of a CSV import.
type ImportLine struct {
	Line    int                `json:"line"`
	Sub     string             `json:"sub"`
	Outcome string             `json:"outcome"`
	Errors  []httpx.FieldError `json:"errors"`
}

// ImportReport is the answer of an import, or of its dry run.
type ImportReport struct {
	DryRun    bool         `json:"dryRun"`
	Created   int          `json:"created"`
	Unchanged int          `json:"unchanged"`
	Lines     []ImportLine `json:"lines"`
}

// Organisations lists the directory's organisations, by id.
func (c *Intake) Organisations(ctx context.Context) ([]Organisation, error) {
	var out struct {
		Items []Organisation `json:"items"`
	}
	err := c.api.Do(ctx, http.MethodGet, "/v1/organisations", nil, &out)
	return out.Items, err
}

// CreateOrganisation adds an organisation (admin); the same one again is no error.
func (c *Intake) CreateOrganisation(ctx context.Context, o NewOrganisation) (Organisation, error) {
	var out Organisation
	err := c.api.Do(ctx, http.MethodPost, "/v1/organisations", o, &out)
	return out, err
}

// UpdateOrganisation changes an organisation (admin).
func (c *Intake) UpdateOrganisation(ctx context.Context, id string, ch OrganisationChange) (Organisation, error) {
	var out Organisation
	err := c.api.Do(ctx, http.MethodPatch, "/v1/organisations/"+url.PathEscape(id), ch, &out)
	return out, err
}

// People lists a page of the directory's people (moderator, admin).
func (c *Intake) People(ctx context.Context, f PeopleFilter) (PeoplePage, error) {
	var p PeoplePage
	err := c.api.Do(ctx, http.MethodGet, "/v1/people?"+f.query(), nil, &p)
	return p, err
}

// Person reads one person of the directory.
func (c *Intake) Person(ctx context.Context, sub string) (Person, error) {
	var p Person
	err := c.api.Do(ctx, http.MethodGet, "/v1/people/"+url.PathEscape(sub), nil, &p)
	return p, err
}

// CreatePerson adds a person (admin); the same one again is no error.
func (c *Intake) CreatePerson(ctx context.Context, p NewPerson) (Person, error) {
	var out Person
	err := c.api.Do(ctx, http.MethodPost, "/v1/people", p, &out)
	return out, err
}

// UpdatePerson changes a person (admin).
func (c *Intake) UpdatePerson(ctx context.Context, sub string, ch PersonChange) (Person, error) {
	var out Person
	err := c.api.Do(ctx, http.MethodPatch, "/v1/people/"+url.PathEscape(sub), ch, &out)
	return out, err
}

// ImportPeople sends a CSV file of people (admin), all or none; a dry run writes nothing.
// A refused file is an *Error (422 invalid_import); the report then holds every line's
// outcome when the intake read the lines (not for a file it could not read at all).
func (c *Intake) ImportPeople(ctx context.Context, csv []byte, dryRun bool) (ImportReport, error) {
	var out ImportReport
	path := "/v1/people:import?dryRun=" + strconv.FormatBool(dryRun)
	err := c.api.DoRaw(ctx, http.MethodPost, path, "text/csv", csv, &out)
	if e, ok := AsError(err); ok && e.Status == http.StatusUnprocessableEntity {
		out = ImportReport{DryRun: dryRun}
		_ = e.Extension(&out) // the problem's "lines" member, when it has one
	}
	return out, err
}
