package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/services/intake/internal/app"
	"github.com/plateforme-rome/rome/workflows/request"
)

// inReview submits a request as the partner and plays the workflow up to IN_REVIEW.
func inReview(t *testing.T, e *env, who cast) (string, request.Request) {
	t.Helper()
	id := e.submit(t, who.partner)
	e.record(t, id, 1, request.EventChecked, request.StatusAwaitingTriage)
	r := e.record(t, id, 2, request.EventAssigned, request.StatusInReview)
	return id, r
}

func TestChangesGoThroughUpdates(t *testing.T) {
	e := newEnv(t)
	who := e.cast(t)
	id, r := inReview(t, e, who)
	after := r
	after.Status, after.Assignee = request.StatusAwaitingPartner, "bob"
	e.wf.Result = request.UpdateResult{Request: after, ID: "x-1"}

	cases := []struct {
		name, method, path, body string
		allowed, refused         []string // tokens
		update                   string
		status                   int
		check                    func(t *testing.T, arg any, actor request.Actor)
	}{
		{"amend", "PATCH", "/operations", `{"operations":[{"op":"set_tags","emploiCadre":false}]}`,
			[]string{who.partner, who.colleague}, []string{who.moderator, who.admin}, request.UpdateAmend, 200,
			func(t *testing.T, arg any, actor request.Actor) {
				in := arg.(request.AmendInput)
				if in.Actor != actor || len(in.Operations) != 1 || in.Operations[0].Op != "set_tags" || *in.Operations[0].EmploiCadre {
					t.Errorf("amend input %+v", in)
				}
			}},
		{"message", "POST", "/messages", `{"text":"Merci !"}`,
			[]string{who.partner, who.moderator, who.admin}, nil, request.UpdateMessage, 201,
			func(t *testing.T, arg any, actor request.Actor) {
				if in := arg.(request.MessageInput); in.Actor != actor || in.Text != "Merci !" {
					t.Errorf("message input %+v", in)
				}
			}},
		{"assign", "POST", "/assign", `{"moderator":"carol"}`,
			[]string{who.moderator, who.admin}, []string{who.partner}, request.UpdateAssign, 200,
			func(t *testing.T, arg any, actor request.Actor) {
				if in := arg.(request.AssignInput); in.Actor != actor || in.Moderator != "carol" {
					t.Errorf("assign input %+v", in)
				}
			}},
		{"ask", "POST", "/questions", `{"text":"Quelles sources ?"}`,
			[]string{who.moderator, who.admin}, []string{who.partner}, request.UpdateAsk, 201,
			func(t *testing.T, arg any, actor request.Actor) {
				if in := arg.(request.AskInput); in.Actor != actor || in.Text != "Quelles sources ?" {
					t.Errorf("ask input %+v", in)
				}
			}},
		{"answer", "POST", "/questions/q-2/answer", `{"text":"France Travail."}`,
			[]string{who.partner}, []string{who.moderator, who.admin}, request.UpdateAnswer, 200,
			func(t *testing.T, arg any, actor request.Actor) {
				if in := arg.(request.AnswerInput); in.Actor != actor || in.QuestionID != "q-2" || in.Text != "France Travail." {
					t.Errorf("answer input %+v", in)
				}
			}},
		{"decide", "POST", "/decision", `{"decisions":[{"operationId":"op-1","decision":"amended","rationale":"Rang 2.","amendment":{"op":"add_mobilite","toCodeRome":"D1104","rank":2}}]}`,
			[]string{who.moderator, who.admin}, []string{who.partner}, request.UpdateDecide, 200,
			func(t *testing.T, arg any, actor request.Actor) {
				in := arg.(request.DecideInput)
				if in.Actor != actor || len(in.Decisions) != 1 || in.Decisions[0].OperationID != "op-1" || in.Decisions[0].Decision != "amended" ||
					in.Decisions[0].Rationale != "Rang 2." || *in.Decisions[0].Amendment.Rank != 2 {
					t.Errorf("decide input %+v", in)
				}
			}},
		{"withdraw", "POST", "/withdraw", `{"reason":"Erreur."}`,
			[]string{who.partner}, []string{who.moderator, who.admin}, request.UpdateWithdraw, 200,
			func(t *testing.T, arg any, actor request.Actor) {
				if in := arg.(request.WithdrawInput); in.Actor != actor || in.Reason != "Erreur." {
					t.Errorf("withdraw input %+v", in)
				}
			}},
	}
	actors := map[string]request.Actor{
		who.partner:   {Sub: "alice", Name: "alice (test)", Role: "partner", Org: "opco-2i"},
		who.colleague: {Sub: "albert", Name: "albert (test)", Role: "partner", Org: "opco-2i"},
		who.moderator: {Sub: "bob", Name: "bob (test)", Role: "moderator"},
		who.admin:     {Sub: "ada", Name: "ada (test)", Role: "admin"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := "/v1/requests/" + id + tc.path
			sent := e.wf.UpdateCount()
			for _, tok := range append(tc.refused, who.service) {
				wantProblem(t, call(t, e.h, tc.method, path, tc.body, tok), 403, "forbidden_role")
			}
			wantProblem(t, call(t, e.h, tc.method, path, tc.body, ""), 401, "unauthenticated")
			if tc.allowed[0] == who.partner {
				wantProblem(t, call(t, e.h, tc.method, path, tc.body, who.outsider), 404, "request_not_found")
			}
			wantProblem(t, call(t, e.h, tc.method, "/v1/requests/nope"+tc.path, tc.body, tc.allowed[0]), 404, "request_not_found")
			if e.wf.UpdateCount() != sent {
				t.Fatal("a refused call reached the workflow")
			}
			for _, tok := range tc.allowed {
				res := call(t, e.h, tc.method, path, tc.body, tok)
				doc := res.body
				if tc.status == http.StatusCreated {
					doc, _ = res.body["request"].(map[string]any)
					if res.body["id"] != "x-1" {
						t.Errorf("created id %v", res.body["id"])
					}
				}
				if res.status != tc.status || doc == nil || doc["id"] != id || doc["status"] != "AWAITING_PARTNER" || doc["assignee"] != "bob" {
					t.Fatalf("answer %d %s", res.status, res.raw)
				}
				u := e.wf.LastUpdate(t)
				if u.RequestID != id || u.Name != tc.update || u.ID != "" {
					t.Fatalf("update %+v", u)
				}
				tc.check(t, u.Arg, actors[tok])
			}
		})
	}
}

