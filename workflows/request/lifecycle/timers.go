package lifecycle

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/workflows/request"
)

// clockOf is the clock a status runs: the time a request has waited for triage, for a
// decision (paused while the partner has a question) and for the partner's answer.
func (w *lifecycle) clockOf(s request.Status) *time.Duration {
	switch s {
	case request.StatusAwaitingTriage:
		return &w.resume.TriageElapsed
	case request.StatusInReview:
		return &w.resume.ModeratorElapsed
	case request.StatusAwaitingPartner:
		return &w.resume.PartnerElapsed
	}
	return nil
}

// clock is the current status's clock at now.
func (w *lifecycle) clock(now time.Time) time.Duration {
	if c := w.clockOf(w.req.Status); c != nil {
		return *c + now.Sub(w.since)
	}
	return 0
}

// deadline is a moment of a wait, on the clock of its status: a reminder, an escalation
// or the expiry of a question. Each falls due once per wait.
type deadline struct {
	wait  string        // request.Wait*
	event string        // request.EventReminder, EventEscalation or EventExpired
	to    string        // the recipient of a reminder or an escalation
	after time.Duration // on the clock
}

// describe says when the deadline falls due and what it does, for the Temporal UI.
func (d deadline) describe(due time.Time) string {
	what := d.event
	if d.to != "" {
		what += " to " + d.to
	}
	return fmt.Sprintf("%s (%s wait) at %s", what, d.wait, due.UTC().Format("2006-01-02 15:04 MST"))
}

// key names the deadline in Resume.RemindersSent.
func (d deadline) key() string { return d.wait + ":" + d.event }

// deadlines of the current status, in the order they fall due.
func (w *lifecycle) deadlines() []deadline {
	t := w.timers
	var ds []deadline
	switch w.req.Status {
	case request.StatusAwaitingTriage:
		ds = []deadline{
			{request.WaitTriage, request.EventReminder, request.RecipientModerators, t.TriageReminder},
			{request.WaitTriage, request.EventEscalation, request.RecipientAdmins, t.TriageEscalation},
		}
	case request.StatusInReview:
		ds = []deadline{
			{request.WaitDecision, request.EventReminder, request.RecipientAssignee, t.DecisionReminder},
			{request.WaitDecision, request.EventEscalation, request.RecipientAdmins, t.DecisionEscalation},
		}
	case request.StatusAwaitingPartner:
		ds = []deadline{
			{request.WaitQuestion, request.EventReminder, request.RecipientPartner, t.PartnerReminder},
			{request.WaitQuestion, request.EventExpired, "", t.QuestionExpiry},
		}
	}
	slices.SortStableFunc(ds, func(a, b deadline) int { return cmp.Compare(a.after, b.after) })
	return ds
}

// next is the first deadline of the current status not handled yet.
func (w *lifecycle) next() (deadline, bool) {
	for _, d := range w.deadlines() {
		if !slices.Contains(w.resume.RemindersSent, d.key()) {
			return d, true
		}
	}
	return deadline{}, false
}

// forget starts a new wait: its deadlines will fall due again.
func (w *lifecycle) forget(wait string) {
	w.resume.RemindersSent = slices.DeleteFunc(w.resume.RemindersSent, func(k string) bool {
		return strings.HasPrefix(k, wait+":")
	})
}

// wait lets the request wait in its status (triage, review, awaiting the partner), handling
// its deadlines as they fall due, until the status changes or the history should continue
// as new.
func (w *lifecycle) wait(ctx workflow.Context) error {
	moves := w.moves
	done := func() bool { return w.moves != moves || w.continueAsNewDue(ctx) }
	for !done() {
		d, ok := w.next()
		if !ok {
			w.describe(ctx, "")
			return workflow.Await(ctx, done)
		}
		left := d.after - w.clock(workflow.Now(ctx))
		w.describe(ctx, d.describe(workflow.Now(ctx).Add(max(left, 0))))
		if left > 0 {
			if due, err := sleepUnless(ctx, left, d.key(), done); err != nil || !due {
				return err
			}
		}
		if err := w.fire(ctx, d, moves); err != nil {
			return err
		}
	}
	return nil
}

// fire handles a deadline that fell due, unless the status moved while it waited for the
// mutex.
func (w *lifecycle) fire(ctx workflow.Context, d deadline, moves int) error {
	if err := w.mu.Lock(ctx); err != nil {
		return err
	}
	defer w.mu.Unlock()
	if w.moves != moves {
		return nil
	}
	w.resume.RemindersSent = append(w.resume.RemindersSent, d.key())
	data := request.EventData{To: d.to, Wait: d.wait}
	switch d.wait {
	case request.WaitDecision:
		data.Moderator = w.req.Assignee
	case request.WaitQuestion:
		data.QuestionID = w.openQuestion().ID
	}
	if d.event == request.EventExpired {
		w.req.ClosedReason = fmt.Sprintf("question %s was not answered within %s", data.QuestionID, days(d.after))
		data.Reason = w.req.ClosedReason
		w.setStatus(ctx, request.StatusExpired)
		return w.commit(ctx, request.EventExpired, request.SystemActor, data)
	}
	w.logger.Info("deadline", "event", d.event, "to", d.to, "wait", d.wait)
	return w.record(ctx, d.event, request.SystemActor, data)
}

// days writes a duration in days when it is a whole number of them.
func days(d time.Duration) string {
	const day = 24 * time.Hour
	if d%day == 0 {
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}

// sleepUnless waits for d to pass, unless interrupted becomes true first; it tells whether
// d passed. Its timer is cancelled when interrupted, so that no stale timer stays in the
// history (AwaitWithTimeout only does so behind an SDK flag that is off by default).
func sleepUnless(ctx workflow.Context, d time.Duration, summary string, interrupted func() bool) (bool, error) {
	timerCtx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	timer := workflow.NewTimerWithOptions(timerCtx, d, workflow.TimerOptions{Summary: summary})
	if err := workflow.Await(ctx, func() bool { return timer.IsReady() || interrupted() }); err != nil {
		return false, err
	}
	return !interrupted(), nil
}
