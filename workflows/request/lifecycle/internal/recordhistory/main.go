// Command recordhistory runs request workflows on a real Temporal dev server and writes
// their histories to request/lifecycle/testdata, where the replay test reads them: a later
// change of the workflow code that running requests could not replay fails the suite.
//
// It needs the Temporal CLI that `make dev` builds (.dev/bin/temporal) and nothing else: the
// referential is a small fake HTTP server behind the real activities and client, the
// intake an in-memory history. Run it from workflows/ to add scenarios, never to paper over
// a replay failure. Before recording again after a change of the workflow, rename the files of
// the earlier recording after the change they predate (before-messaging-*.json,
// before-followers-impact.json): they stay replayed.
//
//	go run ./request/lifecycle/internal/recordhistory
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/plateforme-rome/rome/activities/intake"
	"github.com/plateforme-rome/rome/activities/notifications"
	"github.com/plateforme-rome/rome/activities/referential"
	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/workflows/internal/recording"
	"github.com/plateforme-rome/rome/workflows/request"
	"github.com/plateforme-rome/rome/workflows/request/lifecycle"
)

func main() { recording.Main(filepath.Join("request", "lifecycle", "testdata"), record) }

// record runs the scenarios on the dev server c is a client of and writes their histories
// to out.
func record(ctx context.Context, c client.Client, out string) error {
	ref := newReferential()
	defer ref.Close()
	notifs := newNotifications()
	defer notifs.Close()
	history := &memoryIntake{}
	w := worker.New(c, request.TaskQueue, worker.Options{})
	lifecycle.Register(w, &referential.Activities{Client: refclient.New(ref.URL, nil)}, &intake.Activities{Intake: history})
	lifecycle.RegisterMessaging(w, &notifications.Activities{Client: notifclient.New(notifs.URL, nil)}, nil)
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()

	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, s := range scenarios {
		r := &runner{c: c, history: history, id: s.name}
		if err := s.run(ctx, r); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if err := r.save(ctx, filepath.Join(out, s.name+".json")); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		fmt.Printf("%s: %d history events, %d request events\n", s.name, r.events, len(history.of(s.name)))
	}
	return nil
}

var (
	alice = request.Actor{Sub: "alice", Name: "Alice Martin", Role: request.RolePartner, Org: "opco-2i"}
	mod   = request.Actor{Sub: "mod-1", Name: "Modeste", Role: request.RoleModerator}
)

func newRequest(id string) request.Request {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return request.Request{ID: id, Kind: request.KindModifyFiche, CodeRome: "M1805", Title: "Rust developers",
		Justification: "Job boards", Status: request.StatusSubmitted, Org: "opco-2i", SubmittedBy: alice,
		Operations: []request.RequestOperation{
			{Operation: request.Operation{ID: "op-1", Op: refclient.OpAddAppellation, Libelle: "Développeur / Développeuse Rust"}},
			{Operation: request.Operation{ID: "op-2", Op: refclient.OpRemoveAppellation, CodeOgr: "10944", Reason: "obsolete"}},
			{Operation: request.Operation{ID: "op-3", Op: refclient.OpAddMobilite, ToCodeRome: "M1402"}},
		},
		CreatedAt: now, UpdatedAt: now}
}

func acceptAll(ids ...string) []request.OperationDecision {
	var ds []request.OperationDecision
	for _, id := range ids {
		ds = append(ds, request.OperationDecision{OperationID: id, Decision: request.DecisionAccepted})
	}
	return ds
}

