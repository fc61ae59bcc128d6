package importer

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// DataDir is the official v460 export the tests read (ROME_DATA_DIR overrides it).
func dataDir(t testing.TB) string {
	if d := os.Getenv("ROME_DATA_DIR"); d != "" {
		return d
	}
	d, err := filepath.Abs("../../../../../shared/data/rome4")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("official ROME data not found at %s (set ROME_DATA_DIR): %v", d, err)
	}
	return d
}

// The counts documented in shared/data/rome4/SOURCE.md.
var sourceCounts = map[string]int{
	romecsv.Fiche: 1584, romecsv.Appellation: 13120, romecsv.GrandDomaine: 14, romecsv.DomainePro: 110,
	romecsv.FicheDomaine: 1584, romecsv.Arborescence: 14828, romecsv.Competence: 18317, romecsv.MacroRiasec: 507,
	romecsv.Savoir: 15354, romecsv.Contexte: 179, romecsv.Item: 33850, romecsv.Lien: 118923, romecsv.Coherence: 104219,
	romecsv.Bloc: 8, romecsv.Rubrique: 3, romecsv.Texte: 11980, romecsv.Mobilite: 14912, romecsv.FicheRiasec: 1584,
	romecsv.SecteurActivite: 35, romecsv.SousSecteurActivite: 40, romecsv.FicheSecteurActivite: 3303, romecsv.SecteurNaf: 89,
	romecsv.FicheSecteurNaf: 2920, romecsv.CentreInteret: 30, romecsv.FicheCentreInteret: 4444, romecsv.Theme: 17,
	romecsv.FicheTheme: 1348, romecsv.TypeReferentiel: 0,
}

func TestReadOfficialV460(t *testing.T) {
	t.Parallel()
	rel, err := Read(dataDir(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if rel.Info.Number != 60 || rel.Info.Label != "ROME 4.0 version 60 - 25M09" {
		t.Errorf("version = %d %q", rel.Info.Number, rel.Info.Label)
	}
	if got := rel.Info.PublishedAt.Format("2006-01-02"); got != "2025-09-18" {
		t.Errorf("published at %s", got)
	}
	counts := rel.Snapshot.Counts()
	for name, want := range sourceCounts {
		if counts[name] != want {
			t.Errorf("%s: %d rows, SOURCE.md says %d", name, counts[name], want)
		}
	}
}
