package app

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/workflows/release"
)

// ReleaseStarted is the answer to POST /v1/releases.
type ReleaseStarted struct {
	Release    int    `json:"release"`
	WorkflowID string `json:"workflowId"`
}

// CutRelease starts the workflow that cuts the referential's open release (admins). It
// answers 409 when the referential publishes at once (release_trains_off) or nothing is
// staged (release_empty). A second call while that workflow runs starts no other one; an
// Idempotency-Key makes a retry answer the first answer, where a retry without one, the
// release being frozen meanwhile, would ask to cut the next one.
func (s *Service) CutRelease(ctx context.Context, p auth.Principal, key Key) (Answer, error) {
	first, err := s.firstAnswer(ctx, key)
	switch {
	case err != nil:
		return Answer{}, err
	case first != nil:
		return replay(*first), nil
	}
	next, err := s.referential.NextRelease(ctx)
	var refErr *refclient.Error
	switch {
	case errors.As(err, &refErr) && refErr.Status == http.StatusConflict &&
		slices.Contains([]string{refclient.CodeReleaseTrainsOff, refclient.CodeReleaseEmpty}, refErr.Code):
		return Answer{}, httpx.Conflict(refErr.Code, refErr.Detail)
	case err != nil:
		return Answer{}, referentialProblem(ctx, err, "name the open release")
	case len(next.ChangeSets) == 0:
		return Answer{}, httpx.Conflict(refclient.CodeReleaseEmpty, "Nothing is staged in the open release: there is nothing to cut.")
	}
	if err := s.workflows.StartRelease(ctx, next.Number); err != nil {
		slog.WarnContext(ctx, "release workflow not started", "workflow_id", release.WorkflowID(next.Number), "error", err)
		return Answer{}, unavailable("The release could not be started. Retry later (with the same Idempotency-Key).")
	}
	doc, err := json.Marshal(ReleaseStarted{Release: next.Number, WorkflowID: release.WorkflowID(next.Number)})
	if err != nil {
		return Answer{}, err
	}
	if rec := key.record("", http.StatusAccepted, doc); rec != nil {
		// Lost, a retry asks for a cut again: the same one while its workflow runs.
		if err := s.requests.SaveIdempotency(ctx, *rec); err != nil {
			slog.WarnContext(ctx, "idempotency record not saved", "workflow_id", release.WorkflowID(next.Number), "error", err)
		}
	}
	slog.InfoContext(ctx, "release cut asked", "workflow_id", release.WorkflowID(next.Number), "release", next.Number,
		"changeSets", len(next.ChangeSets), "by", p.Subject)
	return Answer{Status: http.StatusAccepted, Body: doc}, nil
}
