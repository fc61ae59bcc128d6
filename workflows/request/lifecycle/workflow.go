// Package lifecycle is the evolution-request workflow: one durable workflow per request,
// from the automated checks through triage, review and clarification rounds, the decision
// and the publication into the referential (under release trains, the wait in a release),
// to its closing. Services never import it: they
// talk to it through the contract of package request.
package lifecycle

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/activities/intake"
	"github.com/plateforme-rome/rome/activities/notifications"
	"github.com/plateforme-rome/rome/activities/referential"
	"github.com/plateforme-rome/rome/activities/teams"
	"github.com/plateforme-rome/rome/workflows/request"
)

// Register registers the request workflow (under request.WorkflowType) and the activities
// it calls on a worker polling request.TaskQueue.
func Register(r worker.Registry, ref *referential.Activities, in *intake.Activities) {
	r.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: request.WorkflowType})
	r.RegisterActivity(ref)
	r.RegisterActivity(in)
}

// RegisterMessaging registers the activities that notify people (and count the followers
// of the fiches the checks find touched) and run the requests' Teams channels, on the
// worker where Register registered the workflow. t is nil when the platform runs without
// Teams (the intake then starts requests without a channel).
func RegisterMessaging(r worker.Registry, n *notifications.Activities, t *teams.Activities) {
	r.RegisterActivity(n)
	if t != nil {
		r.RegisterActivity(t)
	}
}

// Workflow runs one evolution request until it is published, rejected, withdrawn or
// expired, continuing as new (with its whole state in RunInput.Resume) before its history
// grows large.
func Workflow(ctx workflow.Context, in RunInput) (request.Output, error) {
	return execute(ctx, in, options{})
}

// options are the workflow's knobs that only tests turn.
type options struct {
	// historyLimit continues as new once the history has this many events, even if the
	// server has not suggested it yet (0: only when suggested).
	historyLimit int
}

// ErrInvalidWorkflowInput fails a workflow started with an input it cannot run: a bug of
// the starter, never a user's mistake (those are findings or update rejections).
const ErrInvalidWorkflowInput = "InvalidWorkflowInput"

func execute(ctx workflow.Context, in RunInput, opts options) (request.Output, error) {
	w := &lifecycle{opts: opts}
	if err := w.setup(ctx, in); err != nil {
		return request.Output{}, err
	}
	return w.run(ctx)
}

// lifecycle is one run of a request workflow.
type lifecycle struct {
	opts   options
	req    request.Request
	timers request.Timers
	resume Resume
	fresh  bool // the first run: the submission is not recorded yet
	local  bool // short calls run as local activities (localCallsChange)
	// fewerTasks: the start's search attributes count as indexed, the Teams channel and its
	// subscription are local calls (localCallsChange version 2).
	fewerTasks bool
	link       string               // the request's page (request.Input.Link)
	teams      *request.TeamsConfig // nil: no Teams channel
	// assignInTurn: once checked, the request goes to the moderator the intake picks in turn.
	assignInTurn bool

	// closing is set once the request is closed and every handler has finished: the Teams
	// channel may then be closed. teamsDone is set when the Teams coroutine has ended.
	closing, teamsDone bool

	// since is when the current status began (or this run started): the clock of a waiting
	// status is its Resume elapsed time plus the time since then.
	since time.Time
	// moves counts status changes, so that a wait ends even if the status comes back.
	moves int
	// indexed are the search-attribute values last upserted.
	indexed searchValues

	// mu serialises whatever changes the state and records it: update handlers, the checks,
	// timers and the publication, so that events are recorded in the order of the state.
	mu     workflow.Mutex
	logger log.Logger
}

// Activity method values: the workflow never calls an activity by its name.
var (
	refActs    *referential.Activities
	intakeActs *intake.Activities
	notifyActs *notifications.Activities
	teamsActs  *teams.Activities
)

var (
	// recordOptions: the history must eventually be written, so RecordEvent (idempotent by
	// request and seq) is retried without limit.
	recordOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Minute,
		},
	}
	// callOptions: the checks and the publication are retried for about a quarter of an
	// hour; refusals are final. After that the workflow pauses (retryPause) and tries again.
	callOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        20,
			NonRetryableErrorTypes: []string{referential.ErrTypeConflict, referential.ErrTypeRejected},
		},
	}
)

// retryPause is how long the workflow waits before running the checks or the publication
// again once their activity gave up (the referential or the intake was down).
const retryPause = 10 * time.Minute

