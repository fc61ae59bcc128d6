package lifecycle

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/plateforme-rome/rome/activities/intake"
	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/workflows/request"
)

// Every validator refusal: the wrong status (with the current one), bad input (naming the
// field), the wrong actor. Refused updates change nothing and record nothing.
func TestValidatorsRefuse(t *testing.T) {
	h := newHarness(t, options{})
	type refusal struct {
		o      *outcome
		kind   string
		field  string
		status request.Status
	}
	var cases []refusal
	refuse := func(after time.Duration, status request.Status, kind, field, name string, in any) {
		cases = append(cases, refusal{h.update(after, name, in), kind, field, status})
	}
	all := func(decision string) []request.OperationDecision {
		var ds []request.OperationDecision
		for _, id := range []string{"op-1", "op-2", "op-3"} {
			ds = append(ds, request.OperationDecision{OperationID: id, Decision: decision, Rationale: "because"})
		}
		return ds
	}
	with := func(i int, d request.OperationDecision) []request.OperationDecision {
		ds := all(request.DecisionAccepted)
		ds[i] = d
		return ds
	}
	triage, review, partner := request.StatusAwaitingTriage, request.StatusInReview, request.StatusAwaitingPartner
	const transition, input, forbidden = request.ErrInvalidTransition, request.ErrInvalidInput, request.ErrForbidden

	// Awaiting triage.
	at1 := time.Hour
	refuse(at1, triage, transition, "", request.UpdateAsk, request.AskInput{Actor: mod, Text: "?"})
	refuse(at1, triage, transition, "", request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: all(request.DecisionAccepted)})
	refuse(at1, triage, transition, "", request.UpdateAnswer, request.AnswerInput{Actor: alice, QuestionID: "q-1", Text: "x"})
	refuse(at1, triage, transition, "", request.UpdateAmend, request.AmendInput{Actor: alice, Operations: []request.Operation{{Op: "add_savoir"}}})
	refuse(at1, triage, forbidden, "", request.UpdateAssign, request.AssignInput{Actor: alice, Moderator: "alice"})
	refuse(at1, triage, forbidden, "", request.UpdateAssign, request.AssignInput{Actor: service, Moderator: "mod-1"})
	refuse(at1, triage, input, "moderator", request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: " "})
	refuse(at1, triage, input, "actor.sub", request.UpdateAssign, request.AssignInput{Actor: request.Actor{Role: request.RoleModerator}, Moderator: "mod-1"})
	refuse(at1, triage, forbidden, "", request.UpdateMessage, request.MessageInput{Actor: bob, Text: "hi"})
	refuse(at1, triage, input, "text", request.UpdateMessage, request.MessageInput{Actor: alice, Text: "  "})
	refuse(at1, triage, forbidden, "", request.UpdateWithdraw, request.WithdrawInput{Actor: mod})
	refuse(at1, triage, forbidden, "", request.UpdateWithdraw, request.WithdrawInput{Actor: bob})

	h.update(2*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})

	// In review.
	at3 := 3 * time.Hour
	submitterAsModerator := request.Actor{Sub: "alice", Role: request.RoleModerator}
	refuse(at3, review, forbidden, "", request.UpdateDecide, request.DecideInput{Actor: submitterAsModerator, Decisions: all(request.DecisionAccepted)})
	refuse(at3, review, forbidden, "", request.UpdateDecide, request.DecideInput{Actor: alice, Decisions: all(request.DecisionAccepted)})
	refuse(at3, review, input, "decisions", request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: all(request.DecisionAccepted)[:2]})
	refuse(at3, review, input, "decisions", request.UpdateDecide, request.DecideInput{Actor: mod})
	refuse(at3, review, input, "decisions[0].operationId", request.UpdateDecide, request.DecideInput{Actor: mod,
		Decisions: with(0, request.OperationDecision{OperationID: "op-9", Decision: request.DecisionAccepted})})
	refuse(at3, review, input, "decisions[1].operationId", request.UpdateDecide, request.DecideInput{Actor: mod,
		Decisions: with(1, request.OperationDecision{OperationID: "op-1", Decision: request.DecisionAccepted})})
	refuse(at3, review, input, "decisions[0].decision", request.UpdateDecide, request.DecideInput{Actor: mod,
		Decisions: with(0, request.OperationDecision{OperationID: "op-1", Decision: "maybe"})})
	refuse(at3, review, input, "decisions[1].rationale", request.UpdateDecide, request.DecideInput{Actor: mod,
		Decisions: with(1, request.OperationDecision{OperationID: "op-2", Decision: request.DecisionRejected, Rationale: " "})})
	refuse(at3, review, input, "decisions[2].rationale", request.UpdateDecide, request.DecideInput{Actor: mod,
		Decisions: with(2, request.OperationDecision{OperationID: "op-3", Decision: request.DecisionAmended, Amendment: &request.Operation{Op: "add_mobilite"}})})
	refuse(at3, review, input, "decisions[2].amendment", request.UpdateDecide, request.DecideInput{Actor: mod,
		Decisions: with(2, request.OperationDecision{OperationID: "op-3", Decision: request.DecisionAmended, Rationale: "closer"})})
	refuse(at3, review, input, "decisions[2].amendment.op", request.UpdateDecide, request.DecideInput{Actor: mod,
		Decisions: with(2, request.OperationDecision{OperationID: "op-3", Decision: request.DecisionAmended, Rationale: "closer", Amendment: &request.Operation{}})})
	refuse(at3, review, input, "decisions[0].amendment", request.UpdateDecide, request.DecideInput{Actor: mod,
		Decisions: with(0, request.OperationDecision{OperationID: "op-1", Decision: request.DecisionAccepted, Amendment: &request.Operation{Op: "add_savoir"}})})
	refuse(at3, review, input, "text", request.UpdateAsk, request.AskInput{Actor: mod, Text: ""})
	refuse(at3, review, forbidden, "", request.UpdateAsk, request.AskInput{Actor: alice, Text: "?"})
	refuse(at3, review, transition, "", request.UpdateAnswer, request.AnswerInput{Actor: alice, QuestionID: "q-1", Text: "x"})
	refuse(at3, review, input, "operations", request.UpdateAmend, request.AmendInput{Actor: alice})
	refuse(at3, review, input, "operations[0].op", request.UpdateAmend, request.AmendInput{Actor: alice, Operations: []request.Operation{{CodeOgr: "1"}}})
	refuse(at3, review, input, "operations[1].id", request.UpdateAmend, request.AmendInput{Actor: alice,
		Operations: []request.Operation{{ID: "x", Op: "add_savoir"}, {ID: "x", Op: "add_savoir"}}})
	refuse(at3, review, forbidden, "", request.UpdateAmend, request.AmendInput{Actor: bob, Operations: []request.Operation{{Op: "add_savoir"}}})
	refuse(at3, review, forbidden, "", request.UpdateAmend, request.AmendInput{Actor: mod, Operations: []request.Operation{{Op: "add_savoir"}}})

	h.update(4*time.Hour, request.UpdateAsk, request.AskInput{Actor: mod, Text: "Sources?"})

	// Awaiting the partner.
	at5 := 5 * time.Hour
	refuse(at5, partner, input, "questionId", request.UpdateAnswer, request.AnswerInput{Actor: alice, QuestionID: "q-9", Text: "x"})
	refuse(at5, partner, input, "text", request.UpdateAnswer, request.AnswerInput{Actor: alice, QuestionID: "q-1"})
	refuse(at5, partner, forbidden, "", request.UpdateAnswer, request.AnswerInput{Actor: bob, QuestionID: "q-1", Text: "x"})
	refuse(at5, partner, forbidden, "", request.UpdateAnswer, request.AnswerInput{Actor: mod, QuestionID: "q-1", Text: "x"})
	refuse(at5, partner, transition, "", request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: all(request.DecisionAccepted)})
	refuse(at5, partner, transition, "", request.UpdateAsk, request.AskInput{Actor: mod, Text: "another?"})

	h.update(6*time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
	out := h.run(request.Input{Request: newRequest()})

	for _, c := range cases {
		c.o.refused(t, c.kind, c.field, c.status)
	}
	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventAssigned, request.EventQuestionAsked, request.EventWithdrawn)
	h.checkHistory(1, &out.Request)
	if len(h.validated) != 1 || out.Request.Operations[0].Decision != nil || len(out.Request.Questions) != 1 {
		t.Errorf("a refused update changed the request: %d dry runs, %+v", len(h.validated), out.Request)
	}
}

