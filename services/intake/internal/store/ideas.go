package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

var (
	// ErrNoIdea: no idea has this id.
	ErrNoIdea = errors.New("no such idea")
	// ErrIdeaMoved: the idea is no longer in a status the change starts from.
	ErrIdeaMoved = errors.New("the idea changed meanwhile")
)

// Idea is an idea as stored.
type Idea struct {
	ID, Status, Text, CodeRome, CodeOGR, Email string
	HandledBy, Reason, Reply, Org, RequestID   string
	CreatedAt, UpdatedAt                       time.Time
}

type ideaRow struct {
	ID, Status, Text, CodeRome string
	CodeOGR                    string `gorm:"column:code_ogr"`
	Email, HandledBy, Reason   string
	Reply, Org, RequestID      string
	CreatedAt, UpdatedAt       time.Time
}

func (ideaRow) TableName() string { return "ideas" }

// InsertIdea adds an idea.
func (s *Store) InsertIdea(ctx context.Context, i Idea) error {
	row := ideaRow(i)
	row.CreatedAt, row.UpdatedAt = i.CreatedAt.UTC(), i.UpdatedAt.UTC()
	return s.db.WithContext(ctx).Create(&row).Error
}

// Idea returns one idea.
func (s *Store) Idea(ctx context.Context, id string) (Idea, error) {
	var row ideaRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Idea{}, ErrNoIdea
	}
	return Idea(row), err
}

// UpdateIdea writes i over the idea with its id, provided it is still in one of the
// statuses from (ErrIdeaMoved otherwise): two moderators acting at once do not both win.
func (s *Store) UpdateIdea(ctx context.Context, i Idea, from ...string) error {
	res := s.db.WithContext(ctx).Model(&ideaRow{}).Where("id = ? AND status IN ?", i.ID, from).Updates(map[string]any{
		"status": i.Status, "handled_by": i.HandledBy, "reason": i.Reason, "reply": i.Reply, "org": i.Org,
		"request_id": i.RequestID, "updated_at": i.UpdatedAt.UTC()})
	if res.Error == nil && res.RowsAffected == 0 {
		if _, err := s.Idea(ctx, i.ID); err != nil {
			return err
		}
		return ErrIdeaMoved
	}
	return res.Error
}

// IdeaFilter selects ideas; empty fields select all.
type IdeaFilter struct {
	Status, Org string
	Before      *IdeaCursor // the last idea of the previous page
	Limit       int
}

// IdeaCursor is where a page of ideas ends: newest first, by creation then id.
type IdeaCursor struct {
	CreatedAt time.Time
	ID        string
}

// Ideas returns the ideas f selects, newest first, at most f.Limit, and whether more follow.
func (s *Store) Ideas(ctx context.Context, f IdeaFilter) ([]Idea, bool, error) {
	q := s.db.WithContext(ctx).Model(&ideaRow{})
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Org != "" {
		q = q.Where("org = ?", f.Org)
	}
	if f.Before != nil {
		at := f.Before.CreatedAt.UTC()
		q = q.Where("created_at < ? OR (created_at = ? AND id < ?)", at, at, f.Before.ID)
	}
	var rows []ideaRow
	if err := q.Order("created_at DESC, id DESC").Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return nil, false, err
	}
	more := len(rows) > f.Limit
	if more {
		rows = rows[:f.Limit]
	}
	out := make([]Idea, len(rows))
	for i, r := range rows {
		out[i] = Idea(r)
	}
	return out, more, nil
}

// IdeasFromSince counts the ideas an e-mail address sent since a moment.
func (s *Store) IdeasFromSince(ctx context.Context, email string, since time.Time) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&ideaRow{}).Where("email = ? AND created_at >= ?", email, since.UTC()).Count(&n).Error
	return n, err
}
