package intake

import (
	"context"

	"github.com/plateforme-rome/rome/workflows/access"
)

// AccessAPI is the intake's internal interface the access-request workflow uses
// (implemented over HTTP by the intake's client package; faked in tests).
type AccessAPI interface {
	// RecordAccess stores the request's state in the intake's projection, unless a record
	// of a later Seq is already there.
	RecordAccess(ctx context.Context, r access.Request) error
	// NotifyAccess has the intake write and send a notice about request id; key makes it
	// idempotent (the same key twice sends one e-mail).
	NotifyAccess(ctx context.Context, id, notice, key string) error
	// ProvisionPerson records the approved applicant of request id in the directory (under
	// access.PersonSub(id), with entraID when they were invited) and returns their subject;
	// again, it returns the same person.
	ProvisionPerson(ctx context.Context, id, entraID string) (string, error)
}

// AccessActivities are the access-request workflow's calls to the intake, registered on
// the worker. Every error is left to the retry policy, as for Activities.
type AccessActivities struct {
	Intake AccessAPI
}

// RecordAccessInput is an access request's state to record.
type RecordAccessInput struct {
	Request access.Request `json:"request"`
}

// RecordAccessOutput is empty: recording either happened or will be retried.
type RecordAccessOutput struct{}

// RecordAccess records an access request's state, idempotently.
func (a *AccessActivities) RecordAccess(ctx context.Context, in RecordAccessInput) (RecordAccessOutput, error) {
	return RecordAccessOutput{}, a.Intake.RecordAccess(ctx, in.Request)
}

// NotifyAccessInput names the notice (access.Notice*) to send about a request; Key is the
// notice's idempotency key.
type NotifyAccessInput struct {
	ID     string `json:"id"`
	Notice string `json:"notice"`
	Key    string `json:"key"`
}

// NotifyAccessOutput is empty.
type NotifyAccessOutput struct{}

// NotifyAccess sends a notice about an access request, once per key.
func (a *AccessActivities) NotifyAccess(ctx context.Context, in NotifyAccessInput) (NotifyAccessOutput, error) {
	return NotifyAccessOutput{}, a.Intake.NotifyAccess(ctx, in.ID, in.Notice, in.Key)
}

// ProvisionPersonInput names the approved request and the Entra object id of its guest
// (empty without Entra).
type ProvisionPersonInput struct {
	ID      string `json:"id"`
	EntraID string `json:"entraId,omitempty"`
}

// ProvisionPersonOutput is the person's subject in the directory.
type ProvisionPersonOutput struct {
	Sub string `json:"sub"`
}

// ProvisionPerson records an approved applicant in the directory, idempotently.
func (a *AccessActivities) ProvisionPerson(ctx context.Context, in ProvisionPersonInput) (ProvisionPersonOutput, error) {
	sub, err := a.Intake.ProvisionPerson(ctx, in.ID, in.EntraID)
	return ProvisionPersonOutput{Sub: sub}, err
}
