package request

import (
	"slices"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/clients/refclient"
)

func TestCheckOperation(t *testing.T) {
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	yes := true
	cases := []struct {
		name   string
		op     Operation
		fields []string // nil: valid
	}{
		{"no op", Operation{}, []string{"op"}},
		{"unknown op", Operation{Op: "rename_fiche"}, []string{"op"}},

		{"create_fiche known", Operation{Op: "create_fiche", DomaineProfessionnel: "M18", Definition: "D", AccesEmploi: "A", AppellationPrincipale: &refclient.AppellationPrincipale{CodeOgr: "38823"}}, nil},
		{"create_fiche new", Operation{Op: "create_fiche", Libelle: "Pilote", DomaineProfessionnel: "N22", Definition: "D", AccesEmploi: "A", AppellationPrincipale: &refclient.AppellationPrincipale{Libelle: "Pilote"}}, nil},
		{"create_fiche empty", Operation{Op: "create_fiche"}, []string{"domaineProfessionnel", "definition", "accesEmploi", "appellationPrincipale"}},
		{"create_fiche bad domaine", Operation{Op: "create_fiche", DomaineProfessionnel: "Z18", Definition: "D", AccesEmploi: "A", AppellationPrincipale: &refclient.AppellationPrincipale{Libelle: "P"}}, []string{"domaineProfessionnel"}},
		{"create_fiche domaine too long", Operation{Op: "create_fiche", DomaineProfessionnel: "M180", Definition: "D", AccesEmploi: "A", AppellationPrincipale: &refclient.AppellationPrincipale{Libelle: "P"}}, []string{"domaineProfessionnel"}},
		{"create_fiche both principal", Operation{Op: "create_fiche", DomaineProfessionnel: "M18", Definition: "D", AccesEmploi: "A", AppellationPrincipale: &refclient.AppellationPrincipale{CodeOgr: "1", Libelle: "P"}}, []string{"appellationPrincipale"}},
		{"create_fiche principal bad code", Operation{Op: "create_fiche", DomaineProfessionnel: "M18", Definition: "D", AccesEmploi: "A", AppellationPrincipale: &refclient.AppellationPrincipale{CodeOgr: "x1"}}, []string{"appellationPrincipale.codeOgr"}},

		{"add_appellation", Operation{Op: "add_appellation", Libelle: "Dev"}, nil},
		{"add_appellation no libelle", Operation{Op: "add_appellation", LibelleCourt: "Dev"}, []string{"libelle"}},
		{"add_appellation blank libelle", Operation{Op: "add_appellation", Libelle: "  "}, []string{"libelle"}},

		{"update_appellation", Operation{Op: "update_appellation", CodeOgr: "38823", LibelleCourt: "Dev"}, nil},
		{"update_appellation no code", Operation{Op: "update_appellation", Libelle: "Dev"}, []string{"codeOgr"}},
		{"update_appellation no label", Operation{Op: "update_appellation", CodeOgr: "38823"}, []string{"libelle"}},

		{"remove_appellation replaced", Operation{Op: "remove_appellation", CodeOgr: "1", ReplacedBy: "2"}, nil},
		{"remove_appellation reason", Operation{Op: "remove_appellation", CodeOgr: "1", Reason: "obsolète"}, nil},
		{"remove_appellation neither", Operation{Op: "remove_appellation", CodeOgr: "1"}, []string{"reason"}},
		{"remove_appellation both", Operation{Op: "remove_appellation", CodeOgr: "1", ReplacedBy: "2", Reason: "r"}, []string{"replacedBy"}},
		{"remove_appellation bad successor", Operation{Op: "remove_appellation", CodeOgr: "1", ReplacedBy: "remplacée par"}, []string{"replacedBy"}},
		{"remove_appellation no code", Operation{Op: "remove_appellation", Reason: "r"}, []string{"codeOgr"}},

		{"move_appellation", Operation{Op: "move_appellation", CodeOgr: "1", ToCodeRome: "M1402"}, nil},
		{"move_appellation missing", Operation{Op: "move_appellation"}, []string{"codeOgr", "toCodeRome"}},
		{"move_appellation bad target", Operation{Op: "move_appellation", CodeOgr: "1", ToCodeRome: "m1402"}, []string{"toCodeRome"}},

		{"add_competence known", Operation{Op: "add_competence", CodeOgr: "100023", CoeurMetier: str("PRINCIPALE")}, nil},
		{"add_competence new", Operation{Op: "add_competence", New: &refclient.NewItem{Libelle: "Rust", MacroCompetenceCodeOgr: "1"}, CoeurMetier: str("EMERGENTE")}, nil},
		{"add_competence neither", Operation{Op: "add_competence"}, []string{"codeOgr"}},
		{"add_competence both", Operation{Op: "add_competence", CodeOgr: "1", New: &refclient.NewItem{Libelle: "Rust", MacroCompetenceCodeOgr: "1"}}, []string{"new"}},
		{"add_competence new incomplete", Operation{Op: "add_competence", New: &refclient.NewItem{}}, []string{"new.libelle", "new.macroCompetenceCodeOgr"}},
		{"add_competence bad coeur", Operation{Op: "add_competence", CodeOgr: "1", CoeurMetier: str("SECONDAIRE")}, []string{"coeurMetier"}},
		{"add_competence bad code", Operation{Op: "add_competence", CodeOgr: "12a"}, []string{"codeOgr"}},

		{"add_savoir known", Operation{Op: "add_savoir", CodeOgr: "1"}, nil},
		{"add_savoir new", Operation{Op: "add_savoir", New: &refclient.NewItem{Libelle: "Rust", Categorie: "Techniques professionnelles"}}, nil},
		{"add_savoir new incomplete", Operation{Op: "add_savoir", New: &refclient.NewItem{}}, []string{"new.libelle", "new.categorie"}},
		{"add_savoir bad categorie", Operation{Op: "add_savoir", New: &refclient.NewItem{Libelle: "Rust", Categorie: "Outils"}}, []string{"new.categorie"}},
		{"add_savoir neither", Operation{Op: "add_savoir"}, []string{"codeOgr"}},

		{"add_contexte", Operation{Op: "add_contexte", CodeOgr: "1"}, nil},
		{"add_contexte no code", Operation{Op: "add_contexte"}, []string{"codeOgr"}},
		{"add_contexte bad coeur", Operation{Op: "add_contexte", CodeOgr: "1", CoeurMetier: str("")}, []string{"coeurMetier"}},

		{"remove_competence", Operation{Op: "remove_competence", CodeOgr: "1"}, nil},
		{"remove_competence no code", Operation{Op: "remove_competence"}, []string{"codeOgr"}},
		{"remove_savoir bad code", Operation{Op: "remove_savoir", CodeOgr: "-1"}, []string{"codeOgr"}},
		{"remove_contexte no code", Operation{Op: "remove_contexte"}, []string{"codeOgr"}},

		{"set_coeur_metier", Operation{Op: "set_coeur_metier", CodeOgr: "1", CoeurMetier: str("EMERGENTE")}, nil},
		{"set_coeur_metier null", Operation{Op: "set_coeur_metier", CodeOgr: "1"}, nil},
		{"set_coeur_metier bad", Operation{Op: "set_coeur_metier", CodeOgr: "1", CoeurMetier: str("principale")}, []string{"coeurMetier"}},
		{"set_coeur_metier no code", Operation{Op: "set_coeur_metier"}, []string{"codeOgr"}},

		{"add_mobilite", Operation{Op: "add_mobilite", ToCodeRome: "M1402", Rank: num(3)}, nil},
		{"add_mobilite last", Operation{Op: "add_mobilite", ToCodeRome: "M1402"}, nil},
		{"add_mobilite rank 99", Operation{Op: "add_mobilite", ToCodeRome: "M1402", Rank: num(99)}, nil},
		{"add_mobilite rank -5", Operation{Op: "add_mobilite", ToCodeRome: "M1402", Rank: num(-5)}, []string{"rank"}},
		{"add_mobilite rank 0", Operation{Op: "add_mobilite", ToCodeRome: "M1402", Rank: num(0)}, []string{"rank"}},
		{"add_mobilite rank 100", Operation{Op: "add_mobilite", ToCodeRome: "M1402", Rank: num(100)}, []string{"rank"}},
		{"add_mobilite rank 2^62", Operation{Op: "add_mobilite", ToCodeRome: "M1402", Rank: num(1 << 62)}, []string{"rank"}},
		{"add_mobilite no target", Operation{Op: "add_mobilite", Rank: num(1)}, []string{"toCodeRome"}},
		{"add_mobilite bad target", Operation{Op: "add_mobilite", ToCodeRome: "O1402"}, []string{"toCodeRome"}},

		{"remove_mobilite", Operation{Op: "remove_mobilite", ToCodeRome: "M1402"}, nil},
		{"remove_mobilite no target", Operation{Op: "remove_mobilite"}, []string{"toCodeRome"}},

		{"set_text", Operation{Op: "set_text", Field: "definition", Text: "T"}, nil},
		{"set_text accesEmploi", Operation{Op: "set_text", Field: "accesEmploi", Text: "T"}, nil},
		{"set_text unknown field", Operation{Op: "set_text", Field: "foo", Text: "T"}, []string{"field"}},
		{"set_text empty", Operation{Op: "set_text"}, []string{"field", "text"}},

		{"set_tags", Operation{Op: "set_tags", TransitionEcologique: str("Emploi Vert")}, nil},
		{"set_tags clear", Operation{Op: "set_tags", TransitionEcologique: str("")}, nil},
		{"set_tags flag", Operation{Op: "set_tags", EmploiCadre: &yes}, nil},
		{"set_tags none", Operation{Op: "set_tags"}, []string{"transitionEcologique"}},
		{"set_tags bad value", Operation{Op: "set_tags", TransitionEcologique: str("Emploi Rose")}, []string{"transitionEcologique"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ps := CheckOperation("operations[3]", tc.op)
			var got []string
			for _, p := range ps {
				if !strings.HasPrefix(p.Field, "operations[3].") || p.Message == "" {
					t.Errorf("problem %+v", p)
				}
				got = append(got, strings.TrimPrefix(p.Field, "operations[3]."))
			}
			if !slices.Equal(got, tc.fields) {
				t.Errorf("fields %v, want %v (%v)", got, tc.fields, ps)
			}
		})
	}
}

