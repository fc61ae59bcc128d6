package backend

// Access requests (served by the intake): a recognised expert applies for an account
// through the public form, confirms their address and answers the team's questions through
// the signed links of their e-mails (no token: the link's own is the proof); admins list
// the requests and approve, question or reject them.

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The statuses of an access request.
const (
	AccessAwaitingVerification = "AWAITING_VERIFICATION"
	AccessAwaitingReview       = "AWAITING_REVIEW"
	AccessAwaitingApplicant    = "AWAITING_APPLICANT"
	AccessApproved             = "APPROVED"
	AccessRejected             = "REJECTED"
	AccessExpired              = "EXPIRED"
)

// Who wrote a message of an access request's exchange.
const (
	AccessFromTeam      = "team"
	AccessFromApplicant = "applicant"
)

// NewAccessRequest is the body of POST /v1/access-requests; Website is the honeypot, which
// people leave empty.
type NewAccessRequest struct {
	Name       string   `json:"name"`
	Email      string   `json:"email"`
	OrgName    string   `json:"orgName"`
	OrgKind    string   `json:"orgKind"`
	Position   string   `json:"position"`
	Domains    []string `json:"domains"`
	Motivation string   `json:"motivation"`
	Website    string   `json:"website"`
}

// AccessMessage is one turn of the exchange between the ROME team and the applicant; By
// is the admin who wrote a team's message (the admins' view only).
type AccessMessage struct {
	From string    `json:"from"`
	By   string    `json:"by"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// AccessDecision is an admin's approval (Role, Org) or rejection (Reason).
type AccessDecision struct {
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Role   string    `json:"role"`
	Org    string    `json:"org"`
	Reason string    `json:"reason"`
}

// AccessRequest is an access request as admins see it.
type AccessRequest struct {
	ID         string          `json:"id"`
	Status     string          `json:"status"`
	Name       string          `json:"name"`
	Email      string          `json:"email"`
	Org        string          `json:"org"`
	OrgName    string          `json:"orgName"`
	OrgKind    string          `json:"orgKind"`
	Position   string          `json:"position"`
	Domains    []string        `json:"domains"`
	Motivation string          `json:"motivation"`
	Messages   []AccessMessage `json:"messages"`
	Decision   *AccessDecision `json:"decision"`
	PersonSub  string          `json:"personSub"`
	CreatedAt  time.Time       `json:"createdAt"`
	UpdatedAt  time.Time       `json:"updatedAt"`
	VerifiedAt *time.Time      `json:"verifiedAt"`
	ExpiresAt  *time.Time      `json:"expiresAt"`
}

// AccessRequestPage is a page of access requests, newest first, with how many requests
// there are in each status (nil from an intake that does not count them).
type AccessRequestPage struct {
	Items      []AccessRequest  `json:"items"`
	NextCursor string           `json:"nextCursor"`
	Counts     map[string]int64 `json:"counts"`
}

// ApplicantView is an access request as its applicant sees it through their link.
type ApplicantView struct {
	ID       string          `json:"id"`
	Status   string          `json:"status"`
	Name     string          `json:"name"`
	Messages []AccessMessage `json:"messages"`
}

// SubmitAccessRequest sends a visitor's application without any token; forwardedFor is
// passed on as SubmitIdea does, so that the intake limits each visitor.
func (c *Intake) SubmitAccessRequest(ctx context.Context, r NewAccessRequest, forwardedFor string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := c.api.DoWithHeader(WithToken(ctx, ""), http.MethodPost, "/v1/access-requests",
		http.Header{"X-Forwarded-For": {forwardedFor}}, r, &out)
	return out.ID, err
}

// VerifyAccessRequest confirms the applicant's address with the token of their link, and
// returns the request's status after it.
func (c *Intake) VerifyAccessRequest(ctx context.Context, id, token string) (string, error) {
	var out struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	err := c.api.Do(WithToken(ctx, ""), http.MethodPost, accessPath(id, "/verify"), map[string]string{"token": token}, &out)
	return out.Status, err
}

// AccessRequestForApplicant reads the request as its applicant sees it, with the token of
// their link.
func (c *Intake) AccessRequestForApplicant(ctx context.Context, id, token string) (ApplicantView, error) {
	var v ApplicantView
	err := c.api.Do(WithToken(ctx, ""), http.MethodGet, accessPath(id, "/applicant?"+url.Values{"token": {token}}.Encode()), nil, &v)
	return v, err
}

// AnswerAccessRequest sends the applicant's answer to the team's question.
func (c *Intake) AnswerAccessRequest(ctx context.Context, id, token, text string) (ApplicantView, error) {
	var v ApplicantView
	err := c.api.Do(WithToken(ctx, ""), http.MethodPost, accessPath(id, "/answer"), map[string]string{"token": token, "text": text}, &v)
	return v, err
}

// AccessRequests lists a page of access requests with that status ("" for all), newest
// first (admin).
func (c *Intake) AccessRequests(ctx context.Context, status, cursor string, limit int) (AccessRequestPage, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	for k, v := range map[string]string{"status": status, "cursor": cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var p AccessRequestPage
	err := c.api.Do(ctx, http.MethodGet, "/v1/access-requests?"+q.Encode(), nil, &p)
	return p, err
}

// AccessRequest reads one access request (admin).
func (c *Intake) AccessRequest(ctx context.Context, id string) (AccessRequest, error) {
	var r AccessRequest
	err := c.api.Do(ctx, http.MethodGet, accessPath(id, ""), nil, &r)
	return r, err
}

// ApproveAccessRequest approves the request: the person enters the directory in that
// organisation with that role (admin).
func (c *Intake) ApproveAccessRequest(ctx context.Context, id, org, role string) (AccessRequest, error) {
	return c.accessAction(ctx, id, "/approve", map[string]string{"org": org, "role": role})
}

// AskAccessApplicant asks the applicant a question, which they answer through their link
// (admin).
func (c *Intake) AskAccessApplicant(ctx context.Context, id, question string) (AccessRequest, error) {
	return c.accessAction(ctx, id, "/ask", map[string]string{"question": question})
}

// RejectAccessRequest rejects the request with the reason, which the applicant receives
// (admin).
func (c *Intake) RejectAccessRequest(ctx context.Context, id, reason string) (AccessRequest, error) {
	return c.accessAction(ctx, id, "/reject", map[string]string{"reason": reason})
}

func (c *Intake) accessAction(ctx context.Context, id, action string, body any) (AccessRequest, error) {
	var r AccessRequest
	err := c.api.Do(ctx, http.MethodPost, accessPath(id, action), body, &r)
	return r, err
}

func accessPath(id, rest string) string { return "/v1/access-requests/" + url.PathEscape(id) + rest }
