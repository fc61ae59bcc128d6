package lifecycle

import (
	"errors"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/workflows/request"
)

var canTimers = request.Timers{TriageReminder: 30 * time.Minute, PartnerReminder: 4 * time.Hour, DecisionReminder: 5 * time.Hour}

// continuedInput runs a request until it continues as new at 3h10, while awaiting the
// partner, and returns the next run's input. force makes the history look long at 3h01.
func continuedInput(t *testing.T, opts options, force func(h *harness)) RunInput {
	t.Helper()
	h := newHarness(t, opts)
	h.update(1*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	h.update(2*time.Hour, request.UpdateAsk, request.AskInput{Actor: mod, Text: "Sources?"})
	// A message is being recorded (until 3h10) when the history grows long (3h01): the
	// workflow continues as new only once its handler has finished.
	msg := &outcome{name: request.UpdateMessage}
	h.env.RegisterDelayedCallback(func() {
		h.recordSlow = 10 * time.Minute
		h.send(msg, request.MessageInput{Actor: alice, Text: "On it"})
	}, 3*time.Hour)
	h.env.RegisterDelayedCallback(func() { force(h) }, 3*time.Hour+time.Minute)
	h.run(request.Input{Request: newRequest(), Timers: canTimers})

	msg.ok(t) // the handler finished before the workflow continued as new
	var can *workflow.ContinueAsNewError
	if err := h.env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("workflow ended with %v, want continue-as-new", err)
	}
	if can.WorkflowType.Name != request.WorkflowType {
		t.Errorf("continued as %q", can.WorkflowType.Name)
	}
	var next RunInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventReminder, request.EventAssigned, request.EventQuestionAsked, request.EventMessagePosted)
	h.checkHistory(1, &next.Request)
	return next
}

func TestContinueAsNewCarriesTheWholeState(t *testing.T) {
	for name, tc := range map[string]struct {
		opts  options
		force func(h *harness)
	}{
		"suggested by the server": {options{}, func(h *harness) { h.env.SetContinueAsNewSuggested(true) }},
		"history limit":           {options{historyLimit: 500}, func(h *harness) { h.env.SetCurrentHistoryLength(500) }},
	} {
		t.Run(name, func(t *testing.T) {
			next := continuedInput(t, tc.opts, tc.force)
			if next.Timers != withDefaults(canTimers) {
				t.Errorf("timers %+v", next.Timers)
			}
			r := next.Request
			if r.Status != request.StatusAwaitingPartner || r.Assignee != "mod-1" || len(r.Questions) != 1 || len(r.Operations) != 3 || !r.UpdatedAt.Equal(at(3*time.Hour)) {
				t.Errorf("request %+v", r)
			}
			want := Resume{Seq: 6, TriageElapsed: time.Hour, ModeratorElapsed: time.Hour, PartnerElapsed: 70 * time.Minute,
				RemindersSent: []string{"triage:reminder"}, NextQuestion: 2, NextMessage: 2, NextOperation: 4, BaseVersion: 60, Messaging: messagingVersion}
			if next.Resume == nil {
				t.Fatal("no resume state")
			}
			sameJSON(t, "resume", *next.Resume, want)
		})
	}
	t.Run("below the limit nothing happens", func(t *testing.T) {
		h := newHarness(t, options{historyLimit: 500})
		h.env.SetCurrentHistoryLength(499)
		h.update(time.Hour, request.UpdateMessage, request.MessageInput{Actor: alice, Text: "On it"})
		h.update(2*time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
		if out := h.run(request.Input{Request: newRequest()}); out.Request.Status != request.StatusWithdrawn {
			t.Errorf("ended %s, %v", out.Request.Status, h.env.GetWorkflowError())
		}
	})
}

// The next run goes on from the carried state: no new submission, the history numbering
// and the clocks continue.
func TestResumedRunContinues(t *testing.T) {
	next := continuedInput(t, options{}, func(h *harness) { h.env.SetContinueAsNewSuggested(true) })
	h := newHarness(t, options{})
	h.update(4*time.Hour, request.UpdateAnswer, request.AnswerInput{Actor: alice, QuestionID: "q-1", Text: "Job boards"})
	ask := h.update(5*time.Hour, request.UpdateAsk, request.AskInput{Actor: mod, Text: "Region?"})
	h.update(6*time.Hour, request.UpdateAnswer, request.AnswerInput{Actor: alice, QuestionID: "q-2", Text: "All"})
	msg := h.update(6*time.Hour, request.UpdateMessage, request.MessageInput{Actor: mod, Text: "Thanks"})
	h.update(12*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: []request.OperationDecision{
		{OperationID: "op-1", Decision: request.DecisionAccepted}, {OperationID: "op-2", Decision: request.DecisionAccepted},
		{OperationID: "op-3", Decision: request.DecisionAccepted}}})
	out := h.runFrom(next)

	if ask.ok(t).ID != "q-2" || msg.ok(t).ID != "m-2" {
		t.Errorf("ids %q %q: the counters did not carry over", ask.result.ID, msg.result.ID)
	}
	// The partner clock had run 1h10: its reminder falls due 2h50 into this run. The moderator
	// clock had run 1h: 1h more between 4h and 5h, then 3h from 6h on: the reminder at 9h.
	h.wantTypes(request.EventReminder, request.EventQuestionAnswered, request.EventQuestionAsked, request.EventQuestionAnswered,
		request.EventMessagePosted, request.EventReminder, request.EventDecided, request.EventPublished)
	wantTimes(t, h, 170*time.Minute, 4*time.Hour, 5*time.Hour, 6*time.Hour, 6*time.Hour, 9*time.Hour, 12*time.Hour, 12*time.Hour)
	h.checkHistory(7, &out.Request)
	var to []string
	for _, e := range h.events {
		if e.Type == request.EventReminder {
			to = append(to, data(t, e).To)
		}
	}
	if !slices.Equal(to, []string{request.RecipientPartner, request.RecipientAssignee}) {
		t.Errorf("reminders to %q", to)
	}
	if out.Request.Status != request.StatusPublished || len(h.validated) != 0 {
		t.Errorf("final %s after %d dry runs (a resumed request is not checked again)", out.Request.Status, len(h.validated))
	}
}