func TestEveryOperationKindIsChecked(t *testing.T) {
	for _, kind := range OperationKinds {
		for _, p := range CheckOperation("op", Operation{Op: kind}) {
			if p.Field == "op.op" {
				t.Errorf("%s is not known to the syntax", kind)
			}
		}
	}
}

func TestCheckOperationsCap(t *testing.T) {
	ops := make([]Operation, MaxOperations)
	for i := range ops {
		ops[i] = Operation{Op: refclient.OpRemoveSavoir, CodeOgr: "1"}
	}
	if ps := CheckOperations("operations", ops); len(ps) != 0 {
		t.Fatalf("%d operations: %v", MaxOperations, ps)
	}
	ops = append(ops, Operation{})
	ps := CheckOperations("operations", ops)
	if len(ps) != 1 || ps[0].Field != "operations" {
		t.Fatalf("%d operations: %v", len(ops), ps)
	}
}

func TestValidateOperationsCleansAndReportsOnce(t *testing.T) {
	ops := []Operation{
		{Op: refclient.OpAddAppellation, Libelle: "  Dev\u00e9  "},
		{Op: refclient.OpRemoveSavoir, CodeOgr: "1\u202e2"},
		{Op: refclient.OpAddMobilite, ToCodeRome: "M1402", Rank: new(int)},
	}
	ps := ValidateOperations("operations", ops)
	if ops[0].Libelle != "Devé" {
		t.Errorf("libelle not cleaned: %q", ops[0].Libelle)
	}
	var fields []string
	for _, p := range ps {
		fields = append(fields, p.Field)
	}
	if !slices.Equal(fields, []string{"operations[1].codeOgr", "operations[2].rank"}) {
		t.Errorf("problems %v", ps)
	}
}

func TestAnAppellationCannotReplaceItself(t *testing.T) {
	op := Operation{Op: "remove_appellation", CodeOgr: "10944", ReplacedBy: "10944"}
	problems := CheckOperation("operations[0]", op)
	if len(problems) != 1 || problems[0].Field != "operations[0].replacedBy" {
		t.Fatalf("problems %+v, want one on operations[0].replacedBy", problems)
	}
}
