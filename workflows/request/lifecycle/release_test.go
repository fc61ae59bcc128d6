package lifecycle

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/workflows/request"
)

// stagedIn is a referential under release trains: every change set waits in release n.
func stagedIn(n int) func(int, refclient.ChangeSet) (refclient.Publication, error) {
	return func(_ int, cs refclient.ChangeSet) (refclient.Publication, error) {
		return refclient.Publication{ID: cs.ID, RequestID: cs.RequestID, CodeRome: cs.CodeRome, BaseVersion: cs.BaseVersion, Release: n}, nil
	}
}

// releaseOutcome signals what a release did, after a delay (from the workflow start).
func (h *harness) releaseOutcome(after time.Duration, o request.ReleaseOutcome) {
	h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(request.SignalReleaseOutcome, o) }, after)
}

// stateAt queries the workflow's state at a moment (from the workflow start).
func (h *harness) stateAt(after time.Duration) *request.Request {
	var r request.Request
	h.env.RegisterDelayedCallback(func() {
		v, err := h.env.QueryWorkflow(request.QueryState)
		if err == nil {
			err = v.Get(&r)
		}
		if err != nil {
			h.t.Error(err)
		}
	}, after)
	return &r
}

// acceptEvery accepts every operation of newRequest.
var acceptEvery = []request.OperationDecision{
	{OperationID: "op-1", Decision: request.DecisionAccepted},
	{OperationID: "op-2", Decision: request.DecisionAccepted},
	{OperationID: "op-3", Decision: request.DecisionAccepted},
}

// Under release trains the decided request is accepted: it waits in its release, out of
// the partner's and the moderators' hands (messages aside), until the release publishes it.
func TestStagedThenPublishedWithItsRelease(t *testing.T) {
	h := newHarness(t, options{})
	h.publish = stagedIn(7)
	h.update(1*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	h.update(2*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: acceptEvery})
	during := h.stateAt(3 * time.Hour)
	withdraw := h.update(3*time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice, Reason: "too long"})
	amend := h.update(3*time.Hour, request.UpdateAmend, request.AmendInput{Actor: alice, Operations: operationsOf(newRequest().Operations)})
	decide := h.update(3*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod2, Decisions: acceptEvery})
	assign := h.update(3*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod2, Moderator: "mod-2"})
	msg := h.update(3*time.Hour+time.Minute, request.UpdateMessage, request.MessageInput{Actor: alice, Text: "Quand ?"})
	h.releaseOutcome(5*time.Hour, request.ReleaseOutcome{Release: 7, ChangeSetID: "r1-decision-1", Version: 64})
	out := h.run(request.Input{Request: newRequest(), Teams: teamsConfig})

	for _, refused := range []*outcome{withdraw, amend, decide, assign} {
		refused.refused(t, request.ErrInvalidTransition, "", request.StatusAccepted)
	}
	msg.ok(t)
	if during.Status != request.StatusAccepted || during.Release == nil || *during.Release != 7 ||
		during.ChangeSetID != "r1-decision-1" || during.PublishedVersion != nil {
		t.Errorf("while staged: %s, release %v, change set %q, version %v", during.Status, during.Release, during.ChangeSetID, during.PublishedVersion)
	}
	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventTeamsChannelCreated, request.EventAssigned,
		request.EventDecided, request.EventStaged, request.EventMessagePosted, request.EventPublished)
	wantTimes(t, h, 0, 0, 0, time.Hour, 2*time.Hour, 2*time.Hour, 3*time.Hour+time.Minute, 5*time.Hour)
	h.checkHistory(1, &out.Request)
	sameJSON(t, "staged data", data(t, h.event(request.EventStaged, 0)), request.EventData{ChangeSetID: "r1-decision-1", Release: 7})
	sameJSON(t, "published data", data(t, h.event(request.EventPublished, 0)),
		request.EventData{ChangeSetID: "r1-decision-1", Version: 64, Release: 7})
	r := out.Request
	if r.Status != request.StatusPublished || r.PublishedVersion == nil || *r.PublishedVersion != 64 || r.Release == nil ||
		*r.Release != 7 || r.ChangeSetID != "r1-decision-1" || r.CodeRome != "M1805" || len(h.published) != 1 {
		t.Errorf("final %s v%v release %v %q %s after %d publications", r.Status, r.PublishedVersion, r.Release, r.ChangeSetID, r.CodeRome, len(h.published))
	}

	// The partner (and the followers) learn that it is accepted, and in which release.
	var stagedNotice, publishedNotice notifclient.Notification
	for _, n := range h.notified {
		switch n.Key {
		case "r1-6-staged":
			stagedNotice = n
		case "r1-8-published":
			publishedNotice = n
		}
	}
	if stagedNotice.Event != notifclient.EventPublished || !slices.Equal(stagedNotice.To.Orgs, []string{"opco-2i"}) ||
		len(stagedNotice.To.Users)+len(stagedNotice.To.Roles) != 0 ||
		stagedNotice.Title != "Demande « Rust developers » (M1805) : acceptée, publiée avec la release 7" {
		t.Errorf("staged notification %+v", stagedNotice)
	}
	if publishedNotice.Title != "Demande « Rust developers » (M1805) : publiée avec la release 7 (version 64)" {
		t.Errorf("published notification %+v", publishedNotice)
	}
	var lines []string
	for _, p := range h.teams.posts {
		lines = append(lines, p.HTML)
	}
	if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, "acceptée, publiée avec la release 7") }) {
		t.Errorf("Teams lines %q: none says the request waits in release 7", lines)
	}
}

