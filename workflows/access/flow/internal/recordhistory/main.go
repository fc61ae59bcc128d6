// Command recordhistory runs access-request workflows on a real Temporal dev server and
// writes their histories to access/flow/testdata, where the replay test reads them: a later
// change of the workflow code that running requests could not replay fails the suite.
//
// It needs the Temporal CLI that `make dev` builds (.dev/bin/temporal) and nothing else: the
// intake is an in-memory projection behind the real intake activities, Graph a fake that
// invites every guest and assigns every app role. The timers are a few seconds, so that the
// expiries really fire. Run it from workflows/ to add scenarios, never to paper over a replay
// failure. Before recording again after a change of the workflow, rename the files of the
// earlier recording after the change they predate (before-<change>-<scenario>.json): they
// stay replayed.
//
//	go run ./access/flow/internal/recordhistory
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/plateforme-rome/rome/activities/intake"
	"github.com/plateforme-rome/rome/activities/teams"
	"github.com/plateforme-rome/rome/workflows/access"
	"github.com/plateforme-rome/rome/workflows/access/flow"
	"github.com/plateforme-rome/rome/workflows/internal/recording"
	"github.com/plateforme-rome/rome/workflows/request"
)

func main() { recording.Main(filepath.Join("access", "flow", "testdata"), record) }

// record runs the scenarios on the dev server c is a client of and writes their histories
// to out.
func record(ctx context.Context, c client.Client, out string) error {
	projection := &memoryIntake{}
	w := worker.New(c, access.TaskQueue, worker.Options{})
	flow.Register(w, &intake.AccessActivities{Intake: projection})
	w.RegisterActivity(&fakeGraph{})
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()

	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, s := range scenarios {
		r := &runner{c: c, id: s.id}
		if err := s.run(ctx, r); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if r.out.Request.Status != s.want {
			return fmt.Errorf("%s: ended %s, want %s", s.name, r.out.Request.Status, s.want)
		}
		if err := r.save(ctx, filepath.Join(out, s.name+".json")); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		fmt.Printf("%s: %d history events, %d records, notices %v\n", s.name, r.events, len(projection.records(s.id)), projection.notices(s.id))
	}
	return nil
}

// timers are short enough for the expiries to fire while the recorder waits, long enough
// for the updates of a scenario to land before them.
var timers = access.Timers{Verification: 3 * time.Second, Applicant: 3 * time.Second}

const admin = "admin-1"

func newInput(id string, invite bool) access.Input {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return access.Input{InviteGuests: invite, Timers: timers, Request: access.Request{ID: id, Status: access.AwaitingVerification,
		Application: access.Application{Name: "Claire Dubois", Email: "claire.dubois@opco-sante.fr", OrgName: "OPCO Santé",
			OrgKind: "opco", Position: "Chargée de mission emploi", Domains: []string{"J", "M1805"}, Motivation: "Les fiches du soin évoluent."},
		Messages: []access.Message{}, CreatedAt: now, UpdatedAt: now}}
}

var scenarios = []struct {
	name string
	id   string
	want access.Status
	run  func(ctx context.Context, r *runner) error
}{
	// Verified, a question answered, approved: the applicant is invited as an Entra guest,
	// recorded in the directory and given the app role of their platform role.
	{"approved", "acc_00000000000000000000000a", access.Approved, func(ctx context.Context, r *runner) error {
		return r.steps(
			func() error { return r.start(ctx, newInput(r.id, true)) },
			func() error { return r.update(ctx, access.UpdateVerify, access.VerifyInput{}) },
			func() error {
				return r.update(ctx, access.UpdateAsk, access.AskInput{By: admin, Question: "Which fiches do you follow?"})
			},
			func() error {
				return r.update(ctx, access.UpdateAnswer, access.AnswerInput{Text: "Those of grand domaine J."})
			},
			func() error {
				return r.update(ctx, access.UpdateApprove, access.ApproveInput{By: admin, Org: "opco-sante", Role: "partner"})
			},
			func() error { return r.wait(ctx) },
		)
	}},
	// Verified, then rejected with a reason.
	{"rejected", "acc_00000000000000000000000b", access.Rejected, func(ctx context.Context, r *runner) error {
		return r.steps(
			func() error { return r.start(ctx, newInput(r.id, false)) },
			func() error { return r.update(ctx, access.UpdateVerify, access.VerifyInput{}) },
			func() error {
				return r.update(ctx, access.UpdateReject, access.RejectInput{By: admin, Reason: "Not a recognised expert."})
			},
			func() error { return r.wait(ctx) },
		)
	}},
	// The verification e-mail sent again, the address never verified: the request expires.
	{"expired-unverified", "acc_00000000000000000000000c", access.Expired, func(ctx context.Context, r *runner) error {
		return r.steps(
			func() error { return r.start(ctx, newInput(r.id, false)) },
			func() error { return r.update(ctx, access.UpdateResend, access.ResendInput{}) },
			func() error { return r.wait(ctx) },
		)
	}},
	// Verified, asked, the applicant silent: the request expires.
	{"expired-unanswered", "acc_00000000000000000000000d", access.Expired, func(ctx context.Context, r *runner) error {
		return r.steps(
			func() error { return r.start(ctx, newInput(r.id, false)) },
			func() error { return r.update(ctx, access.UpdateVerify, access.VerifyInput{}) },
			func() error {
				return r.update(ctx, access.UpdateAsk, access.AskInput{By: admin, Question: "Which fiches do you follow?"})
			},
			func() error { return r.wait(ctx) },
		)
	}},
}

