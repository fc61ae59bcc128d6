package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
)

// fakeNotifier records notifications, once per key as the notifications service does; down
// makes it unreachable.
type fakeNotifier struct {
	mu   sync.Mutex
	sent map[string]notifclient.Notification
	down bool
}

func (f *fakeNotifier) Notify(_ context.Context, n notifclient.Notification) (notifclient.Created, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return notifclient.Created{}, errors.New("connection refused")
	}
	if f.sent == nil {
		f.sent = map[string]notifclient.Notification{}
	}
	f.sent[n.Key] = n
	return notifclient.Created{Key: n.Key, Event: n.Event}, nil
}

func (f *fakeNotifier) get(key string) (notifclient.Notification, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.sent[key]
	return n, ok
}

// TestIdeas: anyone sends an idea without an account; moderators see it, answer its author
// by e-mail, or hand it to an organisation whose domains cover its fiche, whose partners
// are told and see it (without the author's address), and record the request they filed
// from it; robots and bad input are turned away.
func TestIdeas(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnvOn(t, d)
			c := e.cast(t)
			admin := c.admin
			call(t, e.h, "POST", "/v1/organisations", `{"id":"opco-num","name":"OPCO numérique","kind":"opco","domains":["M"]}`, admin)
			call(t, e.h, "POST", "/v1/organisations", `{"id":"opco-btp","name":"OPCO BTP","kind":"opco","domains":["F"]}`, admin)
			partner := e.token(t, "nina", auth.RolePartner, "opco-num")
			outsider := e.token(t, "bruno", auth.RolePartner, "opco-btp")

			res := call(t, e.h, "POST", "/v1/ideas", `{"text":"Le métier de développeur Rust mérite une appellation.","codeRome":"M1805","email":"Curieux@Example.org"}`, "")
			id, _ := res.body["id"].(string)
			if res.status != http.StatusAccepted || !strings.HasPrefix(id, "idea_") {
				t.Fatalf("submit: %d %s", res.status, res.raw)
			}
			bare := call(t, e.h, "POST", "/v1/ideas", `{"text":"Une idée sans fiche ni adresse."}`, "").body["id"].(string)
			robot := call(t, e.h, "POST", "/v1/ideas", `{"text":"Buy now","website":"https://spam.example"}`, "")
			if robot.status != http.StatusAccepted {
				t.Fatalf("robot: %d %s", robot.status, robot.raw)
			}
			wantProblem(t, call(t, e.h, "POST", "/v1/ideas", `{"text":"","codeRome":"X1","codeOgr":"abc","email":"nope"}`, ""), 422, "invalid_idea", "text", "codeRome", "codeOgr", "email")
			wantProblem(t, call(t, e.h, "POST", "/v1/ideas", `{"text":"x","extra":1}`, ""), 422, "invalid_body", "extra")

			res = call(t, e.h, "GET", "/v1/ideas?status=new", "", c.moderator)
			items, _ := res.body["items"].([]any)
			if res.status != 200 || len(items) != 2 || items[1].(map[string]any)["email"] != "curieux@example.org" {
				t.Fatalf("moderator's list (the robot's idea not kept): %d %s", res.status, res.raw)
			}
			if res := call(t, e.h, "GET", "/v1/ideas?limit=1", "", c.moderator); res.body["nextCursor"] == nil {
				t.Fatalf("no next page: %s", res.raw)
			} else if res := call(t, e.h, "GET", "/v1/ideas?limit=1&cursor="+res.body["nextCursor"].(string), "", c.moderator); len(res.body["items"].([]any)) != 1 || res.body["items"].([]any)[0].(map[string]any)["id"] != id {
				t.Fatalf("second page: %s", res.raw)
			}
			wantProblem(t, call(t, e.h, "GET", "/v1/ideas?status=lost&cursor=zz", "", c.moderator), 422, "invalid_query", "status", "cursor")
			wantProblem(t, call(t, e.h, "GET", "/v1/ideas/"+id, "", partner), 404, "idea_not_found")
			if res := call(t, e.h, "GET", "/v1/ideas", "", partner); len(res.body["items"].([]any)) != 0 {
				t.Fatalf("a partner sees ideas not handed to them: %s", res.raw)
			}

			// Answered by e-mail, once; an idea without an address cannot be.
			res = call(t, e.h, "POST", "/v1/ideas/"+id+"/reply", `{"text":"Merci, nous l'étudions."}`, c.moderator)
			if res.status != 200 || res.body["status"] != "replied" || res.body["handledBy"] != "bob" {
				t.Fatalf("reply: %d %s", res.status, res.raw)
			}
			if n, ok := e.notes.get("idea-reply-" + id); !ok || len(n.To.Emails) != 1 || n.To.Emails[0] != "curieux@example.org" || n.Event != notifclient.EventIdeaReply {
				t.Fatalf("reply e-mail: %+v", n)
			}
			wantProblem(t, call(t, e.h, "POST", "/v1/ideas/"+id+"/reply", `{"text":"Encore"}`, c.moderator), 409, "invalid_transition")
			wantProblem(t, call(t, e.h, "POST", "/v1/ideas/"+bare+"/reply", `{"text":"Merci"}`, c.moderator), 409, "idea_without_email")
			wantProblem(t, call(t, e.h, "POST", "/v1/ideas/"+id+"/reply", `{"text":"Merci"}`, partner), 403, "forbidden_role")

			// Handed to an organisation whose domains cover M1805, not to another.
			wantProblem(t, call(t, e.h, "POST", "/v1/ideas/"+id+"/handover", `{"org":"opco-btp"}`, c.moderator), 422, "invalid_handover", "org")
			wantProblem(t, call(t, e.h, "POST", "/v1/ideas/"+id+"/handover", `{"org":"nowhere"}`, c.moderator), 422, "invalid_handover", "org")
			e.notes.down = true
			wantProblem(t, call(t, e.h, "POST", "/v1/ideas/"+id+"/handover", `{"org":"opco-num"}`, c.moderator), 503, "notifications_unavailable")
			e.notes.down = false
			res = call(t, e.h, "POST", "/v1/ideas/"+id+"/handover", `{"org":"opco-num"}`, c.moderator)
			if res.status != 200 || res.body["status"] != "handed_over" || res.body["org"] != "opco-num" {
				t.Fatalf("handover: %d %s", res.status, res.raw)
			}
			if n, ok := e.notes.get("idea-handover-" + id); !ok || len(n.To.Orgs) != 1 || n.To.Orgs[0] != "opco-num" || n.Link != "https://rome.example/v1/ideas/"+id {
				t.Fatalf("handover notification: %+v", n)
			}
			res = call(t, e.h, "GET", "/v1/ideas", "", partner)
			if items := res.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["email"] != nil {
				t.Fatalf("the partner's list: %s", res.raw)
			}
			wantProblem(t, call(t, e.h, "GET", "/v1/ideas/"+id, "", outsider), 404, "idea_not_found")

			// The partner files a request from it and records it; another organisation cannot.
			rid := e.submit(t, partner)
			wantProblem(t, call(t, e.h, "POST", "/v1/ideas/"+id+"/request", `{"requestId":"`+rid+`"}`, outsider), 404, "request_not_found")
			res = call(t, e.h, "POST", "/v1/ideas/"+id+"/request", `{"requestId":"`+rid+`"}`, partner)
			if res.status != 200 || res.body["requestId"] != rid {
				t.Fatalf("link: %d %s", res.status, res.raw)
			}
			if res := call(t, e.h, "POST", "/v1/ideas/"+id+"/request", `{"requestId":"`+rid+`"}`, partner); res.status != 200 {
				t.Fatalf("link again: %d %s", res.status, res.raw)
			}
			other := e.submit(t, partner)
			wantProblem(t, call(t, e.h, "POST", "/v1/ideas/"+id+"/request", `{"requestId":"`+other+`"}`, partner), 409, "idea_already_filed")

			if res := call(t, e.h, "POST", "/v1/ideas/"+bare+"/dismiss", `{"reason":"Hors du champ du ROME."}`, c.moderator); res.status != 200 || res.body["status"] != "dismissed" {
				t.Fatalf("dismiss: %d %s", res.status, res.raw)
			}
			wantProblem(t, call(t, e.h, "POST", "/v1/ideas/"+bare+"/handover", `{"org":"opco-num"}`, c.moderator), 409, "invalid_transition")
		})
	}
}

// TestIdeasPerAddress: one address may send a few ideas an hour, then is told to wait.
func TestIdeasPerAddress(t *testing.T) {
	e := newEnv(t)
	for range ideasPerAddress {
		if res := call(t, e.h, "POST", "/v1/ideas", `{"text":"Une idée","email":"a@example.org"}`, ""); res.status != http.StatusAccepted {
			t.Fatalf("idea: %d %s", res.status, res.raw)
		}
	}
	wantProblem(t, call(t, e.h, "POST", "/v1/ideas", `{"text":"Une de trop","email":"A@example.org"}`, ""), 429, "rate_limited")
	if res := call(t, e.h, "POST", "/v1/ideas", `{"text":"Une autre adresse","email":"b@example.org"}`, ""); res.status != http.StatusAccepted {
		t.Fatalf("another address: %d %s", res.status, res.raw)
	}
}
