package lifecycle

import (
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/activities/teams"
	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/workflows/request"
)

var teamsConfig = &request.TeamsConfig{NotificationURL: "https://intake.example/v1/teams/notifications", ClientState: "s3cret"}

// Notifications go to the right people, once per event, and a notifications service down
// for a while delays them without holding the request up.
func TestNotificationsReachTheOtherSide(t *testing.T) {
	h := newHarness(t, options{})
	h.notifyFail = 6
	h.update(1*time.Hour, request.UpdateAssign, request.AssignInput{Actor: admin, Moderator: "mod-1"})
	h.update(2*time.Hour, request.UpdateAsk, request.AskInput{Actor: mod, Text: "Sources?"})
	h.update(3*time.Hour, request.UpdateAnswer, request.AnswerInput{Actor: alice, QuestionID: "q-1", Text: "Job boards"})
	h.update(3*time.Hour+time.Minute, request.UpdateMessage, request.MessageInput{Actor: mod, Text: "Thanks"})
	h.update(4*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: []request.OperationDecision{
		{OperationID: "op-1", Decision: request.DecisionAccepted}, {OperationID: "op-2", Decision: request.DecisionAccepted},
		{OperationID: "op-3", Decision: request.DecisionAccepted}}})
	out := h.run(request.Input{Request: newRequest(), Link: "https://rome.example/requests/r1"})

	if out.Request.Status != request.StatusPublished {
		t.Fatalf("ended %s: %v", out.Request.Status, h.env.GetWorkflowError())
	}
	wantTimes(t, h, 0, 0, time.Hour, 2*time.Hour, 3*time.Hour, 3*time.Hour+time.Minute, 4*time.Hour, 4*time.Hour)
	type sent struct {
		key   string
		event notifclient.Event
		to    notifclient.Recipients
		not   []string
	}
	partner, assignee := notifclient.Recipients{Orgs: []string{"opco-2i"}}, notifclient.Recipients{Users: []string{"mod-1"}}
	closing := notifclient.Recipients{Users: []string{"mod-1"}, Orgs: []string{"opco-2i"}}
	want := []sent{
		{"r1-1-submitted", notifclient.EventSubmitted, notifclient.Recipients{Roles: []string{request.RoleModerator}}, []string{"alice"}},
		{"r1-3-assigned", notifclient.EventAssigned, assignee, []string{"adm"}},
		{"r1-4-question_asked", notifclient.EventQuestion, partner, []string{"mod-1"}},
		{"r1-5-question_answered", notifclient.EventAnswer, assignee, []string{"alice"}},
		{"r1-6-message_posted", notifclient.EventMessage, partner, []string{"mod-1"}},
		{"r1-7-decided", notifclient.EventDecision, closing, []string{"mod-1"}},
		{"r1-8-published", notifclient.EventPublished, closing, []string{"system"}},
	}
	var got []sent
	for _, n := range h.notified {
		got = append(got, sent{n.Key, n.Event, n.To, n.ExcludeUsers})
		if n.RequestID != "r1" || n.CodeRome != "M1805" || n.Org != "opco-2i" || n.Link != "https://rome.example/requests/r1" || n.Title == "" {
			t.Errorf("notification %+v", n)
		}
	}
	sameJSON(t, "notifications", got, want)
	if h.notifyRuns != len(want)+6 {
		t.Errorf("%d Notify calls, want %d", h.notifyRuns, len(want)+6)
	}
}

