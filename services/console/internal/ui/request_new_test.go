package ui

// The request form's pages against fake intake and referential services (the form itself,
// without HTTP, is tested in request_form_test.go); request_amend_test.go uses their fakes
// and checks too.

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

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/workflows/request"
)

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
		`<strong>Modification</strong> – indicateurs : transition numérique ; après : Oui`,
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
		`<p class="fr-error-text" id="justification-error">Ce champ compte au plus 10000 caractères (il en a 10001).</p>`,
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
