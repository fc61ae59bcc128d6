package ui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
)

// fakeNotifications answers the notifications service's routes the console calls and
// records the calls that change something ("METHOD /path" → bodies).
type fakeNotifications struct {
	mu       sync.Mutex
	recorded map[string][]string
	follows  []map[string]any
	// prefsRefusal, when set, is the 422 the preferences' PUT answers.
	prefsRefusal map[string]string
	// retryStatus is the answer to a retry (0: 200).
	retryStatus int
	// followers counts the people who follow each fiche (absent: nobody).
	followers map[string]int
	mux       *http.ServeMux
}

func newFakeNotifications() *fakeNotifications {
	f := &fakeNotifications{recorded: map[string][]string{}}
	m := http.NewServeMux()
	m.HandleFunc("GET /v1/notifications", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") == "bad" {
			problem(w, 422, "invalid_query", "The query is invalid.", map[string]string{"field": "cursor", "message": "is not a cursor of this list"})
			return
		}
		items := []map[string]any{
			{"id": "n-2", "event": "question", "requestId": "req-1", "codeRome": "M1805", "title": "Une question sur votre demande",
				"text": "L'équipe ROME vous pose une question.", "link": "/demandes/req-1", "actor": map[string]string{"sub": "mona", "name": "Mona"},
				"createdAt": "2026-12-03T09:30:00Z", "read": false, "readAt": nil},
			{"id": "n-1", "event": "published", "codeRome": "M1805", "title": "La fiche M1805 a évolué",
				"link": "https://elsewhere.example/x", "actor": map[string]string{"sub": "platform"},
				"createdAt": "2026-12-02T08:00:00Z", "read": true, "readAt": "2026-12-02T09:00:00Z"},
		}
		next := "41"
		if r.URL.Query().Get("cursor") == "41" {
			items, next = []map[string]any{}, ""
		}
		writeJSON(w, 200, map[string]any{"items": items, "nextCursor": next, "unreadCount": 1})
	})
	m.HandleFunc("POST /v1/notifications/{id}/read", func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		if r.PathValue("id") != "n-2" {
			problem(w, 404, "notification_not_found", "No such notification in your inbox.")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("GET /v1/notifications/preferences", func(w http.ResponseWriter, r *http.Request) {
		events := map[string]any{}
		for _, e := range notifclient.Events {
			events[string(e)] = map[string]any{"inApp": true, "email": e == notifclient.EventQuestion, "teams": false, "frequency": "immediate"}
		}
		events["published"] = map[string]any{"inApp": true, "email": true, "teams": true, "frequency": "daily"}
		writeJSON(w, 200, map[string]any{"email": "", "events": events})
	})
	m.HandleFunc("PUT /v1/notifications/preferences", func(w http.ResponseWriter, r *http.Request) {
		body := f.record(r)
		if f.prefsRefusal != nil {
			problem(w, 422, "invalid_preferences", "The preferences are invalid.", f.prefsRefusal)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	})
	m.HandleFunc("GET /v1/follows", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		items := append([]map[string]any{}, f.follows...)
		writeJSON(w, 200, map[string]any{"items": items})
	})
	m.HandleFunc("POST /v1/follows", func(w http.ResponseWriter, r *http.Request) {
		body := f.record(r)
		var fl map[string]any
		_ = json.Unmarshal([]byte(body), &fl)
		fl["createdAt"] = "2026-12-04T10:00:00Z"
		f.mu.Lock()
		f.follows = append(f.follows, fl)
		f.mu.Unlock()
		writeJSON(w, 201, fl)
	})
	m.HandleFunc("DELETE /v1/follows", func(w http.ResponseWriter, r *http.Request) {
		body := f.record(r)
		if strings.Contains(body, "M9999") {
			problem(w, 404, "follow_not_found", "You do not follow this.")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	m.HandleFunc("GET /v1/follows/counts", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		// Recorded with the token it came with: the signed-in person's.
		f.recorded["GET /v1/follows/counts"] = append(f.recorded["GET /v1/follows/counts"], r.Header.Get("Authorization")+" "+r.URL.RawQuery)
		items := []map[string]any{}
		for _, code := range r.URL.Query()["codeRome"] {
			items = append(items, map[string]any{"codeRome": code, "followers": f.followers[code]})
		}
		writeJSON(w, 200, map[string]any{"items": items})
	})
	m.HandleFunc("GET /v1/notifications/dead-letters", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"items": []map[string]any{
			{"id": "dl-1", "channel": "email", "messageId": "<m1@rome>", "notificationId": "n-9", "sub": "alice", "to": "alice@opco.example",
				"kind": "notification", "attempts": 8, "lastError": "550 mailbox unavailable", "deadAt": "2026-12-03T12:00:00Z", "createdAt": "2026-12-03T10:00:00Z"},
			{"id": "dl-2", "channel": "teams", "sub": "mona", "to": "00000000-0000-0000-0000-000000000001",
				"kind": "digest", "attempts": 1, "lastError": "403 Forbidden", "deadAt": "2026-12-03T13:00:00Z", "createdAt": "2026-12-03T13:00:00Z"},
		}, "nextCursor": "7"})
	})
	m.HandleFunc("POST /v1/notifications/dead-letters/{id}/retry", func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		if f.retryStatus == http.StatusConflict {
			problem(w, 409, "not_dead_lettered", "Only a dead letter can be retried.")
			return
		}
		writeJSON(w, 200, map[string]any{"id": r.PathValue("id"), "status": "pending", "nextAttemptAt": "2026-12-04T10:00:00Z"})
	})
	f.mux = m
	return f
}

