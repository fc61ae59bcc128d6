package app

import (
	"context"

	"go.opentelemetry.io/otel/metric"

	"github.com/plateforme-rome/rome/platform/telemetry"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// meterScope names the notifications service's instruments.
const meterScope = "github.com/plateforme-rome/rome/services/notifications"

// metrics count the delivery attempts (telemetry.NotificationDeliveryAttempts); the
// outbox's gauges are ObserveOutbox's.
type metrics struct {
	attempts metric.Int64Counter
}

func newMetrics(meter metric.Meter) (*metrics, error) {
	attempts, err := telemetry.NotificationDeliveryAttempts.Int64Counter(meter)
	return &metrics{attempts: attempts}, err
}

func (m *metrics) sent(ctx context.Context, r store.OutboxRow) {
	m.attempt(ctx, r, telemetry.OutcomeSent)
}

func (m *metrics) failed(ctx context.Context, r store.OutboxRow) {
	m.attempt(ctx, r, telemetry.OutcomeFailed)
}

func (m *metrics) attempt(ctx context.Context, r store.OutboxRow, outcome string) {
	m.attempts.Add(ctx, 1, metric.WithAttributes(telemetry.AttrNotificationChannel.String(r.Channel),
		telemetry.AttrNotificationKind.String(r.Kind), telemetry.AttrNotificationOutcome.String(outcome)))
}

// ObserveOutbox reports, at each collection of the meter, the deliveries waiting in the
// outbox by channel (telemetry.NotificationOutboxDepth, every channel, 0 included) and the
// dead letters by channel and kind (telemetry.NotificationDeadLetterCount). Read from the
// database, they are the same on every replica, and a revived dead letter leaves the count.
func (s *Service) ObserveOutbox() (metric.Registration, error) {
	depth, err := telemetry.NotificationOutboxDepth.Int64ObservableGauge(s.meter)
	if err != nil {
		return nil, err
	}
	dead, err := telemetry.NotificationDeadLetterCount.Int64ObservableGauge(s.meter)
	if err != nil {
		return nil, err
	}
	return s.meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		waiting, err := s.store.OutboxDepth(ctx)
		if err != nil {
			return err
		}
		for channel, n := range waiting {
			o.ObserveInt64(depth, n, metric.WithAttributes(telemetry.AttrNotificationChannel.String(channel)))
		}
		letters, err := s.store.DeadLetterCounts(ctx)
		if err != nil {
			return err
		}
		for _, l := range letters {
			o.ObserveInt64(dead, l.N, metric.WithAttributes(telemetry.AttrNotificationChannel.String(l.Channel),
				telemetry.AttrNotificationKind.String(l.Kind)))
		}
		return nil
	}, depth, dead)
}
