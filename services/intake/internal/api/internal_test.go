package api

import (
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/workflows/request"
)

// The internal API's happy paths are exercised through the client (client package); here,
// who may call it and what it refuses.
func TestInternalAPI(t *testing.T) {
	e := newEnv(t)
	who := e.cast(t)
	id := e.submit(t, who.partner)
	ev := `{"requestId":"` + id + `","seq":1,"type":"submitted","at":"2026-11-27T09:00:00Z","actor":{"sub":"system","role":"service"},
		"data":{},"request":{"id":"` + id + `","status":"CHECKING","kind":"modify_fiche","codeRome":"M1805","org":"opco-2i","futureField":1}}`
	for _, tok := range []string{who.partner, who.moderator, who.admin} {
		wantProblem(t, call(t, e.h, "POST", "/internal/v1/events", ev, tok), 403, "forbidden_role")
		wantProblem(t, call(t, e.h, "POST", "/internal/v1/overlaps", `{}`, tok), 403, "forbidden_role")
	}
	wantProblem(t, call(t, e.h, "POST", "/internal/v1/events", ev, ""), 401, "unauthenticated")

	// The submitted request touches appellation 10944 of M1805.
	res := call(t, e.h, "POST", "/internal/v1/overlaps", `{"requestId":"x","codeRome":"M1805","elements":["appellation:10944"]}`, who.service)
	items, _ := res.body["items"].([]any)
	if res.status != 200 || len(items) != 1 || items[0].(map[string]any)["requestId"] != id {
		t.Fatalf("overlaps: %d %s", res.status, res.raw)
	}
	res = call(t, e.h, "POST", "/internal/v1/overlaps", `{"requestId":"x","codeRome":"M1805","elements":["tags:none"]}`, who.service)
	if res.status != 200 || res.raw != `{"items":[]}` {
		t.Fatalf("no overlap: %d %s", res.status, res.raw)
	}

	// Unknown fields are ignored: a worker built on a newer contract still records.
	if res := call(t, e.h, "POST", "/internal/v1/events", ev, who.service); res.status != 204 {
		t.Fatalf("record: %d %s", res.status, res.raw)
	}
	if r := e.requestDoc(t, id); r.Status != request.StatusChecking {
		t.Fatalf("projection %s", r.Status)
	}
	if res := call(t, e.h, "POST", "/internal/v1/events", ev, who.service); res.status != 204 {
		t.Fatalf("record again: %d %s", res.status, res.raw)
	}
	// The recorded state has no operation left: the request overlaps nothing any more.
	res = call(t, e.h, "POST", "/internal/v1/overlaps", `{"requestId":"x","codeRome":"M1805","elements":["appellation:10944"]}`, who.service)
	if res.status != 200 || res.raw != `{"items":[]}` {
		t.Fatalf("overlaps after the event: %d %s", res.status, res.raw)
	}

	wantProblem(t, call(t, e.h, "POST", "/internal/v1/events", `{"seq":0,"request":{"id":"other"}}`, who.service), 422, "invalid_event",
		"requestId", "seq", "type", "at", "request.id", "request.status")
	wantProblem(t, call(t, e.h, "POST", "/internal/v1/events", `{"seq":"one"}`, who.service), 422, "invalid_body", "seq")
	wantProblem(t, call(t, e.h, "POST", "/internal/v1/events", `{"seq":`, who.service), 400, "malformed_json")
	wantProblem(t, call(t, e.h, "POST", "/internal/v1/events", `{"data":"`+strings.Repeat("x", maxEventBody)+`"}`, who.service), 413, "body_too_large")
	many := `{"codeRome":"M1805","elements":["` + strings.Repeat(`e","`, 1000) + `e"]}` // one more than a query may list
	wantProblem(t, call(t, e.h, "POST", "/internal/v1/overlaps", many, who.service), 422, "invalid_query", "elements")
}
