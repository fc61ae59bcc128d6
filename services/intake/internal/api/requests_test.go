package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/services/intake/internal/app"
	"github.com/plateforme-rome/rome/workflows/request"
)

func TestSubmit(t *testing.T) {
	e := newEnv(t)
	who := e.cast(t)
	res := call(t, e.h, "POST", "/v1/requests", modifyBody, who.partner)
	if res.status != http.StatusCreated {
		t.Fatalf("submit: %d %s", res.status, res.raw)
	}
	id := res.body["id"].(string)
	if res.header.Get("Location") != "/v1/requests/"+id || res.body["status"] != "SUBMITTED" || res.body["org"] != "opco-2i" ||
		res.body["codeRome"] != "M1805" || res.body["kind"] != "modify_fiche" || res.body["publishedVersion"] != nil {
		t.Fatalf("answer %v %s", res.header, res.raw)
	}
	if by := res.body["submittedBy"].(map[string]any); by["sub"] != "alice" || by["role"] != "partner" || by["org"] != "opco-2i" {
		t.Errorf("submittedBy %v", by)
	}
	var ids []string
	for _, op := range res.body["operations"].([]any) {
		o := op.(map[string]any)
		ids = append(ids, o["id"].(string))
		if _, ok := o["decision"]; !ok || o["decision"] != nil {
			t.Errorf("operation %v: want decision null", o)
		}
	}
	if !slices.Equal(ids, []string{"op-1", "mine", "op-2"}) {
		t.Errorf("operation ids %v", ids)
	}

	// The workflow was started with that very request and the configured timers.
	if e.wf.StartCount() != 1 {
		t.Fatalf("%d starts", e.wf.StartCount())
	}
	in := e.wf.Starts[0]
	if in.Timers != testTimers || in.Request.ID != id || in.Request.Status != request.StatusSubmitted || in.Request.SubmittedBy.Sub != "alice" ||
		in.Request.CreatedAt.IsZero() || !in.Request.UpdatedAt.Equal(in.Request.CreatedAt) || len(in.Request.Operations) != 3 {
		t.Fatalf("start input %+v", in)
	}
	// Readable at once, by the partner's organisation.
	got := call(t, e.h, "GET", "/v1/requests/"+id, "", who.colleague)
	if got.status != 200 || got.raw != res.raw {
		t.Fatalf("read back %d\n%s\nwant %s", got.status, got.raw, res.raw)
	}

	wantProblem(t, call(t, e.h, "POST", "/v1/requests", modifyBody, who.moderator), 403, "forbidden_role")
	wantProblem(t, call(t, e.h, "POST", "/v1/requests", modifyBody, ""), 401, "unauthenticated")
	big := `{"kind":"modify_fiche","title":"` + strings.Repeat("x", maxOperationsBody) + `"}`
	wantProblem(t, call(t, e.h, "POST", "/v1/requests", big, who.partner), 413, "body_too_large")
	if e.wf.StartCount() != 1 {
		t.Fatal("refused submissions started workflows")
	}
}

func TestSubmitCreatesFiches(t *testing.T) {
	e := newEnv(t)
	who := e.cast(t)
	known := `{"kind":"create_fiche_from_known_appellation","title":"Développeur Rust","justification":"Métier émergent.",
		"operations":[{"op":"create_fiche","domaineProfessionnel":"M18","definition":"Conçoit.","accesEmploi":"Bac+5.","appellationPrincipale":{"codeOgr":"38823"}},
		{"op":"add_competence","codeOgr":"100023","coeurMetier":"PRINCIPALE"}]}`
	id := e.submit(t, who.partner, known)
	r := e.requestDoc(t, id)
	if r.Kind != request.KindCreateFromKnown || r.CodeRome != "" || r.Operations[0].AppellationPrincipale.CodeOgr != "38823" {
		t.Fatalf("stored %+v", r)
	}
	fresh := `{"kind":"create_fiche_from_new_appellation","title":"Pilote de drone","justification":"Métier émergent.",
		"operations":[{"op":"create_fiche","domaineProfessionnel":"N22","definition":"Pilote.","accesEmploi":"Brevet.","appellationPrincipale":{"libelle":"Pilote de drone"}}]}`
	r = e.requestDoc(t, e.submit(t, who.partner, fresh))
	if r.Kind != request.KindCreateFromNew || r.Operations[0].AppellationPrincipale.Libelle != "Pilote de drone" || e.wf.StartCount() != 2 {
		t.Fatalf("stored %+v", r)
	}
}

