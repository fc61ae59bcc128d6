package directory

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/groupsync"
)

// Person is a person as the API shows them.
type Person struct {
	Sub     string `json:"sub"`
	EntraID string `json:"entraId,omitempty"`
	Name    string `json:"name"`
	Email   string `json:"email,omitempty"`
	Role    string `json:"role"`
	Org     string `json:"org,omitempty"`
	// Active is the person's own state; OrgActive their organisation's (true without one).
	// Both must hold for their tokens to be accepted.
	Active     bool       `json:"active"`
	OrgActive  bool       `json:"orgActive"`
	Source     string     `json:"source"`
	LastSeenAt *time.Time `json:"lastSeenAt,omitempty"`
	// Domains are a moderator's domains of expertise: the round-robin assignment gives
	// them the requests on the fiches these cover.
	Domains []string `json:"domains"`
	// Until AbsentUntil, the reminders meant for them go to Delegate.
	AbsentUntil *time.Time `json:"absentUntil,omitempty"`
	Delegate    string     `json:"delegate,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
}

// NewPerson is the body of POST /v1/people.
type NewPerson struct {
	Sub     string   `json:"sub"`
	Name    string   `json:"name"`
	Email   string   `json:"email"`
	Role    string   `json:"role"`
	Org     string   `json:"org"`
	EntraID string   `json:"entraId"`
	Domains []string `json:"domains"`
}

// PersonChange is the body of PATCH /v1/people/{sub}: what it names changes.
type PersonChange struct {
	Name    *string   `json:"name"`
	Email   *string   `json:"email"`
	Role    *string   `json:"role"`
	Org     *string   `json:"org"`
	EntraID *string   `json:"entraId"`
	Active  *bool     `json:"active"`
	Domains *[]string `json:"domains"`
	// AbsentUntil is a date (2026-12-24) or a time (RFC 3339); "" ends the absence.
	AbsentUntil *string `json:"absentUntil"`
	// Delegate is an active moderator or admin; "" names none.
	Delegate *string `json:"delegate"`
}

// peopleRoles are the roles a person may hold (services are not people).
var peopleRoles = []string{string(auth.RolePartner), string(auth.RoleModerator), string(auth.RoleAdmin)}

// CreatePerson adds a person (active), known from then on whether or not they ever signed
// in. The same person again answers the existing one (created false); another one with
// their subject is a conflict.
func (s *Service) CreatePerson(ctx context.Context, in NewPerson) (Person, bool, error) {
	p, org, errs := s.newPerson(ctx, in, SourceAdmin)
	if err := invalid("invalid_person", errs); err != nil {
		return Person{}, false, err
	}
	err := s.store.InsertPerson(ctx, p)
	if errors.Is(err, store.ErrExists) {
		existing, err := s.store.PersonBySub(ctx, p.Sub)
		if err != nil {
			return Person{}, false, err
		}
		if !sameAsGiven(existing, p) {
			return Person{}, false, httpx.NewProblem(http.StatusConflict, "person_exists",
				"Another person has this subject; change them with PATCH /v1/people/{sub}.",
				httpx.FieldError{Field: "sub", Message: "is taken"})
		}
		return personOf(existing, org), false, nil
	}
	if err != nil {
		return Person{}, false, problemOf(err)
	}
	return personOf(p, org), true, nil
}

// newPerson is the person in describes, active, entered from source, cleaned; their
// organisation; and what is wrong with them.
func (s *Service) newPerson(ctx context.Context, in NewPerson, source string) (store.Person, store.Organisation, []httpx.FieldError) {
	var errs []httpx.FieldError
	if !subPattern.MatchString(in.Sub) {
		errs = append(errs, httpx.FieldError{Field: "sub", Message: "must be 1 to 255 printable ASCII characters, without space or slash (the token's sub claim)"})
	}
	now := s.now()
	p := store.Person{Sub: in.Sub, EntraID: in.EntraID, Name: in.Name, Email: in.Email, Role: in.Role, Org: in.Org,
		Domains: in.Domains, Active: true, Source: source, CreatedAt: now, UpdatedAt: now}
	org, errs := s.check(ctx, &p, errs)
	return p, org, errs
}

// UpdatePerson changes what in names of person sub. An admin may not deactivate themselves
// nor take their own admin role away: someone must remain who can undo it.
func (s *Service) UpdatePerson(ctx context.Context, actor auth.Principal, sub string, in PersonChange) (Person, error) {
	if !subPattern.MatchString(sub) {
		return Person{}, problemOf(store.ErrNoPerson)
	}
	p, err := s.store.PersonBySub(ctx, sub)
	if err != nil {
		return Person{}, problemOf(err)
	}
	for _, change := range []struct{ to, from *string }{
		{&p.Name, in.Name}, {&p.Email, in.Email}, {&p.Role, in.Role}, {&p.Org, in.Org}, {&p.EntraID, in.EntraID},
	} {
		if change.from != nil {
			*change.to = *change.from
		}
	}
	if in.Active != nil {
		p.Active = *in.Active
	}
	if in.Domains != nil {
		p.Domains = *in.Domains
	}
	var errs []httpx.FieldError
	if in.AbsentUntil != nil {
		p.AbsentUntil, errs = parseAbsence(*in.AbsentUntil, errs)
	}
	if in.Delegate != nil {
		if p.Delegate = *in.Delegate; p.Delegate != "" {
			errs = s.checkDelegate(ctx, &p, errs)
		}
	}
	if sub == actor.Subject && (!p.Active || p.Role != string(auth.RoleAdmin)) {
		return Person{}, httpx.Conflict("own_admin_access", "An admin cannot deactivate themselves or give up their own admin role.")
	}
	org, errs := s.check(ctx, &p, errs)
	if err := invalid("invalid_person", errs); err != nil {
		return Person{}, err
	}
	p.UpdatedAt = s.now()
	if err := s.store.UpdatePerson(ctx, p); err != nil {
		return Person{}, problemOf(err)
	}
	return personOf(p, org), nil
}

// check cleans and checks p's fields but its subject, appending to errs, and returns their
// organisation (the zero value without one). A partner belongs to an organisation; the other
// roles may.
func (s *Service) check(ctx context.Context, p *store.Person, errs []httpx.FieldError) (store.Organisation, []httpx.FieldError) {
	cleanName("name", &p.Name, &errs)
	p.Email = strings.TrimSpace(p.Email)
	if p.Email != "" && !auth.IsAddress(p.Email) {
		errs = append(errs, httpx.FieldError{Field: "email", Message: "must be an e-mail address such as name@example.org"})
	}
	if !oneOf(p.Role, peopleRoles) {
		errs = append(errs, httpx.FieldError{Field: "role", Message: "must be one of " + strings.Join(peopleRoles, ", ")})
	}
	var derrs []httpx.FieldError
	p.Domains, derrs = CleanDomains(p.Domains)
	errs = append(errs, derrs...)
	if p.EntraID != "" && !entraPattern.MatchString(p.EntraID) {
		errs = append(errs, httpx.FieldError{Field: "entraId", Message: "must be an Entra object id (letters, digits and hyphens, at most 64)"})
	}
	if p.Org == "" {
		if p.Role == string(auth.RolePartner) {
			errs = append(errs, httpx.FieldError{Field: "org", Message: "is required for the partner role"})
		}
		return store.Organisation{}, errs
	}
	org, err := s.organisation(ctx, p.Org)
	if errors.Is(err, store.ErrNoOrganisation) {
		errs = append(errs, httpx.FieldError{Field: "org", Message: "names no organisation of the directory (create it with POST /v1/organisations)"})
	} else if err != nil {
		errs = append(errs, httpx.FieldError{Field: "org", Message: "cannot be checked right now"})
	}
	return org, errs
}

// checkDelegate appends to errs what is wrong with p's delegate: they must be another
// active moderator or admin.
func (s *Service) checkDelegate(ctx context.Context, p *store.Person, errs []httpx.FieldError) []httpx.FieldError {
	refuse := func(message string) []httpx.FieldError {
		return append(errs, httpx.FieldError{Field: "delegate", Message: message})
	}
	if p.Delegate == p.Sub {
		return refuse("must be someone else")
	}
	if !subPattern.MatchString(p.Delegate) {
		return refuse("names no person of the directory")
	}
	d, err := s.store.PersonBySub(ctx, p.Delegate)
	switch {
	case errors.Is(err, store.ErrNoPerson):
		return refuse("names no person of the directory")
	case err != nil:
		return refuse("cannot be checked right now")
	case !d.Active || (d.Role != string(auth.RoleModerator) && d.Role != string(auth.RoleAdmin)):
		return refuse("must be an active moderator or admin")
	}
	return errs
}

// parseAbsence reads an absence's end: a date (the absence lasts that whole day, in UTC), a
// time, or "" for none.
func parseAbsence(s string, errs []httpx.FieldError) (*time.Time, []httpx.FieldError) {
	if s == "" {
		return nil, errs
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		end := t.AddDate(0, 0, 1)
		return &end, errs
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		t = t.UTC()
		return &t, errs
	}
	return nil, append(errs, httpx.FieldError{Field: "absentUntil", Message: "must be a date such as 2026-12-24, a time such as 2026-12-24T18:00:00Z, or empty"})
}

// personOf is p as the API shows them, in organisation org.
func personOf(p store.Person, org store.Organisation) Person {
	out := Person{Sub: p.Sub, EntraID: p.EntraID, Name: p.Name, Email: p.Email, Role: p.Role, Org: p.Org,
		Active: p.Active, OrgActive: p.Org == "" || org.Active, Source: p.Source,
		Domains: append([]string{}, p.Domains...), Delegate: p.Delegate,
		CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC()}
	if p.AbsentUntil != nil {
		until := p.AbsentUntil.UTC()
		out.AbsentUntil = &until
	}
	if p.LastSeenAt != nil {
		seen := p.LastSeenAt.UTC()
		out.LastSeenAt = &seen
	}
	return out
}

// PersonBySub is one person as the API shows them.
func (s *Service) PersonBySub(ctx context.Context, sub string) (Person, error) {
	if !subPattern.MatchString(sub) {
		return Person{}, problemOf(store.ErrNoPerson)
	}
	p, err := s.store.PersonBySub(ctx, sub)
	if err != nil {
		return Person{}, problemOf(err)
	}
	org, err := s.organisationOf(ctx, p)
	return personOf(p, org), err
}

// organisationOf is p's organisation, the zero value when they have none.
func (s *Service) organisationOf(ctx context.Context, p store.Person) (store.Organisation, error) {
	if p.Org == "" {
		return store.Organisation{}, nil
	}
	org, err := s.store.Organisation(ctx, p.Org)
	if errors.Is(err, store.ErrNoOrganisation) {
		return store.Organisation{}, nil // written before its organisation existed: none to be active
	}
	return org, err
}

// PeopleQuery selects a page of people (GET /v1/people).
type PeopleQuery struct {
	Roles, Orgs, Subs []string
	Active            *bool
	Limit             int
	Cursor            string
}

// PeoplePage is a page of people.
type PeoplePage struct {
	Items      []Person `json:"items"`
	NextCursor string   `json:"nextCursor,omitempty"`
}

// errBadCursor: the cursor was not issued by People.
var errBadCursor = httpx.Unprocessable("invalid_query", "The cursor is invalid.",
	httpx.FieldError{Field: "cursor", Message: "must be a nextCursor returned by this listing"})

// People is the page of people q selects, by subject.
func (s *Service) People(ctx context.Context, q PeopleQuery) (PeoplePage, error) {
	after, err := base64.RawURLEncoding.DecodeString(q.Cursor)
	if err != nil || (q.Cursor != "" && len(after) == 0) {
		return PeoplePage{}, errBadCursor
	}
	var errs []httpx.FieldError
	for _, f := range []struct {
		name   string
		values []string
		valid  func(string) bool
	}{
		{"role", q.Roles, func(r string) bool { return oneOf(r, peopleRoles) }},
		{"org", q.Orgs, orgIDPattern.MatchString},
		{"sub", q.Subs, subPattern.MatchString},
	} {
		if i := slices.IndexFunc(f.values, func(v string) bool { return !f.valid(v) }); i >= 0 {
			errs = append(errs, httpx.FieldError{Field: f.name, Message: fmt.Sprintf("%q is not a valid %s", f.values[i], f.name)})
		}
	}
	if len(errs) > 0 {
		return PeoplePage{}, httpx.Unprocessable("invalid_query", "The query parameters are invalid.", errs...)
	}
	rows, more, err := s.store.People(ctx, store.PeopleFilter{Roles: q.Roles, Orgs: q.Orgs, Subs: q.Subs, Active: q.Active,
		After: string(after), Limit: q.Limit})
	if err != nil {
		return PeoplePage{}, err
	}
	orgs, err := s.store.Organisations(ctx)
	if err != nil {
		return PeoplePage{}, err
	}
	byID := make(map[string]store.Organisation, len(orgs))
	for _, o := range orgs {
		byID[o.ID] = o
	}
	page := PeoplePage{Items: make([]Person, len(rows))}
	for i, p := range rows {
		org, ok := byID[p.Org]
		if !ok {
			org.Active = true // no organisation of that id: none to be inactive
		}
		page.Items[i] = personOf(p, org)
	}
	if more {
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(rows[len(rows)-1].Sub))
	}
	return page, nil
}

// Person is the directory as every service's token check asks it (auth.Directory): the
// person may sign in when both they and their organisation are active. It records when
// they were last seen, at most every seenInterval.
func (s *Service) Person(ctx context.Context, sub, entraID string) (auth.Person, error) {
	if !subPattern.MatchString(sub) {
		return auth.Person{}, auth.ErrUnknownPerson // nobody can be recorded under it
	}
	p, orgActive, err := s.store.PersonSigningIn(ctx, sub)
	if errors.Is(err, store.ErrNoPerson) && entraID != "" {
		if err = s.BindInvited(ctx, sub, entraID); err == nil {
			p, orgActive, err = s.store.PersonSigningIn(ctx, sub)
		}
	}
	if errors.Is(err, store.ErrNoPerson) {
		return auth.Person{}, auth.ErrUnknownPerson
	}
	if err != nil {
		return auth.Person{}, err
	}
	if err := s.touch(ctx, sub); err != nil {
		return auth.Person{}, fmt.Errorf("last seen of %s: %w", sub, err)
	}
	return auth.Person{Sub: p.Sub, EntraID: p.EntraID, Name: p.Name, Email: p.Email, Role: auth.Role(p.Role), Org: p.Org,
		Active: p.Active && orgActive}, nil
}

func (s *Service) touch(ctx context.Context, sub string) error {
	now := s.now()
	s.mu.Lock()
	last, ok := s.seen[sub]
	s.mu.Unlock()
	if ok && now.Sub(last) < seenInterval {
		return nil
	}
	if err := s.store.TouchPerson(ctx, sub, now); err != nil {
		return err
	}
	s.mu.Lock()
	s.seen[sub] = now
	s.mu.Unlock()
	return nil
}

// RecordDevPerson records the person the dev issuer mints a token for, with the role and
// organisation the token says (with their organisation, created when missing), so that the dev sign-in,
// the README's scripts and the tests work as before the directory. A person an admin
// deactivated stays refused. Services are not people: not recorded.
func (s *Service) RecordDevPerson(ctx context.Context, tok auth.Principal) error {
	if tok.Role == auth.RoleService {
		return nil
	}
	var errs []httpx.FieldError
	if !subPattern.MatchString(tok.Subject) {
		errs = append(errs, httpx.FieldError{Field: "sub", Message: "must be printable ASCII without space or slash to be recorded in the directory"})
	}
	if tok.Org != "" && !orgIDPattern.MatchString(tok.Org) {
		errs = append(errs, httpx.FieldError{Field: "org", Message: "must be 2 to 63 lower-case letters, digits or hyphens, such as opco-2i, to be recorded in the directory"})
	}
	if len(errs) > 0 {
		return httpx.Unprocessable("invalid_principal", "The token request is invalid.", errs...)
	}
	now := s.now()
	if tok.Org != "" {
		err := s.store.InsertOrganisation(ctx, store.Organisation{ID: tok.Org, Name: tok.Org, Domains: []string{}, Active: true,
			CreatedAt: now, UpdatedAt: now})
		if err != nil && !errors.Is(err, store.ErrExists) {
			return err
		}
	}
	p := store.Person{Sub: tok.Subject, EntraID: tok.EntraID, Name: tok.Name, Email: tok.Email, Role: string(tok.Role),
		Org: tok.Org, Active: true, Source: SourceDevToken, CreatedAt: now, UpdatedAt: now}
	if p.Name == "" {
		p.Name = p.Sub
	}
	// An approved applicant signing in for the first time takes their entry (in dev mode, the
	// e-mail address asserts who they are, as the token does).
	if err := s.bindByEmail(ctx, p.Sub, p.Email); err != nil {
		return err
	}
	err := s.store.InsertPerson(ctx, p)
	if !errors.Is(err, store.ErrExists) {
		return problemOf(err)
	}
	existing, err := s.store.PersonBySub(ctx, tok.Subject)
	if err != nil {
		return err
	}
	if !existing.Active {
		return httpx.Forbidden("person_deactivated", "This account has been deactivated by an administrator.")
	}
	// What the token leaves out (a name, an address, an Entra id) stays as it was.
	p.Name = cmp.Or(tok.Name, existing.Name)
	p.Email, p.EntraID = cmp.Or(p.Email, existing.Email), cmp.Or(p.EntraID, existing.EntraID)
	p.CreatedAt, p.Source = existing.CreatedAt, existing.Source
	p.Domains, p.AbsentUntil, p.Delegate = existing.Domains, existing.AbsentUntil, existing.Delegate
	return problemOf(s.store.UpdatePerson(ctx, p))
}

// BindInvited gives the person approved through an access request, invited with Entra
// object id entraID and not signed in yet, the subject of their first token, when nobody
// holds it yet (store.ErrNoPerson when there is no such person).
func (s *Service) BindInvited(ctx context.Context, sub, entraID string) error {
	if !entraPattern.MatchString(entraID) || !subPattern.MatchString(sub) {
		return store.ErrNoPerson
	}
	if _, err := s.store.PersonBySub(ctx, sub); !errors.Is(err, store.ErrNoPerson) {
		return err // sub is taken: nothing to bind
	}
	invited, err := s.store.InvitedPerson(ctx, entraID)
	if err != nil {
		return err
	}
	return s.store.BindSub(ctx, invited.Sub, sub, s.now())
}

// AddApplicant records the applicant of an approved access request under their provisional
// subject: active, with the role and organisation of the approval. Again, it answers the
// person recorded the first time.
func (s *Service) AddApplicant(ctx context.Context, in NewPerson) (Person, error) {
	p, org, errs := s.newPerson(ctx, in, SourceAccessRequest)
	if err := invalid("invalid_person", errs); err != nil {
		return Person{}, err
	}
	err := s.store.InsertPerson(ctx, p)
	if errors.Is(err, store.ErrExists) {
		existing, err := s.store.PersonBySub(ctx, p.Sub)
		return personOf(existing, org), err
	}
	return personOf(p, org), problemOf(err)
}

// bindByEmail gives sub, when nobody holds it yet, to the applicant approved with this
// e-mail address who has not signed in yet, if there is one.
func (s *Service) bindByEmail(ctx context.Context, sub, email string) error {
	if email == "" {
		return nil
	}
	if _, err := s.store.PersonBySub(ctx, sub); !errors.Is(err, store.ErrNoPerson) {
		return err
	}
	invited, err := s.store.PersonByEmail(ctx, strings.ToLower(email))
	if errors.Is(err, store.ErrNoPerson) || (err == nil && (invited.Source != SourceAccessRequest || invited.LastSeenAt != nil)) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.store.BindSub(ctx, invited.Sub, sub, s.now()); !errors.Is(err, store.ErrNoPerson) {
		return err
	}
	return nil
}

// maxGroupSync bounds the members and removals of one read.
const maxGroupSync = 20_000

// SyncGroup applies one read of a synchronised group's members (the role's: moderator or
// admin) to the directory (store.SyncGroup says how). Their names and addresses must be as
// groupsync.Member.Cleaned leaves them.
func (s *Service) SyncGroup(ctx context.Context, in groupsync.Read) (groupsync.Report, error) {
	var errs []httpx.FieldError
	if in.Role != string(auth.RoleModerator) && in.Role != string(auth.RoleAdmin) {
		errs = append(errs, httpx.FieldError{Field: "role", Message: "must be moderator or admin"})
	}
	if len(in.Members)+len(in.Removed) > maxGroupSync {
		errs = append(errs, httpx.FieldError{Field: "members", Message: fmt.Sprintf("must hold at most %d members and removals together", maxGroupSync)})
	}
	g := store.GroupSync{Role: in.Role, Removed: in.Removed, Full: in.Full, At: s.now()}
	for i, m := range in.Members {
		if !entraPattern.MatchString(m.EntraID) {
			errs = append(errs, httpx.FieldError{Field: fmt.Sprintf("members[%d].entraId", i), Message: "must be an Entra object id"})
		}
		if clean := m.Cleaned(); clean.Name != m.Name || m.Name == "" {
			errs = append(errs, httpx.FieldError{Field: fmt.Sprintf("members[%d].name", i), Message: "must be a name of 1 to 200 printable characters"})
		} else if clean.Email != m.Email {
			errs = append(errs, httpx.FieldError{Field: fmt.Sprintf("members[%d].email", i), Message: "must be an e-mail address, or empty"})
		}
		g.Members = append(g.Members, store.GroupMember{EntraID: m.EntraID, Name: m.Name, Email: m.Email})
	}
	for i, id := range in.Removed {
		if !entraPattern.MatchString(id) {
			errs = append(errs, httpx.FieldError{Field: fmt.Sprintf("removed[%d]", i), Message: "must be an Entra object id"})
		}
	}
	if err := invalid("invalid_group_sync", errs); err != nil {
		return groupsync.Report{}, err
	}
	r, err := s.store.SyncGroup(ctx, g)
	return groupsync.Report(r), err
}
