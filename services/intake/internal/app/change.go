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

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/request"
)

// updateTimeout bounds the wait for an update's outcome (its handler may run the checks
// again, which call the referential).
const updateTimeout = 30 * time.Second

// A Change is a state change of a request, sent to its workflow as an update. Its input
// rejects only what can never be valid (sizes, texts, operation syntax); whether the change
// is allowed and complete is for the workflow's update validators, which know the
// request's status and content.
type Change interface {
	// update names the workflow update and the status of its success: 200 with the
	// request after it, or 201 with the id of what it created and the request.
	update() (name string, status int)
	// input checks the change, cleaning its texts in place, and builds the update's argument.
	input(actor request.Actor) (any, fieldErrors)
}

// checkedAgainstRequest is a change with rules about the request's current state,
// checked on the projection: the workflow's validators cannot take new rules without
// breaking the replay of running requests.
type checkedAgainstRequest interface {
	against(r request.Request) fieldErrors
}

// Apply makes a change to a request the caller may see, through its workflow's update,
// and waits for the outcome. An Idempotency-Key makes retries safe: the same key for the
// same call answers the first outcome (Temporal also deduplicates the update by its id).
func (s *Service) Apply(ctx context.Context, p auth.Principal, key Key, requestID string, ch Change) (Answer, error) {
	row, err := s.Visible(ctx, p, requestID)
	if err != nil {
		return Answer{}, err
	}
	arg, errs := ch.input(actorOf(p))
	if against, ok := ch.(checkedAgainstRequest); ok && len(errs) == 0 {
		var r request.Request
		if err := json.Unmarshal(row.State, &r); err != nil {
			return Answer{}, err
		}
		errs = against.against(r)
	}
	if err := errs.invalid(); err != nil {
		return Answer{}, err
	}
	first, err := s.firstAnswer(ctx, key)
	switch {
	case err != nil:
		return Answer{}, err
	case first != nil:
		return replay(*first), nil
	case row.Status.Closed() && !key.Given():
		return Answer{}, closedProblem(row.Status)
	}
	// A closed request with a key may have been closed by this very call, its answer lost
	// (the intake stopped before recording it): Temporal answers an update id it completed
	// with its outcome even once the workflow has closed, and any other as closed.
	name, status := ch.update()
	uctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	res, err := s.workflows.Update(uctx, Update{RequestID: row.ID, Name: name, ID: key.updateID(), Arg: arg})
	if err != nil {
		return Answer{}, s.updateProblem(ctx, row, err)
	}
	doc, err := changed(res, status)
	if err != nil {
		return Answer{}, err
	}
	if rec := key.record(row.ID, status, doc); rec != nil {
		// Lost, it costs a retry nothing: the update id makes Temporal answer the same.
		if err := s.requests.SaveIdempotency(ctx, *rec); err != nil {
			slog.WarnContext(ctx, "idempotency record not saved", "workflow_id", request.WorkflowID(row.ID), "error", err)
		}
	}
	return Answer{Status: status, Body: doc, RequestID: row.ID}, nil
}

// changed is the body of a successful change.
func changed(res request.UpdateResult, status int) ([]byte, error) {
	doc, err := store.Document(res.Request)
	if err != nil || status != http.StatusCreated {
		return doc, err
	}
	return json.Marshal(struct {
		ID      string          `json:"id"`
		Request json.RawMessage `json:"request"`
	}{res.ID, doc})
}

// updateProblem turns an update's failure into the answer: the workflow's refusal (409
// with the status it was in, 422 naming the field, 403), a completed workflow (409 with
// the projection's status), or Temporal out of reach (503).
func (s *Service) updateProblem(ctx context.Context, row store.Row, err error) error {
	if rej, ok := request.AsRejection(err); ok {
		switch rej.Kind {
		case request.ErrInvalidTransition:
			status := rej.Status
			if status == "" {
				status = row.Status
			}
			return httpx.Conflict("invalid_transition", rej.Message).With("currentStatus", status)
		case request.ErrInvalidInput:
			var fields []httpx.FieldError
			if rej.Field != "" {
				fields = append(fields, httpx.FieldError{Field: rej.Field, Message: rej.Message})
			}
			return httpx.Unprocessable("invalid_input", rej.Message, fields...)
		case request.ErrForbidden:
			return httpx.Forbidden("forbidden_action", rej.Message)
		}
	}
	switch {
	case errors.Is(err, ErrWorkflowClosed):
		if fresh, gerr := s.requests.Get(ctx, row.ID); gerr == nil {
			row = fresh
		}
		return closedProblem(row.Status)
	case errors.Is(err, ErrWorkflowUnavailable):
		slog.WarnContext(ctx, "request update failed", "workflow_id", request.WorkflowID(row.ID), "error", err)
		return unavailable("The request's workflow did not answer; the change may still apply. Retry with the same Idempotency-Key.")
	}
	return err
}

func closedProblem(status request.Status) *httpx.Problem {
	return httpx.Conflict("request_closed", fmt.Sprintf("The request is closed (%s): it takes no more changes.", status)).
		With("currentStatus", status)
}

