package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/workflows/request"
)

// mint is a token for p as any identity provider would sign it: nothing records p in the
// directory (unlike env.token and /dev/token).
func (e *env) mint(t *testing.T, p auth.Principal) string {
	t.Helper()
	tok, _, err := e.dev.Mint(p)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestDirectory: an admin adds organisations and people, who are then known to every token
// check whether or not they ever signed in; the directory, not the token, gives their role
// and organisation; deactivating a person or their organisation refuses their tokens.
func TestDirectory(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnvOn(t, d)
			admin := e.token(t, "ada", auth.RoleAdmin, "")

			res := call(t, e.h, "POST", "/v1/organisations", `{"id":"opco-mobilites","name":"OPCO Mobilités","kind":"opco","domains":["N","N4101","H"]}`, admin)
			if res.status != http.StatusCreated || res.body["active"] != true || len(res.body["domains"].([]any)) != 3 || res.body["domains"].([]any)[0] != "H" {
				t.Fatalf("create organisation: %d %s", res.status, res.raw)
			}
			if res := call(t, e.h, "POST", "/v1/organisations", `{"id":"opco-mobilites","name":"OPCO Mobilités","kind":"opco","domains":["H","N","N4101"]}`, admin); res.status != http.StatusOK {
				t.Fatalf("same organisation again: %d %s", res.status, res.raw)
			}
			wantProblem(t, call(t, e.h, "POST", "/v1/organisations", `{"id":"opco-mobilites","name":"Autre","kind":"opco"}`, admin), 409, "organisation_exists", "id")
			wantProblem(t, call(t, e.h, "POST", "/v1/organisations", `{"id":"Bad Id","name":"","kind":"club","domains":["Z9999"]}`, admin),
				422, "invalid_organisation", "id", "name", "kind", "domains[0]")

			// A moderator and a partner the platform knows before they ever sign in.
			res = call(t, e.h, "POST", "/v1/people", `{"sub":"mona","name":"Mona Lefèvre","email":"mona@francetravail.fr","role":"moderator"}`, admin)
			if res.status != http.StatusCreated || res.body["source"] != "admin" || res.body["lastSeenAt"] != nil || res.header.Get("Location") != "/v1/people/mona" {
				t.Fatalf("create moderator: %d %s", res.status, res.raw)
			}
			res = call(t, e.h, "POST", "/v1/people", `{"sub":"paul","name":"Paul Durand","email":"paul@opco-mobilites.fr","role":"partner","org":"opco-mobilites","entraId":"6f1c2a9e-0b7d-4c1e-9d55-2f3a4b5c6d7e"}`, admin)
			if res.status != http.StatusCreated || res.body["org"] != "opco-mobilites" || res.body["orgActive"] != true {
				t.Fatalf("create partner: %d %s", res.status, res.raw)
			}
			if res := call(t, e.h, "POST", "/v1/people", `{"sub":"mona","name":"Mona Lefèvre","email":"mona@francetravail.fr","role":"moderator"}`, admin); res.status != http.StatusOK {
				t.Fatalf("same person again: %d %s", res.status, res.raw)
			}
			wantProblem(t, call(t, e.h, "POST", "/v1/people", `{"sub":"mona","name":"Mona","role":"admin"}`, admin), 409, "person_exists", "sub")
			wantProblem(t, call(t, e.h, "POST", "/v1/people", `{"sub":"x","name":"X","role":"moderator","entraId":"6f1c2a9e-0b7d-4c1e-9d55-2f3a4b5c6d7e"}`, admin), 409, "entra_id_taken", "entraId")
			wantProblem(t, call(t, e.h, "POST", "/v1/people", `{"sub":"a/b","name":"","email":"nope","role":"service"}`, admin),
				422, "invalid_person", "sub", "name", "email", "role")
			wantProblem(t, call(t, e.h, "POST", "/v1/people", `{"sub":"p2","name":"P","role":"partner"}`, admin), 422, "invalid_person", "org")
			wantProblem(t, call(t, e.h, "POST", "/v1/people", `{"sub":"p3","name":"P","role":"partner","org":"nowhere"}`, admin), 422, "invalid_person", "org")
			wantProblem(t, call(t, e.h, "POST", "/v1/people", `{"sub":"p4","name":"P","role":"moderator","org":"opco-mobilites"}`, e.token(t, "bob", auth.RoleModerator, "")), 403, "forbidden_role")

			// Their tokens say only who they are: the directory says the rest.
			paul := e.mint(t, auth.Principal{Subject: "paul", Role: auth.RolePartner, Org: "opco-mobilites"})
			res = call(t, e.h, "GET", "/v1/me", "", paul)
			if res.status != 200 || res.body["org"] != "opco-mobilites" || res.body["name"] != "Paul Durand" || res.body["email"] != "paul@opco-mobilites.fr" || res.body["oid"] != "6f1c2a9e-0b7d-4c1e-9d55-2f3a4b5c6d7e" {
				t.Fatalf("partner known before signing in: %d %s", res.status, res.raw)
			}
			wantProblem(t, call(t, e.h, "GET", "/v1/me", "", e.mint(t, auth.Principal{Subject: "paul", Role: auth.RoleAdmin})), 403, "claims_mismatch")
			wantProblem(t, call(t, e.h, "GET", "/v1/me", "", e.mint(t, auth.Principal{Subject: "paul", Role: auth.RolePartner, Org: "opco-2i"})), 403, "claims_mismatch")
			wantProblem(t, call(t, e.h, "GET", "/v1/me", "", e.mint(t, auth.Principal{Subject: "stranger", Role: auth.RoleAdmin})), 403, "unknown_person")
			if res := call(t, e.h, "GET", "/v1/people/paul", "", admin); res.body["lastSeenAt"] == nil {
				t.Fatalf("last seen not recorded: %s", res.raw)
			}

			// Listing: the ROME team and the services; a partner reads only their own entry.
			mona := e.mint(t, auth.Principal{Subject: "mona", Role: auth.RoleModerator})
			res = call(t, e.h, "GET", "/v1/people?role=moderator&active=true&limit=1", "", mona)
			items, _ := res.body["items"].([]any)
			if res.status != 200 || len(items) != 1 || items[0].(map[string]any)["sub"] != "bob" || res.body["nextCursor"] == nil {
				t.Fatalf("moderators, page 1: %d %s", res.status, res.raw)
			}
			res = call(t, e.h, "GET", "/v1/people?role=moderator&active=true&limit=1&cursor="+res.body["nextCursor"].(string), "", mona)
			if items, _ := res.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["sub"] != "mona" || res.body["nextCursor"] != nil {
				t.Fatalf("moderators, page 2: %d %s", res.status, res.raw)
			}
			wantProblem(t, call(t, e.h, "GET", "/v1/people?limit=0&active=maybe", "", mona), 422, "invalid_query", "limit", "active")
			wantProblem(t, call(t, e.h, "GET", "/v1/people?cursor=!!!", "", mona), 422, "invalid_query", "cursor")
			wantProblem(t, call(t, e.h, "GET", "/v1/people", "", paul), 403, "forbidden_role")
			if res := call(t, e.h, "GET", "/v1/people/paul", "", paul); res.status != 200 {
				t.Fatalf("own entry: %d %s", res.status, res.raw)
			}
			wantProblem(t, call(t, e.h, "GET", "/v1/people/mona", "", paul), 403, "forbidden_role")
			wantProblem(t, call(t, e.h, "GET", "/v1/people/nobody", "", admin), 404, "person_not_found")
			if res := call(t, e.h, "GET", "/v1/organisations", "", paul); res.status != 200 || len(res.body["items"].([]any)) != 1 {
				t.Fatalf("organisations: %d %s", res.status, res.raw)
			}

			// Deactivation refuses their tokens, even from the dev issuer, until undone.
			if res := call(t, e.h, "PATCH", "/v1/people/paul", `{"active":false}`, admin); res.status != 200 || res.body["active"] != false {
				t.Fatalf("deactivate: %d %s", res.status, res.raw)
			}
			wantProblem(t, call(t, e.h, "GET", "/v1/me", "", paul), 403, "person_deactivated")
			wantProblem(t, call(t, e.h, "POST", "/dev/token", `{"sub":"paul","role":"partner","org":"opco-mobilites"}`, ""), 403, "person_deactivated")
			call(t, e.h, "PATCH", "/v1/people/paul", `{"active":true}`, admin)
			if res := call(t, e.h, "GET", "/v1/me", "", paul); res.status != 200 {
				t.Fatalf("reactivated: %d %s", res.status, res.raw)
			}
			if res := call(t, e.h, "PATCH", "/v1/organisations/opco-mobilites", `{"active":false}`, admin); res.status != 200 || res.body["active"] != false {
				t.Fatalf("deactivate organisation: %d %s", res.status, res.raw)
			}
			wantProblem(t, call(t, e.h, "GET", "/v1/me", "", paul), 403, "person_deactivated")
			if res := call(t, e.h, "GET", "/v1/people/paul", "", admin); res.body["active"] != true || res.body["orgActive"] != false {
				t.Fatalf("person of a deactivated organisation: %s", res.raw)
			}
			wantProblem(t, call(t, e.h, "PATCH", "/v1/organisations/nowhere", `{"active":false}`, admin), 404, "organisation_not_found")
			wantProblem(t, call(t, e.h, "PATCH", "/v1/people/paul", `{"role":"partner","org":""}`, admin), 422, "invalid_person", "org")
			wantProblem(t, call(t, e.h, "PATCH", "/v1/people/ada", `{"active":false}`, admin), 409, "own_admin_access")
			wantProblem(t, call(t, e.h, "PATCH", "/v1/people/ada", `{"role":"moderator"}`, admin), 409, "own_admin_access")
		})
	}
}

