// Package api is the referential's HTTP interface: public reads (native and France
// Travail–compatible shapes), search, change sets, versions and export.
package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/referential/internal/app"
	"github.com/plateforme-rome/rome/services/referential/internal/fiche"
	"github.com/plateforme-rome/rome/services/referential/internal/ftcompat"
	"github.com/plateforme-rome/rome/workflows/request"
)

// Deps are what the router needs.
type Deps struct {
	Service *app.Service
	// Authenticate rejects requests without a valid bearer token.
	Authenticate gin.HandlerFunc
	// RequireService lets only the `service` role through (after Authenticate).
	RequireService gin.HandlerFunc
	Checks         []httpx.Check
	// RateLimit throttles each client's public reads (not the probes, not the
	// authenticated change sets); the zero value is off.
	RateLimit httpx.RateLimitConfig
	// SignedIn tells whether a request carries a valid token of the platform: such
	// callers are not throttled by address (the console reads for all its people from
	// one address, the worker and the intake for all requests). Nil: nobody is.
	SignedIn func(*http.Request) bool
	// RequireAdmin lets only the `admin` role through (after Authenticate): the registry
	// of the France Travail–compatible API's clients.
	RequireAdmin gin.HandlerFunc
	// Clients issues and verifies the access tokens of the France Travail–compatible API.
	Clients *app.Clients
	// Webhooks is the registry of consumers' webhook endpoints (admin routes).
	Webhooks *app.Webhooks
}

type handlers struct {
	svc      *app.Service
	clients  *app.Clients
	signedIn func(*http.Request) bool
}

// SignedInWith is Deps.SignedIn for the platform's tokens, as v verifies them.
func SignedInWith(v *auth.Verifier) func(*http.Request) bool {
	return func(r *http.Request) bool {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			return false
		}
		_, err := v.Verify(r.Context(), token)
		return err == nil
	}
}

// Shapes renders each shape of a fiche document.
var Shapes = map[app.Shape]func(*fiche.Fiche) any{
	app.ShapeFiche:          func(f *fiche.Fiche) any { return f },
	app.ShapeFTMetier:       func(f *fiche.Fiche) any { return ftcompat.Metier(f) },
	app.ShapeFTFiche:        func(f *fiche.Fiche) any { return ftcompat.FicheMetier(f) },
	app.ShapeFTMetierItem:   func(f *fiche.Fiche) any { return ftcompat.MetierListItem(f) },
	app.ShapeFTMetierResume: func(f *fiche.Fiche) any { return ftcompat.MetierInDomaine(f) },
	app.ShapeFTAppellations: func(f *fiche.Fiche) any { return ftcompat.Appellations(f) },
}

// WarmShapes are encoded for every fiche as soon as a version is loaded: every shape, so
// that the France Travail lists, assembled from them, are served from memory at once.
var WarmShapes = Shapes

// Router builds the referential's HTTP handler.
func Router(d Deps) *gin.Engine {
	r := httpx.NewEngine("referential")
	httpx.Health(r, d.Checks...)
	signedIn := d.SignedIn
	if signedIn == nil {
		signedIn = func(*http.Request) bool { return false }
	}
	h := &handlers{svc: d.Service, clients: d.Clients, signedIn: signedIn}
	r.GET("/openapi.json", serveOpenAPI)

	throttle := httpx.RateLimit(d.RateLimit)
	limit := func(c *gin.Context) {
		if signedIn(c.Request) {
			return
		}
		throttle(c)
	}

	v1 := r.Group("/v1")
	// The public reads come by the thousand a second: logged when they fail or are slow.
	reads := v1.Group("", httpx.Quiet, limit)
	reads.GET("/version", h.version)
	reads.GET("/stats", h.stats)
	reads.GET("/fiches", h.listFiches)
	reads.GET("/fiches/:code", h.getFiche)
	reads.GET("/fiches/:code/history", h.ficheHistory)
	reads.GET("/fiches/:code/provenance", h.provenance)
	reads.GET("/appellations/:code", h.item("appellation"))
	reads.GET("/competences/:code", h.item("competence"))
	reads.GET("/savoirs/:code", h.item("savoir"))
	reads.GET("/contextes-travail", h.contextes)
	reads.GET("/search/:kind", h.search)
	reads.GET("/versions", h.versions)
	reads.GET("/versions/:n/changes", h.versionChanges)
	reads.GET("/versions/:n/delta", h.versionDelta)
	reads.GET("/changes", h.changes)
	reads.GET("/changes.atom", h.changesAtom)
	reads.GET("/correspondences", h.correspondences)
	reads.GET("/changesets/:id", h.getChangeSet)
	reads.GET("/export", h.export)
	v1.POST(`/changesets\:validate`, d.Authenticate, httpx.BodyLimit(changeSetBodyLimit), h.validate)
	v1.POST("/changesets", d.Authenticate, d.RequireService, httpx.BodyLimit(changeSetBodyLimit), h.publish)
	h.releaseRoutes(v1, reads, d)

	h.ftRoutes(r.Group("", httpx.Quiet), ftAccess(d, throttle))
	h.clientRoutes(r, d)
	webhookRoutes(r, d)
	return r
}

