package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/workflows/access"
)

// ErrNoAccessRequest: no access request has this id.
var ErrNoAccessRequest = errors.New("no such access request")

type accessRow struct {
	ID                   string `gorm:"primaryKey"`
	Seq                  int
	Status, Email        string
	Document             string
	CreatedAt, UpdatedAt time.Time
}

func (accessRow) TableName() string { return "access_requests" }

// RecordAccess stores an access request's state as its workflow recorded it, unless a
// record of a later Seq is there (a late record changes nothing). A record of the same Seq
// is written over: a retry writes the same state, and a different one comes from the
// replay of a workflow task whose worker died after the first write, which is the truth.
func (s *Store) RecordAccess(ctx context.Context, r access.Request) error {
	doc, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("access request %s: %w", r.ID, err)
	}
	row := accessRow{ID: r.ID, Seq: r.Seq, Status: string(r.Status), Email: r.Email, Document: string(doc),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	return s.db.WithContext(ctx).Exec(`INSERT INTO access_requests (id, seq, status, email, document, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, status = excluded.status, document = excluded.document,
			updated_at = excluded.updated_at
		WHERE access_requests.seq <= excluded.seq`,
		row.ID, row.Seq, row.Status, row.Email, row.Document, row.CreatedAt, row.UpdatedAt).Error
}

// AccessRequest returns one access request.
func (s *Store) AccessRequest(ctx context.Context, id string) (access.Request, error) {
	var row accessRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return access.Request{}, ErrNoAccessRequest
	}
	if err != nil {
		return access.Request{}, err
	}
	return decodeAccess(row)
}

func decodeAccess(row accessRow) (access.Request, error) {
	var r access.Request
	if err := json.Unmarshal([]byte(row.Document), &r); err != nil {
		return access.Request{}, fmt.Errorf("access request %s: stored document: %w", row.ID, err)
	}
	return r, nil
}

// AccessFilter selects access requests; empty fields select all.
type AccessFilter struct {
	Status string
	Before *AccessCursor // the last request of the previous page
	Limit  int
}

// AccessCursor is where a page of access requests ends: newest first, by creation then id.
type AccessCursor struct {
	CreatedAt time.Time
	ID        string
}

// AccessRequests returns the requests f selects, newest first, at most f.Limit, and whether
// more follow.
func (s *Store) AccessRequests(ctx context.Context, f AccessFilter) ([]access.Request, bool, error) {
	q := s.db.WithContext(ctx).Model(&accessRow{})
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Before != nil {
		at := f.Before.CreatedAt.UTC()
		q = q.Where("created_at < ? OR (created_at = ? AND id < ?)", at, at, f.Before.ID)
	}
	var rows []accessRow
	if err := q.Order("created_at DESC, id DESC").Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return nil, false, err
	}
	more := len(rows) > f.Limit
	if more {
		rows = rows[:f.Limit]
	}
	out := make([]access.Request, len(rows))
	for i, row := range rows {
		r, err := decodeAccess(row)
		if err != nil {
			return nil, false, err
		}
		out[i] = r
	}
	return out, more, nil
}

// AccessCounts counts the access requests per status.
func (s *Store) AccessCounts(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	err := s.db.WithContext(ctx).Model(&accessRow{}).Select("status, COUNT(*) AS n").Group("status").Scan(&rows).Error
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, err
}

// AccessRequestsFromSince counts the access requests an e-mail address sent since a moment.
func (s *Store) AccessRequestsFromSince(ctx context.Context, email string, since time.Time) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&accessRow{}).Where("email = ? AND created_at >= ?", email, since.UTC()).Count(&n).Error
	return n, err
}

// OpenAccessRequest is the newest request of an e-mail address still in one of statuses
// (ErrNoAccessRequest when there is none).
func (s *Store) OpenAccessRequest(ctx context.Context, email string, statuses ...string) (access.Request, error) {
	var row accessRow
	err := s.db.WithContext(ctx).Where("email = ? AND status IN ?", email, statuses).Order("created_at DESC").Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return access.Request{}, ErrNoAccessRequest
	}
	if err != nil {
		return access.Request{}, err
	}
	return decodeAccess(row)
}

// PersonByEmail returns the person with this e-mail address (ErrNoPerson when none; the
// first by subject when several).
func (s *Store) PersonByEmail(ctx context.Context, email string) (Person, error) {
	var row personRow
	err := s.db.WithContext(ctx).Where("LOWER(email) = ?", email).Order("sub").Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Person{}, ErrNoPerson
	}
	return Person(row), err
}

// BindSub gives the person recorded under a provisional subject (access.PersonSub) the
// subject of their first token, provided they still hold the provisional one and have
// never signed in (ErrNoPerson otherwise: someone else bound them first).
func (s *Store) BindSub(ctx context.Context, provisional, sub string, at time.Time) error {
	res := s.db.WithContext(ctx).Model(&personRow{}).Where("sub = ? AND last_seen_at IS NULL", provisional).
		Updates(map[string]any{"sub": sub, "last_seen_at": at.UTC(), "updated_at": at.UTC()})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNoPerson
	}
	return res.Error
}

// InvitedPerson is the person, not yet signed in, recorded under a provisional subject
// (an approved applicant's, a synchronised group member's) with this Entra object id
// (ErrNoPerson when none).
func (s *Store) InvitedPerson(ctx context.Context, entraID string) (Person, error) {
	var row personRow
	err := s.db.WithContext(ctx).Where("entra_id = ? AND (sub LIKE ? OR sub LIKE ?) AND last_seen_at IS NULL",
		entraID, access.PersonSub("")+"%", SyncedSubPrefix+"%").Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Person{}, ErrNoPerson
	}
	return Person(row), err
}
