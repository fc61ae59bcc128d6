// Package accessreq is how recognised experts get an account: they apply through a public
// form; each application is a durable workflow (package access) that verifies their e-mail
// address with a signed link, waits for the admins' review and records the approved
// applicant in the directory. This package is the intake's side: it checks what people
// send, signs and checks the links, keeps the projection the workflows record, and writes
// the e-mails the workflows ask for.
package accessreq

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/platform/textrule"
	"github.com/plateforme-rome/rome/services/intake/internal/app"
	"github.com/plateforme-rome/rome/services/intake/internal/directory"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/access"
	"github.com/plateforme-rome/rome/workflows/request"
)

// Store keeps the access requests' projection and knows the directory (package store).
type Store interface {
	RecordAccess(ctx context.Context, r access.Request) error
	AccessRequest(ctx context.Context, id string) (access.Request, error)
	AccessRequests(ctx context.Context, f store.AccessFilter) ([]access.Request, bool, error)
	AccessCounts(ctx context.Context) (map[string]int64, error)
	AccessRequestsFromSince(ctx context.Context, email string, since time.Time) (int64, error)
	OpenAccessRequest(ctx context.Context, email string, statuses ...string) (access.Request, error)
	PersonByEmail(ctx context.Context, email string) (store.Person, error)
	Organisation(ctx context.Context, id string) (store.Organisation, error)
}

// Workflows runs the access requests' workflows (on Temporal: package temporalwf).
type Workflows interface {
	StartAccess(ctx context.Context, in access.Input) error
	// UpdateAccess sends update name with arg to request id's workflow; updateID makes a
	// retry harmless. Its refusals are request.Rejection errors.
	UpdateAccess(ctx context.Context, id, name, updateID string, arg any) (access.Request, error)
}

// Notifier sends the e-mails (the notifications service).
type Notifier interface {
	Notify(ctx context.Context, n notifclient.Notification) (notifclient.Created, error)
}

// Directory records the approved applicants (package directory).
type Directory interface {
	AddApplicant(ctx context.Context, in directory.NewPerson) (directory.Person, error)
}

// Config is what the use cases need beyond their collaborators.
type Config struct {
	Links Links
	// Page is the address of one of the console's pages (a path such as /acces/{id}/verifier),
	// or, without a console, of the intake's API; Console tells which.
	Page    func(path string) string
	Console bool
	// VerifyFor is how long a verification link works (48 h).
	VerifyFor time.Duration
	// PerAddress is how many access requests one e-mail address may send per day.
	PerAddress   int
	Timers       access.Timers
	InviteGuests bool
	Now          func() time.Time
}

// Service runs the access requests' use cases.
type Service struct {
	store     Store
	workflows Workflows
	notify    Notifier
	directory Directory
	cfg       Config
}

// New returns the use cases.
func New(st Store, wf Workflows, n Notifier, dir Directory, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Timers = cfg.Timers.WithDefaults()
	return &Service{store: st, workflows: wf, notify: n, directory: dir, cfg: cfg}
}

// NewRequest is the body of POST /v1/access-requests. Website is a honeypot: people do not
// see it, robots fill it in.
type NewRequest struct {
	Name       string   `json:"name"`
	Email      string   `json:"email"`
	OrgName    string   `json:"orgName"`
	OrgKind    string   `json:"orgKind"`
	Position   string   `json:"position"`
	Domains    []string `json:"domains"`
	Motivation string   `json:"motivation"`
	Website    string   `json:"website"`
}

var (
	nameRule       = textrule.Rule{Name: "name", Max: 200}
	motivationRule = textrule.Rule{Name: "text", Multiline: true, Max: 5000}
	textRule       = textrule.Rule{Name: "text", Multiline: true, Max: 2000}
)

// maxDomains bounds an application's domains of expertise.
const maxDomains = 50

