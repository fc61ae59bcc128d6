package importer

import (
	"fmt"

	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/workflows/request"
)

// reference says that a column of one dataset must name a value of a column of another.
type reference struct {
	from, col string
	to, toCol string
	when      func(ds *romecsv.Dataset, cols []string) bool // nil: every row
}

func is(col, value string) func(*romecsv.Dataset, []string) bool {
	return func(ds *romecsv.Dataset, cols []string) bool { return cols[ds.Col(col)] == value }
}

func notEmpty(col string) func(*romecsv.Dataset, []string) bool {
	return func(ds *romecsv.Dataset, cols []string) bool { return cols[ds.Col(col)] != "" }
}

// linkedIn selects the links of bloc 5 in one rubrique.
func linkedIn(rubrique string) func(*romecsv.Dataset, []string) bool {
	bloc, rub := is("code_compo_bloc", romecsv.BlocCompetences), is("code_rubrique", rubrique)
	return func(ds *romecsv.Dataset, cols []string) bool { return bloc(ds, cols) && rub(ds, cols) }
}

const (
	F  = romecsv.Fiche
	cr = "code_rome"
)

var references = []reference{
	{from: romecsv.Fiche, col: "code_rome_parent", to: F, toCol: cr, when: notEmpty("code_rome_parent")},
	{from: romecsv.FicheDomaine, col: cr, to: F, toCol: cr},
	{from: romecsv.FicheDomaine, col: "code_grand_domaine", to: romecsv.GrandDomaine, toCol: "code_grand_domaine"},
	{from: romecsv.FicheDomaine, col: "code_domaine_professionel", to: romecsv.DomainePro, toCol: "code_domaine_professionnel"},
	{from: romecsv.FicheRiasec, col: cr, to: F, toCol: cr},
	{from: romecsv.Appellation, col: cr, to: F, toCol: cr},
	{from: romecsv.Arborescence, col: "ogr_appellation", to: romecsv.Appellation, toCol: "code_ogr", when: is("type_provenance", romecsv.ProvenanceAppellation)},
	{from: romecsv.Arborescence, col: "ogr_rome", to: F, toCol: "code_ogr", when: is("type_provenance", romecsv.ProvenanceFiche)},
	{from: romecsv.Competence, col: "code_ogr_macro_comp", to: romecsv.Competence, toCol: "code_ogr", when: is("nature", romecsv.NatureCompetence)},
	{from: romecsv.MacroRiasec, col: "code_ogr", to: romecsv.Competence, toCol: "code_ogr"},
	{from: romecsv.Item, col: "code_ogr", to: romecsv.Competence, toCol: "code_ogr", when: is("code_rubrique", romecsv.RubriqueSavoirFaire)},
	{from: romecsv.Item, col: "code_ogr", to: romecsv.Competence, toCol: "code_ogr", when: is("code_rubrique", romecsv.RubriqueSavoirEtre)},
	{from: romecsv.Item, col: "code_ogr", to: romecsv.Savoir, toCol: "code_ogr_savoir", when: is("code_rubrique", romecsv.RubriqueSavoirs)},
	{from: romecsv.Item, col: "code_ogr", to: romecsv.Contexte, toCol: "code_ogr", when: is("code_rubrique", romecsv.RubriqueNone)},
	{from: romecsv.Lien, col: cr, to: F, toCol: cr},
	{from: romecsv.Lien, col: "code_ogr", to: F, toCol: "code_ogr", when: is("code_compo_bloc", romecsv.BlocFiche)},
	{from: romecsv.Lien, col: "code_ogr", to: romecsv.Appellation, toCol: "code_ogr", when: is("code_compo_bloc", romecsv.BlocAppellations)},
	{from: romecsv.Lien, col: "code_ogr", to: romecsv.Competence, toCol: "code_ogr", when: linkedIn(romecsv.RubriqueSavoirFaire)},
	{from: romecsv.Lien, col: "code_ogr", to: romecsv.Competence, toCol: "code_ogr", when: linkedIn(romecsv.RubriqueSavoirEtre)},
	{from: romecsv.Lien, col: "code_ogr", to: romecsv.Savoir, toCol: "code_ogr_savoir", when: linkedIn(romecsv.RubriqueSavoirs)},
	{from: romecsv.Lien, col: "code_ogr", to: romecsv.Contexte, toCol: "code_ogr", when: is("code_compo_bloc", romecsv.BlocContextes)},
	{from: romecsv.Coherence, col: cr, to: F, toCol: cr},
	{from: romecsv.Texte, col: cr, to: F, toCol: cr},
	{from: romecsv.Mobilite, col: cr, to: F, toCol: cr},
	{from: romecsv.Mobilite, col: "code_rome_cible", to: F, toCol: cr},
	{from: romecsv.SousSecteurActivite, col: "code_sect_activite", to: romecsv.SecteurActivite, toCol: "code_sect_activite"},
	{from: romecsv.FicheSecteurActivite, col: cr, to: F, toCol: cr},
	{from: romecsv.FicheSecteurActivite, col: "code_sect_activite", to: romecsv.SecteurActivite, toCol: "code_sect_activite"},
	{from: romecsv.FicheSecteurActivite, col: "code_ss_sect_activite", to: romecsv.SousSecteurActivite, toCol: "code_ss_sect_activite", when: notEmpty("code_ss_sect_activite")},
	{from: romecsv.FicheSecteurNaf, col: cr, to: F, toCol: cr},
	{from: romecsv.FicheSecteurNaf, col: "code_secteur_naf", to: romecsv.SecteurNaf, toCol: "code_secteur_naf"},
	{from: romecsv.FicheCentreInteret, col: cr, to: F, toCol: cr},
	{from: romecsv.FicheCentreInteret, col: "code_centre_interet", to: romecsv.CentreInteret, toCol: "code_centre_interet"},
	{from: romecsv.FicheTheme, col: cr, to: F, toCol: cr},
	{from: romecsv.FicheTheme, col: "code_theme", to: romecsv.Theme, toCol: "code_theme"},
}