// The change that makes the short calls to the platform's services (history records,
// checks, notifications) try a local activity first: a marker in the workflow task that
// made the call, instead of an activity task and another workflow task through the server,
// which was what bounded the requests processed per second. Runs recorded before it replay
// with activities.
//
// Its version 2 also takes the search attributes the workflow started with as indexed
// (the first task no longer upserts the same values again), and creates the Teams channel
// and subscribes to its messages with local calls: a checked request takes one workflow
// task instead of three, and no activity task. The first task then lasts as long as Graph
// takes to create the channel; an update sent meanwhile waits for it.
const (
	localCallsChange  = "local-short-calls"
	localCallsVersion = 2
	fewerTasksVersion = 2
)

// call runs a short call to a platform service. Since localCallsChange it is tried once as
// a local activity; when that attempt fails and may succeed later (the service is down, or
// slower than opts' timeout), the call goes on as an activity with opts' retry policy, so
// that a long outage waits on the server's durable retries, as before the change.
func (w *lifecycle) call(ctx workflow.Context, opts workflow.ActivityOptions, activity any, args ...any) workflow.Future {
	return w.callThenRetry(ctx, opts, activity, args, args)
}

// callThenRetry is call whose activity, after a failed local attempt, takes retryArgs: the
// input that tells it the local attempt may have done its work (a Graph call whose answer
// was lost), which an activity otherwise learns from its attempt number.
func (w *lifecycle) callThenRetry(ctx workflow.Context, opts workflow.ActivityOptions, activity any, args, retryArgs []any) workflow.Future {
	if !w.local {
		return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), activity, args...)
	}
	result, settable := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		once := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
			StartToCloseTimeout: opts.StartToCloseTimeout, RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}}), activity, args...)
		if err := once.Get(ctx, nil); err == nil || !retryable(err, opts.RetryPolicy) {
			settable.Chain(once)
			return
		}
		settable.Chain(workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), activity, retryArgs...))
	})
	return result
}

// retryable tells whether a failed call may succeed if tried again under policy.
func retryable(err error, policy *temporal.RetryPolicy) bool {
	if temporal.IsCanceledError(err) {
		return false
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) && (app.NonRetryable() || policy != nil && slices.Contains(policy.NonRetryableErrorTypes, app.Type())) {
		return false
	}
	return true
}

func (w *lifecycle) setup(ctx workflow.Context, in RunInput) error {
	w.req, w.timers, w.fresh = in.Request, withDefaults(in.Timers), in.Resume == nil
	localCalls := workflow.GetVersion(ctx, localCallsChange, workflow.DefaultVersion, localCallsVersion)
	w.local, w.fewerTasks = localCalls >= 1, localCalls >= fewerTasksVersion
	if w.fewerTasks {
		w.indexed = indexedAtStart(workflow.GetTypedSearchAttributes(ctx))
	}
	w.link, w.teams, w.assignInTurn = in.Link, in.Teams, in.AutoAssign
	if in.Resume != nil {
		w.resume = *in.Resume // a continued run keeps the messaging version of the first
	} else {
		w.resume = Resume{NextQuestion: 1, NextMessage: 1, NextOperation: request.NextOperationNumber(w.req.Operations),
			Messaging: int(workflow.GetVersion(ctx, messagingChange, workflow.DefaultVersion, messagingVersion))}
	}
	if w.resume.Messaging < messagingVersion {
		w.teams = nil // requests started before notifications and Teams run without them
	}
	w.teamsDone = w.teams == nil
	if w.teams != nil && w.resume.Teams == nil {
		w.resume.Teams = &TeamsState{}
		w.join(w.req.SubmittedBy)
	}
	w.req.SubmittedBy.EntraID = "" // kept in Resume, out of the history
	if err := w.validateInput(); err != nil {
		return err
	}
	if w.fresh {
		w.req.Operations = w.withIDs(operationsOf(w.req.Operations))
	}
	w.req.Findings = nonNil(w.req.Findings)
	w.req.Questions = nonNil(w.req.Questions)
	w.logger = log.With(workflow.GetLogger(ctx), "requestId", w.req.ID, "codeRome", w.req.CodeRome)
	w.mu = workflow.NewMutex(ctx)
	w.since = workflow.Now(ctx)

	if err := workflow.SetQueryHandler(ctx, request.QueryState, func() (request.Request, error) {
		return w.req, nil
	}); err != nil {
		return err
	}
	if err := w.registerUpdates(ctx); err != nil {
		return err
	}
	return w.index(ctx)
}

