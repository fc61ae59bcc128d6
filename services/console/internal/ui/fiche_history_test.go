package ui

import (
	"testing"

	"github.com/plateforme-rome/rome/platform/auth"
)

func TestFicheHistoryPage(t *testing.T) {
	ui := newPagesUI(t, &fakeReferential{}, emptyNotifications())
	v := ui.as(auth.RoleModerator, "mona", "")
	body := checkPage(t, v.get("/referentiel/fiches/M1805/historique"), 200, "Historique de la fiche M1805")
	mustContain(t, body, "<h1>Historique de la fiche M1805</h1>", "Version 61", "1 déc. 2026", `href="/demandes/req-1"`,
		"<strong>Ajout</strong> · appellation : Développeur / Développeuse no-code", "cœur de métier",
		"cœur de métier : Rédiger un cahier des charges", "Principale → Émergente", "<strong>Modification</strong> · texte — définition", "Conçoit, développe et maintient.",
		"fiche M1802, rang 1", `href="/referentiel/fiches/M1805/comparaison?de=60&amp;a=61"`, `href="/referentiel/fiches/M1805?version=61"`)
}

func TestChangeValueText(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{nil, "(vide)"}, {"", "(vide)"}, {"EMERGENTE", "Émergente"}, {true, "Oui"}, {false, "Non"}, {float64(3), "3"},
		{map[string]any{"codeRome": "M1802", "rang": float64(2)}, "fiche M1802, rang 2"},
		{map[string]any{"libelle": "X", "libelleCourt": "Y"}, "libellé : X, libellé court : Y"},
	} {
		if got := changeValueText(c.in); got != c.want {
			t.Errorf("changeValueText(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