// TestDevTokenRecordsPeople: the dev issuer records whom it mints for (and their
// organisation), as the token describes them; services are not recorded.
func TestDevTokenRecordsPeople(t *testing.T) {
	e := newEnv(t)
	devToken(t, e.h, `{"sub":"alice","name":"Alice Martin","role":"partner","org":"opco-2i","email":"alice@opco2i.fr"}`)
	devToken(t, e.h, `{"sub":"service:worker","role":"service"}`)
	admin := e.token(t, "ada", auth.RoleAdmin, "")
	res := call(t, e.h, "GET", "/v1/people/alice", "", admin)
	if res.status != 200 || res.body["source"] != "dev_token" || res.body["org"] != "opco-2i" || res.body["email"] != "alice@opco2i.fr" {
		t.Fatalf("alice: %d %s", res.status, res.raw)
	}
	res = call(t, e.h, "GET", "/v1/organisations", "", admin)
	if items, _ := res.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != "opco-2i" {
		t.Fatalf("organisations: %s", res.raw)
	}
	wantProblem(t, call(t, e.h, "GET", "/v1/people/service:worker", "", admin), 404, "person_not_found")
	// In dev mode the token says who one is: minting again for another role changes it.
	devToken(t, e.h, `{"sub":"alice","role":"moderator"}`)
	if res := call(t, e.h, "GET", "/v1/people/alice", "", admin); res.body["role"] != "moderator" || res.body["org"] != nil {
		t.Fatalf("alice as a moderator: %s", res.raw)
	}
	wantProblem(t, call(t, e.h, "POST", "/dev/token", `{"sub":"a/b","role":"admin"}`, ""), 422, "invalid_principal", "sub")
}

