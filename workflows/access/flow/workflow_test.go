package flow

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/activities/intake"
	"github.com/plateforme-rome/rome/activities/teams"
	"github.com/plateforme-rome/rome/workflows/access"
	"github.com/plateforme-rome/rome/workflows/request"
)

// harness runs one access request in the test environment, the intake and Graph faked:
// it keeps what was recorded, notified, provisioned, invited and assigned.
type harness struct {
	mu       sync.Mutex // the activities run on goroutines of their own
	t        *testing.T
	env      *testsuite.TestWorkflowEnvironment
	records  []access.Request
	notices  []intake.NotifyAccessInput
	people   []intake.ProvisionPersonInput
	invites  []teams.InviteGuestInput
	assigned []teams.AssignAppRoleInput
	down     int // calls to the intake that fail before the first success
}

const testID = "acc_0123456789abcdef01234567"

func newHarness(t *testing.T) *harness {
	var suite testsuite.WorkflowTestSuite
	h := &harness{t: t, env: suite.NewTestWorkflowEnvironment()}
	env := h.env
	env.SetStartTime(submittedAt)
	env.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: access.WorkflowType})
	env.RegisterActivity(&intake.AccessActivities{})
	env.RegisterActivity(&teams.Activities{})
	outage := func() error { // called with h.mu held
		if h.down > 0 {
			h.down--
			return temporal.NewApplicationError("intake: HTTP 503", "Unavailable")
		}
		return nil
	}
	env.OnActivity(intakeActs.RecordAccess, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in intake.RecordAccessInput) (intake.RecordAccessOutput, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			if err := outage(); err != nil {
				return intake.RecordAccessOutput{}, err
			}
			h.records = append(h.records, in.Request)
			return intake.RecordAccessOutput{}, nil
		})
	env.OnActivity(intakeActs.NotifyAccess, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in intake.NotifyAccessInput) (intake.NotifyAccessOutput, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.notices = append(h.notices, in)
			return intake.NotifyAccessOutput{}, nil
		})
	env.OnActivity(intakeActs.ProvisionPerson, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in intake.ProvisionPersonInput) (intake.ProvisionPersonOutput, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.people = append(h.people, in)
			return intake.ProvisionPersonOutput{Sub: access.PersonSub(in.ID)}, nil
		})
	env.OnActivity(teamsActs.InviteGuest, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in teams.InviteGuestInput) (teams.InviteGuestOutput, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.invites = append(h.invites, in)
			return teams.InviteGuestOutput{UserID: "oid-guest-1"}, nil
		})
	env.OnActivity(teamsActs.AssignAppRole, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in teams.AssignAppRoleInput) (teams.AssignAppRoleOutput, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.assigned = append(h.assigned, in)
			return teams.AssignAppRoleOutput{}, nil
		})
	return h
}

// submittedAt is when the test's request was sent, and its workflow started.
var submittedAt = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

func input(invite bool) access.Input {
	now := submittedAt
	return access.Input{InviteGuests: invite, Request: access.Request{ID: testID, Status: access.AwaitingVerification,
		Application: access.Application{Name: "Claire Dubois", Email: "claire.dubois@opco-sante.fr", OrgName: "OPCO Santé",
			OrgKind: "opco", Position: "Chargée de mission emploi", Domains: []string{"J"}, Motivation: "Les fiches du soin évoluent."},
		Messages: []access.Message{}, CreatedAt: now, UpdatedAt: now}}
}

// update sends an update after delay and checks its outcome: the status it leaves, or the
// rejection kind it gets.
func (h *harness) update(delay time.Duration, name string, arg any, want access.Status, wantErr string) {
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(name, name+"-"+delay.String(), &testsuite.TestUpdateCallback{
			OnReject: func(err error) {
				r, ok := request.AsRejection(err)
				if wantErr == "" || !ok || r.Kind != wantErr {
					h.t.Errorf("%s after %s: rejected %v, want %q", name, delay, err, wantErr)
				}
			},
			OnAccept: func() {
				if wantErr != "" {
					h.t.Errorf("%s after %s: accepted, want %s", name, delay, wantErr)
				}
			},
			OnComplete: func(res any, err error) {
				if wantErr != "" {
					return
				}
				r, ok := res.(access.Request)
				if err != nil || !ok || r.Status != want {
					h.t.Errorf("%s after %s: %+v %v, want status %s", name, delay, res, err, want)
				}
			},
		}, arg)
	}, delay)
}

