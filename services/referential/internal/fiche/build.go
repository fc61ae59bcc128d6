package fiche

import (
	"sort"
	"strconv"
	"strings"

	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/workflows/request"
)

// Official values and their API spelling.
var (
	coeurFromCSV = map[string]string{romecsv.CoeurMetierPrincipale: CoeurPrincipale, romecsv.CoeurMetierEmergente: CoeurEmergente}
	coeurToCSV   = map[string]string{CoeurPrincipale: romecsv.CoeurMetierPrincipale, CoeurEmergente: romecsv.CoeurMetierEmergente}

	// ContexteCategories maps the official contexte types to France Travail's API enum.
	ContexteCategories = map[string]string{
		"1": "CONDITIONS_TRAVAIL", "2": "HORAIRE_ET_DUREE_TRAVAIL", "3": "LIEU_ET_DEPLACEMENT",
		"5": "TYPE_BENEFICIAIRE", "6": "TYPE_STRUCTURE_ACCUEIL", "7": "STATUT_EMPLOI",
	}
)

// col reads a named column of a row of dataset ds.
func col(ds string, row []string, name string) string {
	return row[romecsv.MustByName(ds).Col(name)]
}

// ParseFlag turns an official O/N flag into a tri-state boolean.
func ParseFlag(v string) *bool {
	switch v {
	case romecsv.FlagYes:
		t := true
		return &t
	case romecsv.FlagNo:
		f := false
		return &f
	}
	return nil
}

// Flag is the inverse of ParseFlag, for operations that write rows.
func Flag(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return romecsv.FlagYes
	}
	return romecsv.FlagNo
}

func tags(ds string, row []string) Tags {
	return Tags{
		TransitionEcologique:    col(ds, row, "transition_eco"),
		TransitionNumerique:     ParseFlag(col(ds, row, "transition_num")),
		TransitionDemographique: ParseFlag(col(ds, row, "transition_demo")),
		EmploiReglemente:        ParseFlag(col(ds, row, "emploi_reglemente")),
		EmploiCadre:             ParseFlag(col(ds, row, "emploi_cadre")),
	}
}

func coeur(v refdata.View, code, ogr string) *string {
	row, ok := v.Get(romecsv.Coherence, code+romecsv.KeySep+ogr)
	if !ok {
		return nil
	}
	return CoeurAPI(col(romecsv.Coherence, row, "coeur_metier"))
}

// CoeurAPI spells an official coeur_metier value as the API does (nil when none).
func CoeurAPI(v string) *string {
	if c, ok := coeurFromCSV[v]; ok {
		return &c
	}
	return nil
}

// CoeurCSV is the inverse of CoeurAPI, for operations that write rows: the official
// coeur_metier of an API value (the operations' syntax allows no other), "" for nil.
func CoeurCSV(v *string) string {
	if v == nil {
		return ""
	}
	return coeurToCSV[*v]
}

// UnescapeText undoes the doubled apostrophes of the official texte file.
func UnescapeText(s string) string { return strings.ReplaceAll(s, "''", "'") }

// EscapeText is the inverse of UnescapeText.
func EscapeText(s string) string { return strings.ReplaceAll(s, "'", "''") }

// Build assembles fiche code from v. ok is false when the fiche does not exist.
func Build(v refdata.View, code string, version int) (f *Fiche, ok bool) {
	row, ok := v.Get(romecsv.Fiche, code)
	if !ok {
		return nil, false
	}
	const F = romecsv.Fiche
	f = &Fiche{
		CodeRome:         code,
		CodeOgr:          col(F, row, "code_ogr"),
		CodeFicheMetier:  col(F, row, "code_fiche_metier"),
		Libelle:          col(F, row, "libelle_rome"),
		CodeRomeParent:   col(F, row, "code_rome_parent"),
		Tags:             tags(F, row),
		Version:          version,
		Appellations:     []Appellation{},
		Savoirs:          []SavoirCategorie{},
		ContextesTravail: []ContexteType{},
		Mobilites:        []Mobilite{},
		SecteursActivite: []SecteurActivite{},
		SecteursNaf:      []Ref{},
		CentresInteret:   []CentreInteret{},
		Themes:           []Theme{},
		Textes:           Textes{Definition: []string{}, AccesEmploi: []string{}},
		Competences:      Competences{SavoirFaire: []MacroCompetence{}, SavoirEtreProfessionnels: []MacroCompetence{}},
	}
	if d, ok := v.Get(romecsv.FicheDomaine, code); ok {
		const D = romecsv.FicheDomaine
		f.GrandDomaine = Ref{Code: col(D, d, "code_grand_domaine"), Libelle: col(D, d, "libelle_grand_domaine")}
		f.DomaineProfessionnel = Ref{Code: col(D, d, "code_domaine_professionel"), Libelle: col(D, d, "libelle_domaine_professionel")}
	}
	if r, ok := v.Get(romecsv.FicheRiasec, code); ok {
		f.Riasec = Riasec{Majeur: col(romecsv.FicheRiasec, r, "riasec_majeur"), Mineur: col(romecsv.FicheRiasec, r, "riasec_mineur")}
	}
	buildTexts(v, f)
	buildLinks(v, f)
	buildMobilites(v, f)
	buildSecteurs(v, f)
	return f, true
}

