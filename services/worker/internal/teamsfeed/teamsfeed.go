// Package teamsfeed delivers the notifications service's Teams outbox from the worker (the
// one process linking Microsoft Graph): it claims due deliveries, sends each to the
// person's Teams activity feed, and reports the outcome. The service keeps the retries,
// the backoff and the dead letters, as for e-mails.
package teamsfeed

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/plateforme-rome/rome/activities/teams"
	"github.com/plateforme-rome/rome/clients/notifclient"
)

// Outbox is the notifications service's side (its client).
type Outbox interface {
	ClaimTeamsDeliveries(ctx context.Context, owner string, max int) ([]notifclient.TeamsDelivery, error)
	ReportTeamsDelivery(ctx context.Context, id string, r notifclient.TeamsResult) (notifclient.TeamsOutcome, error)
}

// Sender sends one activity-feed notification (teams.ActivityFeed).
type Sender interface {
	Send(ctx context.Context, n teams.FeedNotification) error
}

// Config tunes the loop.
type Config struct {
	Owner string           // names this worker's leases (host and process id)
	Batch int              // deliveries claimed at a time
	Poll  time.Duration    // pause between claims when the outbox is empty
	Now   func() time.Time // the clock the leases are kept by; nil is time.Now
}

// Loop claims, sends and reports until its context ends.
type Loop struct {
	outbox Outbox
	sender Sender
	cfg    Config
	log    *slog.Logger
}

// New returns the delivery loop.
func New(outbox Outbox, sender Sender, cfg Config, log *slog.Logger) *Loop {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Loop{outbox: outbox, sender: sender, cfg: cfg, log: log}
}

// reportMargin is the time a delivery's lease keeps for its report: a send still going
// then is cut, and the deliveries left are not sent.
const reportMargin = 5 * time.Second

// Run delivers until ctx is done; a full batch is followed at once by the next claim.
func (l *Loop) Run(ctx context.Context) {
	for {
		n, err := l.Tick(ctx)
		if err != nil && ctx.Err() == nil {
			l.log.WarnContext(ctx, "Teams notifications not delivered", "error", err)
		}
		if n == l.cfg.Batch && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(l.cfg.Poll):
		}
	}
}

// Tick claims one batch, sends each delivery and reports it; it returns the batch's size.
// A delivery whose report is lost is claimed again once its lease expires, and sent again:
// Graph has no idempotency key for activity notifications. So the batch keeps within its
// lease (counted from before the claim): once it nearly ends, as when Graph answers slowly,
// the deliveries left are not sent (another claim takes them when it ends), and a send
// still going then is cut and reported as failed, before another worker could take it.
func (l *Loop) Tick(ctx context.Context) (int, error) {
	claimed := l.cfg.Now()
	batch, err := l.outbox.ClaimTeamsDeliveries(ctx, l.cfg.Owner, l.cfg.Batch)
	if err != nil {
		return 0, err
	}
	var errs []error
	for i, d := range batch {
		deadline := claimed.Add(time.Duration(d.LeaseSeconds)*time.Second - reportMargin)
		if !l.cfg.Now().Before(deadline) {
			l.log.WarnContext(ctx, "Teams notifications left for a later claim: their lease is ending", "count", len(batch)-i)
			break
		}
		sendCtx, cancel := context.WithDeadline(ctx, deadline)
		result := outcome(l.sender.Send(sendCtx, teams.FeedNotification{UserID: d.Recipient, Topic: d.Topic, Preview: d.Preview, Link: d.Link}))
		cancel()
		result.Owner = l.cfg.Owner
		got, err := l.outbox.ReportTeamsDelivery(context.WithoutCancel(ctx), d.ID, result)
		switch {
		case err != nil:
			errs = append(errs, err)
		case !got.Recorded:
			l.log.WarnContext(ctx, "Teams notification reported after its lease expired", "delivery", d.ID)
		case result.Error != "":
			l.log.WarnContext(ctx, "Teams notification failed", "delivery", d.ID, "attempt", d.Attempt, "status", got.Status, "error", result.Error)
		}
	}
	return len(batch), errors.Join(errs...)
}

// outcome is a send's report: Graph's refusals are permanent, its throttling carries
// Retry-After.
func outcome(err error) notifclient.TeamsResult {
	if err == nil {
		return notifclient.TeamsResult{}
	}
	r := notifclient.TeamsResult{Error: err.Error()}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		r.Error = app.Message()
		r.Permanent = app.Type() == teams.ErrTypeRejected
		r.RetryAfterSeconds = int(math.Ceil(app.NextRetryDelay().Seconds()))
	}
	return r
}
