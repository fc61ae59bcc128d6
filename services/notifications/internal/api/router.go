// Package api is the notifications service's HTTP interface.
package api

import (
	_ "embed"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/platform/textrule"
	"github.com/plateforme-rome/rome/services/notifications/internal/app"
	"github.com/plateforme-rome/rome/workflows/request"
)

//go:embed openapi.json
var openAPI []byte

// Deps are the router's collaborators.
type Deps struct {
	Checks   []httpx.Check
	Verifier *auth.Verifier
	Service  *app.Service
}

type handlers struct {
	svc *app.Service
}

// The largest request body each write route takes, in bytes (413
// body_too_large beyond). A JSON text may spell a character as a \uXXXX
// escape, twice for one beyond the Basic Multilingual Plane: 12 bytes per
// character at most.
const (
	// A notification's title and text at their limits, every character
	// escaped, and 16 KiB for its key (200 bytes), ids, link, actor and
	// recipients (a few subjects, roles and organisations).
	maxNotificationBody = 12*(request.MaxNotificationTitle+request.MaxText) + 16<<10
	// An address and the twelve events' choices, about 1.5 KiB written
	// compactly: room for indentation.
	maxPreferencesBody = 8 << 10
	// A request id of at most 100 characters, or a code ROME.
	maxFollowBody = 4 << 10
	// A worker's name of at most 200 characters and a count.
	maxClaimBody = 4 << 10
	// A result carries the error as Graph worded it, of no fixed length (1,000
	// characters of it are kept): a refused report would make the worker send
	// the notification again, so the limit is far above any Graph error.
	maxResultBody = 64 << 10
	// The routes that take no body.
	noBody = 0
)

// Router builds the notifications service's HTTP handler.
func Router(d Deps) *gin.Engine {
	r := httpx.NewEngine("notifications")
	httpx.Health(r, d.Checks...)
	r.GET("/openapi.json", httpx.OpenAPI(openAPI))

	h := handlers{svc: d.Service}
	v1 := r.Group("/v1", auth.Authenticate(d.Verifier), h.seen)
	v1.GET("/me", auth.Me)
	people := auth.RequireRole(auth.RolePartner, auth.RoleModerator, auth.RoleAdmin)
	v1.POST("/notifications", auth.RequireRole(auth.RoleService), httpx.BodyLimit(maxNotificationBody), h.create)
	v1.GET("/notifications", people, h.inbox)
	v1.POST("/notifications/:id/read", people, httpx.BodyLimit(noBody), h.read)
	v1.GET("/notifications/preferences", people, h.preferences)
	v1.PUT("/notifications/preferences", people, httpx.BodyLimit(maxPreferencesBody), h.setPreferences)
	v1.GET("/notifications/dead-letters", auth.RequireRole(auth.RoleAdmin), h.deadLetters)
	v1.POST("/notifications/dead-letters/:id/retry", auth.RequireRole(auth.RoleAdmin), httpx.BodyLimit(noBody), h.retry)
	v1.GET("/users", auth.RequireRole(auth.RoleAdmin), h.users)
	v1.GET("/follows", people, h.follows)
	v1.POST("/follows", people, httpx.BodyLimit(maxFollowBody), h.follow)
	v1.DELETE("/follows", people, httpx.BodyLimit(maxFollowBody), h.unfollow)
	// Followers are people: a partner must not learn about other organisations'.
	v1.GET("/follows/counts", auth.RequireRole(auth.RoleService, auth.RoleModerator, auth.RoleAdmin), h.followerCounts)

	// Routes of the platform's own processes (the worker), not of people.
	internal := r.Group("/internal/v1", auth.Authenticate(d.Verifier), auth.RequireRole(auth.RoleService))
	internal.POST("/teams-deliveries/claim", httpx.Quiet, httpx.BodyLimit(maxClaimBody), h.claimTeams) // the worker polls it
	internal.POST("/teams-deliveries/:id/result", httpx.BodyLimit(maxResultBody), h.reportTeams)
	return r
}

// seen records the people calling the API (app.Service.Seen).
func (h handlers) seen(c *gin.Context) {
	if err := h.svc.Seen(c.Request.Context(), principal(c)); err != nil {
		_ = c.Error(err)
		c.Abort()
	}
}

func principal(c *gin.Context) auth.Principal {
	p, _ := auth.FromContext(c.Request.Context())
	return p
}

var (
	allowedRoles = map[string]bool{string(auth.RoleModerator): true, string(auth.RoleAdmin): true}
)

