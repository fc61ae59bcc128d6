package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/request"
)

// startTimeout bounds a workflow start. The start outlives a caller who hangs up: a
// request is either started or discarded, never left half-done.
const startTimeout = 10 * time.Second

// submit files a new request: one transaction writes its projection (so that it can be
// read as soon as it is acknowledged) and the idempotency record, then its workflow is
// started. A start that fails removes the projection and answers 503: no request exists
// without its workflow.
func (h *handlers) submit(c *gin.Context) {
	p := principal(c)
	var body submission
	if err := httpx.BindJSON(c, &body); err != nil {
		_ = c.Error(err)
		return
	}
	key, err := idempotencyOf(c, p, body)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if errs := body.validate(); len(errs) > 0 {
		_ = c.Error(httpx.Unprocessable("invalid_body", "The request is invalid.", errs...))
		return
	}
	if h.replayed(c, key) {
		return
	}
	id, err := key.requestID()
	if err != nil {
		_ = c.Error(err)
		return
	}
	req := body.request(id, actorOf(p), h.now().UTC().Truncate(time.Millisecond))
	doc, err := store.Document(req)
	if err != nil {
		_ = c.Error(err)
		return
	}
	err = h.requests.Create(c.Request.Context(), req, key.record(id, http.StatusCreated, doc))
	if errors.Is(err, store.ErrKeyTaken) && h.replayed(c, key) { // a concurrent retry got there first
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	if !h.start(c, req) {
		return
	}
	c.Header("Location", "/v1/requests/"+id)
	writeJSON(c, http.StatusCreated, doc)
}

// replayed answers a submission whose key is already recorded, and tells whether it did.
// The first attempt may have lost its workflow start (or the start may still be running):
// until the workflow has recorded its first event, the start is made again, from the
// recorded request, which is safe since the workflow id derives from the request id.
func (h *handlers) replayed(c *gin.Context, key idempotency) bool {
	ctx := c.Request.Context()
	rec, err := h.firstAnswer(ctx, key)
	switch {
	case err != nil:
		_ = c.Error(err)
		return true
	case rec == nil:
		return false
	}
	row, err := h.requests.Get(ctx, rec.RequestID)
	missing := errors.Is(err, store.ErrNotFound) // its start failed, and it was discarded
	if err != nil && !missing {
		_ = c.Error(err)
		return true
	}
	if missing || row.LastSeq == 0 {
		var req request.Request
		if err := json.Unmarshal(rec.Response, &req); err != nil {
			_ = c.Error(err)
			return true
		}
		if missing {
			if err := h.requests.Create(ctx, req, nil); err != nil {
				_ = c.Error(err)
				return true
			}
		}
		if !h.start(c, req) {
			return true
		}
	}
	c.Header("Location", "/v1/requests/"+rec.RequestID)
	replay(c, *rec)
	return true
}

// start starts the request's workflow, or discards its projection and answers 503.
func (h *handlers) start(c *gin.Context, req request.Request) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), startTimeout)
	defer cancel()
	var teams *request.TeamsConfig
	if h.teams != nil {
		// The client state stays with the intake and the worker, out of the history.
		teams = &request.TeamsConfig{NotificationURL: h.teams.NotificationURL}
	}
	err := h.workflows.Start(ctx, request.Input{Request: req, Timers: h.timers, Teams: teams, Link: h.link(req.ID)})
	if err == nil {
		return true
	}
	slog.WarnContext(ctx, "request workflow not started", "workflow_id", request.WorkflowID(req.ID), "error", err)
	removed, derr := h.requests.Discard(ctx, req.ID)
	switch {
	case derr != nil:
		slog.ErrorContext(ctx, "request without a workflow: its projection could not be removed", "workflow_id", request.WorkflowID(req.ID), "error", derr)
	case !removed:
		return true // its workflow has recorded an event: the start went through after all
	}
	_ = c.Error(unavailable("The request could not be started; nothing was recorded. Retry later (with the same Idempotency-Key)."))
	return false
}

// link is the request's page for people, where notifications and Teams lead: the web
// console's when it is configured, else the request in the API.
func (h *handlers) link(id string) string {
	if h.consoleURL != "" {
		return h.consoleURL + "/demandes/" + url.PathEscape(id)
	}
	return h.publicURL + "/v1/requests/" + url.PathEscape(id)
}

func unavailable(detail string) *httpx.Problem {
	return httpx.NewProblem(http.StatusServiceUnavailable, "workflow_unavailable", detail)
}

// Listing limits.
const (
	defaultLimit = 50
	maxLimit     = 200
	maxQuery     = 200
)

var statuses = []request.Status{
	request.StatusSubmitted, request.StatusChecking, request.StatusAwaitingTriage, request.StatusInReview,
	request.StatusAwaitingPartner, request.StatusPublishing, request.StatusPublished, request.StatusRejected,
	request.StatusWithdrawn, request.StatusExpired,
}

