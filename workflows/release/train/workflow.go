// Package train is the release-train workflow (its contract: package release). It cuts the
// referential's open release: freezes it, re-validates its change sets together, sends
// those that no longer apply back to their requests' moderators, publishes the rest as one
// version, and signals every request what became of its change set. Each step is an
// idempotent call of the referential and the requests ignore an outcome signalled twice,
// so a run that fails midway is resumed by the next one: the release stays frozen until
// it is published.
package train

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/activities/referential"
	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/workflows/release"
	"github.com/plateforme-rome/rome/workflows/request"
)

// Register registers the release workflow (under release.WorkflowType) on a worker where
// the referential's activities are registered (lifecycle.Register does it).
func Register(r worker.Registry) {
	r.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: release.WorkflowType})
}

// refActs gives the activities' method values: the workflow never calls one by its name.
var refActs *referential.Activities

// callOptions: the referential may be down for a while; its release routes are idempotent,
// so they are retried for three days, its refusals being final. A run that gives up leaves
// the release frozen for the next run to resume.
var callOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    time.Minute,
	ScheduleToCloseTimeout: 72 * time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    10 * time.Minute,
		NonRetryableErrorTypes: []string{referential.ErrTypeRejected, referential.ErrTypeReleaseEmpty,
			referential.ErrTypeReleaseTrainsOff},
	},
}

// Workflow cuts the open release.
func Workflow(ctx workflow.Context, in release.Input) (release.Output, error) {
	t := &train{asked: in.Release, logger: workflow.GetLogger(ctx)}
	return t.run(ctx)
}

// train is one run of the release workflow.
type train struct {
	asked  int // the release an admin asked for, 0 for the schedule
	logger log.Logger
}

// notice is an outcome to signal to a request.
type notice struct {
	requestID string
	outcome   request.ReleaseOutcome
}

func (t *train) run(ctx workflow.Context) (release.Output, error) {
	t.progress(ctx, "Freezing the open release")
	var frozen referential.ReleaseOutput
	err := call(ctx, "freeze the open release", refActs.FreezeRelease, referential.FreezeInput{}, &frozen)
	switch {
	case isError(err, referential.ErrTypeReleaseEmpty):
		return t.done(ctx, release.Output{Summary: "Nothing is staged: there is no release to cut."})
	case isError(err, referential.ErrTypeReleaseTrainsOff):
		return release.Output{}, temporal.NewNonRetryableApplicationError("the referential publishes every accepted change set "+
			"at once (its PUBLICATION_MODE is not release_trains): there is no release to cut", referential.ErrTypeReleaseTrainsOff, err)
	case err != nil:
		return release.Output{}, err
	}
	n := frozen.Release.Number
	t.logger = log.With(t.logger, "release", n)
	if t.asked != 0 && t.asked != n {
		t.logger.Warn("cutting another release than the one asked for: it was cut meanwhile, or this one was left frozen", "asked", t.asked)
	}
	if err := workflow.UpsertMemo(ctx, map[string]any{"release": n}); err != nil {
		return release.Output{}, err
	}

	t.progress(ctx, fmt.Sprintf("Validating the %d change sets of release %d together", len(frozen.Release.ChangeSets), n))
	var validated referential.ReleaseOutput
	if err := call(ctx, fmt.Sprintf("validate release %d", n), refActs.ValidateRelease, referential.ReleaseInput{Number: n}, &validated); err != nil {
		return release.Output{}, err
	}
	returned := returnedOutcomes(validated.Release, nil)
	t.progress(ctx, fmt.Sprintf("Sending %d change sets of release %d back to their requests' moderators", len(returned), n))
	unreached, err := t.tell(ctx, returned)
	if err != nil {
		return release.Output{}, err
	}

	t.progress(ctx, fmt.Sprintf("Publishing release %d", n))
	var published referential.ReleaseOutput
	if err := call(ctx, fmt.Sprintf("publish release %d", n), refActs.PublishRelease, referential.ReleaseInput{Number: n}, &published); err != nil {
		return release.Output{}, err
	}
	// The publication runs the change sets again, on the version they go into: it may
	// return more of them.
	late := returnedOutcomes(published.Release, returned)
	included, err := includedOutcomes(published.Release)
	if err != nil {
		return release.Output{}, err
	}
	t.progress(ctx, fmt.Sprintf("Telling the %d requests of release %d what became of their change sets", len(late)+len(included), n))
	more, err := t.tell(ctx, append(late, included...))
	if err != nil {
		return release.Output{}, err
	}
	return t.done(ctx, release.Output{Release: &published.Release, Unreached: append(unreached, more...),
		Summary: summary(published.Release, len(included), len(returned)+len(late))})
}

