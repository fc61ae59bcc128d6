package ftcompat

import (
	"github.com/plateforme-rome/rome/services/referential/internal/fiche"
	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// The arborescence of a macro-compétence, as far as the export has it: the codes of its
// objectif (4A1), enjeu (4A) and domaine de compétences (4), derived from its
// arborescence code (4A101). Their labels and the API's own codes are in the missing
// unix_arborescence_competences: not sent.

// DomaineCompetence is the domaine de compétences of an enjeu.
type DomaineCompetence struct {
	CodeArborescence string `json:"codeArborescence"`
}

// Enjeu is the enjeu of an objectif.
type Enjeu struct {
	CodeArborescence  string            `json:"codeArborescence"`
	DomaineCompetence DomaineCompetence `json:"domaineCompetence"`
}

// Objectif is the objectif of a macro-compétence.
type Objectif struct {
	CodeArborescence string `json:"codeArborescence"`
	Enjeu            Enjeu  `json:"enjeu"`
}

// CategorieSavoir is the sous-catégorie of a savoir under its catégorie: the export has
// their labels, not the API's codes, which stay empty as in the fiche métier's groups.
type CategorieSavoir struct {
	Code      string `json:"code"`
	Libelle   string `json:"libelle"`
	Categorie Ref    `json:"categorie"`
}

// CompetenceDetail is an item of the Compétences API (rome-competences/v1), polymorphic by
// type as the API is: every type has type, code, codeOgr, libelle, obsolete and the
// transition flags; macro-compétences (MACRO-SAVOIR-FAIRE, MACRO-SAVOIR-ETRE-PROFESSIONNEL)
// add definition, codeArborescence, sousCategorie, RIASEC and objectif; a
// COMPETENCE-DETAILLEE adds its macroCompetence; a SAVOIR its categorieSavoir. The fields
// the export lacks (competenceEsco, dateFin, maturite, transferable,
// qualiteProfessionnelle, the RIASEC of compétences détaillées) are not sent.
type CompetenceDetail struct {
	Type                 string            `json:"type"`
	Code                 string            `json:"code"`
	CodeOgr              string            `json:"codeOgr"`
	Libelle              string            `json:"libelle"`
	Obsolete             bool              `json:"obsolete"`
	TransitionEcologique *bool             `json:"transitionEcologique,omitempty"`
	TransitionNumerique  *bool             `json:"transitionNumerique,omitempty"`
	Definition           string            `json:"definition,omitempty"`
	CodeArborescence     string            `json:"codeArborescence,omitempty"`
	SousCategorie        string            `json:"sousCategorie,omitempty"`
	RiasecMajeur         string            `json:"riasecMajeur,omitempty"`
	RiasecMineur         string            `json:"riasecMineur,omitempty"`
	Objectif             *Objectif         `json:"objectif,omitempty"`
	MacroCompetence      *CompetenceDetail `json:"macroCompetence,omitempty"`
	CategorieSavoir      *CategorieSavoir  `json:"categorieSavoir,omitempty"`
}

// objectif derives the arborescence of a macro-compétence from its code (4A101).
func objectif(code string) *Objectif {
	if len(code) < 3 {
		return nil
	}
	return &Objectif{CodeArborescence: code[:3], Enjeu: Enjeu{CodeArborescence: code[:2], DomaineCompetence: DomaineCompetence{code[:1]}}}
}

// Competences renders every compétence détaillée, macro-compétence and savoir of a
// version, in the order of the official files (compétences, then savoirs).
func Competences(s *refdata.Snapshot) []CompetenceDetail {
	const C, R, S = romecsv.Competence, romecsv.MacroRiasec, romecsv.Savoir
	c, r, sv := romecsv.MustByName(C), romecsv.MustByName(R), romecsv.MustByName(S)
	rows := s.T(C).Rows()
	macros := map[string]*CompetenceDetail{}
	out := make([]CompetenceDetail, 0, s.T(C).Len()+s.T(S).Len())
	for _, row := range rows {
		col := func(name string) string { return row.Cols[c.Col(name)] }
		d := CompetenceDetail{
			Type: TypeCompetenceDetaillee, Code: col("code_ogr"), CodeOgr: col("code_ogr"), Libelle: col("libelle_competence"),
			TransitionEcologique: fiche.ParseFlag(col("transition_eco")), TransitionNumerique: fiche.ParseFlag(col("transition_num")),
		}
		if col("nature") != romecsv.NatureCompetence {
			d.Type = TypeMacroSavoirFaire
			if col("cat_comp") == romecsv.CategorieSavoirEtre {
				d.Type = TypeMacroSavoirEtre
			}
			d.Definition, d.CodeArborescence, d.SousCategorie = col("definition"), col("code_macro_comp"), col("sous_cat_comp")
			d.Objectif = objectif(d.CodeArborescence)
			if rr, ok := s.Get(R, d.CodeOgr); ok {
				d.RiasecMajeur, d.RiasecMineur = rr[r.Col("riasec_majeur")], rr[r.Col("riasec_mineur")]
			}
		}
		out = append(out, d)
	}
	for i := range out {
		if out[i].Type != TypeCompetenceDetaillee {
			macros[out[i].CodeOgr] = &out[i]
		}
	}
	for i, row := range rows {
		if out[i].Type == TypeCompetenceDetaillee {
			out[i].MacroCompetence = macros[row.Cols[c.Col("code_ogr_macro_comp")]]
		}
	}
	for _, row := range s.T(S).Rows() {
		col := func(name string) string { return row.Cols[sv.Col(name)] }
		out = append(out, CompetenceDetail{
			Type: TypeSavoir, Code: col("code_ogr_savoir"), CodeOgr: col("code_ogr_savoir"), Libelle: col("libelle_savoir"),
			TransitionEcologique: fiche.ParseFlag(col("transition_eco")), TransitionNumerique: fiche.ParseFlag(col("transition_num")),
			CategorieSavoir: &CategorieSavoir{Libelle: col("sous_categorie_savoir"), Categorie: Ref{Libelle: col("categorie_savoir")}},
		})
	}
	return out
}

// Contextes renders every contexte de travail as the Contextes de travail API
// (rome-contextes-travail/v1) and metier/{code} show it: code, libelle and categorie.
func Contextes(s *refdata.Snapshot) []ContexteTravail {
	const X = romecsv.Contexte
	x := romecsv.MustByName(X)
	out := make([]ContexteTravail, 0, s.T(X).Len())
	for _, r := range s.T(X).Rows() {
		out = append(out, ContexteTravail{r.Cols[x.Col("code_ogr")], r.Cols[x.Col("libelle_cont_travail")],
			fiche.ContexteCategories[r.Cols[x.Col("code_type_cont_trav")]]})
	}
	return out
}
