package changeset_test

import (
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/services/referential/internal/changeset"
	"github.com/plateforme-rome/rome/services/referential/internal/fiche"
	"github.com/plateforme-rome/rome/services/referential/internal/importer"
	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/services/referential/internal/romedata"
)

// ogrSpaces are the datasets whose codes OGR share one id space (as the importer has it).
var ogrSpaces = []struct{ dataset, col string }{
	{romecsv.Fiche, "code_ogr"}, {romecsv.Appellation, "code_ogr"}, {romecsv.Competence, "code_ogr"},
	{romecsv.Savoir, "code_ogr_savoir"}, {romecsv.Contexte, "code_ogr"},
}

// scope is the part of a snapshot a change set touched: the rules are checked there
// only, which keeps a check to milliseconds. A nil scope is the whole snapshot.
type scope struct {
	fiches map[string]bool // codes ROME
	items  map[string]bool // codes OGR of appellations, compétences, savoirs, contextes
}

func scopeOf(changes []refdata.Change) *scope {
	sc := &scope{fiches: map[string]bool{}, items: map[string]bool{}}
	for _, c := range changes {
		ds := romecsv.MustByName(c.Dataset)
		for _, cols := range [][]string{c.Old, c.New} {
			if cols == nil {
				continue
			}
			if code := ds.CodeRome(cols); code != "" {
				sc.fiches[code] = true
			}
			switch c.Dataset {
			case romecsv.Appellation, romecsv.Competence, romecsv.Contexte, romecsv.Item, romecsv.Lien, romecsv.Coherence:
				sc.items[col(c.Dataset, cols, "code_ogr")] = true
			case romecsv.Savoir:
				sc.items[col(c.Dataset, cols, "code_ogr_savoir")] = true
			case romecsv.Arborescence:
				if ogr := col(c.Dataset, cols, "ogr_appellation"); ogr != "" {
					sc.items[ogr] = true
				} else if n := col(c.Dataset, cols, "numero_fiche_rome"); n != "" {
					sc.fiches[col(c.Dataset, cols, "code_grand_domaine")+col(c.Dataset, cols, "code_domaine_professionnel")+n] = true
				}
			}
		}
	}
	return sc
}

// wholeScope is every fiche and item of s, and every fiche its rows name.
func wholeScope(s *refdata.Snapshot) *scope {
	sc := &scope{fiches: map[string]bool{}, items: map[string]bool{}}
	for _, ds := range romecsv.Datasets {
		for _, r := range s.T(ds.Name).Rows() {
			if code := ds.CodeRome(r.Cols); code != "" {
				sc.fiches[code] = true
			}
		}
	}
	for _, sp := range ogrSpaces[1:] {
		for _, r := range s.T(sp.dataset).Rows() {
			sc.items[col(sp.dataset, r.Cols, sp.col)] = true
		}
	}
	for _, r := range s.T(romecsv.Item).Rows() {
		sc.items[col(romecsv.Item, r.Cols, "code_ogr")] = true
	}
	for _, r := range s.T(romecsv.Arborescence).Rows() {
		if ogr := col(romecsv.Arborescence, r.Cols, "ogr_appellation"); ogr != "" {
			sc.items[ogr] = true
		}
	}
	return sc
}

// referentialProblems checks, over the scope, the rules the official export keeps and
// the importer's integrity check relies on: every lien resolves to an item of the right
// kind, every coherence row has its lien and the other way round, one PRINCIPALE
// appellation per fiche that carries the fiche label, every copy of the label agrees,
// appellation arborescence rows point at the fiche of the appellation, mobilités and
// sentences are numbered 1..n, every item has its unix_item row, codes OGR are unique.
func referentialProblems(s *refdata.Snapshot, sc *scope) []string {
	if sc == nil {
		sc = wholeScope(s)
	}
	var out []string
	bad := func(format string, args ...any) {
		if len(out) < 20 {
			out = append(out, fmt.Sprintf(format, args...))
		}
	}
	for _, code := range slices.Sorted(maps.Keys(sc.fiches)) {
		if f, ok := s.Get(romecsv.Fiche, code); ok {
			ficheProblems(s, f, bad)
			continue
		}
		for _, ds := range romecsv.Datasets {
			if ds.RomeCol != "" && len(s.ForRome(ds.Name, code)) > 0 {
				bad("%s has rows of fiche %s, which does not exist", ds.Name, code)
			}
		}
	}
	for _, ogr := range slices.Sorted(maps.Keys(sc.items)) {
		itemProblems(s, ogr, bad)
	}
	if len(sc.fiches) > 0 {
		// A fiche's code OGR is in the same space as the items'.
		for code := range sc.fiches {
			if f, ok := s.Get(romecsv.Fiche, code); ok {
				ogr := col(romecsv.Fiche, f, "code_ogr")
				for _, sp := range ogrSpaces[1:] {
					if _, taken := s.Get(sp.dataset, ogr); taken {
						bad("fiche %s: code OGR %s is also in %s", code, ogr, sp.dataset)
					}
				}
			}
		}
	}
	return out
}

