package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/services/notifications/client"
)

// Claim leases up to n due e-mails to owner until now+lease and counts the
// attempt. A row is claimed by one owner at a time: the conditional update
// wins for exactly one claimer, and a lease that expires (its owner crashed)
// makes the row due again.
func (s *Store) Claim(ctx context.Context, owner string, n int, lease time.Duration) ([]OutboxRow, error) {
	db := s.db.WithContext(ctx)
	now := s.now()
	var due []OutboxRow
	err := db.Where("status = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)", StatusPending, now, now).
		Order("next_attempt_at, seq").Limit(n).Find(&due).Error
	if err != nil {
		return nil, err
	}
	until := now.Add(lease)
	claimed := due[:0]
	for _, r := range due {
		res := db.Model(&OutboxRow{}).
			Where("seq = ? AND status = ? AND (lease_until IS NULL OR lease_until < ?)", r.Seq, StatusPending, now).
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

// MarkSent records that owner sent the row. It reports false when owner no
// longer holds the lease (it expired and the row was claimed again).
func (s *Store) MarkSent(ctx context.Context, r OutboxRow) (bool, error) {
	now := s.now()
	res := s.db.WithContext(ctx).Model(&OutboxRow{}).
		Where("seq = ? AND status = ? AND lease_owner = ?", r.Seq, StatusPending, r.LeaseOwner).
		Updates(map[string]any{"status": StatusSent, "sent_at": now, "lease_until": nil, "last_error": ""})
	return res.RowsAffected == 1, res.Error
}

// MarkFailed records a failed attempt: the row is due again at next, or
// dead-lettered when dead is true.
func (s *Store) MarkFailed(ctx context.Context, r OutboxRow, cause string, next time.Time, dead bool) error {
	set := map[string]any{"lease_until": nil, "last_error": cause, "next_attempt_at": next.UTC()}
	if dead {
		set["status"], set["dead_at"] = StatusDead, s.now()
	}
	return s.db.WithContext(ctx).Model(&OutboxRow{}).
		Where("seq = ? AND status = ? AND lease_owner = ?", r.Seq, StatusPending, r.LeaseOwner).
		Updates(set).Error
}

// OutboxDepth counts the e-mails not sent yet (dead letters excluded).
func (s *Store) OutboxDepth(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&OutboxRow{}).Where("status = ?", StatusPending).Count(&n).Error
	return n, err
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

func (r OutboxRow) deadLetter() client.DeadLetter {
	d := client.DeadLetter{
		ID: r.ID, MessageID: r.MessageID, NotificationID: r.NotificationID, Sub: r.Sub, To: r.ToAddr,
		Kind: r.Kind, Attempts: r.Attempts, LastError: r.LastError, CreatedAt: r.CreatedAt.UTC(),
	}
	if r.DeadAt != nil {
		d.DeadAt = r.DeadAt.UTC()
	}
	return d
}

// DeadLetters lists the e-mails given up, most recent first.
func (s *Store) DeadLetters(ctx context.Context, limit int, cursor int64) (client.DeadLetters, error) {
	q := s.db.WithContext(ctx).Where("status = ?", StatusDead)
	if cursor > 0 {
		q = q.Where("seq < ?", cursor)
	}
	var rows []OutboxRow
	if err := q.Order("seq DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return client.DeadLetters{}, err
	}
	out := client.DeadLetters{Items: []client.DeadLetter{}}
	if len(rows) > limit {
		rows = rows[:limit]
		out.NextCursor = strconv.FormatInt(rows[limit-1].Seq, 10)
	}
	for _, r := range rows {
		out.Items = append(out.Items, r.deadLetter())
	}
	return out, nil
}

// Retry puts a dead letter back in the outbox, due now, with a fresh count of
// attempts. A row that is not dead is ErrNotDead (with its status).
func (s *Store) Retry(ctx context.Context, id string) (OutboxRow, error) {
	db := s.db.WithContext(ctx)
	var r OutboxRow
	err := db.Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, err
	}
	now := s.now()
	res := db.Model(&OutboxRow{}).Where("seq = ? AND status = ?", r.Seq, StatusDead).
		Updates(map[string]any{"status": StatusPending, "attempts": 0, "next_attempt_at": now, "dead_at": nil, "lease_owner": "", "lease_until": nil})
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

// DigestUsers lists the users with digest items waiting.
func (s *Store) DigestUsers(ctx context.Context) ([]string, error) {
	var subs []string
	err := s.db.WithContext(ctx).Model(&digestItem{}).Where("outbox_id = ?", "").Distinct("sub").Order("sub").Pluck("sub", &subs).Error
	return subs, err
}

// QueueDigest turns sub's waiting digest items into one digest e-mail in the
// outbox. It reports false when there was nothing to send (or no address, in
// which case the items stay waiting). Concurrent schedulers cannot queue the
// same items twice: the items are taken by a conditional update.
func (s *Store) QueueDigest(ctx context.Context, sub string) (bool, error) {
	queued := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var items []digestItem
		if err := tx.Where("sub = ? AND outbox_id = ?", sub, "").Find(&items).Error; err != nil {
			return err
		}
		var u User
		if err := tx.Where("sub = ?", sub).Limit(1).Find(&u).Error; err != nil {
			return err
		}
		if len(items) == 0 || u.Address() == "" {
			return nil
		}
		mail := s.newOutbox(KindDigest, "", u, s.now())
		if err := tx.Create(&mail).Error; err != nil {
			return err
		}
		ids := make([]string, len(items))
		for i, it := range items {
			ids[i] = it.NotificationID
		}
		res := tx.Model(&digestItem{}).Where("sub = ? AND outbox_id = ? AND notification_id IN ?", sub, "", ids).Update("outbox_id", mail.ID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != int64(len(items)) {
			return errDigestRace
		}
		queued = true
		return nil
	})
	if errors.Is(err, errDigestRace) {
		return false, nil
	}
	return queued, err
}

var errDigestRace = errors.New("digest items taken by another scheduler")

// DigestContent returns the notifications of a digest e-mail, oldest first.
func (s *Store) DigestContent(ctx context.Context, outboxID string) ([]Notification, error) {
	var rows []Notification
	err := s.db.WithContext(ctx).Table("notifications").Select("notifications.*").
		Joins("JOIN digest_items ON digest_items.notification_id = notifications.id").
		Where("digest_items.outbox_id = ?", outboxID).Order("notifications.created_at, notifications.id").Find(&rows).Error
	return rows, err
}
