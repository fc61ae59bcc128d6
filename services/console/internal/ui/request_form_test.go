package ui

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
	refclient "github.com/plateforme-rome/rome/services/referential/client"
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

// --- The pages, against fake services ---------------------------------------------------------

// fakeFormServices are the intake and referential as the request form uses them.
type fakeFormServices struct {
	mu          sync.Mutex
	submissions []backend.Submission
	keys        []string
	validations []refclient.ChangeSet
	searches    []string
}

func formTestFiche() *backend.Fiche {
	f := &backend.Fiche{CodeRome: "M1805", Libelle: "Études et développement informatique", Version: 60,
		DomaineProfessionnel: backend.Ref{Code: "M18", Libelle: "Systèmes d'information et de télécommunication"}}
	f.Appellations = []backend.Appellation{
		{CodeOgr: "10001", Libelle: "Développeur / Développeuse informatique", Classification: "PRINCIPALE"},
		{CodeOgr: "10002", Libelle: "Programmeur / Programmeuse", Classification: "SYNONYME"},
	}
	f.Competences.SavoirFaire = []backend.MacroCompetence{{CodeOgr: "20001", Libelle: "Concevoir une application", Linked: true,
		Competences: []backend.Item{{CodeOgr: "20002", Libelle: "Analyser les besoins"}, {CodeOgr: "20003", Libelle: "Rédiger des spécifications"}}}}
	f.Savoirs = []backend.SavoirCategorie{{Categorie: "Techniques professionnelles", Savoirs: []backend.Savoir{{Item: backend.Item{CodeOgr: "30001", Libelle: "Langage Go"}}}}}
	f.ContextesTravail = []backend.ContexteType{{Code: "1", Libelle: "Conditions de travail", Contextes: []backend.Item{{CodeOgr: "40001", Libelle: "Travail en équipe"}}}}
	f.Mobilites = []backend.Mobilite{{CodeRome: "M1806", Libelle: "Conseil et maîtrise d'ouvrage en SI", Rang: 1}}
	return f
}

func rfJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func rfProblem(w http.ResponseWriter, status int, code string, errs ...httpx.FieldError) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status,
		"code": code, "detail": "refused", "errors": errs})
}

func (s *fakeFormServices) intake() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/requests" || r.Header.Get("Authorization") != "Bearer token-alice" {
			rfProblem(w, http.StatusNotFound, "not_found")
			return
		}
		var sub backend.Submission
		if err := json.NewDecoder(r.Body).Decode(&sub); err != nil {
			rfProblem(w, http.StatusBadRequest, "bad_json")
			return
		}
		s.mu.Lock()
		s.submissions = append(s.submissions, sub)
		s.keys = append(s.keys, r.Header.Get("Idempotency-Key"))
		s.mu.Unlock()
		switch sub.Title {
		case "refus du serveur":
			rfProblem(w, http.StatusUnprocessableEntity, "invalid_body",
				httpx.FieldError{Field: "operations[0].libelle", Message: "is required"},
				httpx.FieldError{Field: "justification", Message: "must have at most 10000 characters (it has 10001)"})
		case "panne":
			rfProblem(w, http.StatusServiceUnavailable, "unavailable")
		default:
			w.Header().Set("Location", "/v1/requests/req-42")
			rfJSON(w, http.StatusCreated, map[string]any{"id": "req-42", "status": "SUBMITTED", "kind": sub.Kind, "title": sub.Title})
		}
	})
}

