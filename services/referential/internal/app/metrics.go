package app

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// metrics are what operators watch on the referential: the version it serves (a replica
// stuck on an old one), publications, conflicts (requests sent back to moderators) and,
// under release trains, the change sets waiting for the next release.
type metrics struct {
	publications metric.Int64Counter
}

func newMetrics(s *Service) *metrics {
	meter := otel.Meter("github.com/plateforme-rome/rome/services/referential")
	m := &metrics{}
	m.publications, _ = meter.Int64Counter("rome.referential.changesets",
		metric.WithDescription("Change sets submitted for publication, by outcome (published, staged, replayed, conflict, invalid, error)"))
	_, _ = meter.Int64ObservableGauge("rome.referential.version",
		metric.WithDescription("Referential version this instance serves (0 while empty)"),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			if st := s.Current(); st != nil {
				o.Observe(int64(st.Version()))
			} else {
				o.Observe(0)
			}
			return nil
		}))
	_, _ = meter.Int64ObservableGauge("rome.referential.staged_changesets",
		metric.WithDescription("Change sets staged in the releases not published yet, returned ones aside (release trains only)"),
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
	m.publications.Add(ctx, 1, metric.WithAttributes(attribute.String("outcome", outcome)))
}
