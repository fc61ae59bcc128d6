package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/request"
)

// updateTimeout bounds the wait for an update's outcome (its handler may run the checks
// again, which call the referential).
const updateTimeout = 30 * time.Second

// changeBody is the body of a state change: it builds the update's argument. It rejects
// only what can never be valid (sizes, unknown operation kinds); whether the change is
// allowed and complete is for the workflow's update validators, which know the request's
// status and content.
type changeBody interface {
	input(c *gin.Context, actor request.Actor) (any, fieldErrors)
}

// change serves a state change of a request through its workflow's update, waiting for
// the outcome: the request after it (status 200), or for what the update creates, 201
// with the new item's id and the request. An Idempotency-Key makes retries safe: the same
// key for the same call answers the first outcome (Temporal also deduplicates the update).
func change[B any, PB interface {
	*B
	changeBody
}](h *handlers, update string, status int) gin.HandlerFunc {
	return func(c *gin.Context) {
		row, ok := h.visible(c)
		if !ok {
			return
		}
		var body B
		if err := httpx.BindJSON(c, &body); err != nil {
			_ = c.Error(err)
			return
		}
		p := principal(c)
		arg, errs := PB(&body).input(c, actorOf(p))
		if against, ok := any(PB(&body)).(checkedAgainstRequest); ok && len(errs) == 0 {
			var r request.Request
			if err := json.Unmarshal(row.State, &r); err != nil {
				_ = c.Error(err)
				return
			}
			errs = against.against(r)
		}
		if len(errs) > 0 {
			_ = c.Error(httpx.Unprocessable("invalid_body", "The request body is invalid.", errs...))
			return
		}
		key, err := idempotencyOf(c, p, body)
		if err != nil {
			_ = c.Error(err)
			return
		}
		ctx := c.Request.Context()
		first, err := h.firstAnswer(ctx, key)
		switch {
		case err != nil:
			_ = c.Error(err)
			return
		case first != nil:
			replay(c, *first)
			return
		case row.Status.Closed():
			_ = c.Error(closedProblem(row.Status))
			return
		}
		uctx, cancel := context.WithTimeout(ctx, updateTimeout)
		defer cancel()
		res, err := h.workflows.Update(uctx, Update{RequestID: row.ID, Name: update, ID: key.updateID(), Arg: arg})
		if err != nil {
			_ = c.Error(h.updateProblem(ctx, row, err))
			return
		}
		doc, err := answer(res, status)
		if err != nil {
			_ = c.Error(err)
			return
		}
		if rec := key.record(row.ID, status, doc); rec != nil {
			// Lost, it costs a retry nothing: the update id makes Temporal answer the same.
			if err := h.requests.SaveIdempotency(ctx, *rec); err != nil {
				slog.WarnContext(ctx, "idempotency record not saved", "workflow_id", request.WorkflowID(row.ID), "error", err)
			}
		}
		writeJSON(c, status, doc)
	}
}

// answer is the body of a successful change.
func answer(res request.UpdateResult, status int) ([]byte, error) {
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
func (h *handlers) updateProblem(ctx context.Context, row store.Row, err error) error {
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
		if fresh, gerr := h.requests.Get(ctx, row.ID); gerr == nil {
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

// The bodies of the changes.

type amendBody struct {
	Operations []request.Operation `json:"operations"`
}

func (b *amendBody) input(_ *gin.Context, a request.Actor) (any, fieldErrors) {
	var errs fieldErrors
	errs.operations("operations", b.Operations, 0)
	return request.AmendInput{Actor: a, Operations: b.Operations}, errs
}

type textBody struct {
	Text string `json:"text"`
}

// check cleans the text in place (request.CheckText); whether it may be empty is the
// workflow's business.
func (b *textBody) check() fieldErrors {
	var errs fieldErrors
	errs.text("text", &b.Text, request.LongTextRule, false)
	return errs
}

type messageBody struct{ textBody }

func (b *messageBody) input(_ *gin.Context, a request.Actor) (any, fieldErrors) {
	errs := b.check()
	return request.MessageInput{Actor: a, Text: b.Text}, errs
}

type questionBody struct{ textBody }

func (b *questionBody) input(_ *gin.Context, a request.Actor) (any, fieldErrors) {
	errs := b.check()
	return request.AskInput{Actor: a, Text: b.Text}, errs
}

type answerBody struct{ textBody }

func (b *answerBody) input(c *gin.Context, a request.Actor) (any, fieldErrors) {
	errs := b.check()
	return request.AnswerInput{Actor: a, QuestionID: c.Param("questionId"), Text: b.Text}, errs
}

type assignBody struct {
	Moderator string `json:"moderator"`
}

func (b *assignBody) input(_ *gin.Context, a request.Actor) (any, fieldErrors) {
	var errs fieldErrors
	errs.text("moderator", &b.Moderator, moderatorRule, false)
	return request.AssignInput{Actor: a, Moderator: b.Moderator}, errs
}

type decideBody struct {
	Decisions []request.OperationDecision `json:"decisions"`
}

func (b *decideBody) input(_ *gin.Context, a request.Actor) (any, fieldErrors) {
	var errs fieldErrors
	if len(b.Decisions) > maxOperations {
		errs.add("decisions", "must list at most %d decisions (it has %d)", maxOperations, len(b.Decisions))
	}
	for i := range b.Decisions {
		d := &b.Decisions[i]
		field := fmt.Sprintf("decisions[%d]", i)
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

// checkedAgainstRequest is a change body with rules about the request's current state,
// checked here on the projection: the workflow's validators cannot take new rules without
// breaking the replay of running requests.
type checkedAgainstRequest interface {
	against(r request.Request) fieldErrors
}

// against refuses to accept, as it is, an operation that a blocking finding says cannot
// apply: the moderator amends or rejects it.
func (b *decideBody) against(r request.Request) fieldErrors {
	var errs fieldErrors
	for i, d := range b.Decisions {
		if f, blocked := r.BlockingFinding(d.OperationID); blocked && d.Decision == request.DecisionAccepted {
			errs.add(fmt.Sprintf("decisions[%d].decision", i),
				"operation %s cannot be accepted as it is (%s: %s): amend or reject it", d.OperationID, f.Code, f.Message)
		}
	}
	return errs
}

type withdrawBody struct {
	Reason string `json:"reason"`
}

func (b *withdrawBody) input(_ *gin.Context, a request.Actor) (any, fieldErrors) {
	var errs fieldErrors
	errs.text("reason", &b.Reason, request.LongTextRule, false)
	return request.WithdrawInput{Actor: a, Reason: b.Reason}, errs
}
