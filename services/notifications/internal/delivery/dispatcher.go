package delivery

import (
	"context"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/services/notifications/internal/app"
)

// Clock is the time the loops wait on: the wall clock in production, a fake
// one that tests move by hand.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time                         { return time.Now() }
func (wallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Config tunes the dispatcher.
type Config struct {
	Poll  time.Duration // how often due e-mails are looked for (OUTBOX_POLL_INTERVAL)
	Batch int           // e-mails claimed per poll
	Clock Clock         // nil: the wall clock
}

// Dispatcher sends the outbox's e-mails: at every poll, the service claims
// the due ones for it, sends them through its mailer and records each
// attempt (app.Service.DeliverEmails).
type Dispatcher struct {
	svc    *app.Service
	mailer app.Mailer
	owner  string
	cfg    Config
	log    *slog.Logger
}

// NewDispatcher returns a dispatcher sending through mailer; owner identifies
// its leases (e.g. the host name and process id).
func NewDispatcher(svc *app.Service, mailer app.Mailer, owner string, cfg Config, log *slog.Logger) *Dispatcher {
	if cfg.Clock == nil {
		cfg.Clock = wallClock{}
	}
	return &Dispatcher{svc: svc, mailer: mailer, owner: owner, cfg: cfg, log: log}
}

// Run polls until ctx is done, then returns after the batch in flight: a stop
// never abandons a message between sending it and recording it (the batch has
// the lease's time at most).
func (d *Dispatcher) Run(ctx context.Context) {
	for {
		if _, err := d.Tick(context.WithoutCancel(ctx)); err != nil {
			d.log.ErrorContext(ctx, "outbox dispatch failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-d.cfg.Clock.After(d.cfg.Poll):
		}
	}
}

// Tick sends the e-mails due now and returns how many it sent.
func (d *Dispatcher) Tick(ctx context.Context) (int, error) {
	return d.svc.DeliverEmails(ctx, d.mailer, d.owner, d.cfg.Batch)
}

// Domain is the domain of a sender address, for Message-IDs.
func Domain(from string) string {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return "localhost"
	}
	_, domain, ok := strings.Cut(a.Address, "@")
	if !ok || domain == "" {
		return "localhost"
	}
	return domain
}
