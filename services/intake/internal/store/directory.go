package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/database"
)

var (
	// ErrNoPerson: the directory has no person with this subject.
	ErrNoPerson = errors.New("no such person")
	// ErrNoOrganisation: the directory has no organisation with this id.
	ErrNoOrganisation = errors.New("no such organisation")
	// ErrExists: a person with this subject, or an organisation with this id, exists.
	ErrExists = errors.New("already in the directory")
	// ErrEntraIDTaken: another person has this Entra object id.
	ErrEntraIDTaken = errors.New("Entra object id taken by another person")
)

// Organisation is an organisation of the directory.
type Organisation struct {
	ID, Name, Kind string
	// Domains are the grands domaines and codes ROME it has expertise in.
	Domains              []string
	Active               bool
	CreatedAt, UpdatedAt time.Time
}

// Person is a person of the directory.
type Person struct {
	Sub, EntraID, Name, Email, Role, Org string
	Active                               bool
	// Source says how the person entered the directory (admin, dev_token…).
	Source     string
	LastSeenAt *time.Time // nil until they first sign in
	// Domains are a moderator's domains of expertise (grands domaines, codes ROME).
	Domains []string `gorm:"serializer:json"`
	// AbsentUntil, when in the future, has the reminders meant for them go to Delegate.
	AbsentUntil          *time.Time
	Delegate             string
	CreatedAt, UpdatedAt time.Time
}

type organisationRow struct {
	ID, Name, Kind, Domains string
	Active                  bool
	CreatedAt, UpdatedAt    time.Time
}

func (organisationRow) TableName() string { return "organisations" }

type personRow Person

func (personRow) TableName() string { return "people" }

// domainsJSON is how domains are stored: a JSON array, never null.
func domainsJSON(domains []string) string {
	b, _ := json.Marshal(append([]string{}, domains...)) // strings: cannot fail
	return string(b)
}

func rowOf(o Organisation) organisationRow {
	return organisationRow{ID: o.ID, Name: o.Name, Kind: o.Kind, Domains: domainsJSON(o.Domains), Active: o.Active,
		CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC()}
}

