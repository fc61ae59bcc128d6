// Package api is the notifications service's HTTP interface.
package api

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
	"github.com/plateforme-rome/rome/workflows/request"
)

//go:embed openapi.json
var openAPI []byte

// Deps are the router's collaborators.
type Deps struct {
	Checks   []httpx.Check
	Verifier *auth.Verifier
	Store    *store.Store
	Teams    TeamsDeliveries
	// Targets checks that a follow names a request the caller may see and a
	// fiche that exists (ServiceTargets: the intake and the referential).
	Targets Targets
}

// Targets checks what POST /v1/follows names before it is recorded.
// RequestVisible asks with the caller's own bearer token, so that the
// intake applies its visibility rules (a partner sees only their
// organisation's requests). Both answer nil when the target is there,
// ErrTargetNotFound when it does not exist or is not visible, and any
// other error when the service that knows cannot tell (unreachable,
// failing): the follow is then refused with a 503.
type Targets interface {
	RequestVisible(ctx context.Context, token, id string) error
	FicheExists(ctx context.Context, code string) error
}

// ErrTargetNotFound is a Targets answer: no such request visible to the
// caller, or no such fiche.
var ErrTargetNotFound = errors.New("follow target not found")

// TeamsDeliveries is the outbox's Teams channel as the worker drives it
// (delivery.Teams): it claims due deliveries and reports each attempt.
// Report answers store.ErrNotFound for an id that is not a Teams delivery.
type TeamsDeliveries interface {
	Claim(ctx context.Context, owner string, limit int) ([]notifclient.TeamsDelivery, error)
	Report(ctx context.Context, id string, r notifclient.TeamsResult) (notifclient.TeamsOutcome, error)
}

type handlers struct {
	store   *store.Store
	teams   TeamsDeliveries
	targets Targets
	seen    *seenUsers
}

// Router builds the notifications service's HTTP handler.
func Router(d Deps) *gin.Engine {
	if d.Targets == nil {
		panic("api: Deps.Targets is required (follows are checked against the intake and the referential)")
	}
	r := httpx.NewEngine("notifications")
	httpx.Health(r, d.Checks...)
	r.GET("/openapi.json", httpx.OpenAPI(openAPI))

	h := handlers{store: d.Store, teams: d.Teams, targets: d.Targets, seen: newSeenUsers(time.Now)}
	v1 := r.Group("/v1", auth.Authenticate(d.Verifier), h.touchUser)
	v1.GET("/me", auth.Me)
	people := auth.RequireRole(auth.RolePartner, auth.RoleModerator, auth.RoleAdmin)
	v1.POST("/notifications", auth.RequireRole(auth.RoleService), h.create)
	v1.GET("/notifications", people, h.inbox)
	v1.POST("/notifications/:id/read", people, h.read)
	v1.GET("/notifications/preferences", people, h.preferences)
	v1.PUT("/notifications/preferences", people, h.setPreferences)
	v1.GET("/notifications/dead-letters", auth.RequireRole(auth.RoleAdmin), h.deadLetters)
	v1.POST("/notifications/dead-letters/:id/retry", auth.RequireRole(auth.RoleAdmin), h.retry)
	v1.GET("/users", auth.RequireRole(auth.RoleAdmin), h.users)
	v1.GET("/follows", people, h.follows)
	v1.POST("/follows", people, h.follow)
	v1.DELETE("/follows", people, h.unfollow)

	// Routes of the platform's own processes (the worker), not of people.
	internal := r.Group("/internal/v1", auth.Authenticate(d.Verifier), auth.RequireRole(auth.RoleService))
	internal.POST("/teams-deliveries/claim", httpx.Quiet, h.claimTeams) // the worker polls it
	internal.POST("/teams-deliveries/:id/result", h.reportTeams)
	return r
}

// touchUser records the people calling the API (not services): they become
// recipients of role and organisation notifications, with the e-mail and
// the Entra object id (for Teams) of their token.
func (h handlers) touchUser(c *gin.Context) {
	p, _ := auth.FromContext(c.Request.Context())
	if p.Role == auth.RoleService {
		return
	}
	u := store.User{Sub: p.Subject, Name: p.Name, Role: string(p.Role), Org: p.Org, TokenEmail: p.Email, EntraID: p.EntraID}
	if h.seen.recent(u) {
		return
	}
	if err := h.store.TouchUser(c.Request.Context(), u); err != nil {
		_ = c.Error(err)
		c.Abort()
		return
	}
	h.seen.remember(u)
}

func principal(c *gin.Context) auth.Principal {
	p, _ := auth.FromContext(c.Request.Context())
	return p
}

