// Package ftcompat renders the referential in the JSON shapes of France Travail's four ROME
// 4.0 APIs ("ROME 4.0 - Métiers" rome-metiers/v1, "ROME 4.0 - Fiches métiers"
// rome-fiches-metiers/v1, "ROME 4.0 - Compétences" rome-competences/v1 and "ROME 4.0 -
// Contextes de travail" rome-contextes-travail/v1), so that their consumers can read our
// service unchanged: same field names, nesting and JSON types, and no field those APIs do
// not have. champs.go and project.go implement the field selector on encoded answers.
//
// Sources (public repositories, read through the code index):
//   - azoklearn/candidatly docs/reference/rome/francetravail-io-rome-4-0-metiers.page.json and
//     docs/reference/rome/francetravail-io-rome-4-0-fiches-metiers.page.json: copies of the
//     francetravail.io documentation (API doc version 12.0, 2025-09-30) with the returned
//     fields and example answers of metier/{code}, appellation/{code} and fiche-metier/{code}.
//   - The rome-metiers swagger model descriptions, pasted in a consumer's TypeScript types
//     (type JobFT, next to JobsManyFTParams; repository not named by the index): optional
//     fields ("Ce champ est optionnel"), the transitionEcologiqueDetaillee enum, codeOgr kept
//     for compatibility, dateFin only on obsolete entities.
//   - The swagger's allowed values of the champs selector, copied by consumers: for
//     metier/{code} by a Zend controller (paramsDescriptionMetier), for the lists by a
//     TypeScript sync module (ModuleApellation, ModuleMetier): the full field list of each answer.
//   - mission-apprentissage/labonnealternance shared/models/rome.model.ts (commit 7147764):
//     a zod .strict() schema of a real metier answer (obsolete, codeIsco nullish,
//     competencesCles optional, secteurActivite any). It predates the transition and status
//     tags that the documentation now lists. A Go consumer's JobDTO/AppellationDTO
//     (secteursActivitesLies, centresInteretsLies, secteurActivite omitted when absent).
//   - The same francetravail.io Métiers page (API doc version 12.0): the lists (metier,
//     appellation, grand-domaine, domaine-professionnel, theme, centre-interet,
//     secteur-activite: plain JSON arrays, with their example items), their {code}, the
//     search appellation/requete?q= ({totalResultats, requete, resultats}, 20 results at
//     most, 400 without q) and the métier list's filters (riasec-majeur, riasec-mineur,
//     code-naf, code-competence; their descriptions in the swagger copied by a consumer,
//     JobsManyFTParams). metiergroups.go and metierfilter.go give the decisions they leave.
//   - A TypeScript sync module (rome_metiers and rome_competences modules: ModuleMetier,
//     ModuleApellation, ModuleGrandsDomaines, ModuleDomainesPro, ModuleCompetence,
//     ModuleMacrosCompetence, ModuleSavoirs, ModuleEnjeux, ModuleObjectifs…): the champs each
//     list accepts, hence its fields; rome-competences/v1/competences/{competence,
//     competence-detaillee, macro-competence, macro-savoir-faire,
//     macro-savoir-etre-professionnel, savoir, …} and the typed selectors @competencedetaillee,
//     @macrocompetence (both macro types), @macrosavoiretreprofessionnel, @savoir.
//   - avenirs-esr/avenirs-portfolio-interoperability (Java): the camelCase spellings of the
//     Compétences API (macroCompetence, objectif, enjeu, domaineCompetence, codeArborescence,
//     sousCategorie, maturite), …/competences/version and /competence, and the token answer
//     {access_token, scope, token_type, expires_in} of POST
//     /connexion/oauth2/access_token?realm=/partenaire with a client_credentials form.
//   - A NestJS FranceTravailService: the lists read as JSON arrays, token caching for 25
//     minutes, rome-contextes-travail/v1/situations-travail/contexte-travail; a Python
//     ContexteTravailClient: situations-travail/contexte-travail/{code} and
//     situations-travail/version.
//   - A TypeScript consumer's RomeReferentialClient and its test: /metiers/version read as
//     {"version": "61"}, the version number as a string. No source shows lastModifiedDate's
//     format: it is sent as an RFC 3339 date-time in UTC, the OpenAPI format of the API's dates.
//
// Decisions where our data (the official CSV export) lacks what the API has (the lists
// follow the same rules as the items they list):
//   - Lists: the métier list has the fields of the list selector (no compétences,
//     contextes, secteurs, thèmes: the NestJS consumer fetches metier/{code} for those); a
//     métier listed in a domaine has code, libelle, RIASEC, the tags and its appellations
//     without libelleCourt, as the documentation's examples; label, codeIsco, romeParent and
//     the appellations' secondaire are not in the export and not sent. The search ranks with
//     the referential's own index; totalResultats counts every appellation it matches.
//   - Compétences API: code and codeOgr are the code OGR, obsolete is false, the transition
//     flags come from the export (omitted when not filled in). Macro-compétences carry
//     definition, codeArborescence (code_macro_comp), sousCategorie, RIASEC and an objectif
//     with only the arborescence codes of objectif, enjeu and domaine (labels and France
//     Travail's codes are in the missing arborescence file); competenceEsco, dateFin,
//     maturite, transferable, qualiteProfessionnelle and the RIASEC of compétences détaillées
//     are not sent. A savoir's categorieSavoir has the sous-catégorie and catégorie labels
//     with empty codes. The lists of domaines, enjeux, objectifs and catégories of savoirs are
//     not served: without their labels they would be codes only.
//   - Contextes de travail API: code, libelle and categorie, as metier/{code} has them; no
//     source shows other fields.
//   - codeIsco, label, dateFin, transitionEcologique (boolean), appellationEsco,
//     appellations[].competencesCles, romeParent: optional in the API, absent from the
//     export: omitted. The boolean transitionEcologique cannot be derived with certainty from
//     the four-valued official tag, which is sent as transitionEcologiqueDetaillee.
//   - riasecMineur (empty for a fifth of the fiches), libelleCourt and the O/N tags: optional,
//     omitted when not filled in rather than sent as "" or false.
//   - formacodes: an always-present array, absent from the export: always [].
//   - obsolete: the referential only holds live fiches and appellations: always false.
//   - The deprecated mobility arrays (metiersProches, …) are not in the metier/{code} selector:
//     not sent.
//   - Compétences: code and codeOgr are both the code OGR (the swagger's examples, 100007 and
//     403091, are codes OGR of the export). RIASEC is known for macro-compétences only.
//   - Secteurs: an official row with a sous-secteur gives the sous-secteur with its parent
//     secteur under secteurActivite; a row without gives the secteur alone.
//   - Fiche métier: enjeu labels and the API's enjeu and savoir-category codes are not in the
//     export (unix_arborescence_competences is missing, see shared/data/rome4/SOURCE.md).
//     Groups carry the enjeu's arborescence code (4A for macro-compétence 4A101) with an empty
//     libelle, and the savoir category label with an empty code: never an invented value.
package ftcompat