// state returns the current version, or renders 503 while the referential is empty.
func (h *handlers) state(c *gin.Context) (*app.State, bool) {
	st := h.svc.Current()
	if st == nil {
		c.Error(httpx.NewProblem(http.StatusServiceUnavailable, "referential_empty", "No ROME release has been imported yet."))
		return nil, false
	}
	return st, true
}

// notModified answers 304 when the client already has this version of the resource.
func notModified(c *gin.Context, st *app.State) bool { return notModifiedAs(c, st, st.ETag) }

// notModifiedAs is notModified for one representation of the resource, named by etag.
func notModifiedAs(c *gin.Context, st *app.State, etag string) bool {
	c.Header("ETag", etag)
	if st.IsNext() {
		// Signed-in callers only, and it moves with every change set staged.
		c.Header("Cache-Control", "private, no-cache")
	} else {
		c.Header("Cache-Control", "public, max-age=60")
	}
	if ifNoneMatch(c, etag) {
		c.Status(http.StatusNotModified)
		return true
	}
	return false
}

// versioned resolves ?version=N (default: current), or ?version=next: the next release, for
// signed-in callers of a deployment with release trains.
func (h *handlers) versioned(c *gin.Context) (*app.State, bool) {
	q := c.Query("version")
	switch q {
	case "":
		return h.state(c)
	case "next":
		return h.next(c)
	}
	n, err := strconv.Atoi(q)
	if err != nil || n <= 0 {
		c.Error(httpx.Unprocessable("invalid_version", "version must be a positive integer or next", httpx.FieldError{Field: "version", Message: "not a positive integer nor next"}))
		return nil, false
	}
	st, ok, err := h.svc.At(c.Request.Context(), n)
	if err != nil {
		c.Error(err)
		return nil, false
	}
	if !ok {
		c.Error(httpx.NotFound("version_not_found", fmt.Sprintf("version %d does not exist", n)))
		return nil, false
	}
	return st, true
}

func writeJSONBytes(c *gin.Context, b []byte) {
	c.Data(http.StatusOK, "application/json; charset=utf-8", b)
}

func (h *handlers) version(c *gin.Context) {
	st, ok := h.state(c)
	if !ok || notModified(c, st) {
		return
	}
	v := st.Snap.Version
	c.JSON(http.StatusOK, gin.H{"version": v.Number, "label": v.Label, "publishedAt": v.PublishedAt, "lastModifiedDate": v.LastModified})
}

func (h *handlers) stats(c *gin.Context) {
	st, ok := h.versioned(c)
	if !ok || notModified(c, st) {
		return
	}
	c.JSON(http.StatusOK, app.Stats(st))
}

func (h *handlers) getFiche(c *gin.Context) {
	st, ok := h.versioned(c)
	if !ok {
		return
	}
	h.serveDoc(c, st, c.Param("code"), app.ShapeFiche)
}

func (h *handlers) serveDoc(c *gin.Context, st *app.State, code string, shape app.Shape) {
	if d, ok := lookupDoc(c, st, code); ok {
		writeDoc(c, st, d, shape)
	}
}

// writeDoc sends a fiche in a shape, gzip-compressed to the clients that accept it (most
// HTTP clients do): a representation of its own, with its own ETag.
func writeDoc(c *gin.Context, st *app.State, d *app.Doc, shape app.Shape) {
	c.Header("Vary", "Accept-Encoding")
	if !httpx.AcceptsGzip(c.Request) {
		if !notModified(c, st) {
			writeJSONBytes(c, d.Encode(shape, Shapes[shape]))
		}
		return
	}
	if notModifiedAs(c, st, gzipETag(st.ETag)) {
		return
	}
	c.Header("Content-Encoding", "gzip")
	writeJSONBytes(c, d.Gzip(shape, Shapes[shape]))
}

