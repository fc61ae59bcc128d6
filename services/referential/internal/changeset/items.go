package changeset

import (
	"fmt"

	"github.com/plateforme-rome/rome/services/referential/internal/fiche"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// Compétences, savoirs and contextes on a fiche, and their coeur métier.

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
		return romecsv.BlocCompetences, romecsv.RubriqueSavoirs
	case "contexte":
		return romecsv.BlocContextes, romecsv.RubriqueNone
	}
	r, _ := e.tx.Get(romecsv.Competence, ogr)
	if get(romecsv.Competence, r, "cat_comp") == romecsv.CategorieSavoirEtre {
		return romecsv.BlocCompetences, romecsv.RubriqueSavoirEtre
	}
	return romecsv.BlocCompetences, romecsv.RubriqueSavoirFaire
}

// link stages an existing item on the fiche.
func (e *engine) link(kind, ogr string, coeur *string) ([]Change, *refusal) {
	k := itemKinds[kind]
	r, ok := e.tx.Get(k.dataset, ogr)
	if !ok {
		return nil, refuse("unknown_"+kind, "codeOgr", fmt.Sprintf("%s %s does not exist", kind, ogr))
	}
	bloc, rub := e.placeOf(kind, ogr)
	if e.linked(e.code, bloc, rub, ogr) {
		return nil, refuse("already_on_fiche", "codeOgr", fmt.Sprintf("%s %s is already on fiche %s", kind, ogr, e.code))
	}
	e.tx.Put(romecsv.Lien, newRow(romecsv.Lien, map[string]string{"code_rome": e.code, "code_compo_bloc": bloc, "code_rubrique": rub, "code_ogr": ogr}))
	e.tx.Put(romecsv.Coherence, newRow(romecsv.Coherence, map[string]string{"code_rome": e.code, "code_ogr": ogr, "coeur_metier": fiche.CoeurCSV(coeur)}))
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
	const C = romecsv.Competence
	macro, ok := e.tx.Get(C, op.New.MacroCompetenceCodeOgr)
	if !ok || get(C, macro, "nature") != romecsv.NatureMacroCompetence {
		return nil, refuse("unknown_macro_competence", "new.macroCompetenceCodeOgr", fmt.Sprintf("%q is not a macro-compétence", op.New.MacroCompetenceCodeOgr))
	}
	if get(C, macro, "cat_comp") != romecsv.CategorieSavoirFaire {
		return nil, refuse("invalid_macro_competence", "new.macroCompetenceCodeOgr", "new compétences go under a savoir-faire macro-compétence")
	}
	ogr := e.deps.NextOGR()
	e.tx.Put(C, newRow(C, map[string]string{
		"code_ogr": ogr, "nature": romecsv.NatureCompetence, "libelle_competence": op.New.Libelle, "code_ogr_macro_comp": op.New.MacroCompetenceCodeOgr,
		"cat_comp": romecsv.CategorieSavoirFaire, "sous_cat_comp": get(C, macro, "sous_cat_comp"),
	}))
	e.tx.Put(romecsv.Item, newRow(romecsv.Item, map[string]string{"code_ogr": ogr, "libelle": op.New.Libelle, "code_rubrique": romecsv.RubriqueSavoirFaire}))
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
	ogr := e.deps.NextOGR()
	e.tx.Put(romecsv.Savoir, newRow(romecsv.Savoir, map[string]string{"code_ogr_savoir": ogr, "libelle_savoir": op.New.Libelle, "categorie_savoir": op.New.Categorie}))
	e.tx.Put(romecsv.Item, newRow(romecsv.Item, map[string]string{"code_ogr": ogr, "libelle": op.New.Libelle, "code_rubrique": romecsv.RubriqueSavoirs}))
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
	r, ok := e.tx.Get(romecsv.Coherence, key(e.code, op.CodeOgr))
	if !ok {
		return nil, refuse("not_on_fiche", "codeOgr", fmt.Sprintf("item %q is not on fiche %s", op.CodeOgr, e.code))
	}
	before, flag := get(romecsv.Coherence, r, "coeur_metier"), fiche.CoeurCSV(op.CoeurMetier)
	e.tx.Put(romecsv.Coherence, with(romecsv.Coherence, r, map[string]string{"coeur_metier": flag}))
	if before == flag {
		return []Change{}, nil
	}
	return []Change{{Action: "updated", Entity: "coeurMetier", CodeOgr: op.CodeOgr, Before: fiche.CoeurAPI(before), After: fiche.CoeurAPI(flag)}}, nil
}
