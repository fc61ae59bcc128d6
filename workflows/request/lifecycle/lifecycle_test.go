package lifecycle

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/workflows/request"
)

func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	if string(a) != string(b) {
		t.Errorf("%s\n got %s\nwant %s", what, a, b)
	}
}

func wantTimes(t *testing.T, h *harness, offsets ...time.Duration) {
	t.Helper()
	var got, want []time.Time
	for i, e := range h.events {
		got = append(got, e.At)
		if i < len(offsets) {
			want = append(want, at(offsets[i]))
		}
	}
	if !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("event times\n got %v\nwant %v", got, want)
	}
}

func TestPublishedWithPartialAcceptance(t *testing.T) {
	h := newHarness(t, options{})
	assign := h.update(1*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	ask := h.update(2*time.Hour, request.UpdateAsk, request.AskInput{Actor: mod, Text: " Which sources? "})
	answer := h.update(3*time.Hour, request.UpdateAnswer, request.AnswerInput{Actor: colleen, QuestionID: "q-1", Text: "Job boards, 2025"})
	amendment := request.Operation{Op: refclient.OpAddMobilite, ToCodeRome: "M1403", Rank: ptr(2)}
	decisions := []request.OperationDecision{
		{OperationID: "op-1", Decision: request.DecisionAccepted},
		{OperationID: "op-2", Decision: request.DecisionRejected, Rationale: "still in use"},
		{OperationID: "op-3", Decision: request.DecisionAmended, Rationale: "a closer fiche", Amendment: &amendment},
	}
	decide := h.update(4*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: decisions})
	out := h.run(request.Input{Request: newRequest()})

	if r := assign.ok(t); r.Request.Status != request.StatusInReview || r.Request.Assignee != "mod-1" {
		t.Errorf("assign answered %s / %q", r.Request.Status, r.Request.Assignee)
	}
	if r := ask.ok(t); r.ID != "q-1" || r.Request.Status != request.StatusAwaitingPartner {
		t.Errorf("ask answered %q / %s", r.ID, r.Request.Status)
	}
	answer.ok(t)
	if r := decide.ok(t); r.Request.Status != request.StatusPublishing {
		t.Errorf("decide answered %s, want PUBLISHING (the publication follows)", r.Request.Status)
	}

	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventAssigned, request.EventQuestionAsked,
		request.EventQuestionAnswered, request.EventDecided, request.EventPublished)
	if got, want := h.statuses(), []request.Status{request.StatusSubmitted, request.StatusAwaitingTriage, request.StatusInReview,
		request.StatusAwaitingPartner, request.StatusInReview, request.StatusPublishing, request.StatusPublished}; !slices.Equal(got, want) {
		t.Errorf("snapshot statuses %v, want %v", got, want)
	}
	wantTimes(t, h, 0, 0, time.Hour, 2*time.Hour, 3*time.Hour, 4*time.Hour, 4*time.Hour)
	var actors []string
	for _, e := range h.events {
		actors = append(actors, e.Actor.Sub)
	}
	if want := []string{"alice", "system", "mod-1", "mod-1", "colleen", "mod-1", "system"}; !slices.Equal(actors, want) {
		t.Errorf("actors %q, want %q", actors, want)
	}
	h.checkHistory(1, &out.Request)

	// The dry run: the request's operations on its fiche, no change-set id; the overlap query.
	ops := operationsOf(newRequest().Operations)
	if len(h.validated) != 1 {
		t.Fatalf("%d dry runs", len(h.validated))
	}
	sameJSON(t, "dry run", h.validated[0], refclient.ChangeSet{CodeRome: "M1805", Operations: ops})
	sameJSON(t, "overlap query", h.queries, []request.OverlapQuery{{RequestID: "r1", CodeRome: "M1805", Elements: request.ElementsOf(ops)}})

	// The change set: the accepted operation and the amendment under op-3's id, on the
	// version the checks saw.
	if len(h.published) != 1 {
		t.Fatalf("%d publications", len(h.published))
	}
	amended := amendment
	amended.ID = "op-3"
	sameJSON(t, "change set", h.published[0], refclient.ChangeSet{ID: "r1-decision-1", RequestID: "r1", BaseVersion: 60, CodeRome: "M1805",
		RequestTitle: "Rust developers", Operations: []refclient.Operation{ops[0], amended}})

	r := out.Request
	if r.Status != request.StatusPublished || r.PublishedVersion == nil || *r.PublishedVersion != 61 || r.ChangeSetID != "r1-decision-1" {
		t.Errorf("final request %s v%v %q", r.Status, r.PublishedVersion, r.ChangeSetID)
	}
	for i, want := range []string{request.DecisionAccepted, request.DecisionRejected, request.DecisionAmended} {
		d := r.Operations[i].Decision
		if d == nil || d.Decision != want || d.DecidedBy != mod || !d.DecidedAt.Equal(at(4*time.Hour)) {
			t.Errorf("operation %d decision %+v, want %s by mod-1 at 4h", i, d, want)
		}
	}
	if a := r.Operations[2].Decision.Amendment; a == nil || a.ID != "op-3" || a.ToCodeRome != "M1403" || r.Operations[1].Decision.Rationale != "still in use" {
		t.Errorf("amendment %+v, rationale %q", a, r.Operations[1].Decision.Rationale)
	}
	q := r.Questions[0]
	if q.ID != "q-1" || q.Text != "Which sources?" || q.AskedBy != mod || !q.AskedAt.Equal(at(2*time.Hour)) || q.Answer == nil ||
		*q.Answer != "Job boards, 2025" || *q.AnsweredBy != colleen || !q.AnsweredAt.Equal(at(3*time.Hour)) {
		t.Errorf("question %+v", q)
	}

	sameJSON(t, "submitted data", data(t, h.events[0]), request.EventData{Operations: ops})
	sameJSON(t, "checks data", data(t, h.events[1]), request.EventData{Version: 60})
	sameJSON(t, "assigned data", data(t, h.events[2]), request.EventData{Moderator: "mod-1"})
	sameJSON(t, "question data", data(t, h.events[3]), request.EventData{QuestionID: "q-1", Text: "Which sources?"})
	sameJSON(t, "answer data", data(t, h.events[4]), request.EventData{QuestionID: "q-1", Text: "Job boards, 2025"})
	sameJSON(t, "decided data", data(t, h.events[5]), request.EventData{Decisions: decisions})
	sameJSON(t, "published data", data(t, h.events[6]), request.EventData{ChangeSetID: "r1-decision-1", Version: 61})
}