// A request with Teams: its channel is created once, the conversation is mirrored in
// order, a reply written in Teams is recorded once however often it is signalled, the
// platform's own posts are not replies, and the channel is closed at the end.
func TestTeamsChannel(t *testing.T) {
	h := newHarness(t, options{})
	h.teams.down = 3 // Graph is down for a while at first
	h.teams.message("t-1", "aad-7", "Paul Durand", "We also see Rust in job boards", at(150*time.Minute))
	h.update(1*time.Hour, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: "mod-1"})
	h.update(2*time.Hour, request.UpdateAsk, request.AskInput{Actor: mod, Text: "Sources?"})
	for _, d := range []time.Duration{150 * time.Minute, 151 * time.Minute} {
		h.env.RegisterDelayedCallback(func() {
			h.env.SignalWorkflow(request.SignalTeamsReply, request.TeamsReply{ChannelID: fakeChannel, MessageID: "t-1"})
		}, d)
	}
	h.env.RegisterDelayedCallback(func() { // the change notification of the platform's own post
		h.env.SignalWorkflow(request.SignalTeamsReply, request.TeamsReply{ChannelID: fakeChannel, MessageID: "posted-r1-5-question_asked"})
	}, 152*time.Minute)
	h.update(3*time.Hour, request.UpdateAnswer, request.AnswerInput{Actor: alice, QuestionID: "q-1", Text: "Job boards"})
	h.update(4*time.Hour, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: []request.OperationDecision{
		{OperationID: "op-1", Decision: request.DecisionAccepted}, {OperationID: "op-2", Decision: request.DecisionAccepted},
		{OperationID: "op-3", Decision: request.DecisionAccepted}}})
	out := h.run(request.Input{Request: newRequest(), Teams: teamsConfig})

	f := h.teams
	if out.Request.Status != request.StatusPublished || out.Request.Teams == nil || out.Request.Teams.ChannelID != fakeChannel {
		t.Fatalf("ended %s with channel %+v: %v", out.Request.Status, out.Request.Teams, h.env.GetWorkflowError())
	}
	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventTeamsChannelCreated, request.EventAssigned,
		request.EventQuestionAsked, request.EventTeamsReply, request.EventQuestionAnswered, request.EventDecided, request.EventPublished)
	h.checkHistory(1, &out.Request)
	if len(f.created) != 1 || f.created[0].RequestID != "r1" {
		t.Errorf("channels created %+v", f.created)
	}
	var keys []string
	for _, p := range f.posts {
		keys = append(keys, p.Key)
	}
	if want := []string{"r1-5-question_asked", "r1-7-question_answered", "r1-8-decided", "r1-9-published"}; !slices.Equal(keys, want) {
		t.Errorf("posts %q, want %q", keys, want)
	}
	if !strings.Contains(f.posts[0].HTML, "Sources?") {
		t.Errorf("question line %s", f.posts[0].HTML)
	}
	if len(f.subs) != 1 || f.subs[0] != (teams.EnsureSubscriptionInput{ChannelID: fakeChannel,
		NotificationURL: teamsConfig.NotificationURL, ClientState: teamsConfig.ClientState}) {
		t.Errorf("subscriptions %+v", f.subs)
	}
	if len(f.renewals) == 0 {
		t.Error("the subscription was never renewed")
	}
	if len(f.closed) != 1 || f.closed[0].ChannelID != fakeChannel || f.closed[0].Status != string(request.StatusPublished) {
		t.Errorf("closed %+v", f.closed)
	}
	if len(f.gets) != 1 {
		t.Errorf("GetMessage %+v: each message is read once, the platform's own never", f.gets)
	}
	reply := h.event(request.EventTeamsReply, 0)
	if reply.Actor.Name != "Paul Durand" || reply.Actor.Role != request.RoleTeams || data(t, reply).Text != "We also see Rust in job boards" {
		t.Errorf("reply %+v %s", reply.Actor, reply.Data)
	}
	var replyNotice *notifclient.Notification
	for i, n := range h.notified {
		if n.Event == notifclient.EventTeamsReply {
			replyNotice = &h.notified[i]
		}
	}
	if replyNotice == nil || !slices.Equal(replyNotice.To.Orgs, []string{"opco-2i"}) || !slices.Equal(replyNotice.To.Users, []string{"mod-1"}) {
		t.Errorf("reply notification %+v", replyNotice)
	}
}