// validateNotification lists what is wrong with a notification to create; it cleans its
// title and text in place by the platform's text rule (request.CheckText: no control or
// bidirectional characters, not too long; stored trimmed and NFC-normalised).
func validateNotification(n *notifclient.Notification) []httpx.FieldError {
	var errs fieldErrors
	errs.text("key", &n.Key, keyRule, true)
	if !n.Event.Valid() {
		errs.add("event", "must be one of "+eventList())
	}
	errs.text("requestId", &n.RequestID, request.IdentifierRule, false)
	errs.text("org", &n.Org, orgRule, false)
	errs.text("title", &n.Title, request.NotificationTitleRule, true)
	errs.text("text", &n.Text, request.LongTextRule, false)
	errs.text("link", &n.Link, linkRule, false)
	if n.CodeRome != "" && !request.CodeRomePattern.MatchString(n.CodeRome) {
		errs.add("codeRome", "must be a code ROME such as M1805")
	}
	errs.text("actor.sub", &n.Actor.Sub, subjectRule, true)
	errs.text("actor.name", &n.Actor.Name, nameRule, false)
	errs.text("actor.role", &n.Actor.Role, request.IdentifierRule, false)
	errs.text("actor.org", &n.Actor.Org, orgRule, false)
	for i, r := range n.To.Roles {
		if !allowedRoles[r] {
			errs.add("to.roles["+strconv.Itoa(i)+"]", "must be moderator or admin")
		}
	}
	for i := range n.To.Users {
		errs.text("to.users["+strconv.Itoa(i)+"]", &n.To.Users[i], subjectRule, true)
	}
	for i := range n.To.Orgs {
		errs.text("to.orgs["+strconv.Itoa(i)+"]", &n.To.Orgs[i], orgRule, true)
	}
	if len(n.To.Emails) > notifclient.MaxEmailRecipients {
		errs.add("to.emails", "must hold at most "+strconv.Itoa(notifclient.MaxEmailRecipients)+" addresses")
	}
	for i, a := range n.To.Emails {
		if !auth.IsAddress(a) {
			errs.add("to.emails["+strconv.Itoa(i)+"]", "must be an e-mail address such as name@example.org")
		}
	}
	for i := range n.ExcludeUsers {
		errs.text("excludeUsers["+strconv.Itoa(i)+"]", &n.ExcludeUsers[i], subjectRule, true)
	}
	return errs
}

// The text rules of the ids and names a notification carries.
var (
	keyRule     = request.TextRule{Name: "key", Max: 200}
	subjectRule = request.TextRule{Name: "subject", Max: 255}
	nameRule    = request.TextRule{Name: "name", Max: 200}
	orgRule     = request.TextRule{Name: "organisation", Max: 100}
	linkRule    = request.TextRule{Name: "link", Max: 2000}
	ownerRule   = request.TextRule{Name: "owner", Max: 200}
)

// fieldErrors collects validation errors.
type fieldErrors []httpx.FieldError

func (e *fieldErrors) add(field, message string) {
	*e = append(*e, httpx.FieldError{Field: field, Message: message})
}

