package lifecycle

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/workflows/request"
)

// calls records which activities ran as local activities and which as activities.
type calls struct{ local, remote []string }

func (h *harness) countCalls() *calls {
	c := &calls{}
	h.env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
		c.local = append(c.local, info.ActivityType.Name)
	})
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		c.remote = append(c.remote, info.ActivityType.Name)
	})
	return c
}

// The short calls run in the workflow task: history records, checks and notifications are
// local activities, the publication an activity.
func TestShortCallsAreLocal(t *testing.T) {
	h := newHarness(t, options{})
	c := h.countCalls()
	h.update(time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	h.update(2*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: []request.OperationDecision{
		{OperationID: "op-1", Decision: request.DecisionAccepted}, {OperationID: "op-2", Decision: request.DecisionAccepted},
		{OperationID: "op-3", Decision: request.DecisionAccepted}}})
	out := h.run(request.Input{Request: newRequest()})
	if out.Request.Status != request.StatusPublished {
		t.Fatalf("ended %s: %v", out.Request.Status, h.env.GetWorkflowError())
	}
	for _, name := range []string{"RecordEvent", "ValidateChangeSet", "FindOverlaps", "Notify"} {
		if !slices.Contains(c.local, name) || slices.Contains(c.remote, name) {
			t.Errorf("%s: local %v, activities %v", name, c.local, c.remote)
		}
	}
	if !slices.Equal(c.remote, []string{"PublishChangeSet"}) {
		t.Errorf("activities %v, want the publication only", c.remote)
	}
}

// A short call whose local attempt fails goes on as an activity, with its retry policy:
// here the intake is down for five attempts.
func TestShortCallGoesOnAsAnActivityWhenItsServiceIsDown(t *testing.T) {
	h := newHarness(t, options{})
	c := h.countCalls()
	h.recordFail = 5
	h.update(time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
	h.run(request.Input{Request: newRequest()})
	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventWithdrawn)
	if got := count(c.local, "RecordEvent"); got != 3 {
		t.Errorf("%d local RecordEvent attempts, want one per event", got)
	}
	if got := count(c.remote, "RecordEvent"); got != 5 { // 4 failures after the local one, then the success
		t.Errorf("%d RecordEvent activity attempts, want 5", got)
	}
}

// Runs recorded before the change keep their activities.
func TestRunsBeforeLocalCallsKeepActivities(t *testing.T) {
	h := newHarness(t, options{})
	h.env.OnGetVersion(localCallsChange, workflow.DefaultVersion, localCallsVersion).Return(workflow.DefaultVersion)
	c := h.countCalls()
	h.update(time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
	h.run(request.Input{Request: newRequest()})
	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventWithdrawn)
	if len(c.local) != 0 || count(c.remote, "RecordEvent") != 3 {
		t.Errorf("local %v, activities %v", c.local, c.remote)
	}
}

func count(xs []string, x string) int {
	n := 0
	for _, e := range xs {
		if e == x {
			n++
		}
	}
	return n
}
