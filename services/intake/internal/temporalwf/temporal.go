// Package temporalwf runs the request and release workflows on Temporal for the intake's
// use cases (app.Workflows).
package temporalwf

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/plateforme-rome/rome/services/intake/internal/app"
	"github.com/plateforme-rome/rome/workflows/access"
	"github.com/plateforme-rome/rome/workflows/release"
	"github.com/plateforme-rome/rome/workflows/request"
)

// TemporalWorkflows runs the request workflows, and the release workflows on the same task
// queue, on Temporal.
type TemporalWorkflows struct {
	Client    client.Client
	TaskQueue string
}

// Start implements app.Workflows. The workflow id is derived from the request id and a closed
// workflow's id is never reused, so a retry can neither duplicate nor restart a request.
// The search attributes are set from the start, so the request is found in the Temporal
// UI before its workflow first runs.
func (t *TemporalWorkflows) Start(ctx context.Context, in request.Input) error {
	r := in.Request
	_, err := t.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       request.WorkflowID(r.ID),
		TaskQueue:                                t.TaskQueue,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes:                    request.StartSearchAttributes(r),
		StaticSummary:                            request.Summary(r),
	}, request.WorkflowType, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err == nil || errors.As(err, &started) {
		return nil
	}
	return fmt.Errorf("%w: start %s: %w", app.ErrWorkflowUnavailable, request.WorkflowID(r.ID), err)
}

// Update implements app.Workflows.
func (t *TemporalWorkflows) Update(ctx context.Context, u app.Update) (request.UpdateResult, error) {
	var res request.UpdateResult
	h, err := t.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID:     u.ID,
		WorkflowID:   request.WorkflowID(u.RequestID),
		UpdateName:   u.Name,
		Args:         []any{u.Arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, &res)
	}
	return res, classifyUpdateError(u.Name, request.WorkflowID(u.RequestID), err)
}

// classifyUpdateError keeps the workflow's refusals as they are and sorts the rest into
// what the handlers answer: the workflow is gone (completed: Temporal says "not found"),
// or Temporal is out of reach or too slow.
func classifyUpdateError(name, workflowID string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := request.AsRejection(err); ok {
		return err
	}
	var (
		notFound    *serviceerror.NotFound
		unavailable *serviceerror.Unavailable
		deadline    *serviceerror.DeadlineExceeded
		timeout     *client.WorkflowUpdateServiceTimeoutOrCanceledError
	)
	switch {
	case errors.As(err, &notFound):
		return fmt.Errorf("%w: update %s of %s: %w", app.ErrWorkflowClosed, name, workflowID, err)
	case errors.As(err, &unavailable), errors.As(err, &deadline), errors.As(err, &timeout),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: update %s of %s: %w", app.ErrWorkflowUnavailable, name, workflowID, err)
	}
	return fmt.Errorf("update %s of %s: %w", name, workflowID, err)
}

// Signal implements app.Workflows.
func (t *TemporalWorkflows) Signal(ctx context.Context, requestID, name string, arg any) error {
	err := t.Client.SignalWorkflow(ctx, request.WorkflowID(requestID), "", name, arg)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return app.ErrWorkflowClosed
	}
	if err != nil {
		return fmt.Errorf("%w: signal %s: %w", app.ErrWorkflowUnavailable, request.WorkflowID(requestID), err)
	}
	return nil
}

// StartRelease implements app.Workflows. While the workflow of release n runs, starting it
// again returns it; once it has closed, it may run again (its steps are idempotent: a
// release left frozen is resumed).
func (t *TemporalWorkflows) StartRelease(ctx context.Context, n int) error {
	_, err := t.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       release.WorkflowID(n),
		TaskQueue:                t.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:            fmt.Sprintf("Cut release %d, asked by an admin", n),
	}, release.WorkflowType, release.Input{Release: n})
	if err != nil {
		return fmt.Errorf("%w: start %s: %w", app.ErrWorkflowUnavailable, release.WorkflowID(n), err)
	}
	return nil
}

// StartAccess implements accessreq.Workflows: one workflow per access request, found in the
// Temporal UI by its kind and status from the start.
func (t *TemporalWorkflows) StartAccess(ctx context.Context, in access.Input) error {
	r := in.Request
	_, err := t.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       access.WorkflowID(r.ID),
		TaskQueue:                                t.TaskQueue,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		StaticSummary:                            access.Summary(r.Application),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			request.RequestKindKey.ValueSet(access.KindAccess),
			request.RequestStatusKey.ValueSet(string(r.Status))),
	}, access.WorkflowType, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err == nil || errors.As(err, &started) {
		return nil
	}
	return fmt.Errorf("%w: start %s: %w", app.ErrWorkflowUnavailable, access.WorkflowID(r.ID), err)
}

// UpdateAccess implements accessreq.Workflows; its errors are sorted as Update's.
func (t *TemporalWorkflows) UpdateAccess(ctx context.Context, id, name, updateID string, arg any) (access.Request, error) {
	var res access.Request
	h, err := t.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID:     updateID,
		WorkflowID:   access.WorkflowID(id),
		UpdateName:   name,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, &res)
	}
	return res, classifyUpdateError(name, access.WorkflowID(id), err)
}
