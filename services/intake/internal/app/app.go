// Package app holds the intake's use cases: submitting a request, changing it through its
// workflow, reading and listing requests, previewing what a request would publish, and
// what the worker and Microsoft Graph report. Each use case takes the caller, the decoded
// input and the context, and answers a result or a problem (httpx.Problem): the HTTP
// handlers decode and render, the rules, the idempotency records, the projection and the
// workflow starts are here.
package app

import (
	"context"
	"errors"
	"net/url"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/request"
)

// Requests is the request store: history, projection, overlaps and idempotency records.
type Requests interface {
	Get(ctx context.Context, id string) (store.Row, error)
	Create(ctx context.Context, r request.Request, key *store.Idempotency) error
	Discard(ctx context.Context, id string) (removed bool, err error)
	List(ctx context.Context, f store.Filter) (store.Page, error)
	History(ctx context.Context, requestID string) ([]store.Entry, error)
	Idempotency(ctx context.Context, scope, key string) (store.Idempotency, bool, error)
	SaveIdempotency(ctx context.Context, rec store.Idempotency) error
	RecordEvent(ctx context.Context, e request.Event) (store.Recorded, error)
	FindOverlaps(ctx context.Context, q request.OverlapQuery) ([]request.Overlap, error)
	RequestByTeamsChannel(ctx context.Context, channelID string) (string, bool, error)
	EachRequest(ctx context.Context, fn func(store.Row) error) error
	// What contribution statistics read.
	Filed(ctx context.Context, from, to time.Time, org string) ([]store.Filed, error)
	Reactions(ctx context.Context, from, to time.Time, org string, types []string) ([]store.Reaction, error)
	OverdueByOrg(ctx context.Context, waits []store.Wait, org string) (map[string]int, error)
	Loads(ctx context.Context, statuses []request.Status, waits []store.Wait) ([]store.Load, error)
}

// Workflows is what the use cases ask of the request workflows.
type Workflows interface {
	// Start starts the workflow of a submitted request. Starting one that was already
	// started (a retried submission) succeeds and changes nothing.
	Start(ctx context.Context, in request.Input) error
	// Update sends an update and waits for its outcome: the request after it, or a
	// refusal (request.AsRejection), ErrWorkflowClosed or ErrWorkflowUnavailable.
	Update(ctx context.Context, u Update) (request.UpdateResult, error)
	// Signal sends a signal to a request's workflow, without waiting for it to be handled.
	Signal(ctx context.Context, requestID, name string, arg any) error
	// StartRelease starts the workflow that cuts release n (release.WorkflowID(n)), unless
	// it is running already: then it succeeds and starts nothing.
	StartRelease(ctx context.Context, n int) error
}

// Update is one update of a request's workflow.
type Update struct {
	RequestID string
	Name      string // request.UpdateAssign, …
	// ID deduplicates retries (derived from the caller's Idempotency-Key); empty: a new update.
	ID  string
	Arg any
}

var (
	// ErrWorkflowClosed: the request's workflow has completed; it takes no more updates.
	ErrWorkflowClosed = errors.New("the request's workflow has completed")
	// ErrWorkflowUnavailable: Temporal could not be reached, or did not answer in time.
	ErrWorkflowUnavailable = errors.New("the request's workflow is unavailable")
)

// Referential dry-runs change sets (the preview of a request) and names the open release.
type Referential interface {
	Validate(ctx context.Context, cs refclient.ChangeSet) (*refclient.Validation, error)
	NextRelease(ctx context.Context) (*refclient.Release, error)
}

// Config is what the use cases need beyond their collaborators.
type Config struct {
	// Timers are given to every new request's workflow; the overdue filter uses them too.
	Timers request.Timers
	// PublicURL is where people reach the intake: links in notifications and Teams lead to
	// PublicURL/v1/requests/{id}, unless ConsoleURL is set.
	PublicURL string
	// ConsoleURL is the web console's address; when set, links lead to the request's page
	// there (ConsoleURL/demandes/{id}).
	ConsoleURL string
	// Teams configures the requests' Teams channels; nil runs requests without Teams.
	Teams *request.TeamsConfig
	// AssignInTurn: checked requests go to the moderators in turn (ASSIGNMENT_RULE=round_robin).
	AssignInTurn bool
	// Now is the clock (submission times, the overdue filter); nil is time.Now.
	Now func() time.Time
	// Meter records the requests' metrics (see metrics.go); nil is the global meter provider's.
	Meter metric.Meter
}

// Service runs the intake's use cases.
type Service struct {
	requests    Requests
	workflows   Workflows
	referential Referential
	cfg         Config
	metrics     *metrics
}

// New builds the service.
func New(requests Requests, workflows Workflows, referential Referential, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Meter == nil {
		cfg.Meter = otel.Meter(meterScope)
	}
	return &Service{requests: requests, workflows: workflows, referential: referential, cfg: cfg, metrics: newMetrics(cfg.Meter)}
}

// link is the request's page for people, where notifications and Teams lead: the web
// console's when it is configured, else the request in the API.
func (s *Service) link(id string) string {
	if s.cfg.ConsoleURL != "" {
		return s.cfg.ConsoleURL + "/demandes/" + url.PathEscape(id)
	}
	return s.cfg.PublicURL + "/v1/requests/" + url.PathEscape(id)
}

// Answer is what a creating or changing use case answers: an HTTP status and the JSON
// document, the same for the first call and for its retries (Replayed).
type Answer struct {
	Status   int
	Body     []byte
	Replayed bool
	// RequestID is the request the call created or changed.
	RequestID string
}
