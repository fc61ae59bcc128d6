package app

import (
	"context"
	"sort"
	"strings"

	"github.com/plateforme-rome/rome/clients/refclient"

	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

// The provenance document is the referential's contract (refclient).
type (
	Origin            = refclient.Origin
	ProvenanceElement = refclient.ProvenanceElement
	Provenance        = refclient.Provenance
)

// Provenance computes where each element of fiche code at st's version comes from; ok is
// false when the fiche does not exist there.
//
// It reads the fiche's changelog (indexed by fiche), then only the rows that the versions
// which touched the fiche opened or closed: a row of the fiche that no such version
// touched has been there since the official import. A row's history is a chain of spans
// [validFrom, validTo); an element was introduced where the chain of its membership row
// (its link, its mobilité row) starts, and last changed at the latest event on any of its
// rows since. Nothing is stored for this: the spans already say it.
func (s *Service) Provenance(ctx context.Context, st *State, code string) (*Provenance, bool, error) {
	snap := st.Snap
	ficheRow, ok := snap.Get(romecsv.Fiche, code)
	if !ok {
		return nil, false, nil
	}
	n := st.Version()
	vs, err := s.store.Versions(ctx)
	if err != nil {
		return nil, false, err
	}
	history, err := s.FicheHistory(ctx, code)
	if err != nil {
		return nil, false, err
	}
	versions := map[int]store.VersionRecord{}
	var touched []int
	for i, v := range vs {
		versions[v.Number] = v
		if i > 0 && v.Number <= n && v.Source == store.SourceImport {
			touched = append(touched, v.Number) // a re-import may touch any row
		}
	}
	byVersion := map[int][]HistoryEntry{}
	for _, h := range history {
		if h.Version > n {
			break
		}
		if byVersion[h.Version] == nil {
			touched = append(touched, h.Version)
		}
		byVersion[h.Version] = append(byVersion[h.Version], h)
	}
	spans, err := s.store.FicheRowEvents(ctx, code, touched)
	if err != nil {
		return nil, false, err
	}
	p := provenance{n: n, baseline: vs[0].Number, versions: versions, entries: byVersion, spans: map[rowRef][]store.RowSpan{}}
	for _, sp := range spans {
		r := rowRef{sp.Dataset, sp.Key}
		p.spans[r] = append(p.spans[r], sp)
	}
	for _, ss := range p.spans {
		sort.Slice(ss, func(i, j int) bool { return ss[i].ValidFrom < ss[j].ValidFrom })
	}
	if st.pending != nil {
		st.pending.addTo(&p, code)
	}

	k := romecsv.KeySep
	fc := romecsv.MustByName(romecsv.Fiche)
	out := &Provenance{CodeRome: code, Libelle: ficheRow[fc.Col("libelle_rome")], Version: n, Elements: []ProvenanceElement{}}
	fiche := rowRef{romecsv.Fiche, code}
	ficheIntro := p.introduced(fiche)
	out.Elements = append(out.Elements, p.element(ProvenanceElement{Kind: "fiche", CodeRome: code, Libelle: out.Libelle}, "", ficheIntro,
		func(r rowRef) bool {
			return r == fiche || r == rowRef{romecsv.FicheDomaine, code} || r == rowRef{romecsv.FicheRiasec, code}
		}))
	for _, t := range []struct{ typ, field string }{{romecsv.TexteDefinition, "definition"}, {romecsv.TexteAccesMetier, "accesEmploi"}} {
		prefix := code + k + t.typ + k
		out.Elements = append(out.Elements, p.element(ProvenanceElement{Kind: "texte", Field: t.field}, "", ficheIntro,
			func(r rowRef) bool { return r.dataset == romecsv.Texte && strings.HasPrefix(r.key, prefix) }))
	}
	lc := romecsv.MustByName(romecsv.Lien)
	for _, l := range snap.ForRome(romecsv.Lien, code) {
		ogr := l[lc.Col("code_ogr")]
		e := ProvenanceElement{CodeOgr: ogr}
		attribute := rowRef{romecsv.Coherence, code + k + ogr}
		switch bloc, rubrique := l[lc.Col("code_compo_bloc")], l[lc.Col("code_rubrique")]; {
		case bloc == romecsv.BlocAppellations:
			e.Kind, e.Libelle, attribute = "appellation", label(snap, romecsv.Appellation, ogr, "libelle_appellation_long"), rowRef{romecsv.Appellation, ogr}
		case bloc == romecsv.BlocCompetences && rubrique == romecsv.RubriqueSavoirs:
			e.Kind, e.Libelle = "savoir", label(snap, romecsv.Savoir, ogr, "libelle_savoir")
		case bloc == romecsv.BlocCompetences:
			e.Kind, e.Libelle = "competence", label(snap, romecsv.Competence, ogr, "libelle_competence")
		case bloc == romecsv.BlocContextes:
			e.Kind, e.Libelle = "contexte", label(snap, romecsv.Contexte, ogr, "libelle_cont_travail")
		default:
			continue // bloc 1 links the fiche to its own code OGR: the fiche element says it
		}
		link := rowRef{romecsv.Lien, lc.Key(l)}
		out.Elements = append(out.Elements, p.element(e, ogr, p.introduced(link), func(r rowRef) bool { return r == link || r == attribute }))
	}
	mc := romecsv.MustByName(romecsv.Mobilite)
	for _, m := range snap.ForRome(romecsv.Mobilite, code) {
		target := m[mc.Col("code_rome_cible")]
		row := rowRef{romecsv.Mobilite, mc.Key(m)}
		e := ProvenanceElement{Kind: "mobilite", CodeRome: target, Libelle: label(snap, romecsv.Fiche, target, "libelle_rome")}
		out.Elements = append(out.Elements, p.element(e, "", p.introduced(row), func(r rowRef) bool { return r == row }))
	}
	return out, true, nil
}

// label reads a column of the row with that key ("" when absent).
func label(snap refdata.View, dataset, key, column string) string {
	r, ok := snap.Get(dataset, key)
	if !ok {
		return ""
	}
	return r[romecsv.MustByName(dataset).Col(column)]
}

type rowRef struct{ dataset, key string }

// provenance holds what one computation read.
type provenance struct {
	n, baseline int
	versions    map[int]store.VersionRecord
	entries     map[int][]HistoryEntry // the fiche's changes by version
	spans       map[rowRef][]store.RowSpan
}

// close ends at version n the span of row r that is current before it; a row no version
// touched has been there since the official import.
func (p *provenance) close(r rowRef, n int) {
	ss := p.spans[r]
	for i := range ss {
		if ss[i].ValidTo == 0 {
			ss[i].ValidTo = n
			return
		}
	}
	p.spans[r] = append(ss, store.RowSpan{Dataset: r.dataset, Key: r.key, ValidFrom: p.baseline, ValidTo: n})
}

// introduced is where the chain of spans of row r that is valid at version n starts; a row
// no touching version opened has been there since the official import.
func (p *provenance) introduced(r rowRef) int {
	ss := p.spans[r]
	cur := -1
	for i, sp := range ss {
		if sp.ValidFrom <= p.n && (sp.ValidTo == 0 || sp.ValidTo > p.n) {
			cur = i
		}
	}
	if cur < 0 {
		return p.baseline
	}
	for cur > 0 && ss[cur-1].ValidTo == ss[cur].ValidFrom {
		cur--
	}
	return ss[cur].ValidFrom
}

// element fills in the origins of e: introduced at intro, last changed at the latest event
// since then on the rows of e (those mine accepts).
func (p *provenance) element(e ProvenanceElement, codeOgr string, intro int, mine func(rowRef) bool) ProvenanceElement {
	changed := intro
	for r, ss := range p.spans {
		if !mine(r) {
			continue
		}
		for _, sp := range ss {
			for _, v := range []int{sp.ValidFrom, sp.ValidTo} {
				if v <= p.n && v > changed {
					changed = v
				}
			}
		}
	}
	e.Introduced, e.LastChanged = p.origin(intro, codeOgr), p.origin(changed, codeOgr)
	return e
}

// origin describes version v for an element: its change set and request are those of the
// fiche's change naming the element in v (a release may bundle several requests), or of
// the fiche's first change in v; an import names none.
func (p *provenance) origin(v int, codeOgr string) Origin {
	rec := p.versions[v]
	o := Origin{Version: v, Source: rec.Source, Label: rec.Label, PublishedAt: rec.PublishedAt}
	es := p.entries[v]
	if len(es) == 0 {
		return o
	}
	pick := es[0]
	for _, e := range es {
		if codeOgr != "" && e.Change.CodeOgr == codeOgr {
			pick = e
			break
		}
	}
	o.ChangesetID, o.RequestID = pick.ChangesetID, pick.RequestID
	return o
}
