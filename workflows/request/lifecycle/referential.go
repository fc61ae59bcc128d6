package lifecycle

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/activities/intake"
	"github.com/plateforme-rome/rome/activities/referential"
	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/workflows/request"
)

// checkResult is what the automated checks found.
type checkResult struct {
	findings []request.Finding
	version  int    // the referential version the operations were checked against
	fatal    string // why the request makes no sense, if it does not
}

// check dry-runs the operations on the current referential and looks for the other open
// requests that touch the same elements, then counts the people who follow the fiches the
// dry run says the operations touch. Each operation that does not apply is an error
// finding; each overlapping request, and what an operation touches beyond its change (its
// impact, its fiches' followers), a warning; an empty list, a change set the referential
// refuses as a whole and an unknown code ROME are fatal.
func (w *lifecycle) check(ctx workflow.Context, ops []request.Operation) (checkResult, error) {
	if len(ops) == 0 {
		const reason = "the request has no operation"
		return checkResult{fatal: reason, findings: []request.Finding{{Code: request.FindingOperationsRequired,
			Severity: request.SeverityError, Field: "operations", Message: reason}}}, nil
	}
	validation := w.call(ctx, callOptions, refActs.ValidateChangeSet,
		referential.ValidateInput{ChangeSet: refclient.ChangeSet{CodeRome: w.req.CodeRome, Operations: ops}})
	overlaps := w.call(ctx, callOptions, intakeActs.FindOverlaps,
		intake.FindOverlapsInput{Query: request.OverlapQuery{RequestID: w.req.ID, CodeRome: w.req.CodeRome, Elements: request.ElementsOf(ops)}})
	var v referential.ValidateOutput
	var o intake.FindOverlapsOutput
	verr := validation.Get(ctx, &v)
	counting := w.countFollowers(ctx, request.ImpactedFiches(v.Validation.Results)) // while the overlap search may still run
	oerr := overlaps.Get(ctx, &o)
	if appErr := applicationError(verr, referential.ErrTypeRejected); appErr != nil {
		reason := "the referential refused the operations: " + appErr.Message()
		return checkResult{fatal: reason, findings: []request.Finding{{Code: detailCode(appErr),
			Severity: request.SeverityError, Message: reason}}}, nil
	}
	if err := errors.Join(verr, oerr); err != nil {
		return checkResult{}, err
	}

	followers := w.followers(ctx, counting)
	res := checkResult{version: v.Validation.Version, findings: []request.Finding{}}
	unknown := 0
	for _, r := range v.Validation.Results {
		if r.Applies {
			res.findings = append(res.findings, impactFindings(r, followers)...)
			continue
		}
		if r.Code == request.FindingUnknownFiche && r.Field == "codeRome" {
			unknown++
		}
		res.findings = append(res.findings, request.Finding{Code: r.Code, Severity: request.SeverityError,
			OperationID: r.OperationID, Field: r.Field, Message: r.Reason})
	}
	if w.req.Kind == request.KindModifyFiche && unknown == len(ops) {
		res.fatal = fmt.Sprintf("fiche %s does not exist", w.req.CodeRome)
	}
	for _, ov := range o.Overlaps {
		res.findings = append(res.findings, request.Finding{Code: request.FindingOverlappingRequest, Severity: request.SeverityWarning,
			OtherID: ov.RequestID, Message: fmt.Sprintf("request %s (%q, %s) also changes %s",
				ov.RequestID, ov.Title, ov.Status, strings.Join(ov.Elements, ", "))})
	}
	return res, nil
}

// runChecks runs the checks of a new request: it is then rejected if they are fatal, and
// awaits triage otherwise. While the referential or the intake cannot answer, it tries
// again every retryPause; the partner may withdraw meanwhile.
func (w *lifecycle) runChecks(ctx workflow.Context) error {
	for {
		done, err := w.tryChecks(ctx)
		if done || err != nil {
			return err
		}
		if err := w.pause(ctx, "retry the checks"); err != nil {
			return err
		}
	}
}