func TestEveryOperationRejected(t *testing.T) {
	h := newHarness(t, options{})
	h.update(time.Hour, request.UpdateAssign, request.AssignInput{Actor: admin, Moderator: "mod-1"})
	var ds []request.OperationDecision
	for _, id := range []string{"op-1", "op-2", "op-3"} {
		ds = append(ds, request.OperationDecision{OperationID: id, Decision: request.DecisionRejected, Rationale: "not needed"})
	}
	decide := h.update(2*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod2, Decisions: ds})
	out := h.run(request.Input{Request: newRequest()})

	if decide.ok(t).Request.Status != request.StatusRejected {
		t.Error("decide did not answer REJECTED")
	}
	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventAssigned, request.EventDecided)
	h.checkHistory(1, &out.Request)
	if out.Request.Status != request.StatusRejected || out.Request.ClosedReason != "every operation was rejected" || len(h.published) != 0 {
		t.Errorf("final %s %q, %d publications", out.Request.Status, out.Request.ClosedReason, len(h.published))
	}
	if d := data(t, h.event(request.EventDecided, 0)); d.Reason != "every operation was rejected" || len(d.Decisions) != 3 {
		t.Errorf("decided data %+v", d)
	}
}

func TestFatalChecksRejectAtOnce(t *testing.T) {
	unknownFiche := func(_ int, cs refclient.ChangeSet) (refclient.Validation, error) {
		v := refclient.Validation{Version: 60, CodeRome: cs.CodeRome}
		for _, op := range cs.Operations {
			v.Results = append(v.Results, refclient.Result{OperationID: op.ID, Op: op.Op, Code: "unknown_fiche", Field: "codeRome", Reason: "fiche M1805 does not exist"})
		}
		return v, nil
	}
	refused := func(int, refclient.ChangeSet) (refclient.Validation, error) {
		return refclient.Validation{}, temporal.NewNonRetryableApplicationError("referential: HTTP 422 field_required: codeRome is required",
			"ReferentialRejected", nil, "field_required")
	}
	for _, tc := range []struct {
		name       string
		ops        []request.RequestOperation
		validate   func(int, refclient.ChangeSet) (refclient.Validation, error)
		reason     string
		codes      []string
		dryRuns    int
		reasonPart string
	}{
		{name: "unknown code ROME", ops: newRequest().Operations, validate: unknownFiche, reason: "fiche M1805 does not exist",
			codes: []string{"unknown_fiche", "unknown_fiche", "unknown_fiche"}, dryRuns: 1},
		{name: "no operation", ops: nil, validate: applies(60), reason: "the request has no operation",
			codes: []string{request.FindingOperationsRequired}, dryRuns: 0},
		{name: "change set refused by the referential", ops: newRequest().Operations, validate: refused,
			reason: "the referential refused the operations: referential: HTTP 422 field_required: codeRome is required",
			codes:  []string{"field_required"}, dryRuns: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, options{})
			h.validate = tc.validate
			in := newRequest()
			in.Operations = tc.ops
			out := h.run(request.Input{Request: in})

			h.wantTypes(request.EventSubmitted, request.EventRejectedByChecks)
			h.checkHistory(1, &out.Request)
			r := out.Request
			if r.Status != request.StatusRejected || r.ClosedReason != tc.reason {
				t.Errorf("final %s %q, want REJECTED %q", r.Status, r.ClosedReason, tc.reason)
			}
			var codes []string
			for _, f := range r.Findings {
				codes = append(codes, f.Code)
				if f.Severity != request.SeverityError {
					t.Errorf("finding %+v is not an error", f)
				}
			}
			if !slices.Equal(codes, tc.codes) || len(h.validated) != tc.dryRuns {
				t.Errorf("findings %q after %d dry runs, want %q after %d", codes, len(h.validated), tc.codes, tc.dryRuns)
			}
			if d := data(t, h.events[1]); d.Reason != tc.reason || len(d.Findings) != len(tc.codes) {
				t.Errorf("rejected_by_checks data %+v", d)
			}
		})
	}
}

