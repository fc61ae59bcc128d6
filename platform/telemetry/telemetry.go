// Package telemetry sets up OpenTelemetry traces and metrics for a process.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Setup installs the global tracer and meter providers and the W3C
// trace-context + baggage propagator. Exporters follow the standard OTEL_*
// variables (autoexport: otlp, console, prometheus, none). A signal is
// exported only when its OTEL_<SIGNAL>_EXPORTER is set to something other
// than "none" or an OTLP endpoint is configured; otherwise it stays a no-op,
// so a developer machine needs no collector and makes no connection attempt.
// The returned function flushes and stops what was started.
func Setup(ctx context.Context, service string) (shutdown func(context.Context) error, err error) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		slog.Warn("opentelemetry error", "error", err)
	}))

	var stops []func(context.Context) error
	shutdown = func(ctx context.Context) error {
		var errs []error
		for _, stop := range stops {
			errs = append(errs, stop(ctx))
		}
		return errors.Join(errs...)
	}
	tracesOn, metricsOn := enabled("TRACES"), enabled("METRICS")
	if !tracesOn && !metricsOn {
		slog.DebugContext(ctx, "telemetry export disabled: no OTEL exporter or endpoint configured")
		return shutdown, nil
	}

	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", service), attribute.String("service.instance.id", instanceID())),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
		resource.WithTelemetrySDK(),
	)
	if err != nil {
		return shutdown, err
	}

	if tracesOn {
		exp, err := autoexport.NewSpanExporter(ctx)
		if err != nil {
			return shutdown, err
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
		otel.SetTracerProvider(tp)
		stops = append(stops, tp.Shutdown)
	}
	if metricsOn {
		reader, err := autoexport.NewMetricReader(ctx)
		if err != nil {
			return shutdown, errors.Join(err, shutdown(ctx))
		}
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithResource(res))
		otel.SetMeterProvider(mp)
		stops = append(stops, mp.Shutdown)
	}
	slog.InfoContext(ctx, "telemetry export enabled", "traces", tracesOn, "metrics", metricsOn)
	return shutdown, nil
}

// instanceID names this process among the replicas of its service: the collector's
// Prometheus exporter makes it the instance label, without which the replicas' series
// would write over each other. The pod's or container's host name, and the process id
// for replicas sharing a host.
func instanceID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

// Enabled reports whether traces or metrics are exported: without either, there is nothing
// for request instrumentation to record (httpx.NewEngine then leaves it out).
func Enabled() bool { return enabled("TRACES") || enabled("METRICS") }

// enabled reports whether a signal (TRACES, METRICS) should be exported.
func enabled(signal string) bool {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	if exp := strings.TrimSpace(os.Getenv("OTEL_" + signal + "_EXPORTER")); exp != "" {
		return exp != "none"
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_"+signal+"_ENDPOINT") != ""
}
