package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	sdkpb "go.temporal.io/api/sdk/v1"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/activities/intake"
	"github.com/plateforme-rome/rome/activities/notifications"
	"github.com/plateforme-rome/rome/activities/referential"
	"github.com/plateforme-rome/rome/activities/teams"
	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/workflows/request"
)

// t0 is when every test workflow starts.
var t0 = time.Date(2037, 3, 2, 9, 0, 0, 0, time.UTC)

var (
	alice   = request.Actor{Sub: "alice", Name: "Alice Martin", Role: request.RolePartner, Org: "opco-2i"}
	colleen = request.Actor{Sub: "colleen", Name: "Colleen", Role: request.RolePartner, Org: "opco-2i"}
	bob     = request.Actor{Sub: "bob", Name: "Bob", Role: request.RolePartner, Org: "opco-mobilites"}
	mod     = request.Actor{Sub: "mod-1", Name: "Modeste", Role: request.RoleModerator}
	mod2    = request.Actor{Sub: "mod-2", Name: "Modeste II", Role: request.RoleModerator}
	admin   = request.Actor{Sub: "adm", Name: "Ada", Role: request.RoleAdmin}
	service = request.Actor{Sub: "svc", Role: request.RoleService}
)

func ptr[T any](v T) *T { return &v }

// newRequest is a modify_fiche request as the intake starts it: three operations.
func newRequest() request.Request {
	return request.Request{
		ID: "r1", Kind: request.KindModifyFiche, CodeRome: "M1805", Title: "Rust developers",
		Justification: "Job boards", Status: request.StatusSubmitted, Org: "opco-2i", SubmittedBy: alice,
		Operations: []request.RequestOperation{
			{Operation: request.Operation{ID: "op-1", Op: refclient.OpAddAppellation, Libelle: "Développeur / Développeuse Rust"}},
			{Operation: request.Operation{ID: "op-2", Op: refclient.OpRemoveAppellation, CodeOgr: "10944", Reason: "obsolete"}},
			{Operation: request.Operation{ID: "op-3", Op: refclient.OpAddMobilite, ToCodeRome: "M1402", Rank: ptr(3)}},
		},
		CreatedAt: t0, UpdatedAt: t0,
	}
}

// harness runs the workflow in the SDK's test environment, its activities replaced by
// fakes that record what they were asked.
type harness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	mu         sync.Mutex
	events     []request.Event
	validated  []refclient.ChangeSet
	queries    []request.OverlapQuery
	published  []refclient.ChangeSet
	upserts    []map[string]string
	validate   func(n int, cs refclient.ChangeSet) (refclient.Validation, error) // n: calls so far
	overlaps   func(q request.OverlapQuery) []request.Overlap
	publish    func(n int, cs refclient.ChangeSet) (refclient.Publication, error)
	recordFail int // RecordEvent calls that fail before the first success
	recordRuns int
	// recordSlow makes the next RecordEvent call take that long (workflow time).
	recordSlow time.Duration
	// publishSlow makes every PublishChangeSet call take that long (workflow time).
	publishSlow time.Duration

	notified   []notifclient.Notification // delivered, in order
	notifyFail int                        // Notify calls that fail before the first success
	notifyRuns int
	// followers answers the follower counts (default: nobody follows any fiche); counted
	// are the fiches of each count asked.
	followers func(codes []string) ([]notifclient.FollowerCount, error)
	counted   [][]string
	teams     *fakeTeams
}

