package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/clients/notifclient"
)

// Claim leases up to n due deliveries of channel to owner until now+lease
// and counts the attempt. A row is claimed by one owner at a time: the
// conditional update wins for exactly one claimer, and a lease that expires
// (its owner crashed) makes the row due again.
func (s *Store) Claim(ctx context.Context, channel, owner string, n int, lease time.Duration) ([]OutboxRow, error) {
	db := s.db.WithContext(ctx)
	now := s.now()
	var due []OutboxRow
	err := db.Where("channel = ? AND status = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)",
		channel, StatusPending, now, now).
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

// leasedBy selects the row id while owner holds its lease: claimed by owner
// and not reported since. A lease past its end still counts until another
// claim takes the row.
func (s *Store) leasedBy(ctx context.Context, id, owner string) *gorm.DB {
	return s.db.WithContext(ctx).Model(&OutboxRow{}).
		Where("id = ? AND status = ? AND lease_owner = ? AND lease_until IS NOT NULL", id, StatusPending, owner)
}

// MarkSent records that owner sent the row id. It reports false, changing
// nothing, when owner does not hold the lease (it expired and the row was
// claimed again, or the attempt was already reported).
func (s *Store) MarkSent(ctx context.Context, id, owner string) (bool, error) {
	res := s.leasedBy(ctx, id, owner).
		Updates(map[string]any{"status": StatusSent, "sent_at": s.now(), "lease_until": nil, "last_error": ""})
	return res.RowsAffected == 1, res.Error
}

// Failure is what a failed attempt makes of its row.
type Failure struct {
	Cause string        // the error, kept as the row's last error
	Delay time.Duration // until the next attempt
	Dead  bool          // give up: the row becomes a dead letter
}

// maxCause bounds the stored error, in characters.
const maxCause = 1000

// MarkFailed records owner's failed attempt at the row id: due again after
// f.Delay, or dead-lettered. Like MarkSent, it reports false and changes
// nothing when owner does not hold the lease.
func (s *Store) MarkFailed(ctx context.Context, id, owner string, f Failure) (bool, error) {
	now := s.now()
	set := map[string]any{"lease_until": nil, "last_error": storable(f.Cause, maxCause), "next_attempt_at": now.Add(f.Delay)}
	if f.Dead {
		set["status"], set["dead_at"] = StatusDead, now
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

func (r OutboxRow) deadLetter() notifclient.DeadLetter {
	d := notifclient.DeadLetter{
		ID: r.ID, Channel: r.Channel, NotificationID: r.NotificationID, Sub: r.Sub, To: r.ToAddr,
		Kind: r.Kind, Attempts: r.Attempts, LastError: r.LastError, CreatedAt: r.CreatedAt.UTC(),
	}
	if r.Channel == ChannelEmail {
		d.MessageID = r.MessageID
	}
	if r.DeadAt != nil {
		d.DeadAt = r.DeadAt.UTC()
	}
	return d
}

// DeadLetters lists the deliveries given up, on every channel, most recent
// first.
func (s *Store) DeadLetters(ctx context.Context, limit int, cursor int64) (notifclient.DeadLetters, error) {
	q := s.db.WithContext(ctx).Where("status = ?", StatusDead)
	if cursor > 0 {
		q = q.Where("seq < ?", cursor)
	}
	var rows []OutboxRow
	if err := q.Order("seq DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return notifclient.DeadLetters{}, err
	}
	out := notifclient.DeadLetters{Items: []notifclient.DeadLetter{}}
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
	r, err := s.outboxRow(db, id)
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

// DigestUsers lists the users with digest items of channel waiting.
func (s *Store) DigestUsers(ctx context.Context, channel string) ([]string, error) {
	var subs []string
	err := s.db.WithContext(ctx).Model(&digestItem{}).Where("channel = ? AND outbox_id = ?", channel, "").
		Distinct("sub").Order("sub").Pluck("sub", &subs).Error
	return subs, err
}

// QueueDigest turns sub's waiting digest items of channel into one digest
// delivery in the outbox. It reports false when there was nothing to send
// (or nowhere to send it: no address, no Entra id; the items stay waiting).
// Concurrent schedulers cannot queue the same items twice: the items are
// taken by a conditional update.
func (s *Store) QueueDigest(ctx context.Context, channel, sub string) (bool, error) {
	queued := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var items []digestItem
		if err := tx.Where("sub = ? AND channel = ? AND outbox_id = ?", sub, channel, "").Find(&items).Error; err != nil {
			return err
		}
		var u User
		if err := tx.Where("sub = ?", sub).Limit(1).Find(&u).Error; err != nil {
			return err
		}
		if len(items) == 0 || u.destination(channel) == "" {
			return nil
		}
		digest := s.newOutbox(channel, KindDigest, "", u, s.now())
		if err := tx.Create(&digest).Error; err != nil {
			return err
		}
		ids := make([]string, len(items))
		for i, it := range items {
			ids[i] = it.NotificationID
		}
		res := tx.Model(&digestItem{}).Where("sub = ? AND channel = ? AND outbox_id = ? AND notification_id IN ?", sub, channel, "", ids).
			Update("outbox_id", digest.ID)
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

// DigestContent returns the notifications of a digest delivery, oldest first.
func (s *Store) DigestContent(ctx context.Context, outboxID string) ([]Notification, error) {
	var rows []Notification
	err := s.db.WithContext(ctx).Table("notifications").Select("notifications.*").
		Joins("JOIN digest_items ON digest_items.notification_id = notifications.id").
		Where("digest_items.outbox_id = ?", outboxID).Order("notifications.created_at, notifications.id").Find(&rows).Error
	return rows, err
}
