package app

import (
	"context"
	crand "crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/plateforme-rome/rome/platform/telemetry"
	"github.com/plateforme-rome/rome/platform/textrule"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
	"github.com/plateforme-rome/rome/services/referential/internal/webhook"
	"github.com/plateforme-rome/rome/workflows/request"
)

// Webhooks registers the consumers' endpoints and delivers the referential's events to
// them (webhooks_dispatch.go). Events are recorded by the publication itself (the outbox,
// store.Publish), so a replica that stops loses nothing: any replica's dispatcher delivers
// what is pending.
type Webhooks struct {
	store  *store.Store
	cfg    WebhookConfig
	client *http.Client
	owner  string // this dispatcher's name in the leases it takes

	attempts metric.Int64Counter
}

// WebhookConfig tunes the webhooks; the zero value of each field takes its default.
type WebhookConfig struct {
	Now    func() time.Time // the clock: time.Now
	Jitter func() float64   // a draw in [0, 1) that spreads retries: math/rand
	// AllowPrivate lets endpoints be on loopback or private addresses: the dev stack and
	// the tests, never a production deployment (WEBHOOK_ALLOW_PRIVATE).
	AllowPrivate bool
	Schedule     webhook.Schedule // webhook.DefaultSchedule
	Timeout      time.Duration    // how long a consumer has to answer: 15 s
	Concurrency  int              // endpoints delivered at once by a pass: 16
	Log          *slog.Logger     // slog.Default()
	Meter        metric.Meter     // counts the attempts: the global meter provider's
}

// SecretGrace is how long a rotated secret keeps signing alongside its successor: a day
// for the consumer to deploy the new one.
const SecretGrace = 24 * time.Hour

// NewWebhooks creates the registry and dispatcher.
func NewWebhooks(s *store.Store, cfg WebhookConfig) *Webhooks {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	if cfg.Schedule == (webhook.Schedule{}) {
		cfg.Schedule = webhook.DefaultSchedule
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Meter == nil {
		cfg.Meter = otel.Meter(meterScope)
	}
	w := &Webhooks{store: s, cfg: cfg, client: webhook.Client(cfg.Timeout, cfg.AllowPrivate), owner: "dispatcher-" + crand.Text()}
	w.attempts, _ = telemetry.ReferentialWebhookAttempts.Int64Counter(cfg.Meter)
	return w
}

// EndpointRequest is the body of POST /v1/webhooks.
type EndpointRequest struct {
	URL       string   `json:"url"`
	Events    []string `json:"events"`
	CodesRome []string `json:"codesRome"`
}

// EndpointInfo is a registered endpoint, without its secret.
type EndpointInfo struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	CodesRome []string  `json:"codesRome"`
	CreatedBy string    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
	Enabled   bool      `json:"enabled"`
	// DisabledAt and DisabledReason: when and why deliveries stopped (a 410 Gone).
	DisabledAt     *time.Time `json:"disabledAt"`
	DisabledReason string     `json:"disabledReason,omitempty"`
	// FailingSince is the first of the current run of failed attempts; NextAttemptAt the
	// retry it waits for.
	FailingSince  *time.Time `json:"failingSince"`
	NextAttemptAt *time.Time `json:"nextAttemptAt"`
	// PreviousSecretExpiresAt is the end of a rotation's grace period, while the previous
	// secret still signs.
	PreviousSecretExpiresAt *time.Time `json:"previousSecretExpiresAt"`
}

// NewEndpoint is an endpoint just registered, or whose secret was just rotated, with its
// secret shown this once.
type NewEndpoint struct {
	EndpointInfo
	Secret string `json:"secret"`
}