import (
	"strconv"
	"time"

	"github.com/plateforme-rome/rome/services/referential/internal/fiche"
)

// Ref is the {code, libelle} node France Travail uses everywhere.
type Ref struct {
	Code    string `json:"code"`
	Libelle string `json:"libelle"`
}

// DomaineProfessionnel is a domaine professionnel with its grand domaine.
type DomaineProfessionnel struct {
	Code         string `json:"code"`
	Libelle      string `json:"libelle"`
	GrandDomaine Ref    `json:"grandDomaine"`
}

// Tags are the optional transition and status flags of métiers and appellations.
type Tags struct {
	TransitionEcologiqueDetaillee string `json:"transitionEcologiqueDetaillee,omitempty"`
	TransitionNumerique           *bool  `json:"transitionNumerique,omitempty"`
	TransitionDemographique       *bool  `json:"transitionDemographique,omitempty"`
	EmploiReglemente              *bool  `json:"emploiReglemente,omitempty"`
	EmploiCadre                   *bool  `json:"emploiCadre,omitempty"`
}

// Compétence types as the API spells them.
const (
	TypeCompetenceDetaillee = "COMPETENCE-DETAILLEE"
	TypeMacroSavoirFaire    = "MACRO-SAVOIR-FAIRE"
	TypeMacroSavoirEtre     = "MACRO-SAVOIR-ETRE-PROFESSIONNEL"
	TypeSavoir              = "SAVOIR"
)

