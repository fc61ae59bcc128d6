package lifecycle

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/activities/notifications"
	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/workflows/request"
)

// The change that brought notifications and the Teams channel: requests started before it
// (Resume.Messaging 0) replay and go on without them.
const (
	messagingChange  = "teams-notifications"
	messagingVersion = 1
)

var (
	// notifyOptions: the notifications service is retried without limit (Notify is
	// idempotent by key); only a refusal is final.
	notifyOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        10 * time.Minute,
			NonRetryableErrorTypes: []string{notifications.ErrTypeRefused},
		},
	}
)

// drainTimeout bounds the wait for the outboxes before continuing as new: what is left is
// carried in Resume (and sent again, idempotently, by the next run).
const drainTimeout = time.Minute

// startMessaging starts the coroutines that notify people and run the Teams channel; the
// main flow only enqueues (tell), so that neither service ever holds a request up.
func (w *lifecycle) startMessaging(ctx workflow.Context) {
	if w.resume.Messaging < messagingVersion {
		return
	}
	workflow.GoNamed(ctx, "notifications", w.deliverNotifications)
	if w.teams != nil {
		workflow.GoNamed(ctx, "teams-channel", w.runChannel)
		workflow.GoNamed(ctx, "teams-signals", w.receiveReplies)
		workflow.GoNamed(ctx, "teams-replies", w.recordReplies)
	}
}

// tell enqueues a recorded event for the people who must learn about it and for the
// Teams channel. The caller holds w.mu, so both queues are in the order of the history.
func (w *lifecycle) tell(n Notice) {
	if w.resume.Messaging < messagingVersion {
		return
	}
	if _, _, ok := w.audience(n); ok {
		w.resume.Outbox = append(w.resume.Outbox, n)
	}
	if t := w.resume.Teams; t != nil && !t.Unavailable && mirrored(n.Type) {
		t.Posts = append(t.Posts, n)
	}
}

// deliverNotifications sends the outbox in order. An item leaves the outbox once the
// service has it, so an undelivered one is carried across continue-as-new.
func (w *lifecycle) deliverNotifications(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, func() bool { return len(w.resume.Outbox) > 0 }); err != nil {
			return
		}
		n := w.notification(w.resume.Outbox[0])
		err := w.call(ctx, notifyOptions, notifyActs.Notify, notifications.NotifyInput{Notification: n}).Get(ctx, nil)
		if temporal.IsCanceledError(err) {
			return
		}
		if err != nil {
			w.logger.Warn("notification refused, dropped", "key", n.Key, "event", n.Event, "error", err)
		}
		w.resume.Outbox = w.resume.Outbox[1:]
	}
}

// drained tells whether nothing waits to be notified, posted or recorded from Teams.
func (w *lifecycle) drained() bool {
	if len(w.resume.Outbox) > 0 {
		return false
	}
	t := w.resume.Teams
	return t == nil || t.Unavailable || (len(t.Posts) == 0 && len(t.Inbox) == 0)
}

// drainBeforeContinuing gives the outboxes drainTimeout to empty, then takes the replies
// signalled meanwhile: whatever is left goes to the next run in Resume.
func (w *lifecycle) drainBeforeContinuing(ctx workflow.Context) error {
	if w.resume.Messaging < messagingVersion {
		return nil
	}
	if _, err := sleepUnless(ctx, drainTimeout, "drain the outboxes", w.drained); err != nil {
		return err
	}
	if w.teams != nil {
		ch := workflow.GetSignalChannel(ctx, request.SignalTeamsReply)
		var r request.TeamsReply
		for ch.ReceiveAsync(&r) {
			w.enqueueReply(r)
		}
	}
	return nil
}

// drainBeforeClosing waits until every notification is sent and the Teams channel has its
// last lines and is closed (or Teams refused it): the request's state is final already.
func (w *lifecycle) drainBeforeClosing(ctx workflow.Context) error {
	return workflow.Await(ctx, func() bool { return w.drained() && w.teamsDone })
}

