// Package app is the referential service's core: the current version in memory, fiche
// documents built once per version, search, change sets and time travel.
package app

import (
	"compress/gzip"
	"encoding/json"
	"sort"
	"strconv"
	"sync"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/referential/internal/fiche"
	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/services/referential/internal/search"
)

// State is one referential version with everything derived from it. The referential
// changes a few times a year, so documents are built once and served from memory.
type State struct {
	Snap *refdata.Snapshot
	ETag string

	docs  sync.Map // code ROME → *Doc
	codes []string // every code ROME, sorted

	searchOnce sync.Once
	indexes    map[string]*search.Index // "appellations", "competences", "savoirs"
	labelKeys  map[string]string        // appellation label key → code OGR
	itemFiches map[string][]string      // item code OGR → fiches it is on

	memo sync.Map // key → *memoEntry: values derived once per version (Memo)

	pending *pending // the next release: what it adds to the current version (nil for a version)
}

type memoEntry struct {
	once  sync.Once
	value any
}

// Memo returns the value derived from this version under key, building it on first use:
// what is computed from a version (a list, an index) is computed once.
func (st *State) Memo(key string, build func() any) any {
	e, _ := st.memo.LoadOrStore(key, &memoEntry{})
	m := e.(*memoEntry)
	m.once.Do(func() { m.value = build() })
	return m.value
}

// Doc is a fiche at one version and its encodings, each built at most once. Only the
// encodings stay in memory: the assembled fiche is rebuilt when one is needed again.
type Doc struct {
	code string
	st   *State

	once    [shapeCount]sync.Once
	encoded [shapeCount][]byte
	// The encodings gzip-compressed, built on the first request that accepts them: a
	// quarter of the bytes to send, and nothing kept for a shape no such client reads.
	gzipOnce [shapeCount]sync.Once
	gzipped  [shapeCount][]byte
}

// Shape selects one JSON rendering of a fiche.
type Shape int

const (
	ShapeFiche          Shape = iota // GET /v1/fiches/{code}
	ShapeFTMetier                    // France Travail rome-metiers métier
	ShapeFTFiche                     // France Travail rome-fiches-metiers fiche-metier
	ShapeFTMetierItem                // France Travail métier as listed by metiers/metier
	ShapeFTMetierResume              // France Travail métier as listed in a domaine
	ShapeFTAppellations              // France Travail appellations of a fiche, as listed by metiers/appellation
	shapeCount
)

// Fiche assembles the fiche (about a millisecond).
func (d *Doc) Fiche() *fiche.Fiche {
	f, _ := fiche.Build(d.st.Snap, d.code, d.st.Version())
	return f
}

// Encode returns the JSON of the fiche in a shape, built on first use.
func (d *Doc) Encode(s Shape, render func(*fiche.Fiche) any) []byte {
	return d.encode(s, render, d.Fiche)
}

func (d *Doc) encode(s Shape, render func(*fiche.Fiche) any, build func() *fiche.Fiche) []byte {
	d.once[s].Do(func() {
		b, err := json.Marshal(render(build()))
		if err != nil {
			panic(err) // plain structs: cannot fail
		}
		d.encoded[s] = b
	})
	return d.encoded[s]
}

// Gzip returns the JSON of the fiche in a shape, gzip-compressed, built on first use.
func (d *Doc) Gzip(s Shape, render func(*fiche.Fiche) any) []byte {
	d.gzipOnce[s].Do(func() { d.gzipped[s] = httpx.Gzip(d.Encode(s, render), gzip.DefaultCompression) })
	return d.gzipped[s]
}

func newState(snap *refdata.Snapshot) *State {
	st := &State{Snap: snap, ETag: `"rome-v` + strconv.Itoa(snap.Version.Number) + `"`}
	for _, r := range snap.T(romecsv.Fiche).Rows() {
		st.codes = append(st.codes, r.Cols[0])
	}
	sort.Strings(st.codes)
	return st
}

// Version is the version number of this state.
func (st *State) Version() int { return st.Snap.Version.Number }