// A new fiche gets its code ROME when the release publishes it.
func TestNewFicheGetsItsCodeFromTheRelease(t *testing.T) {
	h := newHarness(t, options{})
	h.publish = stagedIn(7)
	req := newRequest()
	req.Kind, req.CodeRome = request.KindCreateFromNew, ""
	req.Operations = []request.RequestOperation{{Operation: request.Operation{ID: "op-1", Op: refclient.OpCreateFiche, Libelle: "Pilote de drone"}}}
	h.update(1*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	h.update(2*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod,
		Decisions: []request.OperationDecision{{OperationID: "op-1", Decision: request.DecisionAccepted}}})
	h.releaseOutcome(3*time.Hour, request.ReleaseOutcome{Release: 7, ChangeSetID: "r1-decision-1", Version: 64, CodeRome: "N2299"})
	out := h.run(request.Input{Request: req})

	if r := out.Request; r.Status != request.StatusPublished || r.CodeRome != "N2299" {
		t.Fatalf("final %s %q: %v", r.Status, r.CodeRome, h.env.GetWorkflowError())
	}
	if last := h.upserts[len(h.upserts)-1]; last["RomeCode"] != "N2299" || last["RequestStatus"] != string(request.StatusPublished) {
		t.Errorf("last search attributes %v", last)
	}
}

