// Package api is the intake's HTTP interface: the evolution-request API for partners and
// moderators, the internal API the worker's activities call, identity and, in dev mode,
// the dev token issuer.
package api

import (
	"context"
	_ "embed"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/config"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/platform/service"
	"github.com/plateforme-rome/rome/services/intake/internal/accessreq"
	"github.com/plateforme-rome/rome/services/intake/internal/app"
	"github.com/plateforme-rome/rome/services/intake/internal/directory"
	"github.com/plateforme-rome/rome/services/intake/internal/ideas"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/services/intake/internal/temporalwf"
	"github.com/plateforme-rome/rome/workflows/access"
	"github.com/plateforme-rome/rome/workflows/request"
)

//go:embed openapi.json
var openAPI []byte

// Deps are the router's collaborators.
type Deps struct {
	Checks   []httpx.Check
	Verifier *auth.Verifier
	// Dev is the dev token issuer; nil outside dev mode, and then the /dev
	// routes do not exist.
	Dev *auth.DevIssuer

	// Directory is the platform's directory of organisations and people; the Verifier
	// checks tokens against it.
	Directory *directory.Service

	Requests    Requests
	Workflows   Workflows
	Referential Referential
	// Ideas keeps the ideas; Notifications tells people of what happens to them.
	Ideas         ideas.Store
	Notifications ideas.Notifier
	// Timers are given to every new request's workflow.
	Timers request.Timers
	// AssignInTurn: checked requests go to the moderators in turn (the round-robin rule).
	AssignInTurn bool
	// PublicURL is where people reach the intake: links in notifications and Teams lead to
	// PublicURL/v1/requests/{id}, unless ConsoleURL is set.
	PublicURL string
	// ConsoleURL is the web console's address; when set, links lead to the request's page
	// there (ConsoleURL/demandes/{id}).
	ConsoleURL string
	// Now is the clock (submission times, the overdue filter); nil is time.Now.
	Now func() time.Time
	// Teams configures the requests' Teams channels; nil runs requests without Teams.
	Teams *request.TeamsConfig
	// RateLimit throttles each client on the unauthenticated routes (the Graph webhook,
	// the dev issuer); the zero value is off.
	RateLimit httpx.RateLimitConfig

	// AccessRequests keeps the access requests' projection; AccessWorkflows runs their
	// workflows; AccessLinks signs the links of their e-mails. InviteGuests and AccessTimers
	// are given to every new one's workflow.
	AccessRequests  accessreq.Store
	AccessWorkflows accessreq.Workflows
	AccessLinks     accessreq.Links
	AccessTimers    access.Timers
	InviteGuests    bool

	// Codec configures the codec server the Temporal UI decrypts histories with.
	Codec CodecConfig
}

// Requests, Workflows and Referential are the use cases' collaborators (package app).
type (
	Requests    = app.Requests
	Workflows   = app.Workflows
	Referential = app.Referential
)

type handlers struct {
	app       *app.Service
	directory *directory.Service
	ideas     *ideas.Service
	access    *accessreq.Service
}

// Request body limits, per route: what the largest valid body needs, with room to spare
// (texts of at most request.MaxText characters, at most request.MaxOperations operations,
// French text in UTF-8: two bytes a character at most but for rare signs).
const (
	maxOperationsBody = 4 << 20   // a submission, an amendment, a decision with amendments: 100 long texts
	maxTextBody       = 128 << 10 // a message, question, answer or withdrawal: one text
	maxSmallBody      = 4 << 10   // an assignment, a dev token
	maxEventBody      = 8 << 20   // a workflow event carries the whole request's state
	maxOverlapsBody   = 1 << 20   // an overlap query, at most 1,000 elements
	maxGraphBody      = 1 << 20   // a batch of Graph change notifications
	maxImportBody     = 2 << 20   // a CSV of directory.MaxImportLines people, about 200 bytes each
	maxIdeaBody       = 32 << 10  // an idea: a text of 5,000 characters and a few codes
	// maxAccessRecordBody: an access request's state, with an exchange of access.MaxMessages texts.
	maxAccessRecordBody = 256 << 10
	// maxGroupSyncBody: a whole Entra group read at once, 20,000 members of about 200 bytes.
	maxGroupSyncBody = 4 << 20
)

