// Package referential holds the activities that talk to the referential service: the dry
// run of a request's operations and the publication of its accepted change set.
package referential

import (
	"context"

	"go.temporal.io/sdk/temporal"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/temporalx"
)

// Activities call the referential through its client (which carries a service token).
type Activities struct {
	Client *refclient.Client
}

// ValidateInput is a change set to dry-run.
type ValidateInput struct {
	ChangeSet refclient.ChangeSet `json:"changeSet"`
}

// ValidateOutput is the referential's verdict on every operation.
type ValidateOutput struct {
	Validation refclient.Validation `json:"validation"`
}

// ValidateChangeSet dry-runs a change set on the current referential version. The fiche
// documents are left out: the checks need the verdicts, and the output is kept in the
// workflow's history.
func (a *Activities) ValidateChangeSet(ctx context.Context, in ValidateInput) (ValidateOutput, error) {
	v, err := a.Client.Check(ctx, in.ChangeSet)
	if err != nil {
		return ValidateOutput{}, classify(err)
	}
	return ValidateOutput{Validation: *v}, nil
}

// PublishInput is an accepted change set. Its id is derived from the request, so a retry
// of this activity publishes at most once.
type PublishInput struct {
	ChangeSet refclient.ChangeSet `json:"changeSet"`
}

// PublishOutput is the new referential version.
type PublishOutput struct {
	Publication refclient.Publication `json:"publication"`
}

// PublishChangeSet publishes a change set. A conflict (an operation no longer applies)
// is a non-retryable ErrTypeConflict whose details are the per-operation results.
func (a *Activities) PublishChangeSet(ctx context.Context, in PublishInput) (PublishOutput, error) {
	p, err := a.Client.Publish(ctx, in.ChangeSet)
	if err != nil {
		return PublishOutput{}, classify(err)
	}
	return PublishOutput{Publication: *p}, nil
}

// Application error types the workflow branches on.
const (
	ErrTypeConflict = "ChangeSetConflict" // details: []refclient.Result
	ErrTypeRejected = "ReferentialRejected"
)

// classify makes a conflict a non-retryable ErrTypeConflict carrying the per-operation
// results; the rest is temporalx.ActivityError.
func classify(err error) error {
	if results, ok := refclient.ConflictResults(err); ok {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeConflict, err, results)
	}
	return temporalx.ActivityError(err, ErrTypeRejected)
}