var scenarios = []struct {
	name string
	run  func(ctx context.Context, r *runner) error
}{
	// Checks with findings, a triage reminder, assignment, a message, a question round, an
	// amendment, a partial decision, a publication conflict, a new decision, publication.
	{"published", func(ctx context.Context, r *runner) error {
		return r.steps(
			func() error {
				return r.start(ctx, lifecycle.RunInput{Input: request.Input{Request: newRequest(r.id), Timers: request.Timers{TriageReminder: time.Second}}})
			},
			func() error { return r.waitEvent(ctx, request.EventReminder) },
			func() error {
				return r.update(ctx, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: mod.Sub})
			},
			func() error {
				return r.update(ctx, request.UpdateMessage, request.MessageInput{Actor: alice, Text: "Thanks"})
			},
			func() error { return r.update(ctx, request.UpdateAsk, request.AskInput{Actor: mod, Text: "Sources?"}) },
			func() error {
				return r.update(ctx, request.UpdateAnswer, request.AnswerInput{Actor: alice, QuestionID: "q-1", Text: "Job boards"})
			},
			func() error {
				ops := operationsOf(newRequest(r.id))
				ops = append(ops, request.Operation{Op: refclient.OpAddSavoir, CodeOgr: "200042"})
				return r.update(ctx, request.UpdateAmend, request.AmendInput{Actor: alice, Operations: ops})
			},
			func() error {
				ds := acceptAll("op-1", "op-3", "op-4")
				ds = append(ds, request.OperationDecision{OperationID: "op-2", Decision: request.DecisionRejected, Rationale: "still in use"})
				ds[1] = request.OperationDecision{OperationID: "op-3", Decision: request.DecisionAmended, Rationale: "closer",
					Amendment: &request.Operation{Op: refclient.OpAddMobilite, ToCodeRome: "M1403"}}
				return r.update(ctx, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: ds})
			},
			func() error { return r.waitEvent(ctx, request.EventPublicationConflict) },
			func() error {
				ds := acceptAll("op-1", "op-2", "op-3", "op-4")
				ds[2] = request.OperationDecision{OperationID: "op-3", Decision: request.DecisionRejected, Rationale: "conflict"}
				return r.update(ctx, request.UpdateDecide, request.DecideInput{Actor: mod, Decisions: ds})
			},
			func() error { return r.wait(ctx) },
		)
	}},
	// A question left unanswered: a reminder to the partner, then the expiry.
	{"expired", func(ctx context.Context, r *runner) error {
		return r.steps(
			func() error {
				return r.start(ctx, lifecycle.RunInput{Input: request.Input{Request: newRequest(r.id), Timers: request.Timers{PartnerReminder: time.Second, QuestionExpiry: 3 * time.Second}}})
			},
			func() error { return r.waitEvent(ctx, request.EventChecked) },
			func() error {
				return r.update(ctx, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: mod.Sub})
			},
			func() error { return r.update(ctx, request.UpdateAsk, request.AskInput{Actor: mod, Text: "Sources?"}) },
			func() error { return r.wait(ctx) },
		)
	}},
	// A move with an impact: checked, assigned, amended (checked again), withdrawn.
	{"impact", func(ctx context.Context, r *runner) error {
		req := newRequest(r.id)
		req.Operations = []request.RequestOperation{{Operation: request.Operation{ID: "op-1", Op: refclient.OpMoveAppellation,
			CodeOgr: impactAppellation, ToCodeRome: "M1806"}}}
		return r.steps(
			func() error { return r.start(ctx, lifecycle.RunInput{Input: request.Input{Request: req}}) },
			func() error { return r.waitEvent(ctx, request.EventChecked) },
			func() error {
				return r.update(ctx, request.UpdateAssign, request.AssignInput{Actor: mod, Moderator: mod.Sub})
			},
			func() error {
				ops := append(operationsOf(req), request.Operation{Op: refclient.OpAddSavoir, CodeOgr: "200042"})
				return r.update(ctx, request.UpdateAmend, request.AmendInput{Actor: alice, Operations: ops})
			},
			func() error {
				return r.update(ctx, request.UpdateWithdraw, request.WithdrawInput{Actor: alice, Reason: "moved elsewhere"})
			},
			func() error { return r.wait(ctx) },
		)
	}},
	// A run continued as new: it resumes its clocks and history numbering, then is withdrawn.
	{"resumed", func(ctx context.Context, r *runner) error {
		req := newRequest(r.id)
		req.Status, req.Assignee = request.StatusInReview, mod.Sub
		resume := lifecycle.Resume{Seq: 4, TriageElapsed: time.Hour, ModeratorElapsed: 10*24*time.Hour - 2*time.Second,
			NextQuestion: 1, NextMessage: 1, NextOperation: 4, BaseVersion: 60}
		return r.steps(
			func() error {
				return r.start(ctx, lifecycle.RunInput{Input: request.Input{Request: req}, Resume: &resume})
			},
			func() error { return r.waitEvent(ctx, request.EventReminder) },
			func() error {
				return r.update(ctx, request.UpdateMessage, request.MessageInput{Actor: mod, Text: "Soon"})
			},
			func() error {
				return r.update(ctx, request.UpdateWithdraw, request.WithdrawInput{Actor: alice, Reason: "no longer needed"})
			},
			func() error { return r.wait(ctx) },
		)
	}},
}