// accessLinkLifetime is how long the link verifying an applicant's address works.
const accessLinkLifetime = 48 * time.Hour

// Router builds the intake's HTTP handler.
func Router(d Deps) *gin.Engine {
	r := httpx.NewEngine("intake")
	httpx.Health(r, d.Checks...)
	r.GET("/openapi.json", httpx.OpenAPI(openAPI))
	h := &handlers{app: app.New(d.Requests, d.Workflows, d.Referential, app.Config{
		Timers: d.Timers, PublicURL: d.PublicURL, ConsoleURL: d.ConsoleURL, Teams: d.Teams, AssignInTurn: d.AssignInTurn, Now: d.Now,
	}), directory: d.Directory}
	h.ideas = ideas.New(d.Ideas, d.Notifications, func(ctx context.Context, p auth.Principal, id string) error {
		_, err := h.app.Visible(ctx, p, id)
		return err
	}, ideas.Config{Link: d.ideaLink, PerAddress: ideasPerAddress, Now: d.Now})
	h.access = accessreq.New(d.AccessRequests, d.AccessWorkflows, d.Notifications, d.Directory, accessreq.Config{
		Links: d.AccessLinks, Page: d.page, Console: d.ConsoleURL != "", VerifyFor: accessLinkLifetime, PerAddress: accessPerAddress,
		Timers: d.AccessTimers, InviteGuests: d.InviteGuests, Now: d.Now})
	// Microsoft Graph posts change notifications here; it carries no token, the
	// subscription's client state authenticates it.
	limit := httpx.RateLimit(d.RateLimit)
	r.POST("/webhooks/graph", limit, httpx.BodyLimit(maxGraphBody), h.graphWebhook)
	// Anyone may send an idea: no token, the unauthenticated routes' rate.
	r.POST("/v1/ideas", limit, httpx.BodyLimit(maxIdeaBody), h.submitIdea)
	// Anyone may apply for access, and follows their request through signed links.
	r.POST("/v1/access-requests", limit, httpx.BodyLimit(maxAccessBody), h.submitAccess)
	r.POST("/v1/access-requests/:id/verify", limit, httpx.BodyLimit(maxSmallBody), applicantAction(h.access.Verify))
	r.GET("/v1/access-requests/:id/applicant", limit, h.applicantView)
	r.POST("/v1/access-requests/:id/answer", limit, httpx.BodyLimit(maxTextBody), applicantAction(h.access.AnswerQuestion))

	v1 := r.Group("/v1", auth.Authenticate(d.Verifier))
	v1.GET("/me", auth.Me)

	var (
		partner = auth.RequireRole(auth.RolePartner)
		staff   = auth.RequireRole(auth.RoleModerator, auth.RoleAdmin)
		people  = auth.RequireRole(auth.RolePartner, auth.RoleModerator, auth.RoleAdmin)
		admin   = auth.RequireRole(auth.RoleAdmin)
	)
	ops, text, small := httpx.BodyLimit(maxOperationsBody), httpx.BodyLimit(maxTextBody), httpx.BodyLimit(maxSmallBody)
	v1.POST("/requests", partner, ops, h.submit)
	v1.GET("/requests", people, h.list)
	v1.GET("/requests/:id", people, h.get)
	v1.GET("/requests/:id/history", people, h.history)
	v1.GET("/requests/:id/preview", people, h.preview)
	v1.PATCH("/requests/:id/operations", partner, ops, change[app.Amend](h, nil))
	v1.POST("/requests/:id/messages", people, text, change[app.Message](h, nil))
	v1.POST("/requests/:id/assign", staff, small, change[app.Assign](h, nil))
	v1.POST("/requests/:id/questions", staff, text, change[app.Question](h, nil))
	v1.POST("/requests/:id/questions/:questionId/answer", partner, text, change[app.AnswerQuestion](h, questionID))
	v1.POST("/requests/:id/decision", staff, ops, change[app.Decide](h, nil))
	v1.POST("/requests/:id/withdraw", partner, text, change[app.Withdraw](h, nil))
	v1.POST("/releases", admin, small, h.cutRelease)
	v1.GET("/stats/contributions", people, h.contributions)
	v1.GET("/moderators/workload", staff, h.workload)

	teamOrService := auth.RequireRole(auth.RoleModerator, auth.RoleAdmin, auth.RoleService)
	v1.POST("/people", admin, small, h.createPerson)
	v1.POST("/people:import", admin, httpx.BodyLimit(maxImportBody), h.importPeople)
	v1.GET("/people", teamOrService, h.listPeople)
	v1.GET("/people/:sub", h.getPerson)
	v1.PATCH("/people/:sub", admin, small, h.updatePerson)
	v1.POST("/organisations", admin, small, h.createOrganisation)
	v1.GET("/organisations", h.listOrganisations)
	v1.PATCH("/organisations/:id", admin, small, h.updateOrganisation)

	v1.GET("/access-requests", admin, h.listAccess)
	v1.GET("/access-requests/:id", admin, h.getAccess)
	v1.POST("/access-requests/:id/approve", admin, small, reviewAccess(h.access.Approve))
	v1.POST("/access-requests/:id/ask", admin, text, reviewAccess(h.access.Ask))
	v1.POST("/access-requests/:id/reject", admin, text, reviewAccess(h.access.Reject))

	v1.GET("/ideas", people, h.listIdeas)
	v1.GET("/ideas/:id", people, h.getIdea)
	v1.POST("/ideas/:id/dismiss", staff, text, ideaChange(h.ideas.Dismiss))
	v1.POST("/ideas/:id/reply", staff, text, ideaChange(h.ideas.Reply))
	v1.POST("/ideas/:id/handover", staff, small, ideaChange(h.ideas.HandOver))
	v1.POST("/ideas/:id/request", partner, small, ideaChange(h.ideas.LinkRequest))

	internal := r.Group("/internal/v1", auth.Authenticate(d.Verifier), auth.RequireRole(auth.RoleService))
	internal.POST("/events", httpx.BodyLimit(maxEventBody), h.recordEvent)
	internal.POST("/overlaps", httpx.BodyLimit(maxOverlapsBody), h.findOverlaps)
	internal.PUT("/access-requests/:id", httpx.BodyLimit(maxAccessRecordBody), h.recordAccess)
	internal.POST("/access-requests/:id/notices", httpx.BodyLimit(maxSmallBody), h.notifyAccess)
	internal.POST("/access-requests/:id/person", httpx.BodyLimit(maxSmallBody), h.provisionPerson)
	internal.POST("/group-members", httpx.BodyLimit(maxGroupSyncBody), h.syncGroup)
	internal.POST("/assignments", httpx.BodyLimit(maxSmallBody), h.assignInTurn)

	registerCodec(r, d.Verifier, d.Codec)

	if d.Dev != nil {
		d.Dev.Register(r.Group("/dev", limit, small), d.Directory.RecordDevPerson)
	}
	return r
}