// ogrSpaces are the datasets whose codes OGR share one collision-free id space.
var ogrSpaces = []struct{ dataset, col string }{
	{romecsv.Fiche, "code_ogr"}, {romecsv.Appellation, "code_ogr"}, {romecsv.Competence, "code_ogr"},
	{romecsv.Savoir, "code_ogr_savoir"}, {romecsv.Contexte, "code_ogr"},
}

func checkIntegrity(version int, rows map[string][]refdata.Row, where lines) error {
	fail := func(dataset string, i int, col, msg string) error {
		return &romecsv.Error{File: romecsv.MustByName(dataset).FileName(version), Line: where[dataset][i], Column: col, Msg: msg}
	}
	values := map[[2]string]map[string]bool{}
	valueSet := func(dataset, col string) map[string]bool {
		k := [2]string{dataset, col}
		if s, ok := values[k]; ok {
			return s
		}
		ds := romecsv.MustByName(dataset)
		c := ds.Col(col)
		s := make(map[string]bool, len(rows[dataset]))
		for _, r := range rows[dataset] {
			s[r.Cols[c]] = true
		}
		values[k] = s
		return s
	}
	fiche := romecsv.MustByName(F)
	for i, r := range rows[F] {
		if code := r.Cols[fiche.Col(cr)]; !request.CodeRomePattern.MatchString(code) {
			return fail(F, i, cr, fmt.Sprintf("%q is not a code ROME (letter A-N and 4 digits)", code))
		}
	}
	for _, ref := range references {
		ds := romecsv.MustByName(ref.from)
		c := ds.Col(ref.col)
		targets := valueSet(ref.to, ref.toCol)
		for i, r := range rows[ref.from] {
			if ref.when != nil && !ref.when(ds, r.Cols) {
				continue
			}
			if v := r.Cols[c]; !targets[v] {
				return fail(ref.from, i, ref.col, fmt.Sprintf("%q does not exist in %s.%s", v, ref.to, ref.toCol))
			}
		}
	}
	if err := checkCoherence(rows, fail); err != nil {
		return err
	}
	if err := checkPrincipal(rows, fail); err != nil {
		return err
	}
	owner := map[string]string{}
	for _, sp := range ogrSpaces {
		c := romecsv.MustByName(sp.dataset).Col(sp.col)
		for i, r := range rows[sp.dataset] {
			code := r.Cols[c]
			if other, taken := owner[code]; taken {
				return fail(sp.dataset, i, sp.col, fmt.Sprintf("code OGR %s is also used in %s", code, other))
			}
			owner[code] = sp.dataset
		}
	}
	return nil
}

// checkCoherence: every coeur-métier flag is about an item linked to the fiche.
func checkCoherence(rows map[string][]refdata.Row, fail func(string, int, string, string) error) error {
	lien := romecsv.MustByName(romecsv.Lien)
	linked := make(map[string]bool, len(rows[romecsv.Lien]))
	for _, r := range rows[romecsv.Lien] {
		if romecsv.LinksItem(r.Cols[lien.Col("code_compo_bloc")]) {
			linked[r.Cols[lien.Col(cr)]+romecsv.KeySep+r.Cols[lien.Col("code_ogr")]] = true
		}
	}
	coh := romecsv.MustByName(romecsv.Coherence)
	for i, r := range rows[romecsv.Coherence] {
		if !linked[coh.Key(r.Cols)] {
			return fail(romecsv.Coherence, i, "code_ogr", fmt.Sprintf("item %s is not linked to fiche %s", r.Cols[coh.Col("code_ogr")], r.Cols[coh.Col(cr)]))
		}
		switch v := r.Cols[coh.Col("coeur_metier")]; v {
		case "", romecsv.CoeurMetierPrincipale, romecsv.CoeurMetierEmergente:
		default:
			return fail(romecsv.Coherence, i, "coeur_metier", fmt.Sprintf("unknown value %q", v))
		}
	}
	return nil
}

// checkPrincipal: every fiche has exactly one PRINCIPALE appellation.
func checkPrincipal(rows map[string][]refdata.Row, fail func(string, int, string, string) error) error {
	app := romecsv.MustByName(romecsv.Appellation)
	principal := map[string]int{}
	for i, r := range rows[romecsv.Appellation] {
		if r.Cols[app.Col("classification")] != romecsv.ClassificationPrincipale {
			continue
		}
		code := r.Cols[app.Col(cr)]
		if first, dup := principal[code]; dup {
			return fail(romecsv.Appellation, i, "classification", fmt.Sprintf("fiche %s has a second PRINCIPALE appellation (first at row %d)", code, first+1))
		}
		principal[code] = i
	}
	fiche := romecsv.MustByName(F)
	for i, r := range rows[F] {
		if _, ok := principal[r.Cols[fiche.Col(cr)]]; !ok {
			return fail(F, i, cr, "fiche has no PRINCIPALE appellation")
		}
	}
	return nil
}