func (r organisationRow) organisation() (Organisation, error) {
	o := Organisation{ID: r.ID, Name: r.Name, Kind: r.Kind, Active: r.Active, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	return o, json.Unmarshal([]byte(r.Domains), &o.Domains)
}

// InsertOrganisation adds o; ErrExists when its id is taken.
func (s *Store) InsertOrganisation(ctx context.Context, o Organisation) error {
	res := s.db.WithContext(ctx).Exec(`INSERT INTO organisations (id, name, kind, domains, active, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, rowOf(o).values()...)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrExists
	}
	return res.Error
}

func (r organisationRow) values() []any {
	return []any{r.ID, r.Name, r.Kind, r.Domains, r.Active, r.CreatedAt, r.UpdatedAt}
}

// UpdateOrganisation writes o over the organisation with its id.
func (s *Store) UpdateOrganisation(ctx context.Context, o Organisation) error {
	row := rowOf(o)
	res := s.db.WithContext(ctx).Model(&organisationRow{}).Where("id = ?", o.ID).Updates(map[string]any{
		"name": row.Name, "kind": row.Kind, "domains": row.Domains, "active": row.Active, "updated_at": row.UpdatedAt})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNoOrganisation
	}
	return res.Error
}

// Organisation returns one organisation.
func (s *Store) Organisation(ctx context.Context, id string) (Organisation, error) {
	var row organisationRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Organisation{}, ErrNoOrganisation
	}
	if err != nil {
		return Organisation{}, err
	}
	return row.organisation()
}

// Organisations returns every organisation, by id.
func (s *Store) Organisations(ctx context.Context) ([]Organisation, error) {
	var rows []organisationRow
	if err := s.db.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Organisation, len(rows))
	for i, r := range rows {
		var err error
		if out[i], err = r.organisation(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// InsertPerson adds p; ErrExists when their subject is taken, ErrEntraIDTaken when their
// Entra object id is.
func (s *Store) InsertPerson(ctx context.Context, p Person) error {
	res := s.db.WithContext(ctx).Exec(`INSERT INTO people
		(sub, entra_id, name, email, role, org, active, source, last_seen_at, domains, absent_until, delegate, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sub) DO NOTHING`,
		p.Sub, p.EntraID, p.Name, p.Email, p.Role, p.Org, p.Active, p.Source, p.LastSeenAt, domainsJSON(p.Domains), p.AbsentUntil, p.Delegate,
		p.CreatedAt.UTC(), p.UpdatedAt.UTC())
	switch {
	case database.IsUniqueViolation(res.Error):
		return ErrEntraIDTaken // the subject's conflict is absorbed: only the Entra id's is left
	case res.Error == nil && res.RowsAffected == 0:
		return ErrExists
	}
	return res.Error
}

// UpdatePerson writes what an admin may change of p (all but the subject, the source and
// the dates of creation and last sign-in) over the person with their subject.
func (s *Store) UpdatePerson(ctx context.Context, p Person) error {
	res := s.db.WithContext(ctx).Model(&personRow{}).Where("sub = ?", p.Sub).Updates(map[string]any{
		"entra_id": p.EntraID, "name": p.Name, "email": p.Email, "role": p.Role, "org": p.Org, "active": p.Active,
		"domains": domainsJSON(p.Domains), "absent_until": p.AbsentUntil, "delegate": p.Delegate, "updated_at": p.UpdatedAt.UTC()})
	switch {
	case database.IsUniqueViolation(res.Error):
		return ErrEntraIDTaken
	case res.Error == nil && res.RowsAffected == 0:
		return ErrNoPerson
	}
	return res.Error
}

// TouchPerson records that sub signed in at.
func (s *Store) TouchPerson(ctx context.Context, sub string, at time.Time) error {
	return s.db.WithContext(ctx).Model(&personRow{}).Where("sub = ?", sub).UpdateColumn("last_seen_at", at.UTC()).Error
}

// PersonBySub returns one person.
func (s *Store) PersonBySub(ctx context.Context, sub string) (Person, error) {
	var row personRow
	err := s.db.WithContext(ctx).Where("sub = ?", sub).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Person{}, ErrNoPerson
	}
	return Person(row), err
}

// PersonSigningIn returns a person and whether their organisation is active (true without
// one, or with one the directory lacks), in one query: every token the intake checks reads it.
func (s *Store) PersonSigningIn(ctx context.Context, sub string) (Person, bool, error) {
	var row struct {
		Person    `gorm:"embedded"`
		OrgActive *bool
	}
	err := s.db.WithContext(ctx).Table("people").Select("people.*, organisations.active AS org_active").
		Joins("LEFT JOIN organisations ON organisations.id = people.org").Where("people.sub = ?", sub).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Person{}, false, ErrNoPerson
	}
	return row.Person, row.OrgActive == nil || *row.OrgActive, err
}

// PeopleFilter selects people; empty fields select everyone.
type PeopleFilter struct {
	Roles, Orgs, Subs []string
	Active            *bool
	After             string // the subject the previous page ended on
	Limit             int
}

// People returns the people f selects, by subject, at most f.Limit, and whether more follow.
func (s *Store) People(ctx context.Context, f PeopleFilter) ([]Person, bool, error) {
	q := s.db.WithContext(ctx).Model(&personRow{})
	for column, values := range map[string][]string{"role": f.Roles, "org": f.Orgs, "sub": f.Subs} {
		if len(values) > 0 {
			q = q.Where(column+" IN ?", values)
		}
	}
	if f.Active != nil {
		q = q.Where("active = ?", *f.Active)
	}
	if f.After != "" {
		q = q.Where("sub > ?", f.After)
	}
	var rows []personRow
	if err := q.Order("sub").Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return nil, false, err
	}
	more := len(rows) > f.Limit
	if more {
		rows = rows[:f.Limit]
	}
	out := make([]Person, len(rows))
	for i, r := range rows {
		out[i] = Person(r)
	}
	return out, more, nil
}

// InsertPeople adds people in one transaction: all of them, or none when one's subject or
// Entra object id is taken (ErrExists, ErrEntraIDTaken, with the first such subject).
func (s *Store) InsertPeople(ctx context.Context, people []Person) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		in := &Store{db: tx}
		for _, p := range people {
			if err := in.InsertPerson(ctx, p); err != nil {
				return fmt.Errorf("%s: %w", p.Sub, err)
			}
		}
		return nil
	})
}