func newHarness(t *testing.T, opts options) *harness {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	// Warnings and errors only, in the test's log.
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(t0)
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context, in RunInput) (request.Output, error) {
		return execute(ctx, in, opts)
	}, workflow.RegisterOptions{Name: request.WorkflowType})
	env.RegisterActivity(&referential.Activities{})
	env.RegisterActivity(&intake.Activities{})
	env.RegisterActivity(&notifications.Activities{})
	env.RegisterActivity(&teams.Activities{})
	h := &harness{t: t, env: env, validate: applies(60), overlaps: func(request.OverlapQuery) []request.Overlap { return nil },
		publish: func(_ int, cs refclient.ChangeSet) (refclient.Publication, error) {
			return refclient.Publication{ID: cs.ID, RequestID: cs.RequestID, CodeRome: cs.CodeRome, BaseVersion: cs.BaseVersion, Version: 61}, nil
		}}
	env.OnActivity(refActs.ValidateChangeSet, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in referential.ValidateInput) (referential.ValidateOutput, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.validated = append(h.validated, in.ChangeSet)
			v, err := h.validate(len(h.validated), in.ChangeSet)
			return referential.ValidateOutput{Validation: v}, err
		})
	env.OnActivity(intakeActs.FindOverlaps, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in intake.FindOverlapsInput) (intake.FindOverlapsOutput, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.queries = append(h.queries, in.Query)
			return intake.FindOverlapsOutput{Overlaps: h.overlaps(in.Query)}, nil
		})
	env.OnActivity(refActs.PublishChangeSet, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in referential.PublishInput) (referential.PublishOutput, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.published = append(h.published, in.ChangeSet)
			p, err := h.publish(len(h.published), in.ChangeSet)
			return referential.PublishOutput{Publication: p}, err
		}).AfterFn(func() time.Duration { return h.publishSlow })
	env.OnActivity(intakeActs.RecordEvent, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in intake.RecordEventInput) (intake.RecordEventOutput, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.recordRuns++
			if h.recordRuns <= h.recordFail {
				return intake.RecordEventOutput{}, errors.New("intake unavailable")
			}
			// The intake stores (request, seq) once: a retried event must be the same.
			for _, e := range h.events {
				if e.Seq == in.Event.Seq {
					h.t.Errorf("event %d recorded twice: %s then %s", e.Seq, e.Type, in.Event.Type)
				}
			}
			h.events = append(h.events, in.Event)
			return intake.RecordEventOutput{}, nil
		}).AfterFn(func() time.Duration {
		h.mu.Lock()
		defer h.mu.Unlock()
		d := h.recordSlow
		h.recordSlow = 0
		return d
	})
	env.OnActivity(notifyActs.Notify, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in notifications.NotifyInput) (notifications.NotifyOutput, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.notifyRuns++
			if h.notifyRuns <= h.notifyFail {
				return notifications.NotifyOutput{}, errors.New("notifications unavailable")
			}
			h.notified = append(h.notified, in.Notification)
			return notifications.NotifyOutput{ID: "n-" + in.Notification.Key}, nil
		})
	h.followers = func(codes []string) ([]notifclient.FollowerCount, error) {
		counts := make([]notifclient.FollowerCount, len(codes))
		for i, c := range codes {
			counts[i] = notifclient.FollowerCount{CodeRome: c}
		}
		return counts, nil
	}
	env.OnActivity(notifyActs.CountFollowers, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in notifications.CountFollowersInput) (notifications.CountFollowersOutput, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.counted = append(h.counted, in.CodesRome)
			counts, err := h.followers(in.CodesRome)
			return notifications.CountFollowersOutput{Counts: counts}, err
		})
	h.teams = newFakeTeams(h)
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		values := map[string]string{}
		for k, v := range sa.GetUntypedValues() {
			s, _ := v.(string)
			values[k.GetName()] = s
		}
		h.mu.Lock()
		h.upserts = append(h.upserts, values)
		h.mu.Unlock()
	}).Return(nil)
	return h
}

// applies is a referential on which every operation applies, at version.
func applies(version int) func(int, refclient.ChangeSet) (refclient.Validation, error) {
	return func(_ int, cs refclient.ChangeSet) (refclient.Validation, error) {
		return validation(version, cs, nil), nil
	}
}

// validation answers a dry run: the operations named in refused do not apply, with that code.
func validation(version int, cs refclient.ChangeSet, refused map[string]string) refclient.Validation {
	v := refclient.Validation{Version: version, CodeRome: cs.CodeRome, Applies: true}
	for _, op := range cs.Operations {
		r := refclient.Result{OperationID: op.ID, Op: op.Op, Applies: true}
		if code, ok := refused[op.ID]; ok {
			r.Applies, r.Code, r.Field, r.Reason = false, code, "codeOgr", "refused: "+code
			v.Applies = false
		}
		v.Results = append(v.Results, r)
	}
	return v
}

// run runs a new request's workflow to its end.
func (h *harness) run(in request.Input) request.Output {
	h.t.Helper()
	return h.runFrom(RunInput{Input: in})
}

// runFrom runs the workflow from in, a continued run's input when it has Resume.
func (h *harness) runFrom(in RunInput) request.Output {
	h.t.Helper()
	if err := h.env.SetTypedSearchAttributesOnStart(request.StartSearchAttributes(in.Request)); err != nil { // as the intake starts it
		h.t.Fatal(err)
	}
	h.env.ExecuteWorkflow(request.WorkflowType, in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("the workflow did not complete")
	}
	var out request.Output
	if err := h.env.GetWorkflowError(); err != nil {
		return out
	}
	if err := h.env.GetWorkflowResult(&out); err != nil {
		h.t.Fatal(err)
	}
	return out
}

// outcome is what became of an update.
type outcome struct {
	name     string
	sent     bool
	rejected error // by the validator
	err      error // by the handler
	result   request.UpdateResult
	done     bool
}

// update sends an update after a delay (from the workflow start).
func (h *harness) update(after time.Duration, name string, in any) *outcome {
	o := &outcome{name: name}
	h.env.RegisterDelayedCallback(func() { h.send(o, in) }, after)
	return o
}

