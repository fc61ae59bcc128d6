// Package refclient is the referential's public Go contract: the types of its change-set API
// (typed operations, results, semantic changes, publications) and an HTTP client. The
// intake and the request workflow's activities use it; the service's internals build on the
// same types.
// It also includes the fiche document served by GET /v1/fiches/{code} (fiche.go).
package refclient

import (
	"encoding/json"
	"time"
)

// Operation kinds (api.md).
const (
	OpCreateFiche       = "create_fiche"
	OpAddAppellation    = "add_appellation"
	OpUpdateAppellation = "update_appellation"
	OpRemoveAppellation = "remove_appellation"
	OpMoveAppellation   = "move_appellation"
	OpAddCompetence     = "add_competence"
	OpRemoveCompetence  = "remove_competence"
	OpSetCoeurMetier    = "set_coeur_metier"
	OpAddSavoir         = "add_savoir"
	OpRemoveSavoir      = "remove_savoir"
	OpAddContexte       = "add_contexte"
	OpRemoveContexte    = "remove_contexte"
	OpAddMobilite       = "add_mobilite"
	OpRemoveMobilite    = "remove_mobilite"
	OpSetText           = "set_text"
	OpSetTags           = "set_tags"
)

// Operation is one typed change. Which fields matter depends on Op; the JSON is the
// public contract of api.md, shared by the intake API and the request workflow.
type Operation struct {
	ID string `json:"id,omitempty"`
	Op string `json:"op"`

	CodeOgr      string `json:"codeOgr,omitempty"`
	Libelle      string `json:"libelle,omitempty"`
	LibelleCourt string `json:"libelleCourt,omitempty"`

	// create_fiche
	DomaineProfessionnel  string                 `json:"domaineProfessionnel,omitempty"`
	Definition            string                 `json:"definition,omitempty"`
	AccesEmploi           string                 `json:"accesEmploi,omitempty"`
	AppellationPrincipale *AppellationPrincipale `json:"appellationPrincipale,omitempty"`

	// remove_appellation
	ReplacedBy string `json:"replacedBy,omitempty"`
	Reason     string `json:"reason,omitempty"`

	// move_appellation, add_mobilite, remove_mobilite
	ToCodeRome string `json:"toCodeRome,omitempty"`
	Rank       *int   `json:"rank,omitempty"`

	// add_competence, set_coeur_metier: "PRINCIPALE", "EMERGENTE" or null
	CoeurMetier *string  `json:"coeurMetier,omitempty"`
	New         *NewItem `json:"new,omitempty"`

	// set_text
	Field string `json:"field,omitempty"`
	Text  string `json:"text,omitempty"`

	// set_tags: a nil field is left as it is
	TransitionEcologique    *string `json:"transitionEcologique,omitempty"`
	TransitionNumerique     *bool   `json:"transitionNumerique,omitempty"`
	TransitionDemographique *bool   `json:"transitionDemographique,omitempty"`
	EmploiReglemente        *bool   `json:"emploiReglemente,omitempty"`
	EmploiCadre             *bool   `json:"emploiCadre,omitempty"`
}

// AppellationPrincipale of a new fiche: an existing appellation to move, or a new label.
type AppellationPrincipale struct {
	CodeOgr      string `json:"codeOgr,omitempty"`
	Libelle      string `json:"libelle,omitempty"`
	LibelleCourt string `json:"libelleCourt,omitempty"`
}

// NewItem is a compétence or savoir that the referential does not have yet.
type NewItem struct {
	Libelle                string `json:"libelle"`
	MacroCompetenceCodeOgr string `json:"macroCompetenceCodeOgr,omitempty"`
	Categorie              string `json:"categorie,omitempty"`
}

// Text fields of set_text.
const (
	FieldDefinition  = "definition"
	FieldAccesEmploi = "accesEmploi"
)

// Change is one line of the semantic diff, in ROME terms.
type Change struct {
	OperationID string `json:"operationId"`
	CodeRome    string `json:"codeRome"`
	Action      string `json:"action"` // added, removed, updated, moved, created
	Entity      string `json:"entity"` // fiche, appellation, competence, savoir, contexte, mobilite, texte, tags, coeurMetier
	CodeOgr     string `json:"codeOgr,omitempty"`
	Libelle     string `json:"libelle,omitempty"`
	Field       string `json:"field,omitempty"`
	Before      any    `json:"before,omitempty"`
	After       any    `json:"after,omitempty"`
}

// Result is the outcome of one operation.
type Result struct {
	OperationID string   `json:"operationId"`
	Op          string   `json:"op"`
	Applies     bool     `json:"applies"`
	Code        string   `json:"code,omitempty"`   // stable reason code when it does not apply
	Reason      string   `json:"reason,omitempty"` // for people
	Field       string   `json:"field,omitempty"`  // the offending field of the operation
	Changes     []Change `json:"changes"`
	// Impact is what the operation touches beyond its own change; only a dry run
	// (POST /v1/changesets:validate) reports it, for an operation that applies and that
	// removes, moves or renames an appellation or takes an item off the fiche.
	Impact *Impact `json:"impact,omitempty"`
}