func (f *fakeNotifications) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer token-") {
		problem(w, 401, "unauthenticated", "no token")
		return
	}
	f.mux.ServeHTTP(w, r)
}

// record keeps a changing call's body, keyed by its method and route.
func (f *fakeNotifications) record(r *http.Request) string {
	body := readAll(r)
	key := r.Method + " " + r.URL.Path
	switch {
	case strings.HasSuffix(r.URL.Path, "/read"):
		key = "POST /v1/notifications/{id}/read"
		body = r.PathValue("id")
	case strings.HasSuffix(r.URL.Path, "/retry"):
		key = "POST /v1/notifications/dead-letters/{id}/retry"
		body = r.PathValue("id")
	}
	f.mu.Lock()
	f.recorded[key] = append(f.recorded[key], body)
	f.mu.Unlock()
	return body
}

func (f *fakeNotifications) calls(key string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.recorded[key]...)
}

func TestNotificationsPage(t *testing.T) {
	notif := newFakeNotifications()
	notif.follows = []map[string]any{{"codeRome": "M1805", "createdAt": "2026-12-01T10:00:00Z"}, {"requestId": "req-1"}}
	ui := newPagesUI(t, &fakeReferential{}, notif)
	v := ui.as(auth.RolePartner, "alice", "opco-2i")

	body := checkPage(t, v.get("/notifications"), 200, "Notifications")
	mustContain(t, body, `aria-current="page">Notifications`, "1 notification non lue",
		// The inbox: unread first, its link, the action.
		`<a href="/demandes/req-1">Une question sur votre demande</a>`, "Non lue", "Question de l&#39;équipe ROME", "3 déc. 2026", "par Mona",
		`action="/notifications/n-2/lue"`, `aria-describedby="notif-n-2-titre">Marquer comme lue</button>`, `name="retour" value="/notifications"`,
		// A link to another site is not followed: the fiche instead.
		`<a href="/referentiel/fiches/M1805">La fiche M1805 a évolué</a>`,
		`href="/notifications?curseur=41">Notifications plus anciennes</a>`,
		// Follows.
		`<a href="/referentiel/fiches/M1805" id="suivi-0">Fiche M1805</a>`, `<a href="/demandes/req-1" id="suivi-1">Demande req-1</a>`,
		`name="codeRome" value="M1805"`, `name="requestId" value="req-1"`, ">Ne plus suivre</button>",
		// Preferences: every event in French, e-mail / Teams / frequency.
		`action="/notifications/preferences"`, `<label class="fr-label" for="pref-email">Adresse e-mail des notifications`,
		"<legend", "Publication dans le référentiel", "Demande soumise", "Relance d&#39;une demande en attente",
		`id="pref-question-email" name="question-email" value="1" checked`, `<label class="fr-label" for="pref-question-email">E-mail</label>`,
		`id="pref-published-teams" name="published-teams" value="1" checked`, `<label class="fr-label" for="pref-published-teams">Teams</label>`,
		`<option value="daily" selected>Résumé quotidien</option>`, `<label class="fr-label" for="pref-published-frequence">Fréquence</label>`,
		">Enregistrer les préférences</button>")
	mustNotContain(t, body, "elsewhere.example", `action="/notifications/n-1/lue"`)
	if n := strings.Count(body, "<fieldset"); n != len(notifclient.Events) {
		t.Errorf("%d fieldsets, want one per event (%d)", n, len(notifclient.Events))
	}

	// The older page.
	body = checkPage(t, v.get("/notifications?curseur=41"), 200, "Notifications plus anciennes – Notifications")
	mustContain(t, body, "Il n'y a pas de notification plus ancienne", `href="/notifications">Notifications les plus récentes</a>`)
	checkPage(t, v.get("/notifications?curseur=bad"), 400, "Demande incorrecte")
}