func (w *lifecycle) tryChecks(ctx workflow.Context) (bool, error) {
	if err := w.mu.Lock(ctx); err != nil {
		return false, err
	}
	defer w.mu.Unlock()
	switch w.req.Status {
	case request.StatusSubmitted:
		w.setStatus(ctx, request.StatusChecking)
		if err := w.index(ctx); err != nil {
			return false, err
		}
	case request.StatusChecking:
	default:
		return true, nil // withdrawn while the checks waited
	}
	res, err := w.check(ctx, operationsOf(w.req.Operations))
	if err != nil {
		if temporal.IsCanceledError(err) {
			return false, err
		}
		w.logger.Warn("checks unavailable, trying again later", "error", err, "retryIn", retryPause)
		return false, nil
	}
	w.req.Findings, w.resume.BaseVersion = res.findings, res.version
	data := request.EventData{Findings: res.findings, Version: res.version}
	if res.fatal != "" {
		w.req.ClosedReason, data.Reason = res.fatal, res.fatal
		w.setStatus(ctx, request.StatusRejected)
		return true, w.commit(ctx, request.EventRejectedByChecks, request.SystemActor, data)
	}
	w.setStatus(ctx, request.StatusAwaitingTriage)
	if err := w.commit(ctx, request.EventChecked, request.SystemActor, data); err != nil {
		return true, err
	}
	return true, w.autoAssign(ctx)
}

// autoAssign gives a request that awaits triage to the moderator the intake chooses in
// turn, under the round-robin rule. Without a moderator covering its fiche, or while the
// intake cannot answer, the request stays to triage: a moderator takes it by hand.
func (w *lifecycle) autoAssign(ctx workflow.Context) error {
	if !w.assignInTurn {
		return nil
	}
	var out intake.PickModeratorOutput
	err := w.call(ctx, callOptions, intakeActs.PickModerator,
		intake.PickModeratorInput{RequestID: w.req.ID, Domain: w.req.AssignmentDomain()}).Get(ctx, &out)
	if err != nil || out.Moderator == "" {
		w.logger.Info("not assigned in turn: the request awaits triage", "domain", w.req.AssignmentDomain(), "error", err)
		return nil
	}
	w.req.Assignee = out.Moderator
	w.setStatus(ctx, request.StatusInReview)
	return w.commit(ctx, request.EventAssigned, request.SystemActor, request.EventData{Moderator: out.Moderator})
}

// runPublication publishes the accepted operations as one change set whose id is derived
// from the request and the decision round, so that trying again never publishes twice.
// Under release trains the referential stages the change set into its next release
// instead: the request is then accepted and waits for that release (awaitRelease).
func (w *lifecycle) runPublication(ctx workflow.Context) error {
	for {
		done, err := w.tryPublish(ctx)
		if done || err != nil {
			return err
		}
		if err := w.pause(ctx, "retry the publication"); err != nil {
			return err
		}
	}
}

func (w *lifecycle) tryPublish(ctx workflow.Context) (bool, error) {
	if err := w.mu.Lock(ctx); err != nil {
		return false, err
	}
	defer w.mu.Unlock()
	cs := w.changeSet(ctx)
	var out referential.PublishOutput
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, callOptions), refActs.PublishChangeSet,
		referential.PublishInput{ChangeSet: cs}).Get(ctx, &out)
	if err == nil {
		p := out.Publication
		if p.Staged() {
			return true, w.stage(ctx, cs.ID, p.Release)
		}
		return true, w.publish(ctx, cs.ID, p.Version, p.CodeRome, 0)
	}
	if findings := publicationFindings(err); findings != nil {
		return true, w.sendBack(ctx, cs.ID, findings, 0)
	}
	if temporal.IsCanceledError(err) {
		return false, err
	}
	w.logger.Warn("publication unavailable, trying again later", "changeSetId", cs.ID, "error", err, "retryIn", retryPause)
	return false, nil
}

// publish closes the request as published in version, by its own publication or by
// release (0: its own). The caller holds w.mu.
func (w *lifecycle) publish(ctx workflow.Context, changeSetID string, version int, codeRome string, release int) error {
	w.req.PublishedVersion, w.req.ChangeSetID = &version, changeSetID
	if w.req.CodeRome == "" { // a new fiche: its code is the referential's
		w.req.CodeRome = codeRome
	}
	w.setStatus(ctx, request.StatusPublished)
	return w.commit(ctx, request.EventPublished, request.SystemActor,
		request.EventData{ChangeSetID: changeSetID, Version: version, Release: release})
}

