package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/request"
)

// startTimeout bounds a workflow start. The start outlives a caller who hangs up: a
// request is either started or discarded, never left half-done.
const startTimeout = 10 * time.Second

// Submission is the body of POST /v1/requests.
type Submission struct {
	Kind          request.Kind        `json:"kind"`
	CodeRome      string              `json:"codeRome"`
	Title         string              `json:"title"`
	Justification string              `json:"justification"`
	Operations    []request.Operation `json:"operations"`
}

// Submit files a new request: one transaction writes its projection (so that it can be
// read as soon as it is acknowledged) and the idempotency record, then its workflow is
// started. A start that fails removes the projection and answers 503: no request exists
// without its workflow. The submission is cleaned in place by the text rules.
func (s *Service) Submit(ctx context.Context, p auth.Principal, key Key, sub *Submission) (Answer, error) {
	if err := sub.validate().invalid(); err != nil {
		return Answer{}, err
	}
	if a, done, err := s.replaySubmission(ctx, key); done {
		return a, err
	}
	id, err := key.requestID()
	if err != nil {
		return Answer{}, err
	}
	req := sub.request(id, actorOf(p), s.cfg.Now().UTC().Truncate(time.Millisecond))
	doc, err := store.Document(req)
	if err != nil {
		return Answer{}, err
	}
	err = s.requests.Create(ctx, req, key.record(id, http.StatusCreated, doc))
	if errors.Is(err, store.ErrKeyTaken) { // a concurrent retry got there first
		if a, done, err := s.replaySubmission(ctx, key); done {
			return a, err
		}
	}
	if err != nil {
		return Answer{}, err
	}
	if err := s.start(ctx, req); err != nil {
		return Answer{}, err
	}
	return Answer{Status: http.StatusCreated, Body: doc, RequestID: id}, nil
}

// replaySubmission answers a submission whose key is already recorded, and tells whether
// it did. The first attempt may have lost its workflow start (or the start may still be
// running): until the workflow has recorded its first event, the start is made again, from
// the recorded request, which is safe since the workflow id derives from the request id.
func (s *Service) replaySubmission(ctx context.Context, key Key) (Answer, bool, error) {
	rec, err := s.firstAnswer(ctx, key)
	if err != nil || rec == nil {
		return Answer{}, err != nil, err
	}
	row, err := s.requests.Get(ctx, rec.RequestID)
	missing := errors.Is(err, store.ErrNotFound) // its start failed, and it was discarded
	if err != nil && !missing {
		return Answer{}, true, err
	}
	if missing || row.LastSeq == 0 {
		var req request.Request
		if err := json.Unmarshal(rec.Response, &req); err != nil {
			return Answer{}, true, err
		}
		if missing {
			if err := s.requests.Create(ctx, req, nil); err != nil {
				return Answer{}, true, err
			}
		}
		if err := s.start(ctx, req); err != nil {
			return Answer{}, true, err
		}
	}
	return replay(*rec), true, nil
}

// start starts the request's workflow, or discards its projection and answers 503.
func (s *Service) start(ctx context.Context, req request.Request) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), startTimeout)
	defer cancel()
	var teams *request.TeamsConfig
	if s.cfg.Teams != nil {
		// The client state stays with the intake and the worker, out of the history.
		teams = &request.TeamsConfig{NotificationURL: s.cfg.Teams.NotificationURL}
	}
	err := s.workflows.Start(ctx, request.Input{Request: req, Timers: s.cfg.Timers, Teams: teams, Link: s.link(req.ID),
		AutoAssign: s.cfg.AssignInTurn})
	if err == nil {
		return nil
	}
	slog.WarnContext(ctx, "request workflow not started", "workflow_id", request.WorkflowID(req.ID), "error", err)
	removed, derr := s.requests.Discard(ctx, req.ID)
	switch {
	case derr != nil:
		slog.ErrorContext(ctx, "request without a workflow: its projection could not be removed", "workflow_id", request.WorkflowID(req.ID), "error", derr)
	case !removed:
		return nil // its workflow has recorded an event: the start went through after all
	}
	return unavailable("The request could not be started; nothing was recorded. Retry later (with the same Idempotency-Key).")
}

