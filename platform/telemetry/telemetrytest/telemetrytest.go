// Package telemetrytest reads what instruments recorded, for the tests of the code that
// records the platform's metrics (telemetry.Metrics).
package telemetrytest

import (
	"context"
	"slices"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/plateforme-rome/rome/platform/telemetry"
)

// Reader collects, on demand, what the meters of its provider recorded.
type Reader struct {
	t      testing.TB
	reader *sdkmetric.ManualReader
}

// NewProvider returns a meter provider of its own (not the global one, so tests may run in
// parallel) and the Reader of its measurements.
func NewProvider(t testing.TB) (metric.MeterProvider, *Reader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp, &Reader{t: t, reader: reader}
}

// NewMeter is NewProvider's meter for the tests of one component.
func NewMeter(t testing.TB) (metric.Meter, *Reader) {
	t.Helper()
	mp, r := NewProvider(t)
	return mp.Meter("telemetrytest"), r
}

// Metric collects now and returns m. The test fails unless m was reported with the unit
// and kind that telemetry lists for it and with none but its listed attributes.
func (r *Reader) Metric(m telemetry.Metric) metricdata.Metrics {
	r.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(r.t.Context(), &rm); err != nil {
		r.t.Fatalf("collecting %s: %v", m.Name, err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, got := range sm.Metrics {
			if got.Name != m.Name {
				continue
			}
			if got.Unit != m.Unit {
				r.t.Errorf("%s: unit %q, listed as %q", m.Name, got.Unit, m.Unit)
			}
			r.checkKind(m, got.Data)
			for _, set := range attributeSets(got.Data) {
				for _, kv := range set.ToSlice() {
					if !slices.Contains(m.Attributes, kv.Key) {
						r.t.Errorf("%s: recorded with attribute %s, not listed among %v", m.Name, kv.Key, m.Attributes)
					}
				}
			}
			return got
		}
	}
	r.t.Fatalf("%s was not reported", m.Name)
	return metricdata.Metrics{}
}

// checkKind fails the test unless data is what m's kind makes of the instruments the
// telemetry.Metric helpers create (int64 counters and gauges, float64 histograms).
func (r *Reader) checkKind(m telemetry.Metric, data metricdata.Aggregation) {
	r.t.Helper()
	ok := false
	switch d := data.(type) {
	case metricdata.Sum[int64]:
		ok = m.Kind == telemetry.Counter && d.IsMonotonic
	case metricdata.Gauge[int64]:
		ok = m.Kind == telemetry.Gauge
	case metricdata.Histogram[float64]:
		ok = m.Kind == telemetry.Histogram
	}
	if !ok {
		r.t.Errorf("%s: recorded as %T, listed as kind %d", m.Name, data, m.Kind)
	}
}

// Int64 returns the value m (an int64 Counter or Gauge) had with exactly attrs; the test
// fails when no such value was reported.
func (r *Reader) Int64(m telemetry.Metric, attrs ...attribute.KeyValue) int64 {
	r.t.Helper()
	want := attribute.NewSet(attrs...)
	var points []metricdata.DataPoint[int64]
	switch d := r.Metric(m).Data.(type) {
	case metricdata.Sum[int64]:
		points = d.DataPoints
	case metricdata.Gauge[int64]:
		points = d.DataPoints
	}
	for _, p := range points {
		if p.Attributes.Equals(&want) {
			return p.Value
		}
	}
	r.t.Fatalf("%s has no value with %v; values: %+v", m.Name, attrs, points)
	return 0
}

// Histogram returns the histogram of m (a float64 Histogram) with exactly attrs; the test
// fails when none was reported.
func (r *Reader) Histogram(m telemetry.Metric, attrs ...attribute.KeyValue) metricdata.HistogramDataPoint[float64] {
	r.t.Helper()
	want := attribute.NewSet(attrs...)
	h, _ := r.Metric(m).Data.(metricdata.Histogram[float64])
	for _, p := range h.DataPoints {
		if p.Attributes.Equals(&want) {
			return p
		}
	}
	r.t.Fatalf("%s has no histogram with %v; histograms: %+v", m.Name, attrs, h.DataPoints)
	return metricdata.HistogramDataPoint[float64]{}
}

func attributeSets(data metricdata.Aggregation) []attribute.Set {
	var sets []attribute.Set
	switch d := data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			sets = append(sets, p.Attributes)
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			sets = append(sets, p.Attributes)
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			sets = append(sets, p.Attributes)
		}
	}
	return sets
}
