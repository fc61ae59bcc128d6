// Package ideas is what people without an account tell the ROME team: an idea about the
// referential, optionally about a fiche or an appellation, with an address for a reply.
// Moderators triage them: dismiss with a reason, reply by e-mail, or hand one to the
// experts of an organisation whose domains cover it, as the draft of a request; the idea
// keeps its link to the request filed from it.
package ideas

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/platform/textrule"
	"github.com/plateforme-rome/rome/services/intake/internal/directory"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
)

// The statuses of an idea.
const (
	StatusNew        = "new"
	StatusDismissed  = "dismissed"
	StatusReplied    = "replied"
	StatusHandedOver = "handed_over"
)

// Store keeps the ideas and knows the organisations (package store).
type Store interface {
	InsertIdea(ctx context.Context, i store.Idea) error
	Idea(ctx context.Context, id string) (store.Idea, error)
	UpdateIdea(ctx context.Context, i store.Idea, from ...string) error
	Ideas(ctx context.Context, f store.IdeaFilter) ([]store.Idea, bool, error)
	IdeasFromSince(ctx context.Context, email string, since time.Time) (int64, error)
	Organisation(ctx context.Context, id string) (store.Organisation, error)
}

// Notifier tells people (the notifications service).
type Notifier interface {
	Notify(ctx context.Context, n notifclient.Notification) (notifclient.Created, error)
}

// RequestVisible tells whether the request id is one p may see (app.Service.Visible).
type RequestVisible func(ctx context.Context, p auth.Principal, id string) error

// Config is what the use cases need beyond their collaborators.
type Config struct {
	// Link is where people open an idea (the console's page, or the API's).
	Link func(id string) string
	// PerAddress is how many ideas one e-mail address may send per hour.
	PerAddress int
	Now        func() time.Time
}

// Service runs the ideas' use cases.
type Service struct {
	store   Store
	notify  Notifier
	visible RequestVisible
	cfg     Config
}

// New returns the use cases.
func New(st Store, n Notifier, visible RequestVisible, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{store: st, notify: n, visible: visible, cfg: cfg}
}

// Idea is an idea as the API shows it. Its author's address is shown to the ROME team only.
type Idea struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Text      string    `json:"text"`
	CodeRome  string    `json:"codeRome,omitempty"`
	CodeOGR   string    `json:"codeOgr,omitempty"`
	Email     string    `json:"email,omitempty"`
	HandledBy string    `json:"handledBy,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Reply     string    `json:"reply,omitempty"`
	Org       string    `json:"org,omitempty"`
	RequestID string    `json:"requestId,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func ideaOf(i store.Idea, p auth.Principal) Idea {
	out := Idea{ID: i.ID, Status: i.Status, Text: i.Text, CodeRome: i.CodeRome, CodeOGR: i.CodeOGR, HandledBy: i.HandledBy,
		Reason: i.Reason, Reply: i.Reply, Org: i.Org, RequestID: i.RequestID, CreatedAt: i.CreatedAt.UTC(), UpdatedAt: i.UpdatedAt.UTC()}
	if team(p) {
		out.Email = i.Email
	}
	return out
}

func team(p auth.Principal) bool { return p.Role == auth.RoleModerator || p.Role == auth.RoleAdmin }

// NewIdea is the body of POST /v1/ideas. Website is a honeypot: people do not see it,
// robots fill it in.
type NewIdea struct {
	Text     string `json:"text"`
	CodeRome string `json:"codeRome"`
	CodeOGR  string `json:"codeOgr"`
	Email    string `json:"email"`
	Website  string `json:"website"`
}

var (
	textRule      = textrule.Rule{Name: "text", Multiline: true, Max: 5000}
	reasonRule    = textrule.Rule{Name: "text", Multiline: true, Max: 2000}
	requestIDRule = textrule.Rule{Name: "request id", Max: 100}
	codeRomeExpr  = regexp.MustCompile(`^[A-N][0-9]{4}$`)
	codeOGRExpr   = regexp.MustCompile(`^[0-9]{1,10}$`)
	ideaIDExpr    = regexp.MustCompile(`^idea_[0-9a-f]{24}$`)
)