func TestFindingsAreAttachedForTheModerator(t *testing.T) {
	h := newHarness(t, options{})
	h.validate = func(_ int, cs refclient.ChangeSet) (refclient.Validation, error) {
		v := validation(60, cs, map[string]string{"op-2": "unknown_appellation"})
		v.Results[2] = refclient.Result{OperationID: "op-3", Op: refclient.OpAddMobilite, Code: "unknown_fiche", Field: "toCodeRome", Reason: "fiche M1402 does not exist"}
		return v, nil
	}
	h.overlaps = func(q request.OverlapQuery) []request.Overlap {
		return []request.Overlap{{RequestID: "r0", Title: "Older request", Status: request.StatusInReview, Elements: []string{"appellation:10944"}}}
	}
	withdraw := h.update(time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice, Reason: "duplicate of r0"})
	out := h.run(request.Input{Request: newRequest()})

	withdraw.ok(t)
	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventWithdrawn)
	h.checkHistory(1, &out.Request)
	want := []request.Finding{
		{Code: "unknown_appellation", Severity: request.SeverityError, OperationID: "op-2", Field: "codeOgr", Message: "refused: unknown_appellation"},
		// A mobilité towards an unknown fiche is an error of that operation, not an unknown request fiche.
		{Code: "unknown_fiche", Severity: request.SeverityError, OperationID: "op-3", Field: "toCodeRome", Message: "fiche M1402 does not exist"},
		{Code: request.FindingOverlappingRequest, Severity: request.SeverityWarning, OtherID: "r0",
			Message: `request r0 ("Older request", IN_REVIEW) also changes appellation:10944`},
	}
	sameJSON(t, "findings after the checks", h.events[1].Request.Findings, want)
	sameJSON(t, "checks data", data(t, h.events[1]), request.EventData{Findings: want, Version: 60})
	if h.events[1].Request.Status != request.StatusAwaitingTriage {
		t.Errorf("a request with findings awaits triage, got %s", h.events[1].Request.Status)
	}
	if out.Request.Status != request.StatusWithdrawn || out.Request.ClosedReason != "duplicate of r0" {
		t.Errorf("final %s %q", out.Request.Status, out.Request.ClosedReason)
	}
}

