package lifecycle

import (
	"time"

	"github.com/plateforme-rome/rome/workflows/request"
)

// RunInput is what a run of the workflow starts with: the contract's request.Input, which
// the intake starts a request with, and, for a run that continues an earlier one, the
// workflow's private state. Its JSON is the Input's fields plus "resume", as the recorded
// histories hold it.
type RunInput struct {
	request.Input
	Resume *Resume `json:"resume,omitempty"`
}

// Resume is the workflow's private state carried across continue-as-new.
type Resume struct {
	Seq              int           `json:"seq"`              // last history event number
	DecisionRound    int           `json:"decisionRound"`    // publications attempted
	TriageElapsed    time.Duration `json:"triageElapsed"`    // time spent awaiting triage
	ModeratorElapsed time.Duration `json:"moderatorElapsed"` // decision clock, paused while awaiting the partner
	PartnerElapsed   time.Duration `json:"partnerElapsed"`   // time the open question has waited
	RemindersSent    []string      `json:"remindersSent"`    // reminder/escalation keys already sent in this wait
	NextQuestion     int           `json:"nextQuestion"`
	NextMessage      int           `json:"nextMessage"`
	NextOperation    int           `json:"nextOperation"` // number of the next server-assigned operation id (op-N)
	BaseVersion      int           `json:"baseVersion"`   // the referential version the checks ran on: the change set's base
	// Messaging is the version of notifications and Teams the request runs with
	// (workflow.GetVersion "teams-notifications"): 0 for requests started before them.
	Messaging int         `json:"messaging,omitempty"`
	Outbox    []Notice    `json:"outbox,omitempty"` // events not notified yet
	Teams     *TeamsState `json:"teams,omitempty"`  // the Teams channel's work in progress
	// ReleaseOutcomes are the release outcomes signalled and not applied yet (release.go).
	ReleaseOutcomes []request.ReleaseOutcome `json:"releaseOutcomes,omitempty"`
}

// Notice is a recorded event still to be told to people (notified) or to the Teams
// channel (posted).
type Notice struct {
	Seq      int               `json:"seq"`
	Type     string            `json:"type"`
	Actor    request.Actor     `json:"actor"`
	Data     request.EventData `json:"data"`
	Assignee string            `json:"assignee,omitempty"` // the request's assignee when the event happened
}

// TeamsState is what the workflow keeps about the request's Teams channel.
type TeamsState struct {
	Unavailable           bool                 `json:"unavailable,omitempty"` // Graph refused the channel: the request goes on without
	SubscriptionID        string               `json:"subscriptionId,omitempty"`
	SubscriptionExpiresAt time.Time            `json:"subscriptionExpiresAt,omitzero"`
	Posts                 []Notice             `json:"posts,omitempty"` // events not posted yet, in order
	Inbox                 []request.TeamsReply `json:"inbox,omitempty"` // replies signalled, not recorded yet
	Seen                  []string             `json:"seen,omitempty"`  // ids of the messages posted or signalled already
	// People are the request's people Teams knows (with an Entra id): their replies in the
	// channel are theirs, and a private channel lists them.
	People  []request.Actor `json:"people,omitempty"`
	Joining []string        `json:"joining,omitempty"` // Entra ids to add to the private channel, in order
}
