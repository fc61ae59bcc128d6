// Package releaseschedule keeps the Temporal Schedule that cuts the referential's release
// trains (release.ScheduleID) in line with the worker's RELEASE_SCHEDULE.
package releaseschedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/plateforme-rome/rome/workflows/release"
)

// Schedules is what Ensure needs of the SDK's client.ScheduleClient.
type Schedules interface {
	Create(ctx context.Context, options client.ScheduleOptions) (client.ScheduleHandle, error)
	GetHandle(ctx context.Context, scheduleID string) client.ScheduleHandle
}

// Ensure makes the release-train schedule start the release workflow on taskQueue at the
// times of cron (a cron expression as Temporal reads it, e.g. "0 6 1 1,5,9 *": 6:00 UTC on
// the first of January, May and September), a run being skipped while the previous one
// still runs. It creates the schedule, or gives the existing one that spec and action,
// keeping its state (paused or not). An empty cron leaves an existing schedule as it is:
// ops may have made it by hand.
func Ensure(ctx context.Context, schedules Schedules, cron, taskQueue string, log *slog.Logger) error {
	log = log.With("scheduleId", release.ScheduleID, "cron", cron)
	if cron == "" {
		log.InfoContext(ctx, "RELEASE_SCHEDULE is unset: the release-train schedule, if there is one, is left as it is")
		return nil
	}
	spec := client.ScheduleSpec{CronExpressions: []string{cron}}
	action := &client.ScheduleWorkflowAction{ID: release.ScheduleID, Workflow: release.WorkflowType,
		Args: []any{release.Input{}}, TaskQueue: taskQueue, StaticSummary: "Cut the open release, on schedule"}
	_, err := schedules.Create(ctx, client.ScheduleOptions{ID: release.ScheduleID, Spec: spec, Action: action,
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, Note: "Cuts the open release (the worker's RELEASE_SCHEDULE)"})
	switch {
	case err == nil:
		log.InfoContext(ctx, "release-train schedule created")
		return nil
	case !errors.Is(err, temporal.ErrScheduleAlreadyRunning):
		return fmt.Errorf("RELEASE_SCHEDULE=%q: schedule %s not created: %w", cron, release.ScheduleID, err)
	}
	err = schedules.GetHandle(ctx, release.ScheduleID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			s.Spec, s.Action = &spec, action
			policy := client.SchedulePolicies{}
			if s.Policy != nil {
				policy = *s.Policy
			}
			policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
			s.Policy = &policy
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("RELEASE_SCHEDULE=%q: schedule %s not updated: %w", cron, release.ScheduleID, err)
	}
	log.InfoContext(ctx, "release-train schedule updated")
	return nil
}
