package telemetry

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Kind is how a metric aggregates; with its unit it decides the metric's Prometheus names.
type Kind int

const (
	Counter   Kind = iota + 1 // a monotonic sum: Prometheus adds _total
	Gauge                     // a value read at each collection
	Histogram                 // Prometheus series _bucket, _sum and _count
)

// Metric is a metric the platform records. The instruments are created from these values
// and the Grafana dashboard and alert rules under deploy/ may query only the metrics and
// attributes listed in Metrics (a test checks), so a renamed instrument cannot leave a
// dashboard panel or an alert silently empty.
type Metric struct {
	Name        string // OpenTelemetry name; the collector's Prometheus exporter turns dots into underscores and adds unit and type suffixes
	Unit        string // UCUM; annotations in braces ({request}) are dropped from the Prometheus name
	Kind        Kind
	Description string
	Attributes  []attribute.Key
}

// Attributes of the platform's own metrics.
const (
	AttrRequestStatus       = attribute.Key("rome.request.status")
	AttrPublicationMode     = attribute.Key("rome.publication.mode") // PublicationImmediate or PublicationReleaseTrain
	AttrNotificationChannel = attribute.Key("rome.notification.channel")
	AttrNotificationKind    = attribute.Key("rome.notification.kind")
	AttrNotificationOutcome = attribute.Key("rome.notification.outcome") // OutcomeSent or OutcomeFailed
	AttrGraphOperation      = attribute.Key("rome.graph.operation")
	// AttrOutcome is what became of a referential change set or webhook delivery.
	AttrOutcome = attribute.Key("outcome")
)

// Values of AttrPublicationMode and AttrNotificationOutcome.
const (
	PublicationImmediate    = "immediate"
	PublicationReleaseTrain = "release_train"
	OutcomeSent             = "sent"
	OutcomeFailed           = "failed"
)

// Attributes the OpenTelemetry semantic conventions define, recorded by the HTTP
// instrumentation and by GraphErrors.
const (
	AttrHTTPRoute          = attribute.Key("http.route")
	AttrHTTPRequestMethod  = attribute.Key("http.request.method")
	AttrHTTPResponseStatus = attribute.Key("http.response.status_code")
	AttrServerAddress      = attribute.Key("server.address")
	AttrErrorType          = attribute.Key("error.type")
)