// Competence is an item of competencesMobilisees*: code and codeOgr are both the code OGR.
type Competence struct {
	Type         string `json:"type"`
	Code         string `json:"code"`
	Libelle      string `json:"libelle"`
	CodeOgr      string `json:"codeOgr"`
	RiasecMajeur string `json:"riasecMajeur,omitempty"`
	RiasecMineur string `json:"riasecMineur,omitempty"`
}

// MetierAppellation is an appellation as listed in a métier.
type MetierAppellation struct {
	Code           string `json:"code"`
	Libelle        string `json:"libelle"`
	LibelleCourt   string `json:"libelleCourt,omitempty"`
	Classification string `json:"classification"`
	Tags
}

// SecteurActivite is a secteur, or a sous-secteur with its parent secteur.
type SecteurActivite struct {
	Code            string `json:"code"`
	Libelle         string `json:"libelle"`
	SecteurActivite *Ref   `json:"secteurActivite,omitempty"`
}

// SecteurActiviteLie is a secteur of the métier with its principal flag.
type SecteurActiviteLie struct {
	SecteurActivite SecteurActivite `json:"secteurActivite"`
	Principal       bool            `json:"principal"`
}

// CentreInteretLie is a centre d'intérêt of the métier with its principal flag.
type CentreInteretLie struct {
	CentreInteret Ref  `json:"centreInteret"`
	Principal     bool `json:"principal"`
}

// ContexteTravail is a contexte de travail with its category (CONDITIONS_TRAVAIL, …).
type ContexteTravail struct {
	Code      string `json:"code"`
	Libelle   string `json:"libelle"`
	Categorie string `json:"categorie"`
}

// MetierCore is what a métier carries both in the métier list and in metier/{code}.
type MetierCore struct {
	Obsolete             bool                 `json:"obsolete"`
	Code                 string               `json:"code"`
	Libelle              string               `json:"libelle"`
	Definition           string               `json:"definition"`
	AccesEmploi          string               `json:"accesEmploi"`
	RiasecMajeur         string               `json:"riasecMajeur,omitempty"`
	RiasecMineur         string               `json:"riasecMineur,omitempty"`
	DomaineProfessionnel DomaineProfessionnel `json:"domaineProfessionnel"`
	Tags
	Appellations []MetierAppellation `json:"appellations"`
}

// MetierDetail is the answer of GET /rome-metiers/v1/metiers/metier/{code}.
type MetierDetail struct {
	MetierCore
	Themes                           []Ref                `json:"themes"`
	CentresInterets                  []Ref                `json:"centresInterets"`
	CentresInteretsLies              []CentreInteretLie   `json:"centresInteretsLies"`
	SecteursActivites                []SecteurActivite    `json:"secteursActivites"`
	SecteursActivitesLies            []SecteurActiviteLie `json:"secteursActivitesLies"`
	CompetencesMobilisees            []Competence         `json:"competencesMobilisees"`
	CompetencesMobiliseesPrincipales []Competence         `json:"competencesMobiliseesPrincipales"`
	CompetencesMobiliseesEmergentes  []Competence         `json:"competencesMobiliseesEmergentes"`
	DivisionsNaf                     []Ref                `json:"divisionsNaf"`
	Formacodes                       []Ref                `json:"formacodes"`
	ContextesTravail                 []ContexteTravail    `json:"contextesTravail"`
}

// transitionEcologique maps the official tag labels, and the API values themselves (a
// change set may write either), to the API enum.
var transitionEcologique = map[string]string{
	"Emploi Blanc": "EMPLOI_BLANC",
	"Emploi Vert":  "EMPLOI_VERT",
	"Emploi Brun":  "EMPLOI_BRUN",
	"Emploi stratégique pour la Transition écologique": "EMPLOI_STRATEGIQUE",
	"EMPLOI_BLANC":       "EMPLOI_BLANC",
	"EMPLOI_VERT":        "EMPLOI_VERT",
	"EMPLOI_BRUN":        "EMPLOI_BRUN",
	"EMPLOI_STRATEGIQUE": "EMPLOI_STRATEGIQUE",
}

