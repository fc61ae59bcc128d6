package ui

import (
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/workflows/request"
)

// amendField is a field of an operation that a moderator may change when amending it.
type amendField struct {
	Name, Label, Value string
	Kind               string // text, textarea, number, coeur (a cœur-de-métier select)
	get                func(o *refclient.Operation) *string
}

// amendable lists the fields of op that carry its substance: the moderator amends their
// values, the operation's kind and targets staying what the partner asked.
func amendable(op refclient.Operation) []amendField {
	str := func(name, label, kind string, get func(o *refclient.Operation) *string) amendField {
		return amendField{Name: name, Label: label, Kind: kind, get: get}
	}
	libelle := str("libelle", "Libellé", "text", func(o *refclient.Operation) *string { return &o.Libelle })
	libelleCourt := str("libelleCourt", "Libellé court", "text", func(o *refclient.Operation) *string { return &o.LibelleCourt })
	codeOgr := str("codeOgr", "Code OGR", "text", func(o *refclient.Operation) *string { return &o.CodeOgr })
	toCodeRome := str("toCodeRome", "Fiche cible (code ROME)", "text", func(o *refclient.Operation) *string { return &o.ToCodeRome })
	newLibelle := str("newLibelle", "Libellé du nouvel élément", "text", func(o *refclient.Operation) *string {
		if o.New == nil {
			o.New = &refclient.NewItem{}
		}
		return &o.New.Libelle
	})
	var fields []amendField
	switch op.Op {
	case refclient.OpAddAppellation:
		fields = []amendField{libelle, libelleCourt}
	case refclient.OpUpdateAppellation:
		fields = []amendField{codeOgr, libelle, libelleCourt}
	case refclient.OpRemoveAppellation:
		fields = []amendField{codeOgr,
			str("replacedBy", "Remplacée par (code OGR)", "text", func(o *refclient.Operation) *string { return &o.ReplacedBy }),
			str("reason", "Motif du retrait", "text", func(o *refclient.Operation) *string { return &o.Reason })}
	case refclient.OpMoveAppellation:
		fields = []amendField{codeOgr, toCodeRome}
	case refclient.OpAddCompetence:
		if op.New != nil {
			fields = []amendField{newLibelle}
		} else {
			fields = []amendField{codeOgr}
		}
		fields = append(fields, amendField{Name: "coeurMetier", Label: "Cœur de métier", Kind: "coeur"})
	case refclient.OpSetCoeurMetier:
		fields = []amendField{codeOgr, {Name: "coeurMetier", Label: "Cœur de métier", Kind: "coeur"}}
	case refclient.OpAddSavoir:
		if op.New != nil {
			fields = []amendField{newLibelle}
		} else {
			fields = []amendField{codeOgr}
		}
	case refclient.OpRemoveCompetence, refclient.OpRemoveSavoir, refclient.OpAddContexte, refclient.OpRemoveContexte:
		fields = []amendField{codeOgr}
	case refclient.OpAddMobilite:
		fields = []amendField{toCodeRome, {Name: "rank", Label: "Rang", Kind: "number"}}
	case refclient.OpRemoveMobilite:
		fields = []amendField{toCodeRome}
	case refclient.OpSetText:
		fields = []amendField{str("text", "Nouveau texte", "textarea", func(o *refclient.Operation) *string { return &o.Text })}
	case refclient.OpCreateFiche:
		fields = []amendField{libelle,
			str("definition", "Définition", "textarea", func(o *refclient.Operation) *string { return &o.Definition }),
			str("accesEmploi", "Accès à l'emploi", "textarea", func(o *refclient.Operation) *string { return &o.AccesEmploi })}
	}
	for i := range fields {
		f := &fields[i]
		switch {
		case f.get != nil:
			copied := op
			f.Value = *f.get(&copied)
		case f.Name == "rank":
			f.Value = strconv.Itoa(derefInt(op.Rank))
		case f.Name == "coeurMetier":
			f.Value = deref(op.CoeurMetier)
		}
	}
	return fields
}

// amendInput is the form field of one amendable field of an operation.
func amendInput(opID, name string) string { return "amender-" + opID + "-" + name }

// parseAmendment reads the moderator's amended operation: the partner's operation with the
// values the moderator changed (an operation with nothing amendable is amended as it is:
// the workflow then refuses nothing, and the rationale says why).
func parseAmendment(c *gin.Context, op request.RequestOperation, errs fieldErrors) refclient.Operation {
	amended := op.Operation
	amended.ID = ""
	if amended.New != nil {
		n := *amended.New
		amended.New = &n
	}
	for _, f := range amendable(op.Operation) {
		v := strings.TrimSpace(c.PostForm(amendInput(op.ID, f.Name)))
		switch {
		case f.get != nil:
			*f.get(&amended) = v
		case f.Name == "rank":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				errs.add(amendInput(op.ID, f.Name), "Le rang est un nombre entier à partir de 1.")
				continue
			}
			amended.Rank = &n
		case f.Name == "coeurMetier":
			switch v {
			case "":
				amended.CoeurMetier = nil
			case "PRINCIPALE", "EMERGENTE":
				amended.CoeurMetier = &v
			default:
				errs.add(amendInput(op.ID, f.Name), "Choisissez principale, émergente ou aucun.")
			}
		}
	}
	return amended
}
