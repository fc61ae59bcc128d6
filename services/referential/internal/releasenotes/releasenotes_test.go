package releasenotes

import (
	"strings"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/clients/refclient"
)

func ptr[T any](v T) *T { return &v }

// Every kind of change the engine makes is worded in French, with the request behind it,
// under its fiche; the returned change sets follow with why.
func TestRenderWordsEveryChange(t *testing.T) {
	t.Parallel()
	principale := "PRINCIPALE"
	changes := []refclient.Change{
		{CodeRome: "M1899", Action: "created", Entity: "fiche", CodeOgr: "90000001", Libelle: "Développeur / Développeuse Rust", After: "M1899"},
		{CodeRome: "M1899", Action: "added", Entity: "appellation", CodeOgr: "38823", Libelle: "Développeur Rust", Before: "M1805"},
		{CodeRome: "M1805", Action: "moved", Entity: "appellation", CodeOgr: "38823", Libelle: "Développeur Rust", Before: "M1805", After: "M1899"},
		{CodeRome: "M1805", Action: "added", Entity: "appellation", CodeOgr: "90000002", Libelle: "Développeur Go"},
		{CodeRome: "M1805", Action: "updated", Entity: "appellation", CodeOgr: "12345", Libelle: "Codeur", Field: "libelle", Before: "Programmeur", After: "Codeur"},
		{CodeRome: "M1805", Action: "updated", Entity: "appellation", CodeOgr: "12345", Libelle: "Codeur", Field: "libelleCourt", Before: "Prog.", After: "Codeur"},
		{CodeRome: "M1805", Action: "updated", Entity: "fiche", Field: "libelle", Before: "Développeur", After: "Développeur logiciel"},
		{CodeRome: "M1805", Action: "removed", Entity: "appellation", CodeOgr: "11111", Libelle: "Analyste", After: map[string]string{"replacedBy": "12345"}},
		{CodeRome: "M1805", Action: "removed", Entity: "appellation", CodeOgr: "22222", Libelle: "Pupitreur", After: map[string]any{"reason": "métier disparu"}},
		{CodeRome: "M1805", Action: "added", Entity: "competence", CodeOgr: "100023", Libelle: "Abattre un arbre", After: map[string]string{"coeurMetier": "PRINCIPALE"}},
		{CodeRome: "M1805", Action: "created", Entity: "savoir", CodeOgr: "90000003", Libelle: "Rust"},
		{CodeRome: "M1805", Action: "removed", Entity: "competence", CodeOgr: "100024", Libelle: "Tailler une haie"},
		{CodeRome: "M1805", Action: "added", Entity: "contexte", CodeOgr: "4", Libelle: "Travail de nuit"},
		{CodeRome: "M1805", Action: "removed", Entity: "savoir", CodeOgr: "100007", Libelle: "Techniques de soudage"},
		{CodeRome: "M1805", Action: "updated", Entity: "coeurMetier", CodeOgr: "100025", Libelle: "Programmer", Before: (*string)(nil), After: &principale},
		{CodeRome: "M1805", Action: "added", Entity: "mobilite", Libelle: "Administrateur réseau", After: map[string]any{"codeRome": "M1801", "rang": 1}},
		{CodeRome: "M1805", Action: "removed", Entity: "mobilite", Libelle: "Technicien", Before: map[string]any{"codeRome": "M1810", "rang": float64(3)}},
		{CodeRome: "M1805", Action: "updated", Entity: "texte", Field: "definition", Before: "Avant.", After: "Après."},
		{CodeRome: "M1805", Action: "updated", Entity: "texte", Field: "accesEmploi", Before: "Bac+2.", After: "Bac+3."},
		{CodeRome: "M1805", Action: "updated", Entity: "tags", Field: "emploiCadre", Before: ptr(true), After: ptr(false)},
		{CodeRome: "M1805", Action: "updated", Entity: "tags", Field: "transitionEcologique", Before: "", After: "Emploi vert"},
	}
	notes := Render(Release{
		Number: 2, Version: 63, PublishedAt: time.Date(2026, 12, 4, 11, 30, 0, 0, time.UTC),
		Published: []ChangeSet{
			{Request: Request{ID: "req-1", Title: "Créer la fiche Rust", ChangeSetID: "cs-1"}, Changes: changes[:3]},
			{Request: Request{ID: "req-2", Title: "Mettre à jour M1805", ChangeSetID: "cs-2"}, Changes: changes[3:]},
		},
		Returned: []Returned{{Request: Request{ID: "req-3", Title: "Renommer *Analyste*", ChangeSetID: "cs-3"},
			Reasons: []string{`conflicts with change set cs-2 (request req-2 "Mettre à jour M1805"): appellation 11111 does not exist`}}},
		Fiches: map[string]string{"M1805": "Développeur logiciel", "M1899": "Développeur / Développeuse Rust"},
	})
	want := `# Version 63 — release 2 du ROME

Publiée le 4 décembre 2026.

2 demandes publiées, 2 fiches modifiées ; 1 demande renvoyée aux modérateurs.

## M1805 — Développeur logiciel

- Appellation déplacée vers la fiche M1899 : « Développeur Rust » (code OGR 38823) — demande req-1 « Créer la fiche Rust »
- Appellation ajoutée : « Développeur Go » (code OGR 90000002) — demande req-2 « Mettre à jour M1805 »
- Appellation renommée : « Programmeur » → « Codeur » (code OGR 12345) — demande req-2 « Mettre à jour M1805 »
- Libellé court de l'appellation « Codeur » (code OGR 12345) modifié : « Prog. » → « Codeur » — demande req-2 « Mettre à jour M1805 »
- Fiche renommée : « Développeur » → « Développeur logiciel » — demande req-2 « Mettre à jour M1805 »
- Appellation retirée : « Analyste » (code OGR 11111), remplacée par l'appellation de code OGR 12345 — demande req-2 « Mettre à jour M1805 »
- Appellation retirée : « Pupitreur » (code OGR 22222), motif : métier disparu — demande req-2 « Mettre à jour M1805 »
- Compétence ajoutée : « Abattre un arbre » (code OGR 100023), cœur de métier principal — demande req-2 « Mettre à jour M1805 »
- Savoir créé et ajouté : « Rust » (code OGR 90000003) — demande req-2 « Mettre à jour M1805 »
- Compétence retirée : « Tailler une haie » (code OGR 100024) — demande req-2 « Mettre à jour M1805 »
- Contexte de travail ajouté : « Travail de nuit » (code OGR 4) — demande req-2 « Mettre à jour M1805 »
- Savoir retiré : « Techniques de soudage » (code OGR 100007) — demande req-2 « Mettre à jour M1805 »
- Cœur de métier de « Programmer » (code OGR 100025) : aucun → principal — demande req-2 « Mettre à jour M1805 »
- Mobilité ajoutée vers la fiche M1801 « Administrateur réseau » (rang 1) — demande req-2 « Mettre à jour M1805 »
- Mobilité retirée vers la fiche M1810 « Technicien » — demande req-2 « Mettre à jour M1805 »
- Définition modifiée — demande req-2 « Mettre à jour M1805 »
- Accès à l'emploi modifié — demande req-2 « Mettre à jour M1805 »
- Indicateur « Emploi cadre » modifié : oui → non — demande req-2 « Mettre à jour M1805 »
- Indicateur « Transition écologique » modifié : non renseigné → Emploi vert — demande req-2 « Mettre à jour M1805 »

## M1899 — Développeur / Développeuse Rust

- Fiche créée : « Développeur / Développeuse Rust » (code OGR 90000001) — demande req-1 « Créer la fiche Rust »
- Appellation reçue de la fiche M1805 : « Développeur Rust » (code OGR 38823) — demande req-1 « Créer la fiche Rust »

## Demandes renvoyées aux modérateurs

- demande req-3 « Renommer \*Analyste\* » : conflicts with change set cs-2 (request req-2 "Mettre à jour M1805"): appellation 11111 does not exist
`
	if notes != want {
		t.Errorf("notes:\n%s\nwant:\n%s", notes, want)
	}
}

