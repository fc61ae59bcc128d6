package changeset_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/services/referential/internal/changeset"
	"github.com/plateforme-rome/rome/services/referential/internal/fiche"
	"github.com/plateforme-rome/rome/services/referential/internal/romedata"
)

func TestRefusals(t *testing.T) {
	t.Parallel()
	p := pick(t)
	type op = changeset.Operation
	addApp := func(label string) op { return op{Op: refclient.OpAddAppellation, Libelle: label} }
	withPrincipal := func(a changeset.AppellationPrincipale) op { return newFiche(a) }
	without := func(edit func(*op)) op {
		o := newFiche(changeset.AppellationPrincipale{Libelle: robotLabel})
		edit(&o)
		return o
	}
	cases := []struct {
		name      string
		code      string
		before    []op // operations of the same run, which apply
		op        op
		wantCode  string
		wantField string
	}{
		// The fiche.
		{"unknown fiche", "Z9999", nil, addApp("Développeur / Développeuse Go"), "unknown_fiche", "codeRome"},
		{"operation without a fiche", "", nil, op{Op: refclient.OpAddCompetence, CodeOgr: p.compOff}, "fiche_required", "codeRome"},

		// Unknown codes OGR.
		{"add_competence of an unknown code OGR", dev, nil, op{Op: refclient.OpAddCompetence, CodeOgr: "99999999"}, "unknown_competence", "codeOgr"},
		{"add_competence of a savoir's code", dev, nil, op{Op: refclient.OpAddCompetence, CodeOgr: p.savoirOff}, "unknown_competence", "codeOgr"},
		{"add_savoir of an unknown code OGR", dev, nil, op{Op: refclient.OpAddSavoir, CodeOgr: "99999999"}, "unknown_savoir", "codeOgr"},
		{"add_contexte of an unknown code OGR", dev, nil, op{Op: refclient.OpAddContexte, CodeOgr: "99999999"}, "unknown_contexte", "codeOgr"},
		{"remove_competence of an unknown code OGR", dev, nil, op{Op: refclient.OpRemoveCompetence, CodeOgr: "99999999"}, "unknown_competence", "codeOgr"},
		{"remove_savoir of an unknown code OGR", dev, nil, op{Op: refclient.OpRemoveSavoir, CodeOgr: "99999999"}, "unknown_savoir", "codeOgr"},
		{"remove_contexte of an unknown code OGR", dev, nil, op{Op: refclient.OpRemoveContexte, CodeOgr: "99999999"}, "unknown_contexte", "codeOgr"},
		{"update_appellation of an unknown code OGR", dev, nil, op{Op: refclient.OpUpdateAppellation, CodeOgr: "99999999", Libelle: "X"}, "unknown_appellation", "codeOgr"},
		{"remove_appellation of an unknown code OGR", dev, nil, op{Op: refclient.OpRemoveAppellation, CodeOgr: "99999999", Reason: "x"}, "unknown_appellation", "codeOgr"},
		{"move_appellation of an unknown code OGR", dev, nil, op{Op: refclient.OpMoveAppellation, CodeOgr: "99999999", ToCodeRome: appli}, "unknown_appellation", "codeOgr"},
		{"set_coeur_metier of an unknown code OGR", dev, nil, op{Op: refclient.OpSetCoeurMetier, CodeOgr: "99999999"}, "not_on_fiche", "codeOgr"},

		// Not on the fiche.
		{"remove_competence not on the fiche", dev, nil, op{Op: refclient.OpRemoveCompetence, CodeOgr: p.compOff}, "not_on_fiche", "codeOgr"},
		{"remove_savoir not on the fiche", dev, nil, op{Op: refclient.OpRemoveSavoir, CodeOgr: p.savoirOff}, "not_on_fiche", "codeOgr"},
		{"remove_contexte not on the fiche", dev, nil, op{Op: refclient.OpRemoveContexte, CodeOgr: p.contexteOff}, "not_on_fiche", "codeOgr"},
		{"set_coeur_metier not on the fiche", dev, nil, op{Op: refclient.OpSetCoeurMetier, CodeOgr: p.compOff, CoeurMetier: str(fiche.CoeurPrincipale)}, "not_on_fiche", "codeOgr"},
		{"set_coeur_metier of a compétence removed earlier", dev, []op{{Op: refclient.OpRemoveCompetence, CodeOgr: devSkill}},
			op{Op: refclient.OpSetCoeurMetier, CodeOgr: devSkill}, "not_on_fiche", "codeOgr"},
		{"update_appellation of another fiche", dev, nil, op{Op: refclient.OpUpdateAppellation, CodeOgr: appliSynonym, Libelle: "X"}, "appellation_not_on_fiche", "codeOgr"},
		{"remove_appellation of another fiche", dev, nil, op{Op: refclient.OpRemoveAppellation, CodeOgr: appliSynonym, Reason: "x"}, "appellation_not_on_fiche", "codeOgr"},
		{"move_appellation of another fiche", dev, nil, op{Op: refclient.OpMoveAppellation, CodeOgr: appliSynonym, ToCodeRome: "M1855"}, "appellation_not_on_fiche", "codeOgr"},
		{"remove_appellation moved away earlier", dev, []op{{Op: refclient.OpMoveAppellation, CodeOgr: devSynonym, ToCodeRome: appli}},
			op{Op: refclient.OpRemoveAppellation, CodeOgr: devSynonym, Reason: "x"}, "appellation_not_on_fiche", "codeOgr"},
		{"remove_mobilite not on the fiche", dev, nil, op{Op: refclient.OpRemoveMobilite, ToCodeRome: appli}, "not_on_fiche", "toCodeRome"},
		{"remove_mobilite removed earlier", dev, []op{{Op: refclient.OpRemoveMobilite, ToCodeRome: "M1810"}},
			op{Op: refclient.OpRemoveMobilite, ToCodeRome: "M1810"}, "not_on_fiche", "toCodeRome"},

		// Already on the fiche.
		{"add_competence already on the fiche", dev, nil, op{Op: refclient.OpAddCompetence, CodeOgr: devSkill}, "already_on_fiche", "codeOgr"},
		{"add_competence added earlier", dev, []op{{Op: refclient.OpAddCompetence, CodeOgr: p.compOff}},
			op{Op: refclient.OpAddCompetence, CodeOgr: p.compOff, CoeurMetier: str(fiche.CoeurPrincipale)}, "already_on_fiche", "codeOgr"},
		{"add_savoir already on the fiche", dev, nil, op{Op: refclient.OpAddSavoir, CodeOgr: p.savoirOn}, "already_on_fiche", "codeOgr"},
		{"add_contexte already on the fiche", dev, nil, op{Op: refclient.OpAddContexte, CodeOgr: p.contexteOn}, "already_on_fiche", "codeOgr"},
		{"add_mobilite already on the fiche", dev, nil, op{Op: refclient.OpAddMobilite, ToCodeRome: "M1810"}, "already_on_fiche", "toCodeRome"},

		// Duplicate appellation labels.
		{"add_appellation with the label of an appellation of the fiche", dev, nil, addApp(devLabel), "duplicate_appellation", "libelle"},
		{"add_appellation in the other-gender order", dev, nil, addApp("Développeuse / Développeur informatique"), "duplicate_appellation", "libelle"},
		{"add_appellation in full form", dev, nil, addApp("Développeur informatique / Développeuse informatique"), "duplicate_appellation", "libelle"},
		{"add_appellation with the label of another fiche's appellation", dev, nil, addApp("développeur / développeuse WEB"), "duplicate_appellation", "libelle"},
		{"add_appellation twice in one run", dev, []op{addApp("Développeur / Développeuse Go")}, addApp("Développeuse / Développeur Go"), "duplicate_appellation", "libelle"},
		{"add_appellation with a label an earlier rename gave", dev,
			[]op{{Op: refclient.OpUpdateAppellation, CodeOgr: devSynonym, Libelle: "Développeur / Développeuse Go"}},
			addApp("Développeuse / Développeur Go"), "duplicate_appellation", "libelle"},
		{"add_appellation with no letter", dev, nil, addApp(" - / - "), "invalid_value", "libelle"},
		{"update_appellation to another appellation's label", dev, nil,
			op{Op: refclient.OpUpdateAppellation, CodeOgr: devSynonym, Libelle: "Développeuse / Développeur web"}, "duplicate_appellation", "libelle"},
		{"create_fiche with a taken label", "", nil, withPrincipal(changeset.AppellationPrincipale{Libelle: "Développeuse / Développeur web"}),
			"duplicate_appellation", "appellationPrincipale.libelle"},

		// Principal appellations.
		{"remove_appellation of the principal", dev, nil, op{Op: refclient.OpRemoveAppellation, CodeOgr: devPrincipal, Reason: "x"}, "principal_appellation", "codeOgr"},
		{"move_appellation of the principal", dev, nil, op{Op: refclient.OpMoveAppellation, CodeOgr: devPrincipal, ToCodeRome: appli}, "principal_appellation", "codeOgr"},
		{"create_fiche from another fiche's principal", "", nil, withPrincipal(changeset.AppellationPrincipale{CodeOgr: webPrincipal}),
			"principal_appellation", "appellationPrincipale.codeOgr"},

		// remove_appellation successors.
		{"remove_appellation replaced by itself", dev, nil, op{Op: refclient.OpRemoveAppellation, CodeOgr: devSynonym, ReplacedBy: devSynonym}, "invalid_operation", "replacedBy"},
		{"remove_appellation replaced by an unknown one", dev, nil, op{Op: refclient.OpRemoveAppellation, CodeOgr: devSynonym, ReplacedBy: "99999999"}, "unknown_appellation", "replacedBy"},

		// move_appellation targets.
		{"move_appellation to its own fiche", dev, nil, op{Op: refclient.OpMoveAppellation, CodeOgr: devSynonym, ToCodeRome: dev}, "same_fiche", "toCodeRome"},
		{"move_appellation to an unknown fiche", dev, nil, op{Op: refclient.OpMoveAppellation, CodeOgr: devSynonym, ToCodeRome: noFiche}, "unknown_fiche", "toCodeRome"},

		// New items.
		{"new compétence under a compétence", dev, nil,
			op{Op: refclient.OpAddCompetence, New: &changeset.NewItem{Libelle: "X", MacroCompetenceCodeOgr: p.compOff}}, "unknown_macro_competence", "new.macroCompetenceCodeOgr"},
		{"new compétence under a savoir-être", dev, nil,
			op{Op: refclient.OpAddCompetence, New: &changeset.NewItem{Libelle: "X", MacroCompetenceCodeOgr: p.savoirEtreMacro}}, "invalid_macro_competence", "new.macroCompetenceCodeOgr"},

		// Mobilités.
		{"add_mobilite past the end", dev, nil, op{Op: refclient.OpAddMobilite, ToCodeRome: appli, Rank: num(len(devTargets) + 2)}, "invalid_value", "rank"},
		{"add_mobilite to itself", dev, nil, op{Op: refclient.OpAddMobilite, ToCodeRome: dev}, "same_fiche", "toCodeRome"},
		{"add_mobilite to an unknown fiche", dev, nil, op{Op: refclient.OpAddMobilite, ToCodeRome: noFiche}, "unknown_fiche", "toCodeRome"},

		// create_fiche.
		{"create_fiche with an unknown domaine", "", nil, without(func(o *op) { o.DomaineProfessionnel = "M99" }), "unknown_domaine_professionnel", "domaineProfessionnel"},
		{"create_fiche named unlike its principal appellation", "", nil, without(func(o *op) { o.Libelle = "Autre métier" }), "libelle_mismatch", "libelle"},
		{"create_fiche from an unknown appellation", "", nil, withPrincipal(changeset.AppellationPrincipale{CodeOgr: "99999999"}),
			"unknown_appellation", "appellationPrincipale.codeOgr"},
		{"a second create_fiche", "", []op{newFiche(changeset.AppellationPrincipale{Libelle: robotLabel})},
			newFiche(changeset.AppellationPrincipale{Libelle: "Roboticien / Roboticienne industriel"}), "fiche_exists", "op"},
		{"create_fiche on an existing fiche", dev, nil, newFiche(changeset.AppellationPrincipale{Libelle: robotLabel}), "fiche_exists", "op"},

		// The request contract's rules (request.ValidateOperation): the API refuses them
		// before the engine runs, and the engine applies them to its other callers.
		{"unknown operation", dev, nil, op{Op: "rename_fiche"}, "invalid_operation", "op"},
		{"add_competence without code OGR", dev, nil, op{Op: refclient.OpAddCompetence}, "invalid_operation", "codeOgr"},
		{"update_appellation without code OGR", dev, nil, op{Op: refclient.OpUpdateAppellation, Libelle: "X"}, "invalid_operation", "codeOgr"},
		{"add_appellation without a label", dev, nil, addApp("   "), "invalid_operation", "libelle"},
		{"add_appellation with a control character", dev, nil, addApp("Développeur\u0000 Go"), "invalid_operation", "libelle"},
		{"update_appellation without labels", dev, nil, op{Op: refclient.OpUpdateAppellation, CodeOgr: devSynonym, Libelle: " ", LibelleCourt: " "}, "invalid_operation", "libelle"},
		{"remove_appellation without successor nor reason", dev, nil, op{Op: refclient.OpRemoveAppellation, CodeOgr: devSynonym}, "invalid_operation", "reason"},
		{"remove_appellation with a blank reason", dev, nil, op{Op: refclient.OpRemoveAppellation, CodeOgr: devSynonym, Reason: "  "}, "invalid_operation", "reason"},
		{"move_appellation without target", dev, nil, op{Op: refclient.OpMoveAppellation, CodeOgr: devSynonym}, "invalid_operation", "toCodeRome"},
		{"move_appellation to a malformed code ROME", dev, nil, op{Op: refclient.OpMoveAppellation, CodeOgr: devSynonym, ToCodeRome: "Z9999"}, "invalid_operation", "toCodeRome"},
		{"add_competence with an invalid coeurMetier", dev, nil, op{Op: refclient.OpAddCompetence, CodeOgr: p.compOff, CoeurMetier: str("Principale")}, "invalid_operation", "coeurMetier"},
		{"add_savoir with an invalid coeurMetier", dev, nil, op{Op: refclient.OpAddSavoir, CodeOgr: p.savoirOff, CoeurMetier: str("MAJEURE")}, "invalid_operation", "coeurMetier"},
		{"set_coeur_metier with an invalid value", dev, nil, op{Op: refclient.OpSetCoeurMetier, CodeOgr: devSkill, CoeurMetier: str("")}, "invalid_operation", "coeurMetier"},
		{"new compétence with an invalid coeurMetier", dev, nil,
			op{Op: refclient.OpAddCompetence, New: &changeset.NewItem{Libelle: "X", MacroCompetenceCodeOgr: p.macro}, CoeurMetier: str("emergente")}, "invalid_operation", "coeurMetier"},
		{"new compétence under no macro", dev, nil,
			op{Op: refclient.OpAddCompetence, New: &changeset.NewItem{Libelle: "X"}}, "invalid_operation", "new.macroCompetenceCodeOgr"},
		{"new compétence without label", dev, nil,
			op{Op: refclient.OpAddCompetence, New: &changeset.NewItem{Libelle: " ", MacroCompetenceCodeOgr: p.macro}}, "invalid_operation", "new.libelle"},
		{"add_competence with both codeOgr and new", dev, nil,
			op{Op: refclient.OpAddCompetence, CodeOgr: p.compOff, New: &changeset.NewItem{Libelle: "X", MacroCompetenceCodeOgr: p.macro}}, "invalid_operation", "new"},
		{"new savoir with an unknown category", dev, nil,
			op{Op: refclient.OpAddSavoir, New: &changeset.NewItem{Libelle: "X", Categorie: "Savoirs divers"}}, "invalid_operation", "new.categorie"},
		{"new savoir without label", dev, nil,
			op{Op: refclient.OpAddSavoir, New: &changeset.NewItem{Categorie: "Techniques professionnelles"}}, "invalid_operation", "new.libelle"},
		{"add_savoir with both codeOgr and new", dev, nil,
			op{Op: refclient.OpAddSavoir, CodeOgr: p.savoirOff, New: &changeset.NewItem{Libelle: "X", Categorie: "Techniques professionnelles"}}, "invalid_operation", "new"},
		{"add_mobilite at rank 0", dev, nil, op{Op: refclient.OpAddMobilite, ToCodeRome: appli, Rank: num(0)}, "invalid_operation", "rank"},
		{"add_mobilite without target", dev, nil, op{Op: refclient.OpAddMobilite}, "invalid_operation", "toCodeRome"},
		{"set_text of an unknown field", dev, nil, op{Op: refclient.OpSetText, Field: "titre", Text: "x"}, "invalid_operation", "field"},
		{"set_text without text", dev, nil, op{Op: refclient.OpSetText, Field: refclient.FieldDefinition, Text: " \n "}, "invalid_operation", "text"},
		{"set_tags with nothing", dev, nil, op{Op: refclient.OpSetTags}, "invalid_operation", "transitionEcologique"},
		{"set_tags with an unknown transition", dev, nil, op{Op: refclient.OpSetTags, TransitionEcologique: str("Emploi Rose"), EmploiCadre: flag(false)}, "invalid_operation", "transitionEcologique"},
		{"create_fiche without definition", "", nil, without(func(o *op) { o.Definition = " "; o.AccesEmploi = "" }), "invalid_operation", "definition"},
		{"create_fiche without principal appellation", "", nil, without(func(o *op) { o.AppellationPrincipale = nil }), "invalid_operation", "appellationPrincipale"},
		{"create_fiche with two principal appellations", "", nil,
			withPrincipal(changeset.AppellationPrincipale{CodeOgr: devSynonym, Libelle: robotLabel}), "invalid_operation", "appellationPrincipale"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			full := runOn(t, romedata.V460(t), c.code, append(slices.Clone(c.before), c.op)...)
			prefix := runOn(t, romedata.V460(t), c.code, c.before...)
			for i, res := range full.results[:len(c.before)] {
				if !res.Applies {
					t.Fatalf("earlier operation %d does not apply: %s %s", i+1, res.Code, res.Reason)
				}
			}
			res := full.results[len(c.before)]
			if res.Applies || res.Code != c.wantCode || res.Field != c.wantField {
				t.Fatalf("applies=%v code=%q field=%q (%s), want %q on %q", res.Applies, res.Code, res.Field, res.Reason, c.wantCode, c.wantField)
			}
			if res.Reason == "" || len(res.Changes) != 0 || res.Changes == nil {
				t.Errorf("reason %q, changes %v", res.Reason, res.Changes)
			}
			if got, want := full.tx.Changes(), prefix.tx.Changes(); !reflect.DeepEqual(got, want) {
				t.Errorf("the refused operation staged rows: %d row changes, %d without it", len(got), len(want))
			}
			equal(t, "codes OGR handed out", full.issued, prefix.issued)
			equal(t, "fiche", full.code, prefix.code)
		})
	}
}