func operationsOf(r request.Request) []request.Operation {
	var ops []request.Operation
	for _, o := range r.Operations {
		ops = append(ops, o.Operation)
	}
	return ops
}

// runner drives one request workflow.
type runner struct {
	c       client.Client
	history *memoryIntake
	id      string
	runID   string
	events  int
}

func (r *runner) steps(steps ...func() error) error {
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) start(ctx context.Context, in lifecycle.RunInput) error {
	run, err := r.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: request.WorkflowID(r.id), TaskQueue: request.TaskQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(request.RequestStatusKey.ValueSet(string(in.Request.Status)),
			request.PartnerOrgKey.ValueSet(in.Request.Org), request.RomeCodeKey.ValueSet(in.Request.CodeRome),
			request.RequestKindKey.ValueSet(string(in.Request.Kind)))},
		request.WorkflowType, in)
	if err != nil {
		return err
	}
	r.runID = run.GetRunID()
	return nil
}

func (r *runner) update(ctx context.Context, name string, in any) error {
	var res request.UpdateResult
	return recording.Update(ctx, r.c, request.WorkflowID(r.id), r.runID, name, in, &res)
}

// waitEvent waits until the request's history has an event of that type.
func (r *runner) waitEvent(ctx context.Context, typ string) error {
	for !slices.ContainsFunc(r.history.of(r.id), func(e request.Event) bool { return e.Type == typ }) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("no %s event: %w", typ, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// wait waits for the workflow to end.
func (r *runner) wait(ctx context.Context) error {
	var out request.Output
	return r.c.GetWorkflow(ctx, request.WorkflowID(r.id), r.runID).Get(ctx, &out)
}

// save writes the workflow's history as the Temporal CLI exports it.
func (r *runner) save(ctx context.Context, path string) error {
	n, err := recording.SaveHistory(ctx, r.c, request.WorkflowID(r.id), r.runID, path)
	r.events = n
	return err
}

// memoryIntake keeps the requests' histories in memory, as the intake stores them: an
// event once per (request, seq).
type memoryIntake struct {
	mu     sync.Mutex
	events map[string][]request.Event
}

func (m *memoryIntake) RecordEvent(_ context.Context, e request.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.events == nil {
		m.events = map[string][]request.Event{}
	}
	for _, prev := range m.events[e.RequestID] {
		if prev.Seq == e.Seq {
			return nil
		}
	}
	m.events[e.RequestID] = append(m.events[e.RequestID], e)
	return nil
}

func (m *memoryIntake) FindOverlaps(_ context.Context, q request.OverlapQuery) ([]request.Overlap, error) {
	return []request.Overlap{{RequestID: "other-" + q.RequestID, Title: "Another request", Status: request.StatusInReview, Elements: q.Elements[:1]}}, nil
}

// PickModerator: the recorded requests are assigned by hand (AutoAssign is off), so nobody
// is picked in turn.
func (m *memoryIntake) PickModerator(context.Context, string, string) (string, error) { return "", nil }

func (m *memoryIntake) of(id string) []request.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.events[id])
}

// impactAppellation is the appellation whose move the referential reports an impact of.
const impactAppellation = "38584"