// Graph refusing the channel for good: a warning for the moderator, and the request goes on.
func TestTeamsRefusedRequestGoesOn(t *testing.T) {
	h := newHarness(t, options{})
	h.teams.refuse = true
	h.update(time.Hour, request.UpdateMessage, request.MessageInput{Actor: alice, Text: "Hello"})
	h.update(2*time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
	out := h.run(request.Input{Request: newRequest(), Teams: teamsConfig})

	if out.Request.Status != request.StatusWithdrawn || out.Request.Teams != nil {
		t.Fatalf("ended %s, channel %+v: %v", out.Request.Status, out.Request.Teams, h.env.GetWorkflowError())
	}
	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventTeamsUnavailable, request.EventMessagePosted, request.EventWithdrawn)
	h.checkHistory(1, &out.Request)
	if !slices.ContainsFunc(out.Request.Findings, func(f request.Finding) bool {
		return f.Code == request.FindingTeamsUnavailable && f.Severity == request.SeverityWarning && strings.Contains(f.Message, "403")
	}) {
		t.Errorf("findings %+v", out.Request.Findings)
	}
	if len(h.teams.posts) != 0 || len(h.teams.closed) != 0 || len(h.teams.subs) != 0 {
		t.Errorf("Teams used without a channel: %+v", h.teams)
	}
}

