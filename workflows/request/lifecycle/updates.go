package lifecycle

import (
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/workflows/request"
)

func (w *lifecycle) registerUpdates(ctx workflow.Context) error {
	return firstError(
		func() error { return handle(ctx, w, request.UpdateAssign, w.checkAssign, w.assign) },
		func() error { return handle(ctx, w, request.UpdateAsk, w.checkAsk, w.ask) },
		func() error { return handle(ctx, w, request.UpdateAnswer, w.checkAnswer, w.answer) },
		func() error { return handle(ctx, w, request.UpdateAmend, w.checkAmend, w.amend) },
		func() error { return handle(ctx, w, request.UpdateMessage, w.checkMessage, w.message) },
		func() error { return handle(ctx, w, request.UpdateDecide, w.checkDecide, w.decide) },
		func() error { return handle(ctx, w, request.UpdateWithdraw, w.checkWithdraw, w.withdraw) },
	)
}

// handle registers an update whose validator is check, and whose handler runs check
// again under the mutex (the state may have moved while the update waited for it) before
// apply changes the state and records it.
func handle[In any](ctx workflow.Context, w *lifecycle, name string, check func(In) error,
	apply func(workflow.Context, In) (request.UpdateResult, error)) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, name,
		func(ctx workflow.Context, in In) (request.UpdateResult, error) {
			if err := w.mu.Lock(ctx); err != nil {
				return request.UpdateResult{}, err
			}
			defer w.mu.Unlock()
			if err := check(in); err != nil {
				return request.UpdateResult{}, err
			}
			return apply(ctx, in)
		},
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, in In) error { return check(in) }})
}

// Who may act.
type side int

const (
	partnerSide   side = 1 << iota // the partners of the request's organisation
	moderatorSide                  // moderators and admins
)

// checkActor enforces who may do what: partners act on their organisation's requests
// only, and each side only does its own actions.
func (w *lifecycle) checkActor(a request.Actor, allowed side, action string) error {
	st := w.req.Status
	if strings.TrimSpace(a.Sub) == "" {
		return request.Reject(request.ErrInvalidInput, st, "actor.sub", "the actor has no subject")
	}
	switch a.Role {
	case request.RolePartner:
		if a.Org == "" || a.Org != w.req.Org {
			return request.Reject(request.ErrForbidden, st, "", "this request belongs to another organisation")
		}
		if allowed&partnerSide == 0 {
			return request.Reject(request.ErrForbidden, st, "", "a partner may not %s", action)
		}
	case request.RoleModerator, request.RoleAdmin:
		if allowed&moderatorSide == 0 {
			return request.Reject(request.ErrForbidden, st, "", "only the partner may %s", action)
		}
	default:
		return request.Reject(request.ErrForbidden, st, "", "role %q may not %s", a.Role, action)
	}
	return nil
}

// checkStatus refuses an action the current status does not allow.
func (w *lifecycle) checkStatus(action string, allowed ...request.Status) error {
	for _, s := range allowed {
		if w.req.Status == s {
			return nil
		}
	}
	return request.Reject(request.ErrInvalidTransition, w.req.Status, "", "cannot %s a request in status %s", action, w.req.Status)
}

// checkText refuses an empty text.
func (w *lifecycle) checkText(field, text string) error {
	if strings.TrimSpace(text) == "" {
		return request.Reject(request.ErrInvalidInput, w.req.Status, field, "%s is required", field)
	}
	return nil
}

