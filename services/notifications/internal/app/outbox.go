package app

import (
	"context"
	"strconv"
	"time"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// RetryPolicy decides what a failed delivery attempt makes of its outbox row,
// on every channel: a retry after an exponential backoff, or the dead-letter
// list.
type RetryPolicy struct {
	MaxAttempts int           // the last attempt; a failure then is a dead letter
	Base        time.Duration // delay after the first failure, doubled after each next one
	Max         time.Duration // cap of the doubling
}

// Failed is the outcome of failed attempt number attempt (1 for the first):
// dead when the refusal is permanent or the attempt was the last; else due
// again after Base·2^(attempt-1), capped at Max, and never before notBefore
// (the receiver's Retry-After, which may exceed Max: retrying sooner would
// only be throttled again).
func (p RetryPolicy) Failed(attempt int, permanent bool, notBefore time.Duration) (delay time.Duration, dead bool) {
	delay = p.Base
	for i := 1; i < attempt && delay < p.Max; i++ {
		delay *= 2
	}
	return max(min(delay, p.Max), notBefore), permanent || attempt >= p.MaxAttempts
}

// Attempt is a delivery attempt as its sender reports it; an empty Error
// means sent.
type Attempt struct {
	Owner      string        // who holds the delivery's lease
	Error      string        // why it failed
	Permanent  bool          // the receiver refused it for good
	RetryAfter time.Duration // the receiver's Retry-After: no attempt before
}

// channelNoun names a channel's deliveries in logs.
var channelNoun = map[string]string{store.ChannelEmail: "e-mail", store.ChannelTeams: "Teams notification"}

// record records attempt a at the claimed row r: sent, or failed as the
// channel's RetryPolicy says. It answers the row's status after it, and
// whether the attempt was recorded: an attempt from an owner that no longer
// holds the lease (it expired and the row was claimed again, or the attempt
// was already reported) changes nothing.
func (s *Service) record(ctx context.Context, r store.OutboxRow, a Attempt) (status string, recorded bool, err error) {
	log := s.log.With("channel", r.Channel, "outbox_id", r.ID, "owner", a.Owner, "attempt", r.Attempts)
	noun := channelNoun[r.Channel]
	now := s.now()
	if a.Error == "" {
		s.metrics.sent(ctx, r)
		if recorded, err = s.store.MarkSent(ctx, r.ID, a.Owner, now); err != nil || !recorded {
			return s.unrecorded(ctx, r, a, err)
		}
		log.InfoContext(ctx, noun+" sent")
		return store.StatusSent, true, nil
	}
	delay, dead := s.channel(r.Channel).Retry.Failed(r.Attempts, a.Permanent, a.RetryAfter)
	f := store.Failure{Cause: a.Error, NextAttemptAt: now.Add(delay)}
	if dead {
		f.DeadAt = &now
	}
	recorded, err = s.store.MarkFailed(ctx, r.ID, a.Owner, f)
	s.metrics.failed(ctx, r)
	if err != nil || !recorded {
		return s.unrecorded(ctx, r, a, err)
	}
	if dead {
		log.ErrorContext(ctx, noun+" dead-lettered", "permanent", a.Permanent, "error", a.Error)
		return store.StatusDead, true, nil
	}
	log.WarnContext(ctx, noun+" failed, will retry", "retry_in", delay, "error", a.Error)
	return store.StatusPending, true, nil
}

// unrecorded answers an attempt that changed nothing (err nil) with the row's
// current status.
func (s *Service) unrecorded(ctx context.Context, r store.OutboxRow, a Attempt, err error) (string, bool, error) {
	if err != nil {
		return "", false, err
	}
	current, err := s.store.OutboxRow(ctx, r.Channel, r.ID)
	if err != nil {
		return "", false, err
	}
	s.log.WarnContext(ctx, channelNoun[r.Channel]+" attempt not recorded: its owner no longer holds the lease",
		"outbox_id", r.ID, "owner", a.Owner, "status", current.Status, "lease_owner", current.LeaseOwner)
	return current.Status, false, nil
}

// DeadLetters lists the deliveries given up, on every channel, most recent
// first, limit at most, older than cursor (the previous page's NextCursor; 0:
// from the most recent).
func (s *Service) DeadLetters(ctx context.Context, limit int, cursor int64) (notifclient.DeadLetters, error) {
	rows, more, err := s.store.DeadLetters(ctx, limit, cursor)
	if err != nil {
		return notifclient.DeadLetters{}, err
	}
	out := notifclient.DeadLetters{Items: make([]notifclient.DeadLetter, len(rows))}
	for i, r := range rows {
		out.Items[i] = deadLetter(r)
	}
	if more {
		out.NextCursor = strconv.FormatInt(rows[len(rows)-1].Seq, 10)
	}
	return out, nil
}

func deadLetter(r store.OutboxRow) notifclient.DeadLetter {
	d := notifclient.DeadLetter{
		ID: r.ID, Channel: r.Channel, NotificationID: r.NotificationID, Sub: r.Sub, To: r.ToAddr,
		Kind: r.Kind, Attempts: r.Attempts, LastError: r.LastError, CreatedAt: r.CreatedAt.UTC(),
	}
	if r.Channel == store.ChannelEmail {
		d.MessageID = r.MessageID // a Teams row's is only its id again
	}
	if r.DeadAt != nil {
		d.DeadAt = r.DeadAt.UTC()
	}
	return d
}

// Delivery is the state of an outbox row.
type Delivery struct {
	ID            string
	Status        string // pending, sent, dead
	NextAttemptAt time.Time
}

// RetryDeadLetter puts the dead letter id back in the outbox, due now, with a
// fresh count of attempts. An unknown id is ErrNotFound; a row that is not
// dead is ErrNotDead, answered with its state.
func (s *Service) RetryDeadLetter(ctx context.Context, id string) (Delivery, error) {
	r, err := s.store.Revive(ctx, id, s.now())
	return Delivery{ID: r.ID, Status: r.Status, NextAttemptAt: r.NextAttemptAt.UTC()}, err
}
