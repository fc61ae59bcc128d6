package backend

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/apiclient"
)

// Referential reads the ROME and dry-runs change sets.
type Referential struct {
	api *apiclient.Client
	// client is the referential's own Go client, for the routes it covers.
	client *refclient.Client
}

// The fiche document of GET /v1/fiches/{code} is the referential's contract (refclient).
type (
	Ref             = refclient.Ref
	Item            = refclient.Item
	Appellation     = refclient.Appellation
	MacroCompetence = refclient.MacroCompetence
	SavoirCategorie = refclient.SavoirCategorie
	Savoir          = refclient.Savoir
	ContexteType    = refclient.ContexteType
	Mobilite        = refclient.Mobilite
	Tags            = refclient.Tags
	Fiche           = refclient.Fiche
)

// Fiche reads a fiche at the current version, or at version when it is positive, or as the
// next release will make it (refclient.NextVersion).
func (c *Referential) Fiche(ctx context.Context, codeRome string, version int) (*Fiche, error) {
	var f Fiche
	err := c.api.Do(ctx, http.MethodGet, "/v1/fiches/"+url.PathEscape(codeRome)+refclient.VersionQuery(version), nil, &f)
	return &f, err
}

// FicheSummary is a line of the fiches' list.
type FicheSummary struct {
	CodeRome             string `json:"codeRome"`
	Libelle              string `json:"libelle"`
	GrandDomaine         Ref    `json:"grandDomaine"`
	DomaineProfessionnel Ref    `json:"domaineProfessionnel"`
}

// Fiches lists the fiches whose label matches q (all when empty), limit at most.
func (c *Referential) Fiches(ctx context.Context, q string, limit int) ([]FicheSummary, error) {
	v := url.Values{"limit": {strconv.Itoa(limit)}}
	if q != "" {
		v.Set("q", q)
	}
	var out struct {
		Items []FicheSummary `json:"items"`
	}
	err := c.api.Do(ctx, http.MethodGet, "/v1/fiches?"+v.Encode(), nil, &out)
	return out.Items, err
}

// Hit is a search result.
type Hit struct {
	CodeOgr         string  `json:"codeOgr"`
	Libelle         string  `json:"libelle"`
	CodeRome        string  `json:"codeRome"`
	Score           float64 `json:"score"`
	Fiche           *Ref    `json:"fiche"`
	MacroCompetence *Ref    `json:"macroCompetence"`
	Categorie       string  `json:"categorie"`
}

// Search kinds.
const (
	SearchAppellations = "appellations"
	SearchCompetences  = "competences"
	SearchSavoirs      = "savoirs"
)

// Search ranks the appellations, compétences or savoirs that match q.
func (c *Referential) Search(ctx context.Context, kind, q string, limit int) ([]Hit, error) {
	v := url.Values{"q": {q}, "limit": {strconv.Itoa(limit)}}
	var out struct {
		Items []Hit `json:"items"`
	}
	err := c.api.Do(ctx, http.MethodGet, "/v1/search/"+kind+"?"+v.Encode(), nil, &out)
	return out.Items, err
}

// HistoryEntry is one change to a fiche, with the version and request that made it.
type HistoryEntry struct {
	Version     int              `json:"version"`
	ChangesetID string           `json:"changesetId"`
	RequestID   string           `json:"requestId"`
	Change      refclient.Change `json:"change"`
}

// FicheHistory lists every change made to a fiche since the import.
func (c *Referential) FicheHistory(ctx context.Context, codeRome string) ([]HistoryEntry, error) {
	var out struct {
		Items []HistoryEntry `json:"items"`
	}
	err := c.api.Do(ctx, http.MethodGet, "/v1/fiches/"+url.PathEscape(codeRome)+"/history", nil, &out)
	return out.Items, err
}

// Version is one version of the referential.
type Version struct {
	Version     int       `json:"version"`
	Label       string    `json:"label"`
	Source      string    `json:"source"`
	PublishedAt time.Time `json:"publishedAt"`
	ChangesetID string    `json:"changesetId"`
	RequestID   string    `json:"requestId"`
}