func (in *NewRequest) check() error {
	var errs []httpx.FieldError
	add := func(p *textrule.Problem) {
		if p != nil {
			errs = append(errs, httpx.FieldError{Field: p.Field, Message: p.Message})
		}
	}
	add(textrule.Clean("name", &in.Name, nameRule, true))
	add(textrule.Clean("orgName", &in.OrgName, nameRule, true))
	add(textrule.Clean("position", &in.Position, nameRule, true))
	add(textrule.Clean("motivation", &in.Motivation, motivationRule, true))
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	if !auth.IsAddress(in.Email) || len(in.Email) > 254 {
		errs = append(errs, httpx.FieldError{Field: "email", Message: "must be a professional e-mail address such as name@example.org"})
	}
	if !slices.Contains(directory.Kinds, in.OrgKind) {
		errs = append(errs, httpx.FieldError{Field: "orgKind", Message: "must be one of " + strings.Join(directory.Kinds, ", ")})
	}
	switch {
	case len(in.Domains) == 0:
		errs = append(errs, httpx.FieldError{Field: "domains", Message: "must name at least one grand domaine (A to N) or code ROME"})
	case len(in.Domains) > maxDomains:
		errs = append(errs, httpx.FieldError{Field: "domains", Message: fmt.Sprintf("must name at most %d domains", maxDomains)})
	default:
		var derrs []httpx.FieldError
		in.Domains, derrs = directory.CleanDomains(in.Domains)
		errs = append(errs, derrs...)
	}
	if len(errs) > 0 {
		return httpx.Unprocessable("invalid_access_request", "The access request is invalid; see errors.", errs...)
	}
	return nil
}

// Submit takes an application (202 and an id, whatever the address: the answer tells
// nobody whether it has an account or a request already). A robot's (its honeypot filled
// in) is not recorded. The address of a person of the directory is told they have an
// account; one with a request awaiting verification gets its link again; one with a request
// under review is answered that request's id. An address that sent PerAddress requests in
// the last day is refused (429).
func (s *Service) Submit(ctx context.Context, in NewRequest) (string, error) {
	if err := in.check(); err != nil {
		return "", err
	}
	id := newID()
	if in.Website != "" {
		return id, nil
	}
	now := s.cfg.Now().UTC()
	n, err := s.store.AccessRequestsFromSince(ctx, in.Email, now.Add(-24*time.Hour))
	if err != nil {
		return "", err
	}
	if n >= int64(s.cfg.PerAddress) {
		return "", httpx.NewProblem(http.StatusTooManyRequests, "rate_limited",
			"This address has sent many access requests today: try again tomorrow.").With("retryAfter", 24*3600)
	}
	if _, err := s.store.PersonByEmail(ctx, in.Email); err == nil {
		return id, s.send(ctx, s.alreadyRegistered(in, now))
	} else if !errors.Is(err, store.ErrNoPerson) {
		return "", err
	}
	open, err := s.store.OpenAccessRequest(ctx, in.Email, string(access.AwaitingVerification), string(access.AwaitingReview), string(access.AwaitingApplicant))
	switch {
	case err == nil && open.Status == access.AwaitingVerification:
		_, err := s.update(ctx, open.ID, access.UpdateResend, "", access.ResendInput{})
		if _, refused := request.AsRejection(err); refused {
			err = nil // resent too often, or verified meanwhile: the answer stays the same
		}
		return open.ID, err
	case err == nil:
		return open.ID, nil
	case !errors.Is(err, store.ErrNoAccessRequest):
		return "", err
	}
	r := access.Request{ID: id, Status: access.AwaitingVerification, Messages: []access.Message{}, CreatedAt: now, UpdatedAt: now,
		Application: access.Application{Name: in.Name, Email: in.Email, OrgName: in.OrgName, OrgKind: in.OrgKind,
			Position: in.Position, Domains: in.Domains, Motivation: in.Motivation}}
	// Recorded before its workflow records it (Seq 0): the per-address limit counts it at once.
	if err := s.store.RecordAccess(ctx, r); err != nil {
		return "", err
	}
	err = s.workflows.StartAccess(ctx, access.Input{Request: r, Timers: s.cfg.Timers, InviteGuests: s.cfg.InviteGuests})
	if errors.Is(err, app.ErrWorkflowUnavailable) {
		slog.WarnContext(ctx, "access request not started", "id", id, "error", err)
		return "", unavailable()
	}
	return id, err
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "acc_" + hex.EncodeToString(b[:])
}

// notFound is the answer to every link that does not check out: nobody learns whether the
// request exists.
func notFound() error {
	return httpx.NotFound("access_request_not_found", "No access request matches this link.")
}

