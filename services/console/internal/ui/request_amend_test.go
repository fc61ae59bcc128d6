package ui

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/workflows/request"
)

// newAmendUI is the console in front of an intake holding r and the request form's fake
// referential.
func newAmendUI(t *testing.T, r request.Request) (*testUI, *fakeIntake, *fakeFormServices) {
	intake, svc := &fakeIntake{req: r}, &fakeFormServices{}
	return newTestUI(t, intake, svc.referential(), nil), intake, svc
}

// amendedOps are the form of inReview()'s operations as the amendment page shows them,
// with the fields kv sets.
func amendedOps(kv ...string) url.Values {
	v := form("cle", "console-amendamendamendamend",
		"ops.0.op", "add_appellation", "ops.0.id", "op-1", "ops.0.libelle", "Développeur / Développeuse Zig",
		"ops.1.op", "add_mobilite", "ops.1.id", "op-2", "ops.1.toCodeRome", "M1801", "ops.1.rank", "1")
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func TestAmendOperationsPage(t *testing.T) {
	t.Parallel()
	ui, _, _ := newAmendUI(t, inReview())
	alice := ui.partner()
	w := alice.get("/demandes/r-1/operations")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	body := w.Body.String()
	rfCheckHTML(t, body, false)
	mustHave(t, body, "<title>Modifier les opérations de « Développeur Zig » – Plateforme du ROME</title>",
		"<h1>Modifier les opérations de la demande</h1>", `<a class="fr-link" href="/demandes/r-1">Retour à la demande</a>`,
		// The request's own fields, read-only.
		"<dt>Titre</dt><dd>Développeur Zig</dd>", "<dt>Type</dt><dd>Modifier une fiche</dd>",
		`<a href="/referentiel/fiches/M1805">M1805</a>`, "Offres 2026.</dd>", ">En instruction</span>",
		// The operations, prefilled, their ids kept.
		`<form id="modification" method="post" action="/demandes/r-1/operations" novalidate hx-post="/demandes/r-1/operations"`,
		`<input type="hidden" name="ops.0.op" value="add_appellation"><input type="hidden" name="ops.0.id" value="op-1">`,
		`<input type="hidden" name="ops.1.op" value="add_mobilite"><input type="hidden" name="ops.1.id" value="op-2">`,
		`name="ops.0.libelle" value="Développeur / Développeuse Zig"`, `name="ops.1.toCodeRome" value="M1801"`, `name="ops.1.rank" value="1"`,
		`value="remove:1" id="ops-1-remove"`, `hx-target="#modification"`,
		`hx-post="/demandes/r-1/operations/apercu" hx-trigger="change from:#modification delay:800ms"`, "Aperçu avant enregistrement",
		`value="submit" id="enregistrer">Enregistrer les opérations</button>`, "M1805 – Études et développement informatique")
	for _, s := range formOpSpecs {
		mustHave(t, body, `value="add:`+s.Op+`"`)
	}
	mustNotHave(t, body, `name="title"`, `name="justification"`, `name="kind"`, `name="codeRome"`, "Soumettre la demande")
	if key := hiddenValue(body, "cle"); !strings.HasPrefix(key, "console-") {
		t.Errorf("idempotency key %q", key)
	}

	// The request's page links to it, for its partner only.
	page := alice.get("/demandes/r-1").Body.String()
	mustHave(t, page, `<a class="fr-link" href="/demandes/r-1/operations">Modifier les opérations</a>`)
	bob := ui.signIn(auth.Principal{Subject: "bob", Name: "Bruno", Role: auth.RoleModerator})
	mustNotHave(t, bob.get("/demandes/r-1").Body.String(), "Modifier les opérations")
	// Partners only.
	if w := bob.get("/demandes/r-1/operations"); w.Code != http.StatusForbidden {
		t.Errorf("moderator: %d", w.Code)
	}
}

func TestAmendOperationsSubmit(t *testing.T) {
	t.Parallel()
	ui, intake, _ := newAmendUI(t, inReview())
	alice := ui.partner()

	// The label changed, a savoir added: PATCH with the ids kept, the form's key, then the request's page.
	v := amendedOps("ops.0.libelle", "Développeur / Développeuse Zig embarqué",
		"ops.2.op", "add_savoir", "ops.2.source", "existant", "ops.2.codeOgr", "888",
		"title", "forged", "kind", "create_fiche_from_new_appellation", "action", "submit")
	w := alice.post("/demandes/r-1/operations", v)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/demandes/r-1?message=operations" {
		t.Fatalf("submit: %d %s %s", w.Code, w.Header().Get("Location"), w.Body)
	}
	if len(intake.calls) != 1 {
		t.Fatalf("calls %+v", intake.calls)
	}
	call := intake.calls[0]
	want := []any{
		map[string]any{"id": "op-1", "op": "add_appellation", "libelle": "Développeur / Développeuse Zig embarqué"},
		map[string]any{"id": "op-2", "op": "add_mobilite", "toCodeRome": "M1801", "rank": float64(1)},
		map[string]any{"op": "add_savoir", "codeOgr": "888"},
	}
	if call.Method != http.MethodPatch || call.Path != "/operations" || call.Key != "console-amendamendamendamend" ||
		!reflect.DeepEqual(call.Body, map[string]any{"operations": want}) {
		t.Fatalf("the intake got %s %s %q %s", call.Method, call.Path, call.Key, jsonOf(call.Body))
	}
	// The confirmation on the request's page.
	mustHave(t, alice.get("/demandes/r-1?message=operations").Body.String(),
		"Les opérations ont été modifiées : les vérifications automatiques reprennent.")

	// With htmx, the browser is sent to the request's page.
	w = alice.post("/demandes/r-1/operations", amendedOps("action", "submit"), htmx(amendFormID)...)
	if w.Code != http.StatusOK || w.Header().Get("HX-Redirect") != "/demandes/r-1?message=operations" {
		t.Errorf("htmx submit: %d %v", w.Code, w.Header())
	}

	// Checked locally first: nothing sent.
	n := len(intake.calls)
	w = alice.post("/demandes/r-1/operations", amendedOps("ops.0.libelle", "", "action", "submit"))
	body := w.Body.String()
	if w.Code != http.StatusUnprocessableEntity || len(intake.calls) != n {
		t.Fatalf("local check: %d, %d calls", w.Code, len(intake.calls)-n)
	}
	rfCheckHTML(t, body, false)
	mustHave(t, body, "Une erreur à corriger avant d&#39;enregistrer les opérations",
		`<a href="#ops-0-libelle">Opération 1 (Ajouter une appellation) – Libellé de l&#39;appellation : Saisissez le libellé de l&#39;appellation.</a>`)
}

