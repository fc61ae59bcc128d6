package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// Sender delivers one message (SMTP in production).
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Config tunes the dispatcher.
type Config struct {
	From      string        // SMTP_FROM
	Retry     RetryPolicy   // SMTP_MAX_ATTEMPTS, SMTP_RETRY_BASE, SMTP_RETRY_MAX
	Lease     time.Duration // how long a claimed row is reserved to its claimer
	Poll      time.Duration // how often due rows are looked for
	Batch     int           // rows claimed per poll
	PublicURL string        // base of the relative links in e-mails
}

// Dispatcher sends the e-mails of the outbox: it claims due rows with a
// lease, sends each, and marks it sent, or failed as its RetryPolicy says.
// A row is sent at most once per successful claim; the one window for a
// duplicate is a crash (or lost database) between the SMTP server's
// acceptance and the mark, after which the lease expires and the row is
// sent again, with the same Message-ID header so that mail clients show it
// once.
type Dispatcher struct {
	store  *store.Store
	sender Sender
	cfg    Config
	owner  string
	log    *slog.Logger
	m      *Metrics
}

// NewDispatcher returns a dispatcher; owner identifies its leases (e.g. the
// host name and process id).
func NewDispatcher(s *store.Store, sender Sender, cfg Config, owner string, m *Metrics, log *slog.Logger) *Dispatcher {
	return &Dispatcher{store: s, sender: sender, cfg: cfg, owner: owner, log: log, m: m}
}

// Run polls until ctx is done, then returns after the batch in flight. The
// rows of a batch are sent with a context that outlives ctx by the lease at
// most, so a stop never abandons a message between sending and marking it.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(d.cfg.Poll)
	defer t.Stop()
	for {
		if _, err := d.Tick(context.WithoutCancel(ctx)); err != nil {
			d.log.ErrorContext(ctx, "outbox dispatch failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick sends the rows due now and returns how many it sent.
func (d *Dispatcher) Tick(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Lease)
	defer cancel()
	rows, err := d.store.Claim(ctx, store.ChannelEmail, d.owner, d.cfg.Batch, d.cfg.Lease)
	sent := 0
	for _, r := range rows {
		ok, serr := d.deliver(ctx, r)
		if ok {
			sent++
		}
		err = errors.Join(err, serr)
	}
	return sent, err
}

func (d *Dispatcher) deliver(ctx context.Context, r store.OutboxRow) (bool, error) {
	msg, err := d.compose(ctx, r)
	if err == nil {
		err = d.sender.Send(ctx, msg)
	}
	if err == nil {
		marked, merr := d.store.MarkSent(ctx, r.ID, r.LeaseOwner)
		if merr != nil {
			return false, fmt.Errorf("mark %s sent: %w", r.ID, merr)
		}
		if !marked {
			d.log.WarnContext(ctx, "e-mail sent after its lease expired", "outbox_id", r.ID, "message_id", r.MessageID)
		}
		d.m.sent(ctx, r)
		d.log.InfoContext(ctx, "e-mail sent", "outbox_id", r.ID, "message_id", r.MessageID, "attempt", r.Attempts)
		return true, nil
	}
	var perm *PermanentError
	f := d.cfg.Retry.Failed(r.Attempts, err.Error(), errors.As(err, &perm), 0)
	d.m.failed(ctx, r, f)
	if f.Dead {
		d.log.ErrorContext(ctx, "e-mail dead-lettered", "outbox_id", r.ID, "attempts", r.Attempts, "error", err)
	} else {
		d.log.WarnContext(ctx, "e-mail failed, will retry", "outbox_id", r.ID, "attempts", r.Attempts, "retry_in", f.Delay, "error", err)
	}
	if _, merr := d.store.MarkFailed(ctx, r.ID, r.LeaseOwner, f); merr != nil {
		return false, fmt.Errorf("mark %s failed: %w", r.ID, merr)
	}
	return false, nil
}

func (d *Dispatcher) compose(ctx context.Context, r store.OutboxRow) (Message, error) {
	m := Message{ID: r.MessageID, From: d.cfg.From, To: r.ToAddr}
	var b strings.Builder
	if r.Kind == store.KindDigest {
		items, err := d.store.DigestContent(ctx, r.ID)
		if err != nil {
			return m, err
		}
		m.Subject = "[ROME] " + digestTitle(len(items))
		b.WriteString("What happened on the Plateforme du ROME since your last digest:\n\n")
		for _, n := range items {
			b.WriteString("- " + n.CreatedAt.UTC().Format("2006-01-02 15:04") + " UTC " + n.Title + "\n")
			d.writeDetails(&b, n, "  ")
		}
	} else {
		n, err := d.store.Notification(ctx, r.NotificationID)
		if err != nil {
			return m, err
		}
		m.Subject = "[ROME] " + n.Title
		b.WriteString(n.Title + "\n\n")
		d.writeDetails(&b, n, "")
	}
	b.WriteString("\n--\nPlateforme du ROME. Choose what you receive in your notification preferences.\n")
	m.Body = b.String()
	return m, nil
}

func (d *Dispatcher) writeDetails(b *strings.Builder, n store.Notification, indent string) {
	if n.Text != "" {
		b.WriteString(indent + n.Text + "\n")
	}
	if n.RequestID != "" {
		b.WriteString(indent + "Request: " + n.RequestID + "\n")
	}
	if n.CodeRome != "" {
		b.WriteString(indent + "Fiche: " + n.CodeRome + "\n")
	}
	if n.Link != "" {
		b.WriteString(indent + "Link: " + absolute(d.cfg.PublicURL, n.Link) + "\n")
	}
}

// digestTitle names a digest of n notifications, on every channel.
func digestTitle(n int) string {
	return fmt.Sprintf("Your daily digest: %d notification(s)", n)
}

// absolute resolves a link relative to the platform (starting with "/")
// against its public URL.
func absolute(publicURL, link string) string {
	if strings.HasPrefix(link, "/") {
		return strings.TrimSuffix(publicURL, "/") + link
	}
	return link
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
