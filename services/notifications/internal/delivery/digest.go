package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// Schedule says when digests go out: every day at Hour:Minute in Location,
// or every Interval when it is set (tests, demos).
type Schedule struct {
	Hour, Minute int
	Location     *time.Location
	Interval     time.Duration
}

// ParseTime reads DIGEST_TIME ("HH:MM").
func ParseTime(s string) (hour, minute int, err error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, 0, fmt.Errorf("DIGEST_TIME must be HH:MM, got %q", s)
	}
	return t.Hour(), t.Minute(), nil
}

// Next is the first digest time strictly after now.
func (s Schedule) Next(now time.Time) time.Time {
	if s.Interval > 0 {
		return now.Add(s.Interval)
	}
	loc := s.Location
	if loc == nil {
		loc = time.Local
	}
	n := now.In(loc)
	at := time.Date(n.Year(), n.Month(), n.Day(), s.Hour, s.Minute, 0, 0, loc)
	if !at.After(n) {
		at = time.Date(n.Year(), n.Month(), n.Day()+1, s.Hour, s.Minute, 0, 0, loc)
	}
	return at
}

// Digests queues, at each scheduled time, one digest per user and channel
// with waiting items: an e-mail, which the dispatcher sends like any other,
// and a Teams activity-feed notification, which the worker claims.
type Digests struct {
	store    *store.Store
	schedule Schedule
	log      *slog.Logger
}

// NewDigests returns the digest scheduler.
func NewDigests(s *store.Store, sch Schedule, log *slog.Logger) *Digests {
	return &Digests{store: s, schedule: sch, log: log}
}

// Run waits for each scheduled time and queues the digests, until ctx is done.
func (d *Digests) Run(ctx context.Context) {
	for {
		t := time.NewTimer(time.Until(d.schedule.Next(time.Now())))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		n, err := d.Tick(context.WithoutCancel(ctx))
		if err != nil {
			d.log.ErrorContext(ctx, "digest run failed", "error", err)
		}
		d.log.InfoContext(ctx, "digests queued", "count", n)
	}
}

// Tick queues the digests of every user with waiting items, on every
// channel, and returns how many it queued.
func (d *Digests) Tick(ctx context.Context) (int, error) {
	queued := 0
	for _, channel := range store.Channels {
		subs, err := d.store.DigestUsers(ctx, channel)
		if err != nil {
			return queued, err
		}
		for _, sub := range subs {
			ok, err := d.store.QueueDigest(ctx, channel, sub)
			if err != nil {
				return queued, fmt.Errorf("%s digest of %s: %w", channel, sub, err)
			}
			if ok {
				queued++
			}
		}
	}
	return queued, nil
}