// The platform's metrics. A metric read from a database (the gauges) is reported by every
// replica of its service: dashboards take the max over instances, not the sum.
var (
	// RequestCount: the intake, from its projection of the requests.
	RequestCount = Metric{
		Name: "rome.request.count", Unit: "{request}", Kind: Gauge,
		Description: "Evolution requests by status, as the intake's projection holds them",
		Attributes:  []attribute.Key{AttrRequestStatus},
	}
	// RequestOverdueCount: the intake, with the reminders' delays of its configuration.
	RequestOverdueCount = Metric{
		Name: "rome.request.overdue.count", Unit: "{request}", Kind: Gauge,
		Description: "Open requests waiting in their status (triage, the moderator's decision, the partner's answer) longer than its first reminder allows",
		Attributes:  []attribute.Key{AttrRequestStatus},
	}
	// RequestPublicationDuration: the intake, when a request's published event is recorded.
	RequestPublicationDuration = Metric{
		Name: "rome.request.publication.duration", Unit: "s", Kind: Histogram,
		Description: "Time from a request's last decision to its publication in the referential",
		Attributes:  []attribute.Key{AttrPublicationMode},
	}
	// NotificationOutboxDepth: the notifications service, from its outbox.
	NotificationOutboxDepth = Metric{
		Name: "rome.notification.outbox.depth", Unit: "{delivery}", Kind: Gauge,
		Description: "Deliveries waiting in the notifications outbox (dead letters excluded)",
		Attributes:  []attribute.Key{AttrNotificationChannel},
	}
	// NotificationDeadLetterCount: the notifications service, from its outbox.
	NotificationDeadLetterCount = Metric{
		Name: "rome.notification.dead_letter.count", Unit: "{delivery}", Kind: Gauge,
		Description: "Deliveries given up (dead letters) and not revived",
		Attributes:  []attribute.Key{AttrNotificationChannel, AttrNotificationKind},
	}
	// NotificationDeliveryAttempts: the notifications service, as attempts are reported.
	NotificationDeliveryAttempts = Metric{
		Name: "rome.notification.delivery.attempts", Unit: "{attempt}", Kind: Counter,
		Description: "Delivery attempts, sent or failed",
		Attributes:  []attribute.Key{AttrNotificationChannel, AttrNotificationKind, AttrNotificationOutcome},
	}
	// GraphErrors: the worker's Microsoft Graph activities.
	GraphErrors = Metric{
		Name: "rome.graph.errors", Unit: "{error}", Kind: Counter,
		Description: "Microsoft Graph calls that failed, by operation and HTTP status code (none when no answer came)",
		Attributes:  []attribute.Key{AttrGraphOperation, AttrHTTPResponseStatus, AttrErrorType},
	}
	// ReferentialChangeSets: the referential.
	ReferentialChangeSets = Metric{
		Name: "rome.referential.changesets", Unit: "{changeset}", Kind: Counter,
		Description: "Change sets submitted for publication, by outcome (published, staged, replayed, conflict, invalid, error)",
		Attributes:  []attribute.Key{AttrOutcome},
	}
	// ReferentialVersion: the referential; replicas serving different versions differ here.
	ReferentialVersion = Metric{
		Name: "rome.referential.version", Unit: "{version}", Kind: Gauge,
		Description: "Referential version this instance serves (0 while empty)",
	}
	// ReferentialStagedChangeSets: the referential, under release trains only.
	ReferentialStagedChangeSets = Metric{
		Name: "rome.referential.staged_changesets", Unit: "{changeset}", Kind: Gauge,
		Description: "Change sets staged in the releases not published yet, returned ones aside (release trains only)",
	}
	// ReferentialWebhookAttempts: the referential's webhook deliveries.
	ReferentialWebhookAttempts = Metric{
		Name: "rome.referential.webhook.attempts", Unit: "{attempt}", Kind: Counter,
		Description: "Webhook delivery attempts, by outcome (delivered, retry, dead, gone)",
		Attributes:  []attribute.Key{AttrOutcome},
	}

	// HTTPServerRequestDuration is recorded by otelgin in every service (httpx.NewEngine).
	HTTPServerRequestDuration = Metric{
		Name: "http.server.request.duration", Unit: "s", Kind: Histogram,
		Description: "Duration of HTTP server requests",
		Attributes:  []attribute.Key{AttrHTTPRoute, AttrHTTPRequestMethod, AttrHTTPResponseStatus},
	}
	// HTTPClientRequestDuration is recorded by otelhttp on every outbound client (httpx.OutboundTransport).
	HTTPClientRequestDuration = Metric{
		Name: "http.client.request.duration", Unit: "s", Kind: Histogram,
		Description: "Duration of HTTP client requests",
		Attributes:  []attribute.Key{AttrServerAddress, AttrHTTPRequestMethod, AttrHTTPResponseStatus},
	}
)

// Metrics lists every metric above.
var Metrics = []Metric{
	RequestCount, RequestOverdueCount, RequestPublicationDuration,
	NotificationOutboxDepth, NotificationDeadLetterCount, NotificationDeliveryAttempts,
	GraphErrors,
	ReferentialChangeSets, ReferentialVersion, ReferentialStagedChangeSets, ReferentialWebhookAttempts,
	HTTPServerRequestDuration, HTTPClientRequestDuration,
}

// Int64Counter creates m, a Counter, on meter.
func (m Metric) Int64Counter(meter metric.Meter) (metric.Int64Counter, error) {
	return meter.Int64Counter(m.Name, metric.WithUnit(m.Unit), metric.WithDescription(m.Description))
}

// Int64ObservableGauge creates m, a Gauge, on meter; a callback in opts or registered with
// meter.RegisterCallback observes it.
func (m Metric) Int64ObservableGauge(meter metric.Meter, opts ...metric.Int64ObservableGaugeOption) (metric.Int64ObservableGauge, error) {
	return meter.Int64ObservableGauge(m.Name, append([]metric.Int64ObservableGaugeOption{
		metric.WithUnit(m.Unit), metric.WithDescription(m.Description)}, opts...)...)
}

// Float64Histogram creates m, a Histogram, on meter with the given bucket boundaries.
func (m Metric) Float64Histogram(meter metric.Meter, boundaries ...float64) (metric.Float64Histogram, error) {
	return meter.Float64Histogram(m.Name, metric.WithUnit(m.Unit), metric.WithDescription(m.Description),
		metric.WithExplicitBucketBoundaries(boundaries...))
}
