package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/workflows/request"
)

// Text hygiene at the intake: hostile texts are refused with 422 naming the field, on
// both databases (a NUL used to make PostgreSQL answer 500), and nothing is stored or
// started; acceptable texts are stored cleaned.
func TestSubmitRefusesHostileText(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnvOn(t, d)
			who := e.cast(t)
			hostile := `{"kind":"modify_fiche","codeRome":"M1805","title":"Dév\u0000eloppeur","justification":"Offres\u0007 2026",
				"operations":[{"op":"add_appellation","libelle":"Développeur\u0000 Rust"},
				{"op":"add_appellation","libelle":"Rust\u202Eexe"},
				{"op":"set_text","field":"definition","text":"` + "Ligne \xff" + `"}]}`
			res := call(t, e.h, "POST", "/v1/requests", hostile, who.partner)
			wantProblem(t, res, http.StatusUnprocessableEntity, "invalid_body",
				"title", "justification", "operations[0].libelle", "operations[1].libelle", "operations[2].text")
			if e.wf.StartCount() != 0 {
				t.Fatal("a hostile submission started a workflow")
			}
			list := call(t, e.h, "GET", "/v1/requests", "", who.partner)
			if items, _ := list.body["items"].([]any); list.status != http.StatusOK || len(items) != 0 {
				t.Fatalf("a hostile submission was stored: %d %s", list.status, list.raw)
			}

			// Trimmed, CR+LF folded, NFC: that is what is stored and started.
			clean := `{"kind":"modify_fiche","codeRome":"M1805","title":"  De\u0301veloppeur Rust\u00a0","justification":"Offres\r\n2026 ",
				"operations":[{"op":"add_appellation","libelle":" De\u0301veloppeur Rust "}]}`
			id := e.submit(t, who.partner, clean)
			got := e.requestDoc(t, id)
			if got.Title != "Développeur Rust" || got.Justification != "Offres\n2026" || got.Operations[0].Libelle != "Développeur Rust" {
				t.Fatalf("stored %q %q %q", got.Title, got.Justification, got.Operations[0].Libelle)
			}
			if in := e.wf.Starts[0].Request; in.Title != got.Title || in.Operations[0].Libelle != got.Operations[0].Libelle {
				t.Fatalf("started with %q %q", in.Title, in.Operations[0].Libelle)
			}
		})
	}
}

func TestChangesRefuseHostileText(t *testing.T) {
	e := newEnvOn(t, database.SQLite)
	who := e.cast(t)
	id := e.submit(t, who.partner)
	base := "/v1/requests/" + id
	cases := []struct {
		name, method, path, token, body, field string
	}{
		{"amendment", "PATCH", base + "/operations", who.partner, `{"operations":[{"op":"add_appellation","libelle":"Rust\u0000"}]}`, "operations[0].libelle"},
		{"message", "POST", base + "/messages", who.partner, `{"text":"Bonjour\u0007"}`, "text"},
		{"question", "POST", base + "/questions", who.moderator, `{"text":"Pourquoi \u2066?"}`, "text"},
		{"answer", "POST", base + "/questions/q-1/answer", who.partner, `{"text":"Parce que\u0000"}`, "text"},
		{"rationale", "POST", base + "/decision", who.moderator, `{"decisions":[{"operationId":"op-1","decision":"rejected","rationale":"Non\u202E"}]}`, "decisions[0].rationale"},
		{"decision amendment", "POST", base + "/decision", who.moderator,
			`{"decisions":[{"operationId":"op-1","decision":"amended","amendment":{"op":"add_appellation","libelle":"Dev\tRust"}}]}`, "decisions[0].amendment.libelle"},
		{"withdrawal", "POST", base + "/withdraw", who.partner, `{"reason":"` + "Fin \xfe" + `"}`, "reason"},
		{"long message", "POST", base + "/messages", who.partner, `{"text":"` + strings.Repeat("x", request.MaxText+1) + `"}`, "text"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, call(t, e.h, tc.method, tc.path, tc.body, tc.token), http.StatusUnprocessableEntity, "invalid_body", tc.field)
		})
	}
	if n := len(e.wf.Updates); n != 0 {
		t.Fatalf("hostile changes reached the workflow (%d updates)", n)
	}

	// What the workflow receives is cleaned.
	e.wf.Result = request.UpdateResult{Request: e.requestDoc(t, id), ID: "m-1"}
	res := call(t, e.h, "POST", base+"/messages", `{"text":" Ligne 1\r\nLigne\u0301 2 "}`, who.partner)
	if res.status != http.StatusCreated {
		t.Fatalf("message: %d %s", res.status, res.raw)
	}
	arg, _ := json.Marshal(e.wf.Updates[0].Arg)
	var in request.MessageInput
	if err := json.Unmarshal(arg, &in); err != nil || in.Text != "Ligne 1\nLigné 2" {
		t.Fatalf("update argument %s", arg)
	}
}