// newReferential is a referential on which op-2 never applies when validated, on which
// moving impactAppellation touches M1805 and M1806 (a mobilité leads to M1805, a webhook
// endpoint is subscribed), and whose first publication of each request is a conflict on
// op-3's amendment.
func newReferential() *httptest.Server {
	var mu sync.Mutex
	published := map[string]bool{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/changesets:validate", func(w http.ResponseWriter, r *http.Request) {
		var cs refclient.ChangeSet
		if err := json.NewDecoder(r.Body).Decode(&cs); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		v := refclient.Validation{Version: 60, CodeRome: cs.CodeRome, Applies: true, Diff: []refclient.Change{}}
		for _, op := range cs.Operations {
			res := refclient.Result{OperationID: op.ID, Op: op.Op, Applies: true, Changes: []refclient.Change{}}
			switch {
			case op.ID == "op-2":
				res.Applies, res.Code, res.Field, res.Reason = false, "unknown_appellation", "codeOgr", "appellation 10944 is not on fiche M1805"
				v.Applies = false
			case op.Op == refclient.OpMoveAppellation && op.CodeOgr == impactAppellation:
				res.Impact = &refclient.Impact{Fiches: []string{cs.CodeRome, op.ToCodeRome}, Subscribers: 1,
					Mobilites:          []refclient.MobiliteImpact{{CodeRome: "M1802", Libelle: "Expertise et support", CodeRomeCible: cs.CodeRome, Rang: 1}},
					OrphanAppellations: []refclient.ImpactRef{}, OrphanItems: []refclient.ImpactRef{}}
			}
			v.Results = append(v.Results, res)
		}
		writeJSON(w, http.StatusOK, v)
	})
	mux.HandleFunc("POST /v1/changesets", func(w http.ResponseWriter, r *http.Request) {
		var cs refclient.ChangeSet
		if err := json.NewDecoder(r.Body).Decode(&cs); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		again := published[cs.RequestID]
		published[cs.RequestID] = true
		mu.Unlock()
		if !again {
			var results []refclient.Result
			for _, op := range cs.Operations {
				res := refclient.Result{OperationID: op.ID, Op: op.Op, Applies: op.ID != "op-3", Changes: []refclient.Change{}}
				if !res.Applies {
					res.Code, res.Field, res.Reason = "duplicate_mobilite", "toCodeRome", "M1403 is already a mobilité of M1805"
				}
				results = append(results, res)
			}
			w.Header().Set("Content-Type", "application/problem+json")
			writeJSON(w, http.StatusConflict, map[string]any{"status": 409, "code": "changeset_conflict", "detail": "operation op-3 no longer applies", "results": results})
			return
		}
		writeJSON(w, http.StatusCreated, refclient.Publication{ID: cs.ID, RequestID: cs.RequestID, CodeRome: cs.CodeRome,
			BaseVersion: cs.BaseVersion, Version: 61, PublishedAt: time.Now().UTC(), Results: []refclient.Result{}, Changes: []refclient.Change{}})
	})
	return httptest.NewServer(mux)
}

// newNotifications is a notifications service that is unavailable for the first attempt
// of each submission's notification, so that the histories hold a short call that went on
// as an activity, and on which two people follow M1805.
func newNotifications() *httptest.Server {
	var mu sync.Mutex
	tried := map[string]bool{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/notifications", func(w http.ResponseWriter, r *http.Request) {
		var n notifclient.Notification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		first := !tried[n.Key]
		tried[n.Key] = true
		mu.Unlock()
		if first && n.Event == notifclient.EventSubmitted {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, http.StatusCreated, notifclient.Created{ID: "ntf-" + n.Key, Key: n.Key, Event: n.Event, Recipients: []string{},
			CreatedAt: time.Now().UTC()})
	})
	mux.HandleFunc("GET /v1/follows/counts", func(w http.ResponseWriter, r *http.Request) {
		counts := []notifclient.FollowerCount{}
		for _, code := range r.URL.Query()["codeRome"] {
			c := notifclient.FollowerCount{CodeRome: code}
			if code == "M1805" {
				c.Followers = 2
			}
			counts = append(counts, c)
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": counts})
	})
	return httptest.NewServer(mux)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
