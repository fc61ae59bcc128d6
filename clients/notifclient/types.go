package notifclient

import "time"

// Event is the type of a notification.
type Event string

// The events the platform notifies.
const (
	EventSubmitted  Event = "submitted"
	EventAssigned   Event = "assigned"
	EventQuestion   Event = "question"
	EventAnswer     Event = "answer"
	EventTeamsReply Event = "teams_reply"
	EventMessage    Event = "message"
	EventReminder   Event = "reminder"
	EventEscalation Event = "escalation"
	EventDecision   Event = "decision"
	EventPublished  Event = "published"
	EventWithdrawn  Event = "withdrawn"
	EventExpired    Event = "expired"
	// An idea from someone without an account, handed to an organisation's experts as a
	// draft request; and the ROME team's reply to its author.
	EventIdeaHandedOver Event = "idea_handed_over"
	EventIdeaReply      Event = "idea_reply"
	// An access request: the e-mails to its applicant, and the admins' notice of one to
	// review.
	EventAccessRequest Event = "access_request"
	EventAccessReview  Event = "access_review"
)

// Events lists every event, in a stable order.
var Events = []Event{
	EventSubmitted, EventAssigned, EventQuestion, EventAnswer, EventTeamsReply, EventMessage,
	EventReminder, EventEscalation, EventDecision, EventPublished, EventWithdrawn, EventExpired,
	EventIdeaHandedOver, EventIdeaReply, EventAccessRequest, EventAccessReview,
}

// Valid reports whether e is a known event.
func (e Event) Valid() bool {
	for _, k := range Events {
		if k == e {
			return true
		}
	}
	return false
}

// Actor is who caused the event.
type Actor struct {
	Sub  string `json:"sub"`
	Name string `json:"name,omitempty"`
	Role string `json:"role,omitempty"`
	Org  string `json:"org,omitempty"`
}

// Recipients names who must be told: users by subject, every known user
// holding one of the roles (moderator, admin), every known user of one of
// the partner organisations, and people without an account by their e-mail
// address (an idea's author): one e-mail each, at once, and no inbox.
type Recipients struct {
	Users  []string `json:"users,omitempty"`
	Roles  []string `json:"roles,omitempty"`
	Orgs   []string `json:"orgs,omitempty"`
	Emails []string `json:"emails,omitempty"`
}

// MaxEmailRecipients bounds Recipients.Emails.
const MaxEmailRecipients = 10

// Notification is the body of POST /v1/notifications. Key makes it
// idempotent: the same key and body again return the first answer.
// Followers of RequestID and of CodeRome are added to the recipients;
// ExcludeUsers (usually the actor) are removed. Org is the request's partner
// organisation: a partner follower is told only of its own organisation's
// requests.
type Notification struct {
	Key          string     `json:"key"`
	Event        Event      `json:"event"`
	RequestID    string     `json:"requestId,omitempty"`
	CodeRome     string     `json:"codeRome,omitempty"`
	Org          string     `json:"org,omitempty"`
	Title        string     `json:"title"`
	Text         string     `json:"text,omitempty"`
	Link         string     `json:"link,omitempty"`
	Actor        Actor      `json:"actor"`
	To           Recipients `json:"to"`
	ExcludeUsers []string   `json:"excludeUsers,omitempty"`
}

// Created is the answer to POST /v1/notifications: the notification's id
// and the subjects it was delivered to (in-app), sorted.
type Created struct {
	ID         string    `json:"id"`
	Key        string    `json:"key"`
	Event      Event     `json:"event"`
	Recipients []string  `json:"recipients"`
	CreatedAt  time.Time `json:"createdAt"`
}

// InboxItem is one notification in a user's inbox.
type InboxItem struct {
	ID        string     `json:"id"`
	Event     Event      `json:"event"`
	RequestID string     `json:"requestId,omitempty"`
	CodeRome  string     `json:"codeRome,omitempty"`
	Title     string     `json:"title"`
	Text      string     `json:"text,omitempty"`
	Link      string     `json:"link,omitempty"`
	Actor     Actor      `json:"actor"`
	CreatedAt time.Time  `json:"createdAt"`
	Read      bool       `json:"read"`
	ReadAt    *time.Time `json:"readAt"`
}

// Inbox is a page of GET /v1/notifications.
type Inbox struct {
	Items       []InboxItem `json:"items"`
	NextCursor  string      `json:"nextCursor,omitempty"`
	UnreadCount int64       `json:"unreadCount"`
}

// Frequency says when the e-mails and Teams notifications of an event are
// sent: each at once, or gathered in a daily digest.
type Frequency string

// Frequencies.
const (
	Immediate Frequency = "immediate"
	Daily     Frequency = "daily"
)