func TestSubmitValidation(t *testing.T) {
	e := newEnv(t)
	who := e.cast(t)
	op := `{"op":"add_appellation","libelle":"X"}`
	body := func(kind, code, title, justification string, ops ...string) string {
		b, _ := json.Marshal(map[string]any{"kind": kind, "codeRome": code, "title": title, "justification": justification})
		return strings.TrimSuffix(string(b), "}") + `,"operations":[` + strings.Join(ops, ",") + `]}`
	}
	createKnown := `{"op":"create_fiche","appellationPrincipale":{"codeOgr":"38823"}}`
	many := make([]string, 101)
	for i := range many {
		many[i] = op
	}
	cases := []struct {
		name, body string
		code       string
		fields     []string
	}{
		{"unknown kind", body("rename_fiche", "M1805", "t", "j", op), "invalid_body", []string{"kind"}},
		{"no kind", `{"codeRome":"M1805","title":"t","justification":"j","operations":[` + op + `]}`, "invalid_body", []string{"kind"}},
		{"modify without code", body("modify_fiche", "", "t", "j", op), "invalid_body", []string{"codeRome"}},
		{"malformed code", body("modify_fiche", "Z1805", "t", "j", op), "invalid_body", []string{"codeRome"}},
		{"short code", body("modify_fiche", "M180", "t", "j", op), "invalid_body", []string{"codeRome"}},
		{"code when creating", body("create_fiche_from_known_appellation", "M1805", "t", "j", createKnown), "invalid_body", []string{"codeRome"}},
		{"creating without create_fiche first", body("create_fiche_from_known_appellation", "", "t", "j", op, createKnown), "invalid_body", []string{"operations[0].op", "operations[1].op"}},
		{"create_fiche in a modification", body("modify_fiche", "M1805", "t", "j", op, createKnown), "invalid_body", []string{"operations[1].op"}},
		{"known appellation without code", body("create_fiche_from_known_appellation", "", "t", "j", `{"op":"create_fiche","appellationPrincipale":{"libelle":"X"}}`), "invalid_body", []string{"operations[0].appellationPrincipale.codeOgr"}},
		{"known appellation with a label", body("create_fiche_from_known_appellation", "", "t", "j", `{"op":"create_fiche","appellationPrincipale":{"codeOgr":"1","libelle":"X"}}`), "invalid_body", []string{"operations[0].appellationPrincipale.libelle"}},
		{"new appellation without label", body("create_fiche_from_new_appellation", "", "t", "j", `{"op":"create_fiche"}`), "invalid_body", []string{"operations[0].appellationPrincipale.libelle"}},
		{"new appellation with a code", body("create_fiche_from_new_appellation", "", "t", "j", `{"op":"create_fiche","appellationPrincipale":{"codeOgr":"1","libelle":"X"}}`), "invalid_body", []string{"operations[0].appellationPrincipale.codeOgr"}},
		{"blank title", body("modify_fiche", "M1805", "   ", "j", op), "invalid_body", []string{"title"}},
		{"long title", body("modify_fiche", "M1805", strings.Repeat("é", 201), "j", op), "invalid_body", []string{"title"}},
		{"no justification", body("modify_fiche", "M1805", "t", "", op), "invalid_body", []string{"justification"}},
		{"long justification", body("modify_fiche", "M1805", "t", strings.Repeat("j", 10_001), op), "invalid_body", []string{"justification"}},
		{"no operation", body("modify_fiche", "M1805", "t", "j"), "invalid_body", []string{"operations"}},
		{"101 operations", body("modify_fiche", "M1805", "t", "j", many...), "invalid_body", []string{"operations"}},
		{"unknown operation", body("modify_fiche", "M1805", "t", "j", op, `{"op":"rename_fiche"}`), "invalid_body", []string{"operations[1].op"}},
		{"operation without op", body("modify_fiche", "M1805", "t", "j", `{"libelle":"X"}`), "invalid_body", []string{"operations[0].op"}},
		{"duplicate operation ids", body("modify_fiche", "M1805", "t", "j", `{"id":"a","op":"set_tags"}`, op, `{"id":"a","op":"set_tags"}`), "invalid_body", []string{"operations[2].id"}},
		{"long operation id", body("modify_fiche", "M1805", "t", "j", `{"id":"`+strings.Repeat("i", 65)+`","op":"set_tags"}`), "invalid_body", []string{"operations[0].id"}},
		{"unknown operation field", body("modify_fiche", "M1805", "t", "j", `{"op":"add_appellation","libel":"X"}`), "invalid_body", []string{"operations[0].libel"}},
		{"wrong type", body("modify_fiche", "M1805", "t", "j", `{"op":"add_mobilite","toCodeRome":"D1104","rank":"1"}`), "invalid_body", []string{"operations[0].rank"}},
		// The operations' syntax (request.CheckOperation): refused here, not left to findings.
		{"mobilité rank -5", body("modify_fiche", "M1805", "t", "j", `{"op":"add_mobilite","toCodeRome":"D1104","rank":-5}`), "invalid_body", []string{"operations[0].rank"}},
		{"mobilité rank 0", body("modify_fiche", "M1805", "t", "j", `{"op":"add_mobilite","toCodeRome":"D1104","rank":0}`), "invalid_body", []string{"operations[0].rank"}},
		{"mobilité rank 2^62", body("modify_fiche", "M1805", "t", "j", `{"op":"add_mobilite","toCodeRome":"D1104","rank":4611686018427387904}`), "invalid_body", []string{"operations[0].rank"}},
		{"empty libellé", body("modify_fiche", "M1805", "t", "j", `{"op":"add_appellation","libelle":"  "}`), "invalid_body", []string{"operations[0].libelle"}},
		{"missing libellé", body("modify_fiche", "M1805", "t", "j", op, `{"op":"add_appellation"}`), "invalid_body", []string{"operations[1].libelle"}},
		{"set_text on an unknown field", body("modify_fiche", "M1805", "t", "j", `{"op":"set_text","field":"foo","text":"T"}`), "invalid_body", []string{"operations[0].field"}},
		{"unknown coeurMetier", body("modify_fiche", "M1805", "t", "j", `{"op":"add_competence","codeOgr":"100023","coeurMetier":"SECONDAIRE"}`), "invalid_body", []string{"operations[0].coeurMetier"}},
		{"malformed code OGR", body("modify_fiche", "M1805", "t", "j", `{"op":"remove_savoir","codeOgr":"abc"}`), "invalid_body", []string{"operations[0].codeOgr"}},
		{"create_fiche without texts", body("create_fiche_from_new_appellation", "", "t", "j", `{"op":"create_fiche","domaineProfessionnel":"N2","appellationPrincipale":{"libelle":"X"}}`), "invalid_body", []string{"operations[0].domaineProfessionnel", "operations[0].definition", "operations[0].accesEmploi"}},
		{"every error at once", body("modify_fiche", "", "", "", `{"op":"nope"}`), "invalid_body", []string{"codeRome", "title", "justification", "operations[0].op"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, call(t, e.h, "POST", "/v1/requests", tc.body, who.partner), 422, tc.code, tc.fields...)
		})
	}
	wantProblem(t, call(t, e.h, "POST", "/v1/requests", `{"kind":`, who.partner), 400, "malformed_json")
	if e.wf.StartCount() != 0 {
		t.Fatal("an invalid submission started a workflow")
	}
	if res := call(t, e.h, "GET", "/v1/requests", "", who.partner); res.status != 200 || len(res.body["items"].([]any)) != 0 {
		t.Fatalf("an invalid submission was stored: %d %s", res.status, res.raw)
	}
}

func TestSubmitIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	who := e.cast(t)
	key := []string{app.HeaderIdempotencyKey, "key-1"}
	first := call(t, e.h, "POST", "/v1/requests", modifyBody, who.partner, key...)
	if first.status != 201 || first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first: %d %s", first.status, first.raw)
	}
	id := first.body["id"].(string)

	// The same key and body (spaced differently), by a colleague of the same organisation.
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(modifyBody)); err != nil {
		t.Fatal(err)
	}
	again := call(t, e.h, "POST", "/v1/requests", compact.String(), who.colleague, key...)
	if again.status != 201 || again.raw != first.raw || again.header.Get("Location") != "/v1/requests/"+id || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %v %s", again.status, again.header, again.raw)
	}
	// Until the workflow records its first event, a replay starts it again (the first
	// start may have been lost); the workflow id makes that harmless.
	if e.wf.StartCount() != 2 || e.wf.Starts[1].Request.ID != id {
		t.Fatalf("replay before the first event: %d starts", e.wf.StartCount())
	}
	e.record(t, id, 1, request.EventSubmitted, request.StatusChecking)
	if res := call(t, e.h, "POST", "/v1/requests", modifyBody, who.partner, key...); res.status != 201 || res.raw != first.raw {
		t.Fatalf("replay after the first event: %d %s", res.status, res.raw)
	}
	if e.wf.StartCount() != 2 {
		t.Fatal("a running request was started again")
	}

	other := strings.Replace(modifyBody, "Développeur Rust", "Autre titre", 1)
	wantProblem(t, call(t, e.h, "POST", "/v1/requests", other, who.partner, key...), 422, "idempotency_key_reused", app.HeaderIdempotencyKey)

	// Keys belong to an organisation: another one gets its own request.
	theirs := call(t, e.h, "POST", "/v1/requests", modifyBody, who.outsider, key...)
	if theirs.status != 201 || theirs.body["id"] == id {
		t.Fatalf("another organisation's key: %d %s", theirs.status, theirs.raw)
	}
	for _, bad := range []string{strings.Repeat("k", 256), "clé"} {
		wantProblem(t, call(t, e.h, "POST", "/v1/requests", modifyBody, who.partner, app.HeaderIdempotencyKey, bad), 422, "invalid_idempotency_key", app.HeaderIdempotencyKey)
	}
	list := call(t, e.h, "GET", "/v1/requests", "", who.partner)
	if n := len(list.body["items"].([]any)); n != 1 {
		t.Fatalf("the organisation has %d requests, want 1", n)
	}
}