// A change set that no longer applies with the rest of its release comes back to the
// moderator as a publication conflict does: its findings replace the earlier ones, the
// decisions are cleared, the decision clock starts afresh; decided again, the request
// waits in the next release.
func TestReturnedByTheReleaseGoesBackToTheModerator(t *testing.T) {
	h := newHarness(t, options{})
	h.publish = func(n int, cs refclient.ChangeSet) (refclient.Publication, error) {
		if n == 1 {
			return refclient.Publication{}, temporal.NewNonRetryableApplicationError("referential: HTTP 409 changeset_conflict", "ChangeSetConflict", nil,
				[]refclient.Result{{OperationID: "op-3", Code: "duplicate_mobilite", Field: "toCodeRome", Reason: "already a mobilité"}})
		}
		return stagedIn(5+n)(n, cs) // the second change set waits in release 7, the third in 8
	}
	h.update(1*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	h.update(2*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: acceptEvery})
	second := []request.OperationDecision{
		{OperationID: "op-1", Decision: request.DecisionAccepted},
		{OperationID: "op-2", Decision: request.DecisionAccepted},
		{OperationID: "op-3", Decision: request.DecisionRejected, Rationale: "already there"},
	}
	h.update(150*time.Minute, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: second})
	conflict := request.Finding{Code: request.FindingReleaseConflict, Severity: request.SeverityError, OperationID: "op-2",
		Field: "codeOgr", Message: "does not apply with the rest of release 7: appellation 10944 is removed by r2 (unknown_appellation)"}
	h.releaseOutcome(3*time.Hour, request.ReleaseOutcome{Release: 7, ChangeSetID: "r1-decision-2", Findings: []request.Finding{conflict}})
	between := h.stateAt(4 * time.Hour)
	third := []request.OperationDecision{
		{OperationID: "op-1", Decision: request.DecisionAccepted},
		{OperationID: "op-2", Decision: request.DecisionRejected, Rationale: "removed meanwhile"},
		{OperationID: "op-3", Decision: request.DecisionRejected, Rationale: "already there"},
	}
	h.update(5*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: third})
	h.releaseOutcome(6*time.Hour, request.ReleaseOutcome{Release: 8, ChangeSetID: "r1-decision-3", Version: 65})
	out := h.run(request.Input{Request: newRequest(), Timers: request.Timers{DecisionReminder: 90 * time.Minute}})

	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventAssigned,
		request.EventDecided, request.EventPublicationConflict,
		request.EventDecided, request.EventStaged, request.EventPublicationConflict, request.EventReminder,
		request.EventDecided, request.EventStaged, request.EventPublished)
	// The decision clock restarts when the release sends the request back: its reminder
	// falls due 90 minutes after (4h30).
	wantTimes(t, h, 0, 0, time.Hour, 2*time.Hour, 2*time.Hour, 150*time.Minute, 150*time.Minute, 3*time.Hour,
		270*time.Minute, 5*time.Hour, 5*time.Hour, 6*time.Hour)
	h.checkHistory(1, &out.Request)
	sameJSON(t, "returned data", data(t, h.event(request.EventPublicationConflict, 1)),
		request.EventData{ChangeSetID: "r1-decision-2", Findings: []request.Finding{conflict}, Release: 7})
	if between.Status != request.StatusInReview || between.Release != nil || between.ChangeSetID != "" {
		t.Errorf("after the return: %s, release %v, change set %q", between.Status, between.Release, between.ChangeSetID)
	}
	sameJSON(t, "findings after the return (the publication conflict replaced)", between.Findings, []request.Finding{conflict})
	for _, op := range between.Operations {
		if op.Decision != nil {
			t.Errorf("operation %s kept its decision after the return", op.ID)
		}
	}
	var ids []string
	for _, cs := range h.published {
		ids = append(ids, cs.ID)
	}
	if want := []string{"r1-decision-1", "r1-decision-2", "r1-decision-3"}; !slices.Equal(ids, want) {
		t.Errorf("change sets %q, want %q", ids, want)
	}
	if r := out.Request; r.Status != request.StatusPublished || *r.PublishedVersion != 65 || *r.Release != 8 || r.ChangeSetID != "r1-decision-3" {
		t.Errorf("final %s v%d release %d %q", r.Status, *r.PublishedVersion, *r.Release, r.ChangeSetID)
	}
	// The moderator and the partner, told it would be published, learn that the release
	// returned it; the publication conflict of its own publication stays unnotified.
	var returns []notifclient.Notification
	for _, n := range h.notified {
		if strings.Contains(n.Title, "renvoyée") {
			returns = append(returns, n)
		}
	}
	if len(returns) != 1 || returns[0].Key != "r1-8-publication_conflict" || returns[0].Title != "Demande « Rust developers » (M1805) : "+
		"renvoyée par la release 7 : elle ne s'applique plus avec les autres changements" ||
		!slices.Equal(returns[0].To.Users, []string{"mod-1"}) || !slices.Equal(returns[0].To.Orgs, []string{"opco-2i"}) {
		t.Errorf("notifications of the return %+v", returns)
	}
}

// Only the outcome of the change set the request waits for, from its release, counts, and
// only once: the others are logged and change nothing.
func TestOutcomesNotAwaitedChangeNothing(t *testing.T) {
	h := newHarness(t, options{})
	h.publish = stagedIn(7)
	published := request.ReleaseOutcome{Release: 7, ChangeSetID: "r1-decision-1", Version: 64}
	returned := request.ReleaseOutcome{Release: 7, ChangeSetID: "r1-decision-1", Findings: []request.Finding{{
		Code: request.FindingReleaseConflict, Severity: request.SeverityError, OperationID: "op-1", Message: "does not apply"}}}
	h.update(1*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	h.releaseOutcome(90*time.Minute, published) // in review: nothing is staged yet
	h.update(2*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: acceptEvery})
	h.releaseOutcome(150*time.Minute, request.ReleaseOutcome{Release: 7, ChangeSetID: "r1-decision-9", Version: 64}) // another change set
	h.releaseOutcome(160*time.Minute, request.ReleaseOutcome{Release: 6, ChangeSetID: "r1-decision-1", Version: 63}) // another release
	during := h.stateAt(170 * time.Minute)
	h.releaseOutcome(3*time.Hour, returned)
	h.releaseOutcome(3*time.Hour, returned)  // sent twice
	h.releaseOutcome(4*time.Hour, published) // the change set was returned meanwhile
	h.update(5*time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
	out := h.run(request.Input{Request: newRequest()})

	if during.Status != request.StatusAccepted {
		t.Errorf("outcomes of another change set or release moved the request to %s", during.Status)
	}
	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventAssigned, request.EventDecided, request.EventStaged,
		request.EventPublicationConflict, request.EventWithdrawn)
	wantTimes(t, h, 0, 0, time.Hour, 2*time.Hour, 2*time.Hour, 3*time.Hour, 5*time.Hour)
	h.checkHistory(1, &out.Request)
	if r := out.Request; r.Status != request.StatusWithdrawn || r.PublishedVersion != nil || len(r.Findings) != 1 {
		t.Errorf("final %s v%v with findings %+v", r.Status, r.PublishedVersion, r.Findings)
	}
}