func TestRefusalsAndOutages(t *testing.T) {
	e := newEnv(t)
	who := e.cast(t)
	id, _ := inReview(t, e, who)
	path := "/v1/requests/" + id + "/decision"
	body := `{"decisions":[]}`

	e.wf.Err = request.Reject(request.ErrInvalidTransition, request.StatusAwaitingPartner, "", "a question waits for the partner")
	res := call(t, e.h, "POST", path, body, who.moderator)
	wantProblem(t, res, 409, "invalid_transition")
	if res.body["currentStatus"] != "AWAITING_PARTNER" || res.body["detail"] != "a question waits for the partner" {
		t.Errorf("409 %s", res.raw)
	}
	e.wf.Err = request.Reject(request.ErrInvalidInput, request.StatusInReview, "decisions[0].rationale", "a rejection needs a rationale")
	wantProblem(t, call(t, e.h, "POST", path, body, who.moderator), 422, "invalid_input", "decisions[0].rationale")
	e.wf.Err = request.Reject(request.ErrForbidden, request.StatusInReview, "", "nobody decides on a request they submitted")
	wantProblem(t, call(t, e.h, "POST", path, body, who.admin), 403, "forbidden_action")
	e.wf.Err = fmt.Errorf("%w: connection refused", app.ErrWorkflowUnavailable)
	wantProblem(t, call(t, e.h, "POST", path, body, who.moderator), 503, "workflow_unavailable")

	// A request the projection knows closed is answered without asking Temporal.
	e.record(t, id, 3, request.EventWithdrawn, request.StatusWithdrawn)
	sent := e.wf.UpdateCount()
	res = call(t, e.h, "POST", path, body, who.moderator)
	wantProblem(t, res, 409, "request_closed")
	if res.body["currentStatus"] != "WITHDRAWN" {
		t.Errorf("closed: %s", res.raw)
	}
	if e.wf.UpdateCount() != sent {
		t.Error("an update was sent to a request known to be closed")
	}
}

func TestClosedWorkflowStatusComesFromTheProjection(t *testing.T) {
	e := newEnv(t)
	who := e.cast(t)
	id, _ := inReview(t, e, who)
	// Temporal says the workflow is gone while the projection still says IN_REVIEW.
	e.wf.Err = fmt.Errorf("%w: workflow execution already completed", app.ErrWorkflowClosed)
	res := call(t, e.h, "POST", "/v1/requests/"+id+"/withdraw", `{"reason":"x"}`, who.partner)
	wantProblem(t, res, 409, "request_closed")
	if res.body["currentStatus"] != "IN_REVIEW" || e.wf.UpdateCount() != 1 {
		t.Errorf("closed: %s (%d updates)", res.raw, e.wf.UpdateCount())
	}
}