// Impact is what an operation breaks or changes for others, for the moderator to weigh
// before accepting it.
type Impact struct {
	// Fiches are the codes ROME the operation changes.
	Fiches []string `json:"fiches"`
	// Mobilites are the mobilités of other fiches that lead to one of Fiches. When an item
	// is taken off, only those whose fiche carries the item too: the two fiches shared it.
	Mobilites []MobiliteImpact `json:"mobilites"`
	// OrphanAppellations are the appellations left without a fiche and without a
	// replacement: the one removed without replacedBy (or whose replacement goes too),
	// and those that earlier removals replaced by it.
	OrphanAppellations []ImpactRef `json:"orphanAppellations"`
	// OrphanItems are the compétences, savoirs or contextes that no fiche carries after it.
	OrphanItems []ImpactRef `json:"orphanItems"`
	// Subscribers counts the webhook endpoints that a change of Fiches notifies, those
	// subscribed to every fiche included.
	Subscribers int `json:"subscribers"`
}

// MobiliteImpact is a mobilité from fiche CodeRome to fiche CodeRomeCible, at rank Rang.
type MobiliteImpact struct {
	CodeRome      string `json:"codeRome"`
	Libelle       string `json:"libelle"`
	CodeRomeCible string `json:"codeRomeCible"`
	Rang          int    `json:"rang"`
}

// ImpactRef names an appellation or item; CodeRome is the fiche an appellation was on.
type ImpactRef struct {
	CodeOgr  string `json:"codeOgr"`
	Libelle  string `json:"libelle"`
	CodeRome string `json:"codeRome,omitempty"`
}

// ChangeSet is the body of POST /v1/changesets (and, without id, of :validate).
type ChangeSet struct {
	ID          string `json:"id"`
	RequestID   string `json:"requestId"`
	BaseVersion int    `json:"baseVersion"`
	CodeRome    string `json:"codeRome"`
	// RequestTitle names the request in a release's notes (release trains).
	RequestTitle string      `json:"requestTitle,omitempty"`
	Operations   []Operation `json:"operations"`
}

// Validation is the dry run of a change set on the current version.
type Validation struct {
	Version  int             `json:"version"`
	CodeRome string          `json:"codeRome"`
	Applies  bool            `json:"applies"` // every operation applies
	Results  []Result        `json:"results"`
	Diff     []Change        `json:"diff"`
	Before   json.RawMessage `json:"before"`  // the fiche before (null for a new fiche)
	Preview  json.RawMessage `json:"preview"` // the fiche after the operations that apply
}

// Publication is the answer to POST /v1/changesets; the same change set sent again gets
// exactly the same answer. Under release trains the change set is staged instead (202):
// Release is the release it waits in and Version is 0 until that release is published.
type Publication struct {
	ID          string    `json:"id"`
	RequestID   string    `json:"requestId"`
	CodeRome    string    `json:"codeRome"`
	BaseVersion int       `json:"baseVersion"`
	Version     int       `json:"version"`
	Release     int       `json:"release,omitempty"`
	PublishedAt time.Time `json:"publishedAt"`
	Results     []Result  `json:"results"`
	Changes     []Change  `json:"changes"`
}

// Staged tells whether the change set waits in a release rather than being published.
func (p Publication) Staged() bool { return p.Version == 0 && p.Release > 0 }

// Publication modes of a deployment (PUBLICATION_MODE).
const (
	PublicationImmediate     = "immediate"      // every accepted change set is a version at once
	PublicationReleaseTrains = "release_trains" // accepted change sets wait for the next release
)

// Release statuses, in the order of a release's life.
const (
	ReleaseOpen      = "open"      // accepting staged change sets
	ReleaseFrozen    = "frozen"    // being cut: new change sets go to the next release
	ReleasePublished = "published" // published as one version
)

// Statuses of a change set staged in a release.
const (
	StagedWaiting  = "staged"   // waits for the release
	StagedIncluded = "included" // applies with the others: published with the release
	StagedReturned = "returned" // no longer applies: sent back to the request's moderators
)

// Release is a release train: the change sets staged into it and, once published, the
// version it became and its notes.
type Release struct {
	Number      int               `json:"number"`
	Status      string            `json:"status"`
	OpenedAt    time.Time         `json:"openedAt"`
	FrozenAt    *time.Time        `json:"frozenAt"`
	PublishedAt *time.Time        `json:"publishedAt"`
	Version     *int              `json:"version"` // the version it published
	ChangeSets  []StagedChangeSet `json:"changeSets"`
	Notes       string            `json:"notes"` // French release notes (Markdown), once published
}

// StagedChangeSet is a change set waiting in (or decided by) a release.
type StagedChangeSet struct {
	ID           string `json:"id"`
	RequestID    string `json:"requestId"`
	RequestTitle string `json:"requestTitle,omitempty"`
	// CodeRome is the fiche's code: for a new fiche, the one it gets when the release is
	// published (empty before).
	CodeRome string    `json:"codeRome"`
	StagedAt time.Time `json:"stagedAt"`
	Status   string    `json:"status"`
	// Results are the verdicts of the last validation: why a returned change set no
	// longer applies.
	Results []Result `json:"results,omitempty"`
}