// Build wires the router from the running service: in dev mode the intake
// hosts the dev issuer and checks its tokens with the issuer's own key;
// otherwise tokens come from the configured identity provider. The preview
// calls the referential with the intake's own service token.
func Build(ctx context.Context, rt *service.Runtime) (http.Handler, error) {
	st := store.New(rt.DB)
	d, err := NewDeps(rt.DevMode, rt.Checks(), directory.New(st, nil))
	if err != nil {
		return nil, err
	}
	cfg, err := ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	// The unauthenticated routes get a tight per-client rate.
	if d.RateLimit, err = httpx.RateLimitFromEnv(5, 20); err != nil {
		return nil, err
	}
	tokens, err := auth.NewTokenSource(ctx, rt.Name)
	if err != nil {
		return nil, err
	}
	hc := oauth2.NewClient(ctx, tokens)
	hc.Timeout = 30 * time.Second
	hc.Transport = httpx.OutboundTransport(hc.Transport)
	d.Requests, d.Ideas, d.AccessRequests = st, st, st
	workflows := &temporalwf.TemporalWorkflows{Client: rt.Temporal, TaskQueue: cfg.TaskQueue}
	d.Workflows, d.AccessWorkflows = workflows, workflows
	d.AccessLinks, d.AccessTimers, d.InviteGuests = accessreq.NewLinks(cfg.AccessLinkKey), cfg.AccessTimers, cfg.InviteGuests
	d.Referential = refclient.New(cfg.ReferentialURL, hc)
	d.Notifications = notifclient.New(cfg.NotificationsURL, hc)
	d.Timers, d.AssignInTurn = cfg.Timers, cfg.AssignInTurn
	d.PublicURL, d.ConsoleURL, d.Teams = cfg.PublicURL, cfg.ConsoleURL, cfg.Teams
	if d.Codec, err = CodecConfigFromEnv(rt.TemporalConfig, rt.DevMode); err != nil {
		return nil, err
	}
	// The requests by status and the overdue ones, for the operators' dashboard.
	if _, err := app.New(st, workflows, d.Referential, app.Config{Timers: cfg.Timers}).ObserveRequests(st); err != nil {
		return nil, err
	}
	rt.Logger.InfoContext(ctx, "request routes ready", "taskQueue", cfg.TaskQueue, "referential", cfg.ReferentialURL,
		"teams", cfg.Teams != nil, "console", cfg.ConsoleURL)
	// Requests filed before today's text rules are reported, never rewritten.
	go func() {
		if err := app.New(d.Requests, d.Workflows, d.Referential, app.Config{}).ReportStoredTexts(ctx); err != nil {
			rt.Logger.WarnContext(ctx, "stored request texts not checked", "error", err)
		}
	}()
	return Router(d), nil
}