// runner drives one access-request workflow.
type runner struct {
	c      client.Client
	id     string
	runID  string
	out    access.Output
	events int
}

func (r *runner) steps(steps ...func() error) error {
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

// start starts the workflow as the intake does.
func (r *runner) start(ctx context.Context, in access.Input) error {
	run, err := r.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: access.WorkflowID(r.id), TaskQueue: access.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, StaticSummary: access.Summary(in.Request.Application),
		TypedSearchAttributes: temporal.NewSearchAttributes(request.RequestKindKey.ValueSet(access.KindAccess),
			request.RequestStatusKey.ValueSet(string(in.Request.Status)))},
		access.WorkflowType, in)
	if err != nil {
		return err
	}
	r.runID = run.GetRunID()
	return nil
}

func (r *runner) update(ctx context.Context, name string, in any) error {
	var res access.Request
	return recording.Update(ctx, r.c, access.WorkflowID(r.id), r.runID, name, in, &res)
}

// wait waits for the workflow to end.
func (r *runner) wait(ctx context.Context) error {
	return r.c.GetWorkflow(ctx, access.WorkflowID(r.id), r.runID).Get(ctx, &r.out)
}

// save writes the workflow's history as the Temporal CLI exports it.
func (r *runner) save(ctx context.Context, path string) error {
	n, err := recording.SaveHistory(ctx, r.c, access.WorkflowID(r.id), r.runID, path)
	r.events = n
	return err
}

// memoryIntake keeps the access requests' records and notices in memory, as the intake
// does: a record never overwrites one of a later Seq, a notice is sent once per key, and a
// provisioned person is the same person again.
type memoryIntake struct {
	mu   sync.Mutex
	recs map[string][]access.Request
	sent map[string][]string
	keys map[string]bool
	subs map[string]string
}

func (m *memoryIntake) RecordAccess(_ context.Context, r access.Request) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.recs == nil {
		m.recs = map[string][]access.Request{}
	}
	if prev := m.recs[r.ID]; len(prev) > 0 && prev[len(prev)-1].Seq >= r.Seq {
		return nil
	}
	m.recs[r.ID] = append(m.recs[r.ID], r)
	return nil
}

func (m *memoryIntake) NotifyAccess(_ context.Context, id, notice, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil {
		m.keys, m.sent = map[string]bool{}, map[string][]string{}
	}
	if m.keys[key] {
		return nil
	}
	m.keys[key] = true
	m.sent[id] = append(m.sent[id], notice)
	return nil
}

func (m *memoryIntake) ProvisionPerson(_ context.Context, id, _ string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.subs == nil {
		m.subs = map[string]string{}
	}
	if sub, ok := m.subs[id]; ok {
		return sub, nil
	}
	m.subs[id] = access.PersonSub(id)
	return m.subs[id], nil
}

func (m *memoryIntake) records(id string) []access.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.recs[id])
}

func (m *memoryIntake) notices(id string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.sent[id])
}

// fakeGraph stands for the Teams activities the workflow calls, under their names
// (teams.Activities' InviteGuest and AssignAppRole): Entra invites every guest and has
// every platform role.
type fakeGraph struct{}

func (fakeGraph) InviteGuest(context.Context, teams.InviteGuestInput) (teams.InviteGuestOutput, error) {
	return teams.InviteGuestOutput{UserID: "00000000-0000-4000-8000-000000000001", Invited: true}, nil
}

func (fakeGraph) AssignAppRole(_ context.Context, in teams.AssignAppRoleInput) (teams.AssignAppRoleOutput, error) {
	if !slices.Contains(access.Roles, in.Role) {
		return teams.AssignAppRoleOutput{}, temporal.NewNonRetryableApplicationError("unknown role "+in.Role, teams.ErrTypeRejected, nil)
	}
	return teams.AssignAppRoleOutput{AppRoleID: "00000000-0000-4000-8000-0000000000a1"}, nil
}