func TestQuestionRoundsAndTheQuery(t *testing.T) {
	h := newHarness(t, options{})
	h.update(1*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	q1 := h.update(2*time.Hour, request.UpdateAsk, request.AskInput{Actor: mod, Text: "Sources?"})
	var during request.Request
	var triageDetails, partnerDetails string
	h.env.RegisterDelayedCallback(func() { triageDetails = h.currentDetails() }, 30*time.Minute)
	h.env.RegisterDelayedCallback(func() {
		partnerDetails = h.currentDetails()
		v, err := h.env.QueryWorkflow(request.QueryState)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Get(&during); err != nil {
			t.Fatal(err)
		}
	}, 150*time.Minute)
	h.update(3*time.Hour, request.UpdateAnswer, request.AnswerInput{Actor: alice, QuestionID: "q-1", Text: "Job boards"})
	q2 := h.update(4*time.Hour, request.UpdateAsk, request.AskInput{Actor: mod2, Text: "Which region?"})
	stale := h.update(5*time.Hour, request.UpdateAnswer, request.AnswerInput{Actor: alice, QuestionID: "q-1", Text: "again"})
	h.update(6*time.Hour, request.UpdateAnswer, request.AnswerInput{Actor: alice, QuestionID: "q-2", Text: "Île-de-France"})
	var decisions []request.OperationDecision
	for _, id := range []string{"op-1", "op-2", "op-3"} {
		decisions = append(decisions, request.OperationDecision{OperationID: id, Decision: request.DecisionAccepted})
	}
	h.update(7*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: decisions})
	out := h.run(request.Input{Request: newRequest()})

	if q1.ok(t).ID != "q-1" || q2.ok(t).ID != "q-2" {
		t.Errorf("question ids %q %q", q1.result.ID, q2.result.ID)
	}
	stale.refused(t, request.ErrInvalidInput, "questionId", request.StatusAwaitingPartner)
	// What the Temporal UI shows of the request while it waits.
	if want := "**Status** AWAITING_TRIAGE · **Next** reminder to moderators (triage wait) at 2037-03-05 09:00 UTC"; triageDetails != want {
		t.Errorf("current details in triage %q, want %q", triageDetails, want)
	}
	if want := "**Status** AWAITING_PARTNER · **Assignee** mod-1 · **Next** reminder to partner (question wait) at 2037-03-09 11:00 UTC"; partnerDetails != want {
		t.Errorf("current details awaiting the partner %q, want %q", partnerDetails, want)
	}
	if during.Status != request.StatusAwaitingPartner || len(during.Questions) != 1 || during.Questions[0].Answer != nil || during.Assignee != "mod-1" {
		t.Errorf("query during the first round: %+v", during)
	}
	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventAssigned, request.EventQuestionAsked, request.EventQuestionAnswered,
		request.EventQuestionAsked, request.EventQuestionAnswered, request.EventDecided, request.EventPublished)
	h.checkHistory(1, &out.Request)
	if len(out.Request.Questions) != 2 || *out.Request.Questions[1].Answer != "Île-de-France" || out.Request.Status != request.StatusPublished {
		t.Errorf("final %s with questions %+v", out.Request.Status, out.Request.Questions)
	}
	v, err := h.env.QueryWorkflow(request.QueryState)
	if err != nil {
		t.Fatal(err)
	}
	var final request.Request
	if err := v.Get(&final); err != nil || final.Status != request.StatusPublished {
		t.Errorf("query after the end: %s %v", final.Status, err)
	}
}

func TestAmendmentsRunTheChecksAgain(t *testing.T) {
	h := newHarness(t, options{})
	h.validate = func(n int, cs refclient.ChangeSet) (refclient.Validation, error) {
		switch n {
		case 1:
			return validation(60, cs, map[string]string{"op-2": "unknown_appellation"}), nil
		case 4:
			return refclient.Validation{}, temporal.NewNonRetryableApplicationError("referential: HTTP 422 operations_required: no operation",
				"ReferentialRejected", nil, "operations_required")
		}
		return validation(62, cs, nil), nil
	}
	h.update(1*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	first := []request.Operation{
		{ID: "op-1", Op: refclient.OpAddAppellation, Libelle: "Développeur Rust"},
		{Op: refclient.OpAddCompetence, CodeOgr: "100023"},
	}
	amend1 := h.update(2*time.Hour, request.UpdateAmend, request.AmendInput{Actor: alice, Operations: first})
	h.update(3*time.Hour, request.UpdateAsk, request.AskInput{Actor: mod, Text: "Only the compétence?"})
	second := []request.Operation{{Op: refclient.OpAddCompetence, CodeOgr: "100023"}, {Op: refclient.OpAddSavoir, CodeOgr: "200042"}}
	amend2 := h.update(4*time.Hour, request.UpdateAmend, request.AmendInput{Actor: colleen, Operations: second})
	amend3 := h.update(5*time.Hour, request.UpdateAmend, request.AmendInput{Actor: alice, Operations: []request.Operation{{Op: "create_fiche"}}})
	third := []request.Operation{{ID: "op-5", Op: refclient.OpAddCompetence, CodeOgr: "100023"}, {Op: refclient.OpAddSavoir, CodeOgr: "200043"}}
	amend4 := h.update(5*time.Hour+30*time.Minute, request.UpdateAmend, request.AmendInput{Actor: alice, Operations: third})
	h.update(6*time.Hour, request.UpdateAnswer, request.AnswerInput{Actor: alice, QuestionID: "q-1", Text: "Yes"})
	h.update(7*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: []request.OperationDecision{
		{OperationID: "op-5", Decision: request.DecisionAccepted}, {OperationID: "op-7", Decision: request.DecisionAccepted}}})
	out := h.run(request.Input{Request: newRequest()})

	if r := amend1.ok(t); r.Request.Status != request.StatusInReview {
		t.Errorf("amending in review moved the request to %s", r.Request.Status)
	}
	if r := amend2.ok(t); r.Request.Status != request.StatusAwaitingPartner {
		t.Errorf("amending while awaiting the partner moved the request to %s", r.Request.Status)
	}
	if amend3.err == nil {
		t.Fatal("an amendment the referential refuses as a whole was accepted")
	}
	checkRejection(t, "amend3", amend3.err, request.ErrInvalidInput, "operations", request.StatusAwaitingPartner)
	amend4.ok(t)

	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventAssigned, request.EventOperationsAmended,
		request.EventQuestionAsked, request.EventOperationsAmended, request.EventOperationsAmended, request.EventQuestionAnswered,
		request.EventDecided, request.EventPublished)
	h.checkHistory(1, &out.Request)
	if len(h.validated) != 5 {
		t.Fatalf("%d dry runs, want 5 (the checks, then one per amendment)", len(h.validated))
	}
	wantFirst := []request.Operation{first[0], first[1]}
	wantFirst[1].ID = "op-4" // client ids are kept, the others numbered after op-3
	sameJSON(t, "second dry run", h.validated[1].Operations, wantFirst)
	e := h.event(request.EventOperationsAmended, 0)
	if len(h.events[1].Request.Findings) != 1 || len(e.Request.Findings) != 0 {
		t.Errorf("findings were not replaced: %+v then %+v", h.events[1].Request.Findings, e.Request.Findings)
	}
	sameJSON(t, "amended data", data(t, e), request.EventData{Operations: wantFirst, Version: 62})
	sameJSON(t, "amended operations", operationsOf(e.Request.Operations), wantFirst)

	wantSecond := []request.Operation{second[0], second[1]}
	wantSecond[0].ID, wantSecond[1].ID = "op-5", "op-6"
	sameJSON(t, "operations after the second amendment", operationsOf(h.event(request.EventOperationsAmended, 1).Request.Operations), wantSecond)
	// The refused amendment changed nothing, and the id it was given is free again: the last
	// amendment's new operation is op-7. The change set is the last amendment's, on the
	// version its checks saw.
	wantThird := []request.Operation{third[0], third[1]}
	wantThird[1].ID = "op-7"
	sameJSON(t, "change set", h.published, []refclient.ChangeSet{{ID: "r1-decision-1", RequestID: "r1", BaseVersion: 62, CodeRome: "M1805",
		RequestTitle: "Rust developers", Operations: wantThird}})
}