var (
	codeRomePattern = regexp.MustCompile(`^[A-N][0-9]{4}$`)
	allowedRoles    = map[string]bool{string(auth.RoleModerator): true, string(auth.RoleAdmin): true}
)

// validateNotification lists what is wrong with a notification to create; it cleans its
// title and text in place by the platform's text rule (request.CheckText: no control or
// bidirectional characters, not too long; stored trimmed and NFC-normalised).
func validateNotification(n *notifclient.Notification) []httpx.FieldError {
	var errs []httpx.FieldError
	add := func(f, m string) { errs = append(errs, httpx.FieldError{Field: f, Message: m}) }
	if strings.TrimSpace(n.Key) == "" || len(n.Key) > 200 {
		add("key", "is required (at most 200 characters)")
	}
	if !n.Event.Valid() {
		add("event", "must be one of "+eventList())
	}
	if title, p := request.CheckText("title", n.Title, request.NotificationTitleRule); p != nil {
		add(p.Field, p.Message)
	} else if title == "" {
		add("title", "is required (at most 300 characters)")
	} else {
		n.Title = title
	}
	if text, p := request.CheckText("text", n.Text, request.LongTextRule); p != nil {
		add(p.Field, p.Message)
	} else {
		n.Text = text
	}
	if n.CodeRome != "" && !codeRomePattern.MatchString(n.CodeRome) {
		add("codeRome", "must be a code ROME such as M1805")
	}
	if strings.TrimSpace(n.Actor.Sub) == "" {
		add("actor.sub", "is required")
	}
	for i, r := range n.To.Roles {
		if !allowedRoles[r] {
			add("to.roles["+strconv.Itoa(i)+"]", "must be moderator or admin")
		}
	}
	for i, u := range n.To.Users {
		if strings.TrimSpace(u) == "" {
			add("to.users["+strconv.Itoa(i)+"]", "must not be empty")
		}
	}
	for i, o := range n.To.Orgs {
		if strings.TrimSpace(o) == "" {
			add("to.orgs["+strconv.Itoa(i)+"]", "must not be empty")
		}
	}
	return errs
}

func eventList() string {
	names := make([]string, len(notifclient.Events))
	for i, e := range notifclient.Events {
		names[i] = string(e)
	}
	return strings.Join(names, ", ")
}

func (h handlers) create(c *gin.Context) {
	var n notifclient.Notification
	if err := httpx.BindJSON(c, &n); err != nil {
		_ = c.Error(err)
		return
	}
	if errs := validateNotification(&n); len(errs) > 0 {
		_ = c.Error(httpx.Unprocessable("invalid_notification", "The notification is invalid.", errs...))
		return
	}
	if k := c.GetHeader("Idempotency-Key"); k != "" && k != n.Key {
		_ = c.Error(httpx.Unprocessable("idempotency_key_mismatch", "The Idempotency-Key header must equal the notification's key.",
			httpx.FieldError{Field: "key", Message: "differs from the Idempotency-Key header"}))
		return
	}
	canonical, _ := json.Marshal(n)
	sum := sha256.Sum256(canonical)
	created, replayed, err := h.store.Create(c.Request.Context(), n, hex.EncodeToString(sum[:]))
	if errors.Is(err, store.ErrKeyReused) {
		_ = c.Error(httpx.Unprocessable("notification_key_reused", "This key already names another notification.",
			httpx.FieldError{Field: "key", Message: "is already used by a notification with another body"}))
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(http.StatusCreated, created)
}

// limitOf reads ?limit= (default 50, max 200).
func limitOf(c *gin.Context) (int, error) {
	limit := 50
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			return 0, httpx.Unprocessable("invalid_query", "The query is invalid.",
				httpx.FieldError{Field: "limit", Message: "must be an integer from 1 to 200"})
		}
		limit = n
	}
	return limit, nil
}

// page reads ?limit= (default 50, max 200) and ?cursor=.
func page(c *gin.Context) (int, int64, error) {
	limit, err := limitOf(c)
	if err != nil {
		return 0, 0, err
	}
	var cursor int64
	if s := c.Query("cursor"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return 0, 0, httpx.Unprocessable("invalid_query", "The query is invalid.",
				httpx.FieldError{Field: "cursor", Message: "is not a cursor of this list"})
		}
		cursor = n
	}
	return limit, cursor, nil
}