// A failed start leaves no request behind; the retry with the same key starts it.
func TestSubmitWhenTemporalIsDown(t *testing.T) {
	e := newEnv(t)
	who := e.cast(t)
	e.wf.StartErr = fmt.Errorf("%w: connection refused", app.ErrWorkflowUnavailable)
	key := []string{app.HeaderIdempotencyKey, "key-down"}
	wantProblem(t, call(t, e.h, "POST", "/v1/requests", modifyBody, who.partner, key...), 503, "workflow_unavailable")
	wantProblem(t, call(t, e.h, "POST", "/v1/requests", modifyBody, who.partner), 503, "workflow_unavailable")
	if list := call(t, e.h, "GET", "/v1/requests", "", who.moderator); len(list.body["items"].([]any)) != 0 {
		t.Fatalf("requests without a workflow are listed: %s", list.raw)
	}
	started := e.wf.Starts[0].Request.ID
	if _, err := e.store.Get(t.Context(), started); err == nil {
		t.Fatal("the projection of an unstarted request is still there")
	}

	e.wf.StartErr = nil
	res := call(t, e.h, "POST", "/v1/requests", modifyBody, who.partner, key...)
	if res.status != 201 || res.body["id"] != started {
		t.Fatalf("retry: %d %s (want the id %s of the first attempt)", res.status, res.raw, started)
	}
	if got := call(t, e.h, "GET", "/v1/requests/"+started, "", who.partner); got.status != 200 {
		t.Fatalf("retried request not readable: %d", got.status)
	}

	// The start answered an error but went through: the workflow recorded its first event
	// before the intake gave up on it. The request exists, so the answer is 201.
	e.wf.StartErr = errors.New("deadline exceeded")
	e.wf.OnStart = func(in request.Input) { e.record(t, in.Request.ID, 1, request.EventSubmitted, request.StatusChecking) }
	if res := call(t, e.h, "POST", "/v1/requests", modifyBody, who.partner); res.status != 201 {
		t.Fatalf("start that went through: %d %s", res.status, res.raw)
	}
}