// gzipETag names the gzip-compressed representation of what etag names.
func gzipETag(etag string) string { return strings.TrimSuffix(etag, `"`) + `-gzip"` }

// lookupDoc finds a fiche, or renders the 404.
func lookupDoc(c *gin.Context, st *app.State, code string) (*app.Doc, bool) {
	if !request.CodeRomePattern.MatchString(code) {
		c.Error(httpx.NotFound("fiche_not_found", fmt.Sprintf("%q is not a code ROME (a letter A–N and four digits)", code)))
		return nil, false
	}
	d, ok := st.Doc(code)
	if !ok {
		c.Error(httpx.NotFound("fiche_not_found", fmt.Sprintf("fiche %s does not exist in version %d", code, st.Version())))
		return nil, false
	}
	return d, true
}

// Pagination of list endpoints (api.md: limit default 50, max 200; opaque cursor).
func pageParams(c *gin.Context) (limit int, after string, ok bool) {
	limit = 50
	if q := c.Query("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > 200 {
			c.Error(httpx.Unprocessable("invalid_limit", "limit is between 1 and 200", httpx.FieldError{Field: "limit", Message: "between 1 and 200"}))
			return 0, "", false
		}
		limit = n
	}
	if cur := c.Query("cursor"); cur != "" {
		b, err := base64.RawURLEncoding.DecodeString(cur)
		if err != nil {
			c.Error(httpx.Unprocessable("invalid_cursor", "cursor is not one this API returned", httpx.FieldError{Field: "cursor", Message: "invalid"}))
			return 0, "", false
		}
		after = string(b)
	}
	return limit, after, true
}

func cursor(last string) string { return base64.RawURLEncoding.EncodeToString([]byte(last)) }

func (h *handlers) listFiches(c *gin.Context) {
	st, ok := h.versioned(c)
	if !ok {
		return
	}
	limit, after, ok := pageParams(c)
	if !ok {
		return
	}
	gd, dp := strings.ToUpper(c.Query("grandDomaine")), strings.ToUpper(c.Query("domaineProfessionnel"))
	var match func(string) bool
	if q := strings.TrimSpace(c.Query("q")); q != "" {
		match = app.TextMatcher(q)
	}
	items := []app.Summary{}
	next := ""
	for _, code := range st.Codes() {
		if code <= after || (gd != "" && code[:1] != gd) || (dp != "" && code[:3] != dp) {
			continue
		}
		sum := st.Summary(code)
		if match != nil && !match(sum.Libelle) {
			continue
		}
		if len(items) == limit {
			next = cursor(items[len(items)-1].CodeRome)
			break
		}
		items = append(items, sum)
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "nextCursor": nullable(next), "version": st.Version()})
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (h *handlers) ficheHistory(c *gin.Context) {
	st, ok := h.state(c)
	if !ok {
		return
	}
	code := c.Param("code")
	hist, err := h.svc.FicheHistory(c.Request.Context(), code)
	if err != nil {
		c.Error(err)
		return
	}
	if _, exists := st.Doc(code); !exists && len(hist) == 0 {
		c.Error(httpx.NotFound("fiche_not_found", fmt.Sprintf("fiche %s has never existed", code)))
		return
	}
	c.JSON(http.StatusOK, gin.H{"codeRome": code, "items": hist})
}

func (h *handlers) item(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		st, ok := h.versioned(c)
		if !ok {
			return
		}
		it, found := app.LookupItem(st, kind, c.Param("code"))
		if !found {
			c.Error(httpx.NotFound(kind+"_not_found", fmt.Sprintf("no %s with code OGR %q in version %d", kind, c.Param("code"), st.Version())))
			return
		}
		if notModified(c, st) {
			return
		}
		c.JSON(http.StatusOK, it)
	}
}

