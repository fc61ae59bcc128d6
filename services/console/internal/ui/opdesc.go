package ui

import (
	"strconv"

	"github.com/plateforme-rome/rome/clients/refclient"
)

// detail is one line of an operation's description.
type detail struct{ Label, Value string }

// describeOp says in French what an operation changes, field by field, for the request
// page and the moderator's decision.
func describeOp(op refclient.Operation) []detail {
	var d []detail
	add := func(label, value string) {
		if value != "" {
			d = append(d, detail{label, value})
		}
	}
	add("Code OGR", op.CodeOgr)
	add("Libellé", op.Libelle)
	add("Libellé court", op.LibelleCourt)
	add("Domaine professionnel", op.DomaineProfessionnel)
	add("Définition", op.Definition)
	add("Accès à l'emploi", op.AccesEmploi)
	if p := op.AppellationPrincipale; p != nil {
		if p.CodeOgr != "" {
			add("Appellation principale (existante)", p.CodeOgr)
		} else {
			add("Appellation principale (nouvelle)", p.Libelle)
		}
	}
	add("Remplacée par (code OGR)", op.ReplacedBy)
	add("Motif du retrait", op.Reason)
	add("Fiche cible", op.ToCodeRome)
	if op.Rank != nil {
		add("Rang", strconv.Itoa(*op.Rank))
	}
	if op.New != nil {
		add("Nouveau libellé", op.New.Libelle)
		add("Sous la macro-compétence", op.New.MacroCompetenceCodeOgr)
		add("Catégorie", op.New.Categorie)
	}
	switch op.Op {
	case refclient.OpAddCompetence, refclient.OpSetCoeurMetier:
		add("Cœur de métier", coeurMetierLabel(op.CoeurMetier))
	case refclient.OpSetText:
		add("Texte", textFieldLabel(op.Field))
		add("Nouveau texte", op.Text)
	case refclient.OpSetTags:
		if op.TransitionEcologique != nil {
			add("Transition écologique", *op.TransitionEcologique)
		}
		for _, t := range []struct {
			label string
			v     *bool
		}{
			{"Transition numérique", op.TransitionNumerique}, {"Transition démographique", op.TransitionDemographique},
			{"Emploi réglementé", op.EmploiReglemente}, {"Emploi cadre", op.EmploiCadre},
		} {
			if t.v != nil {
				add(t.label, yesNo(*t.v))
			}
		}
	}
	return d
}

func coeurMetierLabel(v *string) string {
	switch {
	case v == nil:
		return "aucun"
	case *v == "PRINCIPALE":
		return "principale"
	case *v == "EMERGENTE":
		return "émergente"
	}
	return *v
}

func textFieldLabel(f string) string {
	switch f {
	case refclient.FieldDefinition:
		return "définition"
	case refclient.FieldAccesEmploi:
		return "accès à l'emploi"
	}
	return f
}

func yesNo(b bool) string {
	if b {
		return "oui"
	}
	return "non"
}