func TestListRequests(t *testing.T) {
	e := newEnv(t)
	who := e.cast(t)
	mine := e.submit(t, who.partner)
	e.record(t, mine, 1, request.EventChecked, request.StatusAwaitingTriage)
	theirs := e.submit(t, who.outsider, strings.Replace(modifyBody, "M1805", "K2104", 1))
	third := e.submit(t, who.colleague, strings.Replace(modifyBody, "Développeur Rust", "Boulangère bio", 1))

	ids := func(res result) []string {
		t.Helper()
		if res.status != 200 {
			t.Fatalf("list: %d %s", res.status, res.raw)
		}
		var out []string
		for _, it := range res.body["items"].([]any) {
			out = append(out, it.(map[string]any)["id"].(string))
		}
		return out
	}
	if got := ids(call(t, e.h, "GET", "/v1/requests", "", who.partner)); !slices.Equal(got, []string{third, mine}) {
		t.Errorf("partner sees %v", got)
	}
	// The total counts every page, within what the caller may see.
	if res := call(t, e.h, "GET", "/v1/requests?limit=1", "", who.partner); res.body["total"] != float64(2) {
		t.Errorf("partner's total: %s", res.raw)
	}
	if res := call(t, e.h, "GET", "/v1/requests?status=SUBMITTED", "", who.admin); res.body["total"] != float64(2) {
		t.Errorf("submitted total: %s", res.raw)
	}
	if res := call(t, e.h, "GET", "/v1/requests?assignee=nobody", "", who.admin); res.body["total"] != float64(0) || res.raw == "" {
		t.Errorf("empty listing's total: %s", res.raw)
	}
	if got := ids(call(t, e.h, "GET", "/v1/requests?org=opco-ep", "", who.partner)); len(got) != 0 {
		t.Errorf("partner sees another organisation through the filter: %v", got)
	}
	if got := ids(call(t, e.h, "GET", "/v1/requests", "", who.moderator)); !slices.Equal(got, []string{third, theirs, mine}) {
		t.Errorf("moderator sees %v", got)
	}
	for q, want := range map[string][]string{
		"status=AWAITING_TRIAGE":                 {mine},
		"kind=modify_fiche&codeRome=K2104":       {theirs},
		"org=opco-2i&q=BOULANGERE":               {third},
		"q=developpeur":                          {theirs, mine},
		"assignee=nobody":                        nil,
		"status=SUBMITTED&kind=modify_fiche":     {third, theirs},
		"codeRome=M1805&status=PUBLISHED":        nil,
		"q=annonces&org=opco-ep&limit=200":       {theirs},
		"kind=create_fiche_from_new_appellation": nil,
	} {
		if got := ids(call(t, e.h, "GET", "/v1/requests?"+q, "", who.admin)); !slices.Equal(got, want) {
			t.Errorf("?%s: %v, want %v", q, got, want)
		}
	}

	page := call(t, e.h, "GET", "/v1/requests?limit=2", "", who.moderator)
	next, _ := page.body["nextCursor"].(string)
	if got := ids(page); !slices.Equal(got, []string{third, theirs}) || next == "" || page.body["total"] != float64(3) {
		t.Fatalf("first page %v next %q total %v", got, next, page.body["total"])
	}
	page = call(t, e.h, "GET", "/v1/requests?limit=2&cursor="+next, "", who.moderator)
	if got := ids(page); !slices.Equal(got, []string{mine}) || page.body["nextCursor"] != nil || page.body["total"] != float64(3) {
		t.Fatalf("last page %v next %v total %v", got, page.body["nextCursor"], page.body["total"])
	}

	for q, field := range map[string]string{
		"status=DONE": "status", "kind=other": "kind", "codeRome=m1805": "codeRome", "limit=0": "limit", "limit=201": "limit",
		"limit=ten": "limit", "cursor=bogus": "cursor", "q=" + strings.Repeat("a", 201): "q",
		"overdue=yes": "overdue", "overdue=1": "overdue", "overdue=TRUE": "overdue",
	} {
		wantProblem(t, call(t, e.h, "GET", "/v1/requests?"+q, "", who.moderator), 422, "invalid_query", field)
	}
	wantProblem(t, call(t, e.h, "GET", "/v1/requests", "", who.service), 403, "forbidden_role")
	wantProblem(t, call(t, e.h, "GET", "/v1/requests", "", ""), 401, "unauthenticated")
}

