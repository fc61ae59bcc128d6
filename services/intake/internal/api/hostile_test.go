package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/platform/httpx/hostiletest"
	"github.com/plateforme-rome/rome/workflows/request"
)

// Every field of every write route, given hostile values one at a time, on both
// databases: no 5xx, and no text the platform must refuse is accepted.
func TestHostileInputs(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnvOn(t, d, withConsole)
			who := e.cast(t)
			id := e.submit(t, who.partner)
			e.wf.Result = request.UpdateResult{Request: e.requestDoc(t, id), ID: "q-1"}
			base := "/v1/requests/" + id
			idea := call(t, e.h, "POST", "/v1/ideas", `{"text":"Une idée","codeRome":"M1805","email":"a@example.org"}`, "").body["id"].(string)
			call(t, e.h, "POST", "/v1/organisations", `{"id":"opco-num","name":"OPCO numérique","kind":"opco","domains":["M"]}`, who.admin)
			acc := call(t, e.h, "POST", "/v1/access-requests", application, "").body["id"].(string)
			call(t, e.h, "POST", "/internal/v1/access-requests/"+acc+"/notices", `{"notice":"verify","key":"hv"}`, who.service)
			call(t, e.h, "POST", "/internal/v1/access-requests/"+acc+"/notices", `{"notice":"question","key":"hq"}`, who.service)
			verifyToken, answerToken := e.linkToken(t, "hv", "verifier"), e.linkToken(t, "hq", "repondre")
			record, _ := json.Marshal(e.accessRecord(t, acc))
			routes := []struct {
				method, path, token, valid string
			}{
				{"POST", "/v1/requests", who.partner, modifyBody},
				{"POST", "/v1/requests", who.partner, `{"kind":"create_fiche_from_new_appellation","title":"Nouvelle fiche","justification":"Offres",
					"operations":[{"op":"create_fiche","domaineProfessionnel":"M18","definition":"Conçoit.","accesEmploi":"Bac+3",
					"appellationPrincipale":{"libelle":"Ingénieur / Ingénieure Rust"}},{"op":"add_mobilite","toCodeRome":"M1805","rank":1}]}`},
				{"PATCH", base + "/operations", who.partner, `{"operations":[{"id":"op-1","op":"update_appellation","codeOgr":"10944","libelle":"Dév"}]}`},
				{"POST", base + "/messages", who.partner, `{"text":"Bonjour"}`},
				{"POST", base + "/assign", who.moderator, `{"moderator":"bob"}`},
				{"POST", base + "/questions", who.moderator, `{"text":"Sources ?"}`},
				{"POST", base + "/questions/q-1/answer", who.partner, `{"text":"Offres 2026"}`},
				{"POST", base + "/decision", who.moderator, `{"decisions":[{"operationId":"op-1","decision":"accepted","rationale":"ok"},
					{"operationId":"op-3","decision":"amended","rationale":"plus juste","amendment":{"op":"add_mobilite","toCodeRome":"M1403","rank":2}}]}`},
				{"POST", base + "/withdraw", who.partner, `{"reason":"plus utile"}`},
				{"POST", "/internal/v1/overlaps", who.service, `{"requestId":"x","codeRome":"M1805","elements":["appellation:10944"]}`},
				{"POST", "/dev/token", "", `{"sub":"alice","name":"Alice","role":"partner","org":"opco-2i"}`},
				// The directory and the ideas (issue #12); POST /v1/ideas takes no token.
				{"POST", "/v1/organisations", who.admin, `{"id":"opco-x","name":"OPCO X","kind":"opco","domains":["M","M1805"]}`},
				{"PATCH", "/v1/organisations/opco-num", who.admin, `{"name":"OPCO du numérique","domains":["M"],"active":true}`},
				{"POST", "/v1/people", who.admin, `{"sub":"zoe","name":"Zoé","email":"zoe@example.org","role":"partner","org":"opco-num"}`},
				{"PATCH", "/v1/people/alice", who.admin, `{"name":"Alice M.","email":"alice@example.org","active":true}`},
				{"POST", "/v1/ideas", "", `{"text":"Une appellation manque.","codeRome":"M1805","codeOgr":"10944","email":"b@example.org"}`},
				{"POST", "/v1/ideas/" + idea + "/reply", who.moderator, `{"text":"Merci"}`},
				{"POST", "/v1/ideas/" + idea + "/handover", who.moderator, `{"org":"opco-num"}`},
				{"POST", "/v1/ideas/" + idea + "/dismiss", who.moderator, `{"reason":"Hors champ"}`},
				{"POST", "/v1/ideas/" + idea + "/request", who.partner, `{"requestId":"` + id + `"}`},
				// Access requests: the public form and the applicant's links take no token.
				{"POST", "/v1/access-requests", "", application},
				{"POST", "/v1/access-requests/" + acc + "/verify", "", `{"token":"` + verifyToken + `"}`},
				{"POST", "/v1/access-requests/" + acc + "/ask", who.admin, `{"question":"Quel périmètre ?"}`},
				{"POST", "/v1/access-requests/" + acc + "/answer", "", `{"token":"` + answerToken + `","text":"Le soin."}`},
				{"POST", "/v1/access-requests/" + acc + "/approve", who.admin, `{"org":"opco-num","role":"partner"}`},
				{"POST", "/v1/access-requests/" + acc + "/reject", who.admin, `{"reason":"Hors champ"}`},
				{"PUT", "/internal/v1/access-requests/" + acc, who.service, string(record)},
				{"POST", "/internal/v1/access-requests/" + acc + "/notices", who.service, `{"notice":"approved","key":"k1"}`},
				{"POST", "/internal/v1/access-requests/" + acc + "/person", who.service, `{"entraId":"0f1e2d3c-aaaa-bbbb-cccc-000000000009"}`},
				{"POST", "/internal/v1/group-members", who.service, `{"role":"moderator","full":false,"members":[{"entraId":"oid-h","name":"H","email":"h@example.org"}],"removed":["oid-x"]}`},
				{"POST", "/internal/v1/assignments", who.service, `{"requestId":"` + id + `","domain":"M1805"}`},
			}
			sent := 0
			for _, r := range routes {
				t.Run(r.method+" "+strings.NewReplacer(id, "{id}", idea, "{id}", acc, "{id}").Replace(r.path), func(t *testing.T) {
					sent += hostiletest.Run(t, r.valid, hostiletest.Handler(e.h, r.method, r.path, r.token))
				})
			}
			t.Logf("%d hostile bodies sent", sent)

			// Graph's webhook acknowledges (202) whatever it does not act upon, so that Graph
			// does not redeliver it: a hostile notification must be acknowledged and ignored.
			channel := "19:c@thread.tacv2"
			if _, err := e.store.RecordEvent(t.Context(), request.Event{RequestID: id, Seq: 1, Type: request.EventTeamsChannelCreated,
				At: time.Now(), Actor: request.SystemActor, Data: json.RawMessage(`{}`),
				Request: withChannel(e.requestDoc(t, id), channel)}); err != nil {
				t.Fatal(err)
			}
			valid := `{"value":[{"subscriptionId":"s","clientState":"` + testClientState + `","changeType":"created",
				"resource":"teams('t')/channels('` + channel + `')/messages('m1')"}]}`
			variants, err := hostiletest.Variants(valid)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range variants {
				before := len(e.wf.Signals)
				res := call(t, e.h, "POST", "/webhooks/graph", string(v.Body), "")
				switch {
				case res.status >= 500:
					t.Errorf("webhook, %s: %d", v.Name, res.status)
				case v.MustRefuse && len(e.wf.Signals) > before:
					t.Errorf("webhook, %s: acted upon (%+v)", v.Name, e.wf.Signals[before:])
				}
			}
			if call(t, e.h, "POST", "/webhooks/graph", valid, "").status != 202 || len(e.wf.Signals) == 0 {
				t.Error("the valid notification was not handed to the workflow")
			}
		})
	}
}

func withChannel(r request.Request, channelID string) request.Request {
	r.Teams = &request.TeamsChannel{ChannelID: channelID, Name: "r"}
	return r
}