// Submit records an idea (202: it waits for the ROME team). A robot's (its honeypot filled
// in) gets the same answer and is not recorded. An address that sent PerAddress ideas in
// the last hour is refused (429) until it has sent fewer.
func (s *Service) Submit(ctx context.Context, in NewIdea) (string, error) {
	var errs []httpx.FieldError
	add := func(p *textrule.Problem) {
		if p != nil {
			errs = append(errs, httpx.FieldError{Field: p.Field, Message: p.Message})
		}
	}
	add(textrule.Clean("text", &in.Text, textRule, true))
	in.CodeRome, in.CodeOGR, in.Email = strings.TrimSpace(in.CodeRome), strings.TrimSpace(in.CodeOGR), strings.TrimSpace(in.Email)
	if in.CodeRome != "" && !codeRomeExpr.MatchString(in.CodeRome) {
		errs = append(errs, httpx.FieldError{Field: "codeRome", Message: "must be a code ROME such as M1805"})
	}
	if in.CodeOGR != "" && !codeOGRExpr.MatchString(in.CodeOGR) {
		errs = append(errs, httpx.FieldError{Field: "codeOgr", Message: "must be a code OGR (digits) such as 10944"})
	}
	if in.Email != "" && (!auth.IsAddress(in.Email) || len(in.Email) > 254) {
		errs = append(errs, httpx.FieldError{Field: "email", Message: "must be an e-mail address such as name@example.org"})
	}
	if len(errs) > 0 {
		return "", httpx.Unprocessable("invalid_idea", "The idea is invalid; see errors.", errs...)
	}
	id := newID()
	if in.Website != "" {
		return id, nil
	}
	now := s.cfg.Now().UTC()
	if in.Email != "" {
		n, err := s.store.IdeasFromSince(ctx, strings.ToLower(in.Email), now.Add(-time.Hour))
		if err != nil {
			return "", err
		}
		if n >= int64(s.cfg.PerAddress) {
			return "", httpx.NewProblem(http.StatusTooManyRequests, "rate_limited",
				"This address has sent many ideas in the last hour: try again later.").With("retryAfter", 3600)
		}
	}
	return id, s.store.InsertIdea(ctx, store.Idea{ID: id, Status: StatusNew, Text: in.Text, CodeRome: in.CodeRome, CodeOGR: in.CodeOGR,
		Email: strings.ToLower(in.Email), CreatedAt: now, UpdatedAt: now})
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "idea_" + hex.EncodeToString(b[:])
}

// Get is one idea, to the ROME team, or to the partners of the organisation it was handed to.
func (s *Service) Get(ctx context.Context, p auth.Principal, id string) (Idea, error) {
	i, err := s.visibleIdea(ctx, p, id)
	return ideaOf(i, p), err
}

func (s *Service) visibleIdea(ctx context.Context, p auth.Principal, id string) (store.Idea, error) {
	if !ideaIDExpr.MatchString(id) {
		return store.Idea{}, httpx.NotFound("idea_not_found", "No idea with this id is visible to you.")
	}
	i, err := s.store.Idea(ctx, id)
	if errors.Is(err, store.ErrNoIdea) || (err == nil && !team(p) && (i.Org == "" || i.Org != p.Org)) {
		return store.Idea{}, httpx.NotFound("idea_not_found", "No idea with this id is visible to you.")
	}
	return i, err
}

// Query selects a page of ideas.
type Query struct {
	Status, Cursor string
	Limit          int
}