func (h *harness) run(in access.Input) access.Output {
	h.env.ExecuteWorkflow(access.WorkflowType, in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("the workflow did not complete")
	}
	var out access.Output
	if err := h.env.GetWorkflowResult(&out); err != nil {
		h.t.Fatal(err)
	}
	return out
}

// noticeKinds are the notices sent, sorted: those sent at once (the admins' and the
// applicant's after a verification) go in either order.
func (h *harness) noticeKinds() []string {
	var out []string
	for _, n := range h.notices {
		out = append(out, n.Notice)
	}
	slices.Sort(out)
	return out
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

func (h *harness) statuses() []access.Status {
	var out []access.Status
	for _, r := range h.records {
		if len(out) == 0 || out[len(out)-1] != r.Status {
			out = append(out, r.Status)
		}
	}
	return out
}

func TestApprovedAfterAQuestion(t *testing.T) {
	h := newHarness(t)
	h.down = 2 // the intake is down at first: the submission is recorded once it is back
	h.update(time.Hour, access.UpdateApprove, access.ApproveInput{By: "admin-1", Org: "opco-sante", Role: "partner"}, "", access.ErrInvalidTransition)
	h.update(2*time.Hour, access.UpdateVerify, access.VerifyInput{}, access.AwaitingReview, "")
	h.update(3*time.Hour, access.UpdateAsk, access.AskInput{By: "admin-1", Question: "Quel périmètre ?"}, access.AwaitingApplicant, "")
	h.update(4*time.Hour, access.UpdateAnswer, access.AnswerInput{Text: "Les métiers du soin."}, access.AwaitingReview, "")
	h.update(5*time.Hour, access.UpdateApprove, access.ApproveInput{By: "admin-1", Org: "opco-sante", Role: "chief"}, "", access.ErrInvalidInput)
	h.update(6*time.Hour, access.UpdateApprove, access.ApproveInput{By: "admin-1", Org: "opco-sante", Role: "partner"}, access.Approved, "")
	out := h.run(input(true))

	if want := []access.Status{access.AwaitingVerification, access.AwaitingReview, access.AwaitingApplicant,
		access.AwaitingReview, access.Approved}; !slices.Equal(h.statuses(), want) {
		t.Errorf("recorded statuses %v, want %v", h.statuses(), want)
	}
	for i, r := range h.records {
		if r.Seq != i+1 {
			t.Errorf("record %d has seq %d", i, r.Seq)
		}
	}
	if want := sorted(access.NoticeVerify, access.NoticeReceived, access.NoticeToReview, access.NoticeQuestion, access.NoticeToReview, access.NoticeApproved); !slices.Equal(h.noticeKinds(), want) {
		t.Errorf("notices %v, want %v", h.noticeKinds(), want)
	}
	if len(h.invites) != 1 || h.invites[0].Email != "claire.dubois@opco-sante.fr" || h.invites[0].Name != "Claire Dubois" {
		t.Errorf("invitations %+v", h.invites)
	}
	if len(h.people) != 1 || h.people[0] != (intake.ProvisionPersonInput{ID: testID, EntraID: "oid-guest-1"}) {
		t.Errorf("provisioned %+v", h.people)
	}
	if len(h.assigned) != 1 || h.assigned[0] != (teams.AssignAppRoleInput{UserID: "oid-guest-1", Role: "partner"}) {
		t.Errorf("assigned %+v", h.assigned)
	}
	r := out.Request
	if r.Status != access.Approved || r.PersonSub != access.PersonSub(testID) || r.Decision == nil || r.Decision.Org != "opco-sante" ||
		r.Decision.Role != "partner" || r.VerifiedAt == nil || r.ExpiresAt != nil || len(r.Messages) != 2 ||
		r.Messages[0].From != access.FromTeam || r.Messages[1].From != access.FromApplicant {
		t.Errorf("final request %+v", r)
	}
	last := h.records[len(h.records)-1]
	if last.PersonSub != r.PersonSub || last.Seq != r.Seq {
		t.Errorf("the last record %+v is not the final state", last)
	}
	keys := map[string]bool{}
	for _, n := range h.notices {
		if keys[n.Key] {
			t.Errorf("notice key %s used twice", n.Key)
		}
		keys[n.Key] = true
	}
}

func TestApprovedWithoutEntra(t *testing.T) {
	h := newHarness(t)
	h.update(time.Minute, access.UpdateVerify, access.VerifyInput{}, access.AwaitingReview, "")
	h.update(time.Hour, access.UpdateApprove, access.ApproveInput{By: "admin-1", Org: "opco-sante", Role: "moderator"}, access.Approved, "")
	out := h.run(input(false))
	if len(h.invites) != 0 || len(h.assigned) != 0 {
		t.Errorf("Graph called without Entra: %+v %+v", h.invites, h.assigned)
	}
	if len(h.people) != 1 || h.people[0].EntraID != "" || out.Request.PersonSub == "" {
		t.Errorf("provisioned %+v, request %+v", h.people, out.Request)
	}
}

func TestUnverifiedRequestExpires(t *testing.T) {
	h := newHarness(t)
	h.update(time.Hour, access.UpdateResend, access.ResendInput{}, access.AwaitingVerification, "")
	out := h.run(input(false))
	if out.Request.Status != access.Expired {
		t.Fatalf("status %s, want EXPIRED", out.Request.Status)
	}
	if elapsed := h.env.Now().Sub(out.Request.CreatedAt); elapsed < access.DefaultVerification || elapsed > access.DefaultVerification+time.Minute {
		t.Errorf("expired after %s, want %s", elapsed, access.DefaultVerification)
	}
	if want := sorted(access.NoticeVerify, access.NoticeVerify, access.NoticeExpired); !slices.Equal(h.noticeKinds(), want) {
		t.Errorf("notices %v, want %v", h.noticeKinds(), want)
	}
	if len(h.people) != 0 {
		t.Errorf("an expired request provisioned %+v", h.people)
	}
}

func TestSilentApplicantExpiresAndRejection(t *testing.T) {
	t.Run("silent applicant", func(t *testing.T) {
		h := newHarness(t)
		h.update(time.Hour, access.UpdateVerify, access.VerifyInput{}, access.AwaitingReview, "")
		h.update(2*time.Hour, access.UpdateAsk, access.AskInput{By: "admin-1", Question: "Votre organisation ?"}, access.AwaitingApplicant, "")
		in := input(false)
		in.Timers.Applicant = 48 * time.Hour
		out := h.run(in)
		if out.Request.Status != access.Expired || h.env.Now().Sub(out.Request.CreatedAt) < 50*time.Hour {
			t.Errorf("status %s after %s", out.Request.Status, h.env.Now().Sub(out.Request.CreatedAt))
		}
	})
	t.Run("rejected", func(t *testing.T) {
		h := newHarness(t)
		h.update(time.Hour, access.UpdateVerify, access.VerifyInput{}, access.AwaitingReview, "")
		h.update(2*time.Hour, access.UpdateReject, access.RejectInput{By: "admin-1", Reason: ""}, "", access.ErrInvalidInput)
		h.update(3*time.Hour, access.UpdateReject, access.RejectInput{By: "admin-1", Reason: "Organisation hors champ."}, access.Rejected, "")
		out := h.run(input(false))
		if out.Request.Decision == nil || out.Request.Decision.Reason != "Organisation hors champ." || len(h.people) != 0 {
			t.Errorf("request %+v, people %+v", out.Request, h.people)
		}
		if want := sorted(access.NoticeVerify, access.NoticeReceived, access.NoticeToReview, access.NoticeRejected); !slices.Equal(h.noticeKinds(), want) {
			t.Errorf("notices %v, want %v", h.noticeKinds(), want)
		}
	})
}