func (h handlers) inbox(c *gin.Context) {
	limit, cursor, err := page(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out, err := h.store.Inbox(c.Request.Context(), principal(c).Subject, limit, cursor)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// users lists the people the service knows, for admins.
func (h handlers) users(c *gin.Context) {
	limit, err := limitOf(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out, err := h.store.Users(c.Request.Context(), limit, c.Query("cursor"))
	if errors.Is(err, store.ErrBadCursor) {
		_ = c.Error(httpx.Unprocessable("invalid_query", "The query is invalid.",
			httpx.FieldError{Field: "cursor", Message: "is not a cursor of this list"}))
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (h handlers) read(c *gin.Context) {
	err := h.store.MarkRead(c.Request.Context(), principal(c).Subject, c.Param("id"))
	if errors.Is(err, store.ErrNotFound) {
		_ = c.Error(httpx.NotFound("notification_not_found", "No such notification in your inbox."))
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h handlers) preferences(c *gin.Context) {
	out, err := h.store.Preferences(c.Request.Context(), principal(c).Subject)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (h handlers) setPreferences(c *gin.Context) {
	var p notifclient.Preferences
	if err := httpx.BindJSON(c, &p); err != nil {
		_ = c.Error(err)
		return
	}
	var errs []httpx.FieldError
	if p.Email != "" {
		if !auth.IsAddress(p.Email) {
			errs = append(errs, httpx.FieldError{Field: "email", Message: "must be an e-mail address such as name@example.org"})
		}
	}
	for _, e := range notifclient.Events {
		ch, ok := p.Events[e]
		if !ok {
			continue
		}
		if !ch.InApp {
			errs = append(errs, httpx.FieldError{Field: "events." + string(e) + ".inApp", Message: "must be true: in-app notifications cannot be turned off"})
		}
		if ch.Frequency != notifclient.Immediate && ch.Frequency != notifclient.Daily {
			errs = append(errs, httpx.FieldError{Field: "events." + string(e) + ".frequency", Message: "must be immediate or daily"})
		}
	}
	for e := range p.Events {
		if !e.Valid() {
			errs = append(errs, httpx.FieldError{Field: "events." + string(e), Message: "is not an event; one of " + eventList()})
		}
	}
	if len(errs) > 0 {
		_ = c.Error(httpx.Unprocessable("invalid_preferences", "The preferences are invalid.", errs...))
		return
	}
	out, err := h.store.SetPreferences(c.Request.Context(), principal(c).Subject, p)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func bindFollow(c *gin.Context) (notifclient.Follow, error) {
	var f notifclient.Follow
	if err := httpx.BindJSON(c, &f); err != nil {
		return f, err
	}
	if f.CreatedAt != nil {
		return f, httpx.Unprocessable("invalid_follow", "The follow is invalid.", httpx.FieldError{Field: "createdAt", Message: "is set by the server"})
	}
	switch {
	case (f.RequestID == "") == (f.CodeRome == ""):
		return f, httpx.Unprocessable("invalid_follow", "Follow either a request or a fiche.",
			httpx.FieldError{Field: "requestId", Message: "exactly one of requestId and codeRome is required"})
	case f.CodeRome != "" && !codeRomePattern.MatchString(f.CodeRome):
		return f, httpx.Unprocessable("invalid_follow", "The follow is invalid.", httpx.FieldError{Field: "codeRome", Message: "must be a code ROME such as M1805"})
	case len(f.RequestID) > 100:
		return f, httpx.Unprocessable("invalid_follow", "The follow is invalid.", httpx.FieldError{Field: "requestId", Message: "is at most 100 characters"})
	}
	return f, nil
}

func (h handlers) follow(c *gin.Context) {
	f, err := bindFollow(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if err := h.checkTarget(c, f); err != nil {
		_ = c.Error(err)
		return
	}
	out, created, err := h.store.Follow(c.Request.Context(), principal(c).Subject, f)
	if err != nil {
		_ = c.Error(err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, out)
}

// checkTarget refuses a follow of a request the caller may not see (asking
// the intake with the caller's token) or of a fiche that does not exist:
// 404 naming the field; 503 when the intake or the referential cannot tell.
func (h handlers) checkTarget(c *gin.Context, f notifclient.Follow) error {
	ctx := c.Request.Context()
	if f.RequestID != "" {
		err := h.targets.RequestVisible(ctx, bearerToken(c), f.RequestID)
		return targetProblem(c, err, "requestId", "request_not_found", "No request with this id is visible to you.",
			"intake_unavailable", "The intake cannot tell whether you may see this request; try again later.")
	}
	err := h.targets.FicheExists(ctx, f.CodeRome)
	return targetProblem(c, err, "codeRome", "fiche_not_found", "No fiche with this code ROME in the referential.",
		"referential_unavailable", "The referential cannot tell whether this fiche exists; try again later.")
}

func targetProblem(c *gin.Context, err error, field, notFound, notFoundDetail, unavailable, unavailableDetail string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrTargetNotFound):
		return httpx.NewProblem(http.StatusNotFound, notFound, notFoundDetail,
			httpx.FieldError{Field: field, Message: "names nothing you may follow"})
	default:
		slog.WarnContext(c.Request.Context(), "follow: cannot check the target", "field", field, "error", err)
		return httpx.NewProblem(http.StatusServiceUnavailable, unavailable, unavailableDetail)
	}
}

// bearerToken is the caller's token, which auth.Authenticate has verified.
func bearerToken(c *gin.Context) string {
	_, token, _ := strings.Cut(c.GetHeader("Authorization"), " ")
	return strings.TrimSpace(token)
}

func (h handlers) unfollow(c *gin.Context) {
	f, err := bindFollow(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	err = h.store.Unfollow(c.Request.Context(), principal(c).Subject, f)
	if errors.Is(err, store.ErrNotFound) {
		_ = c.Error(httpx.NotFound("follow_not_found", "You do not follow this."))
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h handlers) follows(c *gin.Context) {
	out, err := h.store.Follows(c.Request.Context(), principal(c).Subject)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
}

func (h handlers) deadLetters(c *gin.Context) {
	limit, cursor, err := page(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out, err := h.store.DeadLetters(c.Request.Context(), limit, cursor)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (h handlers) retry(c *gin.Context) {
	r, err := h.store.Retry(c.Request.Context(), c.Param("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		_ = c.Error(httpx.NotFound("dead_letter_not_found", "No such delivery."))
	case errors.Is(err, store.ErrNotDead):
		_ = c.Error(httpx.Conflict("not_dead_lettered", "Only a dead letter can be retried.").With("currentStatus", r.Status))
	case err != nil:
		_ = c.Error(err)
	default:
		c.JSON(http.StatusOK, gin.H{"id": r.ID, "status": r.Status, "nextAttemptAt": r.NextAttemptAt.UTC()})
	}
}

// Bounds of the Teams routes' input.
const (
	defaultClaim     = 20
	maxClaim         = 100
	maxOwner         = 200
	maxRetryAfterSec = 24 * 60 * 60
)

// validOwner checks the lease owner a worker names itself by.
func validOwner(owner string) []httpx.FieldError {
	switch {
	case strings.TrimSpace(owner) == "":
		return []httpx.FieldError{{Field: "owner", Message: "is required: the claiming worker, e.g. its host name"}}
	case utf8.RuneCountInString(owner) > maxOwner || strings.ContainsFunc(owner, unicode.IsControl):
		return []httpx.FieldError{{Field: "owner", Message: "is at most 200 characters, without control characters"}}
	}
	return nil
}

func (h handlers) claimTeams(c *gin.Context) {
	var body struct {
		Owner string `json:"owner"`
		Max   *int   `json:"max"`
	}
	if err := httpx.BindJSON(c, &body); err != nil {
		_ = c.Error(err)
		return
	}
	errs := validOwner(body.Owner)
	n := defaultClaim
	if body.Max != nil {
		n = *body.Max
	}
	if n < 1 || n > maxClaim {
		errs = append(errs, httpx.FieldError{Field: "max", Message: "must be an integer from 1 to 100"})
	}
	if len(errs) > 0 {
		_ = c.Error(httpx.Unprocessable("invalid_claim", "The claim is invalid.", errs...))
		return
	}
	items, err := h.teams.Claim(c.Request.Context(), body.Owner, n)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

func (h handlers) reportTeams(c *gin.Context) {
	var res notifclient.TeamsResult
	if err := httpx.BindJSON(c, &res); err != nil {
		_ = c.Error(err)
		return
	}
	errs := validOwner(res.Owner)
	if res.Error == "" && res.Permanent {
		errs = append(errs, httpx.FieldError{Field: "permanent", Message: "needs an error: a sent delivery cannot be refused"})
	}
	switch {
	case res.RetryAfterSeconds < 0 || res.RetryAfterSeconds > maxRetryAfterSec:
		errs = append(errs, httpx.FieldError{Field: "retryAfterSeconds", Message: "must be an integer from 0 to 86400"})
	case res.Error == "" && res.RetryAfterSeconds > 0:
		errs = append(errs, httpx.FieldError{Field: "retryAfterSeconds", Message: "needs an error: a sent delivery is not retried"})
	}
	if len(errs) > 0 {
		_ = c.Error(httpx.Unprocessable("invalid_result", "The result is invalid.", errs...))
		return
	}
	out, err := h.teams.Report(c.Request.Context(), c.Param("id"), res)
	if errors.Is(err, store.ErrNotFound) {
		_ = c.Error(httpx.NotFound("teams_delivery_not_found", "No such Teams delivery."))
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}