func (h *handlers) contextes(c *gin.Context) {
	st, ok := h.versioned(c)
	if !ok || notModified(c, st) {
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": app.Contextes(st)})
}

func (h *handlers) search(c *gin.Context) {
	st, ok := h.state(c)
	if !ok {
		return
	}
	kind := c.Param("kind")
	q := c.Query("q")
	if strings.TrimSpace(q) == "" {
		c.Error(httpx.Unprocessable("query_required", "q is required", httpx.FieldError{Field: "q", Message: "required"}))
		return
	}
	limit := 20
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			c.Error(httpx.Unprocessable("invalid_limit", "limit is between 1 and 200", httpx.FieldError{Field: "limit", Message: "between 1 and 200"}))
			return
		}
		limit = n
	}
	hits, ok := st.Search(kind, q, limit)
	if !ok {
		c.Error(httpx.NotFound("unknown_search", "search is for appellations, competences or savoirs"))
		return
	}
	// Encoded straight into the response: the search runs thousands of times a second, and
	// the bytes it allocates are what makes the collector run (BENCHMARKS.md, issue #11).
	c.Header("Content-Type", "application/json; charset=utf-8")
	c.Status(http.StatusOK)
	_ = json.NewEncoder(c.Writer).Encode(searchAnswer{Items: hits, Version: st.Version()}) // a write error is the client gone
}

// searchAnswer is the search route's response.
type searchAnswer struct {
	Items   []app.SearchHit `json:"items"`
	Version int             `json:"version"`
}