func TestAmendOperationsEditor(t *testing.T) {
	t.Parallel()
	ui, _, svc := newAmendUI(t, inReview())
	alice := ui.partner()

	// Removing the first operation renumbers the second, with its id.
	body := alice.post("/demandes/r-1/operations", amendedOps("action", "remove:0")).Body.String()
	rfCheckHTML(t, body, false)
	mustHave(t, body, `<input type="hidden" name="ops.0.op" value="add_mobilite"><input type="hidden" name="ops.0.id" value="op-2">`,
		`name="ops.0.toCodeRome" value="M1801"`, `id="operations" tabindex="-1" autofocus`)
	mustNotHave(t, body, `value="op-1"`, "Développeuse Zig")

	// Adding one, with htmx: the form alone, the new block without an id.
	w := alice.post("/demandes/r-1/operations", amendedOps("action", "add:remove_savoir"), htmx(amendFormID)...)
	body = w.Body.String()
	if w.Code != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(body), `<form id="modification"`) {
		t.Fatalf("fragment %d: %.200s", w.Code, body)
	}
	rfCheckHTML(t, body, true)
	mustHave(t, body, `<input type="hidden" name="ops.2.op" value="remove_savoir">`+"\n", `<option value="30001">Langage Go</option>`,
		`<div id="console-live" hx-swap-oob="innerHTML">Opération 3 ajoutée : Retirer un savoir. Complétez ses champs.</div>`,
		`value="op-1"`, `value="op-2"`)

	// A picker: its search and the pick, without JavaScript.
	v := amendedOps("ops.2.op", "add_competence", "ops.2.source", "existant", "ops.2.codeOgr.q", "python", "action", "search:ops.2.codeOgr")
	body = alice.post("/demandes/r-1/operations", v).Body.String()
	rfCheckHTML(t, body, false)
	mustHave(t, body, `name="ops.2.codeOgr.pick" value="777||Programmer en Python" autofocus`)
	v.Set("ops.2.codeOgr.pick", "777||Programmer en Python")
	v.Set("action", "choose")
	body = alice.post("/demandes/r-1/operations", v).Body.String()
	mustHave(t, body, `name="ops.2.codeOgr" value="777" required autofocus`, "Choix : Programmer en Python")

	// The preview: without JavaScript, and refreshed live (htmx), on the request's fiche.
	body = alice.post("/demandes/r-1/operations", amendedOps("action", "preview")).Body.String()
	rfCheckHTML(t, body, false)
	mustHave(t, body, `id="apercu-titre" tabindex="-1" autofocus`, "Aperçu à jour : les 2 opérations s&#39;appliquent",
		`<input type="hidden" name="apercu" value="1">`)
	w = alice.post("/demandes/r-1/operations/apercu", amendedOps("ops.0.libelle", "Doublon", "codeRome", "A1111"), htmx("apercu-contenu")...)
	body = w.Body.String() // its link to the field named goes to the page's field
	mustHave(t, body, `<p id="apercu-statut" hx-swap-oob="innerHTML">Aperçu à jour : 1 opération sur 2 ne s&#39;applique pas`,
		`<div id="ops-0-apercu" class="console-op-result" hx-swap-oob="true"><div class="fr-alert`)
	mustNotHave(t, body, "<form", "fiche-apercu")
	last := svc.validations[len(svc.validations)-1]
	if last.CodeRome != "M1805" || len(last.Operations) != 2 || last.Operations[0].ID != "op-1" {
		t.Errorf("preview of %s", jsonOf(last))
	}
}