// summary says what a release did, in one line.
func summary(r refclient.Release, included, returned int) string {
	if r.Version == nil {
		return fmt.Sprintf("Release %d: nothing published; change sets returned: %d.", r.Number, returned)
	}
	return fmt.Sprintf("Release %d published as version %d; change sets included: %d, returned: %d.", r.Number, *r.Version, included, returned)
}

// call runs a release activity, named in the Temporal UI by summary.
func call(ctx workflow.Context, summary string, activity, in any, out *referential.ReleaseOutput) error {
	opts := callOptions
	opts.Summary = summary
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), activity, in).Get(ctx, out)
}

// isError tells whether err is, or wraps, an application error of type typ.
func isError(err error, typ string) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == typ
}

// returnedOutcomes are the outcomes of the change sets r returned, but for those already told.
func returnedOutcomes(r refclient.Release, told []notice) []notice {
	var out []notice
	for _, cs := range r.ChangeSets {
		if cs.Status == refclient.StagedReturned &&
			!slices.ContainsFunc(told, func(n notice) bool { return n.outcome.ChangeSetID == cs.ID }) {
			out = append(out, notice{cs.RequestID, returnedOutcome(r.Number, cs)})
		}
	}
	return out
}

// returnedOutcome tells a request why the release sent its change set back: one finding
// per operation that does not apply with the rest of the release, or one for the whole
// change set when the referential names none, so that the moderator always has a reason.
func returnedOutcome(n int, cs refclient.StagedChangeSet) request.ReleaseOutcome {
	var findings []request.Finding
	for _, r := range cs.Results {
		if !r.Applies {
			findings = append(findings, request.Finding{Code: request.FindingReleaseConflict, Severity: request.SeverityError,
				OperationID: r.OperationID, Field: r.Field,
				Message: fmt.Sprintf("does not apply with the rest of release %d: %s (%s)", n, r.Reason, r.Code)})
		}
	}
	if len(findings) == 0 {
		findings = []request.Finding{{Code: request.FindingReleaseConflict, Severity: request.SeverityError,
			Message: fmt.Sprintf("release %d sent the change set back: it does not apply with the rest of the release", n)}}
	}
	return request.ReleaseOutcome{Release: n, ChangeSetID: cs.ID, Findings: findings}
}

// includedOutcomes are the outcomes of the change sets a published release included: the
// version, and the fiche's code (a new fiche gets it then).
func includedOutcomes(r refclient.Release) ([]notice, error) {
	var out []notice
	for _, cs := range r.ChangeSets {
		if cs.Status != refclient.StagedIncluded {
			continue
		}
		if r.Version == nil { // a request told version 0 would take its change set for returned
			return nil, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("release %d includes change set %s but has no version", r.Number, cs.ID), "ReleaseWithoutVersion", nil)
		}
		out = append(out, notice{cs.RequestID, request.ReleaseOutcome{Release: r.Number, ChangeSetID: cs.ID,
			Version: *r.Version, CodeRome: cs.CodeRome}})
	}
	return out, nil
}

// tell signals each request what the release did with its change set, all signals at
// once. A request whose workflow no longer runs cannot be told: it is logged, and
// returned.
func (t *train) tell(ctx workflow.Context, notices []notice) ([]string, error) {
	signals := make([]workflow.Future, len(notices))
	for i, n := range notices {
		signals[i] = workflow.SignalExternalWorkflow(ctx, request.WorkflowID(n.requestID), "", request.SignalReleaseOutcome, n.outcome)
	}
	var unreached []string
	for i, f := range signals {
		var gone *temporal.UnknownExternalWorkflowExecutionError
		if err := f.Get(ctx, nil); errors.As(err, &gone) {
			t.logger.Warn("request not told: its workflow no longer runs", "requestId", notices[i].requestID,
				"changeSetId", notices[i].outcome.ChangeSetID)
			unreached = append(unreached, notices[i].requestID)
		} else if err != nil {
			return nil, err
		}
	}
	return unreached, nil
}

// progress says what the workflow does, in its log and in the Temporal UI.
func (t *train) progress(ctx workflow.Context, what string) {
	t.logger.Info(what)
	workflow.SetCurrentDetails(ctx, what)
}

// done ends the run with out, its summary in the log, the UI and the memo.
func (t *train) done(ctx workflow.Context, out release.Output) (release.Output, error) {
	t.progress(ctx, out.Summary)
	return out, workflow.UpsertMemo(ctx, map[string]any{"summary": out.Summary})
}
