package lifecycle

import (
	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/workflows/request"
)

// Under release trains the referential stages an accepted change set into its next release
// (refclient.Publication.Staged): the request is ACCEPTED until that release's workflow
// signals what it did with the change set (request.SignalReleaseOutcome).

// stage records that the change set waits in release. The caller holds w.mu.
func (w *lifecycle) stage(ctx workflow.Context, changeSetID string, release int) error {
	w.req.ChangeSetID, w.req.Release = changeSetID, &release
	w.setStatus(ctx, request.StatusAccepted)
	return w.commit(ctx, request.EventStaged, request.SystemActor, request.EventData{ChangeSetID: changeSetID, Release: release})
}

// receiveOutcomes takes the signalled release outcomes into Resume.ReleaseOutcomes, where
// awaitRelease applies them in order.
func (w *lifecycle) receiveOutcomes(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, request.SignalReleaseOutcome)
	for {
		var o request.ReleaseOutcome
		if !ch.Receive(ctx, &o) {
			return
		}
		w.takeOutcome(o)
	}
}

// drainOutcomes takes the outcomes signalled but not received yet: the SDK requires the
// channel to be empty before continuing as new, or they would be lost.
func (w *lifecycle) drainOutcomes(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, request.SignalReleaseOutcome)
	for {
		var o request.ReleaseOutcome // afresh: decoding leaves the fields a payload lacks as they are
		if !ch.ReceiveAsync(&o) {
			return
		}
		w.takeOutcome(o)
	}
}

// takeOutcome keeps an outcome for awaitRelease, unless it cannot be about the change set
// the request publishes now.
func (w *lifecycle) takeOutcome(o request.ReleaseOutcome) {
	if !w.awaits(o) {
		w.ignore(o)
		return
	}
	w.resume.ReleaseOutcomes = append(w.resume.ReleaseOutcomes, o)
}

// awaits tells whether o is about the change set the request publishes now: the one it
// staged (ACCEPTED), or the one it is publishing (PUBLISHING: the release may signal
// before the referential's answer to the publication has reached the workflow).
func (w *lifecycle) awaits(o request.ReleaseOutcome) bool {
	switch w.req.Status {
	case request.StatusAccepted:
		return o.ChangeSetID == w.req.ChangeSetID && o.Release == *w.req.Release
	case request.StatusPublishing:
		return o.ChangeSetID == w.changeSetID()
	}
	return false
}

func (w *lifecycle) ignore(o request.ReleaseOutcome) {
	w.logger.Info("release outcome ignored: not about the change set the request waits for",
		"release", o.Release, "changeSetId", o.ChangeSetID, "status", w.req.Status, "waitsFor", w.req.ChangeSetID)
}

// awaitRelease waits, ACCEPTED, for the outcome of the release the change set waits in,
// and applies it: published, the request closes; returned, it goes back to the moderator.
// It returns once the outcomes received are applied and the request is no longer
// ACCEPTED, or when the history should continue as new (the next run waits on).
func (w *lifecycle) awaitRelease(ctx workflow.Context) error {
	outcomes := &w.resume.ReleaseOutcomes
	for {
		if len(*outcomes) == 0 {
			if w.req.Status != request.StatusAccepted {
				return nil
			}
			if err := workflow.Await(ctx, func() bool { return len(*outcomes) > 0 || w.continueAsNewDue(ctx) }); err != nil {
				return err
			}
			if len(*outcomes) == 0 {
				return nil
			}
		}
		o := (*outcomes)[0]
		*outcomes = (*outcomes)[1:]
		if err := w.applyOutcome(ctx, o); err != nil {
			return err
		}
	}
}

// applyOutcome publishes the request or sends it back as the release decided; an outcome
// that is not about its staged change set (a duplicate, once the first is applied)
// changes nothing.
func (w *lifecycle) applyOutcome(ctx workflow.Context, o request.ReleaseOutcome) error {
	if err := w.mu.Lock(ctx); err != nil {
		return err
	}
	defer w.mu.Unlock()
	if w.req.Status != request.StatusAccepted || !w.awaits(o) {
		w.ignore(o)
		return nil
	}
	w.logger.Info("release outcome", "release", o.Release, "changeSetId", o.ChangeSetID, "published", o.Published())
	if o.Published() {
		return w.publish(ctx, o.ChangeSetID, o.Version, o.CodeRome, o.Release)
	}
	return w.sendBack(ctx, o.ChangeSetID, o.Findings, o.Release)
}