func TestNotificationRead(t *testing.T) {
	notif := newFakeNotifications()
	ui := newPagesUI(t, nil, notif)
	v := ui.as(auth.RoleModerator, "mona", "")
	location(t, v.post("/notifications/n-2/lue", url.Values{"retour": {"/notifications?curseur=41"}}), "/notifications?curseur=41&message=lue")
	location(t, v.post("/notifications/n-2/lue", url.Values{"retour": {"https://evil.example/"}}), "/notifications?message=lue")
	if got := notif.calls("POST /v1/notifications/{id}/read"); len(got) != 2 || got[0] != "n-2" {
		t.Errorf("read calls %q", got)
	}
	checkPage(t, v.post("/notifications/n-404/lue", nil), 404, "Page introuvable")
	body := checkPage(t, v.get("/notifications?message=lue"), 200, "Notifications")
	mustContain(t, body, "La notification est marquée comme lue.")
}

func TestNotificationPreferences(t *testing.T) {
	notif := newFakeNotifications()
	ui := newPagesUI(t, nil, notif)
	v := ui.as(auth.RolePartner, "alice", "opco-2i")

	form := url.Values{"email": {" alice@opco.example "}}
	for _, e := range notifclient.Events {
		form.Set(string(e)+"-frequence", "immediate")
	}
	form.Set("decision-email", "1")
	form.Set("decision-teams", "1")
	form.Set("decision-frequence", "daily")
	location(t, v.post("/notifications/preferences", form), "/notifications?message=preferences")
	got := notif.calls("PUT /v1/notifications/preferences")
	if len(got) != 1 {
		t.Fatalf("PUT calls %q", got)
	}
	var sent notifclient.Preferences
	if err := json.Unmarshal([]byte(got[0]), &sent); err != nil {
		t.Fatal(err)
	}
	if sent.Email != "alice@opco.example" || len(sent.Events) != len(notifclient.Events) {
		t.Errorf("sent %+v", sent)
	}
	if c := sent.Events[notifclient.EventDecision]; c != (notifclient.Channels{InApp: true, Email: true, Teams: true, Frequency: notifclient.Daily}) {
		t.Errorf("decision: %+v", c)
	}
	if c := sent.Events[notifclient.EventSubmitted]; c != (notifclient.Channels{InApp: true, Frequency: notifclient.Immediate}) {
		t.Errorf("submitted: %+v", c)
	}

	// The service refuses the address: said next to the field, what was typed kept.
	notif.prefsRefusal = map[string]string{"field": "email", "message": "must be an e-mail address such as name@example.org"}
	form.Set("email", "pas-une-adresse")
	body := checkPage(t, v.post("/notifications/preferences", form), 422, "Notifications")
	mustContain(t, body, `id="pref-email-error"`, "Saisissez une adresse e-mail valide", `value="pas-une-adresse"`, `aria-invalid="true"`,
		"Vos préférences n'ont pas été enregistrées", `id="pref-decision-teams" name="decision-teams" value="1" checked`,
		`<option value="daily" selected>Résumé quotidien</option>`)

	// A frequency the form does not offer: refused by the console, the service not called.
	before := len(notif.calls("PUT /v1/notifications/preferences"))
	form.Set("email", "")
	form.Set("answer-frequence", "hourly")
	body = checkPage(t, v.post("/notifications/preferences", form), 422, "Notifications")
	mustContain(t, body, `id="pref-answer-frequence-error"`, `aria-describedby="pref-answer-frequence-error"`)
	if after := len(notif.calls("PUT /v1/notifications/preferences")); after != before {
		t.Error("the service was called with an invalid form")
	}
}

func TestUnfollow(t *testing.T) {
	notif := newFakeNotifications()
	ui := newPagesUI(t, nil, notif)
	v := ui.as(auth.RolePartner, "alice", "opco-2i")
	location(t, v.post("/notifications/suivis/retrait", url.Values{"codeRome": {"M1805"}, "retour": {"/referentiel/fiches/M1805"}}),
		"/referentiel/fiches/M1805?message=plus-suivie")
	location(t, v.post("/notifications/suivis/retrait", url.Values{"requestId": {"req-1"}}), "/notifications?message=plus-suivie")
	// Not followed (any more): the same outcome.
	location(t, v.post("/notifications/suivis/retrait", url.Values{"codeRome": {"M9999"}}), "/notifications?message=plus-suivie")
	if got := notif.calls("DELETE /v1/follows"); len(got) != 3 || got[0] != `{"codeRome":"M1805"}` || got[1] != `{"requestId":"req-1"}` {
		t.Errorf("unfollow calls %q", got)
	}
	checkPage(t, v.post("/notifications/suivis/retrait", nil), 400, "Demande incorrecte")
}
