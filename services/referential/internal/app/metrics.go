package app

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/plateforme-rome/rome/platform/telemetry"
)

// meterScope names the referential's instruments.
const meterScope = "github.com/plateforme-rome/rome/services/referential"

// metrics are what operators watch on the referential: the version it serves (a replica
// stuck on an old one), publications, conflicts (requests sent back to moderators) and,
// under release trains, the change sets waiting for the next release.
type metrics struct {
	publications metric.Int64Counter
}

func newMetrics(s *Service, meter metric.Meter) *metrics {
	if meter == nil {
		meter = otel.Meter(meterScope)
	}
	m := &metrics{}
	m.publications, _ = telemetry.ReferentialChangeSets.Int64Counter(meter)
	_, _ = telemetry.ReferentialVersion.Int64ObservableGauge(meter,
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			if st := s.Current(); st != nil {
				o.Observe(int64(st.Version()))
			} else {
				o.Observe(0)
			}
			return nil
		}))
	_, _ = telemetry.ReferentialStagedChangeSets.Int64ObservableGauge(meter,
		metric.WithInt64Callback(func(ctx context.Context, o metric.Int64Observer) error {
			if !s.ReleaseTrains() {
				return nil
			}
			n, err := s.store.CountPendingChangeSets(ctx)
			if err != nil {
				return err
			}
			o.Observe(n)
			return nil
		}))
	return m
}

// publication counts one change set by outcome.
func (m *metrics) publication(ctx context.Context, outcome string) {
	m.publications.Add(ctx, 1, metric.WithAttributes(telemetry.AttrOutcome.String(outcome)))
}
