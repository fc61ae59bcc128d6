// Package request is the contract of the evolution-request workflow: its task queue,
// workflow id, update and query names, payloads, statuses and error types. Services import
// this package (never the workflow implementation, never activities/).
package request

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/plateforme-rome/rome/clients/refclient"
)

// WorkflowType is the registered name of the request workflow.
const WorkflowType = "EvolutionRequest"

// WorkflowID is the workflow id of a request: one workflow per request, found from its id.
func WorkflowID(requestID string) string { return "request-" + requestID }

// Summary says what a request is in the Temporal UI's list and page (the workflow's static
// summary): its fiche, its title and the organisation that filed it.
func Summary(r Request) string {
	fiche := r.CodeRome
	if fiche == "" {
		fiche = "new fiche"
	}
	return fmt.Sprintf("%s · %s · %s", fiche, r.Title, r.Org)
}

// ChangeSetID is the id of the change set that publishes a request's accepted operations:
// derived from the request and the decision round, so a retried publication is applied once.
func ChangeSetID(requestID string, round int) string {
	return fmt.Sprintf("%s-decision-%d", requestID, round)
}

// Kind is what a request asks for.
type Kind string

const (
	KindModifyFiche     Kind = "modify_fiche"
	KindCreateFromKnown Kind = "create_fiche_from_known_appellation"
	KindCreateFromNew   Kind = "create_fiche_from_new_appellation"
)

// Kinds are the request kinds, in the API's order.
var Kinds = []Kind{KindModifyFiche, KindCreateFromKnown, KindCreateFromNew}

// Status is where a request is in its life. The values are those of the API and of the
// RequestStatus search attribute.
type Status string

const (
	StatusSubmitted       Status = "SUBMITTED"
	StatusChecking        Status = "CHECKING"
	StatusAwaitingTriage  Status = "AWAITING_TRIAGE"
	StatusInReview        Status = "IN_REVIEW"
	StatusAwaitingPartner Status = "AWAITING_PARTNER"
	StatusPublishing      Status = "PUBLISHING"
	// StatusAccepted: under release trains, the accepted change set waits in a release
	// (Request.Release) until that release is published.
	StatusAccepted  Status = "ACCEPTED"
	StatusPublished Status = "PUBLISHED"
	StatusRejected  Status = "REJECTED"
	StatusWithdrawn Status = "WITHDRAWN"
	StatusExpired   Status = "EXPIRED"
)

// Statuses are the request statuses, in the order of a request's life.
var Statuses = []Status{
	StatusSubmitted, StatusChecking, StatusAwaitingTriage, StatusInReview, StatusAwaitingPartner,
	StatusPublishing, StatusAccepted, StatusPublished, StatusRejected, StatusWithdrawn, StatusExpired,
}

// Closed tells whether a request has reached one of its final statuses.
func (s Status) Closed() bool {
	switch s {
	case StatusPublished, StatusRejected, StatusWithdrawn, StatusExpired:
		return true
	}
	return false
}

// Actor is who did something: a subject with its role and, for partners, organisation.
type Actor struct {
	Sub  string `json:"sub"`
	Name string `json:"name,omitempty"`
	Role string `json:"role"`
	Org  string `json:"org,omitempty"`
	// EntraID is the person's Microsoft Entra object id, from their token, when they have
	// one: the workflow adds them to the request's private Teams channel and recognises
	// their replies there. It stays out of the request's history.
	EntraID string `json:"entraId,omitempty"`
}

// Roles, as the platform's tokens carry them.
const (
	RolePartner   = "partner"
	RoleModerator = "moderator"
	RoleAdmin     = "admin"
	RoleService   = "service"
	RoleTeams     = "teams" // the author of a Teams reply: a Teams user, side unknown
)

// Operation is a typed change to a fiche (the referential's contract).
type Operation = refclient.Operation

// Decision values of one operation.
const (
	DecisionAccepted = "accepted"
	DecisionRejected = "rejected"
	DecisionAmended  = "amended" // accepted with the moderator's amendment
)

// Decisions are the decisions a moderator takes on an operation.
var Decisions = []string{DecisionAccepted, DecisionRejected, DecisionAmended}

// Decision is the moderator's verdict on one operation.
type Decision struct {
	Decision  string     `json:"decision"`
	Rationale string     `json:"rationale,omitempty"`
	Amendment *Operation `json:"amendment,omitempty"`
	DecidedBy Actor      `json:"decidedBy"`
	DecidedAt time.Time  `json:"decidedAt"`
}

