package app_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/intake/internal/app"
	"github.com/plateforme-rome/rome/services/intake/internal/app/apptest"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
	"github.com/plateforme-rome/rome/workflows/request"
)

var (
	alice  = auth.Principal{Subject: "alice", Name: "Alice", Role: auth.RolePartner, Org: "opco-2i"}
	oscar  = auth.Principal{Subject: "oscar", Name: "Oscar", Role: auth.RolePartner, Org: "opco-ep"}
	modBob = auth.Principal{Subject: "bob", Name: "Bob", Role: auth.RoleModerator}
	t0     = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	timers = request.Timers{TriageReminder: time.Hour, DecisionReminder: 2 * time.Hour, PartnerReminder: 3 * time.Hour}
	yes    = true
	config = app.Config{Timers: timers, ConsoleURL: "https://console.example", Now: func() time.Time { return t0 }}
)

// fixture is the use cases on a real store (SQLite) with stand-ins for Temporal and the
// referential.
type fixture struct {
	svc   *app.Service
	store *store.Store
	wf    *apptest.Workflows
	ref   *apptest.Referential
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	t.Parallel()
	st := store.New(dbtest.Open(t, database.SQLite))
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: st, wf: &apptest.Workflows{}, ref: &apptest.Referential{}}
	f.svc = app.New(st, f.wf, f.ref, config)
	return f
}

func submission() *app.Submission {
	return &app.Submission{Kind: request.KindModifyFiche, CodeRome: "M1805", Title: " Développeur Rust ", Justification: "Offres 2026",
		Operations: []request.Operation{{Op: refclient.OpAddAppellation, Libelle: "Développeur / Développeuse Rust"},
			{ID: "op-2", Op: refclient.OpRemoveAppellation, CodeOgr: "10944", Reason: "obsolète"}, {Op: refclient.OpSetTags, EmploiCadre: &yes}}}
}

