// Package referential holds the activities that talk to the referential service: the dry
// run of a request's operations, the publication of its accepted change set and, under
// release trains, the cutting of a release.
package referential

import (
	"context"
	"errors"
	"net/http"

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

// FreezeInput asks to freeze the open release.
type FreezeInput struct{}

// ReleaseInput names a release.
type ReleaseInput struct {
	Number int `json:"number"`
}

// ReleaseOutput is a release as the referential answered.
type ReleaseOutput struct {
	Release refclient.Release `json:"release"`
}

// FreezeRelease freezes the open release (change sets staged from then on go to the next
// one), or returns the release frozen and not yet published, for a release workflow that
// runs again to resume it. Nothing staged is a non-retryable ErrTypeReleaseEmpty; a
// referential that publishes at once, ErrTypeReleaseTrainsOff.
func (a *Activities) FreezeRelease(ctx context.Context, _ FreezeInput) (ReleaseOutput, error) {
	return releaseOutput(a.Client.FreezeRelease(ctx))
}

// ValidateRelease re-validates the change sets of a frozen release together: those that
// no longer apply are returned, with their results.
func (a *Activities) ValidateRelease(ctx context.Context, in ReleaseInput) (ReleaseOutput, error) {
	return releaseOutput(a.Client.ValidateRelease(ctx, in.Number))
}

// PublishRelease publishes the included change sets of a release as one version;
// publishing it again answers it as it is.
func (a *Activities) PublishRelease(ctx context.Context, in ReleaseInput) (ReleaseOutput, error) {
	return releaseOutput(a.Client.PublishRelease(ctx, in.Number))
}

func releaseOutput(r *refclient.Release, err error) (ReleaseOutput, error) {
	if err != nil {
		return ReleaseOutput{}, classify(err)
	}
	return ReleaseOutput{Release: *r}, nil
}

// Application error types the workflows branch on.
const (
	ErrTypeConflict         = "ChangeSetConflict" // details: []refclient.Result
	ErrTypeRejected         = "ReferentialRejected"
	ErrTypeReleaseEmpty     = "ReleaseEmpty"     // nothing is staged: no release to cut
	ErrTypeReleaseTrainsOff = "ReleaseTrainsOff" // the referential publishes every change set at once
)

// releaseRefusals are the error types of the release routes' 409s, by the referential's code.
var releaseRefusals = map[string]string{
	refclient.CodeReleaseEmpty:     ErrTypeReleaseEmpty,
	refclient.CodeReleaseTrainsOff: ErrTypeReleaseTrainsOff,
}

// classify makes a conflict a non-retryable ErrTypeConflict carrying the per-operation
// results, and a release route's 409 its non-retryable type; the rest is
// temporalx.ActivityError.
func classify(err error) error {
	if results, ok := refclient.ConflictResults(err); ok {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeConflict, err, results)
	}
	var refErr *refclient.Error
	if errors.As(err, &refErr) && refErr.Status == http.StatusConflict && releaseRefusals[refErr.Code] != "" {
		return temporal.NewNonRetryableApplicationError(err.Error(), releaseRefusals[refErr.Code], err)
	}
	return temporalx.ActivityError(err, ErrTypeRejected)
}
