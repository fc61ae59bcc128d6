package store

import (
	"context"

	"github.com/plateforme-rome/rome/workflows/request"
)

// StatusCount is how many requests are in one status, and how many of them wait longer
// than the waits allow.
type StatusCount struct {
	Status         request.Status
	Total, Overdue int64
}

// CountByStatus counts the requests of every status present, and the overdue ones among
// them, in one scan of the (status, status_since) index: what the intake's gauges report.
func (s *Store) CountByStatus(ctx context.Context, waits []Wait) ([]StatusCount, error) {
	cond, args := waiting(waits)
	var rows []StatusCount
	err := s.db.WithContext(ctx).Table("requests").
		Select("status, COUNT(*) AS total, SUM(CASE WHEN "+cond+" THEN 1 ELSE 0 END) AS overdue", args...).
		Group("status").Order("status").Scan(&rows).Error
	return rows, err
}