// RequestOperation is an operation of a request with its decision, once taken. Its JSON is
// the operation's own fields plus "decision".
type RequestOperation struct {
	Operation
	Decision *Decision `json:"decision"`
}

// MarshalJSON flattens the operation and adds its decision (api.md).
func (o RequestOperation) MarshalJSON() ([]byte, error) {
	op, err := json.Marshal(o.Operation)
	if err != nil {
		return nil, err
	}
	dec, err := json.Marshal(o.Decision)
	if err != nil {
		return nil, err
	}
	return append(append(op[:len(op)-1], `,"decision":`...), append(dec, '}')...), nil
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (o *RequestOperation) UnmarshalJSON(b []byte) error {
	var d struct {
		Decision *Decision `json:"decision"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return err
	}
	o.Decision = d.Decision
	return json.Unmarshal(b, &o.Operation)
}

// PublishedOperations are what the request publishes under its decisions: the accepted
// operations as they are, the amended ones replaced by their amendment under the
// operation's id, the rejected ones left out. An operation not decided yet counts as
// accepted, so that a preview before the decision shows the request as submitted.
func (r Request) PublishedOperations() []Operation {
	ops := []Operation{}
	for _, o := range r.Operations {
		switch {
		case o.Decision == nil || o.Decision.Decision == DecisionAccepted:
			ops = append(ops, o.Operation)
		case o.Decision.Decision == DecisionAmended && o.Decision.Amendment != nil:
			amended := *o.Decision.Amendment
			amended.ID = o.ID
			ops = append(ops, amended)
		}
	}
	return ops
}

// Finding severities.
const (
	SeverityError   = "error"   // the request cannot go on as it is
	SeverityWarning = "warning" // the moderator should look at it
)

// Finding is what the automated checks found, attached to the request for the moderator.
type Finding struct {
	Code        string `json:"code"` // e.g. unknown_competence, duplicate_appellation, overlapping_request, publication_conflict
	Severity    string `json:"severity"`
	OperationID string `json:"operationId,omitempty"`
	Field       string `json:"field,omitempty"`
	Message     string `json:"message"`
	OtherID     string `json:"otherRequestId,omitempty"` // the other open request, for overlaps
}

// BlockingFinding is a finding that keeps the operation from being accepted as it is (it
// does not apply to the referential, or no longer does after a publication conflict): the
// moderator amends or rejects it.
func (r Request) BlockingFinding(operationID string) (Finding, bool) {
	for _, f := range r.Findings {
		if f.OperationID == operationID && f.Severity == SeverityError {
			return f, true
		}
	}
	return Finding{}, false
}

// Question is a clarification asked by a moderator and, once given, the partner's answer.
type Question struct {
	ID         string     `json:"id"`
	Text       string     `json:"text"`
	AskedBy    Actor      `json:"askedBy"`
	AskedAt    time.Time  `json:"askedAt"`
	Answer     *string    `json:"answer"`
	AnsweredBy *Actor     `json:"answeredBy,omitempty"`
	AnsweredAt *time.Time `json:"answeredAt"`
}

// Request is the state of an evolution request: what the query returns, what the intake
// API shows and what the projection stores.
type Request struct {
	ID               string             `json:"id"`
	Kind             Kind               `json:"kind"`
	CodeRome         string             `json:"codeRome"`
	Title            string             `json:"title"`
	Justification    string             `json:"justification"`
	Status           Status             `json:"status"`
	Org              string             `json:"org"`
	SubmittedBy      Actor              `json:"submittedBy"`
	Assignee         string             `json:"assignee"`
	Operations       []RequestOperation `json:"operations"`
	Findings         []Finding          `json:"findings"`
	Questions        []Question         `json:"questions"`
	PublishedVersion *int               `json:"publishedVersion"`
	Release          *int               `json:"release"` // the release its change set waits in or was published with (release trains)
	ChangeSetID      string             `json:"changeSetId,omitempty"`
	ClosedReason     string             `json:"closedReason,omitempty"`
	Teams            *TeamsChannel      `json:"teams,omitempty"` // the request's Teams channel, once created
	CreatedAt        time.Time          `json:"createdAt"`
	UpdatedAt        time.Time          `json:"updatedAt"`
}

// Timers are the request's deadlines. The moderator's decision clock stops while the
// request waits for the partner.
type Timers struct {
	TriageReminder     time.Duration `json:"triageReminder"`     // no assignment yet: remind the moderators
	TriageEscalation   time.Duration `json:"triageEscalation"`   // still none: escalate to the admins
	DecisionReminder   time.Duration `json:"decisionReminder"`   // assigned, no decision: remind the assignee
	DecisionEscalation time.Duration `json:"decisionEscalation"` // still none: escalate to the admins
	PartnerReminder    time.Duration `json:"partnerReminder"`    // a question waits: remind the partner
	QuestionExpiry     time.Duration `json:"questionExpiry"`     // still unanswered: the request expires
}

// DefaultTimers are realistic defaults, in days.
var DefaultTimers = Timers{
	TriageReminder:     3 * 24 * time.Hour,
	TriageEscalation:   7 * 24 * time.Hour,
	DecisionReminder:   10 * 24 * time.Hour,
	DecisionEscalation: 20 * 24 * time.Hour,
	PartnerReminder:    7 * 24 * time.Hour,
	QuestionExpiry:     30 * 24 * time.Hour,
}

// Input starts a request workflow. (A run that continues as new adds its private state,
// which is the workflow's own business: see the lifecycle package.)
type Input struct {
	Request Request `json:"request"`
	Timers  Timers  `json:"timers"`
	// Link is the request's page in the web application: notifications and the Teams
	// channel link to it.
	Link string `json:"link,omitempty"`
	// Teams configures the request's Teams channel; nil when the platform runs without Teams.
	Teams *TeamsConfig `json:"teams,omitempty"`
	// AutoAssign: once checked, the request is given to the next of the active moderators
	// whose domains cover its fiche, in turn (the intake's ASSIGNMENT_RULE=round_robin); it
	// awaits triage when none does.
	AutoAssign bool `json:"autoAssign,omitempty"`
}

// AssignmentDomain is what the round-robin assignment matches the moderators' domains
// against: the request's code ROME, or the domaine professionnel of the fiche it creates.
func (r Request) AssignmentDomain() string {
	if r.CodeRome != "" {
		return r.CodeRome
	}
	for _, op := range r.Operations {
		if op.DomaineProfessionnel != "" {
			return op.DomaineProfessionnel
		}
	}
	return ""
}

// TeamsConfig is how the request's Teams channel reports replies: Graph change
// notifications to the intake's webhook. ClientState, the secret they carry, is normally
// empty here: the worker's Teams activities then use their own (GRAPH_CLIENT_STATE), so it
// stays out of the workflow's history.
type TeamsConfig struct {
	NotificationURL string `json:"notificationUrl"`
	ClientState     string `json:"clientState"`
}

// TeamsChannel is the request's channel in Microsoft Teams.
type TeamsChannel struct {
	ChannelID string `json:"channelId"`
	WebURL    string `json:"webUrl"`
	Name      string `json:"name"`
	Private   bool   `json:"private,omitempty"` // only its members see it
}

// Output is how a request ended.
type Output struct {
	Request Request `json:"request"`
}

// Query and update names.
const (
	QueryState = "state"

	UpdateAssign   = "assign"
	UpdateAsk      = "ask_question"
	UpdateAnswer   = "answer_question"
	UpdateAmend    = "amend_operations"
	UpdateMessage  = "post_message"
	UpdateDecide   = "decide"
	UpdateWithdraw = "withdraw"

	// SignalReleaseOutcome tells the workflow what a release did with its staged change set
	// (payload ReleaseOutcome). An outcome for another change set than the one it staged
	// last, or sent twice, changes nothing.
	SignalReleaseOutcome = "release_outcome"

	// SignalTeamsReply tells the workflow that a message was written in its Teams channel
	// (payload TeamsReply). Signalling a message twice records it once.
	SignalTeamsReply = "teams_reply"
)

// TeamsReply names a message written in the request's Teams channel.
type TeamsReply struct {
	ChannelID string `json:"channelId"`
	MessageID string `json:"messageId"`
}

// ReleaseOutcome is what a release did with a request's staged change set: published it
// (Version > 0) or returned it with the findings that say why it no longer applies.
type ReleaseOutcome struct {
	Release     int       `json:"release"`
	ChangeSetID string    `json:"changeSetId"`
	Version     int       `json:"version,omitempty"`
	CodeRome    string    `json:"codeRome,omitempty"` // the fiche's code in that version (a new fiche gets it then)
	Findings    []Finding `json:"findings,omitempty"`
}

// Published tells whether the release published the change set.
func (o ReleaseOutcome) Published() bool { return o.Version > 0 }

// AssignInput assigns the request to a moderator (the caller or another one).
type AssignInput struct {
	Actor     Actor  `json:"actor"`
	Moderator string `json:"moderator"`
}

// AskInput asks the partner a clarification question.
type AskInput struct {
	Actor Actor  `json:"actor"`
	Text  string `json:"text"`
}

// AnswerInput answers an open question.
type AnswerInput struct {
	Actor      Actor  `json:"actor"`
	QuestionID string `json:"questionId"`
	Text       string `json:"text"`
}

// AmendInput replaces the operations of the request (the checks run again).
type AmendInput struct {
	Actor      Actor       `json:"actor"`
	Operations []Operation `json:"operations"`
}

// MessageInput is a free message from either side.
type MessageInput struct {
	Actor Actor  `json:"actor"`
	Text  string `json:"text"`
}

// OperationDecision is the verdict on one operation in a DecideInput.
type OperationDecision struct {
	OperationID string     `json:"operationId"`
	Decision    string     `json:"decision"`
	Rationale   string     `json:"rationale"`
	Amendment   *Operation `json:"amendment,omitempty"`
}

// DecideInput decides on every operation of the request.
type DecideInput struct {
	Actor     Actor               `json:"actor"`
	Decisions []OperationDecision `json:"decisions"`
}

// WithdrawInput withdraws the request.
type WithdrawInput struct {
	Actor  Actor  `json:"actor"`
	Reason string `json:"reason"`
}

// UpdateResult is what every update returns: the request after it, and the id of what it
// created (a question, a message), if any.
type UpdateResult struct {
	Request Request `json:"request"`
	ID      string  `json:"id,omitempty"`
}

// Rejection kinds: the application-error types an update validator returns, which the
// intake turns into HTTP statuses.
const (
	ErrInvalidTransition = "InvalidTransition" // 409: not possible in the current status
	ErrInvalidInput      = "InvalidInput"      // 422: a field is wrong
	ErrForbidden         = "Forbidden"         // 403: this actor may not do that
)

// Rejection is why an update was refused.
type Rejection struct {
	Kind    string `json:"kind"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	Status  Status `json:"status"` // the request's status when it was refused
}

func (r *Rejection) Error() string { return r.Message }

// Reject builds the error an update validator returns.
func Reject(kind string, status Status, field, format string, args ...any) error {
	r := Rejection{Kind: kind, Field: field, Message: fmt.Sprintf(format, args...), Status: status}
	return temporal.NewNonRetryableApplicationError(r.Message, kind, nil, r)
}

// AsRejection extracts a Rejection from an update's error, if it is one.
func AsRejection(err error) (*Rejection, bool) {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		return nil, false
	}
	switch appErr.Type() {
	case ErrInvalidTransition, ErrInvalidInput, ErrForbidden:
	default:
		return nil, false
	}
	var r Rejection
	if appErr.Details(&r) != nil {
		r = Rejection{Kind: appErr.Type(), Message: appErr.Error()}
	}
	return &r, true
}

// Event types of a request's history.
const (
	EventSubmitted           = "submitted"
	EventChecked             = "checks_completed"
	EventRejectedByChecks    = "rejected_by_checks"
	EventAssigned            = "assigned"
	EventQuestionAsked       = "question_asked"
	EventQuestionAnswered    = "question_answered"
	EventOperationsAmended   = "operations_amended"
	EventMessagePosted       = "message_posted"
	EventDecided             = "decided"
	EventPublicationConflict = "publication_conflict"
	EventStaged              = "staged" // accepted, waiting in a release (release trains)
	EventPublished           = "published"
	EventReminder            = "reminder"
	EventEscalation          = "escalation"
	EventWithdrawn           = "withdrawn"
	EventExpired             = "expired"
	EventTeamsChannelCreated = "teams_channel_created"
	EventTeamsUnavailable    = "teams_unavailable"
	EventTeamsReply          = "teams_reply"
)

// Event is one entry of a request's append-only history. Seq numbers a request's events
// from 1 without gaps: recording the same event twice stores it once, and another event
// under a recorded Seq takes its place (it comes from the replay of a workflow task that
// never completed, see the intake's RecordEvent).
type Event struct {
	RequestID string          `json:"requestId"`
	Seq       int             `json:"seq"`
	Type      string          `json:"type"`
	At        time.Time       `json:"at"`
	Actor     Actor           `json:"actor"`
	Data      json.RawMessage `json:"data"`
	// Request is the state right after the event: the projection stores it, so listings
	// never run ahead of the workflow.
	Request Request `json:"request"`
}

// EventData is the payload of an event (Event.Data): the fields its type uses, the
// others left out.
type EventData struct {
	Operations  []Operation         `json:"operations,omitempty"`  // submitted, operations_amended
	Findings    []Finding           `json:"findings,omitempty"`    // checks_completed, rejected_by_checks, operations_amended, publication_conflict
	Version     int                 `json:"version,omitempty"`     // the referential version checked against, or published
	Reason      string              `json:"reason,omitempty"`      // rejected_by_checks, decided (nothing accepted), withdrawn, expired, teams_unavailable
	Moderator   string              `json:"moderator,omitempty"`   // assigned; a reminder to the assignee
	QuestionID  string              `json:"questionId,omitempty"`  // question_asked, question_answered, partner reminder, expired
	MessageID   string              `json:"messageId,omitempty"`   // message_posted, teams_reply (the Teams message id)
	Text        string              `json:"text,omitempty"`        // question_asked, question_answered, message_posted, teams_reply
	Decisions   []OperationDecision `json:"decisions,omitempty"`   // decided
	ChangeSetID string              `json:"changeSetId,omitempty"` // published, publication_conflict, staged
	Release     int                 `json:"release,omitempty"`     // staged; published and publication_conflict through a release
	To          string              `json:"to,omitempty"`          // reminder, escalation: a Recipient
	Wait        string              `json:"wait,omitempty"`        // reminder, escalation: what waits too long (Wait*)
	Teams       *TeamsChannel       `json:"teams,omitempty"`       // teams_channel_created
}

// Recipients of reminders and escalations (EventData.To).
const (
	RecipientModerators = "moderators" // every moderator: a request waits for triage
	RecipientAssignee   = "assignee"   // the assigned moderator: a request waits for a decision
	RecipientAdmins     = "admins"     // an escalation
	RecipientPartner    = "partner"    // the partner's organisation: a question waits for an answer
)

// What a reminder or an escalation is about (EventData.Wait).
const (
	WaitTriage   = "triage"
	WaitDecision = "decision"
	WaitQuestion = "question"
)

// Finding codes of the workflow's own (the others are the referential's reason codes).
const (
	FindingOverlappingRequest      = "overlapping_request"       // another open request touches the same element
	FindingOperationsRequired      = "operations_required"       // the request has no operation
	FindingUnknownFiche            = "unknown_fiche"             // the referential's reason for a missing fiche: fatal when it is the request's own
	FindingPublicationConflict     = "publication_conflict"      // an accepted operation no longer applies
	FindingPublicationRefused      = "publication_refused"       // the referential refused the change set as a whole
	FindingReleaseConflict         = "release_conflict"          // a staged operation does not apply with the rest of its release
	FindingTeamsUnavailable        = "teams_unavailable"         // Microsoft Graph refused the request's channel
	FindingTeamsRepliesUnavailable = "teams_replies_unavailable" // Graph refused the subscription: replies in Teams do not come back
	FindingTeamsMemberNotAdded     = "teams_member_not_added"    // Graph refused to add a person to the private channel
	FindingTeamsLineNotPosted      = "teams_line_not_posted"     // Graph refused an event's line in the channel
	FindingTeamsChannelLost        = "teams_channel_lost"        // the channel was deleted in Teams: a new one replaced it
	// What an operation touches beyond its change (the referential's refclient.Impact):
	// warnings for the moderator to weigh, never blocking.
	FindingImpactMobilites          = "impact_mobilites"           // other fiches' mobilités lead to the fiche changed
	FindingImpactOrphanAppellations = "impact_orphan_appellations" // appellations left without a fiche nor a replacement
	FindingImpactOrphanItems        = "impact_orphan_items"        // an item taken off is then on no fiche
	FindingImpactSubscribers        = "impact_subscribers"         // webhook endpoints are notified of the change
	FindingImpactFollowers          = "impact_followers"           // people follow a fiche the change touches
)

// ImpactedFiches are the fiches that the operations of a dry run change with an impact
// (refclient.Impact.Fiches), each once, in order: those whose followers the checks count
// (FindingImpactFollowers) and the console's impact section shows.
func ImpactedFiches(results []refclient.Result) []string {
	var fiches []string
	for _, r := range results {
		if r.Impact == nil {
			continue
		}
		for _, code := range r.Impact.Fiches {
			if !slices.Contains(fiches, code) {
				fiches = append(fiches, code)
			}
		}
	}
	return fiches
}

// SystemActor is the actor of what the workflow does by itself (checks, timers).
var SystemActor = Actor{Sub: "system", Name: "Plateforme du ROME", Role: RoleService}
