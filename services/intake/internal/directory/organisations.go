package directory

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
)

// Organisation is an organisation as the API shows it.
type Organisation struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Domains []string `json:"domains"`
	Active  bool     `json:"active"`
	// CreatedAt and UpdatedAt are when it entered the directory and last changed.
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func organisationOf(o store.Organisation) Organisation {
	return Organisation{ID: o.ID, Name: o.Name, Kind: o.Kind, Domains: append([]string{}, o.Domains...), Active: o.Active,
		CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC()}
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
	Name    *string   `json:"name"`
	Kind    *string   `json:"kind"`
	Domains *[]string `json:"domains"`
	Active  *bool     `json:"active"`
}

// CreateOrganisation adds an organisation (active). The same organisation again answers the
// existing one (created false), so that a retry is harmless; another one with its id is a
// conflict.
func (s *Service) CreateOrganisation(ctx context.Context, in NewOrganisation) (Organisation, bool, error) {
	var errs []httpx.FieldError
	if !orgIDPattern.MatchString(in.ID) {
		errs = append(errs, httpx.FieldError{Field: "id", Message: "must be 2 to 63 lower-case letters, digits or hyphens, such as opco-2i"})
	}
	cleanName("name", &in.Name, &errs)
	checkKind(in.Kind, &errs)
	domains, derrs := CleanDomains(in.Domains)
	if err := invalid("invalid_organisation", append(errs, derrs...)); err != nil {
		return Organisation{}, false, err
	}
	now := s.now()
	o := store.Organisation{ID: in.ID, Name: in.Name, Kind: in.Kind, Domains: domains, Active: true, CreatedAt: now, UpdatedAt: now}
	err := s.store.InsertOrganisation(ctx, o)
	if errors.Is(err, store.ErrExists) {
		existing, err := s.store.Organisation(ctx, in.ID)
		if err != nil {
			return Organisation{}, false, err
		}
		if existing.Name != o.Name || existing.Kind != o.Kind || !slices.Equal(existing.Domains, o.Domains) {
			return Organisation{}, false, httpx.NewProblem(http.StatusConflict, "organisation_exists",
				"Another organisation has this id; change it with PATCH /v1/organisations/{id}.",
				httpx.FieldError{Field: "id", Message: "is taken"})
		}
		return organisationOf(existing), false, nil
	}
	if err != nil {
		return Organisation{}, false, err
	}
	return organisationOf(o), true, nil
}

// UpdateOrganisation changes what in names of organisation id. Deactivating an
// organisation refuses its partners' tokens until it is active again.
func (s *Service) UpdateOrganisation(ctx context.Context, id string, in OrganisationChange) (Organisation, error) {
	o, err := s.organisation(ctx, id)
	if err != nil {
		return Organisation{}, problemOf(err)
	}
	var errs []httpx.FieldError
	if in.Name != nil {
		cleanName("name", in.Name, &errs)
		o.Name = *in.Name
	}
	if in.Kind != nil {
		checkKind(*in.Kind, &errs)
		o.Kind = *in.Kind
	}
	if in.Domains != nil {
		var derrs []httpx.FieldError
		o.Domains, derrs = CleanDomains(*in.Domains)
		errs = append(errs, derrs...)
	}
	if in.Active != nil {
		o.Active = *in.Active
	}
	if err := invalid("invalid_organisation", errs); err != nil {
		return Organisation{}, err
	}
	o.UpdatedAt = s.now()
	if err := s.store.UpdateOrganisation(ctx, o); err != nil {
		return Organisation{}, problemOf(err)
	}
	return organisationOf(o), nil
}

// Organisations lists every organisation, by id.
func (s *Service) Organisations(ctx context.Context) ([]Organisation, error) {
	rows, err := s.store.Organisations(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Organisation, len(rows))
	for i, o := range rows {
		out[i] = organisationOf(o)
	}
	return out, nil
}

func checkKind(kind string, errs *[]httpx.FieldError) {
	if !oneOf(kind, Kinds) {
		*errs = append(*errs, httpx.FieldError{Field: "kind", Message: "must be one of " + strings.Join(Kinds, ", ")})
	}
}

// CleanDomains checks domains (grands domaines such as "M", codes ROME such as "M1805")
// and returns them sorted, without repeats.
func CleanDomains(domains []string) ([]string, []httpx.FieldError) {
	if len(domains) > maxDomains {
		return nil, []httpx.FieldError{{Field: "domains", Message: fmt.Sprintf("must hold at most %d domains", maxDomains)}}
	}
	var errs []httpx.FieldError
	for i, d := range domains {
		if !domainPattern.MatchString(d) {
			errs = append(errs, httpx.FieldError{Field: fmt.Sprintf("domains[%d]", i),
				Message: "must be a grand domaine (a letter A to N) or a code ROME such as M1805"})
		}
	}
	out := slices.Clone(domains)
	slices.Sort(out)
	return slices.Compact(out), errs
}

// IsOrgID tells whether id could name an organisation of the directory.
func IsOrgID(id string) bool { return orgIDPattern.MatchString(id) }

// organisation is the organisation id names; an id no organisation could have is
// ErrNoOrganisation without asking the database (which refuses some bytes outright).
func (s *Service) organisation(ctx context.Context, id string) (store.Organisation, error) {
	if !IsOrgID(id) {
		return store.Organisation{}, store.ErrNoOrganisation
	}
	return s.store.Organisation(ctx, id)
}
