package app

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/request"
)

// Visible loads a request, or answers 404 when it does not exist or belongs to another
// organisation than the partner's: a partner cannot tell the two apart.
func (s *Service) Visible(ctx context.Context, p auth.Principal, id string) (store.Row, error) {
	row, err := s.requests.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && p.Role == auth.RolePartner && row.Org != p.Org) {
		return store.Row{}, httpx.NotFound("request_not_found", "No request with this id is visible to you.")
	}
	return row, err
}

// HistoryItem is one entry of a request's history.
type HistoryItem struct {
	Seq   int             `json:"seq"`
	At    time.Time       `json:"at"`
	Actor request.Actor   `json:"actor"`
	Type  string          `json:"type"`
	Data  json.RawMessage `json:"data"`
}

// History is the recorded history of a request the caller may see.
func (s *Service) History(ctx context.Context, p auth.Principal, id string) ([]HistoryItem, error) {
	row, err := s.Visible(ctx, p, id)
	if err != nil {
		return nil, err
	}
	entries, err := s.requests.History(ctx, row.ID)
	if err != nil {
		return nil, err
	}
	items := make([]HistoryItem, len(entries))
	for i, e := range entries {
		items[i] = HistoryItem{Seq: e.Seq, At: e.At, Actor: e.Actor, Type: e.Type, Data: e.Data}
	}
	return items, nil
}

// Listing limits.
const (
	defaultLimit = 50
	maxLimit     = 200
	maxQuery     = 200
)

// ListQuery is the query of GET /v1/requests, as given (absent parameters are empty).
type ListQuery struct {
	Status, Kind, CodeRome, Org, Assignee, Text, Cursor, Overdue, Limit string
	// LimitSet tells a given limit from an absent one.
	LimitSet bool
}

// Page is a page of requests, each as its JSON document.
type Page struct {
	Items      []json.RawMessage `json:"items"`
	NextCursor *string           `json:"nextCursor"`
	Total      int64             `json:"total"`
}

// List lists the requests the caller may see: partners their organisation's only.
func (s *Service) List(ctx context.Context, p auth.Principal, q ListQuery) (Page, error) {
	f := store.Filter{Status: request.Status(q.Status), Kind: request.Kind(q.Kind), CodeRome: q.CodeRome,
		Org: q.Org, Assignee: q.Assignee, Text: q.Text, Cursor: q.Cursor, Limit: defaultLimit}
	if p.Role == auth.RolePartner {
		f.VisibleTo = p.Org
	}
	var errs fieldErrors
	if f.Status != "" && !slices.Contains(request.Statuses, f.Status) {
		errs.add("status", "must be one of the request statuses, e.g. AWAITING_TRIAGE")
	}
	if f.Kind != "" && !slices.Contains(request.Kinds, f.Kind) {
		errs.add("kind", "must be one of %s", kindList())
	}
	if f.CodeRome != "" && !request.CodeRomePattern.MatchString(f.CodeRome) {
		errs.add("codeRome", "must be a code ROME, e.g. M1805")
	}
	if n := utf8.RuneCountInString(f.Text); n > maxQuery {
		errs.add("q", "must have at most %d characters", maxQuery)
	}
	switch q.Overdue {
	case "", "false":
	case "true":
		f.Waits = s.overdue()
	default:
		errs.add("overdue", "must be true or false")
	}
	if q.LimitSet {
		n, err := strconv.Atoi(q.Limit)
		if err != nil || n < 1 || n > maxLimit {
			errs.add("limit", "must be an integer from 1 to %d", maxLimit)
		}
		f.Limit = n
	}
	if len(errs) > 0 {
		return Page{}, httpx.Unprocessable("invalid_query", "The query parameters are invalid.", errs...)
	}
	page, err := s.requests.List(ctx, f)
	if errors.Is(err, store.ErrBadCursor) {
		return Page{}, httpx.Unprocessable("invalid_query", "The cursor is invalid.",
			httpx.FieldError{Field: "cursor", Message: "must be a nextCursor returned by this listing"})
	}
	if err != nil {
		return Page{}, err
	}
	out := Page{Items: page.Items, Total: page.Total}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return out, nil
}

// overdue selects the open requests that have waited in their status longer than the
// first reminder of that wait: triage, the moderator's decision, the partner's answer.
func (s *Service) overdue() []store.Wait {
	now := s.cfg.Now()
	return []store.Wait{
		{Status: request.StatusAwaitingTriage, Since: now.Add(-s.cfg.Timers.TriageReminder)},
		{Status: request.StatusInReview, Since: now.Add(-s.cfg.Timers.DecisionReminder)},
		{Status: request.StatusAwaitingPartner, Since: now.Add(-s.cfg.Timers.PartnerReminder)},
	}
}

// Preview is the referential's dry run of what the request would publish now
// (request.PublishedOperations: the moderator's amendments in place of the amended
// operations, without the rejected ones).
func (s *Service) Preview(ctx context.Context, p auth.Principal, id string) (*refclient.Validation, error) {
	row, err := s.Visible(ctx, p, id)
	if err != nil {
		return nil, err
	}
	var r request.Request
	if err := json.Unmarshal(row.State, &r); err != nil {
		return nil, err
	}
	ops := r.PublishedOperations()
	if len(ops) == 0 {
		return nil, httpx.Conflict("nothing_to_preview", "Every operation of this request was rejected.").With("currentStatus", r.Status)
	}
	v, err := s.referential.Validate(ctx, refclient.ChangeSet{RequestID: r.ID, CodeRome: r.CodeRome, Operations: ops})
	if err != nil {
		return nil, referentialProblem(ctx, err, "preview this request", "workflow_id", request.WorkflowID(r.ID))
	}
	return v, nil
}

// referentialProblem answers a failed call to the referential: 502 when it refused what
// it was asked (to do what), 503 when it could not be reached. The log names the call
// with attrs.
func referentialProblem(ctx context.Context, err error, what string, attrs ...any) *httpx.Problem {
	attrs = append(attrs, "error", err)
	var refErr *refclient.Error
	if errors.As(err, &refErr) && !refErr.Temporary() {
		slog.ErrorContext(ctx, "the referential refused to "+what, attrs...)
		return httpx.NewProblem(http.StatusBadGateway, "referential_refused", "The referential refused to "+what+" ("+refErr.Code+").")
	}
	slog.WarnContext(ctx, "referential unavailable: cannot "+what, attrs...)
	return httpx.NewProblem(http.StatusServiceUnavailable, "referential_unavailable", "The referential cannot be reached; retry later.")
}