func ficheProblems(s *refdata.Snapshot, f []string, bad func(string, ...any)) {
	const F, A, AR, L, H, C = romecsv.Fiche, romecsv.Appellation, romecsv.Arborescence, romecsv.Lien, romecsv.Coherence, romecsv.Competence
	code, label, ogr := col(F, f, "code_rome"), col(F, f, "libelle_rome"), col(F, f, "code_ogr")
	var principal []string
	for _, a := range s.ForRome(A, code) {
		app, long, short := col(A, a, "code_ogr"), col(A, a, "libelle_appellation_long"), col(A, a, "libelle_appellation_court")
		if col(A, a, "classification") == romecsv.ClassificationPrincipale {
			principal = append(principal, long)
		}
		if _, ok := s.Get(L, key(code, romecsv.BlocAppellations, romecsv.RubriqueNone, app)); !ok {
			bad("appellation %s: no lien on fiche %s", app, code)
		}
		arbo, ok := s.Get(AR, romecsv.AppellationArboKey(app))
		switch {
		case !ok:
			bad("appellation %s: no arborescence row", app)
		case col(AR, arbo, "ogr_rome") != ogr || col(AR, arbo, "code_fiche") != col(F, f, "code_fiche_metier"):
			bad("appellation %s on %s: arborescence row names fiche %s/%s", app, code, col(AR, arbo, "ogr_rome"), col(AR, arbo, "code_fiche"))
		case col(AR, arbo, "libelle_appellation_long") != long || col(AR, arbo, "libelle_appellation_court") != short:
			bad("appellation %s: arborescence labels %q / %q", app, col(AR, arbo, "libelle_appellation_long"), col(AR, arbo, "libelle_appellation_court"))
		}
	}
	switch {
	case len(principal) != 1:
		bad("fiche %s has %d PRINCIPALE appellations", code, len(principal))
	case principal[0] != label:
		bad("fiche %s is %q but its principal appellation is %q", code, label, principal[0])
	}
	d, ok := s.Get(romecsv.FicheDomaine, code)
	if !ok || col(romecsv.FicheDomaine, d, "libelle_rome") != label || col(romecsv.FicheDomaine, d, "code_grand_domaine") != code[:1] ||
		col(romecsv.FicheDomaine, d, "code_domaine_professionel") != code[:3] {
		bad("fiche %s: cr_gd_dp row %v", code, d)
	}
	arbo, ok := s.Get(AR, romecsv.FicheArboKey(code))
	if !ok || col(AR, arbo, "intitule") != label || col(AR, arbo, "ogr_rome") != ogr || col(AR, arbo, "code_fiche") != col(F, f, "code_fiche_metier") {
		bad("fiche %s: arborescence row %v", code, arbo)
	}
	for _, name := range []string{romecsv.FicheSecteurActivite, romecsv.FicheSecteurNaf, romecsv.FicheCentreInteret, romecsv.FicheTheme} {
		for _, r := range s.ForRome(name, code) {
			if col(name, r, "libelle_rome") != label || col(name, r, "code_ogr_rome") != ogr {
				bad("fiche %s: %s row names %q (%s)", code, name, col(name, r, "libelle_rome"), col(name, r, "code_ogr_rome"))
			}
		}
	}
	var ranks []int
	for _, m := range s.ForRome(romecsv.Mobilite, code) {
		n, _ := strconv.Atoi(col(romecsv.Mobilite, m, "numero_ordre"))
		ranks = append(ranks, n)
		if target := col(romecsv.Mobilite, m, "code_rome_cible"); target == code {
			bad("fiche %s has a mobilité to itself", code)
		} else if _, ok := s.Get(F, target); !ok {
			bad("fiche %s: mobilité to unknown fiche %s", code, target)
		}
	}
	if !numbered(ranks) {
		bad("fiche %s: mobilités ranked %v", code, ranks)
	}
	positions := map[string][]int{}
	for _, r := range s.ForRome(romecsv.Texte, code) {
		n, _ := strconv.Atoi(col(romecsv.Texte, r, "position_phrase"))
		t := col(romecsv.Texte, r, "libelle_type_texte")
		positions[t] = append(positions[t], n)
	}
	for t, p := range positions {
		if !numbered(p) {
			bad("fiche %s: %s sentences at %v", code, t, p)
		}
	}
	if _, ok := s.Get(L, key(code, romecsv.BlocFiche, romecsv.RubriqueNone, ogr)); !ok {
		bad("fiche %s: no bloc 1 lien", code)
	}
	for _, l := range s.ForRome(L, code) {
		bloc, rub, item := col(L, l, "code_compo_bloc"), col(L, l, "code_rubrique"), col(L, l, "code_ogr")
		switch [2]string{bloc, rub} {
		case [2]string{romecsv.BlocFiche, romecsv.RubriqueNone}:
			if item != ogr {
				bad("fiche %s: bloc 1 lien names %s", code, item)
			}
		case [2]string{romecsv.BlocAppellations, romecsv.RubriqueNone}:
			if a, ok := s.Get(A, item); !ok || col(A, a, "code_rome") != code {
				bad("fiche %s: lien to appellation %s which is not on it", code, item)
			}
		case [2]string{romecsv.BlocCompetences, romecsv.RubriqueSavoirFaire}, [2]string{romecsv.BlocCompetences, romecsv.RubriqueSavoirEtre}:
			if c, ok := s.Get(C, item); !ok || (col(C, c, "cat_comp") == romecsv.CategorieSavoirEtre) != (rub == romecsv.RubriqueSavoirEtre) {
				bad("fiche %s: lien 5/%s to compétence %s (%v)", code, rub, item, c)
			}
		case [2]string{romecsv.BlocCompetences, romecsv.RubriqueSavoirs}:
			if _, ok := s.Get(romecsv.Savoir, item); !ok {
				bad("fiche %s: lien to unknown savoir %s", code, item)
			}
		case [2]string{romecsv.BlocContextes, romecsv.RubriqueNone}:
			if _, ok := s.Get(romecsv.Contexte, item); !ok {
				bad("fiche %s: lien to unknown contexte %s", code, item)
			}
		default:
			bad("fiche %s: lien in bloc %s rubrique %q", code, bloc, rub)
		}
		if _, ok := s.Get(H, key(code, item)); romecsv.LinksItem(bloc) && !ok {
			bad("fiche %s: item %s has no coherence row", code, item)
		}
	}
	for _, h := range s.ForRome(H, code) {
		item, linked := col(H, h, "code_ogr"), 0
		for _, place := range [][2]string{{romecsv.BlocCompetences, romecsv.RubriqueSavoirFaire}, {romecsv.BlocCompetences, romecsv.RubriqueSavoirEtre},
			{romecsv.BlocCompetences, romecsv.RubriqueSavoirs}, {romecsv.BlocContextes, romecsv.RubriqueNone}} {
			if _, ok := s.Get(L, key(code, place[0], place[1], item)); ok {
				linked++
			}
		}
		if linked != 1 {
			bad("coherence row of %s on %s has %d liens", item, code, linked)
		}
		if v := col(H, h, "coeur_metier"); v != "" && v != romecsv.CoeurMetierPrincipale && v != romecsv.CoeurMetierEmergente {
			bad("coherence row of %s on %s: coeur_metier %q", item, code, v)
		}
	}
}

