// Package access is the contract of the access-request workflow. A recognised expert
// (OPCO, professional branch, institution) applies for an account through a public form;
// the workflow verifies their e-mail address, waits for an admin's review (approve with an
// organisation and a role, ask a question, reject with a reason), and on approval records
// them in the directory and, where Entra is configured, invites them as a B2B guest with
// the platform's app role. The applicant is told by e-mail at every step; a request left
// unverified expires. Services import this package, never the workflow's implementation
// (package access/flow).
package access

import (
	"fmt"
	"regexp"
	"time"

	"github.com/plateforme-rome/rome/workflows/request"
)

// WorkflowType is the registered name of the access-request workflow.
const WorkflowType = "AccessRequest"

// TaskQueue is the requests' one: the worker that runs the evolution requests runs these.
const TaskQueue = request.TaskQueue

// WorkflowID is the workflow id of access request id: the id is never reused.
func WorkflowID(id string) string { return "access-" + id }

// IDPattern is the shape of an access request's id ("acc_" and 24 hex digits).
var IDPattern = regexp.MustCompile(`^acc_[0-9a-f]{24}$`)

// KindAccess is the RequestKind search attribute of access-request workflows, so that ops
// tell them from evolution requests in the Temporal UI (they share RequestStatus and
// PartnerOrg, the organisation once an admin has chosen it).
const KindAccess = "ACCESS"

// Status is where an access request stands.
type Status string

// The statuses of an access request.
const (
	AwaitingVerification Status = "AWAITING_VERIFICATION"
	AwaitingReview       Status = "AWAITING_REVIEW"
	AwaitingApplicant    Status = "AWAITING_APPLICANT"
	Approved             Status = "APPROVED"
	Rejected             Status = "REJECTED"
	Expired              Status = "EXPIRED"
)

// Statuses lists them in the order of the process.
var Statuses = []Status{AwaitingVerification, AwaitingReview, AwaitingApplicant, Approved, Rejected, Expired}

// Closed tells whether nothing more happens to a request in status s.
func (s Status) Closed() bool { return s == Approved || s == Rejected || s == Expired }

// Application is what the applicant wrote in the form.
type Application struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	// OrgName and OrgKind name the applicant's organisation as they wrote it; the admin
	// who approves picks the directory's organisation.
	OrgName  string `json:"orgName"`
	OrgKind  string `json:"orgKind"`
	Position string `json:"position"`
	// Domains are grands domaines (A to N) or codes ROME.
	Domains    []string `json:"domains"`
	Motivation string   `json:"motivation"`
}

// Who wrote a message.
const (
	FromTeam      = "team"
	FromApplicant = "applicant"
)

