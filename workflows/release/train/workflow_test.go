package train

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/activities/referential"
	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/workflows/release"
	"github.com/plateforme-rome/rome/workflows/request"
)

// referentialFake answers the release activities as told and records, in order, every
// call and every signal the workflow makes.
type referentialFake struct {
	mu       sync.Mutex
	steps    []string                          // "freeze", "validate 7", "signal r1", …
	outcomes map[string]request.ReleaseOutcome // by request id
	freeze   func(n int) (refclient.Release, error)
	validate refclient.Release
	publish  refclient.Release
	gone     []string // requests whose workflow no longer runs
}

// step records a call and tells how many calls of that kind were made.
func (f *referentialFake) step(s string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.steps = append(f.steps, s)
	n := 0
	for _, done := range f.steps {
		if done == s {
			n++
		}
	}
	return n
}

func run(t *testing.T, f *referentialFake, in release.Input) (*testsuite.TestWorkflowEnvironment, release.Output) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: release.WorkflowType})
	env.RegisterActivity(&referential.Activities{})
	env.OnActivity(refActs.FreezeRelease, mock.Anything, mock.Anything).Return(
		func(context.Context, referential.FreezeInput) (referential.ReleaseOutput, error) {
			r, err := f.freeze(f.step("freeze"))
			return referential.ReleaseOutput{Release: r}, err
		})
	env.OnActivity(refActs.ValidateRelease, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in referential.ReleaseInput) (referential.ReleaseOutput, error) {
			f.step("validate " + strconv.Itoa(in.Number))
			return referential.ReleaseOutput{Release: f.validate}, nil
		})
	env.OnActivity(refActs.PublishRelease, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in referential.ReleaseInput) (referential.ReleaseOutput, error) {
			f.step("publish " + strconv.Itoa(in.Number))
			return referential.ReleaseOutput{Release: f.publish}, nil
		})
	f.outcomes = map[string]request.ReleaseOutcome{}
	env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", request.SignalReleaseOutcome, mock.Anything).Return(
		func(_, workflowID, _, _ string, arg any) error {
			requestID, ok := strings.CutPrefix(workflowID, "request-")
			if !ok || request.WorkflowID(requestID) != workflowID {
				t.Errorf("signalled %s, not a request's workflow", workflowID)
			}
			f.step("signal " + requestID)
			if slices.Contains(f.gone, requestID) {
				return &temporal.UnknownExternalWorkflowExecutionError{}
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			f.outcomes[requestID] = arg.(request.ReleaseOutcome)
			return nil
		})
	env.ExecuteWorkflow(release.WorkflowType, in)
	if !env.IsWorkflowCompleted() {
		t.Fatal("the workflow did not complete")
	}
	var out release.Output
	if env.GetWorkflowError() == nil {
		if err := env.GetWorkflowResult(&out); err != nil {
			t.Fatal(err)
		}
	}
	return env, out
}

func frozenWith(n int, ids ...string) func(int) (refclient.Release, error) {
	return func(int) (refclient.Release, error) {
		r := refclient.Release{Number: n, Status: refclient.ReleaseFrozen}
		for _, id := range ids {
			r.ChangeSets = append(r.ChangeSets, refclient.StagedChangeSet{ID: id + "-decision-1", RequestID: id, Status: refclient.StagedWaiting})
		}
		return r, nil
	}
}

func TestNothingStaged(t *testing.T) {
	f := &referentialFake{freeze: func(int) (refclient.Release, error) {
		return refclient.Release{}, temporal.NewNonRetryableApplicationError("referential: HTTP 409 release_empty", referential.ErrTypeReleaseEmpty, nil)
	}}
	env, out := run(t, f, release.Input{})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("an empty release failed the workflow: %v", err)
	}
	if out.Release != nil || out.Summary != "Nothing is staged: there is no release to cut." {
		t.Errorf("output %+v", out)
	}
	if !slices.Equal(f.steps, []string{"freeze"}) {
		t.Errorf("steps %q: nothing follows the freeze", f.steps)
	}
}