// Channels are a user's choices for one event. InApp is always true. Teams
// is a Microsoft Teams activity-feed notification, sent to users whose token
// carried their Entra object id; it is off until the user turns it on.
type Channels struct {
	InApp     bool      `json:"inApp"`
	Email     bool      `json:"email"`
	Teams     bool      `json:"teams"`
	Frequency Frequency `json:"frequency"`
}

// Preferences are a user's notification settings. Email overrides the
// address of the user's token (empty: the token's).
type Preferences struct {
	Email  string             `json:"email"`
	Events map[Event]Channels `json:"events"`
}

// Follow is a request or a fiche (code ROME) a user follows: exactly one is set.
type Follow struct {
	RequestID string     `json:"requestId,omitempty"`
	CodeRome  string     `json:"codeRome,omitempty"`
	CreatedAt *time.Time `json:"createdAt,omitempty"`
}

// MaxFollowerCodes bounds the fiches one GET /v1/follows/counts counts
// (FollowerCounts asks for more in several calls).
const MaxFollowerCodes = 100

// FollowerCount is how many people follow a fiche: the known users (those its
// notifications reach) who follow it, whatever their organisation.
type FollowerCount struct {
	CodeRome  string `json:"codeRome"`
	Followers int    `json:"followers"`
}

// DeadLetter is a delivery given up after its last attempt or a permanent
// refusal. To is the e-mail address, or the Entra object id on Teams;
// MessageID is an e-mail's only.
type DeadLetter struct {
	ID             string    `json:"id"`
	Channel        string    `json:"channel"` // email, teams
	MessageID      string    `json:"messageId,omitempty"`
	NotificationID string    `json:"notificationId,omitempty"`
	Sub            string    `json:"sub"`
	To             string    `json:"to"`
	Kind           string    `json:"kind"`
	Attempts       int       `json:"attempts"`
	LastError      string    `json:"lastError"`
	DeadAt         time.Time `json:"deadAt"`
	CreatedAt      time.Time `json:"createdAt"`
}

// DeadLetters is a page of GET /v1/notifications/dead-letters.
type DeadLetters struct {
	Items      []DeadLetter `json:"items"`
	NextCursor string       `json:"nextCursor,omitempty"`
}

// User is a person the service knows: someone who called its API (a partner, moderator
// or admin; services are not recorded), as their latest token described them. Only known
// users receive role and organisation notifications, e-mails and Teams notifications.
type User struct {
	Sub   string `json:"sub"`
	Name  string `json:"name"`  // empty when the token named nobody
	Role  string `json:"role"`  // partner, moderator, admin
	Org   string `json:"org"`   // a partner's organisation; empty for the other roles
	Email string `json:"email"` // where e-mails go: the user's preferences' address, else the token's; empty: no e-mail
	// HasEntraID tells whether the token carried a Microsoft Entra object id, without
	// which the user gets no Teams notification.
	HasEntraID bool      `json:"hasEntraId"`
	LastSeenAt time.Time `json:"lastSeenAt"` // the user's latest call (or change of preferences)
}

// Users is a page of GET /v1/users, by subject.
type Users struct {
	Items      []User `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

// TeamsDelivery is a Microsoft Teams activity-feed notification the worker sends.
type TeamsDelivery struct {
	ID        string `json:"id"`        // the outbox row
	Kind      string `json:"kind"`      // "notification" or "digest"
	Recipient string `json:"recipient"` // the user's Microsoft Entra object id
	Attempt   int    `json:"attempt"`   // 1 for the first
	Topic     string `json:"topic"`     // what the feed item is about: the notification's title, or the digest's
	Preview   string `json:"preview"`   // the line the feed shows: at most 150 characters (runes), cut with "…"
	Link      string `json:"link"`      // absolute URL opened from the feed (PUBLIC_URL + relative links; the inbox for a digest)
	// LeaseSeconds is how long the claimer holds the delivery from its claim: past that,
	// another worker may claim it and send it, and a report may not count.
	LeaseSeconds int `json:"leaseSeconds"`
}

// TeamsResult reports one delivery attempt; an empty Error means sent.
type TeamsResult struct {
	Owner             string `json:"owner"`
	Error             string `json:"error,omitempty"`
	Permanent         bool   `json:"permanent,omitempty"`         // Graph refused it for good: dead letter now
	RetryAfterSeconds int    `json:"retryAfterSeconds,omitempty"` // Graph's Retry-After: no attempt before
}

// TeamsOutcome is the row's state after a report; Recorded is false when the
// owner had lost its lease (the report changed nothing).
type TeamsOutcome struct {
	Status   string `json:"status"` // pending, sent, dead
	Recorded bool   `json:"recorded"`
}