// A release in which nothing applied says so, and why each change set went back.
func TestRenderNothingPublished(t *testing.T) {
	t.Parallel()
	notes := Render(Release{Number: 3, PublishedAt: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC),
		Returned: []Returned{{Request: Request{ChangeSetID: "cs-9"}, Reasons: []string{"does not apply to version 63, even alone: fiche M1805 has no mobilité to \"M1402\""}}}})
	for _, want := range []string{
		"# Release 3 du ROME : aucune version publiée\n",
		"Publiée le 1er mars 2027.",
		"Aucune modification n'a été publiée",
		"- lot de modifications cs-9 : does not apply to version 63, even alone",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("the notes lack %q:\n%s", want, notes)
		}
	}
	if strings.Contains(notes, "## M") {
		t.Errorf("a release that published nothing lists fiches:\n%s", notes)
	}
}

// What partners and moderators wrote cannot turn into markup, nor break a line in two.
func TestRenderEscapesMarkdown(t *testing.T) {
	t.Parallel()
	notes := Render(Release{Number: 1, Version: 61, PublishedAt: time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC),
		Published: []ChangeSet{{Request: Request{ID: "req-1", Title: "Voir [ici](http://x.example) <script>\n# titre"},
			Changes: []refclient.Change{{CodeRome: "M1805", Action: "added", Entity: "appellation", CodeOgr: "1", Libelle: "C_langage*"}}}},
		Fiches: map[string]string{"M1805": "Développeur | testeur"}})
	for _, want := range []string{
		"## M1805 — Développeur \\| testeur\n",
		"« C\\_langage\\* »",
		"« Voir \\[ici\\](http://x.example) \\<script\\> \\# titre »",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("the notes lack %q:\n%s", want, notes)
		}
	}
}
