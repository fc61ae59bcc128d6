package delivery

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// TeamsConfig tunes the Teams channel.
type TeamsConfig struct {
	Retry     RetryPolicy   // TEAMS_MAX_ATTEMPTS, TEAMS_RETRY_BASE, TEAMS_RETRY_MAX
	Lease     time.Duration // TEAMS_DELIVERY_LEASE: how long a claimed delivery is reserved to its worker
	PublicURL string        // base of the relative links
	InboxURL  string        // where a digest leads: absolute, or relative to PublicURL
}

// maxPreview is what the Teams activity feed shows of a preview text.
const maxPreview = 150

// Teams is the outbox's Teams channel. Only the worker may call Microsoft
// Graph, so it does not send: it leases due activity-feed notifications to
// the worker, composed as the feed will show them, and records the worker's
// reports under the same RetryPolicy as e-mail.
type Teams struct {
	store *store.Store
	cfg   TeamsConfig
	m     *Metrics
	log   *slog.Logger
}

// NewTeams returns the Teams channel.
func NewTeams(s *store.Store, cfg TeamsConfig, m *Metrics, log *slog.Logger) *Teams {
	return &Teams{store: s, cfg: cfg, m: m, log: log}
}

// Claim leases up to limit due Teams deliveries to owner, as store.Claim
// does for e-mails. Rows claimed before an error come back when their lease
// ends.
func (t *Teams) Claim(ctx context.Context, owner string, limit int) ([]notifclient.TeamsDelivery, error) {
	rows, err := t.store.Claim(ctx, store.ChannelTeams, owner, limit, t.cfg.Lease)
	if err != nil {
		return nil, err
	}
	out := make([]notifclient.TeamsDelivery, 0, len(rows))
	for _, r := range rows {
		d, err := t.compose(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("compose %s: %w", r.ID, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// compose is what the feed shows of a row: the notification, linking to
// its page (the inbox when it has none), or the digest's count and titles,
// linking to the inbox.
func (t *Teams) compose(ctx context.Context, r store.OutboxRow) (notifclient.TeamsDelivery, error) {
	d := notifclient.TeamsDelivery{ID: r.ID, Kind: r.Kind, Recipient: r.ToAddr, Attempt: r.Attempts}
	if r.Kind == store.KindDigest {
		items, err := t.store.DigestContent(ctx, r.ID)
		if err != nil {
			return d, err
		}
		titles := make([]string, len(items))
		for i, n := range items {
			titles[i] = n.Title
		}
		d.Topic, d.Preview = digestTitle(len(items)), preview(strings.Join(titles, " · "))
		d.Link = absolute(t.cfg.PublicURL, t.cfg.InboxURL)
		return d, nil
	}
	n, err := t.store.Notification(ctx, r.NotificationID)
	if err != nil {
		return d, err
	}
	d.Topic, d.Preview = n.Title, preview(cmp.Or(n.Text, n.Title))
	d.Link = absolute(t.cfg.PublicURL, cmp.Or(n.Link, t.cfg.InboxURL))
	return d, nil
}

// preview is s on one line, cut with "…" to what the feed shows.
func preview(s string) string {
	runes := []rune(strings.Join(strings.Fields(s), " "))
	if len(runes) <= maxPreview {
		return string(runes)
	}
	return string(runes[:maxPreview-1]) + "…"
}

// Report records owner's attempt at the Teams delivery id: sent, or failed
// as the RetryPolicy says, with Graph's Retry-After as the least delay. A
// report from an owner that does not hold the lease (it expired and the row
// was claimed again, or the attempt was already reported) changes nothing.
// A row of another channel is store.ErrNotFound.
func (t *Teams) Report(ctx context.Context, id string, res notifclient.TeamsResult) (notifclient.TeamsOutcome, error) {
	r, err := t.store.OutboxRow(ctx, store.ChannelTeams, id)
	if err != nil {
		return notifclient.TeamsOutcome{}, err
	}
	log := t.log.With("outbox_id", id, "owner", res.Owner, "attempt", r.Attempts)
	if res.Error == "" {
		recorded, err := t.store.MarkSent(ctx, id, res.Owner)
		if err != nil || !recorded {
			return t.unrecorded(ctx, log, id, err)
		}
		t.m.sent(ctx, r)
		log.InfoContext(ctx, "Teams notification sent")
		return notifclient.TeamsOutcome{Status: store.StatusSent, Recorded: true}, nil
	}
	f := t.cfg.Retry.Failed(r.Attempts, res.Error, res.Permanent, time.Duration(res.RetryAfterSeconds)*time.Second)
	recorded, err := t.store.MarkFailed(ctx, id, res.Owner, f)
	if err != nil || !recorded {
		return t.unrecorded(ctx, log, id, err)
	}
	t.m.failed(ctx, r, f)
	if f.Dead {
		log.ErrorContext(ctx, "Teams notification dead-lettered", "permanent", res.Permanent, "error", res.Error)
		return notifclient.TeamsOutcome{Status: store.StatusDead, Recorded: true}, nil
	}
	log.WarnContext(ctx, "Teams notification failed, will retry", "retry_in", f.Delay, "error", res.Error)
	return notifclient.TeamsOutcome{Status: store.StatusPending, Recorded: true}, nil
}

// unrecorded answers a report that changed nothing (err nil) with the row's
// current status.
func (t *Teams) unrecorded(ctx context.Context, log *slog.Logger, id string, err error) (notifclient.TeamsOutcome, error) {
	if err != nil {
		return notifclient.TeamsOutcome{}, err
	}
	r, err := t.store.OutboxRow(ctx, store.ChannelTeams, id)
	if err != nil {
		return notifclient.TeamsOutcome{}, err
	}
	log.WarnContext(ctx, "Teams report ignored: its owner does not hold the lease", "status", r.Status, "lease_owner", r.LeaseOwner)
	return notifclient.TeamsOutcome{Status: r.Status}, nil
}