func key(t *testing.T, p auth.Principal, k string, body any) app.Key {
	t.Helper()
	key, err := app.NewKey(p, k, "POST /v1/requests", body)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// wantProblem checks that err is the problem status/code naming fields.
func wantProblem(t *testing.T, err error, status int, code string, fields ...string) {
	t.Helper()
	var p *httpx.Problem
	if !errors.As(err, &p) || p.Status != status || p.Code != code {
		t.Fatalf("error %v, want %d %s", err, status, code)
	}
	var named []string
	for _, f := range p.Errors {
		named = append(named, f.Field)
	}
	for _, f := range fields {
		if !slices.Contains(named, f) {
			t.Fatalf("problem names %v, not %s", named, f)
		}
	}
}

func (f *fixture) submit(t *testing.T, p auth.Principal) request.Request {
	t.Helper()
	a, err := f.svc.Submit(t.Context(), p, app.Key{}, submission())
	if err != nil {
		t.Fatal(err)
	}
	var r request.Request
	if err := json.Unmarshal(a.Body, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// record plays the workflow's part: it records an event that leaves r in its new state.
func (f *fixture) record(t *testing.T, r request.Request, seq int) {
	t.Helper()
	if _, err := f.store.RecordEvent(t.Context(), request.Event{RequestID: r.ID, Seq: seq, Type: request.EventChecked, At: t0.Add(time.Duration(seq) * time.Minute),
		Actor: request.SystemActor, Data: json.RawMessage(`{}`), Request: r}); err != nil {
		t.Fatal(err)
	}
}

func TestSubmitStartsTheWorkflowOfACleanRequest(t *testing.T) {
	f := newFixture(t)
	r := f.submit(t, alice)
	if r.Title != "Développeur Rust" || r.Status != request.StatusSubmitted || r.Org != "opco-2i" || !r.CreatedAt.Equal(t0) {
		t.Errorf("request %+v", r)
	}
	if ids := []string{r.Operations[0].ID, r.Operations[1].ID, r.Operations[2].ID}; !slices.Equal(ids, []string{"op-1", "op-2", "op-3"}) {
		t.Errorf("operation ids %q", ids)
	}
	if len(f.wf.Starts) != 1 || f.wf.Starts[0].Link != "https://console.example/demandes/"+r.ID || f.wf.Starts[0].Timers != timers {
		t.Fatalf("starts %+v", f.wf.Starts)
	}
	if _, err := f.svc.Visible(t.Context(), alice, r.ID); err != nil {
		t.Errorf("the new request cannot be read: %v", err)
	}
}

func TestSubmitRefusesInvalidRequests(t *testing.T) {
	f := newFixture(t)
	sub := submission()
	sub.Kind, sub.Title = request.KindCreateFromNew, "bad\x00title"
	_, err := f.svc.Submit(t.Context(), alice, app.Key{}, sub)
	wantProblem(t, err, 422, "invalid_body", "codeRome", "title", "operations[0].op")
	if len(f.wf.Starts) != 0 {
		t.Error("an invalid request was started")
	}
}

// A retry with the key answers the first outcome; one whose first start failed makes it
// again, and the request then exists with the id the key gave it.
func TestSubmitIsIdempotent(t *testing.T) {
	f := newFixture(t)
	f.wf.StartErr = fmt.Errorf("%w: connection refused", app.ErrWorkflowUnavailable)
	k := key(t, alice, "k-1", submission())
	_, err := f.svc.Submit(t.Context(), alice, k, submission())
	wantProblem(t, err, 503, "workflow_unavailable")
	first := f.wf.Starts[0].Request.ID
	if _, err := f.store.Get(t.Context(), first); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a request without its workflow is left: %v", err)
	}

	f.wf.StartErr = nil
	a, err := f.svc.Submit(t.Context(), alice, k, submission())
	if err != nil || a.Status != http.StatusCreated || a.RequestID != first {
		t.Fatalf("retry: %+v %v, want 201 for %s", a, err, first)
	}
	again, err := f.svc.Submit(t.Context(), alice, key(t, alice, "k-1", submission()), submission())
	if err != nil || !again.Replayed || again.RequestID != first || string(again.Body) != string(a.Body) {
		t.Fatalf("second retry: %+v %v", again, err)
	}
	other := submission()
	other.Title = "Autre"
	_, err = f.svc.Submit(t.Context(), alice, key(t, alice, "k-1", other), other)
	wantProblem(t, err, 422, "idempotency_key_reused", app.HeaderIdempotencyKey)
}

func TestApply(t *testing.T) {
	f := newFixture(t)
	r := f.submit(t, alice)
	r.Status = request.StatusInReview
	r.Findings = []request.Finding{{Code: "unknown_appellation", Severity: request.SeverityError, OperationID: "op-2", Message: "no such appellation"}}
	f.record(t, r, 1)
	f.wf.Result = request.UpdateResult{Request: r, ID: "m-1"}

	_, err := f.svc.Apply(t.Context(), oscar, app.Key{}, r.ID, &app.Message{})
	wantProblem(t, err, 404, "request_not_found")

	accept := &app.Decide{Decisions: []request.OperationDecision{{OperationID: "op-2", Decision: request.DecisionAccepted}}}
	_, err = f.svc.Apply(t.Context(), modBob, app.Key{}, r.ID, accept)
	wantProblem(t, err, 422, "invalid_body", "decisions[0].decision")

	msg := &app.Message{}
	msg.Text = "  Bonjour\r\n"
	k, err := app.NewKey(alice, "m-key", "POST /v1/requests/"+r.ID+"/messages", msg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.svc.Apply(t.Context(), alice, k, r.ID, msg)
	if err != nil || a.Status != http.StatusCreated {
		t.Fatalf("message: %+v %v", a, err)
	}
	u := f.wf.LastUpdate(t)
	if in := u.Arg.(request.MessageInput); u.Name != request.UpdateMessage || in.Text != "Bonjour" || in.Actor.Sub != "alice" || u.ID == "" {
		t.Errorf("update %+v", u)
	}
	if again, err := f.svc.Apply(t.Context(), alice, k, r.ID, msg); err != nil || !again.Replayed || f.wf.UpdateCount() != 1 {
		t.Errorf("retry: %+v %v after %d updates", again, err, f.wf.UpdateCount())
	}

	r.Status = request.StatusWithdrawn
	f.record(t, r, 2)
	_, err = f.svc.Apply(t.Context(), alice, app.Key{}, r.ID, &app.Withdraw{})
	wantProblem(t, err, 409, "request_closed")
}

func TestList(t *testing.T) {
	f := newFixture(t)
	mine := f.submit(t, alice)
	f.submit(t, oscar)
	page, err := f.svc.List(t.Context(), alice, app.ListQuery{})
	if err != nil || page.Total != 1 || len(page.Items) != 1 {
		t.Fatalf("a partner's list: %+v %v", page, err)
	}
	var r request.Request
	if err := json.Unmarshal(page.Items[0], &r); err != nil || r.ID != mine.ID {
		t.Errorf("listed %s, want %s", r.ID, mine.ID)
	}
	if page, err := f.svc.List(t.Context(), modBob, app.ListQuery{}); err != nil || page.Total != 2 {
		t.Errorf("a moderator's list: %d %v", page.Total, err)
	}
	_, err = f.svc.List(t.Context(), modBob, app.ListQuery{Status: "DONE", Kind: "x", CodeRome: "M18", Overdue: "yes", Limit: "0", LimitSet: true})
	wantProblem(t, err, 422, "invalid_query", "status", "kind", "codeRome", "overdue", "limit")
}

func TestPreviewPublishesTheDecisions(t *testing.T) {
	f := newFixture(t)
	r := f.submit(t, alice)
	amendment := request.Operation{Op: refclient.OpRemoveAppellation, CodeOgr: "10945", Reason: "doublon"}
	r.Operations[0].Decision = &request.Decision{Decision: request.DecisionRejected}
	r.Operations[1].Decision = &request.Decision{Decision: request.DecisionAmended, Amendment: &amendment}
	f.record(t, r, 1)
	if _, err := f.svc.Preview(t.Context(), alice, r.ID); err != nil {
		t.Fatal(err)
	}
	cs := f.ref.Got[0]
	if len(cs.Operations) != 2 || cs.Operations[0].ID != "op-2" || cs.Operations[0].CodeOgr != "10945" || cs.Operations[1].ID != "op-3" {
		t.Errorf("previewed %+v", cs.Operations)
	}

	r.Operations[1].Decision = &request.Decision{Decision: request.DecisionRejected}
	r.Operations[2].Decision = &request.Decision{Decision: request.DecisionRejected}
	f.record(t, r, 2)
	_, err := f.svc.Preview(t.Context(), alice, r.ID)
	wantProblem(t, err, 409, "nothing_to_preview")
}

// Requests stored before the text rules are found, and left as they were.
func TestStoredTextViolations(t *testing.T) {
	f := newFixture(t)
	clean := f.submit(t, alice)
	old := f.submit(t, alice)
	old.Title = "Ancien\x07titre"
	old.Operations[0].Libelle = "Rust\u202e"
	answer := "ok\x00"
	old.Questions = []request.Question{{ID: "q-1", Text: "Sources ?", Answer: &answer}}
	f.record(t, old, 1)
	found, err := f.svc.StoredTextViolations(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, v := range found {
		if v.RequestID != old.ID {
			t.Errorf("request %s (clean: %s) reported: %+v", v.RequestID, clean.ID, v.Problem)
		}
		fields = append(fields, v.Problem.Field)
	}
	if want := []string{"title", "operations[0].libelle", "questions[0].answer"}; !slices.Equal(fields, want) {
		t.Errorf("reported %q, want %q", fields, want)
	}
	if row, _ := f.store.Get(t.Context(), old.ID); !strings.Contains(string(row.State), `Ancien\u0007titre`) {
		t.Errorf("the stored text was rewritten: %s", row.State)
	}
}

// The same submission with the same Idempotency-Key, retried at once through both replicas
// of the intake: one request, one workflow, and every caller the same answer (the database
// holds the key, not a replica's memory).
func TestSubmitOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			url := dbtest.URL(t, d)
			first := store.New(dbtest.Connect(t, url))
			if err := first.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			wf := &apptest.Workflows{}
			replicas := []*app.Service{app.New(first, wf, &apptest.Referential{}, config),
				app.New(store.New(dbtest.Connect(t, url)), wf, &apptest.Referential{}, config)}
			const callers = 6
			var (
				wg      sync.WaitGroup
				answers = make([]app.Answer, callers)
				k       = key(t, alice, "k-1", submission())
			)
			for i := range callers {
				wg.Go(func() {
					a, err := replicas[i%2].Submit(t.Context(), alice, k, submission())
					if err != nil {
						t.Errorf("caller %d: %v", i, err)
					}
					answers[i] = a
				})
			}
			wg.Wait()
			created := 0
			for i, a := range answers {
				if !a.Replayed {
					created++
				}
				if a.RequestID != answers[0].RequestID || string(a.Body) != string(answers[0].Body) {
					t.Errorf("caller %d got another answer: %+v", i, a)
				}
			}
			page, err := first.List(t.Context(), store.Filter{Limit: 10})
			if err != nil || page.Total != 1 || created != 1 {
				t.Fatalf("%d requests stored, %d answers not replayed (%v)", page.Total, created, err)
			}
			for _, s := range wf.Starts {
				if s.Request.ID != answers[0].RequestID {
					t.Fatalf("a workflow started for %s", s.Request.ID)
				}
			}
		})
	}
}