func (s *fakeFormServices) referential() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/fiches/{code}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("code") != "M1805" {
			rfProblem(w, http.StatusNotFound, "fiche_not_found")
			return
		}
		rfJSON(w, http.StatusOK, formTestFiche())
	})
	mux.HandleFunc("GET /v1/fiches", func(w http.ResponseWriter, r *http.Request) {
		rfJSON(w, http.StatusOK, map[string]any{"items": []backend.FicheSummary{
			{CodeRome: "M1805", Libelle: "Études et développement informatique", DomaineProfessionnel: backend.Ref{Code: "M18", Libelle: "SI"}}}})
	})
	mux.HandleFunc("GET /v1/search/{kind}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.searches = append(s.searches, r.PathValue("kind")+":"+r.URL.Query().Get("q"))
		s.mu.Unlock()
		var hits []backend.Hit
		switch r.PathValue("kind") {
		case "appellations":
			hits = []backend.Hit{{CodeOgr: "14156", Libelle: "Développeur / Développeuse web", CodeRome: "M1855", Fiche: &backend.Ref{Code: "M1855", Libelle: "Développeur web"}}}
		case "competences":
			hits = []backend.Hit{{CodeOgr: "777", Libelle: "Programmer en Python", MacroCompetence: &backend.Ref{Code: "20001", Libelle: "Concevoir une application"}},
				{CodeOgr: "778", Libelle: "Programmer en Go", MacroCompetence: &backend.Ref{Code: "20001", Libelle: "Concevoir une application"}}}
		case "savoirs":
			hits = []backend.Hit{{CodeOgr: "888", Libelle: "Langage Python", Categorie: "Techniques professionnelles"}}
		}
		rfJSON(w, http.StatusOK, map[string]any{"items": hits, "version": 60})
	})
	mux.HandleFunc("GET /v1/contextes-travail", func(w http.ResponseWriter, r *http.Request) {
		rfJSON(w, http.StatusOK, map[string]any{"items": []backend.ContexteTravail{
			{CodeOgr: "23374", Libelle: "Travail le samedi", Type: backend.Ref{Code: "2", Libelle: "Horaires et durée du travail"}},
			{CodeOgr: "40001", Libelle: "Travail en équipe", Type: backend.Ref{Code: "1", Libelle: "Conditions de travail"}},
		}})
	})
	mux.HandleFunc("POST /v1/changesets:validate", func(w http.ResponseWriter, r *http.Request) {
		var cs refclient.ChangeSet
		_ = json.NewDecoder(r.Body).Decode(&cs)
		s.mu.Lock()
		s.validations = append(s.validations, cs)
		s.mu.Unlock()
		if len(cs.Operations) == 0 {
			rfProblem(w, http.StatusUnprocessableEntity, "operations_required", httpx.FieldError{Field: "operations", Message: "required"})
			return
		}
		after := formTestFiche()
		v := refclient.Validation{Version: 60, CodeRome: cs.CodeRome, Applies: true, Diff: []refclient.Change{}}
		for i, op := range cs.Operations {
			res := refclient.Result{OperationID: "op-" + string(rune('1'+i)), Op: op.Op, Applies: true, Changes: []refclient.Change{}}
			switch {
			case op.Libelle == "Doublon":
				res.Applies, res.Code, res.Field, res.Reason = false, "duplicate_appellation", "libelle", "appellation 10001 already has this label"
				v.Applies = false
			case op.Op == refclient.OpAddAppellation:
				ch := refclient.Change{OperationID: res.OperationID, CodeRome: "M1805", Action: "added", Entity: "appellation", CodeOgr: "900001", Libelle: op.Libelle}
				res.Changes = append(res.Changes, ch)
				after.Appellations = append(after.Appellations, backend.Appellation{CodeOgr: "900001", Libelle: op.Libelle, Classification: "SYNONYME"})
			case op.Op == refclient.OpSetTags:
				res.Changes = append(res.Changes, refclient.Change{Action: "updated", Entity: "tags", Field: "transitionNumerique", Before: nil, After: true})
			}
			v.Results = append(v.Results, res)
			v.Diff = append(v.Diff, res.Changes...)
		}
		v.Preview, _ = json.Marshal(after)
		rfJSON(w, http.StatusOK, v)
	})
	return mux
}

func newFormUI(t *testing.T) (*testUI, *fakeFormServices) {
	s := &fakeFormServices{}
	return newTestUI(t, s.intake(), s.referential(), nil), s
}

