package changeset

import (
	"fmt"

	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// checkNewLabel refuses a label an appellation cannot take: one with nothing to compare
// (no letter nor digit), or the label of another appellation, published or given by this
// run, in any spelling LabelKey folds together.
func (e *engine) checkNewLabel(field, label string) *refusal {
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
		"classification": classification, "code_rome_parent": get(romecsv.Fiche, f, "code_rome_parent"), "peu_usite": romecsv.FlagNo,
	}))
	e.tx.Put(romecsv.Lien, newRow(romecsv.Lien, map[string]string{"code_rome": code, "code_compo_bloc": romecsv.BlocAppellations, "code_ogr": ogr}))
	e.tx.Put(romecsv.Arborescence, newRow(romecsv.Arborescence, map[string]string{
		"libelle_appellation_long": libelle, "libelle_appellation_court": court, "type_provenance": romecsv.ProvenanceAppellation,
		"code_fiche": get(romecsv.Fiche, f, "code_fiche_metier"), "ogr_rome": get(romecsv.Fiche, f, "code_ogr"), "ogr_appellation": ogr,
	}))
	e.labels[e.deps.LabelKey(libelle)] = ogr
}

func (e *engine) addAppellation(op Operation) ([]Change, *refusal) {
	if no := e.checkNewLabel("libelle", op.Libelle); no != nil {
		return nil, no
	}
	ogr := e.deps.NextOGR()
	e.putAppellation(e.code, ogr, op.Libelle, op.LibelleCourt, romecsv.ClassificationSynonyme)
	return []Change{{Action: "added", Entity: "appellation", CodeOgr: ogr, Libelle: op.Libelle}}, nil
}

// ficheAppellation returns an appellation that must be on the current fiche.
func (e *engine) ficheAppellation(ogr string) ([]string, *refusal) {
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
	const A = romecsv.Appellation
	before, court := get(A, r, "libelle_appellation_long"), get(A, r, "libelle_appellation_court")
	long := before
	if op.Libelle != "" {
		// The same job in another spelling (case, accents, gender order) is no new label.
		if k := e.deps.LabelKey(op.Libelle); k != e.deps.LabelKey(before) {
			if no := e.checkNewLabel("libelle", op.Libelle); no != nil {
				return nil, no
			}
			e.labels[k] = op.CodeOgr
		}
		if court == before {
			court = op.Libelle // a short label that was the whole label follows it
		}
		long = op.Libelle
	}
	if op.LibelleCourt != "" {
		court = op.LibelleCourt
	}
	labels := map[string]string{"libelle_appellation_long": long, "libelle_appellation_court": court}
	e.tx.Put(A, with(A, r, labels))
	if a, ok := e.tx.Get(romecsv.Arborescence, romecsv.AppellationArboKey(op.CodeOgr)); ok {
		e.tx.Put(romecsv.Arborescence, with(romecsv.Arborescence, a, labels))
	}
	changes := []Change{}
	if long != before {
		changes = append(changes, Change{Action: "updated", Entity: "appellation", CodeOgr: op.CodeOgr, Libelle: long, Field: "libelle", Before: before, After: long})
	}
	if oldCourt := get(A, r, "libelle_appellation_court"); court != oldCourt {
		changes = append(changes, Change{Action: "updated", Entity: "appellation", CodeOgr: op.CodeOgr, Libelle: long, Field: "libelleCourt", Before: oldCourt, After: court})
	}
	if get(A, r, "classification") == romecsv.ClassificationPrincipale && long != before {
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
	if a, ok := e.tx.Get(romecsv.Arborescence, romecsv.FicheArboKey(code)); ok {
		e.tx.Put(romecsv.Arborescence, with(romecsv.Arborescence, a, map[string]string{"intitule": label}))
	}
}

func (e *engine) removeAppellation(op Operation) ([]Change, *refusal) {
	r, no := e.ficheAppellation(op.CodeOgr)
	if no != nil {
		return nil, no
	}
	if get(romecsv.Appellation, r, "classification") == romecsv.ClassificationPrincipale {
		return nil, refuse("principal_appellation", "codeOgr", "the principal appellation carries the fiche label: rename it with update_appellation instead")
	}
	if op.ReplacedBy != "" {
		if _, ok := e.tx.Get(romecsv.Appellation, op.ReplacedBy); !ok {
			return nil, refuse("unknown_appellation", "replacedBy", fmt.Sprintf("successor appellation %s does not exist", op.ReplacedBy))
		}
	}
	e.tx.Delete(romecsv.Appellation, op.CodeOgr)
	e.tx.Delete(romecsv.Lien, key(e.code, romecsv.BlocAppellations, romecsv.RubriqueNone, op.CodeOgr))
	e.tx.Delete(romecsv.Arborescence, romecsv.AppellationArboKey(op.CodeOgr))
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
	if get(romecsv.Appellation, r, "classification") == romecsv.ClassificationPrincipale {
		return nil, refuse("principal_appellation", "codeOgr", "the principal appellation of a fiche cannot move")
	}
	return e.move(op.CodeOgr, r, e.code, op.ToCodeRome, "toCodeRome", romecsv.ClassificationSynonyme)
}

// move relinks appellation ogr from fiche from to fiche to.
func (e *engine) move(ogr string, r []string, from, to, field, classification string) ([]Change, *refusal) {
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
	e.tx.Delete(romecsv.Lien, key(from, romecsv.BlocAppellations, romecsv.RubriqueNone, ogr))
	e.tx.Put(romecsv.Lien, newRow(romecsv.Lien, map[string]string{"code_rome": to, "code_compo_bloc": romecsv.BlocAppellations, "code_ogr": ogr}))
	if a, ok := e.tx.Get(romecsv.Arborescence, romecsv.AppellationArboKey(ogr)); ok {
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