func TestReleaseTrainsOff(t *testing.T) {
	f := &referentialFake{freeze: func(int) (refclient.Release, error) {
		return refclient.Release{}, temporal.NewNonRetryableApplicationError("referential: HTTP 409 release_trains_off", referential.ErrTypeReleaseTrainsOff, nil)
	}}
	env, _ := run(t, f, release.Input{Release: 3})
	var appErr *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != referential.ErrTypeReleaseTrainsOff || !appErr.NonRetryable() {
		t.Fatalf("workflow error %v, want a non-retryable %s", err, referential.ErrTypeReleaseTrainsOff)
	}
	if !slices.Equal(f.steps, []string{"freeze"}) {
		t.Errorf("steps %q", f.steps)
	}
}

// One change set no longer applies with the others: its request gets it back with the
// reasons before the release is published; another's request learns its version; a third
// one, which the publication returns (it runs the change sets again), is sent back after it.
// The referential is down at first: the freeze is retried.
func TestOneReturnedOneIncluded(t *testing.T) {
	version := 64
	f := &referentialFake{
		freeze: func(n int) (refclient.Release, error) {
			if n <= 3 {
				return refclient.Release{}, temporal.NewApplicationError("referential: HTTP 503 unavailable", "unavailable")
			}
			return frozenWith(7, "r1", "r2", "r3")(n)
		},
		validate: refclient.Release{Number: 7, Status: refclient.ReleaseFrozen, ChangeSets: []refclient.StagedChangeSet{
			{ID: "r1-decision-1", RequestID: "r1", Status: refclient.StagedReturned, Results: []refclient.Result{
				{OperationID: "op-1", Applies: true},
				{OperationID: "op-2", Code: "unknown_appellation", Field: "codeOgr", Reason: "appellation 10944 was removed by r2"},
			}},
			{ID: "r2-decision-1", RequestID: "r2", Status: refclient.StagedIncluded},
			{ID: "r3-decision-1", RequestID: "r3", Status: refclient.StagedIncluded},
		}},
		publish: refclient.Release{Number: 7, Status: refclient.ReleasePublished, Version: &version, ChangeSets: []refclient.StagedChangeSet{
			{ID: "r1-decision-1", RequestID: "r1", Status: refclient.StagedReturned},
			{ID: "r2-decision-1", RequestID: "r2", Status: refclient.StagedIncluded, CodeRome: "N2299"},
			{ID: "r3-decision-1", RequestID: "r3", Status: refclient.StagedReturned, Results: []refclient.Result{
				{OperationID: "op-1", Code: "not_on_fiche", Field: "codeOgr", Reason: "version 64 has no appellation 38823"}}},
		}},
	}
	env, out := run(t, f, release.Input{Release: 7})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	// The signals after the publication go out at once: in any order.
	want := []string{"freeze", "freeze", "freeze", "freeze", "validate 7", "signal r1", "publish 7", "signal r2", "signal r3"}
	if got := f.steps; len(got) != len(want) || !slices.Equal(got[:7], want[:7]) || !slices.Equal(slices.Sorted(slices.Values(got[7:])), want[7:]) {
		t.Errorf("steps\n got %q\nwant %q (the last two in any order)", got, want)
	}
	returned := request.ReleaseOutcome{Release: 7, ChangeSetID: "r1-decision-1", Findings: []request.Finding{{
		Code: request.FindingReleaseConflict, Severity: request.SeverityError, OperationID: "op-2", Field: "codeOgr",
		Message: "does not apply with the rest of release 7: appellation 10944 was removed by r2 (unknown_appellation)"}}}
	published := request.ReleaseOutcome{Release: 7, ChangeSetID: "r2-decision-1", Version: 64, CodeRome: "N2299"}
	if got := f.outcomes["r1"]; !equalOutcomes(got, returned) || got.Published() {
		t.Errorf("r1 told %+v, want %+v", got, returned)
	}
	if got := f.outcomes["r2"]; !equalOutcomes(got, published) || !got.Published() {
		t.Errorf("r2 told %+v, want %+v", got, published)
	}
	late := request.ReleaseOutcome{Release: 7, ChangeSetID: "r3-decision-1", Findings: []request.Finding{{
		Code: request.FindingReleaseConflict, Severity: request.SeverityError, OperationID: "op-1", Field: "codeOgr",
		Message: "does not apply with the rest of release 7: version 64 has no appellation 38823 (not_on_fiche)"}}}
	if got := f.outcomes["r3"]; !equalOutcomes(got, late) {
		t.Errorf("r3 told %+v, want %+v", got, late)
	}
	if out.Release == nil || out.Release.Version == nil || *out.Release.Version != 64 || len(out.Unreached) != 0 ||
		out.Summary != "Release 7 published as version 64; change sets included: 1, returned: 2." {
		t.Errorf("output %+v", out)
	}
}