// TestImportPeople: an admin imports people from a CSV file, after a dry run; a file with
// one bad line imports nothing and says what is wrong with each line; the same file again
// changes nothing.
func TestImportPeople(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnvOn(t, d)
			admin := e.token(t, "ada", auth.RoleAdmin, "")
			call(t, e.h, "POST", "/v1/organisations", `{"id":"opco-a","name":"OPCO A","kind":"opco"}`, admin)
			importCSV := func(query, file string) result {
				return call(t, e.h, "POST", "/v1/people:import"+query, file, admin, "Content-Type", "text/csv; charset=utf-8")
			}
			file := "\uFEFFsub;name;role;email;org\nlea;Léa Martin;partner;lea@opco-a.fr;opco-a\nmarc;Marc Petit;moderator;marc@francetravail.fr;\nada;ada (test);admin;;\n"

			res := importCSV("?dryRun=true", file)
			if res.status != 200 || res.body["created"] != 2.0 || res.body["unchanged"] != 1.0 || res.body["dryRun"] != true {
				t.Fatalf("dry run: %d %s", res.status, res.raw)
			}
			wantProblem(t, call(t, e.h, "GET", "/v1/people/lea", "", admin), 404, "person_not_found")

			bad := file + "lea;Léa;partner;;opco-a\nzoe;Zoé;partner;zoe@;nowhere\n"
			res = importCSV("", bad)
			wantProblem(t, res, 422, "invalid_import")
			lines, _ := res.body["lines"].([]any)
			if len(lines) != 5 || lines[3].(map[string]any)["outcome"] != "refused" || lines[4].(map[string]any)["outcome"] != "refused" ||
				lines[0].(map[string]any)["outcome"] != "created" {
				t.Fatalf("refused file: %s", res.raw)
			}
			wantProblem(t, call(t, e.h, "GET", "/v1/people/lea", "", admin), 404, "person_not_found")

			if res := importCSV("", file); res.status != 200 || res.body["created"] != 2.0 || res.body["dryRun"] != false {
				t.Fatalf("import: %d %s", res.status, res.raw)
			}
			if res := call(t, e.h, "GET", "/v1/people/lea", "", admin); res.status != 200 || res.body["source"] != "import" || res.body["org"] != "opco-a" {
				t.Fatalf("lea: %d %s", res.status, res.raw)
			}
			if res := importCSV("", file); res.status != 200 || res.body["created"] != 0.0 || res.body["unchanged"] != 3.0 {
				t.Fatalf("the same file again: %d %s", res.status, res.raw)
			}
			wantProblem(t, importCSV("", "sub,name\nx,X\n"), 422, "invalid_import")
			wantProblem(t, importCSV("", "sub,name,role,phone\n"), 422, "invalid_import")
			wantProblem(t, importCSV("?dryRun=yes", file), 422, "invalid_query", "dryRun")
			wantProblem(t, call(t, e.h, "POST", "/v1/people:import", `{"sub":"x"}`, admin), 415, "unsupported_media_type")
			wantProblem(t, call(t, e.h, "POST", "/v1/people:import", file, e.token(t, "bob", auth.RoleModerator, ""), "Content-Type", "text/csv"), 403, "forbidden_role")
		})
	}
}