// linked is the request a signed link for purpose leads to.
func (s *Service) linked(ctx context.Context, id, purpose, token string) (access.Request, error) {
	if !access.IDPattern.MatchString(id) {
		return access.Request{}, notFound()
	}
	switch s.cfg.Links.check(id, purpose, token, s.cfg.Now()) {
	case linkInvalid:
		return access.Request{}, notFound()
	case linkExpired:
		return access.Request{}, httpx.NewProblem(http.StatusGone, "link_expired",
			"This link has expired: send the access request form again to get a new one.")
	}
	r, err := s.store.AccessRequest(ctx, id)
	if errors.Is(err, store.ErrNoAccessRequest) {
		return access.Request{}, notFound()
	}
	return r, err
}

// ApplicantView is what the applicant sees of their request through a signed link.
type ApplicantView struct {
	ID       string           `json:"id"`
	Status   access.Status    `json:"status"`
	Name     string           `json:"name"`
	Messages []ApplicantEntry `json:"messages"`
}

// ApplicantEntry is one turn of the exchange, without the admin's subject.
type ApplicantEntry struct {
	From string    `json:"from"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

func applicantView(r access.Request) ApplicantView {
	v := ApplicantView{ID: r.ID, Status: r.Status, Name: r.Name, Messages: make([]ApplicantEntry, len(r.Messages))}
	for i, m := range r.Messages {
		v.Messages[i] = ApplicantEntry{From: m.From, Text: m.Text, At: m.At}
	}
	return v
}

// Token is the body of POST /v1/access-requests/{id}/verify.
type Token struct {
	Token string `json:"token"`
}

// Verify confirms the applicant's address: the request goes to the admins.
func (s *Service) Verify(ctx context.Context, id string, in Token) (ApplicantView, error) {
	if _, err := s.linked(ctx, id, purposeVerify, in.Token); err != nil {
		return ApplicantView{}, err
	}
	r, err := s.update(ctx, id, access.UpdateVerify, "verify-"+id, access.VerifyInput{})
	return applicantView(r), err
}

// View is the request as the applicant sees it, through the link of an e-mail.
func (s *Service) View(ctx context.Context, id, token string) (ApplicantView, error) {
	r, err := s.linked(ctx, id, purposeAnswer, token)
	if err != nil {
		if r, err2 := s.linked(ctx, id, purposeVerify, token); err2 == nil {
			return applicantView(r), nil
		}
	}
	return applicantView(r), err
}

// Answer is the body of POST /v1/access-requests/{id}/answer.
type Answer struct {
	Token string `json:"token"`
	Text  string `json:"text"`
}

// AnswerQuestion records the applicant's answer to the admin's question.
func (s *Service) AnswerQuestion(ctx context.Context, id string, in Answer) (ApplicantView, error) {
	if prob := textrule.Clean("text", &in.Text, textRule, true); prob != nil {
		return ApplicantView{}, httpx.Unprocessable("invalid_answer", "The answer is invalid.", httpx.FieldError{Field: prob.Field, Message: prob.Message})
	}
	r, err := s.linked(ctx, id, purposeAnswer, in.Token)
	if err != nil {
		return ApplicantView{}, err
	}
	r, err = s.update(ctx, id, access.UpdateAnswer, fmt.Sprintf("answer-%s-%d", id, len(r.Messages)), access.AnswerInput{Text: in.Text})
	return applicantView(r), err
}

// Get is one access request, to an admin.
func (s *Service) Get(ctx context.Context, id string) (access.Request, error) {
	if !access.IDPattern.MatchString(id) {
		return access.Request{}, httpx.NotFound("access_request_not_found", "No access request has this id.")
	}
	r, err := s.store.AccessRequest(ctx, id)
	if errors.Is(err, store.ErrNoAccessRequest) {
		return access.Request{}, httpx.NotFound("access_request_not_found", "No access request has this id.")
	}
	return r, err
}

// Query selects a page of access requests.
type Query struct {
	Status, Cursor string
	Limit          int
}

// Page is a page of access requests, newest first, and how many there are per status.
type Page struct {
	Items      []access.Request `json:"items"`
	NextCursor string           `json:"nextCursor,omitempty"`
	Counts     map[string]int64 `json:"counts"`
}

// List is a page of the access requests, to an admin.
func (s *Service) List(ctx context.Context, q Query) (Page, error) {
	var errs []httpx.FieldError
	if q.Status != "" && !slices.Contains(access.Statuses, access.Status(q.Status)) {
		errs = append(errs, httpx.FieldError{Field: "status", Message: fmt.Sprintf("must be one of %v", access.Statuses)})
	}
	f := store.AccessFilter{Status: q.Status, Limit: q.Limit}
	if q.Cursor != "" {
		if !store.DecodeCursor(q.Cursor, &f.Before) || f.Before == nil {
			errs = append(errs, httpx.FieldError{Field: "cursor", Message: "must be a nextCursor returned by this listing"})
		}
	}
	if len(errs) > 0 {
		return Page{}, httpx.Unprocessable("invalid_query", "The query parameters are invalid.", errs...)
	}
	rows, more, err := s.store.AccessRequests(ctx, f)
	if err != nil {
		return Page{}, err
	}
	counts, err := s.store.AccessCounts(ctx)
	if err != nil {
		return Page{}, err
	}
	page := Page{Items: rows, Counts: counts}
	if more {
		last := rows[len(rows)-1]
		page.NextCursor = store.EncodeCursor(store.AccessCursor{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	return page, nil
}

// Approval is the body of POST /v1/access-requests/{id}/approve.
type Approval struct {
	Org  string `json:"org"`
	Role string `json:"role"`
}

// Approve approves a request under review: the person gets role, in organisation org (an
// active one of the directory).
func (s *Service) Approve(ctx context.Context, p auth.Principal, id string, in Approval) (access.Request, error) {
	var errs []httpx.FieldError
	if !slices.Contains(access.Roles, in.Role) {
		errs = append(errs, httpx.FieldError{Field: "role", Message: "must be one of " + strings.Join(access.Roles, ", ")})
	}
	org, err := store.Organisation{}, store.ErrNoOrganisation
	if directory.IsOrgID(in.Org) {
		org, err = s.store.Organisation(ctx, in.Org)
	}
	switch {
	case errors.Is(err, store.ErrNoOrganisation) || (err == nil && !org.Active):
		errs = append(errs, httpx.FieldError{Field: "org", Message: "names no active organisation of the directory (create it first)"})
	case err != nil:
		return access.Request{}, err
	}
	if len(errs) > 0 {
		return access.Request{}, httpx.Unprocessable("invalid_approval", "The approval is invalid.", errs...)
	}
	return s.review(ctx, id, access.UpdateApprove, access.ApproveInput{By: p.Subject, Org: in.Org, Role: in.Role})
}

// Question is the body of POST /v1/access-requests/{id}/ask.
type Question struct {
	Question string `json:"question"`
}

// Ask asks the applicant a question by e-mail.
func (s *Service) Ask(ctx context.Context, p auth.Principal, id string, in Question) (access.Request, error) {
	if prob := textrule.Clean("question", &in.Question, textRule, true); prob != nil {
		return access.Request{}, httpx.Unprocessable("invalid_question", "The question is invalid.", httpx.FieldError{Field: prob.Field, Message: prob.Message})
	}
	return s.review(ctx, id, access.UpdateAsk, access.AskInput{By: p.Subject, Question: in.Question})
}

// Rejection is the body of POST /v1/access-requests/{id}/reject.
type Rejection struct {
	Reason string `json:"reason"`
}

// Reject rejects the request, with the reason the applicant is told.
func (s *Service) Reject(ctx context.Context, p auth.Principal, id string, in Rejection) (access.Request, error) {
	if prob := textrule.Clean("reason", &in.Reason, textRule, true); prob != nil {
		return access.Request{}, httpx.Unprocessable("invalid_rejection", "The rejection is invalid.", httpx.FieldError{Field: prob.Field, Message: prob.Message})
	}
	return s.review(ctx, id, access.UpdateReject, access.RejectInput{By: p.Subject, Reason: in.Reason})
}

// review sends an admin's update to the workflow of a request they may see.
func (s *Service) review(ctx context.Context, id, name string, arg any) (access.Request, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return access.Request{}, err
	}
	return s.update(ctx, id, name, "", arg)
}

// Record stores a state the workflow recorded (the internal API).
func (s *Service) Record(ctx context.Context, r access.Request) error {
	if err := checkRecord(r); err != nil {
		return err
	}
	return s.store.RecordAccess(ctx, r)
}

// checkRecord holds a workflow's record to the rules the intake applied to what it
// carries: the application as the form checked it, the exchange's and the decision's texts.
func checkRecord(r access.Request) error {
	if !access.IDPattern.MatchString(r.ID) || !slices.Contains(access.Statuses, r.Status) || r.Seq < 0 || r.Seq > math.MaxInt32 {
		return httpx.Unprocessable("invalid_access_record", "The record is invalid.",
			httpx.FieldError{Field: "id", Message: "must be an access request's id with a known status and a seq from 0 to 2^31-1"})
	}
	a := r.Application
	form := NewRequest{Name: a.Name, Email: a.Email, OrgName: a.OrgName, OrgKind: a.OrgKind, Position: a.Position,
		Domains: a.Domains, Motivation: a.Motivation}
	if err := form.check(); err != nil {
		return err
	}
	var errs []httpx.FieldError
	texts := map[string]string{}
	for i, m := range r.Messages {
		texts[fmt.Sprintf("messages[%d].text", i)] = m.Text
	}
	if r.Decision != nil && r.Decision.Reason != "" {
		texts["decision.reason"] = r.Decision.Reason
	}
	for field, text := range texts {
		if p := textrule.Clean(field, &text, textRule, true); p != nil {
			errs = append(errs, httpx.FieldError{Field: p.Field, Message: p.Message})
		}
	}
	if len(errs) > 0 {
		return httpx.Unprocessable("invalid_access_record", "The record is invalid.", errs...)
	}
	return nil
}

// Provision records the approved applicant of request id in the directory (the internal
// API): under their provisional subject, with the role and organisation of the approval.
func (s *Service) Provision(ctx context.Context, id, entraID string) (directory.Person, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return directory.Person{}, err
	}
	if r.Status != access.Approved || r.Decision == nil {
		return directory.Person{}, httpx.Conflict("invalid_transition", "The access request is not approved.").With("currentStatus", string(r.Status))
	}
	return s.directory.AddApplicant(ctx, directory.NewPerson{Sub: access.PersonSub(id), Name: r.Name, Email: r.Email,
		Role: r.Decision.Role, Org: r.Decision.Org, EntraID: entraID, Domains: r.Domains})
}

// update sends an update to request id's workflow and turns its failures into the
// answer: the workflow's refusal (409 with the status it was in, 422 naming the field), a
// closed request (409 with the projection's status), or Temporal out of reach (503).
func (s *Service) update(ctx context.Context, id, name, updateID string, arg any) (access.Request, error) {
	r, err := s.workflows.UpdateAccess(ctx, id, name, updateID, arg)
	if err == nil {
		return r, nil
	}
	if rej, ok := request.AsRejection(err); ok {
		switch rej.Kind {
		case request.ErrInvalidTransition:
			return r, httpx.Conflict("invalid_transition", rej.Message).With("currentStatus", rej.Status)
		case request.ErrInvalidInput:
			var fields []httpx.FieldError
			if rej.Field != "" {
				fields = append(fields, httpx.FieldError{Field: rej.Field, Message: rej.Message})
			}
			return r, httpx.Unprocessable("invalid_input", rej.Message, fields...)
		}
	}
	switch {
	case errors.Is(err, app.ErrWorkflowClosed):
		current, gerr := s.store.AccessRequest(ctx, id)
		if gerr != nil {
			return r, gerr
		}
		return r, httpx.Conflict("invalid_transition", fmt.Sprintf("The access request is closed (%s).", current.Status)).
			With("currentStatus", current.Status)
	case errors.Is(err, app.ErrWorkflowUnavailable):
		slog.WarnContext(ctx, "access request update failed", "id", id, "update", name, "error", err)
		return r, unavailable()
	}
	return r, err
}

func unavailable() error {
	return httpx.NewProblem(http.StatusServiceUnavailable, "workflow_unavailable",
		"The access request's workflow did not answer; retry in a moment.")
}

// send hands an e-mail to the notifications service, idempotently by its key.
func (s *Service) send(ctx context.Context, n notifclient.Notification) error {
	if _, err := s.notify.Notify(ctx, n); err != nil {
		slog.ErrorContext(ctx, "access request notice not sent", "key", n.Key, "error", err)
		return httpx.NewProblem(http.StatusServiceUnavailable, "notifications_unavailable",
			"The notifications service cannot be reached: retry later.")
	}
	return nil
}