// A request whose workflow no longer runs cannot be told: the others are, and the release
// is published all the same.
func TestMissingRequestWorkflow(t *testing.T) {
	version := 65
	f := &referentialFake{
		freeze:   frozenWith(8, "r1", "r2", "r3"),
		validate: refclient.Release{Number: 8, Status: refclient.ReleaseFrozen},
		publish: refclient.Release{Number: 8, Status: refclient.ReleasePublished, Version: &version, ChangeSets: []refclient.StagedChangeSet{
			{ID: "r1-decision-1", RequestID: "r1", Status: refclient.StagedIncluded, CodeRome: "M1805"},
			{ID: "r2-decision-1", RequestID: "r2", Status: refclient.StagedIncluded, CodeRome: "M1806"},
			{ID: "r3-decision-1", RequestID: "r3", Status: refclient.StagedIncluded, CodeRome: "M1807"},
		}},
		gone: []string{"r2"},
	}
	env, out := run(t, f, release.Input{})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("a missing request failed the release: %v", err)
	}
	if !slices.Equal(out.Unreached, []string{"r2"}) {
		t.Errorf("unreached %q, want r2", out.Unreached)
	}
	for _, id := range []string{"r1", "r3"} {
		if o := f.outcomes[id]; o.Version != 65 || o.ChangeSetID != id+"-decision-1" {
			t.Errorf("%s told %+v", id, o)
		}
	}
	if n := len(f.steps); n != 6 || f.steps[2] != "publish 8" {
		t.Errorf("steps %q", f.steps)
	}
}

// When nothing in the release applies any more, it closes without a version; each request
// is told once.
func TestNothingApplies(t *testing.T) {
	returned := refclient.Release{Number: 5, Status: refclient.ReleaseFrozen, ChangeSets: []refclient.StagedChangeSet{
		{ID: "r1-decision-1", RequestID: "r1", Status: refclient.StagedReturned}}}
	closed := returned
	closed.Status = refclient.ReleasePublished
	f := &referentialFake{freeze: frozenWith(5, "r1"), validate: returned, publish: closed}
	env, out := run(t, f, release.Input{})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"freeze", "validate 5", "signal r1", "publish 5"}; !slices.Equal(f.steps, want) {
		t.Errorf("steps\n got %q\nwant %q", f.steps, want)
	}
	if out.Summary != "Release 5: nothing published; change sets returned: 1." || f.outcomes["r1"].Published() {
		t.Errorf("output %+v, r1 told %+v", out, f.outcomes["r1"])
	}
}

func TestReturnedWithoutResultsStillSaysWhy(t *testing.T) {
	o := returnedOutcome(9, refclient.StagedChangeSet{ID: "r1-decision-2", RequestID: "r1", Status: refclient.StagedReturned})
	if len(o.Findings) != 1 || o.Findings[0].Code != request.FindingReleaseConflict || o.Findings[0].Severity != request.SeverityError ||
		o.Findings[0].Message == "" || o.Published() {
		t.Errorf("outcome %+v", o)
	}
}

func equalOutcomes(a, b request.ReleaseOutcome) bool {
	return a.Release == b.Release && a.ChangeSetID == b.ChangeSetID && a.Version == b.Version && a.CodeRome == b.CodeRome &&
		slices.Equal(a.Findings, b.Findings)
}