func buildTexts(v refdata.View, f *Fiche) {
	const T = romecsv.Texte
	type sentence struct {
		pos  int
		text string
	}
	byType := map[string][]sentence{}
	for _, r := range v.ForRome(T, f.CodeRome) {
		pos, _ := strconv.Atoi(col(T, r, "position_phrase"))
		t := col(T, r, "libelle_type_texte")
		byType[t] = append(byType[t], sentence{pos, UnescapeText(col(T, r, "libelle_texte"))})
	}
	sorted := func(ss []sentence) []string {
		sort.SliceStable(ss, func(i, j int) bool { return ss[i].pos < ss[j].pos })
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = s.text
		}
		return out
	}
	f.Textes.Definition = sorted(byType[romecsv.TexteDefinition])
	f.Textes.AccesEmploi = sorted(byType[romecsv.TexteAccesMetier])
	f.Definition = strings.Join(f.Textes.Definition, "\n")
	f.AccesEmploi = strings.Join(f.Textes.AccesEmploi, "\n")
}

func buildLinks(v refdata.View, f *Fiche) {
	const L, A, C, S, X = romecsv.Lien, romecsv.Appellation, romecsv.Competence, romecsv.Savoir, romecsv.Contexte
	macros := map[string]*MacroCompetence{}
	var macroOrder []string
	macroOf := func(ogr string) *MacroCompetence {
		if m, ok := macros[ogr]; ok {
			return m
		}
		m := &MacroCompetence{CodeOgr: ogr, Competences: []Item{}}
		if r, ok := v.Get(C, ogr); ok {
			m.Code, m.Libelle, m.SousCategorie = col(C, r, "code_macro_comp"), col(C, r, "libelle_competence"), col(C, r, "sous_cat_comp")
		}
		if r, ok := v.Get(romecsv.MacroRiasec, ogr); ok {
			m.Riasec = Riasec{Majeur: col(romecsv.MacroRiasec, r, "riasec_majeur"), Mineur: col(romecsv.MacroRiasec, r, "riasec_mineur")}
		}
		macros[ogr] = m
		macroOrder = append(macroOrder, ogr)
		return m
	}
	savoirs := map[string][]Savoir{}
	contextes := map[string]*ContexteType{}
	var savoirEtre []string
	for _, l := range v.ForRome(L, f.CodeRome) {
		ogr := col(L, l, "code_ogr")
		switch [2]string{col(L, l, "code_compo_bloc"), col(L, l, "code_rubrique")} {
		case [2]string{romecsv.BlocAppellations, romecsv.RubriqueNone}:
			if r, ok := v.Get(A, ogr); ok {
				f.Appellations = append(f.Appellations, Appellation{
					CodeOgr: ogr, Libelle: col(A, r, "libelle_appellation_long"), LibelleCourt: col(A, r, "libelle_appellation_court"),
					Classification: col(A, r, "classification"), PeuUsite: col(A, r, "peu_usite") == romecsv.FlagYes, Tags: tags(A, r),
				})
			}
		case [2]string{romecsv.BlocCompetences, romecsv.RubriqueSavoirFaire}:
			r, ok := v.Get(C, ogr)
			if !ok {
				continue
			}
			if col(C, r, "nature") == romecsv.NatureCompetence {
				m := macroOf(col(C, r, "code_ogr_macro_comp"))
				m.Competences = append(m.Competences, Item{CodeOgr: ogr, Libelle: col(C, r, "libelle_competence"), CoeurMetier: coeur(v, f.CodeRome, ogr)})
			} else {
				m := macroOf(ogr)
				m.Linked, m.CoeurMetier = true, coeur(v, f.CodeRome, ogr)
			}
		case [2]string{romecsv.BlocCompetences, romecsv.RubriqueSavoirEtre}:
			m := macroOf(ogr)
			m.Linked, m.CoeurMetier = true, coeur(v, f.CodeRome, ogr)
			savoirEtre = append(savoirEtre, ogr)
		case [2]string{romecsv.BlocCompetences, romecsv.RubriqueSavoirs}:
			if r, ok := v.Get(S, ogr); ok {
				cat := col(S, r, "categorie_savoir")
				savoirs[cat] = append(savoirs[cat], Savoir{Item: Item{CodeOgr: ogr, Libelle: col(S, r, "libelle_savoir"), CoeurMetier: coeur(v, f.CodeRome, ogr)}, SousCategorie: col(S, r, "sous_categorie_savoir")})
			}
		case [2]string{romecsv.BlocContextes, romecsv.RubriqueNone}:
			r, ok := v.Get(X, ogr)
			if !ok {
				continue
			}
			t := col(X, r, "code_type_cont_trav")
			ct := contextes[t]
			if ct == nil {
				ct = &ContexteType{Code: t, Libelle: col(X, r, "libelle_type_cont_trav"), Categorie: ContexteCategories[t], Contextes: []Item{}}
				contextes[t] = ct
			}
			ct.Contextes = append(ct.Contextes, Item{CodeOgr: ogr, Libelle: col(X, r, "libelle_cont_travail"), CoeurMetier: coeur(v, f.CodeRome, ogr)})
		}
	}
	isSavoirEtre := map[string]bool{}
	for _, ogr := range savoirEtre {
		isSavoirEtre[ogr] = true
		f.Competences.SavoirEtreProfessionnels = append(f.Competences.SavoirEtreProfessionnels, *macros[ogr])
	}
	for _, ogr := range macroOrder {
		if !isSavoirEtre[ogr] {
			f.Competences.SavoirFaire = append(f.Competences.SavoirFaire, *macros[ogr])
		}
	}
	for _, cat := range request.SavoirCategories {
		if s := savoirs[cat]; len(s) > 0 {
			f.Savoirs = append(f.Savoirs, SavoirCategorie{Categorie: cat, Savoirs: s})
		}
	}
	types := make([]string, 0, len(contextes))
	for t := range contextes {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		f.ContextesTravail = append(f.ContextesTravail, *contextes[t])
	}
}

