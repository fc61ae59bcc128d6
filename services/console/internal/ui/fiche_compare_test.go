package ui

import (
	"testing"

	"github.com/plateforme-rome/rome/platform/auth"
)

func TestFicheComparePage(t *testing.T) {
	ui := newPagesUI(t, &fakeReferential{}, emptyNotifications())
	v := ui.as(auth.RolePartner, "alice", "opco-2i")

	for _, path := range []string{"/referentiel/fiches/M1805/comparaison", "/referentiel/fiches/M1805/comparaison?de=60&a=61"} {
		body := checkPage(t, v.get(path), 200, "Comparer deux versions de la fiche M1805")
		mustContain(t, body, `<label class="fr-label" for="comparer-de">Version de départ</label>`, `<label class="fr-label" for="comparer-a">Version d&#39;arrivée</label>`,
			"De la version 60 à la version 61", `<caption id="tableau-resume">Résumé des différences par partie de la fiche</caption>`,
			`<a href="#diff-appellations">Appellations</a>`, "Développeur / Développeuse no-code", "Maquetter une interface",
			"cœur de métier", "<del>Principale</del>", "<ins>Émergente</ins>", "Ajout : ", "Retrait : ")
	}
	// Backwards: what 61 added, 60 does not have.
	body := checkPage(t, v.get("/referentiel/fiches/M1805/comparaison?de=61&a=60"), 200, "Comparer deux versions de la fiche M1805")
	mustContain(t, body, "De la version 61 à la version 60")

	// The same version twice, or one that does not exist: said next to the field.
	body = checkPage(t, v.get("/referentiel/fiches/M1805/comparaison?de=61&a=61"), 422, "Comparer deux versions de la fiche M1805")
	mustContain(t, body, `id="comparer-a-error"`, "différente de la version de départ", `aria-invalid="true"`)
	body = checkPage(t, v.get("/referentiel/fiches/M1805/comparaison?de=7&a=61"), 422, "Comparer deux versions de la fiche M1805")
	mustContain(t, body, `id="comparer-de-error"`, "La version 7 n&#39;existe pas")
	checkPage(t, v.get("/referentiel/fiches/M1805/comparaison?de=x"), 400, "Demande incorrecte")
}