// sendBack returns the request to the moderator with the reasons its change set was not
// published, by its own publication or by release (0: its own). Nothing is dropped: the
// operations and their former decisions stay in the history; the decision clock starts
// afresh. The caller holds w.mu.
func (w *lifecycle) sendBack(ctx workflow.Context, changeSetID string, findings []request.Finding, release int) error {
	w.req.Findings = append(slices.DeleteFunc(w.req.Findings, isPublicationFinding), findings...)
	for i := range w.req.Operations {
		w.req.Operations[i].Decision = nil
	}
	w.req.ChangeSetID, w.req.Release = "", nil // no change set of the request waits in the referential any more
	w.setStatus(ctx, request.StatusInReview)
	w.resume.ModeratorElapsed = 0
	w.forget(request.WaitDecision)
	return w.commit(ctx, request.EventPublicationConflict, request.SystemActor,
		request.EventData{ChangeSetID: changeSetID, Findings: findings, Release: release})
}

// isPublicationFinding tells the findings a refused or returned publication leaves: the
// next one replaces them.
func isPublicationFinding(f request.Finding) bool {
	switch f.Code {
	case request.FindingPublicationConflict, request.FindingPublicationRefused, request.FindingReleaseConflict:
		return true
	}
	return false
}

// The change that names the request in its change set (ChangeSet.RequestTitle: a
// release's notes list the requests). The referential refuses a change-set id sent again
// with another body, so a request that was already publishing when it came keeps sending
// the change set it sent before: on replay, its history has no marker.
const (
	changeSetTitleChange  = "changeset-request-title"
	changeSetTitleVersion = 1
)

// changeSet is the publication of the current decision: the accepted operations, and the
// amended ones replaced by their amendment, under their ids.
func (w *lifecycle) changeSet(ctx workflow.Context) refclient.ChangeSet {
	cs := refclient.ChangeSet{ID: w.changeSetID(), RequestID: w.req.ID, BaseVersion: w.resume.BaseVersion,
		CodeRome: w.req.CodeRome, Operations: w.req.PublishedOperations()}
	if workflow.GetVersion(ctx, changeSetTitleChange, workflow.DefaultVersion, changeSetTitleVersion) == changeSetTitleVersion {
		cs.RequestTitle = w.req.Title
	}
	return cs
}

// changeSetID is the id of the current decision round's change set.
func (w *lifecycle) changeSetID() string {
	return request.ChangeSetID(w.req.ID, w.resume.DecisionRound)
}

// publicationFindings turns a refused publication into findings for the moderator: one per
// operation that no longer applies, or one for a change set refused as a whole. It returns
// nil for other errors (the referential could not answer).
func publicationFindings(err error) []request.Finding {
	if appErr := applicationError(err, referential.ErrTypeConflict); appErr != nil {
		var results []refclient.Result
		_ = appErr.Details(&results) // no details: one finding for the whole change set below
		var out []request.Finding
		for _, r := range results {
			if !r.Applies {
				out = append(out, request.Finding{Code: request.FindingPublicationConflict, Severity: request.SeverityError,
					OperationID: r.OperationID, Field: r.Field, Message: fmt.Sprintf("no longer applies to the referential: %s (%s)", r.Reason, r.Code)})
			}
		}
		if len(out) == 0 {
			out = append(out, request.Finding{Code: request.FindingPublicationConflict, Severity: request.SeverityError, Message: appErr.Message()})
		}
		return out
	}
	if appErr := applicationError(err, referential.ErrTypeRejected); appErr != nil {
		return []request.Finding{{Code: request.FindingPublicationRefused, Severity: request.SeverityError,
			Message: fmt.Sprintf("the referential refused the change set (%s): %s", detailCode(appErr), appErr.Message())}}
	}
	return nil
}

// applicationError finds the application error of type typ in err, if any.
func applicationError(err error, typ string) *temporal.ApplicationError {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == typ {
		return appErr
	}
	return nil
}

// detailCode is the referential's reason code carried by a refusal.
func detailCode(appErr *temporal.ApplicationError) string {
	var code string
	if appErr.Details(&code) != nil || code == "" {
		return "referential_refused"
	}
	return code
}

// pause waits retryPause, or less if the status changes meanwhile.
func (w *lifecycle) pause(ctx workflow.Context, summary string) error {
	moves := w.moves
	_, err := sleepUnless(ctx, retryPause, summary, func() bool { return w.moves != moves })
	return err
}