// rfCheckHTML checks what every version of the form must be: one h1, headings without
// skipped levels, unique ids, a label for every visible field, links and aria references to
// ids that exist, no inline script or style, at most 60 KB.
func rfCheckHTML(t *testing.T, body string, fragment bool) {
	t.Helper()
	if len(body) > 60<<10 {
		t.Errorf("page of %d bytes", len(body))
	}
	ids := map[string]int{}
	for _, m := range regexp.MustCompile(`\sid="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		ids[m[1]]++
	}
	for id, n := range ids {
		if n > 1 && id != "console-live" { // the fragment's out-of-band update repeats it on purpose
			t.Errorf("id %q appears %d times", id, n)
		}
	}
	labelled := map[string]bool{}
	for _, m := range regexp.MustCompile(`<label[^>]*\sfor="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		labelled[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`<(input|select|textarea)\s[^>]*>`).FindAllString(body, -1) {
		if strings.Contains(m, `type="hidden"`) {
			continue
		}
		id := regexp.MustCompile(`\sid="([^"]+)"`).FindStringSubmatch(m)
		if id == nil || !labelled[id[1]] {
			t.Errorf("field without a label: %s", m)
		}
	}
	for _, m := range regexp.MustCompile(`(?:aria-describedby|aria-labelledby)="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		for _, id := range strings.Fields(m[1]) {
			if ids[id] == 0 {
				t.Errorf("aria reference to a missing id %q", id)
			}
		}
	}
	for _, m := range regexp.MustCompile(`href="#([^"]+)"`).FindAllStringSubmatch(body, -1) {
		if ids[m[1]] == 0 {
			t.Errorf("link to a missing id %q", m[1])
		}
	}
	if regexp.MustCompile(`\sstyle=`).MatchString(body) || regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`).MatchString(body) {
		t.Errorf("inline style or script")
	}
	if regexp.MustCompile(`tabindex="[1-9]`).MatchString(body) {
		t.Errorf("positive tabindex")
	}
	if fragment {
		if strings.Contains(body, "<html") {
			t.Errorf("a fragment is not a page")
		}
		return
	}
	levels := regexp.MustCompile(`<h([1-6])[\s>]`).FindAllStringSubmatch(body, -1)
	h1, prev := 0, 0
	for _, l := range levels {
		n := int(l[1][0] - '0')
		if n == 1 {
			h1++
		}
		if n > prev+1 {
			t.Errorf("heading h%d after h%d", n, prev)
		}
		prev = n
	}
	if h1 != 1 {
		t.Errorf("%d h1", h1)
	}
}

func mustHave(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("missing %q", w)
		}
	}
}

func mustNotHave(t *testing.T, body string, nots ...string) {
	t.Helper()
	for _, n := range nots {
		if strings.Contains(body, n) {
			t.Errorf("unexpected %q", n)
		}
	}
}