func tags(t fiche.Tags) Tags {
	return Tags{
		TransitionEcologiqueDetaillee: transitionEcologique[t.TransitionEcologique],
		TransitionNumerique:           t.TransitionNumerique,
		TransitionDemographique:       t.TransitionDemographique,
		EmploiReglemente:              t.EmploiReglemente,
		EmploiCadre:                   t.EmploiCadre,
	}
}

func domaine(f *fiche.Fiche) DomaineProfessionnel {
	return DomaineProfessionnel{
		Code:         f.DomaineProfessionnel.Code,
		Libelle:      f.DomaineProfessionnel.Libelle,
		GrandDomaine: Ref(f.GrandDomaine),
	}
}

func appellation(a fiche.Appellation) MetierAppellation {
	return MetierAppellation{Code: a.CodeOgr, Libelle: a.Libelle, LibelleCourt: a.LibelleCourt, Classification: a.Classification, Tags: tags(a.Tags)}
}

// Metier renders a fiche as France Travail's métier.
func Metier(f *fiche.Fiche) MetierDetail {
	m := MetierDetail{
		MetierCore: MetierCore{
			Code:                 f.CodeRome,
			Libelle:              f.Libelle,
			Definition:           f.Definition,
			AccesEmploi:          f.AccesEmploi,
			RiasecMajeur:         f.Riasec.Majeur,
			RiasecMineur:         f.Riasec.Mineur,
			DomaineProfessionnel: domaine(f),
			Tags:                 tags(f.Tags),
			Appellations:         make([]MetierAppellation, 0, len(f.Appellations)),
		},
		Themes:                make([]Ref, 0, len(f.Themes)),
		CentresInterets:       make([]Ref, 0, len(f.CentresInteret)),
		CentresInteretsLies:   make([]CentreInteretLie, 0, len(f.CentresInteret)),
		SecteursActivites:     make([]SecteurActivite, 0, len(f.SecteursActivite)),
		SecteursActivitesLies: make([]SecteurActiviteLie, 0, len(f.SecteursActivite)),
		DivisionsNaf:          make([]Ref, 0, len(f.SecteursNaf)),
		Formacodes:            []Ref{},
		ContextesTravail:      []ContexteTravail{},

		CompetencesMobilisees:            []Competence{},
		CompetencesMobiliseesPrincipales: []Competence{},
		CompetencesMobiliseesEmergentes:  []Competence{},
	}
	for _, a := range f.Appellations {
		m.Appellations = append(m.Appellations, appellation(a))
	}
	for _, t := range f.Themes {
		m.Themes = append(m.Themes, Ref{t.Code, t.Libelle})
	}
	for _, c := range f.CentresInteret {
		ci := Ref{c.Code, c.Libelle}
		m.CentresInterets = append(m.CentresInterets, ci)
		m.CentresInteretsLies = append(m.CentresInteretsLies, CentreInteretLie{ci, c.Principal})
	}
	for _, s := range f.SecteursActivite {
		// A row with a sous-secteur links the fiche to the sous-secteur, under its secteur.
		sa := SecteurActivite{Code: s.Code, Libelle: s.Libelle}
		if s.SousSecteur != nil {
			sa = SecteurActivite{Code: s.SousSecteur.Code, Libelle: s.SousSecteur.Libelle, SecteurActivite: &Ref{s.Code, s.Libelle}}
		}
		m.SecteursActivites = append(m.SecteursActivites, sa)
		m.SecteursActivitesLies = append(m.SecteursActivitesLies, SecteurActiviteLie{sa, s.Principal})
	}
	for _, n := range f.SecteursNaf {
		m.DivisionsNaf = append(m.DivisionsNaf, Ref(n))
	}
	for _, ct := range f.ContextesTravail {
		for _, c := range ct.Contextes {
			m.ContextesTravail = append(m.ContextesTravail, ContexteTravail{c.CodeOgr, c.Libelle, ct.Categorie})
		}
	}
	eachCompetence(f, func(c Competence, coeur *string) {
		m.CompetencesMobilisees = append(m.CompetencesMobilisees, c)
		switch {
		case coeur == nil:
		case *coeur == fiche.CoeurPrincipale:
			m.CompetencesMobiliseesPrincipales = append(m.CompetencesMobiliseesPrincipales, c)
		case *coeur == fiche.CoeurEmergente:
			m.CompetencesMobiliseesEmergentes = append(m.CompetencesMobiliseesEmergentes, c)
		}
	})
	return m
}