func TestMessages(t *testing.T) {
	h := newHarness(t, options{})
	m1 := h.update(1*time.Hour, request.UpdateMessage, request.MessageInput{Actor: alice, Text: "Hello"})
	h.update(2*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	m2 := h.update(3*time.Hour, request.UpdateMessage, request.MessageInput{Actor: mod, Text: "Looking at it"})
	h.update(4*time.Hour, request.UpdateAsk, request.AskInput{Actor: mod, Text: "Sources?"})
	m3 := h.update(5*time.Hour, request.UpdateMessage, request.MessageInput{Actor: admin, Text: "Ping"})
	other := h.update(6*time.Hour, request.UpdateMessage, request.MessageInput{Actor: bob, Text: "Hi"})
	h.update(7*time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
	out := h.run(request.Input{Request: newRequest()})

	for i, m := range []*outcome{m1, m2, m3} {
		if r := m.ok(t); r.ID != []string{"m-1", "m-2", "m-3"}[i] {
			t.Errorf("message %d got id %q", i, r.ID)
		}
	}
	other.refused(t, request.ErrForbidden, "", request.StatusAwaitingPartner)
	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventMessagePosted, request.EventAssigned, request.EventMessagePosted,
		request.EventQuestionAsked, request.EventMessagePosted, request.EventWithdrawn)
	h.checkHistory(1, &out.Request)
	e := h.event(request.EventMessagePosted, 1)
	if e.Actor != mod || !e.At.Equal(at(3*time.Hour)) {
		t.Errorf("second message by %+v at %v", e.Actor, e.At)
	}
	sameJSON(t, "message data", data(t, e), request.EventData{MessageID: "m-2", Text: "Looking at it"})
	if out.Request.Status != request.StatusWithdrawn || out.Request.ClosedReason != "withdrawn by the partner" {
		t.Errorf("final %s %q", out.Request.Status, out.Request.ClosedReason)
	}
}

func TestWithdrawBeforeTheDecision(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(h *harness)
		from   request.Status
		types  []string
	}{
		{name: "awaiting triage", from: request.StatusAwaitingTriage, before: func(*harness) {},
			types: []string{request.EventSubmitted, request.EventChecked, request.EventWithdrawn}},
		{name: "in review", from: request.StatusInReview, before: func(h *harness) {
			h.update(time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
		}, types: []string{request.EventSubmitted, request.EventChecked, request.EventAssigned, request.EventWithdrawn}},
		{name: "awaiting the partner", from: request.StatusAwaitingPartner, before: func(h *harness) {
			h.update(time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
			h.update(90*time.Minute, request.UpdateAsk, request.AskInput{Actor: mod, Text: "?"})
		}, types: []string{request.EventSubmitted, request.EventChecked, request.EventAssigned, request.EventQuestionAsked, request.EventWithdrawn}},
		{name: "checking, the referential down", from: request.StatusChecking, before: func(h *harness) {
			h.validate = func(int, refclient.ChangeSet) (refclient.Validation, error) {
				return refclient.Validation{}, errors.New("connection refused")
			}
		}, types: []string{request.EventSubmitted, request.EventWithdrawn}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, options{})
			tc.before(h)
			w := h.update(2*time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: colleen, Reason: "no longer needed"})
			out := h.run(request.Input{Request: newRequest()})

			w.ok(t)
			h.wantTypes(tc.types...)
			h.checkHistory(1, &out.Request)
			last := h.events[len(h.events)-1]
			if last.Actor != colleen || !last.At.Equal(at(2*time.Hour)) || out.Request.Status != request.StatusWithdrawn || out.Request.ClosedReason != "no longer needed" {
				t.Errorf("withdrawn by %+v at %v: %s %q", last.Actor, last.At, out.Request.Status, out.Request.ClosedReason)
			}
			sameJSON(t, "withdrawn data", data(t, last), request.EventData{Reason: "no longer needed"})
			if tc.from == request.StatusChecking && (len(h.validated) < 21 || len(h.published) != 0) {
				t.Errorf("%d dry runs while the referential was down: the checks should have been retried, then again after a pause", len(h.validated))
			}
		})
	}
}

