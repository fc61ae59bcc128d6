// Package temporalx connects to Temporal with the platform's logging and
// OpenTelemetry wiring.
package temporalx

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"

	"github.com/plateforme-rome/rome/platform/config"
)

// DialTimeout bounds the eager connection attempt of Dial.
const DialTimeout = 3 * time.Second

// Options builds client options from TEMPORAL_ADDRESS (default
// 127.0.0.1:7233) and TEMPORAL_NAMESPACE (default "default"), with the SDK's
// OpenTelemetry tracing interceptor (spans flow from HTTP requests into
// workflows and activities) and metrics handler, and logger for the SDK.
func Options(logger *slog.Logger) (client.Options, error) {
	tracing, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{})
	if err != nil {
		return client.Options{}, err
	}
	return client.Options{
		HostPort:  config.String("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		Namespace: config.String("TEMPORAL_NAMESPACE", "default"),
		Logger:    tlog.NewStructuredLogger(logger.With("component", "temporal-sdk")),
		MetricsHandler: temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
			// The default panics on a meter error; a metric is not worth a crash.
			OnError:              func(err error) { logger.Warn("temporal metrics error", "error", err) },
			UseMonotonicCounters: true,
		}),
		Interceptors: []interceptor.ClientInterceptor{tracing},
	}, nil
}

// Dial connects to Temporal. When the server is not reachable within
// DialTimeout (or ctx) it returns a lazy client that connects on first use,
// so a service starts before Temporal does; its readiness check
// (httpx.TemporalCheck) reports the connection meanwhile.
func Dial(ctx context.Context, logger *slog.Logger) (client.Client, error) {
	opts, err := Options(logger)
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, DialTimeout)
	defer cancel()
	c, err := client.DialContext(dctx, opts)
	if err == nil {
		return c, nil
	}
	logger.WarnContext(ctx, "Temporal not reachable yet; connecting on first use",
		"address", opts.HostPort, "namespace", opts.Namespace, "error", err)
	return client.NewLazyClient(opts)
}
