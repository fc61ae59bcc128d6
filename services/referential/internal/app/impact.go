package app

import (
	"context"
	"slices"
	"sort"
	"strconv"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/services/referential/internal/changeset"
	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
	"github.com/plateforme-rome/rome/services/referential/internal/webhook"
)

// Impact is what an operation touches beyond its own change (refclient.Impact).
type Impact = refclient.Impact

// mobilitesTo indexes the mobilités of a version by their target fiche, each list in the
// order of the export; built once per version.
func (st *State) mobilitesTo() map[string][]refclient.MobiliteImpact {
	return st.Memo("impact.mobilitesTo", func() any {
		const M = romecsv.Mobilite
		m := romecsv.MustByName(M)
		out := map[string][]refclient.MobiliteImpact{}
		for _, r := range st.Snap.T(M).Rows() {
			rank, _ := strconv.Atoi(r.Cols[m.Col("numero_ordre")])
			from, to := r.Cols[m.Col("code_rome")], r.Cols[m.Col("code_rome_cible")]
			out[to] = append(out[to], refclient.MobiliteImpact{CodeRome: from, Libelle: st.ficheRef(from).Libelle, CodeRomeCible: to, Rang: rank})
		}
		return out
	}).(map[string][]refclient.MobiliteImpact)
}

// fichesOfItem lists the fiches an item (compétence, savoir, contexte) is on in this version.
func (st *State) fichesOfItem(ogr string) []string {
	st.buildSearch()
	return st.itemFiches[ogr]
}

// removedItems are the operations that take an item off a fiche, and the dataset and
// label column of the item.
var removedItems = map[string]struct{ dataset, label string }{
	refclient.OpRemoveCompetence: {romecsv.Competence, "libelle_competence"},
	refclient.OpRemoveSavoir:     {romecsv.Savoir, "libelle_savoir"},
	refclient.OpRemoveContexte:   {romecsv.Contexte, "libelle_cont_travail"},
}

// hasImpact tells whether an operation that applied removes, moves or renames an
// appellation (creating a fiche from a known one moves it) or takes an item off.
func hasImpact(op refclient.Operation, r changeset.Result) bool {
	switch op.Op {
	case refclient.OpRemoveAppellation, refclient.OpMoveAppellation:
		return true
	case refclient.OpUpdateAppellation:
		return len(r.Changes) > 0
	case refclient.OpCreateFiche:
		return op.AppellationPrincipale != nil && op.AppellationPrincipale.CodeOgr != ""
	}
	_, ok := removedItems[op.Op]
	return ok
}

// impacts sets the impact of each operation of a dry run that has one. st is the version
// the operations ran on and after is the view after all of them: an element is left
// orphan by the whole change set, not by one operation that a later one undoes.
func (s *Service) impacts(ctx context.Context, st *State, after refdata.View, ops []refclient.Operation, results []changeset.Result) error {
	var endpoints []store.WebhookEndpoint
	loaded := false
	for i := range results {
		r := &results[i]
		if !r.Applies || !hasImpact(ops[i], *r) {
			continue
		}
		if !loaded {
			var err error
			if endpoints, err = s.store.WebhookEndpoints(ctx); err != nil {
				return err
			}
			loaded = true
		}
		im := &Impact{Fiches: fichesOf(*r), Mobilites: []refclient.MobiliteImpact{}, OrphanAppellations: []refclient.ImpactRef{}, OrphanItems: []refclient.ImpactRef{}}
		item, isItem := removedItems[ops[i].Op]
		var carriers []string // the fiches the item is on, when one is taken off
		if isItem {
			carriers = st.fichesOfItem(ops[i].CodeOgr)
		}
		for _, code := range im.Fiches {
			for _, m := range st.mobilitesTo()[code] {
				if !isItem || slices.Contains(carriers, m.CodeRome) {
					im.Mobilites = append(im.Mobilites, m)
				}
			}
		}
		switch {
		case isItem:
			if orphanItem(after, carriers, im.Fiches, ops[i].CodeOgr) {
				row, _ := st.Snap.Get(item.dataset, ops[i].CodeOgr)
				im.OrphanItems = append(im.OrphanItems, refclient.ImpactRef{CodeOgr: ops[i].CodeOgr, Libelle: row[romecsv.MustByName(item.dataset).Col(item.label)]})
			}
		case ops[i].Op == refclient.OpRemoveAppellation:
			orphans, err := s.orphanAppellations(ctx, st, after, ops[i], im.Fiches[0])
			if err != nil {
				return err
			}
			im.OrphanAppellations = orphans
		}
		for _, ep := range endpoints {
			if ep.DisabledAt == nil && (webhook.Matches(ep.EventTypes(), ep.Codes(), webhook.FicheChanged, im.Fiches) ||
				webhook.Matches(ep.EventTypes(), ep.Codes(), webhook.VersionPublished, im.Fiches)) {
				im.Subscribers++
			}
		}
		r.Impact = im
	}
	return nil
}

// fichesOf lists the fiches an operation changes, in the order of its changes.
func fichesOf(r changeset.Result) []string {
	var out []string
	for _, c := range r.Changes {
		if !slices.Contains(out, c.CodeRome) {
			out = append(out, c.CodeRome)
		}
	}
	return out
}

// orphanItem tells whether item ogr, on carriers in the version, is on none of them
// after the change set: the fiches it changed no longer carry it, and it is on no other.
func orphanItem(after refdata.View, carriers, changed []string, ogr string) bool {
	for _, code := range carriers {
		if !slices.Contains(changed, code) {
			return false
		}
		for _, r := range after.ForRome(romecsv.Lien, code) {
			if r[romecsv.MustByName(romecsv.Lien).Col("code_ogr")] == ogr {
				return false
			}
		}
	}
	return true
}

// orphanAppellations are the appellations a removal leaves without a fiche: the removed
// one unless its replacement survives the change set, and, when it goes unreplaced, the
// appellations earlier removals replaced by it (and those replaced by them, in turn).
func (s *Service) orphanAppellations(ctx context.Context, st *State, after refdata.View, op refclient.Operation, code string) ([]refclient.ImpactRef, error) {
	if op.ReplacedBy != "" {
		if _, ok := after.Get(romecsv.Appellation, op.ReplacedBy); ok {
			return []refclient.ImpactRef{}, nil
		}
	}
	a := romecsv.MustByName(romecsv.Appellation)
	row, _ := st.Snap.Get(romecsv.Appellation, op.CodeOgr)
	out := []refclient.ImpactRef{{CodeOgr: op.CodeOgr, Libelle: row[a.Col("libelle_appellation_long")], CodeRome: code}}
	seen := map[string]bool{op.CodeOgr: true}
	for next := []string{op.CodeOgr}; len(next) > 0; {
		cs, err := s.store.CorrespondencesTo(ctx, next, st.Version())
		if err != nil {
			return nil, err
		}
		next = nil
		for _, c := range cs {
			if !seen[c.CodeOgr] {
				seen[c.CodeOgr] = true
				next = append(next, c.CodeOgr)
				out = append(out, refclient.ImpactRef{CodeOgr: c.CodeOgr, Libelle: c.Libelle, CodeRome: c.CodeRome})
			}
		}
	}
	sort.SliceStable(out[1:], func(i, j int) bool { return out[1+i].CodeOgr < out[1+j].CodeOgr })
	return out, nil
}
