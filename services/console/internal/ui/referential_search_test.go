package ui

import (
	"testing"

	"github.com/plateforme-rome/rome/platform/auth"
)

func TestReferentialSearchPage(t *testing.T) {
	ref := &fakeReferential{}
	ui := newPagesUI(t, ref, emptyNotifications())
	v := ui.as(auth.RolePartner, "alice", "opco-2i")

	body := checkPage(t, v.get("/referentiel"), 200, "Rechercher dans le ROME")
	mustContain(t, body, `<label class="fr-label" for="recherche-q">Rechercher dans le ROME`, `name="type"`, "version 61",
		`hx-get="/referentiel"`, `aria-current="page">Référentiel`)
	mustNotContain(t, body, "resultats-fiches")

	body = checkPage(t, v.get("/referentiel?q=d%C3%A9veloppeur&type=tout"), 200, "Résultats pour « développeur » – Rechercher dans le ROME")
	mustContain(t, body, `href="/referentiel/fiches/M1805"`, "Fiches métiers (1)", "Appellations (1)", "Compétences (1)", "Savoirs (1)",
		"Rédiger un cahier des charges", `href="/referentiel/fiches/M1806"`, "4 résultats pour « développeur »", `value="développeur"`)
	if got := ref.tokens[len(ref.tokens)-1]; got != "Bearer token-alice" {
		t.Errorf("the referential got %q, want the person's token", got)
	}

	// A code ROME finds its fiche, in any case.
	body = checkPage(t, v.get("/referentiel?q=m1805&type=fiches"), 200, "Résultats pour « m1805 » – Rechercher dans le ROME")
	mustContain(t, body, `href="/referentiel/fiches/M1805"`, "Fiches métiers (1)")
	mustNotContain(t, body, "Appellations (")

	// htmx asks for the results only, with the status line out of band.
	w := v.get("/referentiel?q=HTML&type=savoirs", "HX-Request", "true", "HX-Target", "resultats")
	if w.Code != 200 {
		t.Fatalf("fragment: status %d", w.Code)
	}
	frag := w.Body.String()
	mustContain(t, frag, "Savoirs (1)", `hx-swap-oob="true"`, "1 résultat pour « HTML »", "<title>Résultats pour « HTML » – Rechercher dans le ROME – Plateforme du ROME</title>")
	mustNotContain(t, frag, "<html", "<h1")
}

func TestReferentialSearchServiceDown(t *testing.T) {
	ui := newPagesUI(t, nil, nil)
	v := ui.as(auth.RoleModerator, "mona", "")
	body := checkPage(t, v.get("/referentiel?q=x"), 503, "Service indisponible")
	mustContain(t, body, "ne répond pas")
}