// Message is one turn of the exchange between an admin and the applicant.
type Message struct {
	From string    `json:"from"`
	By   string    `json:"by,omitempty"` // the admin's subject; empty for the applicant
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// Decision is an admin's approval (role and organisation) or rejection (reason).
type Decision struct {
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Role   string    `json:"role,omitempty"`
	Org    string    `json:"org,omitempty"`
	Reason string    `json:"reason,omitempty"`
}

// MaxMessages bounds the exchange: a request that needs more is rejected or approved.
const MaxMessages = 20

// Request is an access request's state: what the workflow records in the intake's
// projection after each change (Seq orders the records: an older one never overwrites a
// newer one).
type Request struct {
	ID          string     `json:"id"`
	Seq         int        `json:"seq"`
	Status      Status     `json:"status"`
	Application            // the form, as sent
	Messages    []Message  `json:"messages"`
	Decision    *Decision  `json:"decision"`
	PersonSub   string     `json:"personSub,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	VerifiedAt  *time.Time `json:"verifiedAt,omitempty"`
	// ExpiresAt is when a request awaiting verification, or the applicant's answer, expires.
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// Timers are how long the workflow waits; zero values take the defaults.
type Timers struct {
	// Verification is how long an unverified request lives (DefaultVerification).
	Verification time.Duration `json:"verification,omitempty"`
	// Applicant is how long an admin's question waits for its answer (DefaultApplicant).
	Applicant time.Duration `json:"applicant,omitempty"`
}

// Defaults of Timers.
const (
	DefaultVerification = 7 * 24 * time.Hour
	DefaultApplicant    = 30 * 24 * time.Hour
)

// WithDefaults fills in the zero timers.
func (t Timers) WithDefaults() Timers {
	if t.Verification <= 0 {
		t.Verification = DefaultVerification
	}
	if t.Applicant <= 0 {
		t.Applicant = DefaultApplicant
	}
	return t
}

// Input starts an access request's workflow.
type Input struct {
	Request Request `json:"request"`
	Timers  Timers  `json:"timers"`
	// InviteGuests: approval also invites the person as an Entra B2B guest and assigns them
	// the app role of their platform role (the worker's Graph must be configured for it).
	InviteGuests bool `json:"inviteGuests,omitempty"`
}

// Output is how the request ended.
type Output struct {
	Request Request `json:"request"`
}

// Updates the intake sends (each returns the Request after it). The intake checks who may
// send them: admins review; the applicant verifies and answers through the signed links of
// their e-mails; Resend comes from the form sent again with the same address.
const (
	UpdateVerify  = "verify"
	UpdateResend  = "resend_verification"
	UpdateAsk     = "ask"
	UpdateAnswer  = "answer"
	UpdateApprove = "approve"
	UpdateReject  = "reject"
)

// VerifyInput: the applicant opened the verification link (the intake checked it).
type VerifyInput struct{}

// ResendInput: the applicant sent the form again before verifying their address.
type ResendInput struct{}

// AskInput is an admin's question to the applicant.
type AskInput struct {
	By       string `json:"by"`
	Question string `json:"question"`
}

// AnswerInput is the applicant's answer (the intake checked the link).
type AnswerInput struct {
	Text string `json:"text"`
}

// ApproveInput is an admin's approval: the organisation (an active one of the directory,
// checked by the intake) and the role the person gets.
type ApproveInput struct {
	By   string `json:"by"`
	Org  string `json:"org"`
	Role string `json:"role"`
}

// RejectInput is an admin's rejection.
type RejectInput struct {
	By     string `json:"by"`
	Reason string `json:"reason"`
}

// Roles an approved person may get.
var Roles = []string{"partner", "moderator", "admin"}

// Notices are the e-mails the workflow has the intake send (activities/intake.NotifyAccess):
// the intake writes them and signs the links they carry, which stay out of the history.
const (
	NoticeVerify   = "verify"    // to the applicant: confirm your address (a signed link)
	NoticeReceived = "received"  // to the applicant: address confirmed, the ROME team reviews
	NoticeToReview = "to_review" // to the admins: a verified request, or an answer, to review
	NoticeQuestion = "question"  // to the applicant: the admin's question (a signed link to answer)
	NoticeApproved = "approved"  // to the applicant: welcome
	NoticeRejected = "rejected"  // to the applicant: the reason
	NoticeExpired  = "expired"   // to the applicant: apply again
)

// Rejection kinds an update returns: the request's own (request.Reject) so that the intake
// turns them into the same HTTP statuses.
const (
	ErrInvalidTransition = request.ErrInvalidTransition
	ErrInvalidInput      = request.ErrInvalidInput
)

// Reject builds the error an update validator returns.
func Reject(kind string, status Status, field, format string, args ...any) error {
	return request.Reject(kind, request.Status(status), field, format, args...)
}

// PersonSub is the subject under which an approved applicant enters the directory until
// their first sign-in binds their token's subject (by their Entra object id, or in dev mode
// by their e-mail address).
func PersonSub(id string) string { return "invited-" + id }

// Summary is the workflow's one line in the Temporal UI.
func Summary(a Application) string {
	return fmt.Sprintf("Access request of %s (%s)", a.Name, a.OrgName)
}