// The changes, each the body of its route.

// moderatorRule is a moderator's subject, named in an assignment.
var moderatorRule = request.TextRule{Name: "subject", Max: 200}

// Amend replaces or adds operations (PATCH /v1/requests/{id}/operations).
type Amend struct {
	Operations []request.Operation `json:"operations"`
}

func (Amend) update() (string, int) { return request.UpdateAmend, http.StatusOK }

func (b *Amend) input(a request.Actor) (any, fieldErrors) {
	var errs fieldErrors
	errs.operations("operations", b.Operations, 0)
	return request.AmendInput{Actor: a, Operations: b.Operations}, errs
}

// text is the body of the changes that carry one text; whether it may be empty is the
// workflow's business.
type text struct {
	Text string `json:"text"`
}

func (b *text) check() fieldErrors {
	var errs fieldErrors
	errs.text("text", &b.Text, request.LongTextRule, false)
	return errs
}

// Message posts a message (POST /v1/requests/{id}/messages).
type Message struct{ text }

func (Message) update() (string, int) { return request.UpdateMessage, http.StatusCreated }

func (b *Message) input(a request.Actor) (any, fieldErrors) {
	errs := b.check()
	return request.MessageInput{Actor: a, Text: b.Text}, errs
}

// Question asks the partner a question (POST /v1/requests/{id}/questions).
type Question struct{ text }

func (Question) update() (string, int) { return request.UpdateAsk, http.StatusCreated }

func (b *Question) input(a request.Actor) (any, fieldErrors) {
	errs := b.check()
	return request.AskInput{Actor: a, Text: b.Text}, errs
}

// AnswerQuestion answers a question (POST /v1/requests/{id}/questions/{questionId}/answer).
type AnswerQuestion struct {
	text
	QuestionID string `json:"-"` // from the path
}

func (AnswerQuestion) update() (string, int) { return request.UpdateAnswer, http.StatusOK }

func (b *AnswerQuestion) input(a request.Actor) (any, fieldErrors) {
	errs := b.check()
	return request.AnswerInput{Actor: a, QuestionID: b.QuestionID, Text: b.Text}, errs
}

// Assign takes the request or hands it over (POST /v1/requests/{id}/assign).
type Assign struct {
	Moderator string `json:"moderator"`
}

func (Assign) update() (string, int) { return request.UpdateAssign, http.StatusOK }

func (b *Assign) input(a request.Actor) (any, fieldErrors) {
	var errs fieldErrors
	errs.text("moderator", &b.Moderator, moderatorRule, false)
	return request.AssignInput{Actor: a, Moderator: b.Moderator}, errs
}

// Decide decides the operations (POST /v1/requests/{id}/decision).
type Decide struct {
	Decisions []request.OperationDecision `json:"decisions"`
}

func (Decide) update() (string, int) { return request.UpdateDecide, http.StatusOK }

func (b *Decide) input(a request.Actor) (any, fieldErrors) {
	var errs fieldErrors
	if len(b.Decisions) > request.MaxOperations {
		errs.add("decisions", "must list at most %d decisions (it has %d)", request.MaxOperations, len(b.Decisions))
	}
	for i := range b.Decisions {
		d := &b.Decisions[i]
		field := fmt.Sprintf("decisions[%d]", i)
		errs.text(field+".operationId", &d.OperationID, request.IdentifierRule, true)
		if !slices.Contains(request.Decisions, d.Decision) {
			errs.add(field+".decision", "must be one of %s", strings.Join(request.Decisions, ", "))
		}
		errs.text(field+".rationale", &d.Rationale, request.LongTextRule, false)
		if d.Amendment != nil {
			// A copy: cleaned, it replaces the decoded one. It is published as it is, so
			// it follows the operations' syntax like a submitted operation.
			amendment := *d.Amendment
			errs.problems(request.ValidateOperation(field+".amendment", &amendment))
			d.Amendment = &amendment
		}
	}
	return request.DecideInput{Actor: a, Decisions: b.Decisions}, errs
}

// against refuses to accept, as it is, an operation that a blocking finding says cannot
// apply: the moderator amends or rejects it.
func (b *Decide) against(r request.Request) fieldErrors {
	var errs fieldErrors
	for i, d := range b.Decisions {
		if f, blocked := r.BlockingFinding(d.OperationID); blocked && d.Decision == request.DecisionAccepted {
			errs.add(fmt.Sprintf("decisions[%d].decision", i),
				"operation %s cannot be accepted as it is (%s: %s): amend or reject it", d.OperationID, f.Code, f.Message)
		}
	}
	return errs
}

// Withdraw withdraws the request (POST /v1/requests/{id}/withdraw).
type Withdraw struct {
	Reason string `json:"reason"`
}

func (Withdraw) update() (string, int) { return request.UpdateWithdraw, http.StatusOK }

func (b *Withdraw) input(a request.Actor) (any, fieldErrors) {
	var errs fieldErrors
	errs.text("reason", &b.Reason, request.LongTextRule, false)
	return request.WithdrawInput{Actor: a, Reason: b.Reason}, errs
}
