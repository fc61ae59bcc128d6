package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/platform/httpx/openapitest"
	"github.com/plateforme-rome/rome/services/intake/internal/accessreq"
	"github.com/plateforme-rome/rome/services/intake/internal/app/apptest"
	"github.com/plateforme-rome/rome/services/intake/internal/directory"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/request"
)

// env is the intake's router on a real store (SQLite; the store's own tests cover
// PostgreSQL) with fakes for Temporal and the referential.
type env struct {
	h     *gin.Engine
	store *store.Store
	dir   *directory.Service
	notes *fakeNotifier
	wf    *apptest.Workflows
	ref   *apptest.Referential
	dev   *auth.DevIssuer
	clock *testClock
	// access stands for the access requests' workflows.
	access *fakeAccessWorkflows
}

// testClock is the router's clock: the real time until a test sets it.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		return time.Now()
	}
	return c.t
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var testTimers = request.Timers{TriageReminder: time.Hour, TriageEscalation: 2 * time.Hour, DecisionReminder: 3 * time.Hour,
	DecisionEscalation: 4 * time.Hour, PartnerReminder: 5 * time.Hour, QuestionExpiry: 6 * time.Hour}

// newEnv builds the router on SQLite; options change its Deps.
func newEnv(t *testing.T, options ...func(*Deps)) *env {
	t.Helper()
	return newEnvOn(t, database.SQLite, options...)
}

// newEnvOn builds the router on a fresh database of dialect d.
func newEnvOn(t testing.TB, d database.Dialect, options ...func(*Deps)) *env {
	t.Helper()
	setEnv(t, map[string]string{"ROME_DEV_MODE": "true", "INTAKE_PORT": "8081"})
	st := newStore(t, d)
	dir := directory.New(st, nil)
	deps, err := NewDeps(true, nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: st, dir: dir, notes: &fakeNotifier{}, wf: &apptest.Workflows{}, ref: &apptest.Referential{}, dev: deps.Dev, clock: &testClock{}}
	deps.Requests, deps.Workflows, deps.Referential, deps.Timers, deps.Now = st, e.wf, e.ref, testTimers, e.clock.now
	deps.Ideas, deps.Notifications = st, e.notes
	e.access = &fakeAccessWorkflows{st: st}
	deps.AccessRequests, deps.AccessWorkflows = st, e.access
	deps.AccessLinks = accessreq.NewLinks([]byte("a test key of at least thirty-two bytes"))
	deps.PublicURL, deps.Teams = "https://rome.example", &request.TeamsConfig{NotificationURL: "https://rome.example/webhooks/graph", ClientState: testClientState}
	for _, o := range options {
		o(&deps)
	}
	// Every exchange of the tests is checked against the OpenAPI document; the updates'
	// acceptance is the faked workflow's, which accepts what the real one refuses.
	v := openapitest.NewValidator(t, openAPI, openapitest.AnsweredByFakes("amendOperations", "postMessage", "assignRequest",
		"askQuestion", "answerQuestion", "decideRequest", "withdrawRequest"))
	e.h = v.Engine(Router(deps))
	return e
}

// newStore is a migrated intake store on a fresh database of dialect d.
func newStore(t testing.TB, d database.Dialect) *store.Store {
	t.Helper()
	st := store.New(dbtest.Open(t, d))
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st
}

// newDirectory is a directory on a fresh SQLite database.
func newDirectory(t *testing.T) *directory.Service {
	t.Helper()
	return directory.New(newStore(t, database.SQLite), nil)
}

// token mints a token the router accepts, recording its person in the directory as the
// dev issuer's route does.
func (e *env) token(t testing.TB, sub string, role auth.Role, org string) string {
	t.Helper()
	p := auth.Principal{Subject: sub, Name: sub + " (test)", Role: role, Org: org}
	if err := e.dir.RecordDevPerson(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	tok, _, err := e.dev.Mint(p)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// cast is who acts in the router tests.
type cast struct {
	partner, colleague, outsider, moderator, admin, service string
}

func (e *env) cast(t *testing.T) cast {
	return cast{
		partner:   e.token(t, "alice", auth.RolePartner, "opco-2i"),
		colleague: e.token(t, "albert", auth.RolePartner, "opco-2i"),
		outsider:  e.token(t, "oscar", auth.RolePartner, "opco-ep"),
		moderator: e.token(t, "bob", auth.RoleModerator, ""),
		admin:     e.token(t, "ada", auth.RoleAdmin, ""),
		service:   e.token(t, "service:worker", auth.RoleService, ""),
	}
}

const modifyBody = `{"kind":"modify_fiche","codeRome":"M1805","title":"Développeur Rust","justification":"Offres 2026 : 1 200 annonces.",
	"operations":[{"op":"add_appellation","libelle":"Développeur / Développeuse Rust"},
	{"id":"mine","op":"remove_appellation","codeOgr":"10944","reason":"obsolète"},{"op":"set_tags","emploiCadre":true}]}`

// submit files modifyBody (or body) and returns the new request's id.
func (e *env) submit(t *testing.T, token string, body ...string) string {
	t.Helper()
	b := modifyBody
	if len(body) > 0 {
		b = body[0]
	}
	res := call(t, e.h, "POST", "/v1/requests", b, token)
	id, _ := res.body["id"].(string)
	if res.status != http.StatusCreated || id == "" {
		t.Fatalf("submit: %d %s", res.status, res.raw)
	}
	return id
}

// requestDoc reads a request from the projection.
func (e *env) requestDoc(t *testing.T, id string) request.Request {
	t.Helper()
	row, err := e.store.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	var r request.Request
	if err := json.Unmarshal(row.State, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// record plays the workflow's part: it records an event moving the request to status.
func (e *env) record(t *testing.T, id string, seq int, typ string, status request.Status) request.Request {
	t.Helper()
	r := e.requestDoc(t, id)
	r.Status = status
	r.UpdatedAt = r.UpdatedAt.Add(time.Minute)
	if _, err := e.store.RecordEvent(t.Context(), request.Event{RequestID: id, Seq: seq, Type: typ, At: r.UpdatedAt,
		Actor: request.SystemActor, Data: json.RawMessage(`{}`), Request: r}); err != nil {
		t.Fatal(err)
	}
	return r
}

// wantProblem checks a problem answer: its status, code and the fields it names.
func wantProblem(t *testing.T, res result, status int, code string, fields ...string) {
	t.Helper()
	if res.status != status || res.body["code"] != code || res.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("got %d %s, want %d %s", res.status, res.raw, status, code)
	}
	var named []string
	errs, _ := res.body["errors"].([]any)
	for _, e := range errs {
		named = append(named, e.(map[string]any)["field"].(string))
	}
	for _, f := range fields {
		if !slices.Contains(named, f) {
			t.Fatalf("errors %v do not name %s", named, f)
		}
	}
}
