package fiche_test

import (
	"encoding/json"
	"testing"

	"github.com/plateforme-rome/rome/services/referential/internal/fiche"
	"github.com/plateforme-rome/rome/services/referential/internal/romedata"
)

func TestBuildM1805(t *testing.T) {
	t.Parallel()
	snap := romedata.V460(t)
	f, ok := fiche.Build(snap, "M1805", 60)
	if !ok {
		t.Fatal("M1805 not found")
	}
	if f.Libelle != "Développeur / Développeuse informatique" {
		t.Errorf("libelle %q", f.Libelle)
	}
	if f.DomaineProfessionnel.Code != "M18" || f.GrandDomaine.Code != "M" {
		t.Errorf("domaines %+v %+v", f.DomaineProfessionnel, f.GrandDomaine)
	}
	principal := 0
	for _, a := range f.Appellations {
		if a.Classification == "PRINCIPALE" {
			principal++
			if a.Libelle != f.Libelle {
				t.Errorf("principal appellation %q differs from the fiche label %q", a.Libelle, f.Libelle)
			}
		}
	}
	if principal != 1 {
		t.Errorf("%d principal appellations", principal)
	}
	if len(f.Competences.SavoirFaire) == 0 || len(f.Savoirs) == 0 || len(f.ContextesTravail) == 0 || len(f.Mobilites) == 0 {
		t.Errorf("empty blocs: %d macro, %d savoir categories, %d contexte types, %d mobilites",
			len(f.Competences.SavoirFaire), len(f.Savoirs), len(f.ContextesTravail), len(f.Mobilites))
	}
	if f.Definition == "" || f.AccesEmploi == "" {
		t.Error("missing texts")
	}
	b, _ := json.MarshalIndent(f, "", "  ")
	t.Logf("%d bytes", len(b))
}
