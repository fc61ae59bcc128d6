package request

import (
	"slices"
	"testing"

	"github.com/plateforme-rome/rome/clients/refclient"
)

func TestElementsOf(t *testing.T) {
	ops := []Operation{
		{Op: "add_appellation", Libelle: "Développeur / Développeuse Rust"},
		{Op: "remove_appellation", CodeOgr: "10944", Reason: "obsolete"},
		{Op: "remove_appellation", CodeOgr: "10945", ReplacedBy: "10946"},
		{Op: "add_competence", CodeOgr: "100023"},
		{Op: "set_coeur_metier", CodeOgr: "100023"},
		{Op: "add_savoir", New: &refclient.NewItem{Libelle: "Langage Rust", Categorie: "Domaines d'expertise"}},
		{Op: "add_mobilite", ToCodeRome: "M1402"},
		{Op: "remove_mobilite", ToCodeRome: "M1402"},
		{Op: "set_text", Field: "definition", Text: "…"},
		{Op: "set_tags"},
	}
	want := []string{"appellation-label:developpeur developpeuse rust", "appellation:10944", "appellation:10945", "appellation:10946", "item:100023",
		"savoir-label:langage rust", "mobilite:M1402", "text:definition", "tags"}
	if got := ElementsOf(ops); !slices.Equal(got, want) {
		t.Errorf("ElementsOf = %q\nwant %q", got, want)
	}
	create := ElementsOf([]Operation{{Op: "create_fiche", AppellationPrincipale: &refclient.AppellationPrincipale{CodeOgr: "38823"}}})
	if !slices.Equal(create, []string{"appellation:38823"}) {
		t.Errorf("create_fiche elements %q", create)
	}
	for e, across := range map[string]bool{"appellation:10944": true, "appellation-label:developpeur rust": true, "item:100023": false, "mobilite:M1402": false, "tags": false} {
		if AcrossFiches(e) != across {
			t.Errorf("AcrossFiches(%q) = %v", e, !across)
		}
	}
}
