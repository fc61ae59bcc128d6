package temporalwf

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/plateforme-rome/rome/services/intake/internal/app"
	"github.com/plateforme-rome/rome/workflows/request"
)

func TestClassifyUpdateError(t *testing.T) {
	u := app.Update{RequestID: "r1", Name: request.UpdateAssign}
	rejection := request.Reject(request.ErrInvalidTransition, request.StatusInReview, "", "no")
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"completed workflow", serviceerror.NewNotFound("workflow execution already completed"), app.ErrWorkflowClosed},
		{"Temporal down", serviceerror.NewUnavailable("connection refused"), app.ErrWorkflowUnavailable},
		{"Temporal slow", serviceerror.NewDeadlineExceeded("deadline"), app.ErrWorkflowUnavailable},
		{"no worker answered in time", client.NewWorkflowUpdateServiceTimeoutOrCanceledError(errors.New("deadline")), app.ErrWorkflowUnavailable},
		{"caller deadline", fmt.Errorf("poll: %w", context.DeadlineExceeded), app.ErrWorkflowUnavailable},
	}
	for _, tc := range cases {
		if got := classifyUpdateError(u.Name, request.WorkflowID(u.RequestID), tc.err); !errors.Is(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := classifyUpdateError(u.Name, request.WorkflowID(u.RequestID), rejection); got != rejection {
		t.Errorf("a refusal must stay as it is: %v", got)
	}
	if rej, ok := request.AsRejection(classifyUpdateError(u.Name, request.WorkflowID(u.RequestID), rejection)); !ok || rej.Status != request.StatusInReview {
		t.Errorf("refusal lost: %+v", rej)
	}
	other := errors.New("handler panicked")
	if got := classifyUpdateError(u.Name, request.WorkflowID(u.RequestID), other); errors.Is(got, app.ErrWorkflowClosed) || errors.Is(got, app.ErrWorkflowUnavailable) || !errors.Is(got, other) {
		t.Errorf("an unexpected failure must stay one: %v", got)
	}
	if classifyUpdateError(u.Name, request.WorkflowID(u.RequestID), nil) != nil {
		t.Error("success classified as an error")
	}
}