func TestChangeBodies(t *testing.T) {
	e := newEnv(t)
	who := e.cast(t)
	id, r := inReview(t, e, who)
	e.wf.Result = request.UpdateResult{Request: r}
	base := "/v1/requests/" + id
	long := strings.Repeat("x", request.MaxText+1)
	cases := []struct {
		method, path, token, body string
		status                    int
		code                      string
		field                     string
	}{
		{"PATCH", "/operations", who.partner, `{"operations":[{"op":"rename_fiche"}]}`, 422, "invalid_body", "operations[0].op"},
		{"PATCH", "/operations", who.partner, `{"operations":[{"id":"a","op":"set_tags"},{"id":"a","op":"set_tags"}]}`, 422, "invalid_body", "operations[1].id"},
		{"PATCH", "/operations", who.partner, `{"ops":[]}`, 422, "invalid_body", "ops"},
		{"PATCH", "/operations", who.partner, `{"operations":[{"op":"add_mobilite","toCodeRome":"D1104","rank":-5}]}`, 422, "invalid_body", "operations[0].rank"},
		{"PATCH", "/operations", who.partner, `{"operations":[{"op":"add_appellation","libelle":""}]}`, 422, "invalid_body", "operations[0].libelle"},
		{"PATCH", "/operations", who.partner, `{"operations":[{"op":"set_text","field":"foo","text":"T"}]}`, 422, "invalid_body", "operations[0].field"},
		{"PATCH", "/operations", who.partner, `{"operations":[` + strings.Repeat(`{"op":"remove_savoir","codeOgr":"1"},`, 100) + `{"op":"remove_savoir","codeOgr":"1"}]}`, 422, "invalid_body", "operations"},
		{"POST", "/messages", who.partner, `{"text":"` + long + `"}`, 422, "invalid_body", "text"},
		{"POST", "/messages", who.partner, `{"text":42}`, 422, "invalid_body", "text"},
		{"POST", "/questions", who.moderator, `{"text":"` + long + `"}`, 422, "invalid_body", "text"},
		{"POST", "/questions/q-1/answer", who.partner, `{"text":"` + long + `"}`, 422, "invalid_body", "text"},
		{"POST", "/assign", who.moderator, `{"moderator":"` + strings.Repeat("m", 201) + `"}`, 422, "invalid_body", "moderator"},
		{"POST", "/decision", who.moderator, `{"decisions":[{"operationId":"op-1","decision":"amended","rationale":"r","amendment":{"op":"nope"}}]}`, 422, "invalid_body", "decisions[0].amendment.op"},
		{"POST", "/decision", who.moderator, `{"decisions":[{"operationId":"op-1","decision":"amended","rationale":"r","amendment":{"op":"add_mobilite","toCodeRome":"D1104","rank":0}}]}`, 422, "invalid_body", "decisions[0].amendment.rank"},
		{"POST", "/decision", who.moderator, `{"decisions":[{"operationId":"op-1","decision":"rejected","rationale":"` + long + `"}]}`, 422, "invalid_body", "decisions[0].rationale"},
		{"POST", "/withdraw", who.partner, `{"reason":"` + long + `"}`, 422, "invalid_body", "reason"},
		{"POST", "/withdraw", who.partner, `{"reason":`, 400, "malformed_json", ""},
		{"POST", "/messages", who.partner, `{"text":"` + strings.Repeat("x", maxTextBody) + `"}`, 413, "body_too_large", ""},
	}
	for _, tc := range cases {
		var fields []string
		if tc.field != "" {
			fields = append(fields, tc.field)
		}
		wantProblem(t, call(t, e.h, tc.method, base+tc.path, tc.body, tc.token), tc.status, tc.code, fields...)
	}
	if e.wf.UpdateCount() != 0 {
		t.Fatal("an invalid body reached the workflow")
	}
	// What depends on the request (an empty list of decisions, an empty text) is the
	// workflow's call: it knows the status, which comes first.
	for _, c := range [][3]string{{"/decision", who.moderator, `{"decisions":[]}`}, {"/messages", who.partner, `{"text":""}`}} {
		if res := call(t, e.h, "POST", base+c[0], c[2], c[1]); res.status != 200 && res.status != 201 {
			t.Errorf("%s %s: %d %s", c[0], c[2], res.status, res.raw)
		}
	}
}

func TestChangeIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	who := e.cast(t)
	id, r := inReview(t, e, who)
	e.wf.Result = request.UpdateResult{Request: r, ID: "m-1"}
	path := "/v1/requests/" + id + "/messages"
	first := call(t, e.h, "POST", path, `{"text":"Bonjour"}`, who.partner, app.HeaderIdempotencyKey, "msg-1")
	if first.status != 201 {
		t.Fatalf("first: %d %s", first.status, first.raw)
	}
	u := e.wf.LastUpdate(t)
	if !strings.HasPrefix(u.ID, "idem-") {
		t.Fatalf("update id %q: a keyed call must be deduplicated by Temporal", u.ID)
	}
	// The retry answers the first outcome without a second update, even once the request
	// has moved on (here: closed).
	e.wf.Result = request.UpdateResult{Request: r, ID: "m-2"}
	e.record(t, id, 3, request.EventWithdrawn, request.StatusWithdrawn)
	again := call(t, e.h, "POST", path, `{ "text" : "Bonjour" }`, who.colleague, app.HeaderIdempotencyKey, "msg-1")
	if again.status != 201 || again.raw != first.raw || again.header.Get("Idempotent-Replayed") != "true" || e.wf.UpdateCount() != 1 {
		t.Fatalf("replay: %d %s (%d updates)", again.status, again.raw, e.wf.UpdateCount())
	}
	wantProblem(t, call(t, e.h, "POST", path, `{"text":"Autre"}`, who.partner, app.HeaderIdempotencyKey, "msg-1"), 422, "idempotency_key_reused", app.HeaderIdempotencyKey)
	// The same key on another route is another call.
	wantProblem(t, call(t, e.h, "POST", "/v1/requests/"+id+"/withdraw", `{"text":"Bonjour"}`, who.partner, app.HeaderIdempotencyKey, "msg-1"), 422, "invalid_body", "text")
	wantProblem(t, call(t, e.h, "POST", "/v1/requests/"+id+"/withdraw", `{}`, who.partner, app.HeaderIdempotencyKey, "msg-1"), 422, "idempotency_key_reused")

	// Keys of moderators are their own: the same key by two moderators is two calls, with
	// two update ids.
	id2, r2 := inReview(t, e, who)
	e.wf.Result = request.UpdateResult{Request: r2, ID: "m-1"}
	path2 := "/v1/requests/" + id2 + "/messages"
	call(t, e.h, "POST", path2, `{"text":"Vu"}`, who.moderator, app.HeaderIdempotencyKey, "k")
	one := e.wf.LastUpdate(t).ID
	call(t, e.h, "POST", path2, `{"text":"Vu"}`, who.admin, app.HeaderIdempotencyKey, "k")
	if two := e.wf.LastUpdate(t).ID; two == one || e.wf.UpdateCount() != 3 {
		t.Fatalf("two callers' keys collided: %s %s (%d updates)", one, two, e.wf.UpdateCount())
	}
}

// An operation that a blocking finding says cannot apply is not accepted as it is: the
// moderator amends or rejects it; a warning does not stop its acceptance.
func TestDecisionRefusesToAcceptABlockedOperation(t *testing.T) {
	e := newEnv(t)
	who := e.cast(t)
	id, r := inReview(t, e, who)
	r.Findings = []request.Finding{
		{Code: "unknown_competence", Severity: request.SeverityError, OperationID: r.Operations[0].ID, Message: "compétence 1 does not exist"},
		{Code: request.FindingOverlappingRequest, Severity: request.SeverityWarning, OperationID: r.Operations[0].ID, Message: "another request"},
	}
	r.UpdatedAt = r.UpdatedAt.Add(time.Minute)
	if _, err := e.store.RecordEvent(t.Context(), request.Event{RequestID: id, Seq: 3, Type: request.EventChecked, At: r.UpdatedAt,
		Actor: request.SystemActor, Data: json.RawMessage(`{}`), Request: r}); err != nil {
		t.Fatal(err)
	}
	e.wf.Result = request.UpdateResult{Request: r}
	path, op := "/v1/requests/"+id+"/decision", r.Operations[0].ID
	wantProblem(t, call(t, e.h, "POST", path, `{"decisions":[{"operationId":"`+op+`","decision":"accepted"}]}`, who.moderator),
		422, "invalid_body", "decisions[0].decision")
	if e.wf.UpdateCount() != 0 {
		t.Fatal("the refused decision reached the workflow")
	}
	if res := call(t, e.h, "POST", path, `{"decisions":[{"operationId":"`+op+`","decision":"rejected","rationale":"Inconnue."}]}`, who.moderator); res.status != 200 {
		t.Fatalf("rejecting it: %d %s", res.status, res.raw)
	}
}
