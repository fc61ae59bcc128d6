package lifecycle

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/activities/teams"
	"github.com/plateforme-rome/rome/workflows/request"
)

// teamsOptions: Microsoft Graph is retried without limit while it is down (no call ever
// blocks the request: coroutines make them); a permanent refusal is final.
var teamsOptions = workflow.ActivityOptions{
	StartToCloseTimeout: time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        2 * time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        10 * time.Minute,
		NonRetryableErrorTypes: []string{teams.ErrTypeRejected},
	},
}

// renewMargin is how long before its expiry the channel's Graph subscription is renewed.
const renewMargin = 10 * time.Minute

// mirrored tells whether an event is posted to the request's Teams channel.
func mirrored(typ string) bool {
	switch typ {
	case request.EventMessagePosted, request.EventQuestionAsked, request.EventQuestionAnswered,
		request.EventDecided, request.EventStaged, request.EventPublished:
		return true
	}
	return false
}

// runChannel owns the request's Teams channel: it creates it, subscribes to its messages,
// posts the mirrored events in order, renews the subscription, and closes the channel once
// the request is closed.
func (w *lifecycle) runChannel(ctx workflow.Context) {
	defer func() { w.teamsDone = true }()
	t, actx := w.resume.Teams, workflow.WithActivityOptions(ctx, teamsOptions)
	if t.Unavailable || (w.req.Teams == nil && !w.createChannel(ctx)) {
		return
	}
	if t.SubscriptionID == "" {
		w.subscribe(ctx)
	}
	due := func() bool { return len(t.Joining) > 0 || len(t.Posts) > 0 || w.closing }
	for {
		if t.SubscriptionID != "" && !due() {
			left := t.SubscriptionExpiresAt.Sub(workflow.Now(ctx)) - renewMargin
			passed, err := sleepUnless(ctx, max(left, 0), "renew the Teams subscription", due)
			if err != nil {
				return
			}
			if passed {
				w.renew(ctx)
				continue
			}
		}
		if err := workflow.Await(ctx, due); err != nil {
			return
		}
		if len(t.Joining) > 0 { // people first, so that they see the lines about them
			if !w.addMember(actx, t.Joining[0]) {
				return
			}
			t.Joining = t.Joining[1:]
			continue
		}
		if len(t.Posts) > 0 {
			switch w.post(actx, t.Posts[0]) {
			case postStopped:
				return
			case postDone:
				t.Posts = t.Posts[1:]
			}
			continue
		}
		err := workflow.ExecuteActivity(actx, teamsActs.CloseChannel,
			teams.CloseChannelInput{ChannelID: w.req.Teams.ChannelID, Status: string(w.req.Status)}).Get(ctx, nil)
		if err != nil && !temporal.IsCanceledError(err) {
			w.logger.Warn("Teams channel not closed", "channelId", w.req.Teams.ChannelID, "error", err)
		}
		return
	}
}

// createChannel creates the request's channel and records it; when Graph refuses it, the
// request goes on without a channel, with a warning finding for the moderator. It tells
// whether the channel exists.
func (w *lifecycle) createChannel(ctx workflow.Context) bool {
	t := w.resume.Teams
	members := entraIDs(t.People)
	var out teams.CreateChannelOutput
	in := teams.CreateChannelInput{RequestID: w.req.ID, CodeRome: w.req.CodeRome, Title: w.req.Title,
		Summary: fmt.Sprintf("%s, déposée par %s (%s) : %s", w.subject(), w.req.SubmittedBy.Name, w.req.Org, w.req.Justification),
		Link:    w.link, Members: members}
	var created workflow.Future
	if w.fewerTasks { // idempotent: the channel is found by its name, the summary by its key
		created = w.call(ctx, teamsOptions, teamsActs.CreateChannel, in)
	} else {
		created = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, teamsOptions), teamsActs.CreateChannel, in)
	}
	err := created.Get(ctx, &out)
	if temporal.IsCanceledError(err) || w.mu.Lock(ctx) != nil {
		return false
	}
	defer w.mu.Unlock()
	if err != nil {
		t.Unavailable, t.Posts = true, nil
		w.warnTeams(ctx, request.FindingTeamsUnavailable, "the request has no Teams channel: Microsoft Teams refused it: "+err.Error())
		return false
	}
	w.req.Teams = &request.TeamsChannel{ChannelID: out.ChannelID, WebURL: out.WebURL, Name: out.Name, Private: out.Private}
	if out.Private { // the people who acted while the channel was being created
		t.Joining = append(t.Joining, entraIDs(t.People[len(members):])...)
	}
	if err := w.commit(ctx, request.EventTeamsChannelCreated, request.SystemActor, request.EventData{Teams: w.req.Teams}); err != nil {
		return false
	}
	return true
}