// Codes lists every code ROME, sorted.
func (st *State) Codes() []string { return st.codes }

// Doc returns the document of a fiche, building it on first use.
func (st *State) Doc(code string) (*Doc, bool) {
	if d, ok := st.docs.Load(code); ok {
		return d.(*Doc), true
	}
	if _, ok := st.Snap.Get(romecsv.Fiche, code); !ok {
		return nil, false
	}
	d, _ := st.docs.LoadOrStore(code, &Doc{code: code, st: st})
	return d.(*Doc), true
}

// Warm builds the search indexes and encodes every fiche in the given shapes, so that the
// first searches and reads are as fast as the rest.
func (st *State) Warm(shapes map[Shape]func(*fiche.Fiche) any) {
	st.warmWhile(shapes, func() bool { return true })
}

// warmWhile warms as Warm does while wanted says so, between fiches, and tells whether it
// went through: warming a version that is no longer served is wasted work.
func (st *State) warmWhile(shapes map[Shape]func(*fiche.Fiche) any, wanted func() bool) bool {
	st.buildSearch()
	for _, code := range st.codes {
		if !wanted() {
			return false
		}
		d, _ := st.Doc(code)
		build := sync.OnceValue(d.Fiche)
		for s, render := range shapes {
			d.encode(s, render, build)
		}
	}
	return true
}

func (st *State) buildSearch() {
	st.searchOnce.Do(func() {
		const A, C, S, L = romecsv.Appellation, romecsv.Competence, romecsv.Savoir, romecsv.Lien
		a := romecsv.MustByName(A)
		var apps []search.Entry
		st.labelKeys = map[string]string{}
		for _, r := range st.Snap.T(A).Rows() {
			ogr, label := r.Cols[a.Col("code_ogr")], r.Cols[a.Col("libelle_appellation_long")]
			boost := 0.5
			if r.Cols[a.Col("classification")] == romecsv.ClassificationPrincipale {
				boost = 1
			}
			if r.Cols[a.Col("peu_usite")] == romecsv.FlagYes {
				boost = 0
			}
			apps = append(apps, search.Entry{ID: ogr, Label: label, Boost: boost})
			st.labelKeys[search.LabelKey(label)] = ogr
		}
		c := romecsv.MustByName(C)
		var comps []search.Entry
		for _, r := range st.Snap.T(C).Rows() {
			boost := 0.5
			if r.Cols[c.Col("nature")] != romecsv.NatureCompetence {
				boost = 1
			}
			comps = append(comps, search.Entry{ID: r.Cols[c.Col("code_ogr")], Label: r.Cols[c.Col("libelle_competence")], Boost: boost})
		}
		s := romecsv.MustByName(S)
		var savs []search.Entry
		for _, r := range st.Snap.T(S).Rows() {
			savs = append(savs, search.Entry{ID: r.Cols[s.Col("code_ogr_savoir")], Label: r.Cols[s.Col("libelle_savoir")], Boost: 0.5})
		}
		st.indexes = map[string]*search.Index{"appellations": search.Build(apps), "competences": search.Build(comps), "savoirs": search.Build(savs)}
		l := romecsv.MustByName(L)
		st.itemFiches = map[string][]string{}
		for _, r := range st.Snap.T(L).Rows() {
			if romecsv.LinksItem(r.Cols[l.Col("code_compo_bloc")]) {
				ogr := r.Cols[l.Col("code_ogr")]
				st.itemFiches[ogr] = append(st.itemFiches[ogr], r.Cols[l.Col("code_rome")])
			}
		}
	})
}

// AppellationByLabel finds an appellation by normalised label key.
func (st *State) AppellationByLabel(key string) (string, bool) {
	st.buildSearch()
	ogr, ok := st.labelKeys[key]
	return ogr, ok
}