func (w *lifecycle) validateInput() error {
	r := w.req
	bad := func(format string, args ...any) error {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrInvalidWorkflowInput, nil)
	}
	switch {
	case r.ID == "":
		return bad("request.id is required")
	case r.Kind != request.KindModifyFiche && r.Kind != request.KindCreateFromKnown && r.Kind != request.KindCreateFromNew:
		return bad("request.kind %q is unknown", r.Kind)
	case r.Org == "" || r.SubmittedBy.Sub == "":
		return bad("request.org and request.submittedBy.sub are required")
	case w.fresh && r.Status != request.StatusSubmitted:
		return bad("a new request starts with status %s, not %q", request.StatusSubmitted, r.Status)
	case r.Status.Closed():
		return bad("request %s is already closed (%s)", r.ID, r.Status)
	case r.Status == request.StatusAwaitingPartner && w.openQuestion() == nil:
		return bad("a request awaiting the partner has an open question")
	case r.Status == request.StatusPublishing && slices.ContainsFunc(r.Operations, func(o request.RequestOperation) bool { return o.Decision == nil }):
		return bad("a request being published has a decision on every operation")
	case r.Status == request.StatusAccepted && (r.Release == nil || r.ChangeSetID == ""):
		return bad("a request accepted into a release has its release and change set")
	}
	if err := checkOperations(r.Status, "request.operations", operationsOf(r.Operations), true); err != nil {
		return bad("%s", err.Error())
	}
	return nil
}