// join remembers a person Teams knows (by their Entra id), once, and queues them for the
// private channel's member list. The caller holds w.mu or runs before any coroutine.
func (w *lifecycle) join(a request.Actor) {
	t := w.resume.Teams
	if t == nil || a.EntraID == "" {
		return
	}
	if _, known := w.person(a.EntraID); known {
		return
	}
	t.People = append(t.People, a)
	if ch := w.req.Teams; ch != nil && ch.Private && !t.Unavailable {
		t.Joining = append(t.Joining, a.EntraID)
	}
}

// person is the request's person Teams knows by entraID.
func (w *lifecycle) person(entraID string) (request.Actor, bool) {
	people := w.resume.Teams.People
	if i := slices.IndexFunc(people, func(p request.Actor) bool { return p.EntraID == entraID }); i >= 0 {
		return people[i], true
	}
	return request.Actor{}, false
}

func entraIDs(people []request.Actor) []string {
	ids := make([]string, len(people))
	for i, p := range people {
		ids[i] = p.EntraID
	}
	return ids
}

// addMember adds a person to the private channel; when Graph refuses, the moderator is
// told with a warning finding. It returns false when the workflow is cancelled.
func (w *lifecycle) addMember(actx workflow.Context, entraID string) bool {
	err := workflow.ExecuteActivity(actx, teamsActs.AddMember,
		teams.AddMemberInput{ChannelID: w.req.Teams.ChannelID, UserID: entraID}).Get(actx, nil)
	if err == nil {
		return true
	}
	if temporal.IsCanceledError(err) || w.mu.Lock(actx) != nil {
		return false
	}
	defer w.mu.Unlock()
	name := entraID
	if p, ok := w.person(entraID); ok {
		name = p.Name
	}
	w.warnTeams(actx, request.FindingTeamsMemberNotAdded, name+" could not be added to the request's private Teams channel: "+err.Error())
	return true
}

// warnTeams tells the moderator, with a warning finding recorded in the history, what the
// request's Teams channel cannot do. The caller holds w.mu.
func (w *lifecycle) warnTeams(ctx workflow.Context, code, message string) {
	f := request.Finding{Code: code, Severity: request.SeverityWarning, Message: message}
	w.req.Findings = append(w.req.Findings, f)
	if err := w.commit(ctx, request.EventTeamsUnavailable, request.SystemActor,
		request.EventData{Findings: []request.Finding{f}, Reason: message}); err != nil {
		w.logger.Warn(code+" not recorded", "error", err)
	}
}

// repliesLost tells the moderator that replies written in Teams no longer come back.
func (w *lifecycle) repliesLost(ctx workflow.Context, err error) {
	if temporal.IsCanceledError(err) || w.mu.Lock(ctx) != nil {
		return
	}
	defer w.mu.Unlock()
	w.warnTeams(ctx, request.FindingTeamsRepliesUnavailable,
		"replies written in the request's Teams channel do not come back to the platform: "+err.Error())
}

