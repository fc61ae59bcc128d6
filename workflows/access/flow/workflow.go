// Package flow is the access-request workflow (its contract: package access): one durable
// workflow per application, from the e-mail verification through the admins' review to the
// person's entry in the directory, or the request's rejection or expiry.
package flow

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/plateforme-rome/rome/activities/intake"
	"github.com/plateforme-rome/rome/activities/teams"
	"github.com/plateforme-rome/rome/workflows/access"
	"github.com/plateforme-rome/rome/workflows/request"
)

// Register registers the access-request workflow and the intake's activities it calls on
// a worker polling access.TaskQueue. The Entra invitations are the Teams activities,
// registered with the messaging (lifecycle.RegisterMessaging) when Graph is configured.
func Register(r worker.Registry, in *intake.AccessActivities) {
	r.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: access.WorkflowType})
	r.RegisterActivity(in)
}

// Activity method values: the workflow never calls an activity by its name.
var (
	intakeActs *intake.AccessActivities
	teamsActs  *teams.Activities
)

// callOptions: the intake and Graph may be down for a while; every call is idempotent, so
// it is retried until it succeeds (a pending activity shows ops what fails), but for
// Graph's refusals.
var callOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    10 * time.Minute,
	},
}

// Workflow runs one access request until it is approved, rejected or expired.
func Workflow(ctx workflow.Context, in access.Input) (access.Output, error) {
	f := &flow{req: in.Request, timers: in.Timers.WithDefaults(), invite: in.InviteGuests, mu: workflow.NewMutex(ctx)}
	if f.req.Status != access.AwaitingVerification || !access.IDPattern.MatchString(f.req.ID) {
		return access.Output{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("an access request starts awaiting verification with an acc_ id, not %q %q", f.req.Status, f.req.ID),
			"InvalidWorkflowInput", nil)
	}
	ctx = workflow.WithActivityOptions(ctx, callOptions)
	if err := f.registerUpdates(ctx); err != nil {
		return access.Output{}, err
	}
	if err := f.run(ctx); err != nil {
		return access.Output{}, err
	}
	return access.Output{Request: f.req}, nil
}

// flow is one run of an access request.
type flow struct {
	req    access.Request
	timers access.Timers
	invite bool
	// moves counts status changes, so that a wait ends even if the status comes back.
	moves int
	// mu serialises whatever changes the state and records it.
	mu workflow.Mutex
	// sending counts the notices on their way: the workflow ends once they are sent.
	sending int
	// resent counts the verification e-mails sent again.
	resent int
}

func (f *flow) run(ctx workflow.Context) error {
	if err := f.mu.Lock(ctx); err != nil {
		return err
	}
	err := f.change(ctx, func() { f.expireIn(ctx, f.timers.Verification) })
	if err == nil {
		f.tell(ctx, access.NoticeVerify)
	}
	f.mu.Unlock()
	if err != nil {
		return err
	}
	for !f.req.Status.Closed() {
		if err := f.wait(ctx); err != nil {
			return err
		}
	}
	if f.req.Status == access.Approved {
		if err := f.provision(ctx); err != nil {
			return err
		}
	}
	return workflow.Await(ctx, func() bool { return f.sending == 0 && workflow.AllHandlersFinished(ctx) })
}

// wait waits for the status to change, or for the current one's deadline, which expires
// the request.
func (f *flow) wait(ctx workflow.Context) error {
	moves := f.moves
	moved := func() bool { return f.moves != moves }
	var limit time.Duration
	switch f.req.Status {
	case access.AwaitingVerification:
		limit = f.timers.Verification
	case access.AwaitingApplicant:
		limit = f.timers.Applicant
	default: // the admins' review has no deadline
		return workflow.Await(ctx, moved)
	}
	left := min(f.req.ExpiresAt.Sub(workflow.Now(ctx)), limit) // a clock set back never waits longer
	if left > 0 {
		timerCtx, cancel := workflow.WithCancel(ctx)
		defer cancel()
		timer := workflow.NewTimerWithOptions(timerCtx, left, workflow.TimerOptions{Summary: "expire " + string(f.req.Status)})
		if err := workflow.Await(ctx, func() bool { return moved() || timer.IsReady() }); err != nil || moved() {
			return err
		}
	}
	if err := f.mu.Lock(ctx); err != nil {
		return err
	}
	defer f.mu.Unlock()
	if moved() { // an update took the mutex first
		return nil
	}
	if err := f.change(ctx, func() { f.req.Status, f.req.ExpiresAt = access.Expired, nil }); err != nil {
		return err
	}
	f.tell(ctx, access.NoticeExpired)
	return nil
}