// NewDeps reads the authentication settings (see auth.ConfigFromEnv); tokens are checked
// against dir.
func NewDeps(devMode bool, checks []httpx.Check, dir *directory.Service) (Deps, error) {
	d := Deps{Checks: checks, Directory: dir}
	cfg, err := auth.ConfigFromEnv()
	if err != nil {
		return Deps{}, err
	}
	cfg.Directory = dir
	if devMode {
		// Every replica mints with the key in the shared state directory, under one issuer
		// (DevIssuerURLFromEnv): a token from one is good on the others.
		issuer, err := auth.DevIssuerURLFromEnv()
		if err != nil {
			return Deps{}, err
		}
		if d.Dev, err = auth.NewDevIssuer(config.StateDir(), issuer); err != nil {
			return Deps{}, err
		}
		if cfg.Issuer == d.Dev.Issuer() {
			cfg.KeySet = d.Dev.KeySet()
		}
	}
	if d.Verifier, err = auth.NewVerifier(cfg); err != nil {
		return Deps{}, err
	}
	return d, nil
}

// ideaLink is where people open an idea: its page in the console when there is one.
func (d Deps) ideaLink(id string) string {
	if d.ConsoleURL != "" {
		return d.ConsoleURL + "/idees/" + url.PathEscape(id)
	}
	return d.PublicURL + "/v1/ideas/" + url.PathEscape(id)
}

// page is the address of one of the console's pages, the API's for its own paths (/v1/…)
// or its root when there is no console.
func (d Deps) page(path string) string {
	switch {
	case d.ConsoleURL != "":
		return d.ConsoleURL + path
	case strings.HasPrefix(path, "/v1/"):
		return d.PublicURL + path
	}
	return d.PublicURL + "/"
}

// principal is the authenticated caller (the routes are behind Authenticate).
func principal(c *gin.Context) auth.Principal {
	p, _ := auth.FromContext(c.Request.Context())
	return p
}