// The release may signal before the referential's answer to the publication reaches the
// workflow: the outcome waits for the request to be ACCEPTED, then applies.
func TestOutcomeBeforeThePublicationAnswer(t *testing.T) {
	h := newHarness(t, options{})
	h.publish, h.publishSlow = stagedIn(7), 30*time.Minute
	h.update(1*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	h.update(2*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: acceptEvery})
	h.releaseOutcome(130*time.Minute, request.ReleaseOutcome{Release: 7, ChangeSetID: "r1-decision-1", Version: 64})
	out := h.run(request.Input{Request: newRequest()})

	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventAssigned, request.EventDecided, request.EventStaged, request.EventPublished)
	wantTimes(t, h, 0, 0, time.Hour, 2*time.Hour, 150*time.Minute, 150*time.Minute)
	if r := out.Request; r.Status != request.StatusPublished || *r.PublishedVersion != 64 {
		t.Errorf("final %s v%v", r.Status, r.PublishedVersion)
	}
}

// A request waiting in a release continues as new like any other: an outcome signalled
// while it does is carried to the next run, which applies it; a run continued without one
// waits for it.
func TestContinueAsNewWhileAccepted(t *testing.T) {
	h := newHarness(t, options{})
	h.publish = stagedIn(7)
	published := request.ReleaseOutcome{Release: 7, ChangeSetID: "r1-decision-1", Version: 64}
	h.update(1*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	h.update(2*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: acceptEvery})
	msg := &outcome{name: request.UpdateMessage}
	h.env.RegisterDelayedCallback(func() {
		// The notifications service goes down, and a message is being recorded (until 3h10)
		// when the history grows long (3h01): once its handler has finished, the workflow
		// gives its outbox a minute to drain before continuing as new, and the outcome comes
		// meanwhile.
		h.mu.Lock()
		h.notifyFail, h.recordSlow = h.notifyRuns+1000, 10*time.Minute
		h.mu.Unlock()
		h.send(msg, request.MessageInput{Actor: alice, Text: "Quand ?"})
	}, 3*time.Hour)
	h.env.RegisterDelayedCallback(func() { h.env.SetContinueAsNewSuggested(true) }, 3*time.Hour+time.Minute)
	h.releaseOutcome(3*time.Hour+10*time.Minute+30*time.Second, published)
	h.run(request.Input{Request: newRequest()})

	msg.ok(t)
	var can *workflow.ContinueAsNewError
	if err := h.env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("workflow ended with %v, want continue-as-new", err)
	}
	var next RunInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventAssigned, request.EventDecided, request.EventStaged, request.EventMessagePosted)
	h.checkHistory(1, &next.Request)
	if r := next.Request; r.Status != request.StatusAccepted || r.Release == nil || *r.Release != 7 || r.ChangeSetID != "r1-decision-1" {
		t.Fatalf("continued as %s, release %v, change set %q", r.Status, r.Release, r.ChangeSetID)
	}
	sameJSON(t, "carried outcomes", next.Resume.ReleaseOutcomes, []request.ReleaseOutcome{published})

	t.Run("the next run applies the carried outcome", func(t *testing.T) {
		h := newHarness(t, options{})
		out := h.runFrom(next)
		h.wantTypes(request.EventPublished)
		h.checkHistory(7, &out.Request)
		if r := out.Request; r.Status != request.StatusPublished || *r.PublishedVersion != 64 {
			t.Errorf("final %s v%v", r.Status, r.PublishedVersion)
		}
	})
	t.Run("a run continued without an outcome waits for it", func(t *testing.T) {
		h := newHarness(t, options{})
		waiting := next
		resume := *next.Resume
		resume.ReleaseOutcomes = nil
		waiting.Resume = &resume
		h.releaseOutcome(48*time.Hour, published)
		out := h.runFrom(waiting)
		h.wantTypes(request.EventPublished)
		wantTimes(t, h, 48*time.Hour)
		if out.Request.Status != request.StatusPublished {
			t.Errorf("final %s: %v", out.Request.Status, h.env.GetWorkflowError())
		}
	})
	t.Run("an accepted request without its release cannot continue", func(t *testing.T) {
		h := newHarness(t, options{})
		broken := next
		broken.Request.Release = nil
		h.runFrom(broken)
		var appErr *temporal.ApplicationError
		if err := h.env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != ErrInvalidWorkflowInput {
			t.Errorf("workflow error %v, want %s", err, ErrInvalidWorkflowInput)
		}
	})
}