// Overdue requests wait in their status longer than its first reminder (testTimers:
// triage 1h, decision 3h, partner 5h).
func TestListOverdue(t *testing.T) {
	e := newEnv(t)
	who := e.cast(t)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	e.clock.set(t0)
	ids := func(res result) []string {
		t.Helper()
		if res.status != 200 {
			t.Fatalf("list: %d %s", res.status, res.raw)
		}
		var out []string
		for _, it := range res.body["items"].([]any) {
			out = append(out, it.(map[string]any)["id"].(string))
		}
		if res.body["total"] != float64(len(out)) {
			t.Fatalf("total %v for %d items", res.body["total"], len(out))
		}
		return out
	}
	overdue := func(token string, query ...string) []string {
		t.Helper()
		return ids(call(t, e.h, "GET", "/v1/requests?overdue=true"+strings.Join(query, ""), "", token))
	}

	submitted := e.submit(t, who.partner) // stays SUBMITTED: no reminder for that
	triage := e.submit(t, who.partner)
	e.record(t, triage, 1, request.EventChecked, request.StatusAwaitingTriage) // t0+1m
	review := e.submit(t, who.outsider)
	e.record(t, review, 1, request.EventChecked, request.StatusAwaitingTriage)
	e.record(t, review, 2, request.EventAssigned, request.StatusInReview) // t0+2m
	partner := e.submit(t, who.colleague)
	e.record(t, partner, 1, request.EventChecked, request.StatusAwaitingTriage)
	e.record(t, partner, 2, request.EventAssigned, request.StatusInReview)
	e.record(t, partner, 3, request.EventQuestionAsked, request.StatusAwaitingPartner) // t0+3m
	closed := e.submit(t, who.partner)
	e.record(t, closed, 1, request.EventWithdrawn, request.StatusWithdrawn)

	for _, step := range []struct {
		at   time.Duration
		want []string
	}{
		{time.Hour, nil},
		{time.Hour + time.Minute + time.Second, []string{triage}},
		{3*time.Hour + 2*time.Minute + time.Second, []string{review, triage}},
		{5*time.Hour + 3*time.Minute, []string{review, triage}},
		{5*time.Hour + 3*time.Minute + time.Second, []string{partner, review, triage}},
		{900 * time.Hour, []string{partner, review, triage}},
	} {
		e.clock.set(t0.Add(step.at))
		if got := overdue(who.moderator); !slices.Equal(got, step.want) {
			t.Errorf("at t0+%s: overdue %v, want %v", step.at, got, step.want)
		}
	}
	// Partners count their organisation's only; the filter combines with the others.
	if got := overdue(who.partner); !slices.Equal(got, []string{partner, triage}) {
		t.Errorf("partner's overdue: %v", got)
	}
	if got := overdue(who.admin, "&status=IN_REVIEW"); !slices.Equal(got, []string{review}) {
		t.Errorf("overdue in review: %v", got)
	}
	if got := overdue(who.admin, "&status=SUBMITTED"); len(got) != 0 {
		t.Errorf("overdue submitted: %v", got)
	}
	// Answered at t0+4m: the partner's request is back in review, and its decision wait
	// starts again from the answer (not from its first review, at t0+2m).
	e.record(t, partner, 4, request.EventQuestionAnswered, request.StatusInReview)
	e.clock.set(t0.Add(3*time.Hour + 3*time.Minute))
	if got := overdue(who.moderator); !slices.Equal(got, []string{review, triage}) {
		t.Errorf("after the answer: %v", got)
	}
	e.clock.set(t0.Add(3*time.Hour + 4*time.Minute + time.Second))
	if got := overdue(who.moderator); !slices.Equal(got, []string{partner, review, triage}) {
		t.Errorf("3h after the answer: %v", got)
	}
	// overdue=false does not filter.
	if got := ids(call(t, e.h, "GET", "/v1/requests?overdue=false", "", who.moderator)); !slices.Equal(got, []string{closed, partner, review, triage, submitted}) {
		t.Errorf("overdue=false: %v", got)
	}
}