// A channel deleted in Teams is replaced by a new one, where the line goes; the history
// says so.
func TestTeamsChannelDeletedIsReplaced(t *testing.T) {
	h := newHarness(t, options{})
	h.env.RegisterDelayedCallback(func() { h.teams.deleted = true }, 30*time.Minute)
	h.update(time.Hour, request.UpdateMessage, request.MessageInput{Actor: alice, Text: "Hello"})
	h.update(2*time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
	out := h.run(request.Input{Request: newRequest(), Teams: teamsConfig})

	if out.Request.Status != request.StatusWithdrawn || out.Request.Teams == nil || out.Request.Teams.ChannelID == fakeChannel {
		t.Fatalf("ended %s, channel %+v: %v", out.Request.Status, out.Request.Teams, h.env.GetWorkflowError())
	}
	h.wantTypes(request.EventSubmitted, request.EventChecked, request.EventTeamsChannelCreated, request.EventMessagePosted,
		request.EventTeamsUnavailable, request.EventTeamsChannelCreated, request.EventWithdrawn)
	h.checkHistory(1, &out.Request)
	if !slices.ContainsFunc(out.Request.Findings, func(f request.Finding) bool {
		return f.Code == request.FindingTeamsChannelLost && strings.Contains(f.Message, "404")
	}) {
		t.Errorf("findings %+v", out.Request.Findings)
	}
	if len(h.teams.posts) != 1 || h.teams.posts[0].ChannelID != out.Request.Teams.ChannelID || len(h.teams.subs) != 2 {
		t.Errorf("posts %+v, subscriptions %+v: the line belongs in the new channel, which is subscribed to", h.teams.posts, h.teams.subs)
	}
}

// A line Graph refuses for good is dropped, and the history says so.
func TestTeamsLineRefusedIsAFinding(t *testing.T) {
	h := newHarness(t, options{})
	h.teams.forbidden = true
	h.update(time.Hour, request.UpdateMessage, request.MessageInput{Actor: alice, Text: "Hello"})
	h.update(2*time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
	out := h.run(request.Input{Request: newRequest(), Teams: teamsConfig})

	if out.Request.Status != request.StatusWithdrawn {
		t.Fatalf("ended %s: %v", out.Request.Status, h.env.GetWorkflowError())
	}
	if !slices.ContainsFunc(out.Request.Findings, func(f request.Finding) bool {
		return f.Code == request.FindingTeamsLineNotPosted && f.Severity == request.SeverityWarning && strings.Contains(f.Message, "403")
	}) {
		t.Errorf("findings %+v", out.Request.Findings)
	}
	h.checkHistory(1, &out.Request)
}

// Graph refusing the subscription leaves the channel without replies: the moderator is told.
func TestTeamsSubscriptionRefusedIsAFinding(t *testing.T) {
	h := newHarness(t, options{})
	h.teams.noSubs = true
	h.update(2*time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
	out := h.run(request.Input{Request: newRequest(), Teams: teamsConfig})

	if out.Request.Status != request.StatusWithdrawn || out.Request.Teams == nil {
		t.Fatalf("ended %s, channel %+v: %v", out.Request.Status, out.Request.Teams, h.env.GetWorkflowError())
	}
	if !slices.ContainsFunc(out.Request.Findings, func(f request.Finding) bool {
		return f.Code == request.FindingTeamsRepliesUnavailable && f.Severity == request.SeverityWarning && strings.Contains(f.Message, "403")
	}) {
		t.Errorf("findings %+v", out.Request.Findings)
	}
	h.checkHistory(1, &out.Request)
}

// The subscription is a local call; when Graph fails it, the call goes on as an activity
// told that the subscription may exist already (the local attempt's answer may be what was
// lost), so that it looks for it before creating another.
func TestTeamsSubscriptionRetriedMayExist(t *testing.T) {
	h := newHarness(t, options{})
	h.teams.subsDown = 1
	h.update(2*time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
	out := h.run(request.Input{Request: newRequest(), Teams: teamsConfig})

	if out.Request.Status != request.StatusWithdrawn || out.Request.Teams == nil {
		t.Fatalf("ended %s, channel %+v: %v", out.Request.Status, out.Request.Teams, h.env.GetWorkflowError())
	}
	if len(h.teams.subs) != 2 || h.teams.subs[0].MayExist || !h.teams.subs[1].MayExist {
		t.Errorf("subscription calls %+v: the first local, the retry told it may exist", h.teams.subs)
	}
	if slices.ContainsFunc(out.Request.Findings, func(f request.Finding) bool { return f.Code == request.FindingTeamsRepliesUnavailable }) {
		t.Errorf("a retried subscription is not lost: %+v", out.Request.Findings)
	}
}

// Notifications the service could not take before the run continued as new go to the
// next run, which sends them.
func TestContinueAsNewCarriesTheOutbox(t *testing.T) {
	next := continuedInput(t, options{}, func(h *harness) {
		h.notifyFail = 1 << 30
		h.env.SetContinueAsNewSuggested(true)
	})
	if next.Resume.Messaging != messagingVersion || len(next.Resume.Outbox) != 1 || next.Resume.Outbox[0].Seq != 6 ||
		next.Resume.Outbox[0].Type != request.EventMessagePosted {
		t.Fatalf("resume %+v", next.Resume)
	}
	h := newHarness(t, options{})
	h.update(time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
	h.runFrom(next)
	var keys []string
	for _, n := range h.notified {
		keys = append(keys, n.Key)
	}
	if want := []string{"r1-6-message_posted", "r1-7-withdrawn"}; !slices.Equal(keys, want) {
		t.Errorf("notified %q, want %q", keys, want)
	}
}

// A run continued from one started before notifications and Teams keeps without them.
func TestOldRunsStayWithoutMessaging(t *testing.T) {
	h := newHarness(t, options{})
	h.env.OnGetVersion(messagingChange, workflow.DefaultVersion, messagingVersion).Return(workflow.DefaultVersion)
	h.update(time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
	out := h.run(request.Input{Request: newRequest(), Teams: teamsConfig})
	if err := h.env.GetWorkflowError(); err != nil || out.Request.Status != request.StatusWithdrawn {
		t.Fatalf("ended %s: %v", out.Request.Status, err)
	}
	if len(h.notified) != 0 || len(h.teams.created) != 0 {
		t.Errorf("an old run notified %d times, created %d channels", len(h.notified), len(h.teams.created))
	}
}

// People with an Entra id: a private channel lists the submitter from the start and each
// person who acts later, once; a person Graph refuses is a finding; a reply written in
// Teams by someone of the request is theirs and reaches the other side only; Entra ids
// stay out of the history.
func TestPrivateChannelMembersAndKnownRepliers(t *testing.T) {
	h := newHarness(t, options{})
	h.teams.private = true
	h.teams.strangers = []string{"aad-colleen"}
	aliceAAD, modAAD, colleenAAD := alice, mod, colleen
	aliceAAD.EntraID, modAAD.EntraID, colleenAAD.EntraID = "aad-alice", "aad-mod", "aad-colleen"
	h.teams.message("t-1", "aad-alice", "Alice Martin (OPCO 2i)", "Here are the sources", at(150*time.Minute))
	h.update(1*time.Hour, request.UpdateAssign, request.AssignInput{Actor: modAAD, Moderator: "mod-1"})
	h.update(2*time.Hour, request.UpdateAsk, request.AskInput{Actor: modAAD, Text: "Sources?"})
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(request.SignalTeamsReply, request.TeamsReply{ChannelID: fakeChannel, MessageID: "t-1"})
	}, 150*time.Minute)
	h.update(3*time.Hour, request.UpdateMessage, request.MessageInput{Actor: colleenAAD, Text: "Colleen here"})
	h.update(4*time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: aliceAAD})
	req := newRequest()
	req.SubmittedBy = aliceAAD
	out := h.run(request.Input{Request: req, Teams: teamsConfig})

	if out.Request.Status != request.StatusWithdrawn || out.Request.Teams == nil || !out.Request.Teams.Private {
		t.Fatalf("ended %s with channel %+v: %v", out.Request.Status, out.Request.Teams, h.env.GetWorkflowError())
	}
	f := h.teams
	if len(f.created) != 1 || !slices.Equal(f.created[0].Members, []string{"aad-alice"}) {
		t.Errorf("created %+v", f.created)
	}
	if len(f.added) != 1 || f.added[0] != (teams.AddMemberInput{ChannelID: fakeChannel, UserID: "aad-mod"}) {
		t.Errorf("added %+v, want the moderator once", f.added)
	}
	if !slices.ContainsFunc(out.Request.Findings, func(f request.Finding) bool {
		return f.Code == request.FindingTeamsMemberNotAdded && strings.HasPrefix(f.Message, "Colleen could not be added") && strings.Contains(f.Message, "404")
	}) {
		t.Errorf("findings %+v", out.Request.Findings)
	}
	reply := h.event(request.EventTeamsReply, 0)
	if reply.Actor != alice {
		t.Errorf("reply by %+v, want %+v", reply.Actor, alice)
	}
	for _, n := range h.notified {
		if n.Event == notifclient.EventTeamsReply && (!slices.Equal(n.To.Users, []string{"mod-1"}) || len(n.To.Orgs) != 0 || !slices.Equal(n.ExcludeUsers, []string{"alice"})) {
			t.Errorf("reply notification %+v: the assignee only", n)
		}
	}
	for _, e := range h.events {
		if e.Actor.EntraID != "" || e.Request.SubmittedBy.EntraID != "" {
			t.Fatalf("event %d carries an Entra id: %+v", e.Seq, e.Actor)
		}
	}
	h.checkHistory(1, &out.Request)
}

// A standard channel is the whole team's: nobody is added to it.
func TestStandardChannelAddsNobody(t *testing.T) {
	h := newHarness(t, options{})
	modAAD := mod
	modAAD.EntraID = "aad-mod"
	h.update(time.Hour, request.UpdateAssign, request.AssignInput{Actor: modAAD, Moderator: "mod-1"})
	h.update(2*time.Hour, request.UpdateWithdraw, request.WithdrawInput{Actor: alice})
	out := h.run(request.Input{Request: newRequest(), Teams: teamsConfig})
	if out.Request.Status != request.StatusWithdrawn || out.Request.Teams == nil || out.Request.Teams.Private {
		t.Fatalf("ended %s with channel %+v: %v", out.Request.Status, out.Request.Teams, h.env.GetWorkflowError())
	}
	if len(h.teams.added) != 0 {
		t.Errorf("added %+v to a standard channel", h.teams.added)
	}
}