// A handler checks again under the mutex: a decision validated while an amendment's checks
// were running no longer covers the amended operations, and fails.
func TestHandlersCheckAgainUnderTheMutex(t *testing.T) {
	h := newHarness(t, options{})
	h.update(time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	amend, decide := &outcome{name: request.UpdateAmend}, &outcome{name: request.UpdateDecide}
	h.env.RegisterDelayedCallback(func() {
		h.send(amend, request.AmendInput{Actor: alice, Operations: []request.Operation{{Op: refclient.OpAddSavoir, CodeOgr: "200042"}}})
		h.send(decide, request.DecideInput{Actor: mod, Decisions: []request.OperationDecision{
			{OperationID: "op-1", Decision: request.DecisionAccepted}, {OperationID: "op-2", Decision: request.DecisionAccepted},
			{OperationID: "op-3", Decision: request.DecisionAccepted}}})
	}, 2*time.Hour)
	h.update(3*time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
	out := h.run(request.Input{Request: newRequest()})

	amend.ok(t)
	if decide.rejected != nil || decide.err == nil {
		t.Fatalf("decide: rejected %v, failed %v; want it validated, then failed under the mutex", decide.rejected, decide.err)
	}
	checkRejection(t, "decide", decide.err, request.ErrInvalidInput, "decisions[0].operationId", request.StatusInReview)
	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventAssigned, request.EventOperationsAmended, request.EventWithdrawn)
	h.checkHistory(1, &out.Request)
}

func TestAssignAndReassign(t *testing.T) {
	h := newHarness(t, options{})
	first := h.update(1*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	again := h.update(2*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	h.update(3*time.Hour, request.UpdateAsk, request.AskInput{Actor: mod, Text: "?"})
	other := h.update(4*time.Hour, request.UpdateAssign, request.AssignInput{Actor: admin, Moderator: "mod-2"})
	h.update(5*time.Hour, request.UpdateAnswer, request.AnswerInput{Actor: alice, QuestionID: "q-1", Text: "!"})
	back := h.update(6*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod2, Moderator: "mod-1"})
	h.update(7*time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
	out := h.run(request.Input{Request: newRequest()})

	first.ok(t)
	if r := again.ok(t); r.Request.Assignee != "mod-1" || r.Request.Status != request.StatusInReview {
		t.Errorf("assigning again answered %s %q", r.Request.Status, r.Request.Assignee)
	}
	if r := other.ok(t); r.Request.Status != request.StatusAwaitingPartner {
		t.Errorf("re-assigning while awaiting the partner moved the request to %s", r.Request.Status)
	}
	back.ok(t)
	// Assigning to the assignee again (a retried call) records nothing.
	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventAssigned, request.EventQuestionAsked, request.EventAssigned,
		request.EventQuestionAnswered, request.EventAssigned, request.EventWithdrawn)
	h.checkHistory(1, &out.Request)
	var assignees []string
	for _, e := range h.events {
		if e.Type == request.EventAssigned {
			assignees = append(assignees, data(t, e).Moderator+"/"+e.Request.Assignee+"/"+e.Actor.Sub)
		}
	}
	if want := []string{"mod-1/mod-1/mod-1", "mod-2/mod-2/adm", "mod-1/mod-1/mod-2"}; !slices.Equal(assignees, want) {
		t.Errorf("assignments %q, want %q", assignees, want)
	}
}

func TestSearchAttributesFollowEveryTransition(t *testing.T) {
	h := newHarness(t, options{})
	h.update(1*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	h.update(2*time.Hour, request.UpdateAsk, request.AskInput{Actor: mod, Text: "?"})
	h.update(3*time.Hour, request.UpdateMessage, request.MessageInput{Actor: alice, Text: "no transition"})
	h.update(4*time.Hour, request.UpdateAnswer, request.AnswerInput{Actor: alice, QuestionID: "q-1", Text: "!"})
	h.update(5*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-2"})
	h.update(6*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: []request.OperationDecision{
		{OperationID: "op-1", Decision: request.DecisionAccepted}, {OperationID: "op-2", Decision: request.DecisionAccepted},
		{OperationID: "op-3", Decision: request.DecisionAccepted}}})
	h.run(request.Input{Request: newRequest()})

	var got []string
	for _, u := range h.upserts {
		if u["RomeCode"] != "M1805" || u["RequestKind"] != "modify_fiche" || u["PartnerOrg"] != "opco-2i" {
			t.Errorf("upsert %v", u)
		}
		got = append(got, u["RequestStatus"]+"/"+u["AssignedModerator"])
	}
	// The workflow starts with SUBMITTED indexed (the intake sets it): no upsert repeats it.
	want := []string{"CHECKING/", "AWAITING_TRIAGE/", "IN_REVIEW/mod-1", "AWAITING_PARTNER/mod-1", "IN_REVIEW/mod-1",
		"IN_REVIEW/mod-2", "PUBLISHING/mod-2", "PUBLISHED/mod-2"}
	if !slices.Equal(got, want) {
		t.Errorf("upserts\n got %q\nwant %q", got, want)
	}
}

// A request for a new fiche has no code ROME until its publication names it.
func TestNewFicheGetsItsCodeAtPublication(t *testing.T) {
	h := newHarness(t, options{})
	h.publish = func(_ int, cs refclient.ChangeSet) (refclient.Publication, error) {
		return refclient.Publication{ID: cs.ID, CodeRome: "M1899", Version: 61}, nil
	}
	in := newRequest()
	in.Kind, in.CodeRome = request.KindCreateFromNew, ""
	in.Operations = []request.RequestOperation{{Operation: request.Operation{Op: refclient.OpCreateFiche, Libelle: "Ingénieur Rust",
		DomaineProfessionnel: "M18", AppellationPrincipale: &refclient.AppellationPrincipale{Libelle: "Ingénieur Rust"}}}}
	h.update(time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	h.update(2*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: []request.OperationDecision{
		{OperationID: "op-1", Decision: request.DecisionAccepted}}})
	out := h.run(request.Input{Request: in})

	if out.Request.CodeRome != "M1899" || out.Request.Status != request.StatusPublished || out.Request.Operations[0].ID != "op-1" {
		t.Errorf("final %s %q, operation id %q", out.Request.Status, out.Request.CodeRome, out.Request.Operations[0].ID)
	}
	if h.validated[0].CodeRome != "" || h.published[0].CodeRome != "" || h.published[0].Operations[0].ID != "op-1" {
		t.Errorf("dry run %+v, change set %+v", h.validated[0], h.published[0])
	}
	first, last := h.upserts[0], h.upserts[len(h.upserts)-1]
	if _, ok := first["RomeCode"]; ok || last["RomeCode"] != "M1899" || last["RequestKind"] != string(request.KindCreateFromNew) {
		t.Errorf("search attributes first %v, last %v", first, last)
	}
	h.checkHistory(1, &out.Request)
}

// The history is written even when the intake is down for a while: RecordEvent is retried,
// each event stored once.
func TestHistoryWrittenThroughIntakeOutages(t *testing.T) {
	h := newHarness(t, options{})
	h.recordFail = 5
	h.update(time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
	out := h.run(request.Input{Request: newRequest()})
	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventWithdrawn)
	h.checkHistory(1, &out.Request)
	if h.recordRuns != 8 {
		t.Errorf("%d RecordEvent runs, want 3 events + 5 failures", h.recordRuns)
	}
}

func TestInvalidWorkflowInputFails(t *testing.T) {
	for name, edit := range map[string]func(*RunInput){
		"no id":                 func(in *RunInput) { in.Request.ID = "" },
		"unknown kind":          func(in *RunInput) { in.Request.Kind = "rename_fiche" },
		"no organisation":       func(in *RunInput) { in.Request.Org = "" },
		"no submitter":          func(in *RunInput) { in.Request.SubmittedBy.Sub = "" },
		"new but not submitted": func(in *RunInput) { in.Request.Status = request.StatusInReview },
		"resumed but closed": func(in *RunInput) {
			in.Request.Status, in.Resume = request.StatusPublished, &Resume{Seq: 9}
		},
		"duplicate operation ids": func(in *RunInput) { in.Request.Operations[1].ID = "op-1" },
		"resumed awaiting the partner without a question": func(in *RunInput) {
			in.Request.Status, in.Resume = request.StatusAwaitingPartner, &Resume{Seq: 9}
		},
		"resumed publishing undecided operations": func(in *RunInput) {
			in.Request.Status, in.Resume = request.StatusPublishing, &Resume{Seq: 9}
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, options{})
			in := RunInput{Input: request.Input{Request: newRequest()}}
			edit(&in)
			h.runFrom(in)
			var appErr *temporal.ApplicationError
			if err := h.env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != ErrInvalidWorkflowInput {
				t.Errorf("workflow error %v, want %s", err, ErrInvalidWorkflowInput)
			}
			if len(h.events) != 0 {
				t.Errorf("events recorded: %q", h.types())
			}
		})
	}
}

func TestOperationIDs(t *testing.T) {
	h := newHarness(t, options{})
	in := newRequest()
	in.Operations[0].ID = ""     // no id: the next free number
	in.Operations[1].ID = "mine" // a client id is kept
	in.Operations[2].ID = "op-7" // numbering goes on after it
	h.update(time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
	out := h.run(request.Input{Request: in})
	var ids []string
	for _, op := range out.Request.Operations {
		ids = append(ids, op.ID)
	}
	if want := []string{"op-8", "mine", "op-7"}; !slices.Equal(ids, want) {
		t.Errorf("operation ids %q, want %q", ids, want)
	}
}

func TestTimersDefaultFieldByField(t *testing.T) {
	got := withDefaults(request.Timers{QuestionExpiry: time.Hour, PartnerReminder: -time.Second})
	want := request.DefaultTimers
	want.QuestionExpiry = time.Hour
	if got != want {
		t.Errorf("withDefaults = %+v, want %+v", got, want)
	}
}

// A wait that ends cancels its pending timer, so no stale timer fires later in the history.
func TestTimersOfAnEndedWaitAreCancelled(t *testing.T) {
	h := newHarness(t, options{})
	scheduled := map[string]time.Duration{}
	var canceled []time.Duration
	h.env.SetOnTimerScheduledListener(func(id string, d time.Duration) { scheduled[id] = d })
	h.env.SetOnTimerCanceledListener(func(id string) { canceled = append(canceled, scheduled[id]) })
	h.update(1*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	h.update(2*time.Hour, request.UpdateAsk, request.AskInput{Actor: mod, Text: "?"})
	h.update(3*time.Hour, request.UpdateAnswer, request.AnswerInput{Actor: alice, QuestionID: "q-1", Text: "!"})
	h.update(4*time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
	h.run(request.Input{Request: newRequest()})

	d := request.DefaultTimers
	want := []time.Duration{d.TriageReminder, d.DecisionReminder, d.PartnerReminder, d.DecisionReminder - time.Hour}
	if !slices.Equal(canceled, want) {
		t.Errorf("cancelled timers %v, want %v", canceled, want)
	}
}

// TestAssignedInTurn: under the round-robin rule a checked request goes at once to the
// moderator the intake picks for its fiche's domain, who is told; with nobody to pick, or
// the intake down, it awaits triage.
func TestAssignedInTurn(t *testing.T) {
	for _, tc := range []struct {
		name, picked string
		down         bool
		wantStatus   request.Status
	}{
		{"picked", "mod-7", false, request.StatusInReview},
		{"nobody covers the fiche", "", false, request.StatusAwaitingTriage},
		{"intake down", "mod-7", true, request.StatusAwaitingTriage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, options{})
			var asked []intake.PickModeratorInput
			h.env.OnActivity(intakeActs.PickModerator, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in intake.PickModeratorInput) (intake.PickModeratorOutput, error) {
					h.mu.Lock()
					defer h.mu.Unlock()
					asked = append(asked, in)
					if tc.down {
						return intake.PickModeratorOutput{}, temporal.NewNonRetryableApplicationError("intake: HTTP 503", "Unavailable", nil)
					}
					return intake.PickModeratorOutput{Moderator: tc.picked}, nil
				})
			h.update(time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
			out := h.run(request.Input{Request: newRequest(), AutoAssign: true})
			if len(asked) == 0 || asked[0].Domain != "M1805" || asked[0].RequestID != out.Request.ID {
				t.Fatalf("asked %+v", asked)
			}
			var statuses []request.Status
			for _, e := range h.events {
				statuses = append(statuses, e.Request.Status)
			}
			if len(statuses) < 3 || statuses[len(statuses)-2] != tc.wantStatus {
				t.Fatalf("statuses %v, want %s before the withdrawal", statuses, tc.wantStatus)
			}
			if tc.wantStatus == request.StatusInReview {
				h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventAssigned, request.EventWithdrawn)
				assigned := h.events[2]
				if assigned.Actor != request.SystemActor || data(t, assigned).Moderator != "mod-7" || assigned.Request.Assignee != "mod-7" {
					t.Errorf("assignment %+v", assigned)
				}
			}
		})
	}
}