// While the referential is down, the publication is retried with the same change-set id
// (so it is applied once), and the request can no longer be withdrawn.
func TestPublicationRetriedWithTheSameIDAndWithdrawRefusedAfterTheDecision(t *testing.T) {
	h := newHarness(t, options{})
	h.publish = func(n int, cs refclient.ChangeSet) (refclient.Publication, error) {
		if n <= 22 {
			return refclient.Publication{}, temporal.NewApplicationError("referential: HTTP 503 unavailable", "unavailable")
		}
		return refclient.Publication{ID: cs.ID, CodeRome: cs.CodeRome, Version: 61}, nil
	}
	h.update(time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	var ds []request.OperationDecision
	for _, id := range []string{"op-1", "op-2", "op-3"} {
		ds = append(ds, request.OperationDecision{OperationID: id, Decision: request.DecisionAccepted})
	}
	h.update(2*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: ds})
	withdraw := h.update(2*time.Hour+20*time.Minute, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
	ask := h.update(2*time.Hour+20*time.Minute, request.UpdateAsk, request.AskInput{Actor: mod, Text: "?"})
	msg := h.update(2*time.Hour+20*time.Minute, request.UpdateMessage, request.MessageInput{Actor: alice, Text: "Any news?"})
	out := h.run(request.Input{Request: newRequest()})

	withdraw.refused(t, request.ErrInvalidTransition, "", request.StatusPublishing)
	ask.refused(t, request.ErrInvalidTransition, "", request.StatusPublishing)
	if msg.ok(t).Request.Status != request.StatusPublishing {
		t.Error("the message was not posted while publishing")
	}
	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventAssigned, request.EventDecided, request.EventMessagePosted, request.EventPublished)
	h.checkHistory(1, &out.Request)
	if len(h.published) != 23 {
		t.Errorf("%d publication attempts, want 23", len(h.published))
	}
	for _, cs := range h.published {
		if cs.ID != "r1-decision-1" {
			t.Errorf("publication retried as %q", cs.ID)
		}
	}
	if out.Request.Status != request.StatusPublished || out.Request.ChangeSetID != "r1-decision-1" {
		t.Errorf("final %s %q", out.Request.Status, out.Request.ChangeSetID)
	}
	if e := h.event(request.EventPublished, 0); !e.At.After(at(2*time.Hour + retryPause)) {
		t.Errorf("published at %v: before the pause after the retries", e.At)
	}
}

func TestQuestionExpires(t *testing.T) {
	h := newHarness(t, options{})
	timers := request.Timers{PartnerReminder: 2 * 24 * time.Hour, QuestionExpiry: 5 * 24 * time.Hour}
	h.update(time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	h.update(2*time.Hour, request.UpdateAsk, request.AskInput{Actor: mod, Text: "Sources?"})
	out := h.run(request.Input{Request: newRequest(), Timers: timers})

	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventAssigned, request.EventQuestionAsked, request.EventReminder, request.EventExpired)
	wantTimes(t, h, 0, 0, time.Hour, 2*time.Hour, 2*time.Hour+timers.PartnerReminder, 2*time.Hour+timers.QuestionExpiry)
	h.checkHistory(1, &out.Request)
	sameJSON(t, "reminder data", data(t, h.events[4]), request.EventData{To: request.RecipientPartner, Wait: request.WaitQuestion, QuestionID: "q-1"})
	reason := "question q-1 was not answered within 5 days"
	sameJSON(t, "expired data", data(t, h.events[5]), request.EventData{Wait: request.WaitQuestion, QuestionID: "q-1", Reason: reason})
	if out.Request.Status != request.StatusExpired || out.Request.ClosedReason != reason {
		t.Errorf("final %s %q", out.Request.Status, out.Request.ClosedReason)
	}
}

