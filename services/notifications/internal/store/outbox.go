package store

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Claim leases up to n deliveries of channel due at now to owner until until,
// and counts the attempt. A row is claimed by one owner at a time: the
// conditional update wins for exactly one claimer, and a lease that has
// ended (its owner crashed) makes the row due again. The update checks again
// everything that made the row due: between the read and the update, another
// replica may have claimed it, tried it and set its next attempt later.
func (s *Store) Claim(ctx context.Context, channel, owner string, n int, now, until time.Time) ([]OutboxRow, error) {
	db := s.db.WithContext(ctx)
	var due []OutboxRow
	err := db.Where("channel = ? AND status = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)",
		channel, StatusPending, now, now).
		Order("next_attempt_at, seq").Limit(n).Find(&due).Error
	if err != nil {
		return nil, err
	}
	claimed := due[:0]
	for _, r := range due {
		res := db.Model(&OutboxRow{}).
			Where("seq = ? AND status = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)", r.Seq, StatusPending, now, now).
			Updates(map[string]any{"lease_owner": owner, "lease_until": until, "attempts": gorm.Expr("attempts + 1")})
		if res.Error != nil {
			return claimed, res.Error
		}
		if res.RowsAffected == 1 {
			r.LeaseOwner, r.LeaseUntil, r.Attempts = owner, &until, r.Attempts+1
			claimed = append(claimed, r)
		}
	}
	return claimed, nil
}

// leasedBy selects the row id while owner holds its lease: claimed by owner
// and not reported since. A lease past its end still counts until another
// claim takes the row.
func (s *Store) leasedBy(ctx context.Context, id, owner string) *gorm.DB {
	return s.db.WithContext(ctx).Model(&OutboxRow{}).
		Where("id = ? AND status = ? AND lease_owner = ? AND lease_until IS NOT NULL", id, StatusPending, owner)
}

// MarkSent records that owner sent the row id at at. It reports false,
// changing nothing, when owner does not hold the lease (it expired and the
// row was claimed again, or the attempt was already reported).
func (s *Store) MarkSent(ctx context.Context, id, owner string, at time.Time) (bool, error) {
	res := s.leasedBy(ctx, id, owner).
		Updates(map[string]any{"status": StatusSent, "sent_at": at, "lease_until": nil, "last_error": ""})
	return res.RowsAffected == 1, res.Error
}

// Failure is a failed attempt as its row records it.
type Failure struct {
	Cause         string     // the error, kept as the row's last error
	NextAttemptAt time.Time  // when the row is due again
	DeadAt        *time.Time // set: the row becomes a dead letter
}

// maxCause bounds the stored error, in characters.
const maxCause = 1000

// MarkFailed records owner's failed attempt at the row id. Like MarkSent, it
// reports false and changes nothing when owner does not hold the lease.
func (s *Store) MarkFailed(ctx context.Context, id, owner string, f Failure) (bool, error) {
	set := map[string]any{"lease_until": nil, "last_error": storable(f.Cause, maxCause), "next_attempt_at": f.NextAttemptAt}
	if f.DeadAt != nil {
		set["status"], set["dead_at"] = StatusDead, *f.DeadAt
	}
	res := s.leasedBy(ctx, id, owner).Updates(set)
	return res.RowsAffected == 1, res.Error
}

// storable is s as a TEXT column of both dialects holds it (PostgreSQL
// refuses NUL characters), cut to at most n characters.
func storable(s string, n int) string {
	s = strings.ReplaceAll(s, "\x00", "")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// OutboxRow returns the row id of channel; another channel's row is
// ErrNotFound, as is an id the store cannot have made.
func (s *Store) OutboxRow(ctx context.Context, channel, id string) (OutboxRow, error) {
	r, err := s.outboxRow(s.db.WithContext(ctx), id)
	if err == nil && r.Channel != channel {
		return OutboxRow{}, ErrNotFound
	}
	return r, err
}

func (s *Store) outboxRow(db *gorm.DB, id string) (OutboxRow, error) {
	var r OutboxRow
	if !utf8.ValidString(id) || strings.ContainsRune(id, 0) {
		// Not an id of ours, and PostgreSQL would refuse it as a parameter.
		return r, ErrNotFound
	}
	err := db.Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, ErrNotFound
	}
	return r, err
}

// OutboxDepth counts the deliveries not made yet (dead letters excluded),
// per channel; every channel is listed.
func (s *Store) OutboxDepth(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		Channel string
		N       int64
	}
	err := s.db.WithContext(ctx).Model(&OutboxRow{}).Select("channel, COUNT(*) AS n").
		Where("status = ?", StatusPending).Group("channel").Find(&rows).Error
	depth := make(map[string]int64, len(Channels))
	for _, c := range Channels {
		depth[c] = 0
	}
	for _, r := range rows {
		depth[r.Channel] = r.N
	}
	return depth, err
}

