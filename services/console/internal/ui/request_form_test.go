package ui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/workflows/request"
)

// --- The form, without HTTP ----------------------------------------------------------------

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func intPtr(n int) *int       { return &n }
func strPtr(s string) *string { return &s }
func boolPtr(b bool) *bool    { return &b }

func TestParseRequestFormOperations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		form url.Values
		want []refclient.Operation
	}{
		{"indexed fields in order, gaps closed, unknown kinds dropped", form(
			"kind", "modify_fiche", "codeRome", " m1805 ",
			"ops.5.op", "add_mobilite", "ops.5.toCodeRome", "m1806", "ops.5.rank", "2",
			"ops.0.op", "add_appellation", "ops.0.libelle", " Développeur Go ", "ops.0.libelleCourt", "Dév Go",
			"ops.2.op", "drop_table", "ops.2.libelle", "x",
			"ops.3.op", "create_fiche", "ops.3.libelle", "y",
		), []refclient.Operation{
			{Op: refclient.OpAddAppellation, Libelle: "Développeur Go", LibelleCourt: "Dév Go"},
			{Op: refclient.OpAddMobilite, ToCodeRome: "M1806", Rank: intPtr(2)},
		}},
		{"existing and new elements, cœur de métier", form(
			"kind", "modify_fiche",
			"ops.0.op", "add_competence", "ops.0.source", "existant", "ops.0.codeOgr", "123", "ops.0.new.libelle", "ignored", "ops.0.coeurMetier", "PRINCIPALE",
			"ops.1.op", "add_competence", "ops.1.source", "nouveau", "ops.1.codeOgr", "ignored", "ops.1.new.libelle", "Coder en Go", "ops.1.new.macroCompetenceCodeOgr", "456",
			"ops.2.op", "add_savoir", "ops.2.source", "nouveau", "ops.2.new.libelle", "Go", "ops.2.new.categorie", "Techniques professionnelles",
			"ops.3.op", "set_coeur_metier", "ops.3.codeOgr", "789", "ops.3.coeurMetier", "",
		), []refclient.Operation{
			{Op: refclient.OpAddCompetence, CodeOgr: "123", CoeurMetier: strPtr("PRINCIPALE")},
			{Op: refclient.OpAddCompetence, New: &refclient.NewItem{Libelle: "Coder en Go", MacroCompetenceCodeOgr: "456"}},
			{Op: refclient.OpAddSavoir, New: &refclient.NewItem{Libelle: "Go", Categorie: "Techniques professionnelles"}},
			{Op: refclient.OpSetCoeurMetier, CodeOgr: "789"},
		}},
		{"removals, texts and tags", form(
			"kind", "modify_fiche",
			"ops.0.op", "remove_appellation", "ops.0.codeOgr", "10002", "ops.0.reason", "Plus employé",
			"ops.1.op", "move_appellation", "ops.1.codeOgr", "10003", "ops.1.toCodeRome", "m1806",
			"ops.2.op", "set_text", "ops.2.field", "definition", "ops.2.text", "Ligne 1\r\nLigne 2\r\n",
			"ops.3.op", "set_tags", "ops.3.transitionEcologique", "aucune", "ops.3.transitionNumerique", "oui",
			"ops.3.transitionDemographique", "inchange", "ops.3.emploiReglemente", "non",
			"ops.4.op", "remove_mobilite", "ops.4.toCodeRome", "M1807",
			"ops.5.op", "remove_contexte", "ops.5.codeOgr", "555",
		), []refclient.Operation{
			{Op: refclient.OpRemoveAppellation, CodeOgr: "10002", Reason: "Plus employé"},
			{Op: refclient.OpMoveAppellation, CodeOgr: "10003", ToCodeRome: "M1806"},
			{Op: refclient.OpSetText, Field: "definition", Text: "Ligne 1\nLigne 2"},
			{Op: refclient.OpSetTags, TransitionEcologique: strPtr(""), TransitionNumerique: boolPtr(true), EmploiReglemente: boolPtr(false)},
			{Op: refclient.OpRemoveMobilite, ToCodeRome: "M1807"},
			{Op: refclient.OpRemoveContexte, CodeOgr: "555"},
		}},
		{"create from a known appellation: create_fiche first", form(
			"kind", "create_fiche_from_known_appellation", "codeRome", "M1805",
			"fiche.op", "create_fiche", "fiche.domaineProfessionnel", "m18", "fiche.definition", "Déf", "fiche.accesEmploi", "Accès",
			"fiche.appellationPrincipale.codeOgr", "14156", "fiche.appellationPrincipale.libelle", "ignored",
			"ops.0.op", "add_appellation", "ops.0.libelle", "Autre",
		), []refclient.Operation{
			{Op: refclient.OpCreateFiche, DomaineProfessionnel: "M18", Definition: "Déf", AccesEmploi: "Accès",
				AppellationPrincipale: &refclient.AppellationPrincipale{CodeOgr: "14156"}},
			{Op: refclient.OpAddAppellation, Libelle: "Autre"},
		}},
		{"create from a new appellation", form(
			"kind", "create_fiche_from_new_appellation",
			"fiche.domaineProfessionnel", "M18", "fiche.definition", "Déf", "fiche.accesEmploi", "Accès",
			"fiche.appellationPrincipale.codeOgr", "ignored", "fiche.appellationPrincipale.libelle", "Prompt engineer",
			"fiche.appellationPrincipale.libelleCourt", "Prompteur",
		), []refclient.Operation{
			{Op: refclient.OpCreateFiche, DomaineProfessionnel: "M18", Definition: "Déf", AccesEmploi: "Accès",
				AppellationPrincipale: &refclient.AppellationPrincipale{Libelle: "Prompt engineer", LibelleCourt: "Prompteur"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, _ := parseRequestForm(tt.form)
			if got := f.operations(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("operations\n got %s\nwant %s", jsonOf(got), jsonOf(tt.want))
			}
			s := f.submission()
			if s.Kind == request.KindModifyFiche && s.CodeRome != "M1805" && f.CodeRome == "M1805" {
				t.Errorf("codeRome %q", s.CodeRome)
			}
			if f.creates() && s.CodeRome != "" {
				t.Errorf("a creation sends no codeRome, got %q", s.CodeRome)
			}
		})
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestRequestFormKeepsItsKey(t *testing.T) {
	t.Parallel()
	f, _ := parseRequestForm(form("cle", "console-abcdefghijklmnopqrstuvwx"))
	if f.Key != "console-abcdefghijklmnopqrstuvwx" {
		t.Errorf("key %q", f.Key)
	}
	g, _ := parseRequestForm(form("cle", "forged"))
	if !strings.HasPrefix(g.Key, "console-") || g.Key == "forged" {
		t.Errorf("a form without a usable key gets a fresh one, got %q", g.Key)
	}
}

func TestRequestFormActions(t *testing.T) {
	t.Parallel()
	base := func() url.Values {
		return form("kind", "modify_fiche", "title", "T",
			"ops.0.op", "add_appellation", "ops.0.libelle", "Un",
			"ops.1.op", "remove_savoir", "ops.1.codeOgr", "22",
			"ops.2.op", "add_appellation", "ops.2.libelle", "Trois")
	}
	tests := []struct {
		name      string
		action    string
		wantOps   []string // op kinds after
		wantFocus string
		wantLive  string
	}{
		{"add an appellation", "add:add_appellation", []string{"add_appellation", "remove_savoir", "add_appellation", "add_appellation"},
			"ops-3-libelle", "Opération 4 ajoutée : Ajouter une appellation."},
		{"add a compétence: the focus goes to its first choice", "add:add_competence",
			[]string{"add_appellation", "remove_savoir", "add_appellation", "add_competence"}, "ops-3-source-existant", "Opération 4 ajoutée"},
		{"remove the second", "remove:1", []string{"add_appellation", "add_appellation"}, "operations", "Opération 2 retirée"},
		{"remove out of range", "remove:7", []string{"add_appellation", "remove_savoir", "add_appellation"}, "", ""},
		{"unknown kind", "add:drop_table", []string{"add_appellation", "remove_savoir", "add_appellation"}, "", ""},
		{"create_fiche is no button", "add:create_fiche", []string{"add_appellation", "remove_savoir", "add_appellation"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, _ := parseRequestForm(base())
			focus, live, refused := f.applyAction(tt.action)
			var kinds []string
			for _, o := range f.Ops {
				kinds = append(kinds, o.Op)
			}
			if !reflect.DeepEqual(kinds, tt.wantOps) || focus != tt.wantFocus || !strings.HasPrefix(live, tt.wantLive) || refused != "" {
				t.Errorf("ops %v focus %q live %q refused %q", kinds, focus, live, refused)
			}
			if tt.action == "remove:1" && f.Ops[1].V["libelle"] != "Trois" {
				t.Errorf("what followed the removed block moved up with its values: %v", f.Ops[1].V)
			}
		})
	}
	t.Run("at most 100 operations", func(t *testing.T) {
		t.Parallel()
		f := newRequestForm()
		for range formMaxOps {
			f.Ops = append(f.Ops, newOpForm(refclient.OpAddContexte))
		}
		if _, _, refused := f.applyAction("add:add_contexte"); refused == "" || len(f.Ops) != formMaxOps {
			t.Errorf("refused %q, %d ops", refused, len(f.Ops))
		}
	})
}

func TestRequestFormPicks(t *testing.T) {
	t.Parallel()
	f, _ := parseRequestForm(form("kind", "create_fiche_from_known_appellation",
		"fiche.appellationPrincipale.codeOgr.q", "dévelop",
		"fiche.appellationPrincipale.codeOgr.pick", "14156|M1855|Développeur / Développeuse web",
		"ops.0.op", "add_competence", "ops.0.codeOgr", "1", "ops.0.codeOgr.q", "python", "ops.0.codeOgr.pick", "777||Programmer en Python",
		"ops.9.codeOgr.pick", "888||a block that does not exist",
		"codeRome.pick", "M1806|M1806|Concepteur"))
	focus, live := f.applyPicks()
	if got := f.Fiche.V["appellationPrincipale.codeOgr"]; got != "14156" {
		t.Errorf("picked appellation %q", got)
	}
	if f.Fiche.V["domaineProfessionnel"] != "M18" {
		t.Errorf("the domaine follows the appellation's fiche: %q", f.Fiche.V["domaineProfessionnel"])
	}
	if f.Fiche.V["appellationPrincipale.codeOgr.q"] != "" || f.Ops[0].V["codeOgr.q"] != "" {
		t.Errorf("a pick clears its search")
	}
	if f.Ops[0].V["codeOgr"] != "777" || f.Ops[0].V["codeOgr.label"] != "777||Programmer en Python" {
		t.Errorf("op 0: %v", f.Ops[0].V)
	}
	if f.CodeRome != "M1806" || f.Top["codeRome.label"] == "" {
		t.Errorf("code ROME %q", f.CodeRome)
	}
	if len(f.Ops) != 1 || focus == "" || !strings.HasPrefix(live, "Choisi : ") {
		t.Errorf("ops %d focus %q live %q", len(f.Ops), focus, live)
	}
}

func TestRequestFormValidation(t *testing.T) {
	t.Parallel()
	ok := []string{"title", "Ajouter Go", "justification", "Beaucoup d'offres"}
	with := func(kv ...string) url.Values { return form(append(append([]string{}, ok...), kv...)...) }
	tests := []struct {
		name string
		form url.Values
		want map[string]string // field → the start of its message
	}{
		{"nothing", form(), map[string]string{"kind": "Choisissez le type", "title": "Donnez un titre", "justification": "Justifiez",
			"operations": "Ajoutez au moins une opération"}},
		{"modify: code ROME and operations", with("kind", "modify_fiche", "codeRome", "Z99"), map[string]string{
			"codeRome": "Saisissez un code ROME", "operations": "Ajoutez au moins"}},
		{"modify: valid", with("kind", "modify_fiche", "codeRome", "M1805", "ops.0.op", "add_appellation", "ops.0.libelle", "Go"), map[string]string{}},
		{"required fields per operation", with("kind", "modify_fiche", "codeRome", "M1805",
			"ops.0.op", "add_appellation",
			"ops.1.op", "add_mobilite", "ops.1.toCodeRome", "M18", "ops.1.rank", "zéro",
			"ops.2.op", "remove_appellation", "ops.2.codeOgr", "12",
			"ops.3.op", "add_competence", "ops.3.source", "nouveau", "ops.3.new.libelle", "Go",
			"ops.4.op", "set_tags",
			"ops.5.op", "update_appellation", "ops.5.codeOgr", "abc",
			"ops.6.op", "set_text", "ops.6.field", "titre", "ops.6.text", "x",
		), map[string]string{
			"ops.0.libelle":                    "Saisissez le libellé de l'appellation.",
			"ops.1.toCodeRome":                 "Saisissez un code ROME",
			"ops.1.rank":                       "Saisissez un nombre entier",
			"ops.2.reason":                     "Donnez l'appellation qui la remplace ou le motif",
			"ops.3.new.macroCompetenceCodeOgr": "Choisissez la macro-compétence",
			"ops.4":                            "Changez au moins un indicateur.",
			"ops.5.codeOgr":                    "Un code OGR ne compte que des chiffres.",
			"ops.5.libelle":                    "Saisissez le nouveau libellé",
			"ops.6.field":                      "Choisissez une des valeurs proposées.",
		}},
		{"create from a known appellation", with("kind", "create_fiche_from_known_appellation", "fiche.domaineProfessionnel", "M1"),
			map[string]string{"fiche.domaineProfessionnel": "Saisissez un domaine professionnel",
				"fiche.appellationPrincipale.codeOgr": "Choisissez l'appellation existante",
				"fiche.definition":                    "Saisissez la définition", "fiche.accesEmploi": "Saisissez les conditions"}},
		{"create from a new appellation: no operation needed", with("kind", "create_fiche_from_new_appellation",
			"fiche.domaineProfessionnel", "M18", "fiche.definition", "D", "fiche.accesEmploi", "A", "fiche.appellationPrincipale.libelle", "Prompt engineer"),
			map[string]string{}},
		{"too long a title", form("kind", "modify_fiche", "codeRome", "M1805", "title", strings.Repeat("é", 201), "justification", "J",
			"ops.0.op", "add_contexte", "ops.0.codeOgr", "12"), map[string]string{"title": "Ce champ compte au plus 200 caractères (il en a 201)."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, _ := parseRequestForm(tt.form)
			errs := f.validate()
			for field, want := range tt.want {
				if !strings.HasPrefix(errs[field], want) {
					t.Errorf("%s: %q, want %q…", field, errs[field], want)
				}
			}
			for field, msg := range errs {
				if _, ok := tt.want[field]; !ok {
					t.Errorf("unexpected error on %s: %s", field, msg)
				}
			}
			// Every error links to something the form shows.
			for _, item := range f.errorSummary(errs) {
				if item.Target == "" || !strings.Contains(item.Text, " : ") {
					t.Errorf("summary item %+v", item)
				}
			}
		})
	}
}

func TestRequestFormProblemMapping(t *testing.T) {
	t.Parallel()
	modify, _ := parseRequestForm(form("kind", "modify_fiche",
		"ops.0.op", "add_appellation", "ops.1.op", "add_competence", "ops.1.source", "nouveau", "ops.2.op", "set_tags"))
	create, _ := parseRequestForm(form("kind", "create_fiche_from_known_appellation", "ops.0.op", "remove_mobilite"))
	tests := []struct {
		f           *requestForm
		field, want string
		wantLabel   string
	}{
		{modify, "title", "title", "Titre"},
		{modify, "codeRome", "codeRome", "Code ROME"},
		{modify, "operations", "operations", "Opérations"},
		{modify, "operations[0].libelle", "ops.0.libelle", "Opération 1 (Ajouter une appellation) – Libellé de l'appellation"},
		{modify, "operations[0].op", "ops.0", "Opération 1 (Ajouter une appellation)"},
		{modify, "operations[0].id", "ops.0", "Opération 1 (Ajouter une appellation)"},
		{modify, "operations[1].new", "ops.1.new.libelle", "Opération 2 (Ajouter une compétence) – Libellé de la nouvelle compétence"},
		{modify, "operations[1].new.macroCompetenceCodeOgr", "ops.1.new.macroCompetenceCodeOgr", "Opération 2 (Ajouter une compétence) – Macro-compétence de rattachement (code OGR)"},
		{modify, "operations[1].codeOgr", "ops.1", "Opération 2 (Ajouter une compétence)"}, // hidden with a new compétence
		{modify, "operations[2].transitionEcologique", "ops.2.transitionEcologique", "Opération 3 (Changer les indicateurs) – Transition écologique"},
		{modify, "operations[7].libelle", "operations", "Opérations"},
		{modify, "Idempotency-Key", "", ""},
		{create, "codeRome", "kind", "Type de demande"},
		{create, "operations[0].appellationPrincipale.codeOgr", "fiche.appellationPrincipale.codeOgr", "Fiche à créer – Appellation existante (code OGR)"},
		{create, "operations[0].appellationPrincipale", "fiche.appellationPrincipale.codeOgr", "Fiche à créer – Appellation existante (code OGR)"},
		{create, "operations[0].appellationPrincipale.libelle", "fiche", "Fiche à créer"}, // not shown for a known appellation
		{create, "operations[0].op", "fiche", "Fiche à créer"},
		{create, "operations[1].toCodeRome", "ops.0.toCodeRome", "Opération 1 (Retirer une mobilité) – Mobilité à retirer"},
	}
	for _, tt := range tests {
		if got := tt.f.formField(tt.field); got != tt.want {
			t.Errorf("%s → %q, want %q", tt.field, got, tt.want)
			continue
		}
		if tt.want != "" {
			if got := tt.f.fieldLabel(tt.want); got != tt.wantLabel {
				t.Errorf("label of %s: %q, want %q", tt.want, got, tt.wantLabel)
			}
		}
	}
	// The intake's 422 becomes French messages by field, with the summary's links.
	e := &backend.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_body", Detail: "The request is invalid.", Errors: []httpx.FieldError{
		{Field: "operations[0].libelle", Message: "is required"}, {Field: "title", Message: "is at most 200 characters"},
		{Field: "Idempotency-Key", Message: "must be 1 to 255 printable ASCII characters"}}}
	errs := fromProblem(e, modify.formField)
	if errs["ops.0.libelle"] != "Ce champ est obligatoire." || errs["title"] != "Ce champ compte au plus 200 caractères." || errs[""] == "" {
		t.Errorf("errors %v", errs)
	}
	summary := modify.errorSummary(errs)
	if len(summary) != 3 || summary[0].Target != "" || summary[1].Target != "title" || summary[2].Target != "ops-0-libelle" {
		t.Errorf("summary %+v", summary)
	}
}

func TestOpFormRoundTrip(t *testing.T) {
	t.Parallel()
	ops := []refclient.Operation{
		{Op: refclient.OpAddAppellation, Libelle: "A", LibelleCourt: "B"},
		{Op: refclient.OpUpdateAppellation, CodeOgr: "1", Libelle: "A"},
		{Op: refclient.OpRemoveAppellation, CodeOgr: "1", ReplacedBy: "2"},
		{Op: refclient.OpMoveAppellation, CodeOgr: "1", ToCodeRome: "M1806"},
		{Op: refclient.OpAddCompetence, CodeOgr: "3", CoeurMetier: strPtr("EMERGENTE")},
		{Op: refclient.OpAddCompetence, New: &refclient.NewItem{Libelle: "N", MacroCompetenceCodeOgr: "4"}},
		{Op: refclient.OpRemoveCompetence, CodeOgr: "3"},
		{Op: refclient.OpSetCoeurMetier, CodeOgr: "3"},
		{Op: refclient.OpAddSavoir, New: &refclient.NewItem{Libelle: "S", Categorie: "Normes et procédés"}},
		{Op: refclient.OpRemoveSavoir, CodeOgr: "5"},
		{Op: refclient.OpAddContexte, CodeOgr: "6"},
		{Op: refclient.OpRemoveContexte, CodeOgr: "6"},
		{Op: refclient.OpAddMobilite, ToCodeRome: "M1807", Rank: intPtr(3)},
		{Op: refclient.OpRemoveMobilite, ToCodeRome: "M1807"},
		{Op: refclient.OpSetText, Field: "accesEmploi", Text: "T"},
		{Op: refclient.OpSetTags, TransitionEcologique: strPtr("Emploi Vert"), EmploiCadre: boolPtr(true)},
		{Op: refclient.OpCreateFiche, DomaineProfessionnel: "M18", Definition: "D", AccesEmploi: "A",
			AppellationPrincipale: &refclient.AppellationPrincipale{Libelle: "L"}},
	}
	for _, op := range ops {
		if got := opFormFrom(op).operation(request.KindCreateFromNew); !reflect.DeepEqual(got, op) {
			t.Errorf("%s: got %s", jsonOf(op), jsonOf(got))
		}
	}
}