// itemProblems checks one code OGR: in one id space at most, with the unix_item row
// of its kind, a compétence under a macro-compétence, no arborescence row without its
// appellation.
func itemProblems(s *refdata.Snapshot, ogr string, bad func(string, ...any)) {
	const C = romecsv.Competence
	var spaces []string
	for _, sp := range ogrSpaces[1:] {
		if _, ok := s.Get(sp.dataset, ogr); ok {
			spaces = append(spaces, sp.dataset)
		}
	}
	if len(spaces) > 1 {
		bad("code OGR %s is in %v", ogr, spaces)
	}
	rubrique, isItem := romecsv.RubriqueNone, true
	switch {
	case slices.Contains(spaces, C):
		c, _ := s.Get(C, ogr)
		rubrique = romecsv.RubriqueSavoirFaire
		if col(C, c, "cat_comp") == romecsv.CategorieSavoirEtre {
			rubrique = romecsv.RubriqueSavoirEtre
		}
		if col(C, c, "nature") == romecsv.NatureCompetence {
			if m, ok := s.Get(C, col(C, c, "code_ogr_macro_comp")); !ok || col(C, m, "nature") != romecsv.NatureMacroCompetence {
				bad("compétence %s: macro-compétence %q", ogr, col(C, c, "code_ogr_macro_comp"))
			}
		}
	case slices.Contains(spaces, romecsv.Savoir):
		rubrique = romecsv.RubriqueSavoirs
	case slices.Contains(spaces, romecsv.Contexte):
	default:
		isItem = false
	}
	it, hasItem := s.Get(romecsv.Item, ogr)
	switch {
	case isItem && (!hasItem || col(romecsv.Item, it, "code_rubrique") != rubrique):
		bad("item %s: unix_item row %v, want rubrique %q", ogr, it, rubrique)
	case !isItem && hasItem:
		bad("unix_item row %s names no compétence, savoir or contexte", ogr)
	}
	if _, ok := s.Get(romecsv.Arborescence, romecsv.AppellationArboKey(ogr)); ok && !slices.Contains(spaces, romecsv.Appellation) {
		bad("arborescence row of unknown appellation %s", ogr)
	}
}

