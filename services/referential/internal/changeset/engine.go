package changeset

import (
	"fmt"
	"slices"
	"strings"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/workflows/request"
)

// Deps are what the engine needs beyond the rows.
type Deps struct {
	// NextOGR allocates a code OGR for a new item, from the platform's own range.
	NextOGR func() string
	// AppellationByLabel finds an existing appellation by its normalised label key.
	AppellationByLabel func(label string) (codeOgr string, ok bool)
	// LabelKey normalises a label for duplicate detection: its alternatives normalised,
	// sorted and joined by " / ", the words of each joined by single spaces
	// (search.LabelKey). AppellationByLabel is keyed by it.
	LabelKey func(label string) string
}

// Run applies the operations in order to tx, on fiche codeRome ("" when the first
// operation creates the fiche). An operation that does not apply stages nothing; the
// following ones still run, so a dry run reports on every operation. It returns a result
// per operation and the fiche the operations ended on (the new one after create_fiche).
// Operations without an id get one by the request contract's rule
// (request.AssignOperationIDs), so a result names the operation as the request does.
func Run(tx *refdata.Tx, codeRome string, ops []Operation, deps Deps) ([]Result, string) {
	e := &engine{tx: tx, code: codeRome, deps: deps, labels: map[string]string{}}
	ops = slices.Clone(ops)
	request.AssignOperationIDs(ops, 1)
	results := make([]Result, len(ops))
	for i, op := range ops {
		r := Result{OperationID: op.ID, Op: op.Op, Changes: []Change{}}
		changes, no := e.apply(op)
		if no != nil {
			r.Code, r.Field, r.Reason = no.code, no.field, no.reason
		} else {
			r.Applies = true
			for j := range changes {
				changes[j].OperationID = op.ID
				if changes[j].CodeRome == "" {
					changes[j].CodeRome = e.code
				}
			}
			r.Changes = changes
		}
		results[i] = r
	}
	return results, e.code
}

type engine struct {
	tx     *refdata.Tx
	code   string
	deps   Deps
	labels map[string]string // job keys of the labels this run gave to appellations
}

// apply checks an operation against the request contract's rules, then applies it. The
// API refuses a change set whose operations break those rules before the engine runs;
// applying them here too keeps the engine's other callers (tests, tools) to the same rules
// and lets every operation below rely on them: the kind is known, the required fields are
// there, trimmed, of the right shape, and the enums hold one of their values. What the
// engine still checks is what depends on the referential's rows and on the operations
// before.
func (e *engine) apply(op Operation) ([]Change, *refusal) {
	if problems := request.ValidateOperation("", &op); len(problems) > 0 {
		// The problems are named under the operation's path, here the empty one.
		return nil, refuse("invalid_operation", strings.TrimPrefix(problems[0].Field, "."), problems[0].Message)
	}
	if op.Op != refclient.OpCreateFiche {
		if e.code == "" {
			return nil, refuse("fiche_required", "codeRome", "the change set names no fiche and no earlier operation creates one")
		}
		if _, ok := e.tx.Get(romecsv.Fiche, e.code); !ok {
			return nil, refuse("unknown_fiche", "codeRome", fmt.Sprintf("fiche %s does not exist", e.code))
		}
	}
	switch op.Op {
	case refclient.OpCreateFiche:
		return e.createFiche(op)
	case refclient.OpAddAppellation:
		return e.addAppellation(op)
	case refclient.OpUpdateAppellation:
		return e.updateAppellation(op)
	case refclient.OpRemoveAppellation:
		return e.removeAppellation(op)
	case refclient.OpMoveAppellation:
		return e.moveAppellation(op)
	case refclient.OpAddCompetence:
		return e.addCompetence(op)
	case refclient.OpRemoveCompetence:
		return e.removeItem(op, "competence")
	case refclient.OpSetCoeurMetier:
		return e.setCoeurMetier(op)
	case refclient.OpAddSavoir:
		return e.addSavoir(op)
	case refclient.OpRemoveSavoir:
		return e.removeItem(op, "savoir")
	case refclient.OpAddContexte:
		return e.addContexte(op)
	case refclient.OpRemoveContexte:
		return e.removeItem(op, "contexte")
	case refclient.OpAddMobilite:
		return e.addMobilite(op)
	case refclient.OpRemoveMobilite:
		return e.removeMobilite(op)
	case refclient.OpSetText:
		return e.setText(op)
	case refclient.OpSetTags:
		return e.setTags(op)
	}
	// request.OperationKinds names a kind the engine does not apply: a programming error
	// that TestEveryOperationKindIsApplied catches.
	panic(fmt.Sprintf("changeset: no rule applies the operations of kind %q", op.Op))
}

// --- row helpers -----------------------------------------------------------------

// newRow builds a row of dataset name from column values; unnamed columns are empty.
func newRow(name string, values map[string]string) []string {
	ds := romecsv.MustByName(name)
	row := make([]string, len(ds.Columns))
	for k, v := range values {
		row[ds.Col(k)] = v
	}
	return row
}

// with returns a copy of row with columns replaced.
func with(name string, row []string, values map[string]string) []string {
	ds := romecsv.MustByName(name)
	out := append([]string(nil), row...)
	for k, v := range values {
		out[ds.Col(k)] = v
	}
	return out
}

func get(name string, row []string, col string) string { return row[romecsv.MustByName(name).Col(col)] }

func key(parts ...string) string { return strings.Join(parts, romecsv.KeySep) }

func (e *engine) ficheRow(code string) []string {
	r, _ := e.tx.Get(romecsv.Fiche, code)
	return r
}

// linked tells whether item ogr is on the fiche in (bloc, rubrique).
func (e *engine) linked(code, bloc, rubrique, ogr string) bool {
	_, ok := e.tx.Get(romecsv.Lien, key(code, bloc, rubrique, ogr))
	return ok
}