func (h *handlers) versions(c *gin.Context) {
	vs, err := h.svc.Versions(c.Request.Context())
	if err != nil {
		c.Error(err)
		return
	}
	items := make([]gin.H, 0, len(vs))
	for _, v := range vs {
		items = append(items, gin.H{"version": v.Number, "label": v.Label, "source": v.Source, "publishedAt": v.PublishedAt,
			"changesetId": v.ChangesetID, "requestId": v.RequestID, "release": v.ReleaseNumber})
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

func (h *handlers) versionChanges(c *gin.Context) {
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil {
		c.Error(httpx.NotFound("version_not_found", "versions are numbers"))
		return
	}
	d, ok, err := h.svc.Delta(c.Request.Context(), n)
	if err != nil {
		c.Error(err)
		return
	}
	if !ok {
		c.Error(httpx.NotFound("version_not_found", fmt.Sprintf("version %d does not exist", n)))
		return
	}
	c.JSON(http.StatusOK, d)
}

func (h *handlers) getChangeSet(c *gin.Context) {
	p, ok, err := h.svc.ChangeSet(c.Request.Context(), c.Param("id"))
	if err != nil {
		c.Error(err)
		return
	}
	if !ok {
		c.Error(httpx.NotFound("changeset_not_found", "no change set was published with this id"))
		return
	}
	c.JSON(http.StatusOK, p)
}

func (h *handlers) export(c *gin.Context) {
	if f := c.DefaultQuery("format", "rome-csv"); f != "rome-csv" {
		c.Error(httpx.Unprocessable("unsupported_format", "the only export format is rome-csv", httpx.FieldError{Field: "format", Message: "must be rome-csv"}))
		return
	}
	st, ok := h.versioned(c)
	if !ok || notModified(c, st) {
		return
	}
	// Build the zip before answering, so a failure is a clean error and not a cut download.
	var buf bytes.Buffer
	if err := h.svc.Export(c.Request.Context(), st, &buf); err != nil {
		c.Error(err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="RefRomeCsv_v4%02d.zip"`, st.Version()))
	c.Data(http.StatusOK, "application/zip", buf.Bytes())
}

// maxChangeSetID is the longest id (and requestId) of a change set, in characters: the
// request workflow's are "<request id>-decision-<round>".
const maxChangeSetID = 200

// changeSetIDRule is the text rule of the change set's own ids.
var changeSetIDRule = request.TextRule{Name: "id", Max: maxChangeSetID}

// changeSetBodyLimit is the largest body the change-set routes read, in bytes: at most
// request.MaxOperations operations, each counted as the largest one, a create_fiche at the
// request contract's limits (its definition and accès, two libellés, a libellé court and
// its codes), at 4 bytes a character (UTF-8's widest) and 1 KiB more for its JSON names
// and punctuation, plus the change set's own fields (its ids, the request's title, its
// code ROME). A legitimate change set has one create_fiche at most and one long text per
// other operation, so the margin also covers clients that write every character as a
// 6-byte \uXXXX escape.
const changeSetBodyLimit = request.MaxOperations*maxOperationBytes + 4*(2*maxChangeSetID+request.MaxTitle+request.MaxIdentifier) + 1<<10

const maxOperationBytes = 4*(2*request.MaxText+2*request.MaxLibelle+request.MaxLibelleCourt+4*request.MaxIdentifier) + 1<<10

// cleanChangeSet applies the request contract's rules to a change set, in place, before
// the engine sees it: at most request.MaxOperations operations (too_many_operations), the
// text rule (request.CheckText) to every text (invalid_text: a control character, a
// bidirectional control, invalid UTF-8 or an over-long text is refused; the others are
// trimmed and NFC-normalised), then the operations' syntax (invalid_operations:
// request.CheckOperations, known kinds, required fields, enums, codes, ranks). Each is a
// 422 naming the fields ("operations[2].libelle"). What the operations mean for the referential (an unknown
// code OGR…) stays the engine's results.
func cleanChangeSet(req *app.ChangeSetRequest) error {
	var errs []httpx.FieldError
	add := func(ps ...request.FieldProblem) {
		for _, p := range ps {
			errs = append(errs, httpx.FieldError{Field: p.Field, Message: p.Message})
		}
	}
	for _, f := range []struct {
		name string
		s    *string
		rule request.TextRule
	}{{"id", &req.ID, changeSetIDRule}, {"requestId", &req.RequestID, changeSetIDRule}, {"requestTitle", &req.RequestTitle, request.TitleRule},
		{"codeRome", &req.CodeRome, request.IdentifierRule}} {
		clean, p := request.CheckText(f.name, *f.s, f.rule)
		if p != nil {
			add(*p)
			continue
		}
		*f.s = clean
	}
	if len(req.Operations) > request.MaxOperations {
		add(request.CheckOperations("operations", req.Operations)...)
		return httpx.Unprocessable("too_many_operations", "The change set carries too many operations.", errs...)
	}
	add(request.CleanOperations("operations", req.Operations)...)
	if len(errs) > 0 {
		return httpx.Unprocessable("invalid_text", "The change set carries text that breaks the platform's text rules.", errs...)
	}
	if req.CodeRome != "" && !request.CodeRomePattern.MatchString(req.CodeRome) {
		errs = append(errs, httpx.FieldError{Field: "codeRome", Message: "must be a code ROME: a letter A to N and four digits, e.g. M1805"})
	}
	add(request.CheckOperations("operations", req.Operations)...)
	if len(errs) > 0 {
		return httpx.Unprocessable("invalid_operations", "The change set carries operations that break their syntax.", errs...)
	}
	return nil
}

func (h *handlers) validate(c *gin.Context) {
	var req app.ChangeSetRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		c.Error(err)
		return
	}
	if err := cleanChangeSet(&req); err != nil {
		c.Error(err)
		return
	}
	v, err := h.svc.Validate(c.Request.Context(), req, c.Query("documents") != "false")
	if err != nil {
		c.Error(changeSetProblem(err))
		return
	}
	c.JSON(http.StatusOK, v)
}

func (h *handlers) publish(c *gin.Context) {
	var req app.ChangeSetRequest
	if err := httpx.BindJSON(c, &req); err != nil {
		c.Error(err)
		return
	}
	if err := cleanChangeSet(&req); err != nil {
		c.Error(err)
		return
	}
	p, replayed, err := h.svc.Publish(c.Request.Context(), req)
	if err != nil {
		c.Error(changeSetProblem(err))
		return
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.Header("Location", "/v1/changesets/"+p.ID)
	status := http.StatusCreated
	if p.Staged() {
		status = http.StatusAccepted // waits in release p.Release
	}
	c.JSON(status, p)
}

// invalidProblem renders an *app.InvalidError as a 422 naming its field.
func invalidProblem(err error) error {
	var invalid *app.InvalidError
	if errors.As(err, &invalid) {
		return httpx.Unprocessable(invalid.Code, invalid.Msg, httpx.FieldError{Field: invalid.Field, Message: invalid.Msg})
	}
	return err
}

func changeSetProblem(err error) error {
	var invalid *app.InvalidError
	var conflict *app.ConflictError
	switch {
	case errors.As(err, &invalid):
		return httpx.Unprocessable(invalid.Code, invalid.Msg, httpx.FieldError{Field: invalid.Field, Message: invalid.Msg})
	case errors.As(err, &conflict):
		return httpx.Conflict("changeset_conflict", conflict.Error()).With("currentVersion", conflict.Current).With("results", conflict.Results)
	case errors.Is(err, app.ErrIDReused):
		return httpx.Unprocessable("changeset_id_reused", err.Error(), httpx.FieldError{Field: "id", Message: "already used for another change set"})
	case errors.Is(err, app.ErrEmpty):
		return httpx.NewProblem(http.StatusServiceUnavailable, "referential_empty", err.Error())
	}
	return err
}