func TestReadRequestAndHistory(t *testing.T) {
	e := newEnv(t)
	who := e.cast(t)
	id := e.submit(t, who.partner)
	e.record(t, id, 1, request.EventSubmitted, request.StatusChecking)
	e.record(t, id, 2, request.EventChecked, request.StatusAwaitingTriage)

	for _, path := range []string{"/v1/requests/" + id, "/v1/requests/" + id + "/history", "/v1/requests/" + id + "/preview", "/v1/requests/nope"} {
		wantProblem(t, call(t, e.h, "GET", path, "", who.outsider), 404, "request_not_found")
		wantProblem(t, call(t, e.h, "GET", path, "", who.service), 403, "forbidden_role")
	}
	if res := call(t, e.h, "GET", "/v1/requests/"+id, "", who.moderator); res.status != 200 || res.body["status"] != "AWAITING_TRIAGE" {
		t.Fatalf("moderator read: %d %s", res.status, res.raw)
	}
	h := call(t, e.h, "GET", "/v1/requests/"+id+"/history", "", who.colleague)
	items, _ := h.body["items"].([]any)
	if h.status != 200 || len(items) != 2 {
		t.Fatalf("history: %d %s", h.status, h.raw)
	}
	first := items[0].(map[string]any)
	actor := first["actor"].(map[string]any)
	if first["seq"] != float64(1) || first["type"] != "submitted" || actor["sub"] != "system" || actor["role"] != "service" ||
		first["at"] == nil || first["data"] == nil || items[1].(map[string]any)["type"] != "checks_completed" {
		t.Fatalf("history items %s", h.raw)
	}
}

