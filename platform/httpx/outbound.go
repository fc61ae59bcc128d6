package httpx

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/plateforme-rome/rome/platform/telemetry"
)

// OutboundTransport is the transport of every HTTP client of the platform: base
// (http.DefaultTransport when nil) under OpenTelemetry's, which makes each call a client
// span, sends its traceparent so that the service called continues the caller's trace, and
// records http.client.request.duration. Like the inbound middleware (NewEngine), only when
// telemetry is exported: otherwise there is no trace to continue, and the wrapper would
// still clone each request and compute its attributes for no-op providers.
func OutboundTransport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if !telemetry.Enabled() {
		return base
	}
	return otelhttp.NewTransport(base)
}
