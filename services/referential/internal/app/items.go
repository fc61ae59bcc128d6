package app

import (
	"strings"

	"github.com/plateforme-rome/rome/services/referential/internal/fiche"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/services/referential/internal/search"
)

// Stats counts every entity of a version, and the rows of every official file.
func Stats(st *State) map[string]any {
	s := st.Snap
	// Counted once per version: reading every row slices out its columns.
	macros := st.Memo("stats.macros", func() any {
		comp := romecsv.MustByName(romecsv.Competence)
		n := 0
		for _, r := range s.T(romecsv.Competence).Rows() {
			if r.Cols[comp.Col("nature")] != romecsv.NatureCompetence {
				n++
			}
		}
		return n
	}).(int)
	n := func(name string) int { return s.T(name).Len() }
	return map[string]any{
		"version":                st.Version(),
		"fiches":                 n(romecsv.Fiche),
		"appellations":           n(romecsv.Appellation),
		"competences":            n(romecsv.Competence) - macros,
		"macroCompetences":       macros,
		"savoirs":                n(romecsv.Savoir),
		"contextesTravail":       n(romecsv.Contexte),
		"liensFicheItem":         n(romecsv.Lien),
		"coeurMetier":            n(romecsv.Coherence),
		"mobilites":              n(romecsv.Mobilite),
		"textes":                 n(romecsv.Texte),
		"grandsDomaines":         n(romecsv.GrandDomaine),
		"domainesProfessionnels": n(romecsv.DomainePro),
		"secteursActivite":       n(romecsv.SecteurActivite),
		"sousSecteursActivite":   n(romecsv.SousSecteurActivite),
		"centresInteret":         n(romecsv.CentreInteret),
		"themes":                 n(romecsv.Theme),
		"secteursNaf":            n(romecsv.SecteurNaf),
		"files":                  s.Counts(),
	}
}

// TextMatcher returns a predicate that holds when every word of q is in a label,
// ignoring case and accents.
func TextMatcher(q string) func(string) bool {
	words := strings.Fields(search.Normalize(q))
	return func(label string) bool {
		l := search.Normalize(label)
		for _, w := range words {
			if !strings.Contains(l, w) {
				return false
			}
		}
		return true
	}
}

// Item is an appellation, compétence or savoir with the fiches it is on.
type Item map[string]any

// LookupItem describes one item of the referential by code OGR.
func LookupItem(st *State, kind, ogr string) (Item, bool) {
	s := st.Snap
	st.buildSearch()
	fiches := []fiche.Ref{}
	for _, code := range st.itemFiches[ogr] {
		fiches = append(fiches, st.ficheRef(code))
	}
	switch kind {
	case "appellation":
		const A = romecsv.Appellation
		r, ok := s.Get(A, ogr)
		if !ok {
			return nil, false
		}
		a := romecsv.MustByName(A)
		code := r[a.Col("code_rome")]
		return Item{"codeOgr": ogr, "libelle": r[a.Col("libelle_appellation_long")], "libelleCourt": r[a.Col("libelle_appellation_court")],
			"classification": r[a.Col("classification")], "peuUsite": r[a.Col("peu_usite")] == romecsv.FlagYes, "codeRome": code,
			"fiche": st.ficheRef(code), "version": st.Version()}, true
	case "competence":
		const C = romecsv.Competence
		r, ok := s.Get(C, ogr)
		if !ok {
			return nil, false
		}
		c := romecsv.MustByName(C)
		it := Item{"codeOgr": ogr, "nature": r[c.Col("nature")], "libelle": r[c.Col("libelle_competence")], "definition": r[c.Col("definition")],
			"categorie": r[c.Col("cat_comp")], "sousCategorie": r[c.Col("sous_cat_comp")], "fiches": fiches, "version": st.Version()}
		if code := r[c.Col("code_macro_comp")]; code != "" {
			it["code"] = code
		}
		if m, ok := s.Get(C, r[c.Col("code_ogr_macro_comp")]); ok {
			it["macroCompetence"] = fiche.Ref{Code: m[c.Col("code_ogr")], Libelle: m[c.Col("libelle_competence")]}
		}
		return it, true
	case "savoir":
		const S = romecsv.Savoir
		r, ok := s.Get(S, ogr)
		if !ok {
			return nil, false
		}
		sv := romecsv.MustByName(S)
		return Item{"codeOgr": ogr, "libelle": r[sv.Col("libelle_savoir")], "categorie": r[sv.Col("categorie_savoir")],
			"sousCategorie": r[sv.Col("sous_categorie_savoir")], "fiches": fiches, "version": st.Version()}, true
	}
	return nil, false
}

// ContexteTravail is one working context of the referential.
type ContexteTravail struct {
	CodeOgr   string    `json:"codeOgr"`
	Libelle   string    `json:"libelle"`
	Type      fiche.Ref `json:"type"`
	Categorie string    `json:"categorie"`
}

// Contextes lists every contexte de travail.
func Contextes(st *State) []ContexteTravail {
	const X = romecsv.Contexte
	x := romecsv.MustByName(X)
	var out []ContexteTravail
	for _, r := range st.Snap.T(X).Rows() {
		t := r.Cols[x.Col("code_type_cont_trav")]
		out = append(out, ContexteTravail{r.Cols[x.Col("code_ogr")], r.Cols[x.Col("libelle_cont_travail")],
			fiche.Ref{Code: t, Libelle: r.Cols[x.Col("libelle_type_cont_trav")]}, fiche.ContexteCategories[t]})
	}
	return out
}
