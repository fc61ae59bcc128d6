package store

import (
	"context"
	"time"

	"github.com/plateforme-rome/rome/workflows/request"
)

// Filed is a request as contribution statistics count it: its organisation and when it
// was submitted.
type Filed struct {
	ID, Org     string
	SubmittedAt time.Time
}

// Filed returns the requests submitted in [from, to), of org when it is not empty.
func (s *Store) Filed(ctx context.Context, from, to time.Time, org string) ([]Filed, error) {
	q := s.db.WithContext(ctx).Table("requests").Select("id, org, created_at AS submitted_at").
		Where("created_at >= ? AND created_at < ?", from.UTC(), to.UTC())
	if org != "" {
		q = q.Where("org = ?", org)
	}
	var rows []Filed
	return rows, q.Order("created_at").Scan(&rows).Error
}

// Reaction is an event of a request's history that statistics read: its type, when, by
// whom (the actor's JSON) and its data's JSON.
type Reaction struct {
	RequestID, Type, Actor, Data string
	At                           time.Time
}

// Reactions returns the events of the given types of the requests submitted in [from, to)
// (of org when it is not empty), in each request's order.
func (s *Store) Reactions(ctx context.Context, from, to time.Time, org string, types []string) ([]Reaction, error) {
	q := s.db.WithContext(ctx).Table("request_events AS e").Select("e.request_id, e.type, e.actor, e.data, e.at").
		Joins("JOIN requests AS r ON r.id = e.request_id").
		Where("r.created_at >= ? AND r.created_at < ? AND e.type IN ?", from.UTC(), to.UTC(), types)
	if org != "" {
		q = q.Where("r.org = ?", org)
	}
	var rows []Reaction
	return rows, q.Order("e.request_id, e.seq").Scan(&rows).Error
}

// OverdueByOrg counts, per organisation, the requests waiting longer than waits allow (of
// org when it is not empty).
func (s *Store) OverdueByOrg(ctx context.Context, waits []Wait, org string) (map[string]int, error) {
	cond, args := waiting(waits)
	q := s.db.WithContext(ctx).Table("requests").Select("org, COUNT(*) AS n").Where(cond, args...)
	if org != "" {
		q = q.Where("org = ?", org)
	}
	var rows []struct {
		Org string
		N   int
	}
	if err := q.Group("org").Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Org] = r.N
	}
	return out, nil
}

// Load is how many requests wait on one assignee ("" for those waiting to be taken), and how
// many of them wait longer than waits allow.
type Load struct {
	Assignee      string
	Open, Overdue int
}

// Loads counts the requests of statuses by assignee, and the overdue ones among them.
func (s *Store) Loads(ctx context.Context, statuses []request.Status, waits []Wait) ([]Load, error) {
	cond, args := waiting(waits)
	var rows []Load
	err := s.db.WithContext(ctx).Table("requests").
		Select("assignee, COUNT(*) AS open, SUM(CASE WHEN "+cond+" THEN 1 ELSE 0 END) AS overdue", args...).
		Where("status IN ?", statuses).Group("assignee").Order("assignee").Scan(&rows).Error
	return rows, err
}