// subscribe asks Graph to report the channel's new messages to the intake's webhook.
func (w *lifecycle) subscribe(ctx workflow.Context) {
	var out teams.EnsureSubscriptionOutput
	in := teams.EnsureSubscriptionInput{ChannelID: w.req.Teams.ChannelID, NotificationURL: w.teams.NotificationURL,
		ClientState: w.teams.ClientState}
	var subscribed workflow.Future
	if w.fewerTasks {
		retry := in
		retry.MayExist = true
		subscribed = w.callThenRetry(ctx, teamsOptions, teamsActs.EnsureSubscription, []any{in}, []any{retry})
	} else {
		subscribed = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, teamsOptions), teamsActs.EnsureSubscription, in)
	}
	err := subscribed.Get(ctx, &out)
	if err != nil {
		w.logger.Warn("no Graph subscription: Teams replies will not come back", "channelId", w.req.Teams.ChannelID, "error", err)
		w.repliesLost(ctx, err)
		return
	}
	w.resume.Teams.SubscriptionID, w.resume.Teams.SubscriptionExpiresAt = out.SubscriptionID, out.ExpiresAt
}

// renew extends the subscription (Graph recreates it when it is gone); a refusal ends it.
func (w *lifecycle) renew(ctx workflow.Context) {
	t := w.resume.Teams
	var out teams.RenewSubscriptionOutput
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, teamsOptions), teamsActs.RenewSubscription,
		teams.RenewSubscriptionInput{SubscriptionID: t.SubscriptionID, ChannelID: w.req.Teams.ChannelID,
			NotificationURL: w.teams.NotificationURL, ClientState: w.teams.ClientState}).Get(ctx, &out)
	if err != nil {
		w.logger.Warn("Graph subscription not renewed: Teams replies will not come back", "subscriptionId", t.SubscriptionID, "error", err)
		t.SubscriptionID = ""
		w.repliesLost(ctx, err)
		return
	}
	t.SubscriptionID, t.SubscriptionExpiresAt = out.SubscriptionID, out.ExpiresAt
}

// postOutcome is what became of a line: done (posted, or dropped and said so), to post
// again (in a new channel), or stopped (the workflow is cancelled, or the request has no
// channel any more).
type postOutcome int

const (
	postDone postOutcome = iota
	postAgain
	postStopped
)

// lostChannelChange: a line Graph refuses is no longer dropped silently (requests that
// refused one before it keep their history).
const (
	lostChannelChange  = "teams-refused-line"
	lostChannelVersion = 1
)

// post posts one event's line, once (its key is the event's). When Graph no longer knows
// the channel (404: deleted in Teams), the request gets a new channel and the line goes
// there; a line Graph refuses otherwise is dropped, and the moderator told in the
// request's history.
func (w *lifecycle) post(actx workflow.Context, n Notice) postOutcome {
	var out teams.PostMessageOutput
	err := workflow.ExecuteActivity(actx, teamsActs.PostMessage, teams.PostMessageInput{ChannelID: w.req.Teams.ChannelID,
		Key: noticeKey(w.req.ID, n), HTML: line(n)}).Get(actx, &out)
	switch {
	case temporal.IsCanceledError(err):
		return postStopped
	case err == nil:
		w.seen(out.MessageID) // its change notification is not a reply
		return postDone
	case workflow.GetVersion(actx, lostChannelChange, workflow.DefaultVersion, lostChannelVersion) == workflow.DefaultVersion:
		w.logger.Warn("Teams line refused, dropped", "seq", n.Seq, "error", err)
		return postDone
	case graphStatus(err) == http.StatusNotFound:
		return w.replaceChannel(actx, err)
	}
	if w.mu.Lock(actx) != nil {
		return postStopped
	}
	defer w.mu.Unlock()
	w.warnTeams(actx, request.FindingTeamsLineNotPosted,
		fmt.Sprintf("the line of event %d (%s) was not posted in the request's Teams channel: %v", n.Seq, n.Type, err))
	return postDone
}

