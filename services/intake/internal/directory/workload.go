package directory

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/request"
)

// Workload is the ROME team's workload (GET /v1/moderators/workload).
type Workload struct {
	// Unassigned requests wait to be taken; some of them longer than the reminders allow.
	Unassigned        int             `json:"unassigned"`
	UnassignedOverdue int             `json:"unassignedOverdue"`
	Moderators        []ModeratorLoad `json:"moderators"`
}

// ModeratorLoad is one moderator's load: their open requests and the overdue ones, with
// what decides who gets the next ones (domains, absence).
type ModeratorLoad struct {
	Sub         string     `json:"sub"`
	Name        string     `json:"name"`
	Role        string     `json:"role"`
	Domains     []string   `json:"domains"`
	AbsentUntil *time.Time `json:"absentUntil,omitempty"`
	Delegate    string     `json:"delegate,omitempty"`
	Open        int        `json:"open"`
	Overdue     int        `json:"overdue"`
}

// Workload joins the loads of the requests (by assignee) to the directory: every active
// moderator, with or without requests, and anyone else who holds some.
func (s *Service) Workload(ctx context.Context, loads []store.Load) (Workload, error) {
	out := Workload{Moderators: []ModeratorLoad{}}
	byAssignee := map[string]store.Load{}
	for _, l := range loads {
		if l.Assignee == "" {
			out.Unassigned, out.UnassignedOverdue = l.Open, l.Overdue
			continue
		}
		byAssignee[l.Assignee] = l
	}
	active := true
	for after := ""; ; {
		people, more, err := s.store.People(ctx, store.PeopleFilter{Roles: []string{string(auth.RoleModerator)}, Active: &active, After: after, Limit: 1000})
		if err != nil {
			return Workload{}, err
		}
		for _, p := range people {
			out.Moderators = append(out.Moderators, loadOf(p, byAssignee[p.Sub]))
			delete(byAssignee, p.Sub)
			after = p.Sub
		}
		if !more {
			break
		}
	}
	for sub, l := range byAssignee { // an admin, a moderator since deactivated…
		p, err := s.store.PersonBySub(ctx, sub)
		if err != nil && !errors.Is(err, store.ErrNoPerson) {
			return Workload{}, err
		}
		p.Sub = sub
		out.Moderators = append(out.Moderators, loadOf(p, l))
	}
	slices.SortFunc(out.Moderators, func(a, b ModeratorLoad) int { return strings.Compare(a.Sub, b.Sub) })
	return out, nil
}

func loadOf(p store.Person, l store.Load) ModeratorLoad {
	m := ModeratorLoad{Sub: p.Sub, Name: p.Name, Role: p.Role, Domains: append([]string{}, p.Domains...), Delegate: p.Delegate,
		Open: l.Open, Overdue: l.Overdue}
	if p.AbsentUntil != nil {
		until := p.AbsentUntil.UTC()
		m.AbsentUntil = &until
	}
	return m
}

// requestIDPattern is the shape of a request id the round-robin rule records (a UUID).
var requestIDPattern = regexp.MustCompile(`^[0-9a-f-]{1,64}$`)

// AssignInTurn picks the moderator whose turn it is to take request requestID, whose fiche
// is in domain (a code ROME, or the domaine professionnel of a fiche being created): among
// the active, present moderators whose domains cover it, the one assigned in turn least
// recently. Asked again for the same request, it answers the same moderator; "" when none
// covers the domain (the request then awaits triage).
func (s *Service) AssignInTurn(ctx context.Context, requestID, domain string) (string, error) {
	var errs []httpx.FieldError
	if !requestIDPattern.MatchString(requestID) {
		errs = append(errs, httpx.FieldError{Field: "requestId", Message: "must be a request id"})
	}
	if domain != "" && !domainPattern.MatchString(domain) && !request.DomaineProfessionnelPattern.MatchString(domain) {
		errs = append(errs, httpx.FieldError{Field: "domain", Message: "must be a code ROME (M1805) or a domaine professionnel (M18)"})
	}
	if err := invalid("invalid_assignment", errs); err != nil {
		return "", err
	}
	return s.store.AssignInTurn(ctx, requestID, domain, s.now())
}