// provision records the approved applicant in the directory and, with Entra, invites them
// as a guest with the app role of their platform role; then tells them.
func (f *flow) provision(ctx workflow.Context) error {
	var guest teams.InviteGuestOutput
	if f.invite {
		err := workflow.ExecuteActivity(withSummary(ctx, "invite the applicant as an Entra guest"), teamsActs.InviteGuest,
			teams.InviteGuestInput{Email: f.req.Email, Name: f.req.Name}).Get(ctx, &guest)
		if err != nil {
			return err
		}
	}
	var person intake.ProvisionPersonOutput
	err := workflow.ExecuteActivity(withSummary(ctx, "record the person in the directory"), intakeActs.ProvisionPerson,
		intake.ProvisionPersonInput{ID: f.req.ID, EntraID: guest.UserID}).Get(ctx, &person)
	if err != nil {
		return err
	}
	if f.invite {
		err := workflow.ExecuteActivity(withSummary(ctx, "assign the app role "+f.req.Decision.Role), teamsActs.AssignAppRole,
			teams.AssignAppRoleInput{UserID: guest.UserID, Role: f.req.Decision.Role}).Get(ctx, nil)
		if err != nil {
			return err
		}
	}
	if err := f.mu.Lock(ctx); err != nil {
		return err
	}
	defer f.mu.Unlock()
	if err := f.change(ctx, func() { f.req.PersonSub = person.Sub }); err != nil {
		return err
	}
	f.tell(ctx, access.NoticeApproved)
	return nil
}

func withSummary(ctx workflow.Context, summary string) workflow.Context {
	opts := callOptions
	opts.Summary = summary
	return workflow.WithActivityOptions(ctx, opts)
}

// change applies edit to the state and records it (the caller holds the mutex, or runs
// before any update can).
func (f *flow) change(ctx workflow.Context, edit func()) error {
	status := f.req.Status
	edit()
	f.req.Seq++
	f.req.UpdatedAt = workflow.Now(ctx).UTC()
	if f.req.Status != status {
		f.moves++
	}
	if err := workflow.ExecuteActivity(withSummary(ctx, "record "+string(f.req.Status)), intakeActs.RecordAccess,
		intake.RecordAccessInput{Request: f.req}).Get(ctx, nil); err != nil {
		return err
	}
	return f.index(ctx)
}

// expireIn sets the deadline of the current wait.
func (f *flow) expireIn(ctx workflow.Context, d time.Duration) {
	at := workflow.Now(ctx).Add(d).UTC()
	f.req.ExpiresAt = &at
}

// tell sends a notice in the background (the workflow ends once it is sent). Its key is
// the request's id, the notice and the record it follows, so a retry sends nothing twice.
func (f *flow) tell(ctx workflow.Context, notice string) {
	in := intake.NotifyAccessInput{ID: f.req.ID, Notice: notice, Key: "access-" + f.req.ID + "-" + notice + "-" + strconv.Itoa(f.req.Seq)}
	f.sending++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { f.sending-- }()
		err := workflow.ExecuteActivity(withSummary(ctx, "notify "+notice), intakeActs.NotifyAccess, in).Get(ctx, nil)
		if err != nil {
			workflow.GetLogger(ctx).Error("notice not sent", "notice", notice, "error", err)
		}
	})
}

// index keeps the search attributes: the kind, the status and, once chosen, the organisation.
func (f *flow) index(ctx workflow.Context) error {
	updates := []temporal.SearchAttributeUpdate{
		request.RequestKindKey.ValueSet(access.KindAccess),
		request.RequestStatusKey.ValueSet(string(f.req.Status)),
	}
	if f.req.Decision != nil && f.req.Decision.Org != "" {
		updates = append(updates, request.PartnerOrgKey.ValueSet(f.req.Decision.Org))
	}
	return workflow.UpsertTypedSearchAttributes(ctx, updates...)
}

// registerUpdates registers the updates; each validator runs again under the mutex (the
// state may have moved while the update waited for it).
func (f *flow) registerUpdates(ctx workflow.Context) error {
	for _, err := range []error{
		handle(ctx, f, access.UpdateVerify, f.checkVerify, f.verify),
		handle(ctx, f, access.UpdateResend, f.checkResend, f.resend),
		handle(ctx, f, access.UpdateAsk, f.checkAsk, f.ask),
		handle(ctx, f, access.UpdateAnswer, f.checkAnswer, f.answer),
		handle(ctx, f, access.UpdateApprove, f.checkApprove, f.approve),
		handle(ctx, f, access.UpdateReject, f.checkReject, f.reject),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

func handle[In any](ctx workflow.Context, f *flow, name string, check func(In) error,
	apply func(workflow.Context, In) error) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, name,
		func(ctx workflow.Context, in In) (access.Request, error) {
			if err := f.mu.Lock(ctx); err != nil {
				return access.Request{}, err
			}
			defer f.mu.Unlock()
			if err := check(in); err != nil {
				return access.Request{}, err
			}
			if err := apply(ctx, in); err != nil {
				return access.Request{}, err
			}
			return f.req, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, in In) error { return check(in) }})
}

func (f *flow) checkStatus(action string, allowed ...access.Status) error {
	if slices.Contains(allowed, f.req.Status) {
		return nil
	}
	return access.Reject(access.ErrInvalidTransition, f.req.Status, "", "cannot %s an access request that is %s", action, f.req.Status)
}

func (f *flow) checkVerify(access.VerifyInput) error {
	return f.checkStatus("verify", access.AwaitingVerification)
}

