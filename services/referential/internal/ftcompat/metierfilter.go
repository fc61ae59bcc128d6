package ftcompat

import (
	"strings"

	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// The filters of GET /metiers/metier, as the francetravail.io documentation (API doc
// version 12.0, "Lister les métiers") and the swagger's parameter descriptions copied by a
// consumer (JobsManyFTParams) name them: riasec-majeur, riasec-mineur, code-naf ("Code de
// la division NAF") and code-competence ("Code compétence"), all optional. Given together,
// a métier must match each.
//
// Decisions the documentation does not settle:
//   - RIASEC: it lists the values as the six words (Réaliste, Investigatif, Artistique,
//     Social, Entreprenant, Conventionnel) while the métiers carry the letter: either is
//     accepted, case-insensitively; any other value is refused (a 400), since the set is closed.
//   - code-naf: the export writes divisions without their leading zero ("1" for the
//     division 01): codes are compared as numbers, so "01" and "1" are the same division.
//   - code-competence: a code OGR of any item of the métier's competencesMobilisees
//     (compétence détaillée, macro-compétence, savoir). An unknown code keeps no métier.

// MetierFilter holds the filters of a métier list request; empty fields filter nothing.
type MetierFilter struct {
	RiasecMajeur, RiasecMineur string // letters, as RiasecLetter gives them
	CodeNaf, CodeCompetence    string
}

// riasecWords are the documented words of each RIASEC letter.
var riasecWords = map[string]string{
	"réaliste": "R", "investigatif": "I", "artistique": "A", "social": "S", "entreprenant": "E", "conventionnel": "C",
}

// RiasecLetter reads a RIASEC filter value, a letter or its documented word; ok is false
// for anything else.
func RiasecLetter(v string) (letter string, ok bool) {
	v = strings.ToLower(strings.TrimSpace(v))
	for word, l := range riasecWords {
		if v == word || v == strings.ToLower(l) {
			return l, true
		}
	}
	return "", false
}

// nafDivision folds a division NAF code to its number without leading zeros.
func nafDivision(code string) string {
	if n := strings.TrimLeft(strings.TrimSpace(code), "0"); n != "" {
		return n
	}
	return "0"
}

// MetierIndex answers the filters of the métier list for one version: per fiche its
// RIASEC, per division NAF and per item code OGR the fiches that have it.
type MetierIndex struct {
	riasec      map[string][2]string // code ROME → majeur, mineur
	naf         map[string]map[string]bool
	competences map[string]map[string]bool
}

// NewMetierIndex indexes a version from the files the métiers are rendered from.
func NewMetierIndex(s *refdata.Snapshot) *MetierIndex {
	ix := &MetierIndex{riasec: map[string][2]string{}, naf: map[string]map[string]bool{}, competences: map[string]map[string]bool{}}
	add := func(m map[string]map[string]bool, key, code string) {
		if m[key] == nil {
			m[key] = map[string]bool{}
		}
		m[key][code] = true
	}
	r := romecsv.MustByName(romecsv.FicheRiasec)
	for _, row := range s.T(romecsv.FicheRiasec).Rows() {
		ix.riasec[r.CodeRome(row.Cols)] = [2]string{row.Cols[r.Col("riasec_majeur")], row.Cols[r.Col("riasec_mineur")]}
	}
	n := romecsv.MustByName(romecsv.FicheSecteurNaf)
	for _, row := range s.T(romecsv.FicheSecteurNaf).Rows() {
		add(ix.naf, nafDivision(row.Cols[n.Col("code_secteur_naf")]), n.CodeRome(row.Cols))
	}
	l := romecsv.MustByName(romecsv.Lien)
	for _, row := range s.T(romecsv.Lien).Rows() {
		if row.Cols[l.Col("code_compo_bloc")] == romecsv.BlocCompetences {
			add(ix.competences, row.Cols[l.Col("code_ogr")], l.CodeRome(row.Cols))
		}
	}
	return ix
}

// Keeps tells whether the fiche code passes every filter of f.
func (ix *MetierIndex) Keeps(f MetierFilter, code string) bool {
	r := ix.riasec[code]
	return (f.RiasecMajeur == "" || r[0] == f.RiasecMajeur) &&
		(f.RiasecMineur == "" || r[1] == f.RiasecMineur) &&
		(f.CodeNaf == "" || ix.naf[nafDivision(f.CodeNaf)][code]) &&
		(f.CodeCompetence == "" || ix.competences[strings.TrimSpace(f.CodeCompetence)][code])
}

// Empty tells whether f filters nothing.
func (f MetierFilter) Empty() bool { return f == MetierFilter{} }