// hiddenValue reads a hidden field of the page.
func hiddenValue(body, name string) string {
	m := regexp.MustCompile(`<input type="hidden" name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestNewRequestPage(t *testing.T) {
	t.Parallel()
	ui, _ := newFormUI(t)
	w := ui.partner().get("/demandes/nouvelle")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	body := w.Body.String()
	rfCheckHTML(t, body, false)
	mustHave(t, body, "<title>Nouvelle demande – Plateforme du ROME</title>", "<h1>Nouvelle demande d'évolution</h1>",
		`<legend class="fr-fieldset__legend" id="kind-legend">Type de demande</legend>`,
		`>Modifier une fiche</label>`, `>Créer une fiche depuis une appellation connue</label>`, `>Créer une fiche depuis une nouvelle appellation</label>`,
		`<label class="fr-label" for="codeRome">Code ROME</label>`, `<label class="fr-label" for="title">Titre</label>`,
		`<label class="fr-label" for="justification">Justification</label>`,
		`value="add:add_appellation" id="add-add_appellation">Ajouter une appellation</button>`,
		`value="submit" id="soumettre">Soumettre la demande</button>`, `value="preview" id="previsualiser">Prévisualiser</button>`,
		`aria-current="page"`, `role="status"`)
	for _, s := range formOpSpecs {
		mustHave(t, body, `value="add:`+s.Op+`"`)
	}
	if key := hiddenValue(body, "cle"); !strings.HasPrefix(key, "console-") {
		t.Errorf("idempotency key %q", key)
	}

	// Prefilled from a fiche's page.
	w = ui.partner().get("/demandes/nouvelle?codeRome=M1805")
	mustHave(t, w.Body.String(), `id="kind-modify_fiche" name="kind" value="modify_fiche" checked`,
		`Fiche chargée : <a href="/referentiel/fiches/M1805">M1805 – Études et développement informatique</a>`,
		"2 appellations, 2 compétences, 1 savoir, 1 contexte de travail, 1 mobilité")
	// Partners only.
	moderator := ui.signIn(auth.Principal{Subject: "bob", Role: auth.RoleModerator})
	if w := moderator.get("/demandes/nouvelle"); w.Code != http.StatusForbidden {
		t.Errorf("moderator: %d", w.Code)
	}
}

func TestNewRequestAddAndRemoveOperations(t *testing.T) {
	t.Parallel()
	ui, _ := newFormUI(t)
	b := ui.partner()
	typed := form("cle", "console-abcdefghijklmnopqrstuvwx", "kind", "modify_fiche", "codeRome", "M1805",
		"title", "Ajouter <Go>", "justification", "Des offres\nnombreuses")
	add := func(v url.Values, action string, header ...string) (*httptest.ResponseRecorder, string) {
		v.Set("action", action)
		w := b.post("/demandes/nouvelle", v, header...)
		return w, w.Body.String()
	}
	w, body := add(typed, "add:add_appellation")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	rfCheckHTML(t, body, false)
	mustHave(t, body, `<legend class="fr-fieldset__legend" id="ops-0-legend">Opération 1 : Ajouter une appellation</legend>`,
		`<label class="fr-label" for="ops-0-libelle">Libellé de l&#39;appellation</label>`,
		`name="ops.0.libelle" value="" required autofocus`, `value="Ajouter &lt;Go&gt;"`, ">Des offres\nnombreuses</textarea>",
		`value="remove:0" id="ops-0-remove" aria-describedby="ops-0-legend">Retirer cette opération</button>`)
	if hiddenValue(body, "cle") != "console-abcdefghijklmnopqrstuvwx" {
		t.Errorf("the key changed")
	}

	// The same with htmx: the form alone, and the announcement out of band.
	typed.Set("ops.0.op", "add_appellation")
	typed.Set("ops.0.libelle", "Développeur Go")
	w, body = add(typed, "add:add_mobilite", htmx("demande")...)
	if w.Code != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(body), `<form id="demande"`) {
		t.Fatalf("fragment %d: %.200s", w.Code, body)
	}
	rfCheckHTML(t, body, true)
	mustHave(t, body, `<div id="console-live" hx-swap-oob="innerHTML">Opération 2 ajoutée : Ajouter une mobilité. Complétez ses champs.</div>`,
		`value="Développeur Go"`, `<label class="fr-label" for="ops-1-toCodeRome">Fiche cible (code ROME)</label>`,
		`<label class="fr-label" for="ops-1-rank">Rang</label>`, `name="ops.1.toCodeRome" value="" required autofocus`,
		`Opération 2 : Ajouter une mobilité`)

	// Removing the first renumbers the second, with its values.
	typed.Set("ops.1.op", "add_mobilite")
	typed.Set("ops.1.toCodeRome", "M1806")
	_, body = add(typed, "remove:0")
	mustHave(t, body, `Opération 1 : Ajouter une mobilité`, `name="ops.0.toCodeRome" value="M1806"`, `id="operations" tabindex="-1" autofocus`)
	mustNotHave(t, body, `value="Développeur Go"`)

	// Every kind of operation renders, with the fiche's elements to pick from.
	all := form("kind", "modify_fiche", "codeRome", "M1805")
	for i, s := range formOpSpecs {
		all.Set("ops."+itoa(i)+".op", s.Op)
	}
	_, body = add(all, "refresh")
	rfCheckHTML(t, body, false)
	mustHave(t, body, `<optgroup label="Appellations de la fiche M1805">`, `<option value="10001">Développeur / Développeuse informatique (appellation principale)</option>`,
		`<optgroup label="Concevoir une application"><option value="20002">Analyser les besoins</option>`,
		`<option value="20001">Concevoir une application (la macro-compétence)</option>`, `<option value="30001">Langage Go</option>`,
		`<option value="40001">Travail en équipe</option>`, `<option value="M1806">M1806 – Conseil et maîtrise d&#39;ouvrage en SI (rang 1)</option>`,
		`Une nouvelle compétence`, `Un nouveau savoir`, `Transition écologique`, `Nouveau texte`)
	// The principal appellation is not offered for removal.
	removal := regexp.MustCompile(`(?s)id="ops-2-codeOgr".*?</select>`).FindString(body)
	if strings.Contains(removal, `value="10001"`) || !strings.Contains(removal, `value="10002"`) {
		t.Errorf("removal choices: %s", removal)
	}
	// Without a fiche (a creation), the same fields are codes to type or search.
	all.Set("kind", "create_fiche_from_new_appellation")
	_, body = add(all, "refresh")
	rfCheckHTML(t, body, false)
	mustHave(t, body, `for="ops-2-codeOgr">Appellation à supprimer (code OGR)</label>`, `name="ops.2.codeOgr.q"`,
		`for="fiche-appellationPrincipale-libelle">Libellé de la nouvelle appellation principale</label>`)
}

func itoa(i int) string { return strings.TrimSpace(jsonOf(i)) }