// Reminders and escalations fall due once per wait, and the moderator's clock stops while
// the request waits for the partner.
func TestRemindersEscalationsAndThePausedModeratorClock(t *testing.T) {
	h := newHarness(t, options{})
	timers := request.Timers{TriageReminder: 2 * time.Hour, TriageEscalation: 5 * time.Hour, DecisionReminder: 10 * time.Hour,
		DecisionEscalation: 20 * time.Hour, PartnerReminder: 5 * time.Hour, QuestionExpiry: 100 * time.Hour}
	h.update(6*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	h.update(10*time.Hour, request.UpdateAsk, request.AskInput{Actor: mod, Text: "Sources?"}) // moderator clock: 4h
	h.update(17*time.Hour, request.UpdateAnswer, request.AnswerInput{Actor: alice, QuestionID: "q-1", Text: "Job boards"})
	h.update(24*time.Hour, request.UpdateAsk, request.AskInput{Actor: mod, Text: "Region?"}) // moderator clock: 11h
	h.update(30*time.Hour, request.UpdateAnswer, request.AnswerInput{Actor: alice, QuestionID: "q-2", Text: "All"})
	var ds []request.OperationDecision
	for _, id := range []string{"op-1", "op-2", "op-3"} {
		ds = append(ds, request.OperationDecision{OperationID: id, Decision: request.DecisionAccepted})
	}
	h.update(40*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: ds})
	out := h.run(request.Input{Request: newRequest(), Timers: timers})

	type ev struct {
		typ  string
		at   time.Duration
		data request.EventData
	}
	want := []ev{
		{request.EventSubmitted, 0, request.EventData{}},
		{request.EventChecked, 0, request.EventData{}},
		{request.EventReminder, 2 * time.Hour, request.EventData{To: request.RecipientModerators, Wait: request.WaitTriage}},
		{request.EventEscalation, 5 * time.Hour, request.EventData{To: request.RecipientAdmins, Wait: request.WaitTriage}},
		{request.EventAssigned, 6 * time.Hour, request.EventData{}},
		{request.EventQuestionAsked, 10 * time.Hour, request.EventData{}},
		{request.EventReminder, 15 * time.Hour, request.EventData{To: request.RecipientPartner, Wait: request.WaitQuestion, QuestionID: "q-1"}},
		{request.EventQuestionAnswered, 17 * time.Hour, request.EventData{}},
		// 4h in review before the question, 6h after the answer: not at 16h.
		{request.EventReminder, 23 * time.Hour, request.EventData{To: request.RecipientAssignee, Wait: request.WaitDecision, Moderator: "mod-1"}},
		{request.EventQuestionAsked, 24 * time.Hour, request.EventData{}},
		// A new question is a new wait: its reminder falls due again.
		{request.EventReminder, 29 * time.Hour, request.EventData{To: request.RecipientPartner, Wait: request.WaitQuestion, QuestionID: "q-2"}},
		{request.EventQuestionAnswered, 30 * time.Hour, request.EventData{}},
		// 11h before the second question, 9h after its answer: not at 26h.
		{request.EventEscalation, 39 * time.Hour, request.EventData{To: request.RecipientAdmins, Wait: request.WaitDecision, Moderator: "mod-1"}},
		{request.EventDecided, 40 * time.Hour, request.EventData{}},
		{request.EventPublished, 40 * time.Hour, request.EventData{}},
	}
	if len(h.events) != len(want) {
		t.Fatalf("events %q", h.types())
	}
	for i, w := range want {
		e := h.events[i]
		if e.Type != w.typ || !e.At.Equal(at(w.at)) {
			t.Errorf("event %d: %s at +%v, want %s at +%v", e.Seq, e.Type, e.At.Sub(t0), w.typ, w.at)
		}
		if w.typ == request.EventReminder || w.typ == request.EventEscalation {
			sameJSON(t, e.Type+" data", data(t, e), w.data)
			if e.Actor != request.SystemActor {
				t.Errorf("%s by %+v", e.Type, e.Actor)
			}
		}
	}
	h.checkHistory(1, &out.Request)
}