// numbered tells whether ns is a permutation of 1..len(ns).
func numbered(ns []int) bool {
	s := slices.Sorted(slices.Values(ns))
	for i, n := range s {
		if n != i+1 {
			return false
		}
	}
	return true
}

// importErr exports a snapshot as a RefRomeCsv folder and reads it back with the
// importer, which runs its integrity checks. It returns the imported snapshot.
func importErr(t *testing.T, s *refdata.Snapshot) (*refdata.Snapshot, error) {
	t.Helper()
	dir := t.TempDir()
	const n = 61
	info := romecsv.VersionInfo{Number: n, Label: "changeset test", PublishedAt: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)}
	if err := os.WriteFile(filepath.Join(dir, "version.txt"), romecsv.FormatVersion(info), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ds := range romecsv.Datasets {
		f, err := os.Create(filepath.Join(dir, ds.FileName(n)))
		if err != nil {
			t.Fatal(err)
		}
		w, err := romecsv.NewWriter(f, ds)
		for _, r := range s.T(ds.Name).Rows() {
			if err == nil {
				err = w.Write(r.Cols)
			}
		}
		if err == nil {
			err = w.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	rel, err := importer.Read(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	return rel.Snapshot, nil
}

func TestOfficialDataKeepsTheRules(t *testing.T) {
	t.Parallel()
	for _, p := range referentialProblems(romedata.V460(t), nil) {
		t.Error(p)
	}
}

// The rule checks find broken rows: they would not catch an engine bug otherwise.
func TestRuleChecksCatchBrokenRows(t *testing.T) {
	t.Parallel()
	base := romedata.V460(t)
	const A, L, H = romecsv.Appellation, romecsv.Lien, romecsv.Coherence
	cases := []struct {
		name    string
		corrupt func(tx *refdata.Tx)
	}{
		{"lien without coherence", func(tx *refdata.Tx) { tx.Delete(H, key(dev, devSkill)) }},
		{"coherence without lien", func(tx *refdata.Tx) {
			tx.Delete(L, key(dev, romecsv.BlocCompetences, romecsv.RubriqueSavoirFaire, devSkill))
		}},
		{"second principal appellation", func(tx *refdata.Tx) {
			r, _ := tx.Get(A, devSynonym)
			r = slices.Clone(r)
			r[romecsv.MustByName(A).Col("classification")] = romecsv.ClassificationPrincipale
			tx.Put(A, r)
		}},
		{"fiche label out of step", func(tx *refdata.Tx) {
			r, _ := tx.Get(romecsv.Fiche, dev)
			r = slices.Clone(r)
			r[romecsv.MustByName(romecsv.Fiche).Col("libelle_rome")] = "Développeur / Développeuse"
			tx.Put(romecsv.Fiche, r)
		}},
		{"appellation moved without its arborescence row", func(tx *refdata.Tx) {
			r, _ := tx.Get(A, devSynonym)
			r = slices.Clone(r)
			r[romecsv.MustByName(A).Col("code_rome")] = appli
			tx.Put(A, r)
			tx.Delete(L, key(dev, romecsv.BlocAppellations, romecsv.RubriqueNone, devSynonym))
			tx.Put(L, []string{appli, romecsv.BlocAppellations, romecsv.RubriqueNone, devSynonym})
		}},
		{"mobilité ranks with a gap", func(tx *refdata.Tx) { tx.Delete(romecsv.Mobilite, key(dev, "M1810")) }},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tx := base.Begin()
			c.corrupt(tx)
			next, err := base.Apply(refdata.Version{Number: 61}, tx.Changes())
			if err != nil {
				t.Fatal(err)
			}
			if len(referentialProblems(next, scopeOf(tx.Changes()))) == 0 {
				t.Error("no problem found in the rows the change touched")
			}
			if i == 0 && len(referentialProblems(next, nil)) == 0 {
				t.Error("no problem found in the whole snapshot")
			}
		})
	}
	t.Run("the importer refuses a coherence row without lien", func(t *testing.T) {
		t.Parallel()
		tx := base.Begin()
		tx.Delete(L, key(dev, romecsv.BlocCompetences, romecsv.RubriqueSavoirFaire, devSkill))
		next, err := base.Apply(refdata.Version{Number: 61}, tx.Changes())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := importErr(t, next); err == nil || !strings.Contains(err.Error(), "not linked") {
			t.Errorf("import error %v", err)
		}
	})
}

// Two change sets that use every kind of operation, published one after the other,
// give a referential the importer reads back row for row.
func TestPublishedRowsPassTheImporter(t *testing.T) {
	t.Parallel()
	p := pick(t)
	modify := applied(t, dev,
		changeset.Operation{Op: refclient.OpAddAppellation, Libelle: "Développeur / Développeuse Go", LibelleCourt: "Développeur(se) Go"},
		changeset.Operation{Op: refclient.OpUpdateAppellation, CodeOgr: devPrincipal, Libelle: "Développeur / Développeuse d'applications \"métier\""},
		changeset.Operation{Op: refclient.OpUpdateAppellation, CodeOgr: devSynShort, LibelleCourt: "Analyste-prog. gestion"},
		changeset.Operation{Op: refclient.OpRemoveAppellation, CodeOgr: devSynonym, ReplacedBy: devPrincipal},
		changeset.Operation{Op: refclient.OpMoveAppellation, CodeOgr: "10964", ToCodeRome: appli},
		changeset.Operation{Op: refclient.OpAddCompetence, CodeOgr: p.compOff, CoeurMetier: str(fiche.CoeurPrincipale)},
		changeset.Operation{Op: refclient.OpAddCompetence, CodeOgr: p.savoirEtreOff},
		changeset.Operation{Op: refclient.OpAddCompetence, New: &changeset.NewItem{Libelle: "Développer en Go", MacroCompetenceCodeOgr: p.macro}},
		changeset.Operation{Op: refclient.OpRemoveCompetence, CodeOgr: devSkill},
		changeset.Operation{Op: refclient.OpSetCoeurMetier, CodeOgr: p.savoirOn, CoeurMetier: str(fiche.CoeurEmergente)},
		changeset.Operation{Op: refclient.OpAddSavoir, CodeOgr: p.savoirOff},
		changeset.Operation{Op: refclient.OpAddSavoir, New: &changeset.NewItem{Libelle: "Langage Go", Categorie: "Techniques professionnelles"}},
		changeset.Operation{Op: refclient.OpAddContexte, CodeOgr: p.contexteOff},
		changeset.Operation{Op: refclient.OpRemoveContexte, CodeOgr: p.contexteOn},
		changeset.Operation{Op: refclient.OpAddMobilite, ToCodeRome: appli, Rank: num(2)},
		changeset.Operation{Op: refclient.OpRemoveMobilite, ToCodeRome: "M1810"},
		changeset.Operation{Op: refclient.OpSetText, Field: refclient.FieldDefinition, Text: "Conçoit l'application.\nLa « teste »."},
		changeset.Operation{Op: refclient.OpSetTags, TransitionEcologique: str("Emploi Vert"), EmploiCadre: flag(false)},
	)
	v61 := modify.publish(t)
	create := runFrom(t, v61, firstOGR+len(modify.issued), "",
		newFiche(changeset.AppellationPrincipale{CodeOgr: devSynShort}),
		changeset.Operation{Op: refclient.OpAddCompetence, CodeOgr: p.compOff},
		changeset.Operation{Op: refclient.OpAddMobilite, ToCodeRome: dev},
	)
	for _, res := range create.results {
		if !res.Applies {
			t.Fatalf("%s: %s %s", res.OperationID, res.Code, res.Reason)
		}
	}
	v62 := create.publish(t)
	for _, p := range referentialProblems(v62, nil) {
		t.Error(p)
	}
	imported, err := importErr(t, v62)
	if err != nil {
		t.Fatal(err)
	}
	if d := refdata.Diff(v62, imported); len(d) != 0 {
		t.Errorf("%d rows differ after the round trip, first %s %q", len(d), d[0].Dataset, d[0].Key)
	}
}
