// Package intake holds the activities that write a request's history and projection, and
// look for overlapping requests, through the intake service that owns that data.
package intake

import (
	"context"

	"github.com/plateforme-rome/rome/workflows/request"
)

// API is the intake's internal interface the activities use (implemented over HTTP by the
// intake's client package; faked in tests).
type API interface {
	// RecordEvent appends an event to the request's history and updates its projection, in
	// one transaction; the same (request, seq) twice is stored once.
	RecordEvent(ctx context.Context, e request.Event) error
	// FindOverlaps lists the other open requests touching the same elements of a fiche.
	FindOverlaps(ctx context.Context, q request.OverlapQuery) ([]request.Overlap, error)
	// PickModerator gives a request to the next of the active moderators whose domains
	// cover domain, in turn ("" when none does); asked again for the same request, it
	// answers the same moderator.
	PickModerator(ctx context.Context, requestID, domain string) (string, error)
}

// Activities are registered on the worker. Every error is left to the retry policy, even
// a refusal: the history must be written, and a refused event is a defect that a fixed
// intake accepts on the next attempt, while the pending activity shows the error to ops.
type Activities struct {
	Intake API
}

// RecordEventInput is one history event.
type RecordEventInput struct {
	Event request.Event `json:"event"`
}

// RecordEventOutput is empty: recording either happened or will be retried.
type RecordEventOutput struct{}

// RecordEvent records one event of a request's history, idempotently.
func (a *Activities) RecordEvent(ctx context.Context, in RecordEventInput) (RecordEventOutput, error) {
	return RecordEventOutput{}, a.Intake.RecordEvent(ctx, in.Event)
}

// FindOverlapsInput asks for overlapping open requests.
type FindOverlapsInput struct {
	Query request.OverlapQuery `json:"query"`
}

// FindOverlapsOutput lists them.
type FindOverlapsOutput struct {
	Overlaps []request.Overlap `json:"overlaps"`
}

// FindOverlaps lists the other open requests touching the same elements of the fiche.
func (a *Activities) FindOverlaps(ctx context.Context, in FindOverlapsInput) (FindOverlapsOutput, error) {
	o, err := a.Intake.FindOverlaps(ctx, in.Query)
	return FindOverlapsOutput{Overlaps: o}, err
}

// PickModeratorInput names the request to assign and the domain its fiche is in.
type PickModeratorInput struct {
	RequestID string `json:"requestId"`
	Domain    string `json:"domain"`
}

// PickModeratorOutput is the moderator chosen; empty when no active moderator covers the
// domain.
type PickModeratorOutput struct {
	Moderator string `json:"moderator"`
}

// PickModerator chooses, in turn, the moderator of a request, idempotently.
func (a *Activities) PickModerator(ctx context.Context, in PickModeratorInput) (PickModeratorOutput, error) {
	m, err := a.Intake.PickModerator(ctx, in.RequestID, in.Domain)
	return PickModeratorOutput{Moderator: m}, err
}