func (w *Webhooks) info(e store.WebhookEndpoint) EndpointInfo {
	i := EndpointInfo{ID: e.ID, URL: e.URL, Events: e.EventTypes(), CodesRome: e.Codes(), CreatedBy: e.CreatedBy,
		CreatedAt: e.CreatedAt.UTC(), Enabled: e.DisabledAt == nil, DisabledAt: utc(e.DisabledAt), DisabledReason: e.DisabledReason,
		FailingSince: utc(e.FailingSince)}
	if e.FailingSince != nil {
		i.NextAttemptAt = utc(&e.NextAttemptAt)
	}
	if len(e.Secrets(w.cfg.Now())) > 1 {
		i.PreviousSecretExpiresAt = utc(e.PreviousSecretUntil)
	}
	return i
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Limits of an endpoint's registration.
var (
	webhookURLRule = textrule.Rule{Name: "URL", Max: webhook.MaxURLLength}
	maxCodesRome   = 2000 // more than the fiches of the referential
)

// checkEndpoint validates a registration and returns it cleaned (lists deduplicated).
func (w *Webhooks) checkEndpoint(req EndpointRequest) (EndpointRequest, error) {
	u, p := textrule.Check("url", req.URL, webhookURLRule)
	if p == nil && u == "" {
		p = &textrule.Problem{Field: "url", Message: "is required"}
	}
	if p != nil {
		return req, &InvalidError{p.Field, "invalid_webhook_url", p.Message}
	}
	if _, err := webhook.CheckURL(u, w.cfg.AllowPrivate); err != nil {
		return req, &InvalidError{"url", "invalid_webhook_url", err.Error()}
	}
	if len(req.Events) == 0 {
		return req, &InvalidError{"events", "invalid_webhook_events", "at least one event type is required"}
	}
	events := []string{}
	for i, e := range req.Events {
		if !slices.Contains(webhook.Types, e) {
			return req, &InvalidError{fmt.Sprintf("events[%d]", i), "invalid_webhook_events",
				fmt.Sprintf("unknown event type: the types are %v", webhook.Types)}
		}
		if !slices.Contains(events, e) {
			events = append(events, e)
		}
	}
	if len(req.CodesRome) > maxCodesRome {
		return req, &InvalidError{"codesRome", "invalid_codes_rome", fmt.Sprintf("at most %d codes ROME", maxCodesRome)}
	}
	codes := []string{}
	for i, c := range req.CodesRome {
		if !request.CodeRomePattern.MatchString(c) {
			return req, &InvalidError{fmt.Sprintf("codesRome[%d]", i), "invalid_codes_rome", "a code ROME is a letter A to N and four digits (M1805)"}
		}
		if !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	return EndpointRequest{URL: u, Events: events, CodesRome: codes}, nil
}

// Register validates and stores an endpoint. It receives the events published from now on.
func (w *Webhooks) Register(ctx context.Context, req EndpointRequest, admin string) (*NewEndpoint, error) {
	req, err := w.checkEndpoint(req)
	if err != nil {
		return nil, err
	}
	e := store.WebhookEndpoint{ID: "wh_" + crand.Text(), URL: req.URL, Events: store.JoinList(req.Events),
		CodesRome: store.JoinList(req.CodesRome), Secret: webhook.NewSecret(), CreatedBy: admin, CreatedAt: w.cfg.Now().UTC()}
	if err := w.store.CreateWebhookEndpoint(ctx, e); err != nil {
		return nil, err
	}
	return &NewEndpoint{EndpointInfo: w.info(e), Secret: e.Secret}, nil
}

// Ids are what this service gives (anything else names nothing, and never reaches the
// database, which refuses some bytes, NUL first).
var (
	endpointIDPattern = regexp.MustCompile(`^wh_[A-Z2-7]{26}$`)
	messageIDPattern  = regexp.MustCompile(`^msg_[0-9a-f]{24}$`)
)

// Endpoints lists every endpoint.
func (w *Webhooks) Endpoints(ctx context.Context) ([]EndpointInfo, error) {
	es, err := w.store.WebhookEndpoints(ctx)
	out := make([]EndpointInfo, 0, len(es))
	for _, e := range es {
		out = append(out, w.info(e))
	}
	return out, err
}

// Endpoint returns one endpoint; ok is false when there is none with this id.
func (w *Webhooks) Endpoint(ctx context.Context, id string) (EndpointInfo, bool, error) {
	if !endpointIDPattern.MatchString(id) {
		return EndpointInfo{}, false, nil
	}
	e, ok, err := w.store.WebhookEndpoint(ctx, id)
	if err != nil || !ok {
		return EndpointInfo{}, false, err
	}
	return w.info(e), true, nil
}

// Delete removes an endpoint and its delivery log.
func (w *Webhooks) Delete(ctx context.Context, id string) (bool, error) {
	if !endpointIDPattern.MatchString(id) {
		return false, nil
	}
	return w.store.DeleteWebhookEndpoint(ctx, id)
}

// RotateSecret gives an endpoint a new secret; the current one keeps signing alongside it
// for SecretGrace (each delivery then carries both signatures).
func (w *Webhooks) RotateSecret(ctx context.Context, id string) (*NewEndpoint, bool, error) {
	if !endpointIDPattern.MatchString(id) {
		return nil, false, nil
	}
	secret := webhook.NewSecret()
	if ok, err := w.store.RotateWebhookSecret(ctx, id, secret, w.cfg.Now().Add(SecretGrace)); err != nil || !ok {
		return nil, false, err
	}
	e, ok, err := w.store.WebhookEndpoint(ctx, id)
	if err != nil || !ok {
		return nil, false, err
	}
	return &NewEndpoint{EndpointInfo: w.info(e), Secret: secret}, true, nil
}

// Enable resumes deliveries to an endpoint a 410 Gone disabled.
func (w *Webhooks) Enable(ctx context.Context, id string) (EndpointInfo, bool, error) {
	if !endpointIDPattern.MatchString(id) {
		return EndpointInfo{}, false, nil
	}
	if ok, err := w.store.EnableWebhookEndpoint(ctx, id, w.cfg.Now()); err != nil || !ok {
		return EndpointInfo{}, false, err
	}
	return w.Endpoint(ctx, id)
}

// DeliveryInfo is a line of an endpoint's delivery log.
type DeliveryInfo struct {
	ID            string     `json:"id"` // the webhook-id
	EventType     string     `json:"eventType"`
	Version       int        `json:"version"`
	CodeRome      string     `json:"codeRome,omitempty"`
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	CreatedAt     time.Time  `json:"createdAt"`
	LastAttemptAt *time.Time `json:"lastAttemptAt"`
	// LastStatusCode is the HTTP status of the last answer (null: no attempt, or no answer).
	LastStatusCode *int       `json:"lastStatusCode"`
	LastError      string     `json:"lastError,omitempty"`
	DeliveredAt    *time.Time `json:"deliveredAt"`
	DeadAt         *time.Time `json:"deadAt"`
}

// AttemptInfo is one attempt of a delivery.
type AttemptInfo struct {
	N          int       `json:"n"`
	At         time.Time `json:"at"`
	StatusCode *int      `json:"statusCode"`
	Error      string    `json:"error,omitempty"`
	DurationMS int64     `json:"durationMs"`
}

// DeliveryDetail is a delivery with the body it sends and every attempt.
type DeliveryDetail struct {
	DeliveryInfo
	Payload json.RawMessage `json:"payload"`
	History []AttemptInfo   `json:"history"`
}

func status(code int) *int {
	if code == 0 {
		return nil
	}
	return &code
}

func deliveryInfo(d store.DeliveryView) DeliveryInfo {
	return DeliveryInfo{ID: d.ID, EventType: d.Type, Version: d.Version, CodeRome: d.CodeRome, State: d.State, Attempts: d.Attempts,
		CreatedAt: d.CreatedAt.UTC(), LastAttemptAt: utc(d.LastAttemptAt), LastStatusCode: status(d.LastStatus), LastError: d.LastError,
		DeliveredAt: utc(d.DeliveredAt), DeadAt: utc(d.DeadAt)}
}

// DeliveryStates are the states a delivery log can be filtered by.
var DeliveryStates = []string{store.DeliveryPending, store.DeliveryDelivered, store.DeliveryDead}

// DeliveryPage is a page of a delivery log, newest first; Next is empty on the last page.
type DeliveryPage struct {
	Items []DeliveryInfo
	Next  string
}

// Deliveries reads an endpoint's delivery log, newest first, in state when given, from the
// cursor a previous page gave (empty: the newest). ok is false for an unknown endpoint;
// a cursor this service did not give is an *InvalidError.
func (w *Webhooks) Deliveries(ctx context.Context, id, state, cursor string, limit int) (*DeliveryPage, bool, error) {
	if _, ok, err := w.Endpoint(ctx, id); err != nil || !ok {
		return nil, false, err
	}
	var before int64
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n <= 0 {
			return nil, true, &InvalidError{"cursor", "invalid_cursor", "not a cursor of this delivery log"}
		}
		before = n
	}
	ds, err := w.store.WebhookDeliveries(ctx, id, state, before, limit+1)
	if err != nil {
		return nil, true, err
	}
	page := &DeliveryPage{Items: make([]DeliveryInfo, 0, min(len(ds), limit))}
	for i, d := range ds {
		if i == limit {
			page.Next = strconv.FormatInt(ds[i-1].Seq, 10)
			break
		}
		page.Items = append(page.Items, deliveryInfo(d))
	}
	return page, true, nil
}

// Delivery returns one delivery of an endpoint by its webhook-id, with its attempts.
func (w *Webhooks) Delivery(ctx context.Context, id, msgID string) (*DeliveryDetail, bool, error) {
	if !endpointIDPattern.MatchString(id) || !messageIDPattern.MatchString(msgID) {
		return nil, false, nil
	}
	d, as, ok, err := w.store.WebhookDelivery(ctx, id, msgID)
	if err != nil || !ok {
		return nil, false, err
	}
	detail := &DeliveryDetail{DeliveryInfo: deliveryInfo(d), Payload: json.RawMessage(d.Payload), History: make([]AttemptInfo, 0, len(as))}
	for _, a := range as {
		detail.History = append(detail.History, AttemptInfo{N: a.N, At: a.At.UTC(), StatusCode: status(a.Status), Error: a.Error, DurationMS: a.DurationMS})
	}
	return detail, true, nil
}

// ErrDeliveryPending is a replay of a delivery still in its endpoint's queue.
var ErrDeliveryPending = fmt.Errorf("the delivery is still pending: it is delivered or retried on its own")

// Replay queues a delivery again (a dead letter, or a delivered one the consumer lost),
// with the same webhook-id. ok is false when the endpoint has no such delivery.
func (w *Webhooks) Replay(ctx context.Context, id, msgID string) (*DeliveryDetail, bool, error) {
	d, ok, err := w.Delivery(ctx, id, msgID)
	if err != nil || !ok {
		return nil, false, err
	}
	if d.State == store.DeliveryPending {
		return nil, true, ErrDeliveryPending
	}
	if _, err := w.store.ReplayWebhookDeliveries(ctx, id, msgID, w.cfg.Now()); err != nil {
		return nil, true, err
	}
	return w.Delivery(ctx, id, msgID)
}

// ReplayDead queues every dead letter of an endpoint again, in their order; ok is false
// for an unknown endpoint.
func (w *Webhooks) ReplayDead(ctx context.Context, id string) (int64, bool, error) {
	if _, ok, err := w.Endpoint(ctx, id); err != nil || !ok {
		return 0, false, err
	}
	n, err := w.store.ReplayWebhookDeliveries(ctx, id, "", w.cfg.Now())
	return n, true, err
}