func TestPreview(t *testing.T) {
	e := newEnv(t)
	who := e.cast(t)
	id := e.submit(t, who.partner)
	e.ref.Validation = refclient.Validation{Version: 60, CodeRome: "M1805", Applies: true, Results: []refclient.Result{},
		Diff:   []refclient.Change{{OperationID: "op-1", Action: "added", Entity: "appellation", Libelle: "Développeur / Développeuse Rust"}},
		Before: json.RawMessage(`{"code":"M1805"}`), Preview: json.RawMessage(`{"code":"M1805","appellations":[]}`)}
	res := call(t, e.h, "GET", "/v1/requests/"+id+"/preview", "", who.partner)
	if res.status != 200 || res.body["version"] != float64(60) || res.body["preview"] == nil || len(res.body["diff"].([]any)) != 1 {
		t.Fatalf("preview: %d %s", res.status, res.raw)
	}
	cs := e.ref.Got[0]
	if cs.CodeRome != "M1805" || cs.RequestID != id || cs.ID != "" || len(cs.Operations) != 3 || cs.Operations[1].ID != "mine" {
		t.Fatalf("dry run of %+v", cs)
	}

	// Once decided: the amendment replaces its operation, the rejected one is left out.
	r := e.requestDoc(t, id)
	rank := 2
	r.Operations[0].Decision = &request.Decision{Decision: request.DecisionRejected, Rationale: "non"}
	r.Operations[1].Decision = &request.Decision{Decision: request.DecisionAmended, Rationale: "autre",
		Amendment: &request.Operation{Op: refclient.OpAddMobilite, ToCodeRome: "D1104", Rank: &rank}}
	r.Operations[2].Decision = &request.Decision{Decision: request.DecisionAccepted}
	r.Status = request.StatusPublishing
	if _, err := e.store.RecordEvent(t.Context(), request.Event{RequestID: id, Seq: 1, Type: request.EventDecided, At: r.UpdatedAt, Request: r}); err != nil {
		t.Fatal(err)
	}
	if res := call(t, e.h, "GET", "/v1/requests/"+id+"/preview", "", who.moderator); res.status != 200 {
		t.Fatalf("preview after decision: %d %s", res.status, res.raw)
	}
	ops := e.ref.Got[1].Operations
	if len(ops) != 2 || ops[0].ID != "mine" || ops[0].Op != refclient.OpAddMobilite || *ops[0].Rank != 2 || ops[1].Op != refclient.OpSetTags {
		t.Fatalf("decided preview operations %+v", ops)
	}

	e.ref.Err = &refclient.Error{Status: 503, Code: "referential_empty"}
	wantProblem(t, call(t, e.h, "GET", "/v1/requests/"+id+"/preview", "", who.partner), 503, "referential_unavailable")
	e.ref.Err = errors.New("dial tcp: connection refused")
	wantProblem(t, call(t, e.h, "GET", "/v1/requests/"+id+"/preview", "", who.partner), 503, "referential_unavailable")
	e.ref.Err = &refclient.Error{Status: 422, Code: "operations_required"}
	wantProblem(t, call(t, e.h, "GET", "/v1/requests/"+id+"/preview", "", who.partner), 502, "referential_refused")

	for i := range r.Operations {
		r.Operations[i].Decision = &request.Decision{Decision: request.DecisionRejected, Rationale: "non"}
	}
	r.Status = request.StatusRejected
	if _, err := e.store.RecordEvent(t.Context(), request.Event{RequestID: id, Seq: 2, Type: request.EventDecided, At: r.UpdatedAt, Request: r}); err != nil {
		t.Fatal(err)
	}
	res = call(t, e.h, "GET", "/v1/requests/"+id+"/preview", "", who.partner)
	wantProblem(t, res, 409, "nothing_to_preview")
	if res.body["currentStatus"] != "REJECTED" {
		t.Errorf("currentStatus %v", res.body["currentStatus"])
	}
}

// The body limits leave room for the largest valid bodies: 100 operations with the
// longest French texts, a message of the longest text even with every character escaped.
func TestBodyLimitsFitTheLargestBodies(t *testing.T) {
	e := newEnv(t)
	who := e.cast(t)
	escaped := func(n int) string { return strings.Repeat(`\u00e9`, n) }
	french := func(n int) string { return strings.Repeat("é", n) }
	ops := make([]string, request.MaxOperations)
	for i := range ops {
		ops[i] = `{"op":"set_text","field":"definition","text":"` + french(request.MaxText) + `"}`
	}
	body := `{"kind":"modify_fiche","codeRome":"M1805","title":"` + escaped(request.MaxTitle) + `","justification":"` + escaped(request.MaxText) +
		`","operations":[` + strings.Join(ops, ",") + `]}`
	if len(body) > maxOperationsBody {
		t.Fatalf("the largest submission takes %d bytes, more than the route's %d", len(body), maxOperationsBody)
	}
	id := e.submit(t, who.partner, body)
	e.wf.Result = request.UpdateResult{Request: e.requestDoc(t, id), ID: "m-1"}
	res := call(t, e.h, "POST", "/v1/requests/"+id+"/messages", `{"text":"`+escaped(request.MaxText)+`"}`, who.partner)
	if res.status != http.StatusCreated {
		t.Fatalf("the longest message: %d %s", res.status, res.raw)
	}
}
