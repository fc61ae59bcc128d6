package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/plateforme-rome/rome/workflows/request"
)

// The request scenarios drive the platform as a partner and a moderator do, over HTTP.

type requestView struct {
	ID               string `json:"id"`
	Status           string `json:"status"`
	Org              string `json:"org"`
	Assignee         string `json:"assignee"`
	PublishedVersion *int   `json:"publishedVersion"`
	Operations       []struct {
		ID       string `json:"id"`
		Op       string `json:"op"`
		Decision *struct {
			Decision string `json:"decision"`
		} `json:"decision"`
	} `json:"operations"`
	Findings []struct {
		Code           string `json:"code"`
		OperationID    string `json:"operationId"`
		OtherRequestID string `json:"otherRequestId"`
	} `json:"findings"`
	Questions []struct {
		ID     string  `json:"id"`
		Answer *string `json:"answer"`
	} `json:"questions"`
}

type historyItem struct {
	Type  string `json:"type"`
	Actor struct {
		Sub  string `json:"sub"`
		Role string `json:"role"`
	} `json:"actor"`
}

// people are the actors of one scenario: a partner of an organisation, another partner of
// the same organisation, one of another organisation, and a moderator.
type people struct {
	org                                 string
	partner, colleague, outsider, moder string
	moderSub                            string
}

func cast(t *testing.T, p *platform, scenario string) people {
	org := "opco-" + scenario
	return people{
		org:       org,
		partner:   devToken(t, p, "partner-"+scenario, "partner", org),
		colleague: devToken(t, p, "colleague-"+scenario, "partner", org),
		outsider:  devToken(t, p, "outsider-"+scenario, "partner", "other-"+scenario),
		moder:     devToken(t, p, "moderator-"+scenario, "moderator", ""),
		moderSub:  "moderator-" + scenario,
	}
}

func submit(t *testing.T, p *platform, token string, body map[string]any, headers ...string) requestView {
	t.Helper()
	var r requestView
	callJSON(t, http.MethodPost, p.Intake+"/v1/requests", token, body, http.StatusCreated, &r)
	if r.ID == "" || r.Status == "" {
		t.Fatalf("submission answered %+v", r)
	}
	return r
}

func getRequest(t *testing.T, p *platform, token, id string) requestView {
	t.Helper()
	var r requestView
	callJSON(t, http.MethodGet, p.Intake+"/v1/requests/"+id, token, nil, http.StatusOK, &r)
	return r
}