// Page is a page of ideas, newest first.
type Page struct {
	Items      []Idea `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

// List is a page of the ideas p may see: every one for the ROME team, those handed to
// their organisation for a partner.
func (s *Service) List(ctx context.Context, p auth.Principal, q Query) (Page, error) {
	var errs []httpx.FieldError
	statuses := []string{StatusNew, StatusDismissed, StatusReplied, StatusHandedOver}
	if q.Status != "" && !slices.Contains(statuses, q.Status) {
		errs = append(errs, httpx.FieldError{Field: "status", Message: "must be one of " + strings.Join(statuses, ", ")})
	}
	f := store.IdeaFilter{Status: q.Status, Limit: q.Limit}
	if q.Cursor != "" {
		if !store.DecodeCursor(q.Cursor, &f.Before) || f.Before == nil {
			errs = append(errs, httpx.FieldError{Field: "cursor", Message: "must be a nextCursor returned by this listing"})
		}
	}
	if len(errs) > 0 {
		return Page{}, httpx.Unprocessable("invalid_query", "The query parameters are invalid.", errs...)
	}
	if !team(p) { // a partner sees the ideas handed to their organisation
		if q.Status != "" && q.Status != StatusHandedOver {
			return Page{Items: []Idea{}}, nil
		}
		f.Org, f.Status = p.Org, StatusHandedOver
	}
	rows, more, err := s.store.Ideas(ctx, f)
	if err != nil {
		return Page{}, err
	}
	page := Page{Items: make([]Idea, len(rows))}
	for n, i := range rows {
		page.Items[n] = ideaOf(i, p)
	}
	if more {
		last := rows[len(rows)-1]
		page.NextCursor = store.EncodeCursor(store.IdeaCursor{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	return page, nil
}

// Dismissal is the body of POST /v1/ideas/{id}/dismiss.
type Dismissal struct {
	Reason string `json:"reason"`
}

// Dismiss sets a new idea aside, with the reason.
func (s *Service) Dismiss(ctx context.Context, p auth.Principal, id string, in Dismissal) (Idea, error) {
	if prob := textrule.Clean("reason", &in.Reason, reasonRule, true); prob != nil {
		return Idea{}, httpx.Unprocessable("invalid_dismissal", "The dismissal is invalid.", httpx.FieldError{Field: prob.Field, Message: prob.Message})
	}
	return s.change(ctx, p, id, []string{StatusNew}, func(i *store.Idea) error {
		i.Status, i.Reason = StatusDismissed, in.Reason
		return nil
	})
}

// ReplyBody is the body of POST /v1/ideas/{id}/reply.
type ReplyBody struct {
	Text string `json:"text"`
}

// Reply answers a new idea's author by e-mail (once: the notification's key is the idea's).
// An idea without an address cannot be answered.
func (s *Service) Reply(ctx context.Context, p auth.Principal, id string, in ReplyBody) (Idea, error) {
	if prob := textrule.Clean("text", &in.Text, reasonRule, true); prob != nil {
		return Idea{}, httpx.Unprocessable("invalid_reply", "The reply is invalid.", httpx.FieldError{Field: prob.Field, Message: prob.Message})
	}
	return s.change(ctx, p, id, []string{StatusNew}, func(i *store.Idea) error {
		if i.Email == "" {
			return httpx.Conflict("idea_without_email", "The author left no e-mail address: the idea cannot be answered.")
		}
		i.Status, i.Reply = StatusReplied, in.Text
		return s.tell(ctx, notifclient.Notification{Key: "idea-reply-" + i.ID, Event: notifclient.EventIdeaReply,
			CodeRome: i.CodeRome, Title: "Votre idée pour le ROME : réponse de l'équipe ROME", Text: in.Text,
			Actor: actorOf(p), To: notifclient.Recipients{Emails: []string{i.Email}}})
	})
}

// Handover is the body of POST /v1/ideas/{id}/handover.
type Handover struct {
	Org string `json:"org"`
}

// HandOver gives a new or answered idea to the experts of an active organisation whose
// domains cover its fiche (any, for an idea about no fiche), as the draft of a request:
// the organisation's partners are notified and see it.
func (s *Service) HandOver(ctx context.Context, p auth.Principal, id string, in Handover) (Idea, error) {
	return s.change(ctx, p, id, []string{StatusNew, StatusReplied}, func(i *store.Idea) error {
		org, err := store.Organisation{}, store.ErrNoOrganisation
		if directory.IsOrgID(in.Org) {
			org, err = s.store.Organisation(ctx, in.Org)
		}
		if errors.Is(err, store.ErrNoOrganisation) || (err == nil && !org.Active) {
			return httpx.Unprocessable("invalid_handover", "The organisation is not one of the directory's active ones.",
				httpx.FieldError{Field: "org", Message: "names no active organisation of the directory"})
		}
		if err != nil {
			return err
		}
		if !covers(org.Domains, i.CodeRome) {
			return httpx.Unprocessable("invalid_handover", "The organisation's domains do not cover the idea's fiche.",
				httpx.FieldError{Field: "org", Message: fmt.Sprintf("has no domain covering %s (its domains: %s)", i.CodeRome, strings.Join(org.Domains, ", "))})
		}
		i.Status, i.Org = StatusHandedOver, org.ID
		return s.tell(ctx, notifclient.Notification{Key: "idea-handover-" + i.ID, Event: notifclient.EventIdeaHandedOver,
			CodeRome: i.CodeRome, Org: org.ID, Title: "Une idée confiée à votre organisation par l'équipe ROME", Text: i.Text,
			Link: s.cfg.Link(i.ID), Actor: actorOf(p), To: notifclient.Recipients{Orgs: []string{org.ID}}})
	})
}

// covers tells whether domains (grands domaines and codes ROME) cover the fiche code (an
// empty code: any organisation may take the idea).
func covers(domains []string, code string) bool {
	return code == "" || slices.ContainsFunc(domains, func(d string) bool { return d == code || d == code[:1] })
}

// Filing is the body of POST /v1/ideas/{id}/request: the request filed from the idea.
type Filing struct {
	RequestID string `json:"requestId"`
}

// LinkRequest records the request a partner of the organisation an idea was handed to
// filed from it (a request they may see). Linking the same request again is harmless.
func (s *Service) LinkRequest(ctx context.Context, p auth.Principal, id string, in Filing) (Idea, error) {
	if prob := textrule.Clean("requestId", &in.RequestID, requestIDRule, true); prob != nil {
		return Idea{}, httpx.Unprocessable("invalid_filing", "The filing is invalid.", httpx.FieldError{Field: prob.Field, Message: prob.Message})
	}
	if err := s.visible(ctx, p, in.RequestID); err != nil {
		return Idea{}, err
	}
	i, err := s.visibleIdea(ctx, p, id)
	if err != nil {
		return Idea{}, err
	}
	if i.RequestID == in.RequestID {
		return ideaOf(i, p), nil
	}
	return s.change(ctx, p, id, []string{StatusHandedOver}, func(i *store.Idea) error {
		if i.RequestID != "" {
			return httpx.Conflict("idea_already_filed", "A request was already filed from this idea: "+i.RequestID+".")
		}
		i.RequestID = in.RequestID
		return nil
	})
}

// change applies edit to the idea p may see, provided its status is one of from, and
// records who did it. Who acts first wins; the other gets 409.
func (s *Service) change(ctx context.Context, p auth.Principal, id string, from []string, edit func(*store.Idea) error) (Idea, error) {
	i, err := s.visibleIdea(ctx, p, id)
	if err != nil {
		return Idea{}, err
	}
	if !slices.Contains(from, i.Status) {
		return Idea{}, httpx.Conflict("invalid_transition", "Not possible once the idea is "+i.Status+".").With("currentStatus", i.Status)
	}
	if err := edit(&i); err != nil {
		return Idea{}, err
	}
	if team(p) {
		i.HandledBy = p.Subject
	}
	i.UpdatedAt = s.cfg.Now().UTC()
	err = s.store.UpdateIdea(ctx, i, from...)
	if errors.Is(err, store.ErrIdeaMoved) {
		return Idea{}, httpx.Conflict("invalid_transition", "Someone acted on the idea meanwhile: reload it.")
	}
	return ideaOf(i, p), err
}

// tell sends n before the idea's change is written: keyed by the idea, a retry after a
// failed write tells nobody twice. The notifications service refusing the key (another
// moderator's different reply or handover just went out) means someone acted meanwhile.
func (s *Service) tell(ctx context.Context, n notifclient.Notification) error {
	_, err := s.notify.Notify(ctx, n)
	var refused *notifclient.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &refused) && refused.Status == http.StatusUnprocessableEntity:
		return httpx.Conflict("invalid_transition", "Someone acted on the idea meanwhile: reload it.")
	default:
		slog.ErrorContext(ctx, "idea notification not sent", "key", n.Key, "error", err)
		return httpx.NewProblem(http.StatusServiceUnavailable, "notifications_unavailable",
			"The notifications service cannot be reached: nothing was changed; retry later.")
	}
}

func actorOf(p auth.Principal) notifclient.Actor {
	return notifclient.Actor{Sub: p.Subject, Name: p.Name, Role: string(p.Role), Org: p.Org}
}
