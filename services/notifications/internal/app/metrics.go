package app

import (
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// metrics are the instruments operators page on: per channel, the
// deliveries sent, the failed attempts and the dead letters (each with the
// attribute kind), and the outbox depth.
type metrics struct {
	byChannel map[string]counters
}

type counters struct {
	sent, failed, dead metric.Int64Counter
}

var (
	registerOnce sync.Once
	registered   *metrics
	registerErr  error
	depthStore   struct {
		sync.Mutex
		s *store.Store
	}
)

// newMetrics registers the service's instruments once per process:
// notifications.email.sent, .failed, .dead_lettered, the same under
// notifications.teams, and notifications.outbox.depth (attribute channel)
// of the latest store.
func newMetrics(s *store.Store) (*metrics, error) {
	depthStore.Lock()
	depthStore.s = s
	depthStore.Unlock()
	registerOnce.Do(func() {
		meter := otel.Meter("github.com/plateforme-rome/rome/services/notifications")
		m := &metrics{byChannel: map[string]counters{}}
		var errs []error
		counter := func(name, description string) metric.Int64Counter {
			c, err := meter.Int64Counter(name, metric.WithDescription(description))
			errs = append(errs, err)
			return c
		}
		m.byChannel[store.ChannelEmail] = counters{
			sent:   counter("notifications.email.sent", "E-mails accepted by the SMTP server"),
			failed: counter("notifications.email.failed", "Failed e-mail attempts"),
			dead:   counter("notifications.email.dead_lettered", "E-mails given up"),
		}
		m.byChannel[store.ChannelTeams] = counters{
			sent:   counter("notifications.teams.sent", "Teams activity-feed notifications the worker reported sent"),
			failed: counter("notifications.teams.failed", "Failed Teams activity-feed notification attempts"),
			dead:   counter("notifications.teams.dead_lettered", "Teams activity-feed notifications given up"),
		}
		_, err := meter.Int64ObservableGauge("notifications.outbox.depth",
			metric.WithDescription("Deliveries waiting in the outbox, per channel"),
			metric.WithInt64Callback(func(ctx context.Context, o metric.Int64Observer) error {
				depthStore.Lock()
				st := depthStore.s
				depthStore.Unlock()
				depth, err := st.OutboxDepth(ctx)
				if err != nil {
					return err
				}
				for channel, n := range depth {
					o.Observe(n, metric.WithAttributes(attribute.String("channel", channel)))
				}
				return nil
			}))
		registered, registerErr = m, errors.Join(append(errs, err)...)
	})
	return registered, registerErr
}

func (m *metrics) sent(ctx context.Context, r store.OutboxRow) {
	m.byChannel[r.Channel].sent.Add(ctx, 1, kind(r))
}

// failed counts a failed attempt, and the dead letter it made.
func (m *metrics) failed(ctx context.Context, r store.OutboxRow, dead bool) {
	c := m.byChannel[r.Channel]
	c.failed.Add(ctx, 1, kind(r))
	if dead {
		c.dead.Add(ctx, 1, kind(r))
	}
}

func kind(r store.OutboxRow) metric.AddOption {
	return metric.WithAttributes(attribute.String("kind", r.Kind))
}
