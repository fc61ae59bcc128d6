package httpx

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/plateforme-rome/rome/platform/telemetry"
)

// clearTelemetryEnv leaves no OTEL_* setting that would make telemetry.Enabled true.
func clearTelemetryEnv(t *testing.T) {
	for _, k := range []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"} {
		t.Setenv(k, "")
	}
}

// exportTelemetry stands for telemetry.Setup with an exporter configured: telemetry.Enabled
// is true and the global providers record in memory.
func exportTelemetry(t *testing.T) (*tracetest.SpanRecorder, *sdkmetric.ManualReader) {
	clearTelemetryEnv(t)
	t.Setenv("OTEL_TRACES_EXPORTER", "console") // only telemetry.Enabled reads it here
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	prevTP, prevMP, prevProp := otel.GetTracerProvider(), otel.GetMeterProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() {
		otel.SetTracerProvider(prevTP)
		otel.SetMeterProvider(prevMP)
		otel.SetTextMapPropagator(prevProp)
		_ = tp.Shutdown(t.Context())
		_ = mp.Shutdown(t.Context())
	})
	return spans, reader
}

// A call made with the context of a span (an activity's, say) carries its trace to the
// service called, whose handler continues it: one trace, caller → client span → server span.
func TestOutboundCallContinuesTheCallersTrace(t *testing.T) {
	spans, reader := exportTelemetry(t)
	var (
		header  string
		handled trace.SpanContext
	)
	r := NewEngine("referential")
	r.GET("/v1/fiches/:code", func(c *gin.Context) {
		header = c.GetHeader("traceparent")
		handled = trace.SpanContextFromContext(c.Request.Context())
		c.Status(http.StatusNoContent)
	})
	srv := httptest.NewServer(r)
	defer srv.Close()

	ctx, caller := otel.Tracer("test").Start(t.Context(), "activity")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v1/fiches/M1805", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&http.Client{Transport: OutboundTransport(nil)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	caller.End()

	traceID := caller.SpanContext().TraceID()
	if !strings.Contains(header, traceID.String()) {
		t.Fatalf("traceparent %q does not carry the caller's trace %s", header, traceID)
	}
	if handled.TraceID() != traceID {
		t.Fatalf("the handler runs in trace %s, not the caller's %s", handled.TraceID(), traceID)
	}
	client, server := endedSpan(t, spans, trace.SpanKindClient), endedSpan(t, spans, trace.SpanKindServer)
	if client.Parent().SpanID() != caller.SpanContext().SpanID() || client.SpanContext().TraceID() != traceID {
		t.Errorf("the client span is not the caller's child: parent %s", client.Parent().SpanID())
	}
	if server.Parent().SpanID() != client.SpanContext().SpanID() || server.SpanContext().SpanID() != handled.SpanID() {
		t.Errorf("the server span is not the client span's child: parent %s", server.Parent().SpanID())
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, m := range []telemetry.Metric{telemetry.HTTPServerRequestDuration, telemetry.HTTPClientRequestDuration} {
		checkHTTPMetric(t, rm, m)
	}
}

// endedSpan waits for the span of kind to end: the server's ends after its answer is sent.
func endedSpan(t *testing.T, spans *tracetest.SpanRecorder, kind trace.SpanKind) sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, s := range spans.Ended() {
			if s.SpanKind() == kind {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s span ended", kind)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkHTTPMetric fails the test unless the instrumentation recorded m as telemetry lists
// it, with every attribute the dashboards may query.
func checkHTTPMetric(t *testing.T, rm metricdata.ResourceMetrics, m telemetry.Metric) {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, got := range sm.Metrics {
			if got.Name != m.Name {
				continue
			}
			h, ok := got.Data.(metricdata.Histogram[float64])
			if !ok || got.Unit != m.Unit || m.Kind != telemetry.Histogram || len(h.DataPoints) == 0 {
				t.Fatalf("%s recorded as %T in %q, listed as kind %d in %q", m.Name, got.Data, got.Unit, m.Kind, m.Unit)
			}
			var keys []attribute.Key
			for _, kv := range h.DataPoints[0].Attributes.ToSlice() {
				keys = append(keys, kv.Key)
			}
			for _, k := range m.Attributes {
				if !slices.Contains(keys, k) {
					t.Errorf("%s has no attribute %s (it has %v)", m.Name, k, keys)
				}
			}
			return
		}
	}
	t.Errorf("%s was not recorded", m.Name)
}

// Without an exporter, clients keep their own transport: nothing would be exported, and
// the instrumentation costs each call.
func TestOutboundTransportIsTheBaseWithoutExport(t *testing.T) {
	clearTelemetryEnv(t)
	base := &http.Transport{}
	if got := OutboundTransport(base); got != base {
		t.Errorf("OutboundTransport(base) = %T, want base itself", got)
	}
	if got := OutboundTransport(nil); got != http.DefaultTransport {
		t.Errorf("OutboundTransport(nil) = %T, want http.DefaultTransport", got)
	}
}