// A publication that no longer applies goes back to the moderator with the conflict, the
// decisions cleared and the decision clock restarted; the next decision publishes under a
// new change-set id.
func TestPublicationConflictGoesBackToTheModerator(t *testing.T) {
	h := newHarness(t, options{})
	h.publish = func(n int, cs refclient.ChangeSet) (refclient.Publication, error) {
		switch n {
		case 1:
			return refclient.Publication{}, temporal.NewNonRetryableApplicationError("referential: HTTP 409 changeset_conflict", "ChangeSetConflict", nil,
				[]refclient.Result{{OperationID: "op-1", Applies: true}, {OperationID: "op-3", Code: "duplicate_mobilite", Field: "toCodeRome", Reason: "already a mobilité"}})
		case 2:
			return refclient.Publication{}, temporal.NewNonRetryableApplicationError("referential: HTTP 403 forbidden", "ReferentialRejected", nil, "forbidden")
		}
		return refclient.Publication{ID: cs.ID, CodeRome: cs.CodeRome, Version: 63}, nil
	}
	timers := request.Timers{DecisionReminder: 90 * time.Minute}
	h.update(time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	first := []request.OperationDecision{
		{OperationID: "op-1", Decision: request.DecisionAccepted},
		{OperationID: "op-2", Decision: request.DecisionRejected, Rationale: "still in use"},
		{OperationID: "op-3", Decision: request.DecisionAccepted},
	}
	h.update(2*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: first})
	var between request.Request
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(request.QueryState)
		if err == nil {
			err = v.Get(&between)
		}
		if err != nil {
			t.Error(err)
		}
	}, 3*time.Hour)
	second := []request.OperationDecision{
		{OperationID: "op-1", Decision: request.DecisionAccepted},
		{OperationID: "op-2", Decision: request.DecisionRejected, Rationale: "still in use"},
		{OperationID: "op-3", Decision: request.DecisionRejected, Rationale: "already there"},
	}
	h.update(4*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: second})
	h.update(5*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: second})
	out := h.run(request.Input{Request: newRequest(), Timers: timers})

	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventAssigned, request.EventDecided, request.EventPublicationConflict,
		request.EventReminder, request.EventDecided, request.EventPublicationConflict, request.EventDecided, request.EventPublished)
	// The decision clock restarts at the conflict: its reminder falls due 90 minutes after it
	// (3h30), not 90 minutes after the assignment (2h30).
	wantTimes(t, h, 0, 0, time.Hour, 2*time.Hour, 2*time.Hour, 3*time.Hour+30*time.Minute, 4*time.Hour, 4*time.Hour, 5*time.Hour, 5*time.Hour)
	h.checkHistory(1, &out.Request)

	conflict := []request.Finding{{Code: request.FindingPublicationConflict, Severity: request.SeverityError, OperationID: "op-3", Field: "toCodeRome",
		Message: "no longer applies to the referential: already a mobilité (duplicate_mobilite)"}}
	sameJSON(t, "conflict data", data(t, h.events[4]), request.EventData{ChangeSetID: "r1-decision-1", Findings: conflict})
	if between.Status != request.StatusInReview || !reflect.DeepEqual(between.Findings, conflict) {
		t.Errorf("after the conflict: %s with findings %+v", between.Status, between.Findings)
	}
	for _, op := range between.Operations {
		if op.Decision != nil {
			t.Errorf("operation %s kept its decision after the conflict", op.ID)
		}
	}
	refused := data(t, h.events[7])
	if len(refused.Findings) != 1 || refused.Findings[0].Code != request.FindingPublicationRefused || refused.ChangeSetID != "r1-decision-2" {
		t.Errorf("refusal data %+v", refused)
	}
	if f := h.events[7].Request.Findings; len(f) != 1 || f[0].Code != request.FindingPublicationRefused {
		t.Errorf("the refusal did not replace the conflict finding: %+v", f)
	}

	var ids []string
	for _, cs := range h.published {
		ids = append(ids, cs.ID)
	}
	if want := []string{"r1-decision-1", "r1-decision-2", "r1-decision-3"}; !slices.Equal(ids, want) {
		t.Errorf("change sets %q, want %q", ids, want)
	}
	sameJSON(t, "first change set operations", h.published[0].Operations, []refclient.Operation{newRequest().Operations[0].Operation, newRequest().Operations[2].Operation})
	sameJSON(t, "last change set operations", h.published[2].Operations, []refclient.Operation{newRequest().Operations[0].Operation})
	if r := out.Request; r.Status != request.StatusPublished || *r.PublishedVersion != 63 || r.ChangeSetID != "r1-decision-3" {
		t.Errorf("final %s v%d %q", r.Status, *r.PublishedVersion, r.ChangeSetID)
	}
}
