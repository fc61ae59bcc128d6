package releaseschedule

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/plateforme-rome/rome/workflows/release"
)

// fakeSchedules stands for Temporal's schedules: existing, when set, is the schedule
// already there.
type fakeSchedules struct {
	existing  *fakeHandle
	createErr error
	created   []client.ScheduleOptions
	handles   []string
}

func (f *fakeSchedules) Create(_ context.Context, o client.ScheduleOptions) (client.ScheduleHandle, error) {
	f.created = append(f.created, o)
	if f.existing != nil {
		return nil, temporal.ErrScheduleAlreadyRunning
	}
	return nil, f.createErr
}

func (f *fakeSchedules) GetHandle(_ context.Context, id string) client.ScheduleHandle {
	f.handles = append(f.handles, id)
	return f.existing
}

// fakeHandle applies an update to its schedule; its other methods are not used.
type fakeHandle struct {
	client.ScheduleHandle
	schedule client.Schedule
	updates  int
}

func (h *fakeHandle) Update(_ context.Context, o client.ScheduleUpdateOptions) error {
	u, err := o.DoUpdate(client.ScheduleUpdateInput{Description: client.ScheduleDescription{Schedule: h.schedule}})
	if err != nil {
		return err
	}
	h.schedule, h.updates = *u.Schedule, h.updates+1
	return nil
}

const cron = "0 6 1 1,5,9 *"

func wantAction(t *testing.T, a client.ScheduleAction, taskQueue string) {
	t.Helper()
	w, ok := a.(*client.ScheduleWorkflowAction)
	if !ok || w.Workflow != release.WorkflowType || w.TaskQueue != taskQueue || w.ID != release.ScheduleID ||
		len(w.Args) != 1 || w.Args[0] != (release.Input{}) {
		t.Errorf("action %+v", a)
	}
}

func TestCreatesTheSchedule(t *testing.T) {
	t.Parallel()
	f := &fakeSchedules{}
	if err := Ensure(t.Context(), f, cron, "rome-requests", slog.Default()); err != nil {
		t.Fatal(err)
	}
	if len(f.created) != 1 || len(f.handles) != 0 {
		t.Fatalf("%d creations, %d handles", len(f.created), len(f.handles))
	}
	o := f.created[0]
	if o.ID != release.ScheduleID || len(o.Spec.CronExpressions) != 1 || o.Spec.CronExpressions[0] != cron ||
		o.Overlap != enumspb.SCHEDULE_OVERLAP_POLICY_SKIP {
		t.Errorf("schedule %+v", o)
	}
	wantAction(t, o.Action, "rome-requests")
}

// An existing schedule takes the new spec, action and overlap policy, and stays paused if
// ops paused it.
func TestUpdatesTheExistingSchedule(t *testing.T) {
	t.Parallel()
	old := client.ScheduleSpec{CronExpressions: []string{"0 6 1 * *"}}
	h := &fakeHandle{schedule: client.Schedule{Spec: &old, Action: &client.ScheduleWorkflowAction{Workflow: release.WorkflowType, TaskQueue: "old"},
		Policy: &client.SchedulePolicies{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL, PauseOnFailure: true},
		State:  &client.ScheduleState{Paused: true, Note: "paused by ops"}}}
	f := &fakeSchedules{existing: h}
	if err := Ensure(t.Context(), f, cron, "rome-requests-2", slog.Default()); err != nil {
		t.Fatal(err)
	}
	if h.updates != 1 || len(f.handles) != 1 || f.handles[0] != release.ScheduleID {
		t.Fatalf("%d updates through handles %q", h.updates, f.handles)
	}
	s := h.schedule
	if len(s.Spec.CronExpressions) != 1 || s.Spec.CronExpressions[0] != cron {
		t.Errorf("spec %+v", s.Spec)
	}
	wantAction(t, s.Action, "rome-requests-2")
	if s.Policy.Overlap != enumspb.SCHEDULE_OVERLAP_POLICY_SKIP || !s.Policy.PauseOnFailure || !s.State.Paused || s.State.Note != "paused by ops" {
		t.Errorf("policy %+v, state %+v", s.Policy, s.State)
	}
}

func TestLeavesTheScheduleAloneWhenUnset(t *testing.T) {
	t.Parallel()
	f := &fakeSchedules{existing: &fakeHandle{}}
	if err := Ensure(t.Context(), f, "", "rome-requests", slog.Default()); err != nil {
		t.Fatal(err)
	}
	if len(f.created) != 0 || len(f.handles) != 0 || f.existing.updates != 0 {
		t.Errorf("touched the schedules: %d creations, %d handles, %d updates", len(f.created), len(f.handles), f.existing.updates)
	}
}

func TestRefusedSchedule(t *testing.T) {
	t.Parallel()
	f := &fakeSchedules{createErr: errors.New("invalid cron string")}
	err := Ensure(t.Context(), f, "0 6 1 13 *", "rome-requests", slog.Default())
	if err == nil || !strings.Contains(err.Error(), "RELEASE_SCHEDULE") || !strings.Contains(err.Error(), "invalid cron string") {
		t.Errorf("error %v, want one naming RELEASE_SCHEDULE and Temporal's reason", err)
	}
}