// send sends an update now (from a delayed callback): the workflow runs its validator, then
// its handler until it blocks.
func (h *harness) send(o *outcome, in any) {
	o.sent = true
	h.env.UpdateWorkflow(o.name, "", &testsuite.TestUpdateCallback{
		OnReject: func(err error) { o.rejected, o.done = err, true },
		OnComplete: func(v any, err error) {
			o.err, o.done = err, true
			if r, ok := v.(request.UpdateResult); ok {
				o.result = r
			}
		},
	}, in)
}

// ok fails the test unless the update completed.
func (o *outcome) ok(t *testing.T) request.UpdateResult {
	t.Helper()
	if !o.done || o.rejected != nil || o.err != nil {
		t.Fatalf("%s: sent %v, done %v, rejected %v, failed %v", o.name, o.sent, o.done, o.rejected, o.err)
	}
	return o.result
}

// refused checks that the update's validator refused it with that kind, field and status.
func (o *outcome) refused(t *testing.T, kind, field string, status request.Status) {
	t.Helper()
	if !o.done || o.rejected == nil {
		t.Errorf("%s: want a %s rejection, got done %v, rejected %v, err %v", o.name, kind, o.done, o.rejected, o.err)
		return
	}
	checkRejection(t, o.name, o.rejected, kind, field, status)
}

func checkRejection(t *testing.T, name string, err error, kind, field string, status request.Status) {
	t.Helper()
	r, ok := request.AsRejection(err)
	if !ok {
		t.Errorf("%s: %v is not a rejection", name, err)
		return
	}
	if r.Kind != kind || r.Field != field || r.Status != status {
		t.Errorf("%s: rejection %+v, want kind %s field %q status %s", name, *r, kind, field, status)
	}
}

func (h *harness) types() []string {
	var out []string
	for _, e := range h.events {
		out = append(out, e.Type)
	}
	return out
}

func (h *harness) wantTypes(want ...string) {
	h.t.Helper()
	if got := h.types(); !slices.Equal(got, want) {
		h.t.Errorf("events\n got %q\nwant %q", got, want)
	}
}

// event returns the i-th event of type typ (0-based).
func (h *harness) event(typ string, i int) request.Event {
	h.t.Helper()
	for _, e := range h.events {
		if e.Type == typ {
			if i == 0 {
				return e
			}
			i--
		}
	}
	h.t.Fatalf("no such %s event", typ)
	return request.Event{}
}

func data(t *testing.T, e request.Event) request.EventData {
	t.Helper()
	var d request.EventData
	if err := json.Unmarshal(e.Data, &d); err != nil {
		t.Fatalf("event %d data %s: %v", e.Seq, e.Data, err)
	}
	return d
}

// checkHistory checks what holds for every history: seqs 1..n without gaps or duplicates,
// one request, snapshots dated by their event, and the last one equal to the final state.
func (h *harness) checkHistory(firstSeq int, final *request.Request) {
	h.t.Helper()
	for i, e := range h.events {
		if e.Seq != firstSeq+i {
			h.t.Errorf("event %d (%s) has seq %d, want %d", i, e.Type, e.Seq, firstSeq+i)
		}
		if e.RequestID != "r1" || e.Request.ID != "r1" {
			h.t.Errorf("event %d is about %s / %s", e.Seq, e.RequestID, e.Request.ID)
		}
		if e.At.Before(t0) || (i > 0 && e.At.Before(h.events[i-1].At)) {
			h.t.Errorf("event %d at %v goes back in time", e.Seq, e.At)
		}
		switch e.Type {
		case request.EventReminder, request.EventEscalation, request.EventSubmitted:
		default:
			if !e.Request.UpdatedAt.Equal(e.At) {
				h.t.Errorf("event %d (%s) at %v: the request was updated at %v", e.Seq, e.Type, e.At, e.Request.UpdatedAt)
			}
		}
		if !json.Valid(e.Data) {
			h.t.Errorf("event %d data is not JSON: %s", e.Seq, e.Data)
		}
	}
	if final != nil && len(h.events) > 0 {
		last := h.events[len(h.events)-1].Request
		a, _ := json.Marshal(last)
		b, _ := json.Marshal(final)
		if !reflect.DeepEqual(a, b) {
			h.t.Errorf("last snapshot\n%s\ndiffers from the final state\n%s", a, b)
		}
	}
}

// statuses lists the status of each event's snapshot.
func (h *harness) statuses() []request.Status {
	var out []request.Status
	for _, e := range h.events {
		out = append(out, e.Request.Status)
	}
	return out
}

// at is an instant after the start.
func at(d time.Duration) time.Time { return t0.Add(d) }

// currentDetails reads what the Temporal UI shows of the running workflow.
func (h *harness) currentDetails() string {
	h.t.Helper()
	v, err := h.env.QueryWorkflow("__temporal_workflow_metadata")
	if err != nil {
		h.t.Fatal(err)
	}
	var md sdkpb.WorkflowMetadata
	if err := v.Get(&md); err != nil {
		h.t.Fatal(err)
	}
	return md.CurrentDetails
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