func buildMobilites(v refdata.View, f *Fiche) {
	const M = romecsv.Mobilite
	for _, r := range v.ForRome(M, f.CodeRome) {
		target := col(M, r, "code_rome_cible")
		rank, _ := strconv.Atoi(col(M, r, "numero_ordre"))
		m := Mobilite{CodeRome: target, Rang: rank}
		if t, ok := v.Get(romecsv.Fiche, target); ok {
			m.Libelle = col(romecsv.Fiche, t, "libelle_rome")
		}
		f.Mobilites = append(f.Mobilites, m)
	}
	sort.SliceStable(f.Mobilites, func(i, j int) bool { return f.Mobilites[i].Rang < f.Mobilites[j].Rang })
}

func buildSecteurs(v refdata.View, f *Fiche) {
	const SA, SS = romecsv.FicheSecteurActivite, romecsv.SousSecteurActivite
	for _, r := range v.ForRome(SA, f.CodeRome) {
		s := SecteurActivite{Code: col(SA, r, "code_sect_activite"), Libelle: col(SA, r, "libelle_sect_activite"), Principal: col(SA, r, "principal") == "oui"}
		if d, ok := v.Get(romecsv.SecteurActivite, s.Code); ok {
			s.Definition = col(romecsv.SecteurActivite, d, "definition_sect_activite")
		}
		if ss := col(SA, r, "code_ss_sect_activite"); ss != "" {
			s.SousSecteur = &Ref{Code: ss, Libelle: col(SA, r, "libelle_ss_sect_activite")}
		}
		f.SecteursActivite = append(f.SecteursActivite, s)
	}
	const N = romecsv.FicheSecteurNaf
	for _, r := range v.ForRome(N, f.CodeRome) {
		f.SecteursNaf = append(f.SecteursNaf, Ref{Code: col(N, r, "code_secteur_naf"), Libelle: col(N, r, "libelle_secteur_naf")})
	}
	const CI = romecsv.FicheCentreInteret
	for _, r := range v.ForRome(CI, f.CodeRome) {
		c := CentreInteret{Code: col(CI, r, "code_centre_interet"), Libelle: col(CI, r, "libelle_centre_interet"), Principal: col(CI, r, "principal") == "oui"}
		if d, ok := v.Get(romecsv.CentreInteret, c.Code); ok {
			c.Definition = col(romecsv.CentreInteret, d, "definition_centre_interet")
		}
		f.CentresInteret = append(f.CentresInteret, c)
	}
	const TH = romecsv.FicheTheme
	for _, r := range v.ForRome(TH, f.CodeRome) {
		t := Theme{Code: col(TH, r, "code_theme"), Libelle: col(TH, r, "libelle_theme")}
		if d, ok := v.Get(romecsv.Theme, t.Code); ok {
			t.Definition = col(romecsv.Theme, d, "definition_theme")
		}
		f.Themes = append(f.Themes, t)
	}
}
