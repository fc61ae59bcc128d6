package ui

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
)

func TestAdminPage(t *testing.T) {
	notif := newFakeNotifications()
	ui := newPagesUI(t, nil, notif)
	admin := ui.as(auth.RoleAdmin, "ada", "")

	body := checkPage(t, admin.get("/administration"), 200, "Administration")
	mustContain(t, body, `aria-current="page">Administration`,
		`<caption id="tableau-envois">Envois abandonnés</caption>`, `<th scope="col">Canal</th>`, "E-mail", "Teams", "alice@opco.example", "Résumé quotidien",
		"550 mailbox unavailable", "<td>8</td>", "3 déc. 2026",
		`action="/administration/envois/dl-1/relance"`, `aria-describedby="envoi-dl-1">Relancer l'envoi</button>`,
		`href="/administration?envois=7">Envois abandonnés suivants</a>`,
		`<caption id="tableau-personnes">Personnes connues</caption>`, "Alice Martin", "partenaire", "équipe ROME", "aucune adresse",
		`<caption id="tableau-organisations">Organisations des personnes connues</caption>`, "<td>opco-2i</td><td>2</td>", "<td>branche-btp</td><td>1</td>",
		"relevées sur 4 personnes", "Source : le service des notifications")

	// Only admins.
	for _, role := range []auth.Role{auth.RolePartner, auth.RoleModerator} {
		v := ui.as(role, "someone-"+string(role), "opco-2i")
		checkPage(t, v.get("/administration"), 403, "Accès refusé")
		checkPage(t, v.post("/administration/envois/dl-1/relance", nil), 403, "Accès refusé")
	}
	if got := notif.calls("POST /v1/notifications/dead-letters/{id}/retry"); len(got) != 0 {
		t.Errorf("retried by a non-admin: %q", got)
	}
}

func TestAdminPageWithoutUsersListing(t *testing.T) {
	notif := newFakeNotifications()
	notif.noUsers = true
	ui := newPagesUI(t, nil, notif)
	body := checkPage(t, ui.as(auth.RoleAdmin, "ada", "").get("/administration"), 200, "Administration")
	mustContain(t, body, "ne fournit pas encore la liste des personnes", "dl-1")
}

func TestAdminRetry(t *testing.T) {
	notif := newFakeNotifications()
	ui := newPagesUI(t, nil, notif)
	admin := ui.as(auth.RoleAdmin, "ada", "")
	location(t, admin.post("/administration/envois/dl-1/relance", url.Values{"retour": {"/administration?envois=7"}}), "/administration?envois=7&message=relancee")
	if got := notif.calls("POST /v1/notifications/dead-letters/{id}/retry"); len(got) != 1 || got[0] != "dl-1" {
		t.Errorf("retry calls %q", got)
	}
	mustContain(t, checkPage(t, admin.get("/administration?message=relancee"), 200, "Administration"), "L&#39;envoi a été relancé.")

	notif.retryStatus = http.StatusConflict
	mustContain(t, checkPage(t, admin.post("/administration/envois/dl-1/relance", nil), 409, "La situation a changé"), "déjà été relancé")
}

func TestOrganisations(t *testing.T) {
	at := func(d int) time.Time { return time.Date(2026, 12, d, 0, 0, 0, 0, time.UTC) }
	got := organisations([]notifclient.User{
		{Sub: "a", Org: "b-org", LastSeenAt: at(1)}, {Sub: "b", Org: "a-org", LastSeenAt: at(2)},
		{Sub: "c", Org: "b-org", LastSeenAt: at(3)}, {Sub: "d", Org: ""}, {Sub: "e", Org: " a-org ", LastSeenAt: at(1)},
		{Sub: "f", Org: "c-org"},
	})
	want := []orgLine{{"a-org", 2, at(2)}, {"b-org", 2, at(3)}, {"c-org", 1, time.Time{}}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