func TestNewRequestPickers(t *testing.T) {
	t.Parallel()
	ui, svc := newFormUI(t)
	b := ui.partner()
	v := form("kind", "modify_fiche", "codeRome", "M1805", "ops.0.op", "add_competence", "ops.0.source", "existant",
		"ops.0.codeOgr.q", "python", "action", "search:ops.0.codeOgr")
	body := b.post("/demandes/nouvelle", v).Body.String()
	rfCheckHTML(t, body, false)
	mustHave(t, body, `2 résultats pour « python » : choisissez-en un`,
		`<input type="radio" id="ops-0-codeOgr-pick-0" name="ops.0.codeOgr.pick" value="777||Programmer en Python" autofocus>`,
		`value="choose" id="ops-0-codeOgr-choose">Choisir ce résultat</button>`)
	if len(svc.searches) != 1 || svc.searches[0] != "competences:python" {
		t.Errorf("searches %v", svc.searches)
	}

	// Picking puts the code in the field, with what it is, and the focus on it.
	v.Set("ops.0.codeOgr.pick", "777||Programmer en Python")
	v.Set("action", "choose")
	body = b.post("/demandes/nouvelle", v).Body.String()
	rfCheckHTML(t, body, false)
	mustHave(t, body, `name="ops.0.codeOgr" value="777" required autofocus`, `Choix : Programmer en Python`,
		`<input type="hidden" name="ops.0.codeOgr.label" value="777||Programmer en Python">`, `name="ops.0.codeOgr.q" value=""`)
	mustNotHave(t, body, "choisissez-en un")

	// The live search (htmx) answers the results alone; without htmx, a page.
	w := b.get("/referentiel/recherche?kind=contextes&target=ops.1.codeOgr&ops.1.codeOgr.q=samedi", htmx("ops-1-codeOgr-results")...)
	body = w.Body.String()
	rfCheckHTML(t, body, true)
	mustHave(t, body, `name="ops.1.codeOgr.pick" value="23374||Travail le samedi"`, `Horaires et durée du travail`,
		`<div id="console-live" hx-swap-oob="innerHTML">1 résultat pour « samedi ».</div>`)
	mustNotHave(t, body, "autofocus", "Travail en équipe")
	w = b.get("/referentiel/recherche?kind=fiches&target=codeRome&q=informatique")
	body = w.Body.String()
	rfCheckHTML(t, body, false)
	mustHave(t, body, "<h1>Recherche dans le référentiel</h1>", "M1805 – Études et développement informatique", "M1855 – Développeur web")
	if w := b.get("/referentiel/recherche?kind=users&target=x&q=ab"); w.Code != http.StatusBadRequest {
		t.Errorf("unknown search: %d", w.Code)
	}
	// Too short a query searches nothing.
	body = b.post("/demandes/nouvelle", form("ops.0.op", "add_savoir", "ops.0.codeOgr.q", "g", "action", "search:ops.0.codeOgr")).Body.String()
	mustHave(t, body, "Saisissez au moins deux caractères")
}