// waitStatus polls the request until it reaches status (the workflow runs asynchronously).
func waitStatus(t *testing.T, p *platform, token, id, status string, within time.Duration) requestView {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := getRequest(t, p, token, id)
		if r.Status == status {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %s is %s after %s, want %s", id, r.Status, within, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func history(t *testing.T, p *platform, token, id string) []historyItem {
	t.Helper()
	var h struct {
		Items []historyItem `json:"items"`
	}
	callJSON(t, http.MethodGet, p.Intake+"/v1/requests/"+id+"/history", token, nil, http.StatusOK, &h)
	return h.Items
}

func types(h []historyItem) []string {
	out := make([]string, len(h))
	for i, e := range h {
		out[i] = e.Type
	}
	return out
}

func act(t *testing.T, p *platform, token, id, action string, body any, want int) requestView {
	t.Helper()
	var r requestView
	callJSON(t, http.MethodPost, p.Intake+"/v1/requests/"+id+"/"+action, token, body, want, &r)
	return r
}

func referentialVersion(t *testing.T, p *platform) int {
	var v struct {
		Version int `json:"version"`
	}
	callJSON(t, http.MethodGet, p.Referential+"/v1/version", "", nil, http.StatusOK, &v)
	return v.Version
}

// waitServed waits until every replica of the referential serves version n or a later one
// to readers that name no version: at once with one replica, within moments with several,
// each catching up as it hears of it. The proxy takes the replicas in turn, so as many
// answers in a row as there are replicas have asked each.
func waitServed(t *testing.T, p *platform, n int) {
	t.Helper()
	replicas := len(p.stack.Replicas("referential"))
	for inARow, deadline := 0, time.Now().Add(10*time.Second); inARow < replicas; {
		if referentialVersion(t, p) >= n {
			inARow++
			continue
		}
		inARow = 0
		if time.Now().After(deadline) {
			t.Fatalf("version %d not served by every referential replica 10 s after it was published", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The whole path: submit → checks → assign → question → answer → partial acceptance →
// published; the referential shows the new version and the changed fiche; the history is
// complete, each action once.
func testRequestFullPath(t *testing.T, p *platform) {
	who := cast(t, p, "full")
	before := referentialVersion(t, p)
	r := submit(t, p, who.partner, map[string]any{
		"kind": "modify_fiche", "codeRome": "G1602", "title": "Cuisine : métiers de la restauration collective",
		"justification": "Offres d'emploi 2026 : 1 200 annonces mentionnent ce titre (source : France Travail, Indeed).",
		"operations": []map[string]any{
			{"op": "add_appellation", "libelle": "Cuisinier / Cuisinière en restauration collective bio"},
			{"op": "set_text", "field": "accesEmploi", "text": "Accessible avec un CAP cuisine.\nUne expérience en restauration collective est appréciée."},
			{"op": "add_mobilite", "toCodeRome": "D1104", "rank": 1},
		},
	})
	r = waitStatus(t, p, who.partner, r.ID, "AWAITING_TRIAGE", 30*time.Second)
	if len(r.Operations) != 3 || r.Operations[0].ID == "" {
		t.Fatalf("operations %+v", r.Operations)
	}

	// Visibility: the outsider sees nothing, the colleague and the moderator see it.
	wantProblem(t, http.MethodGet, p.Intake+"/v1/requests/"+r.ID, who.outsider, nil, http.StatusNotFound)
	getRequest(t, p, who.colleague, r.ID)
	var list struct {
		Items []requestView `json:"items"`
	}
	callJSON(t, http.MethodGet, p.Intake+"/v1/requests?status=AWAITING_TRIAGE&codeRome=G1602", who.moder, nil, http.StatusOK, &list)
	if !slices.ContainsFunc(list.Items, func(x requestView) bool { return x.ID == r.ID }) {
		t.Errorf("the moderator's listing lacks %s", r.ID)
	}
	callJSON(t, http.MethodGet, p.Intake+"/v1/requests", who.outsider, nil, http.StatusOK, &list)
	if slices.ContainsFunc(list.Items, func(x requestView) bool { return x.Org == who.org }) {
		t.Error("a partner lists another organisation's requests")
	}

	// A partner cannot assign; the moderator assigns themself.
	wantProblem(t, http.MethodPost, p.Intake+"/v1/requests/"+r.ID+"/assign", who.partner, map[string]any{"moderator": who.moderSub}, http.StatusForbidden)
	r = act(t, p, who.moder, r.ID, "assign", map[string]any{"moderator": who.moderSub}, http.StatusOK)
	if r.Status != "IN_REVIEW" || r.Assignee != who.moderSub {
		t.Fatalf("after assign: %s, assignee %q", r.Status, r.Assignee)
	}

	var q struct {
		ID string `json:"id"`
	}
	callJSON(t, http.MethodPost, p.Intake+"/v1/requests/"+r.ID+"/questions", who.moder, map[string]any{"text": "Quelles sources pour le libellé ?"}, http.StatusCreated, &q)
	if q.ID == "" {
		t.Fatal("no question id")
	}
	// Deciding while the partner is asked is an invalid transition.
	wantProblem(t, http.MethodPost, p.Intake+"/v1/requests/"+r.ID+"/decision", who.moder, map[string]any{"decisions": []any{}}, http.StatusConflict)
	callJSON(t, http.MethodPost, p.Intake+"/v1/requests/"+r.ID+"/questions/"+q.ID+"/answer", who.partner,
		map[string]any{"text": "Annonces agrégées sur 12 mois, jointes à la demande."}, http.StatusOK, &r)
	if r.Status != "IN_REVIEW" {
		t.Fatalf("after the answer: %s", r.Status)
	}
	callJSON(t, http.MethodPost, p.Intake+"/v1/requests/"+r.ID+"/messages", who.partner, map[string]any{"text": "Merci !"}, http.StatusCreated, nil)

	ops := r.Operations
	decision := map[string]any{"decisions": []map[string]any{
		{"operationId": ops[0].ID, "decision": "accepted", "rationale": "Libellé attesté."},
		{"operationId": ops[1].ID, "decision": "rejected", "rationale": "Le texte actuel est plus précis."},
		{"operationId": ops[2].ID, "decision": "amended", "rationale": "Rang 2 plutôt que 1.",
			"amendment": map[string]any{"op": "add_mobilite", "toCodeRome": "D1104", "rank": 2}},
	}}
	// Nobody decides on a request they submitted; a partner cannot decide at all.
	wantProblem(t, http.MethodPost, p.Intake+"/v1/requests/"+r.ID+"/decision", who.partner, decision, http.StatusForbidden)
	act(t, p, who.moder, r.ID, "decision", decision, http.StatusOK)
	r = waitStatus(t, p, who.partner, r.ID, "PUBLISHED", 30*time.Second)
	if r.PublishedVersion == nil || *r.PublishedVersion <= before {
		t.Fatalf("published version %v, referential was at %d", r.PublishedVersion, before)
	}

	var fiche struct {
		Version      int `json:"version"`
		Appellations []struct {
			Libelle string `json:"libelle"`
		} `json:"appellations"`
		AccesEmploi string `json:"accesEmploi"`
		Mobilites   []struct {
			CodeRome string `json:"codeRome"`
			Rang     int    `json:"rang"`
		} `json:"mobilites"`
	}
	// Asked by the version the request names, any replica serves it at once (it catches up).
	callJSON(t, http.MethodGet, p.Referential+"/v1/fiches/G1602?version="+strconv.Itoa(*r.PublishedVersion), "", nil, http.StatusOK, &fiche)
	if fiche.Version != *r.PublishedVersion {
		t.Errorf("fiche at version %d, request published %d", fiche.Version, *r.PublishedVersion)
	}
	if !slices.ContainsFunc(fiche.Appellations, func(a struct {
		Libelle string `json:"libelle"`
	}) bool {
		return a.Libelle == "Cuisinier / Cuisinière en restauration collective bio"
	}) {
		t.Error("the accepted appellation is not on the fiche")
	}
	if strings.Contains(fiche.AccesEmploi, "CAP cuisine") {
		t.Error("the rejected text was published")
	}
	if len(fiche.Mobilites) < 2 || fiche.Mobilites[1].CodeRome != "D1104" {
		t.Errorf("the amended mobilité is not at rank 2: %+v", fiche.Mobilites)
	}
	waitServed(t, p, *r.PublishedVersion) // and to every reader soon after

	h := types(history(t, p, who.partner, r.ID))
	for _, want := range []string{"submitted", "checks_completed", "assigned", "question_asked", "question_answered", "message_posted", "decided", "published"} {
		if n := count(h, want); n != 1 {
			t.Errorf("history has %d %q events, want 1: %v", n, want, h)
		}
	}
	if h[0] != "submitted" || h[len(h)-1] != "published" {
		t.Errorf("history order %v", h)
	}

	// Ops find the request in Temporal by its search attributes.
	query := fmt.Sprintf(`RequestStatus = "PUBLISHED" AND PartnerOrg = %q AND RomeCode = "G1602"`, who.org)
	waitListed(t, p, query, request.WorkflowID(r.ID))
}

func count(xs []string, x string) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}

// waitListed polls Temporal's visibility (eventually consistent) for a workflow.
func waitListed(t *testing.T, p *platform, query, workflowID string) {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: p.TemporalAddress, Namespace: p.namespace})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Namespace: p.namespace, Query: query})
		if err != nil {
			t.Fatalf("list %q: %v", query, err)
		}
		for _, e := range resp.Executions {
			if e.Execution.WorkflowId == workflowID {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listed by %q", workflowID, query)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// A request whose every operation is rejected closes as REJECTED and publishes nothing.
func testRequestRejected(t *testing.T, p *platform) {
	who := cast(t, p, "rejected")
	r := submit(t, p, who.partner, map[string]any{
		"kind": "modify_fiche", "codeRome": "H2909", "title": "Retirer un libellé", "justification": "Libellé rare.",
		"operations": []map[string]any{{"op": "remove_appellation", "codeOgr": "10451", "reason": "Peu utilisé"}},
	})
	r = waitStatus(t, p, who.partner, r.ID, "AWAITING_TRIAGE", 30*time.Second)
	act(t, p, who.moder, r.ID, "assign", map[string]any{"moderator": who.moderSub}, http.StatusOK)
	before := referentialVersion(t, p)
	wantProblem(t, http.MethodPost, p.Intake+"/v1/requests/"+r.ID+"/decision", who.moder, map[string]any{"decisions": []map[string]any{
		{"operationId": r.Operations[0].ID, "decision": "rejected"}}}, http.StatusUnprocessableEntity) // a rejection needs a rationale
	act(t, p, who.moder, r.ID, "decision", map[string]any{"decisions": []map[string]any{
		{"operationId": r.Operations[0].ID, "decision": "rejected", "rationale": "Encore très utilisé dans les offres."}}}, http.StatusOK)
	waitStatus(t, p, who.partner, r.ID, "REJECTED", 30*time.Second)
	if after := referentialVersion(t, p); after != before {
		t.Errorf("a rejected request changed the referential from %d to %d", before, after)
	}
}

// The partner withdraws before the decision; the request accepts no further action.
func testRequestWithdrawn(t *testing.T, p *platform) {
	who := cast(t, p, "withdrawn")
	r := submit(t, p, who.partner, map[string]any{
		"kind": "modify_fiche", "codeRome": "D1106", "title": "Tags", "justification": "Transition écologique.",
		"operations": []map[string]any{{"op": "set_tags", "transitionNumerique": true}},
	})
	waitStatus(t, p, who.partner, r.ID, "AWAITING_TRIAGE", 30*time.Second)
	wantProblem(t, http.MethodPost, p.Intake+"/v1/requests/"+r.ID+"/withdraw", who.outsider, map[string]any{"reason": "x"}, http.StatusNotFound)
	r = act(t, p, who.partner, r.ID, "withdraw", map[string]any{"reason": "Demande déposée par erreur."}, http.StatusOK)
	if r.Status != "WITHDRAWN" {
		t.Fatalf("after withdraw: %s", r.Status)
	}
	wantProblem(t, http.MethodPost, p.Intake+"/v1/requests/"+r.ID+"/assign", who.moder, map[string]any{"moderator": who.moderSub}, http.StatusConflict)
}

// An unanswered question expires the request (timers shortened for the tests).
func testRequestExpired(t *testing.T, p *platform) {
	who := cast(t, p, "expired")
	r := submit(t, p, who.partner, map[string]any{
		"kind": "modify_fiche", "codeRome": "K2104", "title": "Compétence", "justification": "Référentiel de branche.",
		"operations": []map[string]any{{"op": "remove_competence", "codeOgr": "107371"}},
	})
	waitStatus(t, p, who.partner, r.ID, "AWAITING_TRIAGE", 30*time.Second)
	act(t, p, who.moder, r.ID, "assign", map[string]any{"moderator": who.moderSub}, http.StatusOK)
	callJSON(t, http.MethodPost, p.Intake+"/v1/requests/"+r.ID+"/questions", who.moder, map[string]any{"text": "Pourquoi ?"}, http.StatusCreated, nil)
	waitStatus(t, p, who.partner, r.ID, "EXPIRED", questionExpiry+30*time.Second)
	h := types(history(t, p, who.moder, r.ID))
	if count(h, "expired") != 1 || count(h, "reminder") < 1 {
		t.Errorf("history %v: want one expiry after a reminder to the partner", h)
	}
}

// Two requests change the same element of the same fiche: the second is flagged at checks,
// and when the first is published the second's publication conflicts and goes back to the
// moderator with the reason; nothing is dropped silently.
func testRequestPublicationConflict(t *testing.T, p *platform) {
	who := cast(t, p, "conflict")
	body := func(title string) map[string]any {
		return map[string]any{"kind": "modify_fiche", "codeRome": "F1703", "title": title, "justification": "Libellé obsolète.",
			"operations": []map[string]any{{"op": "remove_appellation", "codeOgr": "11366", "reason": "Obsolète"}}}
	}
	first := submit(t, p, who.partner, body("Premier retrait"))
	waitStatus(t, p, who.partner, first.ID, "AWAITING_TRIAGE", 30*time.Second)
	second := submit(t, p, who.colleague, body("Second retrait"))
	second = waitStatus(t, p, who.partner, second.ID, "AWAITING_TRIAGE", 30*time.Second)
	if !slices.ContainsFunc(second.Findings, func(f struct {
		Code           string `json:"code"`
		OperationID    string `json:"operationId"`
		OtherRequestID string `json:"otherRequestId"`
	}) bool {
		return f.Code == "overlapping_request" && f.OtherRequestID == first.ID
	}) {
		t.Errorf("the second request's findings %+v do not name the first", second.Findings)
	}
	accept := func(r requestView) map[string]any {
		return map[string]any{"decisions": []map[string]any{{"operationId": r.Operations[0].ID, "decision": "accepted", "rationale": "OK"}}}
	}
	for _, r := range []requestView{first, second} {
		act(t, p, who.moder, r.ID, "assign", map[string]any{"moderator": who.moderSub}, http.StatusOK)
	}
	act(t, p, who.moder, first.ID, "decision", accept(first), http.StatusOK)
	waitStatus(t, p, who.partner, first.ID, "PUBLISHED", 30*time.Second)
	act(t, p, who.moder, second.ID, "decision", accept(second), http.StatusOK)
	second = waitStatus(t, p, who.partner, second.ID, "IN_REVIEW", 30*time.Second)
	if !slices.ContainsFunc(second.Findings, func(f struct {
		Code           string `json:"code"`
		OperationID    string `json:"operationId"`
		OtherRequestID string `json:"otherRequestId"`
	}) bool {
		return f.Code == "publication_conflict"
	}) {
		t.Errorf("no publication_conflict finding: %+v", second.Findings)
	}
	if count(types(history(t, p, who.moder, second.ID)), "publication_conflict") != 1 {
		t.Error("the conflict is not in the history")
	}
}

// The workers die mid-flight (every replica) and come back: the request carries on,
// nothing is duplicated.
func testWorkerRestart(t *testing.T, p *platform) {
	who := cast(t, p, "restart")
	workers := p.stack.Replicas("worker")
	killWorkers := func() {
		t.Helper()
		for _, w := range workers {
			if err := p.stack.Kill(w.Name); err != nil {
				t.Fatal(err)
			}
		}
	}
	restartWorkers := func(ctx context.Context) {
		t.Helper()
		for _, w := range workers {
			if err := p.stack.Restart(ctx, w.Name); err != nil {
				t.Fatal(err)
			}
		}
	}
	killWorkers()
	r := submit(t, p, who.partner, map[string]any{
		"kind": "modify_fiche", "codeRome": "N1103", "title": "Compétence", "justification": "Logistique.",
		"operations": []map[string]any{{"op": "remove_competence", "codeOgr": "106396"}},
	})
	time.Sleep(2 * time.Second) // the workflow waits for a worker
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	restartWorkers(ctx)
	waitStatus(t, p, who.partner, r.ID, "AWAITING_TRIAGE", 60*time.Second)
	act(t, p, who.moder, r.ID, "assign", map[string]any{"moderator": who.moderSub}, http.StatusOK)

	// Killed again while the request waits for its decision, then decided after the restart.
	killWorkers()
	restartWorkers(ctx)
	act(t, p, who.moder, r.ID, "decision", map[string]any{"decisions": []map[string]any{
		{"operationId": r.Operations[0].ID, "decision": "accepted", "rationale": "OK"}}}, http.StatusOK)
	waitStatus(t, p, who.partner, r.ID, "PUBLISHED", 60*time.Second)
	h := types(history(t, p, who.partner, r.ID))
	for _, typ := range []string{"submitted", "checks_completed", "assigned", "decided", "published"} {
		if count(h, typ) != 1 {
			t.Errorf("history %v: %q not exactly once", h, typ)
		}
	}
}

// The same Idempotency-Key twice makes one request.
func testIdempotentSubmission(t *testing.T, p *platform) {
	who := cast(t, p, "idem")
	body := map[string]any{"kind": "modify_fiche", "codeRome": "D1106", "title": "Idempotence", "justification": "Retry.",
		"operations": []map[string]any{{"op": "set_tags", "emploiCadre": false}}}
	first := postWithKey(t, p, who.partner, body, "key-e2e-1", http.StatusCreated)
	again := postWithKey(t, p, who.partner, body, "key-e2e-1", http.StatusCreated)
	if first.ID != again.ID {
		t.Fatalf("two requests for one key: %s and %s", first.ID, again.ID)
	}
	body["title"] = "Autre"
	postWithKey(t, p, who.partner, body, "key-e2e-1", http.StatusUnprocessableEntity)
	var list struct {
		Items []requestView `json:"items"`
	}
	callJSON(t, http.MethodGet, p.Intake+"/v1/requests?q=Idempotence", who.partner, nil, http.StatusOK, &list)
	if len(list.Items) != 1 {
		t.Errorf("%d requests listed for one key", len(list.Items))
	}
}

func postWithKey(t *testing.T, p *platform, token string, body map[string]any, key string, want int) requestView {
	t.Helper()
	status, _, b := callWithHeaders(t, http.MethodPost, p.Intake+"/v1/requests", token, body, map[string]string{"Idempotency-Key": key})
	if status != want {
		t.Fatalf("POST /v1/requests with key %s = %d, want %d: %s", key, status, want, b)
	}
	var r requestView
	if want == http.StatusCreated {
		mustUnmarshal(t, b, &r)
	}
	return r
}
