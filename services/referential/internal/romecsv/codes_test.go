package romecsv_test

import (
	"testing"

	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/services/referential/internal/romedata"
)

// The named codes mean, in the official v460 files, what their names say. Only the files
// that say it are read, not the whole release.
func TestCodesMeanWhatTheOfficialFilesSay(t *testing.T) {
	t.Parallel()
	src, err := romecsv.Open(romedata.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	raw, err := src.VersionFile()
	if err != nil {
		t.Fatal(err)
	}
	info, err := romecsv.ParseVersion(raw)
	if err != nil {
		t.Fatal(err)
	}
	// rows reads a dataset as its column values by name.
	rows := func(name string) []map[string]string {
		t.Helper()
		ds := romecsv.MustByName(name)
		var out []map[string]string
		err := src.ReadDataset(ds, info.Number, func(_ int, cols []string) error {
			row := map[string]string{}
			for i, c := range ds.Columns {
				row[c] = cols[i]
			}
			out = append(out, row)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	blocs := map[string]string{}
	for _, r := range rows(romecsv.Bloc) {
		blocs[r["code_compo_bloc"]] = r["libelle_bloc"]
	}
	for bloc, want := range map[string]string{
		romecsv.BlocFiche: "Code ROME et intitulé", romecsv.BlocAppellations: "Emplois", romecsv.BlocDefinition: "Définition",
		romecsv.BlocAccesMetier: "Accès au métier", romecsv.BlocCompetences: "Compétences", romecsv.BlocContextes: "Contextes de travail",
	} {
		if blocs[bloc] != want {
			t.Errorf("bloc %s is %q, want %q", bloc, blocs[bloc], want)
		}
	}
	rubriques := map[string][2]string{}
	for _, r := range rows(romecsv.Rubrique) {
		rubriques[r["code_rubrique"]] = [2]string{r["code_compo_bloc"], r["libelle_rubrique"]}
	}
	for rubrique, want := range map[string]string{
		romecsv.RubriqueSavoirFaire: "Savoir-faire", romecsv.RubriqueSavoirEtre: "Savoir-être professionnels", romecsv.RubriqueSavoirs: "Savoirs",
	} {
		if got := rubriques[rubrique]; got != [2]string{romecsv.BlocCompetences, want} {
			t.Errorf("rubrique %s is %q, want %q in bloc %s", rubrique, got, want, romecsv.BlocCompetences)
		}
	}

	// M1805 and its principal appellation 14153 have their arborescence rows under the
	// keys the functions give.
	arbo := romecsv.MustByName(romecsv.Arborescence)
	keys := map[string]map[string]string{}
	for _, r := range rows(romecsv.Arborescence) {
		cols := make([]string, len(arbo.Columns))
		for i, c := range arbo.Columns {
			cols[i] = r[c]
		}
		keys[arbo.Key(cols)] = r
	}
	const label = "Développeur / Développeuse informatique"
	if r := keys[romecsv.FicheArboKey("M1805")]; r["intitule"] != label || r["type_provenance"] != romecsv.ProvenanceFiche {
		t.Errorf("arborescence row of M1805: %v", r)
	}
	if r := keys[romecsv.AppellationArboKey("14153")]; r["libelle_appellation_long"] != label || r["type_provenance"] != romecsv.ProvenanceAppellation {
		t.Errorf("arborescence row of appellation 14153: %v", r)
	}

	// Every link is in a bloc and rubrique named here, and the links of items are the
	// pairs of the coherence rows.
	places := map[[2]string]bool{
		{romecsv.BlocFiche, romecsv.RubriqueNone}: true, {romecsv.BlocAppellations, romecsv.RubriqueNone}: true,
		{romecsv.BlocCompetences, romecsv.RubriqueSavoirFaire}: true, {romecsv.BlocCompetences, romecsv.RubriqueSavoirEtre}: true,
		{romecsv.BlocCompetences, romecsv.RubriqueSavoirs}: true, {romecsv.BlocContextes, romecsv.RubriqueNone}: true,
	}
	items := 0
	for _, r := range rows(romecsv.Lien) {
		if !places[[2]string{r["code_compo_bloc"], r["code_rubrique"]}] {
			t.Fatalf("a link in bloc %q rubrique %q", r["code_compo_bloc"], r["code_rubrique"])
		}
		if romecsv.LinksItem(r["code_compo_bloc"]) {
			items++
		}
	}
	if n := len(rows(romecsv.Coherence)); items != n {
		t.Errorf("%d links of items, %d coherence rows", items, n)
	}
}
