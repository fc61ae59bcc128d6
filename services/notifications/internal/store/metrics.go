package store

import "context"

// DeadLetterCount is how many dead letters of one kind a channel holds.
type DeadLetterCount struct {
	Channel, Kind string
	N             int64
}

// DeadLetterCounts counts the dead letters by channel and kind.
func (s *Store) DeadLetterCounts(ctx context.Context) ([]DeadLetterCount, error) {
	var rows []DeadLetterCount
	err := s.db.WithContext(ctx).Model(&OutboxRow{}).Select("channel, kind, COUNT(*) AS n").
		Where("status = ?", StatusDead).Group("channel, kind").Order("channel, kind").Find(&rows).Error
	return rows, err
}
