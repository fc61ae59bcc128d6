package app

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// maxPreview is what the Teams activity feed shows of a preview text.
const maxPreview = 150

// ClaimTeams leases up to max Teams deliveries due now to owner (a worker:
// only the worker may call Microsoft Graph, so the service does not send
// them), composed as the activity feed will show them. Each must be reported
// (ReportTeams) before its lease ends, or it is handed out again. Rows claimed
// before an error come back when their lease ends.
func (s *Service) ClaimTeams(ctx context.Context, owner string, max int) ([]notifclient.TeamsDelivery, error) {
	now := s.now()
	rows, err := s.store.Claim(ctx, store.ChannelTeams, owner, max, now, now.Add(s.cfg.Teams.Lease))
	if err != nil {
		return nil, err
	}
	out := make([]notifclient.TeamsDelivery, 0, len(rows))
	for _, r := range rows {
		d, err := s.composeFeed(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("compose %s: %w", r.ID, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// composeFeed is what the feed shows of a row: the notification, linking to
// its page (the inbox when it has none), or the digest's count and titles,
// linking to the inbox.
func (s *Service) composeFeed(ctx context.Context, r store.OutboxRow) (notifclient.TeamsDelivery, error) {
	d := notifclient.TeamsDelivery{ID: r.ID, Kind: r.Kind, Recipient: r.ToAddr, Attempt: r.Attempts,
		LeaseSeconds: int(s.cfg.Teams.Lease / time.Second)}
	if r.Kind == store.KindDigest {
		items, err := s.store.DigestContent(ctx, r.ID)
		if err != nil {
			return d, err
		}
		titles := make([]string, len(items))
		for i, n := range items {
			titles[i] = n.Title
		}
		d.Topic, d.Preview = digestTitle(len(items)), preview(strings.Join(titles, " · "))
		d.Link = s.absolute(s.cfg.InboxURL)
		return d, nil
	}
	n, err := s.store.Notification(ctx, r.NotificationID)
	if err != nil {
		return d, err
	}
	d.Topic, d.Preview = n.Title, preview(cmp.Or(n.Text, n.Title))
	d.Link = s.absolute(cmp.Or(n.Link, s.cfg.InboxURL))
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

// ReportTeams records a worker's attempt at the Teams delivery id, as
// DeliverEmails records its own: sent, or failed as the Teams RetryPolicy
// says, with Graph's Retry-After as the least delay. A report from an owner
// that does not hold the lease changes nothing (Recorded false). An id that
// is not a Teams delivery is ErrNotFound.
func (s *Service) ReportTeams(ctx context.Context, id string, res notifclient.TeamsResult) (notifclient.TeamsOutcome, error) {
	r, err := s.store.OutboxRow(ctx, store.ChannelTeams, id)
	if err != nil {
		return notifclient.TeamsOutcome{}, err
	}
	status, recorded, err := s.record(ctx, r, Attempt{
		Owner: res.Owner, Error: res.Error, Permanent: res.Permanent, RetryAfter: time.Duration(res.RetryAfterSeconds) * time.Second,
	})
	return notifclient.TeamsOutcome{Status: status, Recorded: recorded}, err
}
