package changeset

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// Mobilités: the fiche's ranked list of fiches to move on to.

type mobilite struct {
	target string
	rank   int
}

func (e *engine) mobilites() []mobilite {
	const M = romecsv.Mobilite
	var ms []mobilite
	for _, r := range e.tx.ForRome(M, e.code) {
		n, _ := strconv.Atoi(get(M, r, "numero_ordre"))
		ms = append(ms, mobilite{get(M, r, "code_rome_cible"), n})
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].rank < ms[j].rank })
	return ms
}

// writeMobilites renumbers the list 1..n and stages the rows that changed.
func (e *engine) writeMobilites(ms []mobilite) {
	const M = romecsv.Mobilite
	for i, m := range ms {
		e.tx.Put(M, newRow(M, map[string]string{"code_rome": e.code, "code_rome_cible": m.target, "numero_ordre": strconv.Itoa(i + 1)}))
	}
}

func (e *engine) addMobilite(op Operation) ([]Change, *refusal) {
	target, ok := e.tx.Get(romecsv.Fiche, op.ToCodeRome)
	if !ok {
		return nil, refuse("unknown_fiche", "toCodeRome", fmt.Sprintf("fiche %s does not exist", op.ToCodeRome))
	}
	if op.ToCodeRome == e.code {
		return nil, refuse("same_fiche", "toCodeRome", "a fiche has no mobilité to itself")
	}
	ms := e.mobilites()
	for _, m := range ms {
		if m.target == op.ToCodeRome {
			return nil, refuse("already_on_fiche", "toCodeRome", fmt.Sprintf("fiche %s already has a mobilité to %s", e.code, op.ToCodeRome))
		}
	}
	at := len(ms)
	if op.Rank != nil {
		// The request contract bounds the rank (request.MaxMobiliteRank); the fiche's
		// mobilités bound it further.
		if *op.Rank > len(ms)+1 {
			return nil, refuse("invalid_value", "rank", fmt.Sprintf("rank is between 1 and %d", len(ms)+1))
		}
		at = *op.Rank - 1
	}
	ms = append(ms[:at], append([]mobilite{{target: op.ToCodeRome}}, ms[at:]...)...)
	e.writeMobilites(ms)
	return []Change{{Action: "added", Entity: "mobilite", Libelle: get(romecsv.Fiche, target, "libelle_rome"), After: map[string]any{"codeRome": op.ToCodeRome, "rang": at + 1}}}, nil
}

func (e *engine) removeMobilite(op Operation) ([]Change, *refusal) {
	ms := e.mobilites()
	for i, m := range ms {
		if m.target != op.ToCodeRome {
			continue
		}
		e.tx.Delete(romecsv.Mobilite, key(e.code, m.target))
		e.writeMobilites(append(ms[:i:i], ms[i+1:]...))
		label := ""
		if t, ok := e.tx.Get(romecsv.Fiche, m.target); ok {
			label = get(romecsv.Fiche, t, "libelle_rome")
		}
		return []Change{{Action: "removed", Entity: "mobilite", Libelle: label, Before: map[string]any{"codeRome": m.target, "rang": m.rank}}}, nil
	}
	return nil, refuse("not_on_fiche", "toCodeRome", fmt.Sprintf("fiche %s has no mobilité to %q", e.code, op.ToCodeRome))
}
