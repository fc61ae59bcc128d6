package ftcompat

import (
	"slices"
	"strings"

	"github.com/plateforme-rome/rome/services/referential/internal/fiche"
	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// MetierItem is a métier as GET /rome-metiers/v1/metiers/metier lists it: the fields of the
// documentation's list example and of a consumer's list selector (ModuleMetier), without
// the compétences, contextes, secteurs and thèmes that only metier/{code} carries.
type MetierItem struct {
	MetierCore
	Formacodes []Ref `json:"formacodes"`
}

// MetierListItem renders a fiche as an item of the métier list.
func MetierListItem(f *fiche.Fiche) MetierItem {
	m := Metier(f)
	return MetierItem{MetierCore: m.MetierCore, Formacodes: m.Formacodes}
}

// AppellationResume is an appellation of a métier listed in a domaine: the documentation's
// examples give no libelleCourt there.
type AppellationResume struct {
	Code           string `json:"code"`
	Libelle        string `json:"libelle"`
	Classification string `json:"classification"`
	Tags
}

// MetierResume is a métier as the grand domaine and domaine professionnel answers list it.
type MetierResume struct {
	Code         string `json:"code"`
	Libelle      string `json:"libelle"`
	RiasecMajeur string `json:"riasecMajeur,omitempty"`
	RiasecMineur string `json:"riasecMineur,omitempty"`
	Tags
	Appellations []AppellationResume `json:"appellations"`
}

// MetierInDomaine renders a fiche as a métier listed in its domaine.
func MetierInDomaine(f *fiche.Fiche) MetierResume {
	m := MetierResume{Code: f.CodeRome, Libelle: f.Libelle, RiasecMajeur: f.Riasec.Majeur, RiasecMineur: f.Riasec.Mineur,
		Tags: tags(f.Tags), Appellations: make([]AppellationResume, 0, len(f.Appellations))}
	for _, a := range f.Appellations {
		m.Appellations = append(m.Appellations, AppellationResume{a.CodeOgr, a.Libelle, a.Classification, tags(a.Tags)})
	}
	return m
}

// DomaineProfessionnelDetail is an item of GET /metiers/domaine-professionnel and the
// answer of domaine-professionnel/{code}: its métiers are encoded once per fiche.
type DomaineProfessionnelDetail struct {
	Code         string                  `json:"code"`
	Libelle      string                  `json:"libelle"`
	GrandDomaine Ref                     `json:"grandDomaine"`
	Metiers      []Encoded[MetierResume] `json:"metiers"`
}

// DomaineDansGrandDomaine is a domaine professionnel listed in its grand domaine.
type DomaineDansGrandDomaine struct {
	Code    string                  `json:"code"`
	Libelle string                  `json:"libelle"`
	Metiers []Encoded[MetierResume] `json:"metiers"`
}

// GrandDomaineDetail is an item of GET /metiers/grand-domaine and the answer of
// grand-domaine/{code}. The API spells the list domaineProfessionnels.
type GrandDomaineDetail struct {
	Code                  string                    `json:"code"`
	Libelle               string                    `json:"libelle"`
	DomaineProfessionnels []DomaineDansGrandDomaine `json:"domaineProfessionnels"`
}

// RequeteMetier is the métier of an appellation found by a search.
type RequeteMetier struct {
	Code         string `json:"code"`
	Libelle      string `json:"libelle"`
	RiasecMajeur string `json:"riasecMajeur,omitempty"`
	RiasecMineur string `json:"riasecMineur,omitempty"`
}

// RequeteResultat is an appellation found by GET /metiers/appellation/requete.
type RequeteResultat struct {
	Code           string `json:"code"`
	Libelle        string `json:"libelle"`
	Classification string `json:"classification"`
	Tags
	Metier RequeteMetier `json:"metier"`
}

// RequeteAppellation is the answer of GET /metiers/appellation/requete?q=: at most
// MaxRequeteResultats results, with the number of appellations that match.
type RequeteAppellation struct {
	TotalResultats int               `json:"totalResultats"`
	Requete        string            `json:"requete"`
	Resultats      []RequeteResultat `json:"resultats"`
}

// MaxRequeteResultats is the documentation's "20 appellations maxi renvoyées".
const MaxRequeteResultats = 20

// Resultat renders a found appellation from its detail.
func Resultat(a AppellationDetail) RequeteResultat {
	return RequeteResultat{Code: a.Code, Libelle: a.Libelle, Classification: a.Classification, Tags: a.Tags,
		Metier: RequeteMetier{a.Metier.Code, a.Metier.Libelle, a.Metier.RiasecMajeur, a.Metier.RiasecMineur}}
}

// Domaines groups the métiers of a version by domaine professionnel and grand domaine,
// from the encoded métiers (resumes[i] is the fiche codes[i], codes sorted): the answers of
// the grand-domaine and domaine-professionnel routes, in code order.
func Domaines(s *refdata.Snapshot, codes []string, resumes [][]byte) ([]GrandDomaineDetail, []DomaineProfessionnelDetail) {
	metiers := map[string][]Encoded[MetierResume]{}
	for i, code := range codes {
		metiers[code[:3]] = append(metiers[code[:3]], Encoded[MetierResume](resumes[i]))
	}
	ref := func(name string) []Ref {
		var out []Ref
		for _, r := range s.T(name).Rows() {
			out = append(out, Ref{r.Cols[0], r.Cols[1]})
		}
		slices.SortFunc(out, func(a, b Ref) int { return strings.Compare(a.Code, b.Code) })
		return out
	}
	grands := ref(romecsv.GrandDomaine)
	gd := make([]GrandDomaineDetail, 0, len(grands))
	byLetter := map[string]int{}
	for _, g := range grands {
		byLetter[g.Code] = len(gd)
		gd = append(gd, GrandDomaineDetail{Code: g.Code, Libelle: g.Libelle, DomaineProfessionnels: []DomaineDansGrandDomaine{}})
	}
	var dp []DomaineProfessionnelDetail
	for _, d := range ref(romecsv.DomainePro) {
		ms := metiers[d.Code]
		if ms == nil {
			ms = []Encoded[MetierResume]{}
		}
		i, ok := byLetter[d.Code[:1]]
		if !ok {
			continue // a domaine without its grand domaine: the importer's integrity checks forbid it
		}
		g := &gd[i]
		g.DomaineProfessionnels = append(g.DomaineProfessionnels, DomaineDansGrandDomaine{d.Code, d.Libelle, ms})
		dp = append(dp, DomaineProfessionnelDetail{d.Code, d.Libelle, Ref{g.Code, g.Libelle}, ms})
	}
	return gd, dp
}