func TestNewRequestPreview(t *testing.T) {
	t.Parallel()
	ui, svc := newFormUI(t)
	b := ui.partner()
	v := form("kind", "modify_fiche", "codeRome", "M1805",
		"ops.0.op", "add_appellation", "ops.0.libelle", "Développeur Go",
		"ops.1.op", "add_appellation", "ops.1.libelle", "Doublon",
		"ops.2.op", "set_tags", "ops.2.transitionNumerique", "oui", "action", "preview")
	w := b.post("/demandes/nouvelle", v)
	body := w.Body.String()
	rfCheckHTML(t, body, false)
	mustHave(t, body, `<input type="hidden" name="apercu" value="1">`,
		`id="apercu-titre" tabindex="-1" autofocus`,
		"Aperçu à jour : 1 opération sur 3 ne s&#39;applique pas à la version 60 du référentiel.",
		"Opération 2 : Ajouter une appellation : Une appellation porte déjà ce libellé (appellation 10001 already has this label).",
		`<strong>Ajout</strong> – appellation « Développeur Go » (code OGR 900001), fiche M1805`,
		`<strong>Modification</strong> – indicateurs : transition numérique ; après : oui`,
		"Développeur Go</li>", "La fiche après ces changements",
		// The verdict shows in the block, linked to the field it names.
		`<div id="ops-1-apercu" class="console-op-result"><div class="fr-alert fr-alert--warning fr-alert--sm"><p>Aperçu : cette opération ne s'applique pas.`,
		`<a href="#ops-1-libelle">Champ concerné : Opération 2 (Ajouter une appellation) – Libellé de l&#39;appellation</a>`,
		`<div id="ops-0-apercu" class="console-op-result"><p class="fr-badge fr-badge--success fr-badge--sm">Aperçu : s'applique</p></div>`)
	if len(svc.validations) != 1 || svc.validations[0].CodeRome != "M1805" || len(svc.validations[0].Operations) != 3 {
		t.Fatalf("validations %s", jsonOf(svc.validations))
	}

	// With htmx, the live preview refreshes its region and the blocks' verdicts out of band.
	v.Del("action")
	v.Set("ops.1.libelle", "Développeuse Go")
	w = b.post("/demandes/nouvelle/apercu", v, htmx("apercu-contenu")...)
	body = w.Body.String()
	rfCheckHTML(t, body, true)
	mustHave(t, body, `<p id="apercu-statut" hx-swap-oob="innerHTML">Aperçu à jour : les 3 opérations s&#39;appliquent`,
		`<div id="ops-1-apercu" class="console-op-result" hx-swap-oob="true"><p class="fr-badge fr-badge--success`)
	mustNotHave(t, body, `<form`)

	// A creation previews create_fiche first, without a code ROME.
	body = b.post("/demandes/nouvelle/apercu", form("kind", "create_fiche_from_new_appellation", "fiche.domaineProfessionnel", "M18",
		"fiche.appellationPrincipale.libelle", "Prompt engineer"), htmx("apercu-contenu")...).Body.String()
	last := svc.validations[len(svc.validations)-1]
	if last.CodeRome != "" || len(last.Operations) != 1 || last.Operations[0].Op != refclient.OpCreateFiche {
		t.Errorf("creation preview %s", jsonOf(last))
	}
	mustHave(t, body, `<div id="fiche-apercu" class="console-op-result" hx-swap-oob="true">`)
	// Nothing to preview yet.
	body = b.post("/demandes/nouvelle/apercu", form("kind", "modify_fiche", "codeRome", "M1805"), htmx("apercu-contenu")...).Body.String()
	mustHave(t, body, "Ajoutez au moins une opération pour voir l&#39;aperçu.")
	// Without htmx, the preview route shows the whole form.
	w = b.post("/demandes/nouvelle/apercu", form("kind", "modify_fiche"))
	mustHave(t, w.Body.String(), `<form id="demande"`, "Saisissez le code ROME de la fiche à modifier pour voir l&#39;aperçu.")
}