// withDefaults fills the timers left at zero with request.DefaultTimers.
func withDefaults(t request.Timers) request.Timers {
	d := request.DefaultTimers
	for _, f := range []struct{ v, def *time.Duration }{
		{&t.TriageReminder, &d.TriageReminder}, {&t.TriageEscalation, &d.TriageEscalation},
		{&t.DecisionReminder, &d.DecisionReminder}, {&t.DecisionEscalation, &d.DecisionEscalation},
		{&t.PartnerReminder, &d.PartnerReminder}, {&t.QuestionExpiry, &d.QuestionExpiry},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return t
}

func (w *lifecycle) run(ctx workflow.Context) (request.Output, error) {
	if w.fresh {
		if err := w.submit(ctx); err != nil {
			return request.Output{}, err
		}
	}
	workflow.GoNamed(ctx, "release-outcomes", w.receiveOutcomes)
	w.startMessaging(ctx)
	for !w.req.Status.Closed() {
		var err error
		switch w.req.Status {
		case request.StatusSubmitted, request.StatusChecking:
			err = w.runChecks(ctx)
		case request.StatusPublishing:
			err = w.runPublication(ctx)
		case request.StatusAccepted:
			err = w.awaitRelease(ctx)
		default:
			err = w.wait(ctx)
		}
		if err != nil {
			return request.Output{}, err
		}
		if w.continueAsNewDue(ctx) && !w.req.Status.Closed() {
			// The handlers' last events are enqueued once they finish; whatever the outboxes
			// cannot deliver in time, and a handler finishing meanwhile, goes in Resume.
			if err := w.awaitHandlers(ctx); err != nil {
				return request.Output{}, err
			}
			if err := w.drainBeforeContinuing(ctx); err != nil {
				return request.Output{}, err
			}
			if err := w.awaitHandlers(ctx); err != nil {
				return request.Output{}, err
			}
			if !w.req.Status.Closed() {
				return request.Output{}, w.continueAsNew(ctx)
			}
		}
	}
	if err := w.awaitHandlers(ctx); err != nil {
		return request.Output{}, err
	}
	w.closing = true
	if err := w.drainBeforeClosing(ctx); err != nil {
		return request.Output{}, err
	}
	w.logger.Info("request closed", "status", w.req.Status, "reason", w.req.ClosedReason)
	return request.Output{Request: w.req}, nil
}

func (w *lifecycle) submit(ctx workflow.Context) error {
	if err := w.mu.Lock(ctx); err != nil {
		return err
	}
	defer w.mu.Unlock()
	return w.record(ctx, request.EventSubmitted, w.req.SubmittedBy, request.EventData{Operations: operationsOf(w.req.Operations)})
}

func (w *lifecycle) awaitHandlers(ctx workflow.Context) error {
	return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// continueAsNewDue tells whether the history should start afresh.
func (w *lifecycle) continueAsNewDue(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() || (w.opts.historyLimit > 0 && info.GetCurrentHistoryLength() >= w.opts.historyLimit)
}

// continueAsNew carries the whole state to a new run; the clocks resume where they are.
func (w *lifecycle) continueAsNew(ctx workflow.Context) error {
	w.drainOutcomes(ctx)
	w.stopClock(workflow.Now(ctx))
	resume := w.resume
	w.logger.Info("continuing as new", "seq", resume.Seq, "status", w.req.Status)
	return workflow.NewContinueAsNewError(ctx, request.WorkflowType,
		RunInput{Input: request.Input{Request: w.req, Timers: w.timers, Link: w.link, Teams: w.teams}, Resume: &resume})
}

// setStatus moves the request to s, stopping the clock of the status it leaves and
// starting the one of s.
func (w *lifecycle) setStatus(ctx workflow.Context, s request.Status) {
	w.stopClock(workflow.Now(ctx))
	w.req.Status = s
	w.moves++
	w.logger.Info("status changed", "status", s)
}

// stopClock adds the time spent in the current status since w.since to its clock.
func (w *lifecycle) stopClock(now time.Time) {
	if c := w.clockOf(w.req.Status); c != nil {
		*c += now.Sub(w.since)
	}
	w.since = now
}

// commit records a change of the request's state: it dates it, upserts the search
// attributes if they changed, and records the event. The caller holds w.mu.
func (w *lifecycle) commit(ctx workflow.Context, typ string, actor request.Actor, data request.EventData) error {
	w.req.UpdatedAt = workflow.Now(ctx)
	if err := w.index(ctx); err != nil {
		return err
	}
	return w.record(ctx, typ, actor, data)
}

// record appends an event to the request's history, with the state right after it, and
// waits until it is written, so the projection never runs ahead of the workflow. The
// caller holds w.mu, so events are numbered and written in order.
func (w *lifecycle) record(ctx workflow.Context, typ string, actor request.Actor, data request.EventData) error {
	// EventData has no map: its encoding is deterministic (the SDK's data converter encodes
	// every payload with encoding/json the same way).
	raw, err := json.Marshal(data) //workflowcheck:ignore
	if err != nil {
		return err
	}
	w.join(actor)
	actor.EntraID = ""
	w.resume.Seq++
	e := request.Event{RequestID: w.req.ID, Seq: w.resume.Seq, Type: typ, At: workflow.Now(ctx), Actor: actor, Data: raw, Request: w.req}
	if err := w.call(ctx, recordOptions, intakeActs.RecordEvent, intake.RecordEventInput{Event: e}).Get(ctx, nil); err != nil {
		return err
	}
	w.tell(Notice{Seq: e.Seq, Type: typ, Actor: actor, Data: data, Assignee: w.req.Assignee})
	return nil
}

// searchValues are the request's search attributes.
type searchValues struct{ code, kind, status, org, assignee string }

// indexedAtStart are the search-attribute values the workflow started with (the intake
// sets them, so that the request is found before its workflow first runs).
func indexedAtStart(sa temporal.SearchAttributes) searchValues {
	get := func(k temporal.SearchAttributeKeyKeyword) string {
		v, _ := sa.GetKeyword(k)
		return v
	}
	return searchValues{get(request.RomeCodeKey), get(request.RequestKindKey), get(request.RequestStatusKey),
		get(request.PartnerOrgKey), get(request.AssignedModeratorKey)}
}

// index upserts the search attributes when they differ from the last upserted ones.
func (w *lifecycle) index(ctx workflow.Context) error {
	v := searchValues{w.req.CodeRome, string(w.req.Kind), string(w.req.Status), w.req.Org, w.req.Assignee}
	if v == w.indexed {
		return nil
	}
	w.describe(ctx, "")
	keyword := func(k temporal.SearchAttributeKeyKeyword, s string) temporal.SearchAttributeUpdate {
		if s == "" {
			return k.ValueUnset()
		}
		return k.ValueSet(s)
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx,
		keyword(request.RomeCodeKey, v.code),
		keyword(request.RequestKindKey, v.kind),
		keyword(request.RequestStatusKey, v.status),
		keyword(request.PartnerOrgKey, v.org),
		keyword(request.AssignedModeratorKey, v.assignee),
	); err != nil {
		return err
	}
	w.indexed = v
	return nil
}

// describe sets what the Temporal UI shows of the request as it stands (the workflow's
// current details, read by query, not recorded in the history): its status, its assignee
// and, while it waits, the next deadline.
func (w *lifecycle) describe(ctx workflow.Context, next string) {
	details := "**Status** " + string(w.req.Status)
	if w.req.Assignee != "" {
		details += " · **Assignee** " + w.req.Assignee
	}
	if next != "" {
		details += " · **Next** " + next
	}
	workflow.SetCurrentDetails(ctx, details)
}

// operationsOf returns the operations of a request without their decisions.
func operationsOf(ops []request.RequestOperation) []request.Operation {
	out := make([]request.Operation, len(ops))
	for i, o := range ops {
		out[i] = o.Operation
	}
	return out
}

// withIDs turns operations into the request's, keeping the ids they have and giving the
// others the next free op-N (request.AssignOperationIDs) from the request's counter.
func (w *lifecycle) withIDs(ops []request.Operation) []request.RequestOperation {
	w.resume.NextOperation = request.AssignOperationIDs(ops, w.resume.NextOperation)
	out := make([]request.RequestOperation, len(ops))
	for i, op := range ops {
		out[i] = request.RequestOperation{Operation: op}
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