// Outbox lists the outbox rows of a notification or, with an empty id, all
// of them, in insertion order (for tests and operators).
func (s *Store) Outbox(ctx context.Context, notificationID string) ([]OutboxRow, error) {
	q := s.db.WithContext(ctx).Order("seq")
	if notificationID != "" {
		q = q.Where("notification_id = ?", notificationID)
	}
	var rows []OutboxRow
	return rows, q.Find(&rows).Error
}

// DeadLetters returns up to limit deliveries given up, on every channel,
// older than the row before (all from the most recent when 0), most recent
// first, and whether older ones follow.
func (s *Store) DeadLetters(ctx context.Context, limit int, before int64) ([]OutboxRow, bool, error) {
	q := s.db.WithContext(ctx).Where("status = ?", StatusDead)
	if before > 0 {
		q = q.Where("seq < ?", before)
	}
	var rows []OutboxRow
	if err := q.Order("seq DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, false, err
	}
	if len(rows) > limit {
		return rows[:limit], true, nil
	}
	return rows, false, nil
}

// Revive puts a dead letter back in the outbox, due at at, with a fresh count
// of attempts, and returns it. A row that is not dead is ErrNotDead (with the
// row as it is).
func (s *Store) Revive(ctx context.Context, id string, at time.Time) (OutboxRow, error) {
	db := s.db.WithContext(ctx)
	r, err := s.outboxRow(db, id)
	if err != nil {
		return r, err
	}
	res := db.Model(&OutboxRow{}).Where("seq = ? AND status = ?", r.Seq, StatusDead).
		Updates(map[string]any{"status": StatusPending, "attempts": 0, "next_attempt_at": at, "dead_at": nil, "lease_owner": "", "lease_until": nil})
	if res.Error != nil {
		return r, res.Error
	}
	if res.RowsAffected == 0 {
		return r, ErrNotDead
	}
	var fresh OutboxRow
	err = db.Where("seq = ?", r.Seq).Take(&fresh).Error
	return fresh, err
}

// DigestUsers lists the users with digest items of channel waiting.
func (s *Store) DigestUsers(ctx context.Context, channel string) ([]string, error) {
	var subs []string
	err := s.db.WithContext(ctx).Model(&DigestItem{}).Where("channel = ? AND outbox_id = ?", channel, "").
		Distinct("sub").Order("sub").Pluck("sub", &subs).Error
	return subs, err
}

// WaitingDigestItems lists sub's digest items of channel not queued yet.
func (s *Store) WaitingDigestItems(ctx context.Context, channel, sub string) ([]DigestItem, error) {
	var items []DigestItem
	return items, s.db.WithContext(ctx).Where("sub = ? AND channel = ? AND outbox_id = ?", sub, channel, "").Find(&items).Error
}

// QueueDigest stores the digest delivery and gathers items in it, in one
// transaction. Items are taken by a conditional update: when another
// scheduler took one of them first, nothing is stored and QueueDigest reports
// false.
func (s *Store) QueueDigest(ctx context.Context, digest OutboxRow, items []DigestItem) (bool, error) {
	err := s.Transaction(ctx, func(tx *Store) error {
		db := tx.db.WithContext(ctx)
		if err := db.Create(&digest).Error; err != nil {
			return err
		}
		ids := make([]string, len(items))
		for i, it := range items {
			ids[i] = it.NotificationID
		}
		res := db.Model(&DigestItem{}).
			Where("sub = ? AND channel = ? AND outbox_id = ? AND notification_id IN ?", digest.Sub, digest.Channel, "", ids).
			Update("outbox_id", digest.ID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != int64(len(items)) {
			return errDigestRace
		}
		return nil
	})
	if errors.Is(err, errDigestRace) {
		return false, nil
	}
	return err == nil, err
}

var errDigestRace = errors.New("digest items taken by another scheduler")

// DigestContent returns the notifications of a digest delivery, oldest first.
func (s *Store) DigestContent(ctx context.Context, outboxID string) ([]Notification, error) {
	var rows []Notification
	err := s.db.WithContext(ctx).Table("notifications").Select("notifications.*").
		Joins("JOIN digest_items ON digest_items.notification_id = notifications.id").
		Where("digest_items.outbox_id = ?", outboxID).Order("notifications.created_at, notifications.id").Find(&rows).Error
	return rows, err
}