// replaceChannel gives the request a new channel in place of one Graph no longer knows,
// recording why, and subscribes to its messages.
func (w *lifecycle) replaceChannel(ctx workflow.Context, cause error) postOutcome {
	if w.mu.Lock(ctx) != nil {
		return postStopped
	}
	lost := w.req.Teams
	w.warnTeams(ctx, request.FindingTeamsChannelLost,
		fmt.Sprintf("the request's Teams channel %s is gone (%v): a new one replaces it", lost.Name, cause))
	w.req.Teams, w.resume.Teams.SubscriptionID = nil, ""
	w.mu.Unlock()
	if !w.createChannel(ctx) {
		return postStopped
	}
	w.subscribe(ctx)
	return postAgain
}

// graphStatus is the HTTP status of Graph's refusal behind an activity error, 0 if none.
func graphStatus(err error) int {
	var appErr *temporal.ApplicationError
	var detail teams.GraphError
	if errors.As(err, &appErr) && appErr.Type() == teams.ErrTypeRejected && appErr.Details(&detail) == nil {
		return detail.Status
	}
	return 0
}

// line is an event as a line of the channel.
func line(n Notice) string {
	text := n.Data.Text
	if n.Type == request.EventDecided && n.Data.Reason != "" {
		text = n.Data.Reason
	}
	s := "<p><b>" + html.EscapeString(headline(n)) + "</b>"
	if text != "" {
		s += "<br>" + html.EscapeString(text)
	}
	return s + "</p>"
}

// seen remembers a channel message, reporting whether it was known.
func (w *lifecycle) seen(messageID string) bool {
	t := w.resume.Teams
	if slices.Contains(t.Seen, messageID) {
		return true
	}
	t.Seen = append(t.Seen, messageID)
	return false
}

// receiveReplies takes the signalled Teams messages into the inbox, each once.
func (w *lifecycle) receiveReplies(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, request.SignalTeamsReply)
	for {
		var r request.TeamsReply
		if !ch.Receive(ctx, &r) {
			return
		}
		w.enqueueReply(r)
	}
}

func (w *lifecycle) enqueueReply(r request.TeamsReply) {
	if r.MessageID == "" || w.seen(r.MessageID) {
		return
	}
	w.resume.Teams.Inbox = append(w.resume.Teams.Inbox, r)
}

// recordReplies records the inbox's messages in the request's history, in order.
func (w *lifecycle) recordReplies(ctx workflow.Context) {
	t := w.resume.Teams
	for {
		if err := workflow.Await(ctx, func() bool { return len(t.Inbox) > 0 }); err != nil {
			return
		}
		if !w.recordReply(ctx, t.Inbox[0]) {
			return
		}
		t.Inbox = t.Inbox[1:]
	}
}

// recordReply records a message written in the channel by a person (the platform's own
// posts are skipped) and notifies both sides. It returns false when the workflow is
// cancelled.
func (w *lifecycle) recordReply(ctx workflow.Context, r request.TeamsReply) bool {
	if w.req.Teams == nil || r.ChannelID != w.req.Teams.ChannelID {
		w.logger.Warn("Teams reply from another channel ignored", "channelId", r.ChannelID, "messageId", r.MessageID)
		return true
	}
	var m teams.GetMessageOutput
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, teamsOptions), teamsActs.GetMessage,
		teams.GetMessageInput{ChannelID: r.ChannelID, MessageID: r.MessageID}).Get(ctx, &m)
	switch {
	case temporal.IsCanceledError(err):
		return false
	case err != nil:
		w.logger.Warn("Teams reply unreadable, skipped", "messageId", r.MessageID, "error", err)
		return true
	case m.From.Application || m.From.ID == "":
		return true // the platform's own post
	}
	if w.mu.Lock(ctx) != nil {
		return false
	}
	defer w.mu.Unlock()
	actor := request.Actor{Sub: "teams:" + m.From.ID, Name: m.From.DisplayName, Role: request.RoleTeams}
	if p, ok := w.person(m.From.ID); ok {
		actor = p // someone of the request: their reply is theirs
	}
	return w.commit(ctx, request.EventTeamsReply, actor, request.EventData{MessageID: r.MessageID, Text: m.Text}) == nil
}