func unavailable(detail string) *httpx.Problem {
	return httpx.NewProblem(http.StatusServiceUnavailable, "workflow_unavailable", detail)
}

// validate lists everything wrong with the submission, field by field, cleaning its texts.
func (sub *Submission) validate() fieldErrors {
	var errs fieldErrors
	sub.CodeRome = strings.TrimSpace(sub.CodeRome)
	switch {
	case !slices.Contains(request.Kinds, sub.Kind):
		errs.add("kind", "must be one of %s", kindList())
	case sub.Kind == request.KindModifyFiche && sub.CodeRome == "":
		errs.add("codeRome", "is required to modify a fiche")
	case sub.Kind == request.KindModifyFiche && !request.CodeRomePattern.MatchString(sub.CodeRome):
		errs.add("codeRome", "must be a code ROME: a letter A to N and four digits, e.g. M1805")
	case sub.Kind != request.KindModifyFiche && sub.CodeRome != "":
		errs.add("codeRome", "must be absent when creating a fiche: the referential assigns the code")
	}
	errs.text("title", &sub.Title, request.TitleRule, true)
	errs.text("justification", &sub.Justification, request.LongTextRule, true)
	errs.operations("operations", sub.Operations, 1)
	if len(sub.Operations) == 0 || len(sub.Operations) > request.MaxOperations || !slices.Contains(request.Kinds, sub.Kind) {
		return errs
	}
	creating := sub.Kind != request.KindModifyFiche
	for i, op := range sub.Operations {
		field := fmt.Sprintf("operations[%d]", i)
		switch {
		case i == 0 && creating && op.Op != refclient.OpCreateFiche:
			errs.add(field+".op", "must be create_fiche: a request of kind %s starts by creating the fiche", sub.Kind)
		case op.Op == refclient.OpCreateFiche && (!creating || i > 0):
			errs.add(field+".op", "create_fiche is only allowed as the first operation of a create_fiche_from_* request")
		}
	}
	if first := sub.Operations[0]; first.Op == refclient.OpCreateFiche {
		p, field := first.AppellationPrincipale, "operations[0].appellationPrincipale"
		switch {
		case sub.Kind == request.KindCreateFromKnown && (p == nil || strings.TrimSpace(p.CodeOgr) == ""):
			errs.add(field+".codeOgr", "is required: the code OGR of the existing appellation that becomes the new fiche's principal one")
		case sub.Kind == request.KindCreateFromKnown && p.Libelle != "":
			errs.add(field+".libelle", "must be absent: a known appellation keeps its label")
		case sub.Kind == request.KindCreateFromNew && (p == nil || strings.TrimSpace(p.Libelle) == ""):
			errs.add(field+".libelle", "is required: the label of the new principal appellation")
		case sub.Kind == request.KindCreateFromNew && p.CodeOgr != "":
			errs.add(field+".codeOgr", "must be absent: the appellation is new")
		}
	}
	return errs
}

// kindList names the request kinds for a message.
func kindList() string {
	names := make([]string, len(request.Kinds))
	for i, k := range request.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// request builds the state a new request starts its workflow with; operations without an
// id get op-1, op-2… (skipping the ids the partner chose).
func (sub *Submission) request(id string, by request.Actor, now time.Time) request.Request {
	ops := slices.Clone(sub.Operations)
	request.AssignOperationIDs(ops, 1)
	withDecisions := make([]request.RequestOperation, len(ops))
	for i, op := range ops {
		withDecisions[i] = request.RequestOperation{Operation: op}
	}
	return request.Request{
		ID: id, Kind: sub.Kind, CodeRome: sub.CodeRome, Title: sub.Title, Justification: sub.Justification,
		Status: request.StatusSubmitted, Org: by.Org, SubmittedBy: by,
		Operations: withDecisions, Findings: []request.Finding{}, Questions: []request.Question{},
		CreatedAt: now, UpdatedAt: now,
	}
}

// actorOf names the caller in the request's history.
func actorOf(p auth.Principal) request.Actor {
	return request.Actor{Sub: p.Subject, Name: p.Name, Role: string(p.Role), Org: p.Org, EntraID: p.EntraID}
}