// macroCompetence renders a macro-compétence linked to the fiche.
func macroCompetence(typ string, mc fiche.MacroCompetence) Competence {
	return Competence{Type: typ, Code: mc.CodeOgr, Libelle: mc.Libelle, CodeOgr: mc.CodeOgr, RiasecMajeur: mc.Riasec.Majeur, RiasecMineur: mc.Riasec.Mineur}
}

func item(typ string, it fiche.Item) Competence {
	return Competence{Type: typ, Code: it.CodeOgr, Libelle: it.Libelle, CodeOgr: it.CodeOgr}
}

// eachSavoirFaire visits the savoir-faire and savoir-être of a fiche in fiche order, each
// with the macro-compétence it belongs to: a macro-compétence linked to the fiche comes
// before its compétences.
func eachSavoirFaire(f *fiche.Fiche, visit func(macro fiche.MacroCompetence, c Competence, coeur *string)) {
	for _, mc := range f.Competences.SavoirFaire {
		if mc.Linked {
			visit(mc, macroCompetence(TypeMacroSavoirFaire, mc), mc.CoeurMetier)
		}
		for _, it := range mc.Competences {
			visit(mc, item(TypeCompetenceDetaillee, it), it.CoeurMetier)
		}
	}
	for _, mc := range f.Competences.SavoirEtreProfessionnels {
		visit(mc, macroCompetence(TypeMacroSavoirEtre, mc), mc.CoeurMetier)
	}
}

// eachCompetence visits every compétence and savoir linked to a fiche, with its coeur-métier.
func eachCompetence(f *fiche.Fiche, visit func(c Competence, coeur *string)) {
	eachSavoirFaire(f, func(_ fiche.MacroCompetence, c Competence, coeur *string) { visit(c, coeur) })
	for _, cat := range f.Savoirs {
		for _, s := range cat.Savoirs {
			visit(item(TypeSavoir, s.Item), s.CoeurMetier)
		}
	}
}

// Version is the answer of GET /rome-metiers/v1/metiers/version.
type Version struct {
	Version          string `json:"version"`
	LastModifiedDate string `json:"lastModifiedDate"`
}

// MetierVersion renders a referential version: the number as a string ("60") and the
// date of its last change as an RFC 3339 date-time in UTC.
func MetierVersion(version int, lastModified time.Time) Version {
	return Version{Version: strconv.Itoa(version), LastModifiedDate: lastModified.UTC().Format(time.RFC3339)}
}

// AppellationMetier is the métier an appellation belongs to.
type AppellationMetier struct {
	Code                 string               `json:"code"`
	Libelle              string               `json:"libelle"`
	RiasecMajeur         string               `json:"riasecMajeur,omitempty"`
	RiasecMineur         string               `json:"riasecMineur,omitempty"`
	DomaineProfessionnel DomaineProfessionnel `json:"domaineProfessionnel"`
	Tags
}

// AppellationDetail is the answer of GET /rome-metiers/v1/metiers/appellation/{code}.
type AppellationDetail struct {
	Obsolete bool `json:"obsolete"`
	MetierAppellation
	Metier AppellationMetier `json:"metier"`
}

func appellationDetail(f *fiche.Fiche, a fiche.Appellation) AppellationDetail {
	return AppellationDetail{
		MetierAppellation: appellation(a),
		Metier: AppellationMetier{
			Code: f.CodeRome, Libelle: f.Libelle, RiasecMajeur: f.Riasec.Majeur, RiasecMineur: f.Riasec.Mineur,
			DomaineProfessionnel: domaine(f), Tags: tags(f.Tags),
		},
	}
}

// Appellations renders the appellations of a fiche as GET /metiers/appellation lists them.
func Appellations(f *fiche.Fiche) []AppellationDetail {
	out := make([]AppellationDetail, 0, len(f.Appellations))
	for _, a := range f.Appellations {
		out = append(out, appellationDetail(f, a))
	}
	return out
}
