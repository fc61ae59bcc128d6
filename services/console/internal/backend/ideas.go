package backend

// Ideas sent by anyone to the ROME team, the team's workload, and the contribution
// statistics (all served by the intake).

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The statuses of an idea.
const (
	IdeaNew        = "new"
	IdeaDismissed  = "dismissed"
	IdeaReplied    = "replied"
	IdeaHandedOver = "handed_over"
)

// NewIdea is the body of POST /v1/ideas; Website is the honeypot, which people leave empty.
type NewIdea struct {
	Text     string `json:"text"`
	CodeRome string `json:"codeRome,omitempty"`
	CodeOgr  string `json:"codeOgr,omitempty"`
	Email    string `json:"email,omitempty"`
	Website  string `json:"website,omitempty"`
}

// Idea is an idea as the intake shows it to the caller (the author's address to the ROME
// team only).
type Idea struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Text      string    `json:"text"`
	CodeRome  string    `json:"codeRome"`
	CodeOgr   string    `json:"codeOgr"`
	Email     string    `json:"email"`
	HandledBy string    `json:"handledBy"`
	Reason    string    `json:"reason"`
	Reply     string    `json:"reply"`
	Org       string    `json:"org"`
	RequestID string    `json:"requestId"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// IdeaPage is a page of ideas, newest first.
type IdeaPage struct {
	Items      []Idea `json:"items"`
	NextCursor string `json:"nextCursor"`
}

// SubmitIdea sends a visitor's idea without any token; client is the visitor's address,
// passed on in X-Forwarded-For so that an intake trusting the console as a proxy
// (RATE_LIMIT_TRUSTED_PROXIES) limits each visitor, not the console as a whole.
func (c *Intake) SubmitIdea(ctx context.Context, idea NewIdea, forwardedFor string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := c.api.DoWithHeader(WithToken(ctx, ""), http.MethodPost, "/v1/ideas",
		http.Header{"X-Forwarded-For": {forwardedFor}}, idea, &out)
	return out.ID, err
}

// Ideas lists a page of ideas with that status ("" for all).
func (c *Intake) Ideas(ctx context.Context, status, cursor string, limit int) (IdeaPage, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	for k, v := range map[string]string{"status": status, "cursor": cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var p IdeaPage
	err := c.api.Do(ctx, http.MethodGet, "/v1/ideas?"+q.Encode(), nil, &p)
	return p, err
}

// Idea reads one idea.
func (c *Intake) Idea(ctx context.Context, id string) (Idea, error) {
	var i Idea
	err := c.api.Do(ctx, http.MethodGet, ideaPath(id, ""), nil, &i)
	return i, err
}

// DismissIdea sets a new idea aside, with the reason.
func (c *Intake) DismissIdea(ctx context.Context, id, reason string) (Idea, error) {
	return c.ideaAction(ctx, id, "/dismiss", map[string]string{"reason": reason})
}

// ReplyToIdea e-mails the idea's author.
func (c *Intake) ReplyToIdea(ctx context.Context, id, text string) (Idea, error) {
	return c.ideaAction(ctx, id, "/reply", map[string]string{"text": text})
}

// HandOverIdea hands the idea to an organisation's partners.
func (c *Intake) HandOverIdea(ctx context.Context, id, org string) (Idea, error) {
	return c.ideaAction(ctx, id, "/handover", map[string]string{"org": org})
}

// LinkIdeaRequest records the request a partner filed from the idea.
func (c *Intake) LinkIdeaRequest(ctx context.Context, id, requestID string) (Idea, error) {
	return c.ideaAction(ctx, id, "/request", map[string]string{"requestId": requestID})
}

func (c *Intake) ideaAction(ctx context.Context, id, action string, body any) (Idea, error) {
	var i Idea
	err := c.api.Do(ctx, http.MethodPost, ideaPath(id, action), body, &i)
	return i, err
}

func ideaPath(id, rest string) string { return "/v1/ideas/" + url.PathEscape(id) + rest }

// ModeratorLoad is one moderator's share of the open requests.
type ModeratorLoad struct {
	Sub         string     `json:"sub"`
	Name        string     `json:"name"`
	Role        string     `json:"role"`
	Domains     []string   `json:"domains"`
	AbsentUntil *time.Time `json:"absentUntil"`
	Delegate    string     `json:"delegate"`
	Open        int        `json:"open"`
	Overdue     int        `json:"overdue"`
}

// Workload is the ROME team's workload and the requests waiting to be taken.
type Workload struct {
	Unassigned        int             `json:"unassigned"`
	UnassignedOverdue int             `json:"unassignedOverdue"`
	Moderators        []ModeratorLoad `json:"moderators"`
}

// Workload reads the ROME team's workload (moderator, admin).
func (c *Intake) Workload(ctx context.Context) (Workload, error) {
	var w Workload
	err := c.api.Do(ctx, http.MethodGet, "/v1/moderators/workload", nil, &w)
	return w, err
}

// PeriodStats are an organisation's figures for the requests submitted in one period.
type PeriodStats struct {
	Start                    string   `json:"start"`
	RequestsFiled            int      `json:"requestsFiled"`
	RequestsDecided          int      `json:"requestsDecided"`
	OperationsAccepted       int      `json:"operationsAccepted"`
	OperationsRejected       int      `json:"operationsRejected"`
	MedianHoursToFirstAnswer *float64 `json:"medianHoursToFirstAnswer"`
	MedianHoursToDecision    *float64 `json:"medianHoursToDecision"`
}

// OrgStats are an organisation's figures, period by period ("" for every organisation
// together: the ROME team's service levels).
type OrgStats struct {
	Org        string        `json:"org"`
	Periods    []PeriodStats `json:"periods"`
	OverdueNow int           `json:"overdueNow"`
}

// Contributions are the contribution statistics from From to To.
type Contributions struct {
	From          string     `json:"from"`
	To            string     `json:"to"`
	Period        string     `json:"period"`
	Organisations []OrgStats `json:"organisations"`
	RomeTeam      OrgStats   `json:"romeTeam"`
}

// Contributions reads the statistics; empty arguments take the intake's defaults.
func (c *Intake) Contributions(ctx context.Context, from, to, period string) (Contributions, error) {
	q := url.Values{}
	for k, v := range map[string]string{"from": from, "to": to, "period": period} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out Contributions
	err := c.api.Do(ctx, http.MethodGet, "/v1/stats/contributions?"+q.Encode(), nil, &out)
	return out, err
}
