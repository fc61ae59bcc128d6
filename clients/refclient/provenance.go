package refclient

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// The provenance of a fiche's elements, served by GET /v1/fiches/{code}/provenance.

// Origin is where an element of a fiche comes from: a version, and the official import or
// the change set and request behind it.
type Origin struct {
	Version     int       `json:"version"`
	Source      string    `json:"source"` // one of the Origin* sources
	Label       string    `json:"label"`  // the version's label
	PublishedAt time.Time `json:"publishedAt"`
	ChangesetID string    `json:"changesetId,omitempty"`
	RequestID   string    `json:"requestId,omitempty"`
}

// Version sources of an Origin.
const (
	OriginImport    = "import"    // an official release of France Travail
	OriginChangeSet = "changeset" // one accepted request, published at once
	OriginRelease   = "release"   // the accepted requests of a release train, published together
)

// ProvenanceElement is one element of a fiche and its origin.
type ProvenanceElement struct {
	// Kind is fiche, texte, appellation, competence, savoir, contexte or mobilite.
	Kind     string `json:"kind"`
	CodeOgr  string `json:"codeOgr,omitempty"`  // appellations, compétences, savoirs, contextes
	CodeRome string `json:"codeRome,omitempty"` // the fiche itself, the target of a mobilité
	Field    string `json:"field,omitempty"`    // texts: definition or accesEmploi
	Libelle  string `json:"libelle,omitempty"`
	// Introduced is the version from which the element has been on the fiche without
	// interruption; LastChanged the latest version that changed it since (its label, its
	// cœur de métier, its rank, its sentences), Introduced when none did.
	Introduced  Origin `json:"introduced"`
	LastChanged Origin `json:"lastChanged"`
}

// Provenance is every element of a fiche at a version, with its origin.
type Provenance struct {
	CodeRome string              `json:"codeRome"`
	Libelle  string              `json:"libelle"`
	Version  int                 `json:"version"`
	Elements []ProvenanceElement `json:"elements"`
}

// Provenance reads where each element of a fiche comes from, at the current version or,
// when version is positive, at that one (or NextVersion).
func (c *Client) Provenance(ctx context.Context, codeRome string, version int) (*Provenance, error) {
	path := "/v1/fiches/" + url.PathEscape(codeRome) + "/provenance" + VersionQuery(version)
	var p Provenance
	return &p, c.api.Do(ctx, http.MethodGet, path, nil, &p)
}