// TestModerationCapacity: moderators have domains and absences with a delegate; the
// workload shows each moderator's open and overdue requests and those waiting to be taken.
func TestModerationCapacity(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnvOn(t, d)
			c := e.cast(t) // bob, the moderator
			res := call(t, e.h, "POST", "/v1/people", `{"sub":"mona","name":"Mona","role":"moderator","domains":["M","K2111"]}`, c.admin)
			if res.status != 201 || len(res.body["domains"].([]any)) != 2 {
				t.Fatalf("moderator with domains: %d %s", res.status, res.raw)
			}
			res = call(t, e.h, "PATCH", "/v1/people/bob", `{"absentUntil":"2026-12-24","delegate":"mona"}`, c.admin)
			if res.status != 200 || res.body["absentUntil"] != "2026-12-25T00:00:00Z" || res.body["delegate"] != "mona" {
				t.Fatalf("absence: %d %s", res.status, res.raw)
			}
			wantProblem(t, call(t, e.h, "PATCH", "/v1/people/bob", `{"absentUntil":"soon","delegate":"alice"}`, c.admin), 422, "invalid_person", "absentUntil", "delegate")
			wantProblem(t, call(t, e.h, "PATCH", "/v1/people/bob", `{"delegate":"bob"}`, c.admin), 422, "invalid_person", "delegate")
			wantProblem(t, call(t, e.h, "PATCH", "/v1/people/mona", `{"domains":["Z"]}`, c.admin), 422, "invalid_person", "domains[0]")

			e.clock.set(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
			waiting := e.submit(t, c.partner)
			e.record(t, waiting, 1, request.EventChecked, request.StatusAwaitingTriage)
			mine := e.submit(t, c.partner)
			r := e.record(t, mine, 1, request.EventChecked, request.StatusAwaitingTriage)
			r.Status, r.Assignee, r.UpdatedAt = request.StatusInReview, "bob", r.UpdatedAt.Add(time.Minute)
			if _, err := e.store.RecordEvent(t.Context(), request.Event{RequestID: mine, Seq: 2, Type: request.EventAssigned, At: r.UpdatedAt,
				Actor: request.SystemActor, Data: json.RawMessage(`{"moderator":"bob"}`), Request: r}); err != nil {
				t.Fatal(err)
			}
			e.clock.set(time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)) // past the test timers' reminders (1 h to take, 3 h to decide)

			res = call(t, e.h, "GET", "/v1/moderators/workload", "", c.moderator)
			var w struct {
				Unassigned, UnassignedOverdue int
				Moderators                    []struct {
					Sub, Delegate string
					Open, Overdue int
				}
			}
			if err := json.Unmarshal([]byte(res.raw), &w); err != nil || res.status != 200 || w.Unassigned != 1 || w.UnassignedOverdue != 1 || len(w.Moderators) != 2 {
				t.Fatalf("workload: %d %s", res.status, res.raw)
			}
			if bob, mona := w.Moderators[0], w.Moderators[1]; bob.Sub != "bob" || bob.Open != 1 || bob.Overdue != 1 || bob.Delegate != "mona" || mona.Open != 0 {
				t.Fatalf("moderators: %+v", w.Moderators)
			}
			wantProblem(t, call(t, e.h, "GET", "/v1/moderators/workload", "", c.partner), 403, "forbidden_role")
		})
	}
}

