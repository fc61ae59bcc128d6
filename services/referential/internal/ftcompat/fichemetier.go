package ftcompat

import "github.com/plateforme-rome/rome/services/referential/internal/fiche"

// FicheCompetence is a compétence of a group of the fiche métier.
type FicheCompetence struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Libelle string `json:"libelle"`
}

// GroupeCompetences gathers the compétences of one enjeu, in fiche order.
type GroupeCompetences struct {
	Enjeu       Ref               `json:"enjeu"`
	Competences []FicheCompetence `json:"competences"`
}

// GroupeSavoirs gathers the savoirs of one category, in fiche order.
type GroupeSavoirs struct {
	CategorieSavoirs Ref               `json:"categorieSavoirs"`
	Savoirs          []FicheCompetence `json:"savoirs"`
}

// FicheMetierDetail is the answer of GET /rome-fiches-metiers/v1/fiches-rome/fiche-metier/{code}.
type FicheMetierDetail struct {
	Obsolete                     bool                `json:"obsolete"`
	Code                         string              `json:"code"`
	Metier                       Ref                 `json:"metier"`
	GroupesCompetencesMobilisees []GroupeCompetences `json:"groupesCompetencesMobilisees"`
	GroupesSavoirs               []GroupeSavoirs     `json:"groupesSavoirs"`
}

// enjeu is the enjeu part of a macro-compétence's arborescence code (4A101 → 4A).
func enjeu(codeMacro string) string {
	if len(codeMacro) < 2 {
		return codeMacro
	}
	return codeMacro[:2]
}

// FicheMetier renders a fiche as France Travail's fiche métier: compétences grouped by
// enjeu (groups in order of first appearance), savoirs by category. Enjeu labels and the
// API's category codes are not in the referential: they stay empty (see the package doc).
func FicheMetier(f *fiche.Fiche) FicheMetierDetail {
	fm := FicheMetierDetail{
		Code:                         f.CodeRome,
		Metier:                       Ref{f.CodeRome, f.Libelle},
		GroupesCompetencesMobilisees: []GroupeCompetences{},
		GroupesSavoirs:               make([]GroupeSavoirs, 0, len(f.Savoirs)),
	}
	group := map[string]int{}
	eachSavoirFaire(f, func(mc fiche.MacroCompetence, c Competence, _ *string) {
		e := enjeu(mc.Code)
		i, ok := group[e]
		if !ok {
			i = len(fm.GroupesCompetencesMobilisees)
			group[e] = i
			fm.GroupesCompetencesMobilisees = append(fm.GroupesCompetencesMobilisees, GroupeCompetences{Enjeu: Ref{Code: e}, Competences: []FicheCompetence{}})
		}
		g := &fm.GroupesCompetencesMobilisees[i]
		g.Competences = append(g.Competences, FicheCompetence{c.Type, c.Code, c.Libelle})
	})
	for _, cat := range f.Savoirs {
		g := GroupeSavoirs{CategorieSavoirs: Ref{Libelle: cat.Categorie}, Savoirs: make([]FicheCompetence, 0, len(cat.Savoirs))}
		for _, s := range cat.Savoirs {
			g.Savoirs = append(g.Savoirs, FicheCompetence{TypeSavoir, s.CodeOgr, s.Libelle})
		}
		fm.GroupesSavoirs = append(fm.GroupesSavoirs, g)
	}
	return fm
}