// audience is who must learn about an event, and as which notification; ok is false for
// the events nobody is notified of.
func (w *lifecycle) audience(n Notice) (event notifclient.Event, to notifclient.Recipients, ok bool) {
	partner := notifclient.Recipients{Orgs: []string{w.req.Org}}
	moderators := notifclient.Recipients{Roles: []string{request.RoleModerator}}
	assignee := moderators // the assignee, or every moderator while there is none
	if n.Assignee != "" {
		assignee = notifclient.Recipients{Users: []string{n.Assignee}}
	}
	both := notifclient.Recipients{Users: assignee.Users, Roles: assignee.Roles, Orgs: partner.Orgs}
	closing := notifclient.Recipients{Users: assignee.Users, Orgs: partner.Orgs} // the assignee, if any, and the partner
	switch n.Type {
	case request.EventSubmitted:
		return notifclient.EventSubmitted, moderators, true
	case request.EventAssigned:
		return notifclient.EventAssigned, notifclient.Recipients{Users: []string{n.Data.Moderator}}, true
	case request.EventQuestionAsked:
		return notifclient.EventQuestion, partner, true
	case request.EventQuestionAnswered:
		return notifclient.EventAnswer, assignee, true
	case request.EventMessagePosted, request.EventTeamsReply:
		event = notifclient.EventMessage
		if n.Type == request.EventTeamsReply {
			event = notifclient.EventTeamsReply
		}
		switch n.Actor.Role {
		case request.RolePartner:
			return event, assignee, true
		case request.RoleTeams: // someone the platform does not know: both sides learn of it
			return event, both, true
		}
		return event, partner, true
	case request.EventReminder, request.EventEscalation:
		event = notifclient.EventReminder
		if n.Type == request.EventEscalation {
			event = notifclient.EventEscalation
		}
		switch n.Data.To {
		case request.RecipientModerators:
			return event, moderators, true
		case request.RecipientAssignee:
			return event, assignee, true
		case request.RecipientAdmins:
			return event, notifclient.Recipients{Roles: []string{request.RoleAdmin}}, true
		case request.RecipientPartner:
			return event, partner, true
		}
	case request.EventDecided, request.EventRejectedByChecks:
		return notifclient.EventDecision, closing, true
	case request.EventStaged: // the partner learns when the change will be published
		return notifclient.EventPublished, partner, true
	case request.EventPublicationConflict:
		// A release returns the change set long after the decision, the partner having been
		// told it would be published: both sides learn of it.
		if n.Data.Release > 0 {
			return notifclient.EventPublished, closing, true
		}
	case request.EventPublished:
		return notifclient.EventPublished, closing, true
	case request.EventWithdrawn:
		return notifclient.EventWithdrawn, closing, true
	case request.EventExpired:
		return notifclient.EventExpired, closing, true
	}
	return "", notifclient.Recipients{}, false
}

// notification is what the notifications service is asked to deliver for an event: its
// key is the event's (request, seq), so a retry or a continued run notifies once.
func (w *lifecycle) notification(n Notice) notifclient.Notification {
	event, to, _ := w.audience(n)
	text := n.Data.Text
	if text == "" {
		text = n.Data.Reason
	}
	return notifclient.Notification{
		Key: noticeKey(w.req.ID, n), Event: event, RequestID: w.req.ID, CodeRome: w.req.CodeRome, Org: w.req.Org,
		Title: fmt.Sprintf("%s : %s", w.subject(), headline(n)), Text: text, Link: w.link,
		Actor: notifclient.Actor{Sub: n.Actor.Sub, Name: n.Actor.Name, Role: n.Actor.Role, Org: n.Actor.Org}, To: to, ExcludeUsers: []string{n.Actor.Sub},
	}
}

// noticeKey is the idempotency key of what an event causes: a notification, a Teams post.
// It names the event's type as well as its seq: a workflow task that never completed may
// have sent its notice under the same seq for another event, which must not stand in for
// this one.
func noticeKey(requestID string, n Notice) string {
	return fmt.Sprintf("%s-%d-%s", requestID, n.Seq, n.Type)
}

// subject names the request in a notification or a Teams line.
func (w *lifecycle) subject() string {
	if w.req.CodeRome == "" {
		return fmt.Sprintf("Demande « %s » (nouvelle fiche)", w.req.Title)
	}
	return fmt.Sprintf("Demande « %s » (%s)", w.req.Title, w.req.CodeRome)
}

// waitWords say in French what a reminder or an escalation is about.
var waitWords = map[string]string{
	request.WaitTriage:   "prise en charge",
	request.WaitDecision: "décision",
	request.WaitQuestion: "réponse à la question",
}

// headline says what happened, in a few words, in French like everything people read.
func headline(n Notice) string {
	who := n.Actor.Name
	if who == "" {
		who = n.Actor.Sub
	}
	wait := waitWords[n.Data.Wait]
	if wait == "" {
		wait = n.Data.Wait
	}
	switch n.Type {
	case request.EventSubmitted:
		return "déposée par " + who
	case request.EventAssigned:
		return "confiée à " + n.Data.Moderator
	case request.EventQuestionAsked:
		return "question de " + who
	case request.EventQuestionAnswered:
		return "réponse de " + who
	case request.EventMessagePosted:
		return "message de " + who
	case request.EventTeamsReply:
		return "réponse dans Teams de " + who
	case request.EventReminder:
		return "en attente de " + wait
	case request.EventEscalation:
		return "escalade : attente trop longue de " + wait
	case request.EventDecided:
		return "décidée par " + who
	case request.EventRejectedByChecks:
		return "refusée par les vérifications automatiques"
	case request.EventStaged:
		return fmt.Sprintf("acceptée, publiée avec la release %d", n.Data.Release)
	case request.EventPublicationConflict:
		if n.Data.Release > 0 {
			return fmt.Sprintf("renvoyée par la release %d : elle ne s'applique plus avec les autres changements", n.Data.Release)
		}
		return "conflit de publication"
	case request.EventPublished:
		if n.Data.Release > 0 {
			return fmt.Sprintf("publiée avec la release %d (version %d)", n.Data.Release, n.Data.Version)
		}
		return fmt.Sprintf("publiée (version %d)", n.Data.Version)
	case request.EventWithdrawn:
		return "retirée par " + who
	case request.EventExpired:
		return "expirée"
	}
	return n.Type
}
