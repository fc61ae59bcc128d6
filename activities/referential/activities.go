// Package referential holds the activities that talk to the referential service: the dry
// run of a request's operations and the publication of its accepted change set.
package referential

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/plateforme-rome/rome/services/referential/client"
)

// Activities call the referential through its client (which carries a service token).
type Activities struct {
	Client *client.Client
}

// ValidateInput is a change set to dry-run.
type ValidateInput struct {
	ChangeSet client.ChangeSet `json:"changeSet"`
}

// ValidateOutput is the referential's verdict on every operation.
type ValidateOutput struct {
	Validation client.Validation `json:"validation"`
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
	ChangeSet client.ChangeSet `json:"changeSet"`
}

// PublishOutput is the new referential version.
type PublishOutput struct {
	Publication client.Publication `json:"publication"`
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
	ErrTypeConflict = "ChangeSetConflict" // details: []client.Result
	ErrTypeRejected = "ReferentialRejected"
)

// classify turns the referential's answers into Temporal errors: refusals are final,
// outages and overload are left to the retry policy (honouring Retry-After).
func classify(err error) error {
	var e *client.Error
	if !errors.As(err, &e) {
		return err // network errors: retry
	}
	switch {
	case e.Status == 409 && e.Code == "changeset_conflict":
		return temporal.NewNonRetryableApplicationError(e.Error(), ErrTypeConflict, err, e.Results)
	case e.Temporary():
		return temporal.NewApplicationErrorWithOptions(e.Error(), e.Code, temporal.ApplicationErrorOptions{Cause: err, NextRetryDelay: e.RetryAfter})
	}
	return temporal.NewNonRetryableApplicationError(e.Error(), ErrTypeRejected, err, e.Code)
}
