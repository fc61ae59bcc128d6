package ftcompat

import (
	"slices"

	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// The thèmes, centres d'intérêt and secteurs d'activité of the Métiers API
// (GET /metiers/theme, /metiers/centre-interet, /metiers/secteur-activite and their
// {code}): the francetravail.io documentation (API doc version 12.0) gives each its code,
// libelle, definition and métiers, the métiers in the shape they have in a domaine
// (MetierResume), and a secteur its parent secteurActivite {code, libelle}.
//
// Decisions the documentation does not settle:
//   - A group's métiers are the fiches its link file (unix_arborescence_thematique,
//     unix_arborescence_centre_interet, unix_arborescence_secteur_activite) ties to it, each
//     once, in code ROME order; the link's principal flag is not in these answers.
//   - A secteur's métiers are the rows naming it, with or without a sous-secteur; a
//     sous-secteur's, the rows naming the sous-secteur. The secteur list holds every secteur
//     then every sous-secteur (their codes never collide), so that every code secteur-
//     activite/{code} answers is listed; only a sous-secteur has a secteurActivite.
//   - definition is omitted when the official file leaves it empty (every sous-secteur of
//     v460), as the other optional texts are.
//   - Lists are in the order of the official files.

// MetierGroup is a thème or a centre d'intérêt with its métiers: an item of the list and
// the answer of {code}. The documentation gives both the same fields.
type MetierGroup struct {
	Code       string                  `json:"code"`
	Libelle    string                  `json:"libelle"`
	Definition string                  `json:"definition,omitempty"`
	Metiers    []Encoded[MetierResume] `json:"metiers"`
}

// SecteurActiviteDetail is a secteur d'activité, or a sous-secteur under its secteur, with
// its métiers.
type SecteurActiviteDetail struct {
	MetierGroup
	SecteurActivite *Ref `json:"secteurActivite,omitempty"`
}

// MetierGroups are the thèmes, centres d'intérêt and secteurs d'activité of a version.
type MetierGroups struct {
	Themes            []MetierGroup
	CentresInterets   []MetierGroup
	SecteursActivites []SecteurActiviteDetail
}

// groupFile is a shared file of groups (its code, libellé and définition columns) and the
// file that links fiches to them (its column naming the group).
type groupFile struct {
	dataset, code, libelle, definition string
	links, linkCode                    string
}

var (
	themeFile         = groupFile{romecsv.Theme, "code_theme", "libelle_theme", "definition_theme", romecsv.FicheTheme, "code_theme"}
	centreInteretFile = groupFile{romecsv.CentreInteret, "code_centre_interet", "libelle_centre_interet", "definition_centre_interet",
		romecsv.FicheCentreInteret, "code_centre_interet"}
	secteurFile = groupFile{romecsv.SecteurActivite, "code_sect_activite", "libelle_sect_activite", "definition_sect_activite",
		romecsv.FicheSecteurActivite, "code_sect_activite"}
	sousSecteurFile = groupFile{romecsv.SousSecteurActivite, "code_ss_sect_activite", "libelle_ss_sect_activite", "definition_ss_sect_activite",
		romecsv.FicheSecteurActivite, "code_ss_sect_activite"}
)

// groups renders every group of the file, each with the encoded métiers of its fiches
// (resumes by code ROME).
func (g groupFile) groups(s *refdata.Snapshot, resumes map[string]Encoded[MetierResume]) []MetierGroup {
	links := romecsv.MustByName(g.links)
	fiches := map[string][]string{}
	for _, r := range s.T(g.links).Rows() {
		if group := r.Cols[links.Col(g.linkCode)]; group != "" {
			fiches[group] = append(fiches[group], links.CodeRome(r.Cols))
		}
	}
	ds := romecsv.MustByName(g.dataset)
	out := make([]MetierGroup, 0, s.T(g.dataset).Len())
	for _, r := range s.T(g.dataset).Rows() {
		code := r.Cols[ds.Col(g.code)]
		codes := fiches[code]
		slices.Sort(codes)
		metiers := make([]Encoded[MetierResume], 0, len(codes))
		for _, c := range slices.Compact(codes) { // a secteur's fiche may be linked through several sous-secteurs
			if m, ok := resumes[c]; ok {
				metiers = append(metiers, m)
			}
		}
		out = append(out, MetierGroup{Code: code, Libelle: r.Cols[ds.Col(g.libelle)], Definition: r.Cols[ds.Col(g.definition)], Metiers: metiers})
	}
	return out
}

// Groups renders the thèmes, centres d'intérêt and secteurs d'activité of a version from
// its encoded métiers (resumes[i] is the fiche codes[i]).
func Groups(s *refdata.Snapshot, codes []string, resumes [][]byte) MetierGroups {
	byCode := make(map[string]Encoded[MetierResume], len(codes))
	for i, code := range codes {
		byCode[code] = resumes[i]
	}
	out := MetierGroups{Themes: themeFile.groups(s, byCode), CentresInterets: centreInteretFile.groups(s, byCode)}
	for _, sa := range secteurFile.groups(s, byCode) {
		out.SecteursActivites = append(out.SecteursActivites, SecteurActiviteDetail{MetierGroup: sa})
	}
	ss := romecsv.MustByName(romecsv.SousSecteurActivite)
	sa := romecsv.MustByName(romecsv.SecteurActivite)
	for _, g := range sousSecteurFile.groups(s, byCode) {
		row, _ := s.Get(romecsv.SousSecteurActivite, g.Code)
		parent := row[ss.Col("code_sect_activite")]
		p, _ := s.Get(romecsv.SecteurActivite, parent) // the importer's integrity checks make it exist
		out.SecteursActivites = append(out.SecteursActivites, SecteurActiviteDetail{MetierGroup: g,
			SecteurActivite: &Ref{Code: parent, Libelle: p[sa.Col("libelle_sect_activite")]}})
	}
	return out
}