func (f *flow) verify(ctx workflow.Context, _ access.VerifyInput) error {
	err := f.change(ctx, func() {
		now := workflow.Now(ctx).UTC()
		f.req.Status, f.req.VerifiedAt, f.req.ExpiresAt = access.AwaitingReview, &now, nil
	})
	if err == nil {
		f.tell(ctx, access.NoticeToReview)
		if workflow.GetVersion(ctx, receivedNoticeChange, workflow.DefaultVersion, 1) == 1 {
			f.tell(ctx, access.NoticeReceived)
		}
	}
	return err
}

// receivedNoticeChange: the applicant is told by e-mail that their address is confirmed
// (requests verified before it were not).
const receivedNoticeChange = "applicant-told-of-verification"

// resendLimit is how many times a request sends its verification e-mail again.
const resendLimit = 5

func (f *flow) checkResend(access.ResendInput) error {
	if err := f.checkStatus("resend the verification of", access.AwaitingVerification); err != nil {
		return err
	}
	if f.resent >= resendLimit {
		return access.Reject(access.ErrInvalidTransition, f.req.Status, "", "the verification e-mail was sent %d times already", resendLimit)
	}
	return nil
}

// resend records the request again (its Seq makes a new key) and sends a fresh link.
func (f *flow) resend(ctx workflow.Context, _ access.ResendInput) error {
	err := f.change(ctx, func() { f.resent++ })
	if err == nil {
		f.tell(ctx, access.NoticeVerify)
	}
	return err
}

func (f *flow) checkText(field, text string, max int) error {
	if n := len([]rune(text)); n == 0 || n > max {
		return access.Reject(access.ErrInvalidInput, f.req.Status, field, "must be 1 to %d characters", max)
	}
	return nil
}

func (f *flow) checkExchange() error {
	if len(f.req.Messages) >= access.MaxMessages {
		return access.Reject(access.ErrInvalidTransition, f.req.Status, "", "the exchange has reached %d messages: approve or reject the request", access.MaxMessages)
	}
	return nil
}

// MaxText bounds a question, an answer and a reason.
const MaxText = 2000

func (f *flow) checkAsk(in access.AskInput) error {
	return firstError(f.checkStatus("ask about", access.AwaitingReview), f.checkActor(in.By), f.checkText("question", in.Question, MaxText), f.checkExchange())
}

func (f *flow) ask(ctx workflow.Context, in access.AskInput) error {
	err := f.change(ctx, func() {
		f.req.Status = access.AwaitingApplicant
		f.req.Messages = append(f.req.Messages, access.Message{From: access.FromTeam, By: in.By, Text: in.Question, At: workflow.Now(ctx).UTC()})
		f.expireIn(ctx, f.timers.Applicant)
	})
	if err == nil {
		f.tell(ctx, access.NoticeQuestion)
	}
	return err
}

func (f *flow) checkAnswer(in access.AnswerInput) error {
	return firstError(f.checkStatus("answer", access.AwaitingApplicant), f.checkText("text", in.Text, MaxText), f.checkExchange())
}

func (f *flow) answer(ctx workflow.Context, in access.AnswerInput) error {
	err := f.change(ctx, func() {
		f.req.Status, f.req.ExpiresAt = access.AwaitingReview, nil
		f.req.Messages = append(f.req.Messages, access.Message{From: access.FromApplicant, Text: in.Text, At: workflow.Now(ctx).UTC()})
	})
	if err == nil {
		f.tell(ctx, access.NoticeToReview)
	}
	return err
}

func (f *flow) checkActor(by string) error {
	if by == "" {
		return access.Reject(access.ErrInvalidInput, f.req.Status, "by", "the admin acting has no subject")
	}
	return nil
}

func (f *flow) checkApprove(in access.ApproveInput) error {
	var role error
	if !slices.Contains(access.Roles, in.Role) {
		role = access.Reject(access.ErrInvalidInput, f.req.Status, "role", "must be one of %v", access.Roles)
	}
	var org error
	if in.Org == "" {
		org = access.Reject(access.ErrInvalidInput, f.req.Status, "org", "names no organisation")
	}
	return firstError(f.checkStatus("approve", access.AwaitingReview, access.AwaitingApplicant), f.checkActor(in.By), role, org)
}

func (f *flow) approve(ctx workflow.Context, in access.ApproveInput) error {
	return f.change(ctx, func() {
		f.req.Status, f.req.ExpiresAt = access.Approved, nil
		f.req.Decision = &access.Decision{By: in.By, At: workflow.Now(ctx).UTC(), Role: in.Role, Org: in.Org}
	})
}

func (f *flow) checkReject(in access.RejectInput) error {
	return firstError(f.checkStatus("reject", access.AwaitingReview, access.AwaitingApplicant), f.checkActor(in.By), f.checkText("reason", in.Reason, MaxText))
}

func (f *flow) reject(ctx workflow.Context, in access.RejectInput) error {
	err := f.change(ctx, func() {
		f.req.Status, f.req.ExpiresAt = access.Rejected, nil
		f.req.Decision = &access.Decision{By: in.By, At: workflow.Now(ctx).UTC(), Reason: in.Reason}
	})
	if err == nil {
		f.tell(ctx, access.NoticeRejected)
	}
	return err
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