// list answers GET /v1/requests: partners see their organisation's requests only.
func (h *handlers) list(c *gin.Context) {
	p := principal(c)
	f := store.Filter{
		Status: request.Status(c.Query("status")), Kind: request.Kind(c.Query("kind")), CodeRome: c.Query("codeRome"),
		Org: c.Query("org"), Assignee: c.Query("assignee"), Text: c.Query("q"), Cursor: c.Query("cursor"), Limit: defaultLimit,
	}
	if p.Role == auth.RolePartner {
		f.VisibleTo = p.Org
	}
	var errs fieldErrors
	if f.Status != "" && !slices.Contains(statuses, f.Status) {
		errs.add("status", "must be one of the request statuses, e.g. AWAITING_TRIAGE")
	}
	if f.Kind != "" && !slices.Contains(kinds, f.Kind) {
		errs.add("kind", "must be one of %s, %s, %s", request.KindModifyFiche, request.KindCreateFromKnown, request.KindCreateFromNew)
	}
	if f.CodeRome != "" && !codeRomePattern.MatchString(f.CodeRome) {
		errs.add("codeRome", "must be a code ROME, e.g. M1805")
	}
	if n := utf8.RuneCountInString(f.Text); n > maxQuery {
		errs.add("q", "must have at most %d characters", maxQuery)
	}
	switch c.Query("overdue") {
	case "", "false":
	case "true":
		f.Waits = h.overdue()
	default:
		errs.add("overdue", "must be true or false")
	}
	if s, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			errs.add("limit", "must be an integer from 1 to %d", maxLimit)
		}
		f.Limit = n
	}
	if len(errs) > 0 {
		_ = c.Error(httpx.Unprocessable("invalid_query", "The query parameters are invalid.", errs...))
		return
	}
	page, err := h.requests.List(c.Request.Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		_ = c.Error(httpx.Unprocessable("invalid_query", "The cursor is invalid.",
			httpx.FieldError{Field: "cursor", Message: "must be a nextCursor returned by this listing"}))
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	out := struct {
		Items      []json.RawMessage `json:"items"`
		NextCursor *string           `json:"nextCursor"`
		Total      int64             `json:"total"`
	}{Items: page.Items, Total: page.Total}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	c.JSON(http.StatusOK, out)
}

// overdue selects the open requests that have waited in their status longer than the
// first reminder of that wait: triage, the moderator's decision, the partner's answer.
func (h *handlers) overdue() []store.Wait {
	now := h.now()
	return []store.Wait{
		{Status: request.StatusAwaitingTriage, Since: now.Add(-h.timers.TriageReminder)},
		{Status: request.StatusInReview, Since: now.Add(-h.timers.DecisionReminder)},
		{Status: request.StatusAwaitingPartner, Since: now.Add(-h.timers.PartnerReminder)},
	}
}

// visible loads the request of the route, answering 404 when it does not exist or
// belongs to another organisation than the partner's.
func (h *handlers) visible(c *gin.Context) (store.Row, bool) {
	p := principal(c)
	row, err := h.requests.Get(c.Request.Context(), c.Param("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && p.Role == auth.RolePartner && row.Org != p.Org) {
		_ = c.Error(httpx.NotFound("request_not_found", "No request with this id is visible to you."))
		return store.Row{}, false
	}
	if err != nil {
		_ = c.Error(err)
		return store.Row{}, false
	}
	return row, true
}

func (h *handlers) get(c *gin.Context) {
	if row, ok := h.visible(c); ok {
		writeJSON(c, http.StatusOK, row.State)
	}
}

// historyItem is one entry of GET /v1/requests/{id}/history.
type historyItem struct {
	Seq   int             `json:"seq"`
	At    time.Time       `json:"at"`
	Actor request.Actor   `json:"actor"`
	Type  string          `json:"type"`
	Data  json.RawMessage `json:"data"`
}

func (h *handlers) history(c *gin.Context) {
	row, ok := h.visible(c)
	if !ok {
		return
	}
	entries, err := h.requests.History(c.Request.Context(), row.ID)
	if err != nil {
		_ = c.Error(err)
		return
	}
	items := make([]historyItem, len(entries))
	for i, e := range entries {
		items[i] = historyItem{Seq: e.Seq, At: e.At, Actor: e.Actor, Type: e.Type, Data: e.Data}
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

// preview answers the referential's dry run of what the request would publish now: its
// operations, the moderator's amendments in place of the amended ones, without the
// rejected ones.
func (h *handlers) preview(c *gin.Context) {
	row, ok := h.visible(c)
	if !ok {
		return
	}
	var r request.Request
	if err := json.Unmarshal(row.State, &r); err != nil {
		_ = c.Error(err)
		return
	}
	var ops []request.Operation
	for _, o := range r.Operations {
		switch {
		case o.Decision == nil || o.Decision.Decision == request.DecisionAccepted:
			ops = append(ops, o.Operation)
		case o.Decision.Decision == request.DecisionAmended && o.Decision.Amendment != nil:
			amended := *o.Decision.Amendment
			amended.ID = o.ID
			ops = append(ops, amended)
		}
	}
	if len(ops) == 0 {
		_ = c.Error(httpx.Conflict("nothing_to_preview", "Every operation of this request was rejected.").With("currentStatus", r.Status))
		return
	}
	v, err := h.referential.Validate(c.Request.Context(), refclient.ChangeSet{RequestID: r.ID, CodeRome: r.CodeRome, Operations: ops})
	var refErr *refclient.Error
	switch {
	case errors.As(err, &refErr) && !refErr.Temporary():
		slog.ErrorContext(c.Request.Context(), "the referential refused a preview", "workflow_id", request.WorkflowID(r.ID), "error", err)
		_ = c.Error(httpx.NewProblem(http.StatusBadGateway, "referential_refused", "The referential refused to preview this request ("+refErr.Code+")."))
		return
	case err != nil:
		slog.WarnContext(c.Request.Context(), "preview: referential unavailable", "workflow_id", request.WorkflowID(r.ID), "error", err)
		_ = c.Error(httpx.NewProblem(http.StatusServiceUnavailable, "referential_unavailable", "The referential cannot be reached; retry later."))
		return
	}
	c.JSON(http.StatusOK, v)
}
