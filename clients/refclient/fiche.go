package refclient

// The fiche document served by GET /v1/fiches/{code}.

// Ref is a code with its label.
type Ref struct {
	Code    string `json:"code"`
	Libelle string `json:"libelle"`
}

// Tags are the fiche's O/N flags; nil means "not filled in" in the official files.
type Tags struct {
	TransitionEcologique    string `json:"transitionEcologique"`
	TransitionNumerique     *bool  `json:"transitionNumerique"`
	TransitionDemographique *bool  `json:"transitionDemographique"`
	EmploiReglemente        *bool  `json:"emploiReglemente"`
	EmploiCadre             *bool  `json:"emploiCadre"`
}

// Riasec is a RIASEC profile (majeur and, optionally, mineur letter).
type Riasec struct {
	Majeur string `json:"majeur"`
	Mineur string `json:"mineur"`
}

// Coeur-métier values as the API spells them.
const (
	CoeurPrincipale = "PRINCIPALE"
	CoeurEmergente  = "EMERGENTE"
)

// Appellation is a job title of the fiche.
type Appellation struct {
	CodeOgr        string `json:"codeOgr"`
	Libelle        string `json:"libelle"`
	LibelleCourt   string `json:"libelleCourt"`
	Classification string `json:"classification"` // PRINCIPALE or SYNONYME
	PeuUsite       bool   `json:"peuUsite"`
	Tags           Tags   `json:"tags"`
}

// Item is a compétence, savoir or contexte linked to the fiche.
type Item struct {
	CodeOgr     string  `json:"codeOgr"`
	Libelle     string  `json:"libelle"`
	CoeurMetier *string `json:"coeurMetier"`
}

// MacroCompetence groups the savoir-faire of a fiche under their macro-compétence. Linked
// tells whether the macro-compétence itself is on the fiche (not only its compétences).
type MacroCompetence struct {
	CodeOgr       string  `json:"codeOgr"`
	Code          string  `json:"code"` // e.g. 4A101: domaine 4, enjeu 4A, objectif 4A1
	Libelle       string  `json:"libelle"`
	SousCategorie string  `json:"sousCategorie"`
	Riasec        Riasec  `json:"riasec"`
	Linked        bool    `json:"linked"`
	CoeurMetier   *string `json:"coeurMetier"`
	Competences   []Item  `json:"competences"`
}

// Competences are the bloc 5 savoir-faire (grouped) and savoir-être professionnels.
type Competences struct {
	SavoirFaire              []MacroCompetence `json:"savoirFaire"`
	SavoirEtreProfessionnels []MacroCompetence `json:"savoirEtreProfessionnels"`
}

// SavoirCategorie groups savoirs by their official category.
type SavoirCategorie struct {
	Categorie string   `json:"categorie"`
	Savoirs   []Savoir `json:"savoirs"`
}

// Savoir is a savoir linked to the fiche.
type Savoir struct {
	Item
	SousCategorie string `json:"sousCategorie"`
}

// ContexteType groups contextes de travail by type.
type ContexteType struct {
	Code      string `json:"code"`
	Libelle   string `json:"libelle"`
	Categorie string `json:"categorie"` // France Travail's enum, e.g. CONDITIONS_TRAVAIL
	Contextes []Item `json:"contextes"`
}

// Mobilite is a career move to another fiche, ranked.
type Mobilite struct {
	CodeRome string `json:"codeRome"`
	Libelle  string `json:"libelle"`
	Rang     int    `json:"rang"`
}

// SecteurActivite is a secteur (and sous-secteur) the fiche belongs to.
type SecteurActivite struct {
	Code        string `json:"code"`
	Libelle     string `json:"libelle"`
	Definition  string `json:"definition"`
	SousSecteur *Ref   `json:"sousSecteur"`
	Principal   bool   `json:"principal"`
}

// CentreInteret is a "J'ai envie de…" interest the fiche matches.
type CentreInteret struct {
	Code       string `json:"code"`
	Libelle    string `json:"libelle"`
	Definition string `json:"definition"`
	Principal  bool   `json:"principal"`
}

// Theme is a thematic grouping of fiches.
type Theme struct {
	Code       string `json:"code"`
	Libelle    string `json:"libelle"`
	Definition string `json:"definition"`
}

// Textes keeps the sentences of the free texts as published, one per row.
type Textes struct {
	Definition  []string `json:"definition"`
	AccesEmploi []string `json:"accesEmploi"`
}

// Fiche is a whole fiche métier at one referential version.
type Fiche struct {
	CodeRome             string            `json:"codeRome"`
	CodeOgr              string            `json:"codeOgr"`
	CodeFicheMetier      string            `json:"codeFicheMetier"`
	Libelle              string            `json:"libelle"`
	CodeRomeParent       string            `json:"codeRomeParent"`
	GrandDomaine         Ref               `json:"grandDomaine"`
	DomaineProfessionnel Ref               `json:"domaineProfessionnel"`
	Tags                 Tags              `json:"tags"`
	Riasec               Riasec            `json:"riasec"`
	Definition           string            `json:"definition"`
	AccesEmploi          string            `json:"accesEmploi"`
	Textes               Textes            `json:"textes"`
	Appellations         []Appellation     `json:"appellations"`
	Competences          Competences       `json:"competences"`
	Savoirs              []SavoirCategorie `json:"savoirs"`
	ContextesTravail     []ContexteType    `json:"contextesTravail"`
	Mobilites            []Mobilite        `json:"mobilites"`
	SecteursActivite     []SecteurActivite `json:"secteursActivite"`
	SecteursNaf          []Ref             `json:"secteursNaf"`
	CentresInteret       []CentreInteret   `json:"centresInteret"`
	Themes               []Theme           `json:"themes"`
	Version              int               `json:"version"`
}
