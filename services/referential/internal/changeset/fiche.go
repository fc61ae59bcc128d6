package changeset

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/services/referential/internal/fiche"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
)

// The fiche itself: its creation, its texts and its tags.

func (e *engine) createFiche(op Operation) ([]Change, *refusal) {
	if e.code != "" {
		return nil, refuse("fiche_exists", "op", "create_fiche must be the first operation of a change set without codeRome")
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
	var moved []string
	label := p.Libelle
	if p.CodeOgr != "" {
		r, ok := e.tx.Get(romecsv.Appellation, p.CodeOgr)
		if !ok {
			return nil, refuse("unknown_appellation", "appellationPrincipale.codeOgr", fmt.Sprintf("appellation %s does not exist", p.CodeOgr))
		}
		if get(romecsv.Appellation, r, "classification") == romecsv.ClassificationPrincipale {
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
	e.tx.Put(romecsv.Lien, newRow(romecsv.Lien, map[string]string{"code_rome": code, "code_compo_bloc": romecsv.BlocFiche, "code_ogr": ficheOgr}))
	e.tx.Put(romecsv.Arborescence, newRow(romecsv.Arborescence, map[string]string{
		"code_grand_domaine": code[:1], "code_domaine_professionnel": code[1:3], "numero_fiche_rome": code[3:], "intitule": label,
		"type_provenance": romecsv.ProvenanceFiche, "code_fiche": ficheOgr, "ogr_rome": ficheOgr,
	}))
	e.putText(code, romecsv.TexteDefinition, romecsv.BlocDefinition, op.Definition)
	e.putText(code, romecsv.TexteAccesMetier, romecsv.BlocAccesMetier, op.AccesEmploi)
	e.code = code
	changes := []Change{{Action: "created", Entity: "fiche", CodeOgr: ficheOgr, Libelle: label, After: code}}
	if moved != nil {
		from := get(romecsv.Appellation, moved, "code_rome")
		mc, _ := e.move(p.CodeOgr, moved, from, code, "appellationPrincipale.codeOgr", romecsv.ClassificationPrincipale)
		changes = append(changes, mc...)
	} else {
		ogr := e.deps.NextOGR()
		e.putAppellation(code, ogr, label, p.LibelleCourt, romecsv.ClassificationPrincipale)
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
	// The field is definition or accesEmploi (request.SetTextFields).
	textType, bloc := romecsv.TexteDefinition, romecsv.BlocDefinition
	if op.Field == refclient.FieldAccesEmploi {
		textType, bloc = romecsv.TexteAccesMetier, romecsv.BlocAccesMetier
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
	changes := []Change{}
	// set stages a tag and reports it as the API spells it (shown).
	set := func(field, col, value string, shown func(string) any) {
		if before := get(F, r, col); before != value {
			updates[col] = value
			changes = append(changes, Change{Action: "updated", Entity: "tags", Field: field, Before: shown(before), After: shown(value)})
		}
	}
	asText := func(v string) any { return v }
	asFlag := func(v string) any { return fiche.ParseFlag(v) }
	// The values of transitionEcologique are the request contract's
	// (request.TransitionEcologiqueValues), the official ones.
	if op.TransitionEcologique != nil {
		set("transitionEcologique", "transition_eco", *op.TransitionEcologique, asText)
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
	for _, f := range flags {
		if f.v != nil {
			set(f.field, f.col, fiche.Flag(f.v), asFlag)
		}
	}
	if len(updates) > 0 {
		e.tx.Put(F, with(F, r, updates))
	}
	return changes, nil
}