// firstError returns the first error of checks run in order.
func firstError(checks ...func() error) error {
	for _, c := range checks {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
}

// --- assign ----------------------------------------------------------------------------

func (w *lifecycle) checkAssign(in request.AssignInput) error {
	return firstError(
		func() error { return w.checkActor(in.Actor, moderatorSide, "assign a request") },
		func() error {
			return w.checkStatus("assign", request.StatusAwaitingTriage, request.StatusInReview, request.StatusAwaitingPartner)
		},
		func() error { return w.checkText("moderator", in.Moderator) },
	)
}

// assign gives the request to a moderator: it leaves triage, or changes hands. Assigning
// it to its assignee again changes nothing and records nothing (a retried call).
func (w *lifecycle) assign(ctx workflow.Context, in request.AssignInput) (request.UpdateResult, error) {
	moderator := strings.TrimSpace(in.Moderator)
	if moderator == w.req.Assignee {
		return request.UpdateResult{Request: w.req}, nil
	}
	w.req.Assignee = moderator
	if w.req.Status == request.StatusAwaitingTriage {
		w.setStatus(ctx, request.StatusInReview)
	}
	err := w.commit(ctx, request.EventAssigned, in.Actor, request.EventData{Moderator: moderator})
	return request.UpdateResult{Request: w.req}, err
}

// --- questions ---------------------------------------------------------------------------

func (w *lifecycle) checkAsk(in request.AskInput) error {
	return firstError(
		func() error { return w.checkActor(in.Actor, moderatorSide, "ask a question") },
		func() error { return w.checkStatus("ask a question on", request.StatusInReview) },
		func() error { return w.checkText("text", in.Text) },
	)
}

// ask opens a clarification round: the request waits for the partner, on a new clock.
func (w *lifecycle) ask(ctx workflow.Context, in request.AskInput) (request.UpdateResult, error) {
	q := request.Question{ID: fmt.Sprintf("q-%d", w.resume.NextQuestion), Text: strings.TrimSpace(in.Text),
		AskedBy: in.Actor, AskedAt: workflow.Now(ctx)}
	w.resume.NextQuestion++
	w.req.Questions = append(w.req.Questions, q)
	w.setStatus(ctx, request.StatusAwaitingPartner)
	w.resume.PartnerElapsed = 0
	w.forget(request.WaitQuestion)
	err := w.commit(ctx, request.EventQuestionAsked, in.Actor, request.EventData{QuestionID: q.ID, Text: q.Text})
	return request.UpdateResult{Request: w.req, ID: q.ID}, err
}

// openQuestion is the question the partner has to answer, if any.
func (w *lifecycle) openQuestion() *request.Question {
	for i := range w.req.Questions {
		if q := &w.req.Questions[i]; q.Answer == nil {
			return q
		}
	}
	return nil
}

func (w *lifecycle) checkAnswer(in request.AnswerInput) error {
	return firstError(
		func() error { return w.checkActor(in.Actor, partnerSide, "answer a question") },
		func() error { return w.checkStatus("answer a question on", request.StatusAwaitingPartner) },
		func() error {
			if q := w.openQuestion(); q == nil || q.ID != in.QuestionID {
				return request.Reject(request.ErrInvalidInput, w.req.Status, "questionId", "%q is not the open question", in.QuestionID)
			}
			return nil
		},
		func() error { return w.checkText("text", in.Text) },
	)
}

// answer closes the clarification round: the request is back in review.
func (w *lifecycle) answer(ctx workflow.Context, in request.AnswerInput) (request.UpdateResult, error) {
	q := w.openQuestion()
	text, actor, now := strings.TrimSpace(in.Text), in.Actor, workflow.Now(ctx)
	q.Answer, q.AnsweredBy, q.AnsweredAt = &text, &actor, &now
	w.setStatus(ctx, request.StatusInReview)
	err := w.commit(ctx, request.EventQuestionAnswered, in.Actor, request.EventData{QuestionID: q.ID, Text: text})
	return request.UpdateResult{Request: w.req}, err
}

// --- amendments ----------------------------------------------------------------------------

func (w *lifecycle) checkAmend(in request.AmendInput) error {
	return firstError(
		func() error { return w.checkActor(in.Actor, partnerSide, "amend the operations") },
		func() error {
			return w.checkStatus("amend the operations of", request.StatusInReview, request.StatusAwaitingPartner)
		},
		func() error { return checkOperations(w.req.Status, "operations", in.Operations, false) },
	)
}

// checkOperations refuses an operation list with an operation without op, or two with the
// same id (empty: whether an empty list is acceptable here).
func checkOperations(st request.Status, field string, ops []request.Operation, empty bool) error {
	if len(ops) == 0 && !empty {
		return request.Reject(request.ErrInvalidInput, st, field, "at least one operation is required")
	}
	seen := map[string]bool{}
	for i, op := range ops {
		if strings.TrimSpace(op.Op) == "" {
			return request.Reject(request.ErrInvalidInput, st, fmt.Sprintf("%s[%d].op", field, i), "op is required")
		}
		if op.ID != "" && seen[op.ID] {
			return request.Reject(request.ErrInvalidInput, st, fmt.Sprintf("%s[%d].id", field, i), "operation id %q is used twice", op.ID)
		}
		seen[op.ID] = true
	}
	return nil
}

// amend replaces the operations once the checks have run on them; their findings replace
// the previous ones. Operations that make no sense (checked like a new request) are refused.
func (w *lifecycle) amend(ctx workflow.Context, in request.AmendInput) (request.UpdateResult, error) {
	next := w.resume.NextOperation
	ops := w.withIDs(in.Operations)
	res, err := w.check(ctx, operationsOf(ops))
	if err == nil && res.fatal != "" {
		err = request.Reject(request.ErrInvalidInput, w.req.Status, "operations", "%s", res.fatal)
	}
	if err != nil {
		w.resume.NextOperation = next // the ids given to a refused amendment are free again
		return request.UpdateResult{}, err
	}
	w.req.Operations, w.req.Findings, w.resume.BaseVersion = ops, res.findings, res.version
	err = w.commit(ctx, request.EventOperationsAmended, in.Actor,
		request.EventData{Operations: operationsOf(ops), Findings: res.findings, Version: res.version})
	return request.UpdateResult{Request: w.req}, err
}

// --- messages ------------------------------------------------------------------------------

func (w *lifecycle) checkMessage(in request.MessageInput) error {
	return firstError(
		func() error { return w.checkActor(in.Actor, partnerSide|moderatorSide, "post a message") },
		func() error {
			if w.req.Status.Closed() {
				return request.Reject(request.ErrInvalidTransition, w.req.Status, "", "cannot post a message on a closed request")
			}
			return nil
		},
		func() error { return w.checkText("text", in.Text) },
	)
}

func (w *lifecycle) message(ctx workflow.Context, in request.MessageInput) (request.UpdateResult, error) {
	id := fmt.Sprintf("m-%d", w.resume.NextMessage)
	w.resume.NextMessage++
	err := w.commit(ctx, request.EventMessagePosted, in.Actor, request.EventData{MessageID: id, Text: strings.TrimSpace(in.Text)})
	return request.UpdateResult{Request: w.req, ID: id}, err
}

// --- decision ------------------------------------------------------------------------------

func (w *lifecycle) checkDecide(in request.DecideInput) error {
	return firstError(
		func() error { return w.checkActor(in.Actor, moderatorSide, "decide") },
		func() error {
			if in.Actor.Sub == w.req.SubmittedBy.Sub {
				return request.Reject(request.ErrForbidden, w.req.Status, "", "nobody decides on a request they submitted")
			}
			return nil
		},
		func() error { return w.checkStatus("decide on", request.StatusInReview) },
		func() error { return w.checkDecisions(in.Decisions) },
	)
}

// checkDecisions requires exactly one valid decision per operation.
func (w *lifecycle) checkDecisions(ds []request.OperationDecision) error {
	st := w.req.Status
	ops := map[string]bool{}
	for _, op := range w.req.Operations {
		ops[op.ID] = true
	}
	decided := map[string]bool{}
	for i, d := range ds {
		field := fmt.Sprintf("decisions[%d]", i)
		switch {
		case !ops[d.OperationID]:
			return request.Reject(request.ErrInvalidInput, st, field+".operationId", "the request has no operation %q", d.OperationID)
		case decided[d.OperationID]:
			return request.Reject(request.ErrInvalidInput, st, field+".operationId", "operation %s is decided twice", d.OperationID)
		case !slices.Contains(request.Decisions, d.Decision):
			return request.Reject(request.ErrInvalidInput, st, field+".decision", "decision must be %s, %s or %s",
				request.DecisionAccepted, request.DecisionRejected, request.DecisionAmended)
		case d.Decision != request.DecisionAccepted && strings.TrimSpace(d.Rationale) == "":
			return request.Reject(request.ErrInvalidInput, st, field+".rationale", "a rationale is required when rejecting or amending")
		case d.Decision == request.DecisionAmended && d.Amendment == nil:
			return request.Reject(request.ErrInvalidInput, st, field+".amendment", "an amended decision needs its amendment")
		case d.Decision == request.DecisionAmended && strings.TrimSpace(d.Amendment.Op) == "":
			return request.Reject(request.ErrInvalidInput, st, field+".amendment.op", "op is required")
		case d.Decision != request.DecisionAmended && d.Amendment != nil:
			return request.Reject(request.ErrInvalidInput, st, field+".amendment", "only an amended decision carries an amendment")
		}
		decided[d.OperationID] = true
	}
	for _, op := range w.req.Operations {
		if !decided[op.ID] {
			return request.Reject(request.ErrInvalidInput, st, "decisions", "operation %s has no decision", op.ID)
		}
	}
	return nil
}

// decide records the verdict on every operation: the request goes to publication if any
// is accepted, and closes as rejected otherwise.
func (w *lifecycle) decide(ctx workflow.Context, in request.DecideInput) (request.UpdateResult, error) {
	now := workflow.Now(ctx)
	byOp := map[string]request.OperationDecision{}
	for _, d := range in.Decisions {
		byOp[d.OperationID] = d
	}
	accepted := 0
	for i := range w.req.Operations {
		op := &w.req.Operations[i]
		d := byOp[op.ID]
		dec := request.Decision{Decision: d.Decision, Rationale: strings.TrimSpace(d.Rationale), DecidedBy: in.Actor, DecidedAt: now}
		if d.Amendment != nil {
			a := *d.Amendment
			a.ID = op.ID // the amendment replaces the operation under its id
			dec.Amendment = &a
		}
		if d.Decision != request.DecisionRejected {
			accepted++
		}
		op.Decision = &dec
	}
	data := request.EventData{Decisions: in.Decisions}
	if accepted == 0 {
		w.req.ClosedReason = "every operation was rejected"
		data.Reason = w.req.ClosedReason
		w.setStatus(ctx, request.StatusRejected)
	} else {
		w.resume.DecisionRound++
		w.setStatus(ctx, request.StatusPublishing)
	}
	err := w.commit(ctx, request.EventDecided, in.Actor, data)
	return request.UpdateResult{Request: w.req}, err
}

// --- withdrawal ----------------------------------------------------------------------------

func (w *lifecycle) checkWithdraw(in request.WithdrawInput) error {
	return firstError(
		func() error { return w.checkActor(in.Actor, partnerSide, "withdraw a request") },
		func() error {
			return w.checkStatus("withdraw", request.StatusSubmitted, request.StatusChecking, request.StatusAwaitingTriage,
				request.StatusInReview, request.StatusAwaitingPartner)
		},
	)
}

func (w *lifecycle) withdraw(ctx workflow.Context, in request.WithdrawInput) (request.UpdateResult, error) {
	reason := strings.TrimSpace(in.Reason)
	w.req.ClosedReason = "withdrawn by the partner"
	if reason != "" {
		w.req.ClosedReason = reason
	}
	w.setStatus(ctx, request.StatusWithdrawn)
	err := w.commit(ctx, request.EventWithdrawn, in.Actor, request.EventData{Reason: reason})
	return request.UpdateResult{Request: w.req}, err
}
