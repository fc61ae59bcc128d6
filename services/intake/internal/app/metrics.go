package app

import (
	"context"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/plateforme-rome/rome/platform/telemetry"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/request"
)

// meterScope names the intake's instruments.
const meterScope = "github.com/plateforme-rome/rome/services/intake"

// publicationBuckets bound the publication delays, in seconds: a few seconds when each
// decision is published at once, up to months when it waits for a release train.
var publicationBuckets = []float64{
	1, 5, 15, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600, 30 * 24 * 3600, 90 * 24 * 3600, 180 * 24 * 3600,
}

// metrics are the instruments the use cases record on (the gauges are ObserveRequests').
type metrics struct {
	publication metric.Float64Histogram
}

func newMetrics(meter metric.Meter) *metrics {
	h, err := telemetry.RequestPublicationDuration.Float64Histogram(meter, publicationBuckets...)
	if err != nil {
		// Only an invalid name or unit fails, and the instrument still works as a no-op.
		otel.Handle(err)
	}
	return &metrics{publication: h}
}

// published records how long after its last decision the request e publishes was published.
func (m *metrics) published(ctx context.Context, e request.Event) {
	var decided time.Time
	for _, op := range e.Request.Operations {
		if op.Decision != nil && op.Decision.DecidedAt.After(decided) {
			decided = op.Decision.DecidedAt
		}
	}
	if decided.IsZero() {
		return
	}
	mode := telemetry.PublicationImmediate
	if e.Request.Release != nil {
		mode = telemetry.PublicationReleaseTrain
	}
	m.publication.Record(ctx, e.At.Sub(decided).Seconds(), metric.WithAttributes(telemetry.AttrPublicationMode.String(mode)))
}

// StatusCounter counts the requests by status, and the overdue ones among them (the store).
type StatusCounter interface {
	CountByStatus(ctx context.Context, waits []store.Wait) ([]store.StatusCount, error)
}

// ObserveRequests reports, at each collection of the meter, the requests by status
// (telemetry.RequestCount, every status, 0 included) and the requests overdue in each
// status that has a reminder (telemetry.RequestOverdueCount), as counts counts them.
func (s *Service) ObserveRequests(counts StatusCounter) (metric.Registration, error) {
	total, err := telemetry.RequestCount.Int64ObservableGauge(s.cfg.Meter)
	if err != nil {
		return nil, err
	}
	overdue, err := telemetry.RequestOverdueCount.Int64ObservableGauge(s.cfg.Meter)
	if err != nil {
		return nil, err
	}
	return s.cfg.Meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		waits := s.overdue()
		rows, err := counts.CountByStatus(ctx, waits)
		if err != nil {
			return err
		}
		byStatus := make(map[request.Status]store.StatusCount, len(rows))
		for _, r := range rows {
			byStatus[r.Status] = r
		}
		for _, st := range request.Statuses {
			o.ObserveInt64(total, byStatus[st].Total, metric.WithAttributes(telemetry.AttrRequestStatus.String(string(st))))
		}
		for _, w := range waits {
			o.ObserveInt64(overdue, byStatus[w.Status].Overdue, metric.WithAttributes(telemetry.AttrRequestStatus.String(string(w.Status))))
		}
		return nil
	}, total, overdue)
}
