package changeset

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/services/referential/internal/fiche"
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
func Run(tx *refdata.Tx, codeRome string, ops []Operation, deps Deps) ([]Result, string) {
	e := &engine{tx: tx, code: codeRome, deps: deps, labels: map[string]string{}}
	results := make([]Result, len(ops))
	for i, op := range ops {
		if op.ID == "" {
			op.ID = fmt.Sprintf("op-%d", i+1)
		}
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

func (e *engine) apply(op Operation) ([]Change, *refusal) {
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
	return nil, refuse("unknown_operation", "op", fmt.Sprintf("unknown operation %q", op.Op))
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

func required(op Operation, field, value string) *refusal {
	if strings.TrimSpace(value) == "" {
		return refuse("field_required", field, fmt.Sprintf("%s needs %s", op.Op, field))
	}
	return nil
}

// --- appellations ----------------------------------------------------------------

func (e *engine) checkNewLabel(field, label string) *refusal {
	if no := required(Operation{Op: "this operation"}, field, label); no != nil {
		return no
	}
	k := e.deps.LabelKey(label)
	if k == "" {
		return refuse("invalid_value", field, "a label needs letters or digits")
	}
	if ogr, ok := e.labels[k]; ok && e.hasJobKey(ogr, k) {
		return refuse("duplicate_appellation", field, fmt.Sprintf("this change set already names appellation %s %q", ogr, label))
	}
	if ogr, ok := e.deps.AppellationByLabel(k); ok && e.hasJobKey(ogr, k) {
		return refuse("duplicate_appellation", field, fmt.Sprintf("appellation %s already has this label", ogr))
	}
	return nil
}

// hasJobKey tells whether appellation ogr still exists with a label of key k: the
// label index is the published one, and this run may have renamed or removed it.
func (e *engine) hasJobKey(ogr, k string) bool {
	r, ok := e.tx.Get(romecsv.Appellation, ogr)
	return ok && e.deps.LabelKey(get(romecsv.Appellation, r, "libelle_appellation_long")) == k
}

// putAppellation stages a new appellation on fiche code.
func (e *engine) putAppellation(code, ogr, libelle, court, classification string) {
	f := e.ficheRow(code)
	if court == "" {
		court = libelle
	}
	e.tx.Put(romecsv.Appellation, newRow(romecsv.Appellation, map[string]string{
		"code_ogr": ogr, "libelle_appellation_long": libelle, "libelle_appellation_court": court, "code_rome": code,
		"classification": classification, "code_rome_parent": get(romecsv.Fiche, f, "code_rome_parent"), "peu_usite": "N",
	}))
	e.tx.Put(romecsv.Lien, newRow(romecsv.Lien, map[string]string{"code_rome": code, "code_compo_bloc": "2", "code_ogr": ogr}))
	e.tx.Put(romecsv.Arborescence, newRow(romecsv.Arborescence, map[string]string{
		"libelle_appellation_long": libelle, "libelle_appellation_court": court, "type_provenance": "4",
		"code_fiche": get(romecsv.Fiche, f, "code_fiche_metier"), "ogr_rome": get(romecsv.Fiche, f, "code_ogr"), "ogr_appellation": ogr,
	}))
	e.labels[e.deps.LabelKey(libelle)] = ogr
}

func arboKey(ogr string) string { return key("4", "", "", "", ogr) }

func (e *engine) addAppellation(op Operation) ([]Change, *refusal) {
	if no := e.checkNewLabel("libelle", op.Libelle); no != nil {
		return nil, no
	}
	ogr, label := e.deps.NextOGR(), strings.TrimSpace(op.Libelle)
	e.putAppellation(e.code, ogr, label, strings.TrimSpace(op.LibelleCourt), "SYNONYME")
	return []Change{{Action: "added", Entity: "appellation", CodeOgr: ogr, Libelle: label}}, nil
}

// ficheAppellation returns an appellation that must be on the current fiche.
func (e *engine) ficheAppellation(ogr string) ([]string, *refusal) {
	if ogr == "" {
		return nil, refuse("field_required", "codeOgr", "codeOgr is required")
	}
	r, ok := e.tx.Get(romecsv.Appellation, ogr)
	if !ok {
		return nil, refuse("unknown_appellation", "codeOgr", fmt.Sprintf("appellation %s does not exist", ogr))
	}
	if c := get(romecsv.Appellation, r, "code_rome"); c != e.code {
		return nil, refuse("appellation_not_on_fiche", "codeOgr", fmt.Sprintf("appellation %s belongs to fiche %s, not %s", ogr, c, e.code))
	}
	return r, nil
}

func (e *engine) updateAppellation(op Operation) ([]Change, *refusal) {
	r, no := e.ficheAppellation(op.CodeOgr)
	if no != nil {
		return nil, no
	}
	newLong, newCourt := strings.TrimSpace(op.Libelle), strings.TrimSpace(op.LibelleCourt)
	if newLong == "" && newCourt == "" {
		return nil, refuse("field_required", "libelle", "update_appellation needs libelle or libelleCourt")
	}
	const A = romecsv.Appellation
	before, court := get(A, r, "libelle_appellation_long"), get(A, r, "libelle_appellation_court")
	long := before
	if newLong != "" {
		// The same job in another spelling (case, accents, gender order) is no new label.
		if k := e.deps.LabelKey(newLong); k != e.deps.LabelKey(before) {
			if no := e.checkNewLabel("libelle", newLong); no != nil {
				return nil, no
			}
			e.labels[k] = op.CodeOgr
		}
		if court == before {
			court = newLong // a short label that was the whole label follows it
		}
		long = newLong
	}
	if newCourt != "" {
		court = newCourt
	}
	labels := map[string]string{"libelle_appellation_long": long, "libelle_appellation_court": court}
	e.tx.Put(A, with(A, r, labels))
	if a, ok := e.tx.Get(romecsv.Arborescence, arboKey(op.CodeOgr)); ok {
		e.tx.Put(romecsv.Arborescence, with(romecsv.Arborescence, a, labels))
	}
	changes := []Change{}
	if long != before {
		changes = append(changes, Change{Action: "updated", Entity: "appellation", CodeOgr: op.CodeOgr, Libelle: long, Field: "libelle", Before: before, After: long})
	}
	if oldCourt := get(A, r, "libelle_appellation_court"); court != oldCourt {
		changes = append(changes, Change{Action: "updated", Entity: "appellation", CodeOgr: op.CodeOgr, Libelle: long, Field: "libelleCourt", Before: oldCourt, After: court})
	}
	if get(A, r, "classification") == "PRINCIPALE" && long != before {
		e.renameFiche(e.code, long)
		changes = append(changes, Change{Action: "updated", Entity: "fiche", Field: "libelle", Before: before, After: long})
	}
	return changes, nil
}

// renameFiche keeps every copy of the fiche label in step with its principal appellation.
func (e *engine) renameFiche(code, label string) {
	f := e.ficheRow(code)
	e.tx.Put(romecsv.Fiche, with(romecsv.Fiche, f, map[string]string{"libelle_rome": label}))
	if d, ok := e.tx.Get(romecsv.FicheDomaine, code); ok {
		e.tx.Put(romecsv.FicheDomaine, with(romecsv.FicheDomaine, d, map[string]string{"libelle_rome": label}))
	}
	for _, name := range []string{romecsv.FicheSecteurActivite, romecsv.FicheSecteurNaf, romecsv.FicheCentreInteret, romecsv.FicheTheme} {
		for _, r := range e.tx.ForRome(name, code) {
			e.tx.Put(name, with(name, r, map[string]string{"libelle_rome": label}))
		}
	}
	if a, ok := e.tx.Get(romecsv.Arborescence, ficheArboKey(code)); ok {
		e.tx.Put(romecsv.Arborescence, with(romecsv.Arborescence, a, map[string]string{"intitule": label}))
	}
}

func ficheArboKey(code string) string { return key("3", code[:1], code[1:3], code[3:], "") }

func (e *engine) removeAppellation(op Operation) ([]Change, *refusal) {
	r, no := e.ficheAppellation(op.CodeOgr)
	if no != nil {
		return nil, no
	}
	if get(romecsv.Appellation, r, "classification") == "PRINCIPALE" {
		return nil, refuse("principal_appellation", "codeOgr", "the principal appellation carries the fiche label: rename it with update_appellation instead")
	}
	if op.ReplacedBy == "" && strings.TrimSpace(op.Reason) == "" {
		return nil, refuse("field_required", "reason", "removing an appellation needs a successor (replacedBy) or a reason")
	}
	if op.ReplacedBy != "" {
		if op.ReplacedBy == op.CodeOgr {
			return nil, refuse("invalid_successor", "replacedBy", "an appellation cannot replace itself")
		}
		if _, ok := e.tx.Get(romecsv.Appellation, op.ReplacedBy); !ok {
			return nil, refuse("unknown_appellation", "replacedBy", fmt.Sprintf("successor appellation %s does not exist", op.ReplacedBy))
		}
	}
	e.tx.Delete(romecsv.Appellation, op.CodeOgr)
	e.tx.Delete(romecsv.Lien, key(e.code, "2", "", op.CodeOgr))
	e.tx.Delete(romecsv.Arborescence, arboKey(op.CodeOgr))
	c := Change{Action: "removed", Entity: "appellation", CodeOgr: op.CodeOgr, Libelle: get(romecsv.Appellation, r, "libelle_appellation_long")}
	if op.ReplacedBy != "" {
		c.After = map[string]string{"replacedBy": op.ReplacedBy}
	} else {
		c.After = map[string]string{"reason": op.Reason}
	}
	return []Change{c}, nil
}

func (e *engine) moveAppellation(op Operation) ([]Change, *refusal) {
	r, no := e.ficheAppellation(op.CodeOgr)
	if no != nil {
		return nil, no
	}
	if get(romecsv.Appellation, r, "classification") == "PRINCIPALE" {
		return nil, refuse("principal_appellation", "codeOgr", "the principal appellation of a fiche cannot move")
	}
	return e.move(op.CodeOgr, r, e.code, op.ToCodeRome, "toCodeRome", "SYNONYME")
}

// move relinks appellation ogr from fiche from to fiche to.
func (e *engine) move(ogr string, r []string, from, to, field, classification string) ([]Change, *refusal) {
	if to == "" {
		return nil, refuse("field_required", field, "the target fiche is required")
	}
	if to == from {
		return nil, refuse("same_fiche", field, "the appellation is already on that fiche")
	}
	target, ok := e.tx.Get(romecsv.Fiche, to)
	if !ok {
		return nil, refuse("unknown_fiche", field, fmt.Sprintf("fiche %s does not exist", to))
	}
	const F = romecsv.Fiche
	e.tx.Put(romecsv.Appellation, with(romecsv.Appellation, r, map[string]string{
		"code_rome": to, "code_rome_parent": get(F, target, "code_rome_parent"), "classification": classification,
	}))
	e.tx.Delete(romecsv.Lien, key(from, "2", "", ogr))
	e.tx.Put(romecsv.Lien, newRow(romecsv.Lien, map[string]string{"code_rome": to, "code_compo_bloc": "2", "code_ogr": ogr}))
	if a, ok := e.tx.Get(romecsv.Arborescence, arboKey(ogr)); ok {
		e.tx.Put(romecsv.Arborescence, with(romecsv.Arborescence, a, map[string]string{
			"code_fiche": get(F, target, "code_fiche_metier"), "ogr_rome": get(F, target, "code_ogr"),
		}))
	}
	label := get(romecsv.Appellation, r, "libelle_appellation_long")
	return []Change{
		{CodeRome: from, Action: "moved", Entity: "appellation", CodeOgr: ogr, Libelle: label, Before: from, After: to},
		{CodeRome: to, Action: "added", Entity: "appellation", CodeOgr: ogr, Libelle: label, Before: from},
	}, nil
}

// --- fiche creation --------------------------------------------------------------

func (e *engine) createFiche(op Operation) ([]Change, *refusal) {
	if e.code != "" {
		return nil, refuse("fiche_exists", "op", "create_fiche must be the first operation of a change set without codeRome")
	}
	for _, f := range [][2]string{{"domaineProfessionnel", op.DomaineProfessionnel}, {"definition", op.Definition}, {"accesEmploi", op.AccesEmploi}} {
		if no := required(op, f[0], f[1]); no != nil {
			return nil, no
		}
	}
	dp, ok := e.tx.Get(romecsv.DomainePro, op.DomaineProfessionnel)
	if !ok {
		return nil, refuse("unknown_domaine_professionnel", "domaineProfessionnel", fmt.Sprintf("domaine professionnel %q does not exist", op.DomaineProfessionnel))
	}
	gd, ok := e.tx.Get(romecsv.GrandDomaine, op.DomaineProfessionnel[:1])
	if !ok {
		return nil, refuse("unknown_grand_domaine", "domaineProfessionnel", "no grand domaine for "+op.DomaineProfessionnel)
	}
	p := op.AppellationPrincipale
	if p == nil || (p.CodeOgr == "") == (p.Libelle == "") {
		return nil, refuse("field_required", "appellationPrincipale", "give either the codeOgr of an existing appellation or the libelle of a new one")
	}
	var moved []string
	label := strings.TrimSpace(p.Libelle)
	if p.CodeOgr != "" {
		r, ok := e.tx.Get(romecsv.Appellation, p.CodeOgr)
		if !ok {
			return nil, refuse("unknown_appellation", "appellationPrincipale.codeOgr", fmt.Sprintf("appellation %s does not exist", p.CodeOgr))
		}
		if get(romecsv.Appellation, r, "classification") == "PRINCIPALE" {
			return nil, refuse("principal_appellation", "appellationPrincipale.codeOgr", "the principal appellation of another fiche cannot move")
		}
		moved, label = r, get(romecsv.Appellation, r, "libelle_appellation_long")
	} else if no := e.checkNewLabel("appellationPrincipale.libelle", p.Libelle); no != nil {
		return nil, no
	}
	// A fiche is named after its principal appellation: a different libelle cannot hold.
	if op.Libelle != "" && e.deps.LabelKey(op.Libelle) != e.deps.LabelKey(label) {
		return nil, refuse("libelle_mismatch", "libelle", fmt.Sprintf("a fiche takes the label of its principal appellation (%q); leave libelle out or make it the same", label))
	}
	code, no := e.nextCodeRome(op.DomaineProfessionnel)
	if no != nil {
		return nil, no
	}
	ficheOgr := e.deps.NextOGR()
	e.tx.Put(romecsv.Fiche, newRow(romecsv.Fiche, map[string]string{
		"code_rome": code, "code_fiche_metier": ficheOgr, "code_ogr": ficheOgr, "libelle_rome": label,
	}))
	e.tx.Put(romecsv.FicheDomaine, newRow(romecsv.FicheDomaine, map[string]string{
		"code_rome": code, "libelle_rome": label, "code_grand_domaine": code[:1], "libelle_grand_domaine": get(romecsv.GrandDomaine, gd, "libelle_grand_domaine"),
		"code_domaine_professionel": op.DomaineProfessionnel, "libelle_domaine_professionel": get(romecsv.DomainePro, dp, "libelle_domaine_professionnel"),
	}))
	e.tx.Put(romecsv.FicheRiasec, newRow(romecsv.FicheRiasec, map[string]string{"code_rome": code}))
	e.tx.Put(romecsv.Lien, newRow(romecsv.Lien, map[string]string{"code_rome": code, "code_compo_bloc": "1", "code_ogr": ficheOgr}))
	e.tx.Put(romecsv.Arborescence, newRow(romecsv.Arborescence, map[string]string{
		"code_grand_domaine": code[:1], "code_domaine_professionnel": code[1:3], "numero_fiche_rome": code[3:], "intitule": label,
		"type_provenance": "3", "code_fiche": ficheOgr, "ogr_rome": ficheOgr,
	}))
	e.putText(code, fiche.TexteDefinition, "3", op.Definition)
	e.putText(code, fiche.TexteAccesMetier, "4", op.AccesEmploi)
	e.code = code
	changes := []Change{{Action: "created", Entity: "fiche", CodeOgr: ficheOgr, Libelle: label, After: code}}
	if moved != nil {
		from := get(romecsv.Appellation, moved, "code_rome")
		mc, _ := e.move(p.CodeOgr, moved, from, code, "appellationPrincipale.codeOgr", "PRINCIPALE")
		changes = append(changes, mc...)
	} else {
		ogr := e.deps.NextOGR()
		e.putAppellation(code, ogr, label, strings.TrimSpace(p.LibelleCourt), "PRINCIPALE")
		changes = append(changes, Change{Action: "added", Entity: "appellation", CodeOgr: ogr, Libelle: p.Libelle})
	}
	return changes, nil
}

// nextCodeRome is the first free code of a domaine professionnel (M18 → M1801…M1899).
func (e *engine) nextCodeRome(dp string) (string, *refusal) {
	for n := 1; n <= 99; n++ {
		code := fmt.Sprintf("%s%02d", dp, n)
		if _, taken := e.tx.Get(romecsv.Fiche, code); !taken {
			return code, nil
		}
	}
	return "", refuse("domaine_full", "domaineProfessionnel", "no free code ROME left in domaine professionnel "+dp)
}

// --- texts and tags --------------------------------------------------------------

// putText replaces the sentences of one text of a fiche, one row per line of text.
func (e *engine) putText(code, textType, bloc, text string) {
	const T = romecsv.Texte
	for _, r := range e.tx.ForRome(T, code) {
		if get(T, r, "libelle_type_texte") == textType {
			e.tx.Delete(T, key(code, textType, get(T, r, "position_phrase")))
		}
	}
	pos := 0
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		pos++
		e.tx.Put(T, newRow(T, map[string]string{
			"code_rome": code, "code_compo_bloc": bloc, "libelle_type_texte": textType,
			"position_phrase": strconv.Itoa(pos), "libelle_texte": fiche.EscapeText(line),
		}))
	}
}

func (e *engine) setText(op Operation) ([]Change, *refusal) {
	var textType, bloc string
	switch op.Field {
	case refclient.FieldDefinition:
		textType, bloc = fiche.TexteDefinition, "3"
	case refclient.FieldAccesEmploi:
		textType, bloc = fiche.TexteAccesMetier, "4"
	default:
		return nil, refuse("invalid_field", "field", `field must be "definition" or "accesEmploi"`)
	}
	if no := required(op, "text", op.Text); no != nil {
		return nil, no
	}
	before, _ := fiche.Build(e.tx, e.code, 0)
	old := before.Definition
	if op.Field == refclient.FieldAccesEmploi {
		old = before.AccesEmploi
	}
	e.putText(e.code, textType, bloc, op.Text)
	after, _ := fiche.Build(e.tx, e.code, 0)
	now := after.Definition
	if op.Field == refclient.FieldAccesEmploi {
		now = after.AccesEmploi
	}
	if now == old {
		return []Change{}, nil
	}
	return []Change{{Action: "updated", Entity: "texte", Field: op.Field, Before: old, After: now}}, nil
}

func (e *engine) setTags(op Operation) ([]Change, *refusal) {
	const F = romecsv.Fiche
	r := e.ficheRow(e.code)
	updates := map[string]string{}
	var changes []Change
	// set stages a tag and reports it as the API spells it (shown).
	set := func(field, col, value string, shown func(string) any) {
		if before := get(F, r, col); before != value {
			updates[col] = value
			changes = append(changes, Change{Action: "updated", Entity: "tags", Field: field, Before: shown(before), After: shown(value)})
		}
	}
	asText := func(v string) any { return v }
	asFlag := func(v string) any { return fiche.ParseFlag(v) }
	if op.TransitionEcologique != nil {
		// The values are the operations' syntax's (request.TransitionEcologiqueValues),
		// checked at the boundary; this guards the engine's other callers.
		v := *op.TransitionEcologique
		if v != "" && !slices.Contains(request.TransitionEcologiqueValues, v) {
			return nil, refuse("invalid_value", "transitionEcologique", "one of "+strings.Join(request.TransitionEcologiqueValues, ", "))
		}
		set("transitionEcologique", "transition_eco", v, asText)
	}
	flags := []struct {
		field, col string
		v          *bool
	}{
		{"transitionNumerique", "transition_num", op.TransitionNumerique},
		{"transitionDemographique", "transition_demo", op.TransitionDemographique},
		{"emploiReglemente", "emploi_reglemente", op.EmploiReglemente},
		{"emploiCadre", "emploi_cadre", op.EmploiCadre},
	}
	given := op.TransitionEcologique != nil
	for _, f := range flags {
		if f.v != nil {
			given = true
			set(f.field, f.col, fiche.Flag(f.v), asFlag)
		}
	}
	if !given {
		return nil, refuse("field_required", "transitionEcologique", "set_tags needs at least one tag")
	}
	if len(updates) > 0 {
		e.tx.Put(F, with(F, r, updates))
	}
	if changes == nil {
		changes = []Change{}
	}
	return changes, nil
}

// --- compétences, savoirs, contextes -----------------------------------------------

// itemKinds describes where each kind of item lives.
var itemKinds = map[string]struct {
	dataset, col, label string
}{
	"competence": {romecsv.Competence, "code_ogr", "libelle_competence"},
	"savoir":     {romecsv.Savoir, "code_ogr_savoir", "libelle_savoir"},
	"contexte":   {romecsv.Contexte, "code_ogr", "libelle_cont_travail"},
}

// placeOf returns the (bloc, rubrique) where an item of that kind is linked.
func (e *engine) placeOf(kind, ogr string) (bloc, rubrique string) {
	switch kind {
	case "savoir":
		return "5", "3"
	case "contexte":
		return "6", ""
	}
	r, _ := e.tx.Get(romecsv.Competence, ogr)
	if get(romecsv.Competence, r, "cat_comp") == "Savoir-être professionnel" {
		return "5", "2"
	}
	return "5", "1"
}

func coeurValue(field string, v *string) (string, *refusal) {
	if v == nil {
		return "", nil
	}
	csv, ok := fiche.CoeurToCSV[*v]
	if !ok {
		return "", refuse("invalid_value", field, `coeurMetier is "PRINCIPALE", "EMERGENTE" or null`)
	}
	return csv, nil
}

// link stages an existing item on the fiche.
func (e *engine) link(kind, ogr string, coeur *string) ([]Change, *refusal) {
	k := itemKinds[kind]
	if ogr == "" {
		return nil, refuse("field_required", "codeOgr", "codeOgr (or new) is required")
	}
	r, ok := e.tx.Get(k.dataset, ogr)
	if !ok {
		return nil, refuse("unknown_"+kind, "codeOgr", fmt.Sprintf("%s %s does not exist", kind, ogr))
	}
	flag, no := coeurValue("coeurMetier", coeur)
	if no != nil {
		return nil, no
	}
	bloc, rub := e.placeOf(kind, ogr)
	if e.linked(e.code, bloc, rub, ogr) {
		return nil, refuse("already_on_fiche", "codeOgr", fmt.Sprintf("%s %s is already on fiche %s", kind, ogr, e.code))
	}
	e.tx.Put(romecsv.Lien, newRow(romecsv.Lien, map[string]string{"code_rome": e.code, "code_compo_bloc": bloc, "code_rubrique": rub, "code_ogr": ogr}))
	e.tx.Put(romecsv.Coherence, newRow(romecsv.Coherence, map[string]string{"code_rome": e.code, "code_ogr": ogr, "coeur_metier": flag}))
	c := Change{Action: "added", Entity: kind, CodeOgr: ogr, Libelle: get(k.dataset, r, k.label)}
	if coeur != nil {
		c.After = map[string]string{"coeurMetier": *coeur}
	}
	return []Change{c}, nil
}

func (e *engine) addCompetence(op Operation) ([]Change, *refusal) {
	if op.New == nil {
		return e.link("competence", op.CodeOgr, op.CoeurMetier)
	}
	if op.CodeOgr != "" {
		return nil, refuse("ambiguous_item", "new", "give codeOgr or new, not both")
	}
	if no := required(op, "new.libelle", op.New.Libelle); no != nil {
		return nil, no
	}
	const C = romecsv.Competence
	macro, ok := e.tx.Get(C, op.New.MacroCompetenceCodeOgr)
	if !ok || get(C, macro, "nature") != "Macro-compétence" {
		return nil, refuse("unknown_macro_competence", "new.macroCompetenceCodeOgr", fmt.Sprintf("%q is not a macro-compétence", op.New.MacroCompetenceCodeOgr))
	}
	if get(C, macro, "cat_comp") != "Savoir-faire" {
		return nil, refuse("invalid_macro_competence", "new.macroCompetenceCodeOgr", "new compétences go under a savoir-faire macro-compétence")
	}
	if _, no := coeurValue("coeurMetier", op.CoeurMetier); no != nil {
		return nil, no
	}
	ogr := e.deps.NextOGR()
	label := strings.TrimSpace(op.New.Libelle)
	e.tx.Put(C, newRow(C, map[string]string{
		"code_ogr": ogr, "nature": "Compétence", "libelle_competence": label, "code_ogr_macro_comp": op.New.MacroCompetenceCodeOgr,
		"cat_comp": "Savoir-faire", "sous_cat_comp": get(C, macro, "sous_cat_comp"),
	}))
	e.tx.Put(romecsv.Item, newRow(romecsv.Item, map[string]string{"code_ogr": ogr, "libelle": label, "code_rubrique": "1"}))
	changes, no := e.link("competence", ogr, op.CoeurMetier)
	if no != nil {
		return nil, no
	}
	changes[0].Action = "created"
	return changes, nil
}

func (e *engine) addSavoir(op Operation) ([]Change, *refusal) {
	if op.New == nil {
		return e.link("savoir", op.CodeOgr, op.CoeurMetier)
	}
	if op.CodeOgr != "" {
		return nil, refuse("ambiguous_item", "new", "give codeOgr or new, not both")
	}
	if no := required(op, "new.libelle", op.New.Libelle); no != nil {
		return nil, no
	}
	valid := false
	for _, c := range fiche.SavoirCategories {
		valid = valid || c == op.New.Categorie
	}
	if !valid {
		return nil, refuse("invalid_value", "new.categorie", "categorie is one of: "+strings.Join(fiche.SavoirCategories, ", "))
	}
	if _, no := coeurValue("coeurMetier", op.CoeurMetier); no != nil {
		return nil, no
	}
	ogr := e.deps.NextOGR()
	label := strings.TrimSpace(op.New.Libelle)
	e.tx.Put(romecsv.Savoir, newRow(romecsv.Savoir, map[string]string{"code_ogr_savoir": ogr, "libelle_savoir": label, "categorie_savoir": op.New.Categorie}))
	e.tx.Put(romecsv.Item, newRow(romecsv.Item, map[string]string{"code_ogr": ogr, "libelle": label, "code_rubrique": "3"}))
	changes, no := e.link("savoir", ogr, op.CoeurMetier)
	if no != nil {
		return nil, no
	}
	changes[0].Action = "created"
	return changes, nil
}

func (e *engine) addContexte(op Operation) ([]Change, *refusal) {
	return e.link("contexte", op.CodeOgr, op.CoeurMetier)
}

func (e *engine) removeItem(op Operation, kind string) ([]Change, *refusal) {
	k := itemKinds[kind]
	r, ok := e.tx.Get(k.dataset, op.CodeOgr)
	if !ok {
		return nil, refuse("unknown_"+kind, "codeOgr", fmt.Sprintf("%s %q does not exist", kind, op.CodeOgr))
	}
	bloc, rub := e.placeOf(kind, op.CodeOgr)
	if !e.linked(e.code, bloc, rub, op.CodeOgr) {
		return nil, refuse("not_on_fiche", "codeOgr", fmt.Sprintf("%s %s is not on fiche %s", kind, op.CodeOgr, e.code))
	}
	e.tx.Delete(romecsv.Lien, key(e.code, bloc, rub, op.CodeOgr))
	e.tx.Delete(romecsv.Coherence, key(e.code, op.CodeOgr))
	// An item this run created is on this fiche only: taken off, it would be on none.
	if _, published := e.tx.Base().Get(k.dataset, op.CodeOgr); !published {
		e.tx.Delete(k.dataset, op.CodeOgr)
		e.tx.Delete(romecsv.Item, op.CodeOgr)
	}
	return []Change{{Action: "removed", Entity: kind, CodeOgr: op.CodeOgr, Libelle: get(k.dataset, r, k.label)}}, nil
}

func (e *engine) setCoeurMetier(op Operation) ([]Change, *refusal) {
	flag, no := coeurValue("coeurMetier", op.CoeurMetier)
	if no != nil {
		return nil, no
	}
	r, ok := e.tx.Get(romecsv.Coherence, key(e.code, op.CodeOgr))
	if !ok {
		return nil, refuse("not_on_fiche", "codeOgr", fmt.Sprintf("item %q is not on fiche %s", op.CodeOgr, e.code))
	}
	before := get(romecsv.Coherence, r, "coeur_metier")
	e.tx.Put(romecsv.Coherence, with(romecsv.Coherence, r, map[string]string{"coeur_metier": flag}))
	if before == flag {
		return []Change{}, nil
	}
	return []Change{{Action: "updated", Entity: "coeurMetier", CodeOgr: op.CodeOgr, Before: fiche.CoeurAPI(before), After: fiche.CoeurAPI(flag)}}, nil
}

// --- mobilités ---------------------------------------------------------------------

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
	if op.ToCodeRome == "" {
		return nil, refuse("field_required", "toCodeRome", "toCodeRome is required")
	}
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
		if *op.Rank < 1 || *op.Rank > len(ms)+1 {
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
