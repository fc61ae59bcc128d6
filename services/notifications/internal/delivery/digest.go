package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/plateforme-rome/rome/services/notifications/internal/app"
)

// Schedule says when digests go out: every day at Hour:Minute in Location,
// or every Interval when it is set (tests, demos). Every replica computes the
// same digest times, whenever it started.
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
		return now.Truncate(s.Interval).Add(s.Interval)
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

// Digests has the service queue the digests (app.Service.QueueDigests) at
// each scheduled time.
type Digests struct {
	svc      *app.Service
	schedule Schedule
	clock    Clock
	log      *slog.Logger
}

// NewDigests returns the digest scheduler; a nil clock is the wall clock.
func NewDigests(svc *app.Service, sch Schedule, clock Clock, log *slog.Logger) *Digests {
	if clock == nil {
		clock = wallClock{}
	}
	return &Digests{svc: svc, schedule: sch, clock: clock, log: log}
}

// Run waits for each scheduled time and queues the digests of the items made
// before it, until ctx is done.
func (d *Digests) Run(ctx context.Context) {
	for {
		now := d.clock.Now()
		at := d.schedule.Next(now)
		select {
		case <-ctx.Done():
			return
		case <-d.clock.After(at.Sub(now)):
		}
		n, err := d.svc.QueueDigests(context.WithoutCancel(ctx), at)
		if err != nil {
			d.log.ErrorContext(ctx, "digest run failed", "error", err)
		}
		d.log.InfoContext(ctx, "digests queued", "count", n)
	}
}
