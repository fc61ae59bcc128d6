package ui

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/plateforme-rome/rome/platform/auth"
)

// newAdminUI is the test console in front of the fake directory and notifications.
func newAdminUI(t *testing.T) (*pagesUI, *fakeDirectory, *fakeNotifications) {
	t.Helper()
	dir, notif := newFakeDirectory(), newFakeNotifications()
	return &pagesUI{newTestUI(t, dir, nil, notif)}, dir, notif
}

func TestAdminPage(t *testing.T) {
	ui, dir, notif := newAdminUI(t)
	admin := ui.as(auth.RoleAdmin, "ada", "")

	body := checkPage(t, admin.get("/administration"), 200, "Administration")
	mustContain(t, body, `aria-current="page">Administration`,
		`<caption id="tableau-envois">Envois abandonnés</caption>`, `<th scope="col">Canal</th>`, "E-mail", "Teams", "alice@opco.example", "Résumé quotidien",
		"550 mailbox unavailable", "<td>8</td>", "3 déc. 2026",
		`action="/administration/envois/dl-1/relance"`, `aria-describedby="envoi-dl-1">Relancer l'envoi</button>`,
		`href="/administration?envois=7">Envois abandonnés suivants</a>`,
		// The people and organisations are the directory's, with the way to their pages.
		`<caption id="tableau-personnes">Personnes de l&#39;annuaire</caption>`, `<a href="/administration/personnes/alice">Alice Martin</a>`,
		"<td>OPCO 2i</td>", "équipe ROME", "aucune adresse", "jamais connectée", ">Désactivée</p>", ">Organisation désactivée</p>",
		`href="/administration/personnes/nouvelle"`, `href="/administration/personnes/import"`, `href="/administration/personnes"`,
		`<caption id="tableau-organisations">Organisations de l&#39;annuaire</caption>`, `<a href="/administration/organisations/branche-btp">Branche du BTP</a>`,
		"Branche professionnelle", "H, M1805", `href="/administration/organisations/nouvelle"`)

	// Only admins.
	for _, role := range []auth.Role{auth.RolePartner, auth.RoleModerator} {
		v := ui.as(role, "someone-"+string(role), "opco-2i")
		checkPage(t, v.get("/administration"), 403, "Accès refusé")
		checkPage(t, v.post("/administration/envois/dl-1/relance", nil), 403, "Accès refusé")
	}
	if got := notif.calls("POST /v1/notifications/dead-letters/{id}/retry"); len(got) != 0 {
		t.Errorf("retried by a non-admin: %q", got)
	}
	if got := dir.changed("PATCH /v1/people/alice"); len(got) != 0 {
		t.Errorf("the page changed the directory: %q", got)
	}
}

func TestAdminRetry(t *testing.T) {
	ui, _, notif := newAdminUI(t)
	admin := ui.as(auth.RoleAdmin, "ada", "")
	location(t, admin.post("/administration/envois/dl-1/relance", url.Values{"retour": {"/administration?envois=7"}}), "/administration?envois=7&message=relancee")
	if got := notif.calls("POST /v1/notifications/dead-letters/{id}/retry"); len(got) != 1 || got[0] != "dl-1" {
		t.Errorf("retry calls %q", got)
	}
	mustContain(t, checkPage(t, admin.get("/administration?message=relancee"), 200, "Administration"), "L&#39;envoi a été relancé.")

	notif.retryStatus = http.StatusConflict
	mustContain(t, checkPage(t, admin.post("/administration/envois/dl-1/relance", nil), 409, "La situation a changé"), "déjà été relancé")
}