func TestNewRequestSubmit(t *testing.T) {
	t.Parallel()
	ui, svc := newFormUI(t)
	b := ui.partner()
	valid := func() url.Values {
		return form("cle", "console-abcdefghijklmnopqrstuvwx", "kind", "modify_fiche", "codeRome", "M1805",
			"title", "Ajouter Développeur Go", "justification", "Beaucoup d'offres",
			"ops.0.op", "add_appellation", "ops.0.libelle", "Développeur Go", "action", "submit")
	}

	// Local checks first: 422, the summary, the fields marked, everything kept, nothing sent.
	v := valid()
	v.Set("title", "")
	v.Set("ops.0.libelle", "")
	v.Set("ops.1.op", "add_mobilite")
	v.Set("ops.1.toCodeRome", "m18")
	w := b.post("/demandes/nouvelle", v)
	body := w.Body.String()
	if w.Code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", w.Code)
	}
	rfCheckHTML(t, body, false)
	mustHave(t, body, `<div class="fr-alert fr-alert--error fr-mb-4w" role="alert" id="erreurs" tabindex="-1" autofocus>`,
		"3 erreurs à corriger avant de soumettre la demande",
		`<a href="#title">Titre : Donnez un titre à votre demande.</a>`,
		`<a href="#ops-0-libelle">Opération 1 (Ajouter une appellation) – Libellé de l&#39;appellation : Saisissez le libellé de l&#39;appellation.</a>`,
		`aria-describedby="ops-0-libelle-hint ops-0-libelle-error" aria-invalid="true"`,
		`<p class="fr-error-text" id="ops-0-libelle-error">Saisissez le libellé de l&#39;appellation.</p>`,
		`name="ops.1.toCodeRome" value="m18"`, `>Beaucoup d&#39;offres</textarea>`)
	if len(svc.submissions) != 0 {
		t.Fatalf("sent despite errors")
	}

	// An unknown fiche is caught before sending.
	v = valid()
	v.Set("codeRome", "A9999")
	w = b.post("/demandes/nouvelle", v)
	mustHave(t, w.Body.String(), "Aucune fiche ne porte le code ROME A9999")
	if w.Code != http.StatusUnprocessableEntity || len(svc.submissions) != 0 {
		t.Fatalf("unknown fiche: %d", w.Code)
	}

	// Valid: filed with the form's key, then the request's page.
	w = b.post("/demandes/nouvelle", valid())
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/demandes/req-42?message=soumise" {
		t.Fatalf("submit: %d %s", w.Code, w.Header().Get("Location"))
	}
	want := backend.Submission{Kind: request.KindModifyFiche, CodeRome: "M1805", Title: "Ajouter Développeur Go", Justification: "Beaucoup d'offres",
		Operations: []refclient.Operation{{Op: refclient.OpAddAppellation, Libelle: "Développeur Go"}}}
	if !reflect.DeepEqual(svc.submissions[0], want) || svc.keys[0] != "console-abcdefghijklmnopqrstuvwx" {
		t.Errorf("sent %s with key %q", jsonOf(svc.submissions[0]), svc.keys[0])
	}
	// With htmx, the browser is sent to the request's page.
	w = b.post("/demandes/nouvelle", valid(), htmx("demande")...)
	if w.Code != http.StatusOK || w.Header().Get("HX-Redirect") != "/demandes/req-42?message=soumise" {
		t.Errorf("htmx submit: %d %v", w.Code, w.Header())
	}

	// The intake's 422: each error next to its field, the summary, 422, everything kept.
	v = valid()
	v.Set("title", "refus du serveur")
	w = b.post("/demandes/nouvelle", v)
	body = w.Body.String()
	if w.Code != http.StatusUnprocessableEntity {
		t.Fatalf("intake 422 → %d", w.Code)
	}
	rfCheckHTML(t, body, false)
	mustHave(t, body, `<p class="fr-error-text" id="ops-0-libelle-error">Ce champ est obligatoire.</p>`,
		`<p class="fr-error-text" id="justification-error">Refusé par la plateforme : must have at most 10000 characters (it has 10001)</p>`,
		`<a href="#ops-0-libelle">`, `value="refus du serveur"`, `value="Développeur Go"`)
	// With htmx too the errors come back as a 422 (the layout's htmx-config swaps it).
	if w := b.post("/demandes/nouvelle", v, htmx("demande")...); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `id="erreurs"`) {
		t.Errorf("htmx 422: %d", w.Code)
	}

	// The intake down: the form comes back with everything, and says so.
	v = valid()
	v.Set("title", "panne")
	w = b.post("/demandes/nouvelle", v)
	body = w.Body.String()
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("intake down → %d", w.Code)
	}
	rfCheckHTML(t, body, false)
	mustHave(t, body, "La demande n&#39;a pas été enregistrée", `value="panne"`, `value="Développeur Go"`, `id="alerte" tabindex="-1" autofocus`)

	// A creation from a known appellation, picked by search.
	c := form("kind", "create_fiche_from_known_appellation", "title", "Nouvelle fiche", "justification", "J",
		"fiche.appellationPrincipale.codeOgr.pick", "14156|M1855|Développeur / Développeuse web",
		"fiche.definition", "Définition", "fiche.accesEmploi", "Accès", "action", "submit")
	w = b.post("/demandes/nouvelle", c)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("creation: %d %s", w.Code, w.Body.String())
	}
	got := svc.submissions[len(svc.submissions)-1]
	if got.CodeRome != "" || len(got.Operations) != 1 || got.Operations[0].AppellationPrincipale.CodeOgr != "14156" || got.Operations[0].DomaineProfessionnel != "M18" {
		t.Errorf("creation sent %s", jsonOf(got))
	}
}

func TestNewRequestPageSize(t *testing.T) {
	t.Parallel()
	ui, _ := newFormUI(t)
	b := ui.partner()
	v := form("kind", "modify_fiche", "codeRome", "M1805", "action", "preview")
	for i, s := range formOpSpecs {
		v.Set("ops."+itoa(i)+".op", s.Op)
	}
	body := b.post("/demandes/nouvelle", v).Body.String()
	rfCheckHTML(t, body, false)
	t.Logf("every kind of operation at once: %d bytes", len(body))
}