// text cleans a text in place by its rule (textrule.Clean), or adds the problem; required
// refuses an empty text.
func (e *fieldErrors) text(field string, s *string, rule request.TextRule, required bool) {
	if p := textrule.Clean(field, s, rule, required); p != nil {
		e.add(p.Field, p.Message)
	}
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
	created, replayed, err := h.svc.Notify(c.Request.Context(), n)
	if errors.Is(err, app.ErrKeyReused) {
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

// invalidQuery is the problem of a query parameter that is not what the route takes.
func invalidQuery(field, message string) error {
	return httpx.Unprocessable("invalid_query", "The query is invalid.", httpx.FieldError{Field: field, Message: message})
}

// limitOf reads ?limit= (default 50, max 200).
func limitOf(c *gin.Context) (int, error) {
	limit := 50
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			return 0, invalidQuery("limit", "must be an integer from 1 to 200")
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
			return 0, 0, invalidQuery("cursor", "is not a cursor of this list")
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
	out, err := h.svc.Inbox(c.Request.Context(), principal(c).Subject, limit, cursor)
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
	out, err := h.svc.Users(c.Request.Context(), limit, c.Query("cursor"))
	if errors.Is(err, app.ErrBadCursor) {
		_ = c.Error(invalidQuery("cursor", "is not a cursor of this list"))
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (h handlers) read(c *gin.Context) {
	err := h.svc.MarkRead(c.Request.Context(), principal(c).Subject, c.Param("id"))
	if errors.Is(err, app.ErrNotFound) {
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
	out, err := h.svc.Preferences(c.Request.Context(), principal(c).Subject)
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
	out, err := h.svc.SetPreferences(c.Request.Context(), principal(c).Subject, p)
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
	case f.CodeRome != "" && !request.CodeRomePattern.MatchString(f.CodeRome):
		return f, httpx.Unprocessable("invalid_follow", "The follow is invalid.", httpx.FieldError{Field: "codeRome", Message: "must be a code ROME such as M1805"})
	}
	var errs fieldErrors
	if errs.text("requestId", &f.RequestID, request.IdentifierRule, false); len(errs) > 0 {
		return f, httpx.Unprocessable("invalid_follow", "The follow is invalid.", errs...)
	}
	return f, nil
}

func (h handlers) follow(c *gin.Context) {
	f, err := bindFollow(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out, created, err := h.svc.Follow(c.Request.Context(), principal(c).Subject, bearerToken(c), f)
	if err != nil {
		_ = c.Error(followProblem(err))
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, out)
}

// followProblem answers a follow refused because of what it names: 404
// naming the field when it is not there for the caller, 503 when the intake or
// the referential cannot tell.
func followProblem(err error) error {
	notFound := func(code, detail, field string) error {
		return httpx.NewProblem(http.StatusNotFound, code, detail, httpx.FieldError{Field: field, Message: "names nothing you may follow"})
	}
	switch {
	case errors.Is(err, app.ErrRequestNotVisible):
		return notFound("request_not_found", "No request with this id is visible to you.", "requestId")
	case errors.Is(err, app.ErrFicheNotFound):
		return notFound("fiche_not_found", "No fiche with this code ROME in the referential.", "codeRome")
	case errors.Is(err, app.ErrIntakeUnavailable):
		return httpx.NewProblem(http.StatusServiceUnavailable, "intake_unavailable", "The intake cannot tell whether you may see this request; try again later.")
	case errors.Is(err, app.ErrReferentialUnavailable):
		return httpx.NewProblem(http.StatusServiceUnavailable, "referential_unavailable", "The referential cannot tell whether this fiche exists; try again later.")
	}
	return err
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
	err = h.svc.Unfollow(c.Request.Context(), principal(c).Subject, f)
	if errors.Is(err, app.ErrNotFound) {
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
	out, err := h.svc.Follows(c.Request.Context(), principal(c).Subject)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
}

// followerCounts counts the people who follow each fiche ?codeRome= names.
func (h handlers) followerCounts(c *gin.Context) {
	codes, err := codesRomeOf(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out, err := h.svc.FollowerCounts(c.Request.Context(), codes)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": out})
}

// codesRomeOf reads ?codeRome=, repeated: 1 to notifclient.MaxFollowerCodes codes ROME,
// each kept once, in their order.
func codesRomeOf(c *gin.Context) ([]string, error) {
	given := c.QueryArray("codeRome")
	switch {
	case len(given) == 0:
		return nil, invalidQuery("codeRome", "at least one code ROME is required")
	case len(given) > notifclient.MaxFollowerCodes:
		return nil, invalidQuery("codeRome", "at most "+strconv.Itoa(notifclient.MaxFollowerCodes)+" codes ROME")
	}
	codes := make([]string, 0, len(given))
	for _, code := range given {
		if !request.CodeRomePattern.MatchString(code) {
			return nil, invalidQuery("codeRome", "must be codes ROME such as M1805")
		}
		if !slices.Contains(codes, code) {
			codes = append(codes, code)
		}
	}
	return codes, nil
}

func (h handlers) deadLetters(c *gin.Context) {
	limit, cursor, err := page(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out, err := h.svc.DeadLetters(c.Request.Context(), limit, cursor)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (h handlers) retry(c *gin.Context) {
	r, err := h.svc.RetryDeadLetter(c.Request.Context(), c.Param("id"))
	switch {
	case errors.Is(err, app.ErrNotFound):
		_ = c.Error(httpx.NotFound("dead_letter_not_found", "No such delivery."))
	case errors.Is(err, app.ErrNotDead):
		_ = c.Error(httpx.Conflict("not_dead_lettered", "Only a dead letter can be retried.").With("currentStatus", r.Status))
	case err != nil:
		_ = c.Error(err)
	default:
		c.JSON(http.StatusOK, gin.H{"id": r.ID, "status": r.Status, "nextAttemptAt": r.NextAttemptAt})
	}
}

// Bounds of the Teams routes' input.
const (
	defaultClaim     = 20
	maxClaim         = 100
	maxRetryAfterSec = 24 * 60 * 60
)

// validOwner checks the lease owner a worker names itself by (e.g. its host name).
func validOwner(owner string) []httpx.FieldError {
	var errs fieldErrors
	errs.text("owner", &owner, ownerRule, true)
	return errs
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
	items, err := h.svc.ClaimTeams(c.Request.Context(), body.Owner, n)
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
	out, err := h.svc.ReportTeams(c.Request.Context(), c.Param("id"), res)
	if errors.Is(err, app.ErrNotFound) {
		_ = c.Error(httpx.NotFound("teams_delivery_not_found", "No such Teams delivery."))
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, out)
}