func TestAmendOperationsRefusals(t *testing.T) {
	t.Parallel()
	ui, intake, _ := newAmendUI(t, inReview())
	intake.refuse = func(string) (int, string) {
		// Called with the fake's lock held: the call it answers is the last one.
		switch firstLibelle(intake.calls[len(intake.calls)-1]) {
		case "refus":
			return http.StatusUnprocessableEntity, `{"status":422,"code":"invalid_input","detail":"invalid","errors":[{"field":"operations[1].toCodeRome","message":"must be a code ROME such as M1805"}]}`
		case "conflit":
			return http.StatusConflict, `{"status":409,"code":"invalid_transition","detail":"cannot amend","currentStatus":"PUBLISHING"}`
		}
		return 0, ""
	}
	alice := ui.partner()

	// A 422: next to the field it names, in French, with what was typed.
	w := alice.post("/demandes/r-1/operations", amendedOps("ops.0.libelle", "refus", "action", "submit"))
	body := w.Body.String()
	if w.Code != http.StatusUnprocessableEntity {
		t.Fatalf("422 → %d", w.Code)
	}
	rfCheckHTML(t, body, false)
	mustHave(t, body, `<p class="fr-error-text" id="ops-1-toCodeRome-error">Saisissez un code ROME : une lettre et quatre chiffres, par exemple M1805.</p>`,
		`<a href="#ops-1-toCodeRome">Opération 2 (Ajouter une mobilité) – Fiche cible (code ROME) : Saisissez un code ROME`,
		`name="ops.0.libelle" value="refus"`, `value="op-2"`)

	// A 409: what changed, the current status, and what was typed kept.
	w = alice.post("/demandes/r-1/operations", amendedOps("ops.0.libelle", "conflit", "action", "submit"))
	body = w.Body.String()
	if w.Code != http.StatusConflict {
		t.Fatalf("409 → %d", w.Code)
	}
	rfCheckHTML(t, body, false)
	mustHave(t, body, `id="alerte" tabindex="-1" autofocus`,
		"Les opérations n&#39;ont pas été enregistrées : la demande a changé entre-temps et elle est maintenant « Publication en cours »",
		"dont la publication est en cours", ">Publication en cours</span>", `name="ops.0.libelle" value="conflit"`)
}

// firstLibelle is the label of the first operation a call sent.
func firstLibelle(call intakeCall) string {
	ops, _ := call.Body["operations"].([]any)
	if len(ops) == 0 {
		return ""
	}
	label, _ := ops[0].(map[string]any)["libelle"].(string)
	return label
}

