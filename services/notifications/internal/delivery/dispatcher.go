package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// Sender delivers one message (SMTP in production).
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Config tunes the dispatcher.
type Config struct {
	From        string        // SMTP_FROM
	MaxAttempts int           // SMTP_MAX_ATTEMPTS, then the dead-letter list
	BaseBackoff time.Duration // delay after the first failure, doubled each time
	MaxBackoff  time.Duration // cap of the delay
	Lease       time.Duration // how long a claimed row is reserved to its claimer
	Poll        time.Duration // how often due rows are looked for
	Batch       int           // rows claimed per poll
	PublicURL   string        // base of the links in e-mails
}

// Dispatcher sends the outbox: it claims due rows with a lease, sends each,
// and marks it sent, or failed with an exponential backoff, or dead after
// the last attempt. A row is sent at most once per successful claim; the
// one window for a duplicate is a crash (or lost database) between the
// SMTP server's acceptance and the mark, after which the lease expires and
// the row is sent again, with the same Message-ID header so that mail
// clients show it once.
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
	rows, err := d.store.Claim(ctx, d.owner, d.cfg.Batch, d.cfg.Lease)
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
		marked, merr := d.store.MarkSent(ctx, r)
		if merr != nil {
			return false, fmt.Errorf("mark %s sent: %w", r.ID, merr)
		}
		if !marked {
			d.log.WarnContext(ctx, "e-mail sent after its lease expired", "outbox_id", r.ID, "message_id", r.MessageID)
		}
		d.m.sent.Add(ctx, 1, metric.WithAttributes(attribute.String("kind", r.Kind)))
		d.log.InfoContext(ctx, "e-mail sent", "outbox_id", r.ID, "message_id", r.MessageID, "attempt", r.Attempts)
		return true, nil
	}
	var perm *PermanentError
	dead := errors.As(err, &perm) || r.Attempts >= d.cfg.MaxAttempts
	next := time.Now().Add(d.backoff(r.Attempts))
	d.m.failed.Add(ctx, 1, metric.WithAttributes(attribute.String("kind", r.Kind)))
	if dead {
		d.m.dead.Add(ctx, 1, metric.WithAttributes(attribute.String("kind", r.Kind)))
		d.log.ErrorContext(ctx, "e-mail dead-lettered", "outbox_id", r.ID, "attempts", r.Attempts, "error", err)
	} else {
		d.log.WarnContext(ctx, "e-mail failed, will retry", "outbox_id", r.ID, "attempts", r.Attempts, "next", next, "error", err)
	}
	if merr := d.store.MarkFailed(ctx, r, truncate(err.Error(), 1000), next, dead); merr != nil {
		return false, fmt.Errorf("mark %s failed: %w", r.ID, merr)
	}
	return false, nil
}

// backoff is BaseBackoff·2^(attempts-1), capped at MaxBackoff.
func (d *Dispatcher) backoff(attempts int) time.Duration {
	delay := d.cfg.BaseBackoff
	for i := 1; i < attempts && delay < d.cfg.MaxBackoff; i++ {
		delay *= 2
	}
	return min(delay, d.cfg.MaxBackoff)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func (d *Dispatcher) compose(ctx context.Context, r store.OutboxRow) (Message, error) {
	m := Message{ID: r.MessageID, From: d.cfg.From, To: r.ToAddr}
	var b strings.Builder
	if r.Kind == store.KindDigest {
		items, err := d.store.DigestContent(ctx, r.ID)
		if err != nil {
			return m, err
		}
		m.Subject = fmt.Sprintf("[ROME] Your daily digest: %d notification(s)", len(items))
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
		link := n.Link
		if strings.HasPrefix(link, "/") {
			link = strings.TrimSuffix(d.cfg.PublicURL, "/") + link
		}
		b.WriteString(indent + "Link: " + link + "\n")
	}
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

// Metrics are the instruments operators page on.
type Metrics struct {
	sent, failed, dead metric.Int64Counter
}

var (
	metricsOnce sync.Once
	metrics     *Metrics
	metricsErr  error
	depthStore  struct {
		sync.Mutex
		s *store.Store
	}
)

// NewMetrics registers the service's instruments once per process (sent,
// failed, dead-lettered e-mails, and the outbox depth of the latest store).
func NewMetrics(s *store.Store) (*Metrics, error) {
	depthStore.Lock()
	depthStore.s = s
	depthStore.Unlock()
	metricsOnce.Do(func() {
		meter := otel.Meter("github.com/plateforme-rome/rome/services/notifications")
		m := &Metrics{}
		var errs [4]error
		m.sent, errs[0] = meter.Int64Counter("notifications.email.sent", metric.WithDescription("E-mails accepted by the SMTP server"))
		m.failed, errs[1] = meter.Int64Counter("notifications.email.failed", metric.WithDescription("Failed e-mail attempts"))
		m.dead, errs[2] = meter.Int64Counter("notifications.email.dead_lettered", metric.WithDescription("E-mails given up after their last attempt"))
		_, errs[3] = meter.Int64ObservableGauge("notifications.outbox.depth",
			metric.WithDescription("E-mails waiting in the outbox"),
			metric.WithInt64Callback(func(ctx context.Context, o metric.Int64Observer) error {
				depthStore.Lock()
				st := depthStore.s
				depthStore.Unlock()
				n, err := st.OutboxDepth(ctx)
				if err != nil {
					return err
				}
				o.Observe(n)
				return nil
			}))
		metrics, metricsErr = m, errors.Join(errs[:]...)
	})
	return metrics, metricsErr
}