// TestAssignInTurn: the round-robin rule gives each checked request to the active, present
// moderator covering its fiche who was assigned in turn least recently; the same request
// again gets the same moderator; nobody covering it leaves it to triage.
func TestAssignInTurn(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnvOn(t, d)
			c := e.cast(t)
			for _, p := range []string{
				`{"sub":"m-a","name":"A","role":"moderator","domains":["M"]}`,
				`{"sub":"m-b","name":"B","role":"moderator","domains":["M1805"]}`,
				`{"sub":"m-c","name":"C","role":"moderator","domains":["F"]}`,
				`{"sub":"m-d","name":"D","role":"moderator","domains":["M"]}`,
				`{"sub":"m-e","name":"E","role":"moderator","domains":["M"]}`,
			} {
				call(t, e.h, "POST", "/v1/people", p, c.admin)
			}
			call(t, e.h, "PATCH", "/v1/people/m-d", `{"absentUntil":"2099-01-01","delegate":"m-a"}`, c.admin)
			call(t, e.h, "PATCH", "/v1/people/m-e", `{"active":false}`, c.admin)
			at := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
			pick := func(id, domain string) string {
				t.Helper()
				at = at.Add(time.Minute)
				e.clock.set(at)
				res := call(t, e.h, "POST", "/internal/v1/assignments", `{"requestId":"`+id+`","domain":"`+domain+`"}`, c.service)
				if res.status != 200 {
					t.Fatalf("assign %s: %d %s", id, res.status, res.raw)
				}
				return res.body["moderator"].(string)
			}
			got := []string{pick("0001", "M1805"), pick("0002", "M1805"), pick("0003", "M1805"), pick("0001", "M1805"),
				pick("0004", "F1201"), pick("0005", "N4101"), pick("0006", "M18"), pick("0007", "M14")}
			want := []string{"m-a", "m-b", "m-a", "m-a", "m-c", "", "m-b", "m-a"}
			if !slices.Equal(got, want) {
				t.Fatalf("assigned %q, want %q", got, want)
			}
			wantProblem(t, call(t, e.h, "POST", "/internal/v1/assignments", `{"requestId":"x y","domain":"Z"}`, c.service), 422, "invalid_assignment", "requestId", "domain")

			// Under the rule, the intake starts requests to be assigned in turn.
			inTurn := newEnvOn(t, d, func(deps *Deps) { deps.AssignInTurn = true })
			inTurn.submit(t, inTurn.cast(t).partner)
			if starts := inTurn.wf.Starts; len(starts) != 1 || !starts[0].AutoAssign || len(e.wf.Starts) != 0 {
				t.Fatalf("started %+v", starts)
			}
			if res := call(t, e.h, "POST", "/internal/v1/assignments", `{"requestId":"0009","domain":"M1805"}`, c.admin); res.status != 403 {
				t.Fatalf("an admin calls the internal route: %d", res.status)
			}
		})
	}
}