func TestAmendOperationsNotNow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status request.Status
		want   string
	}{
		{request.StatusAwaitingTriage, "ne l&#39;a pas encore prise en charge"},
		{request.StatusPublished, "une demande close ne change plus"},
	} {
		r := inReview()
		r.Status = tc.status
		ui, intake, _ := newAmendUI(t, r)
		alice := ui.partner()
		w := alice.get("/demandes/r-1/operations")
		body := w.Body.String()
		if w.Code != http.StatusConflict {
			t.Fatalf("%s: %d", tc.status, w.Code)
		}
		mustHave(t, body, "La situation a changé", "« "+statusLabels[tc.status]+" »", tc.want,
			`<a class="fr-btn" href="/demandes/r-1">Retour à la demande</a>`)
		mustNotHave(t, alice.get("/demandes/r-1").Body.String(), "Modifier les opérations")
		// A form posted meanwhile comes back with the reason, and what was typed.
		w = alice.post("/demandes/r-1/operations", amendedOps("ops.0.libelle", "Zig 2", "action", "add:add_contexte"))
		if w.Code != http.StatusConflict || len(intake.calls) != 0 {
			t.Fatalf("%s: POST %d, %d calls", tc.status, w.Code, len(intake.calls))
		}
		mustHave(t, w.Body.String(), "la demande a changé entre-temps et elle est maintenant « "+statusLabels[tc.status]+" »", `value="Zig 2"`)
	}
}

func TestAmendOperationsOfAnotherOrganisation(t *testing.T) {
	t.Parallel()
	ui, intake, _ := newAmendUI(t, inReview())
	olivier := ui.signIn(auth.Principal{Subject: "olivier", Name: "Olivier", Role: auth.RolePartner, Org: "autre"})
	for _, w := range []*struct {
		name string
		code int
	}{
		{"GET", olivier.get("/demandes/r-1/operations").Code},
		{"POST", olivier.post("/demandes/r-1/operations", amendedOps("action", "submit")).Code},
		{"preview", olivier.post("/demandes/r-1/operations/apercu", amendedOps()).Code},
		{"unknown request", ui.partner().get("/demandes/r-2/operations").Code},
	} {
		if w.code != http.StatusNotFound {
			t.Errorf("%s: %d", w.name, w.code)
		}
	}
	if len(intake.calls) != 0 {
		t.Errorf("the intake was sent %+v", intake.calls)
	}
}

func TestAmendCreatedFiche(t *testing.T) {
	t.Parallel()
	r := inReview()
	r.Kind, r.CodeRome = request.KindCreateFromNew, ""
	r.Operations = []request.RequestOperation{
		{Operation: refclient.Operation{ID: "op-1", Op: refclient.OpCreateFiche, DomaineProfessionnel: "M18", Definition: "Déf", AccesEmploi: "Accès",
			AppellationPrincipale: &refclient.AppellationPrincipale{Libelle: "Prompt engineer"}}},
		{Operation: refclient.Operation{ID: "op-2", Op: refclient.OpAddAppellation, Libelle: "Ingénieur prompt"}},
	}
	ui, intake, _ := newAmendUI(t, r)
	alice := ui.partner()
	body := alice.get("/demandes/r-1/operations").Body.String()
	rfCheckHTML(t, body, false)
	mustHave(t, body, "<dt>Fiche</dt><dd>nouvelle fiche</dd>", "<h2 class=\"fr-h4\">La nouvelle fiche</h2>",
		`<input type="hidden" name="fiche.op" value="create_fiche"><input type="hidden" name="fiche.id" value="op-1">`,
		`name="fiche.appellationPrincipale.libelle" value="Prompt engineer"`, `name="fiche.definition"`,
		`<input type="hidden" name="ops.0.op" value="add_appellation"><input type="hidden" name="ops.0.id" value="op-2">`)
	// Only the fields of the request's kind: not the known appellation's.
	mustNotHave(t, body, "fiche.appellationPrincipale.codeOgr", `value="remove:-1"`)

	v := form("cle", "console-amendamendamendamend", "fiche.op", "create_fiche", "fiche.id", "op-1",
		"fiche.appellationPrincipale.libelle", "Prompt engineer", "fiche.domaineProfessionnel", "M18",
		"fiche.definition", "Nouvelle définition", "fiche.accesEmploi", "Accès",
		"ops.0.op", "add_appellation", "ops.0.id", "op-2", "ops.0.libelle", "Ingénieur prompt", "action", "submit")
	if w := alice.post("/demandes/r-1/operations", v); w.Code != http.StatusSeeOther {
		t.Fatalf("submit: %d %s", w.Code, w.Body)
	}
	ops := intake.calls[0].Body["operations"].([]any)
	first := ops[0].(map[string]any)
	if len(ops) != 2 || first["id"] != "op-1" || first["op"] != "create_fiche" || first["definition"] != "Nouvelle définition" ||
		ops[1].(map[string]any)["id"] != "op-2" {
		t.Errorf("sent %s", jsonOf(ops))
	}
}