// Versions lists the referential's versions.
func (c *Referential) Versions(ctx context.Context) ([]Version, error) {
	var out struct {
		Items []Version `json:"items"`
	}
	err := c.api.Do(ctx, http.MethodGet, "/v1/versions", nil, &out)
	return out.Items, err
}

// ChangeSet reads a published change set: its version and changes.
func (c *Referential) ChangeSet(ctx context.Context, id string) (*refclient.Publication, error) {
	var p refclient.Publication
	err := c.api.Do(ctx, http.MethodGet, "/v1/changesets/"+url.PathEscape(id), nil, &p)
	return &p, err
}

// Validate dry-runs operations on a fiche (the preview of a request being written).
func (c *Referential) Validate(ctx context.Context, cs refclient.ChangeSet) (*refclient.Validation, error) {
	var v refclient.Validation
	err := c.api.Do(ctx, http.MethodPost, "/v1/changesets:validate", cs, &v)
	return &v, err
}

// CurrentVersion is the referential's current version (GET /v1/version).
type CurrentVersion struct {
	Version          int       `json:"version"`
	Label            string    `json:"label"`
	PublishedAt      time.Time `json:"publishedAt"`
	LastModifiedDate time.Time `json:"lastModifiedDate"`
}

// Version reads the referential's current version.
func (c *Referential) Version(ctx context.Context) (CurrentVersion, error) {
	var v CurrentVersion
	err := c.api.Do(ctx, http.MethodGet, "/v1/version", nil, &v)
	return v, err
}

// SearchHit is a search result with the fiches that hold the item (compétences and
// savoirs: the first ten).
type SearchHit struct {
	Hit
	Fiches []Ref `json:"fiches"`
}

// SearchWithFiches is Search, keeping the fiches each compétence or savoir belongs to.
func (c *Referential) SearchWithFiches(ctx context.Context, kind, q string, limit int) ([]SearchHit, error) {
	v := url.Values{"q": {q}, "limit": {strconv.Itoa(limit)}}
	var out struct {
		Items []SearchHit `json:"items"`
	}
	err := c.api.Do(ctx, http.MethodGet, "/v1/search/"+url.PathEscape(kind)+"?"+v.Encode(), nil, &out)
	return out.Items, err
}

// ContexteTravail is a contexte de travail of the referential.
type ContexteTravail struct {
	CodeOgr   string `json:"codeOgr"`
	Libelle   string `json:"libelle"`
	Type      Ref    `json:"type"`
	Categorie string `json:"categorie"`
}

// ContextesTravail lists every contexte de travail (a few hundred), e.g. to pick one to add
// to a fiche.
func (c *Referential) ContextesTravail(ctx context.Context) ([]ContexteTravail, error) {
	var out struct {
		Items []ContexteTravail `json:"items"`
	}
	err := c.api.Do(ctx, http.MethodGet, "/v1/contextes-travail", nil, &out)
	return out.Items, err
}

// Release trains (refclient): the release being prepared, and the published ones.
type (
	Release         = refclient.Release
	StagedChangeSet = refclient.StagedChangeSet
)

// NextRelease is the release accepting change sets; ok is false when the deployment
// publishes every accepted request at once (no release trains).
func (c *Referential) NextRelease(ctx context.Context) (r *Release, ok bool, err error) {
	r, err = c.client.NextRelease(ctx)
	if e, isProblem := AsError(err); isProblem && e.Code == refclient.CodeReleaseTrainsOff {
		return nil, false, nil
	}
	return r, err == nil, err
}

// Releases lists the releases, newest first.
func (c *Referential) Releases(ctx context.Context) ([]Release, error) {
	return c.client.Releases(ctx)
}

// Release reads release n with its change sets and, once published, its notes.
func (c *Referential) Release(ctx context.Context, n int) (*Release, error) {
	return c.client.Release(ctx, n)
}

// Provenance says where each element of a fiche comes from (the version and the request or
// official import), at the current version or, when version is positive, at that one.
func (c *Referential) Provenance(ctx context.Context, codeRome string, version int) (*refclient.Provenance, error) {
	return c.client.Provenance(ctx, codeRome, version)
}