// SearchHit is one ranked result, with what a client needs to show it.
type SearchHit struct {
	CodeOgr  string      `json:"codeOgr"`
	Libelle  string      `json:"libelle"`
	CodeRome string      `json:"codeRome,omitempty"`
	Score    float64     `json:"score"`
	Fiche    *fiche.Ref  `json:"fiche,omitempty"`
	Macro    *fiche.Ref  `json:"macroCompetence,omitempty"`
	Category string      `json:"categorie,omitempty"`
	Fiches   []fiche.Ref `json:"fiches,omitempty"`
}

// Search ranks the items of a kind ("appellations", "competences", "savoirs") for q.
func (st *State) Search(kind, q string, limit int) ([]SearchHit, bool) {
	st.buildSearch()
	ix, ok := st.indexes[kind]
	if !ok {
		return nil, false
	}
	hits := ix.Search(q, limit)
	out := make([]SearchHit, 0, len(hits))
	for _, h := range hits {
		out = append(out, st.describe(kind, h))
	}
	return out, true
}

func (st *State) ficheRef(code string) fiche.Ref {
	libelle, _ := st.Snap.T(romecsv.Fiche).Field(code, ficheLibelle)
	return fiche.Ref{Code: code, Libelle: libelle}
}

// The columns a search hit is described with.
var (
	ficheLibelle           = romecsv.MustByName(romecsv.Fiche).Col("libelle_rome")
	appellationLibelleLong = romecsv.MustByName(romecsv.Appellation).Col("libelle_appellation_long")
	appellationCodeRome    = romecsv.MustByName(romecsv.Appellation).Col("code_rome")
)

// maxFichesPerHit bounds the fiches listed with a compétence or savoir hit.
const maxFichesPerHit = 10

func (st *State) describe(kind string, h search.Hit) SearchHit {
	hit := SearchHit{CodeOgr: h.ID, Score: h.Score}
	switch kind {
	case "appellations":
		a := st.Snap.T(romecsv.Appellation)
		hit.Libelle, _ = a.Field(h.ID, appellationLibelleLong)
		hit.CodeRome, _ = a.Field(h.ID, appellationCodeRome)
		ref := st.ficheRef(hit.CodeRome)
		hit.Fiche = &ref
		return hit
	case "competences":
		const C = romecsv.Competence
		r, _ := st.Snap.Get(C, h.ID)
		c := romecsv.MustByName(C)
		hit.Libelle = r[c.Col("libelle_competence")]
		if m, ok := st.Snap.Get(C, r[c.Col("code_ogr_macro_comp")]); ok {
			hit.Macro = &fiche.Ref{Code: m[c.Col("code_ogr")], Libelle: m[c.Col("libelle_competence")]}
		}
	case "savoirs":
		const S = romecsv.Savoir
		r, _ := st.Snap.Get(S, h.ID)
		s := romecsv.MustByName(S)
		hit.Libelle, hit.Category = r[s.Col("libelle_savoir")], r[s.Col("categorie_savoir")]
	}
	for i, code := range st.itemFiches[h.ID] {
		if i == maxFichesPerHit {
			break
		}
		hit.Fiches = append(hit.Fiches, st.ficheRef(code))
	}
	return hit
}

// Summary is what a list shows of a fiche.
type Summary struct {
	CodeRome             string    `json:"codeRome"`
	Libelle              string    `json:"libelle"`
	GrandDomaine         fiche.Ref `json:"grandDomaine"`
	DomaineProfessionnel fiche.Ref `json:"domaineProfessionnel"`
}

// Summary reads the label and domaines of a fiche.
func (st *State) Summary(code string) Summary {
	const D = romecsv.FicheDomaine
	d := romecsv.MustByName(D)
	r, _ := st.Snap.Get(D, code)
	s := Summary{CodeRome: code}
	if r != nil {
		s.Libelle = r[d.Col("libelle_rome")]
		s.GrandDomaine = fiche.Ref{Code: r[d.Col("code_grand_domaine")], Libelle: r[d.Col("libelle_grand_domaine")]}
		s.DomaineProfessionnel = fiche.Ref{Code: r[d.Col("code_domaine_professionel")], Libelle: r[d.Col("libelle_domaine_professionel")]}
	}
	return s
}