func TestNewRequestCodeRomeZone(t *testing.T) {
	t.Parallel()
	ui, _ := newFormUI(t)
	b := ui.partner()
	v := form("kind", "modify_fiche", "codeRome", "M1805", "title", "T", "ops.0.op", "remove_savoir", "action", "fiche")
	// With htmx, a new Code ROME swaps the fiche's zone and the operations, not the fields typed.
	w := b.post("/demandes/nouvelle", v, htmx("codeRome-zone")...)
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	rfCheckHTML(t, body, true)
	mustHave(t, body, `<div id="codeRome-zone">`, `<div id="liste-operations">`, "Fiche chargée",
		`<option value="30001">Langage Go</option>`, `<div id="console-live" hx-swap-oob="innerHTML">Fiche M1805 chargée : Études et développement informatique.</div>`)
	// The Code ROME field asks for exactly that.
	page := b.get("/demandes/nouvelle").Body.String()
	mustHave(t, page, `hx-post="/demandes/nouvelle" hx-trigger="change" hx-vals='{"action":"fiche"}' hx-target="#codeRome-zone" hx-select="#codeRome-zone" hx-select-oob="#liste-operations"`)
	// An unknown fiche says so in the zone, without marking an error while the partner edits.
	v.Set("codeRome", "B9999")
	body = b.post("/demandes/nouvelle", v).Body.String()
	mustHave(t, body, "Aucune fiche ne porte le code ROME B9999 dans le référentiel", `for="ops-0-codeOgr">Savoir à retirer (code OGR)</label>`)
	mustNotHave(t, body, `id="erreurs"`)
}

func TestNewRequestReferentialDown(t *testing.T) {
	t.Parallel()
	svc := &fakeFormServices{}
	ui := newTestUI(t, svc.intake(), nil, nil)
	b := ui.partner()
	v := form("kind", "modify_fiche", "codeRome", "M1805", "ops.0.op", "add_savoir", "ops.0.codeOgr.q", "python", "action", "preview")
	w := b.post("/demandes/nouvelle", v)
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	rfCheckHTML(t, body, false)
	mustHave(t, body, "Le référentiel ne répond pas : les listes des éléments de la fiche ne sont pas disponibles.",
		"La recherche n&#39;a pas abouti", "Le référentiel ne répond pas : l&#39;aperçu n&#39;est pas disponible pour le moment.",
		`name="ops.0.codeOgr.q" value="python"`)
	// The partner can still submit: the intake and the workflow's checks decide.
	v = form("kind", "modify_fiche", "codeRome", "M1805", "title", "T", "justification", "J",
		"ops.0.op", "add_savoir", "ops.0.codeOgr", "888", "action", "submit")
	if w := b.post("/demandes/nouvelle", v); w.Code != http.StatusSeeOther {
		t.Errorf("submit with the referential down: %d", w.Code)
	}
}

// Another page (a moderator's amendment) reuses a block with its own prefix.
func TestOperationBlockElsewhere(t *testing.T) {
	t.Parallel()
	prefix := "amendement.op-2"
	v := form(prefix+".op", "ignored", prefix+".codeOgr", "10002", prefix+".libelle", "Programmeur Go",
		prefix+".replacedBy.pick", "14156|M1855|Développeur / Développeuse web", prefix+".replacedBy", "1", "other.libelle", "x")
	o := parseOpForm(v, prefix, refclient.OpRemoveAppellation)
	if o.V["replacedBy"] != "14156" || o.V["codeOgr"] != "10002" || o.V["op"] != "" || len(o.V) != 5 {
		t.Fatalf("parsed %v", o.V)
	}
	errs := fieldErrors{}
	validateOp(prefix, formOpSpecByOp[o.Op], o, request.KindModifyFiche, errs)
	if len(errs) != 0 {
		t.Errorf("errors %v", errs)
	}
	x := &opBlockCtx{Kind: request.KindModifyFiche, Errors: fieldErrors{prefix + ".reason": "Précisez."}, Fiche: formTestFiche()}
	if got := x.blockPickers(prefix, opForm{Op: refclient.OpRemoveAppellation, V: map[string]string{"replacedBy.q": "web"}}); len(got) != 1 || got[0].name != prefix+".replacedBy" {
		t.Errorf("pickers %v", got)
	}
	blk := x.block(prefix, o, "Amendement de l'opération 2", -1)
	set, err := assetsForTest()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := mustParsePages(set).byName["request_new"].ExecuteTemplate(&b, "operation-fields", blk); err != nil {
		t.Fatal(err)
	}
	body := b.String()
	rfCheckHTML(t, body, true)
	mustHave(t, body, `id="amendement-op-2"`, `name="amendement.op-2.op" value="remove_appellation"`,
		`<option value="10002" selected>Programmeur / Programmeuse</option>`, `name="amendement.op-2.replacedBy" value="14156"`,
		`Choix : Développeur / Développeuse web`, `<p class="fr-error-text" id="amendement-op-2-reason-error">Précisez.</p>`)
	mustNotHave(t, body, "hx-post", "Retirer cette opération") // no form to re-render, not removable
}
