package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
)

// --- A console wired to fake services ----------------------------------------------------

// pagesUI is the shared test console (uitest_test.go) in front of fake referential and
// notifications services; the intake is down.
type pagesUI struct{ *testUI }

func newPagesUI(t *testing.T, referential, notifications http.Handler) *pagesUI {
	t.Helper()
	return &pagesUI{newTestUI(t, nil, referential, notifications)}
}

// as signs in a person of that role (and organisation, for a partner).
func (u *pagesUI) as(role auth.Role, sub, org string) *testBrowser {
	return u.signIn(auth.Principal{Subject: sub, Name: strings.ToUpper(sub[:1]) + sub[1:], Role: role, Org: org})
}

// --- Checks of the pages' HTML -----------------------------------------------------------

const maxPageBytes = 60 << 10

var (
	headingTag = regexp.MustCompile(`<h([1-6])[\s>]`)
	tableTag   = regexp.MustCompile(`(?s)<table>(.*?)</table>`)
	thTag      = regexp.MustCompile(`<th(\s[^>]*)?>`)
	idAttr     = regexp.MustCompile(`\sid="([^"]+)"`)
	labelFor   = regexp.MustCompile(`<label[^>]*\sfor="([^"]+)"`)
	fieldTag   = regexp.MustCompile(`<(input|select|textarea)\s[^>]*>`)
)

// checkPage checks what every page must be (console.md): the title, one h1, headings in
// order, tables with a caption and scoped headers, labelled fields, unique ids, at most
// 60 KB, and no inline script or style.
func checkPage(t *testing.T, w *httptest.ResponseRecorder, status int, title string) string {
	t.Helper()
	body := w.Body.String()
	if w.Code != status {
		t.Fatalf("status %d, want %d; page:\n%s", w.Code, status, excerpt(body))
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("Content-Type %q", ct)
	}
	if want := "<title>" + htmlEscape(title) + " – Plateforme du ROME</title>"; !strings.Contains(body, want) {
		t.Errorf("title: want %s in\n%s", want, excerpt(body))
	}
	if len(body) > maxPageBytes {
		t.Errorf("page is %d bytes, more than %d", len(body), maxPageBytes)
	}
	levels := headingTag.FindAllStringSubmatch(body, -1)
	h1 := 0
	prev := 0
	for _, m := range levels {
		l := int(m[1][0] - '0')
		if l == 1 {
			h1++
		}
		if prev == 0 && l != 1 {
			t.Errorf("the first heading is h%d, want h1", l)
		}
		if prev > 0 && l > prev+1 {
			t.Errorf("heading h%d after h%d skips a level", l, prev)
		}
		prev = l
	}
	if h1 != 1 {
		t.Errorf("%d h1, want 1", h1)
	}
	for _, m := range tableTag.FindAllStringSubmatch(body, -1) {
		if !strings.Contains(m[1], "<caption") {
			t.Errorf("a table has no caption: %s", excerpt(m[1]))
		}
		for _, th := range thTag.FindAllStringSubmatch(m[1], -1) {
			if !strings.Contains(th[1], "scope=") {
				t.Errorf("a th has no scope: %s", th[0])
			}
		}
	}
	ids := map[string]int{}
	for _, m := range idAttr.FindAllStringSubmatch(body, -1) {
		ids[m[1]]++
	}
	for id, n := range ids {
		if n > 1 {
			t.Errorf("id %q used %d times", id, n)
		}
	}
	labelled := map[string]bool{}
	for _, m := range labelFor.FindAllStringSubmatch(body, -1) {
		labelled[m[1]] = true
	}
	for _, f := range fieldTag.FindAllString(body, -1) {
		if strings.Contains(f, `type="hidden"`) {
			continue
		}
		id := idAttr.FindStringSubmatch(f)
		if id == nil || !labelled[id[1]] {
			t.Errorf("field without a label: %s", f)
		}
	}
	if strings.Contains(body, " style=") || regexp.MustCompile(`<script>`).MatchString(body) {
		t.Error("inline style or script (the CSP forbids them)")
	}
	return body
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

func excerpt(s string) string {
	if i := strings.Index(s, `<main`); i >= 0 {
		s = s[i:]
	}
	if len(s) > 3000 {
		s = s[:3000] + "…"
	}
	return s
}

func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q:\n%s", w, excerpt(body))
		}
	}
}

func mustNotContain(t *testing.T, body string, nots ...string) {
	t.Helper()
	for _, n := range nots {
		if strings.Contains(body, n) {
			t.Errorf("page has %q", n)
		}
	}
}

func location(t *testing.T, w *httptest.ResponseRecorder, want string) {
	t.Helper()
	if w.Code != http.StatusSeeOther {
		t.Fatalf("status %d, want 303; page:\n%s", w.Code, excerpt(w.Body.String()))
	}
	if got := w.Header().Get("Location"); got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
}

// --- Fake services -----------------------------------------------------------------------

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func problem(w http.ResponseWriter, status int, code, detail string, fields ...map[string]string) {
	body := map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status, "code": code, "detail": detail}
	if len(fields) > 0 {
		body["errors"] = fields
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func ptr[T any](v T) *T { return &v }

// The fiche M1805 at versions 60 (the import) and 61 (a request published).
func testFiche(version int) *backend.Fiche {
	f := &backend.Fiche{
		CodeRome: "M1805", Libelle: "Développeur / Développeuse web", Version: version,
		GrandDomaine:         backend.Ref{Code: "M", Libelle: "Support à l'entreprise"},
		DomaineProfessionnel: backend.Ref{Code: "M18", Libelle: "Systèmes d'information et de télécommunication"},
		Tags:                 backend.Tags{TransitionEcologique: "Emploi Blanc", TransitionNumerique: ptr(true), EmploiCadre: ptr(true)},
		Definition:           "Conçoit et développe des applications.\nAnalyse les besoins\nRédige la documentation",
		AccesEmploi:          "Cet emploi est accessible avec un Bac+2 à Bac+5 en informatique.",
		Appellations: []backend.Appellation{
			{CodeOgr: "38584", Libelle: "Développeur / Développeuse web", LibelleCourt: "Développeur / Développeuse web", Classification: "PRINCIPALE"},
			{CodeOgr: "10944", Libelle: "Analyste développeur / Analyste développeuse", LibelleCourt: "Analyste développeur / développeuse", Classification: "SYNONYME"},
		},
		Savoirs: []backend.SavoirCategorie{{Categorie: "Domaines d'expertise", Savoirs: []backend.Savoir{{Item: backend.Item{CodeOgr: "102788", Libelle: "HTML"}}}}},
		ContextesTravail: []backend.ContexteType{{Code: "1", Libelle: "Conditions de travail et risques professionnels",
			Contextes: []backend.Item{{CodeOgr: "300799", Libelle: "Possibilité de télétravail"}}}},
		Mobilites: []backend.Mobilite{{CodeRome: "M1806", Libelle: "Conseil et maîtrise d'ouvrage en systèmes d'information", Rang: 2},
			{CodeRome: "M1802", Libelle: "Expertise et support en systèmes d'information", Rang: 1}},
	}
	f.Competences.SavoirFaire = []backend.MacroCompetence{{CodeOgr: "300200", Code: "4A101", Libelle: "Concevoir une application",
		Competences: []backend.Item{{CodeOgr: "120001", Libelle: "Rédiger un cahier des charges", CoeurMetier: ptr("PRINCIPALE")},
			{CodeOgr: "120002", Libelle: "Maquetter une interface"}}}}
	f.Competences.SavoirEtreProfessionnels = []backend.MacroCompetence{{CodeOgr: "300460", Libelle: "Faire preuve d'autonomie", Linked: true, Competences: []backend.Item{}}}
	if version >= 61 {
		f.Appellations = append(f.Appellations, backend.Appellation{CodeOgr: "900001", Libelle: "Développeur / Développeuse no-code", LibelleCourt: "Développeur no-code", Classification: "SYNONYME"})
		f.Competences.SavoirFaire[0].Competences = []backend.Item{{CodeOgr: "120001", Libelle: "Rédiger un cahier des charges", CoeurMetier: ptr("EMERGENTE")}}
		f.Definition = "Conçoit, développe et maintient des applications.\nAnalyse les besoins\nRédige la documentation"
	}
	return f
}

// fakeReferential answers the referential's routes the console calls, with M1805 at
// versions 60 and 61.
type fakeReferential struct {
	mu     sync.Mutex
	tokens []string
	// fiche overrides the fiche served (for size checks).
	fiche *backend.Fiche
}

func (f *fakeReferential) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.tokens = append(f.tokens, r.Header.Get("Authorization"))
	f.mu.Unlock()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"version": 61, "label": "Demande req-1", "publishedAt": "2026-12-01T10:00:00Z", "lastModifiedDate": "2026-12-01T10:00:00Z"})
	})
	mux.HandleFunc("GET /v1/versions", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"items": []map[string]any{
			{"version": 60, "label": "ROME 4.0 version 60 - 25M09", "source": "import", "publishedAt": "2025-09-18T00:00:00Z", "changesetId": nil, "requestId": nil},
			{"version": 61, "label": "Demande req-1", "source": "changeset", "publishedAt": "2026-12-01T10:00:00Z", "changesetId": "cs-1", "requestId": "req-1"},
		}})
	})
	mux.HandleFunc("GET /v1/fiches", func(w http.ResponseWriter, r *http.Request) {
		items := []map[string]any{}
		if q := strings.ToLower(r.URL.Query().Get("q")); strings.Contains("développeur / développeuse web", q) {
			items = append(items, map[string]any{"codeRome": "M1805", "libelle": "Développeur / Développeuse web",
				"grandDomaine":         map[string]string{"code": "M", "libelle": "Support à l'entreprise"},
				"domaineProfessionnel": map[string]string{"code": "M18", "libelle": "Systèmes d'information et de télécommunication"}})
		}
		writeJSON(w, 200, map[string]any{"items": items, "nextCursor": nil, "version": 61})
	})
	mux.HandleFunc("GET /v1/fiches/{code}", func(w http.ResponseWriter, r *http.Request) {
		v := 61
		if s := r.URL.Query().Get("version"); s != "" {
			fmt.Sscan(s, &v)
		}
		if r.PathValue("code") != "M1805" || (v != 60 && v != 61) {
			problem(w, 404, "fiche_not_found", "fiche does not exist")
			return
		}
		fc := testFiche(v)
		if f.fiche != nil {
			fc = f.fiche
		}
		writeJSON(w, 200, fc)
	})
	mux.HandleFunc("GET /v1/fiches/{code}/history", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("code") != "M1805" {
			problem(w, 404, "fiche_not_found", "fiche has never existed")
			return
		}
		writeJSON(w, 200, map[string]any{"codeRome": "M1805", "items": []map[string]any{
			{"version": 61, "changesetId": "cs-1", "requestId": "req-1", "change": map[string]any{"operationId": "op-1", "codeRome": "M1805",
				"action": "added", "entity": "appellation", "codeOgr": "900001", "libelle": "Développeur / Développeuse no-code"}},
			{"version": 61, "changesetId": "cs-1", "requestId": "req-1", "change": map[string]any{"operationId": "op-2", "codeRome": "M1805",
				"action": "updated", "entity": "coeurMetier", "codeOgr": "120001", "before": "PRINCIPALE", "after": "EMERGENTE"}},
			{"version": 61, "changesetId": "cs-1", "requestId": "req-1", "change": map[string]any{"operationId": "op-3", "codeRome": "M1805",
				"action": "updated", "entity": "texte", "field": "definition", "before": "Conçoit et développe.", "after": "Conçoit, développe et maintient."}},
			{"version": 61, "changesetId": "cs-1", "requestId": "req-1", "change": map[string]any{"operationId": "op-4", "codeRome": "M1805",
				"action": "added", "entity": "mobilite", "libelle": "Expertise", "after": map[string]any{"codeRome": "M1802", "rang": 1}}},
		}})
	})
	mux.HandleFunc("GET /v1/search/{kind}", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("q")
		if strings.TrimSpace(q) == "" {
			problem(w, 422, "query_required", "q is required", map[string]string{"field": "q", "message": "required"})
			return
		}
		var items []map[string]any
		switch r.PathValue("kind") {
		case "appellations":
			items = []map[string]any{{"codeOgr": "38584", "libelle": "Développeur / Développeuse web", "codeRome": "M1805", "score": 1,
				"fiche": map[string]string{"code": "M1805", "libelle": "Développeur / Développeuse web"}}}
		case "competences":
			items = []map[string]any{{"codeOgr": "120001", "libelle": "Rédiger un cahier des charges", "score": 0.8,
				"macroCompetence": map[string]string{"code": "300200", "libelle": "Concevoir une application"},
				"fiches":          []map[string]string{{"code": "M1805", "libelle": "Développeur / Développeuse web"}, {"code": "M1806", "libelle": "Conseil en SI"}}}}
		case "savoirs":
			items = []map[string]any{{"codeOgr": "102788", "libelle": "HTML", "score": 0.5, "categorie": "Domaines d'expertise",
				"fiches": []map[string]string{{"code": "M1805", "libelle": "Développeur / Développeuse web"}}}}
		default:
			problem(w, 404, "unknown_search", "search is for appellations, competences or savoirs")
			return
		}
		writeJSON(w, 200, map[string]any{"items": items, "version": 61})
	})
	mux.ServeHTTP(w, r)
}

// emptyNotifications answers the notifications routes a referential page calls.
func emptyNotifications() http.Handler {
	n := newFakeNotifications()
	return n
}

// --- The referential's pages -------------------------------------------------------------

func TestReferentialSearchPage(t *testing.T) {
	ref := &fakeReferential{}
	ui := newPagesUI(t, ref, emptyNotifications())
	v := ui.as(auth.RolePartner, "alice", "opco-2i")

	body := checkPage(t, v.get("/referentiel"), 200, "Rechercher dans le ROME")
	mustContain(t, body, `<label class="fr-label" for="recherche-q">Rechercher dans le ROME`, `name="type"`, "version 61",
		`hx-get="/referentiel"`, `aria-current="page">Référentiel`)
	mustNotContain(t, body, "resultats-fiches")

	body = checkPage(t, v.get("/referentiel?q=d%C3%A9veloppeur&type=tout"), 200, "Résultats pour « développeur » – Rechercher dans le ROME")
	mustContain(t, body, `href="/referentiel/fiches/M1805"`, "Fiches métiers (1)", "Appellations (1)", "Compétences (1)", "Savoirs (1)",
		"Rédiger un cahier des charges", `href="/referentiel/fiches/M1806"`, "4 résultats pour « développeur »", `value="développeur"`)
	if got := ref.tokens[len(ref.tokens)-1]; got != "Bearer token-alice" {
		t.Errorf("the referential got %q, want the person's token", got)
	}

	// A code ROME finds its fiche, in any case.
	body = checkPage(t, v.get("/referentiel?q=m1805&type=fiches"), 200, "Résultats pour « m1805 » – Rechercher dans le ROME")
	mustContain(t, body, `href="/referentiel/fiches/M1805"`, "Fiches métiers (1)")
	mustNotContain(t, body, "Appellations (")

	// htmx asks for the results only, with the status line out of band.
	w := v.get("/referentiel?q=HTML&type=savoirs", "HX-Request", "true", "HX-Target", "resultats")
	if w.Code != 200 {
		t.Fatalf("fragment: status %d", w.Code)
	}
	frag := w.Body.String()
	mustContain(t, frag, "Savoirs (1)", `hx-swap-oob="true"`, "1 résultat pour « HTML »", "<title>Résultats pour « HTML » – Rechercher dans le ROME – Plateforme du ROME</title>")
	mustNotContain(t, frag, "<html", "<h1")
}

func TestReferentialSearchServiceDown(t *testing.T) {
	ui := newPagesUI(t, nil, nil)
	v := ui.as(auth.RoleModerator, "mona", "")
	body := checkPage(t, v.get("/referentiel?q=x"), 503, "Service indisponible")
	mustContain(t, body, "ne répond pas")
}

func TestFichePage(t *testing.T) {
	ui := newPagesUI(t, &fakeReferential{}, emptyNotifications())
	partner := ui.as(auth.RolePartner, "alice", "opco-2i")

	body := checkPage(t, partner.get("/referentiel/fiches/M1805"), 200, "Fiche M1805 – Développeur / Développeuse web")
	mustContain(t, body, "<strong>Version 61</strong>", "Support à l&#39;entreprise", "Systèmes d&#39;information et de télécommunication",
		"<p>Conçoit, développe et maintient des applications.</p>", "<li>Analyse les besoins</li>", "Bac&#43;2",
		"Transition numérique</dt><dd>Oui", "Emploi réglementé</dt><dd>Non renseigné",
		`<caption id="tableau-appellations">Appellations de la fiche M1805, version 61</caption>`, "<strong>Principale</strong>", "Développeur / Développeuse no-code",
		"Concevoir une application (1)", "Cœur de métier : Émergente", "Faire preuve d&#39;autonomie", "Domaines d&#39;expertise", "HTML",
		"Possibilité de télétravail", `for="fiche-version"`, "Voir la fiche à la version", `<option value="60">Version 60`,
		`href="/referentiel/fiches/M1805/historique"`, `href="/referentiel/fiches/M1805/comparaison?de=60&amp;a=61"`,
		`action="/referentiel/fiches/M1805/suivi"`, "Suivre cette fiche",
		`href="/demandes/nouvelle?codeRome=M1805"`, "Proposer une évolution de cette fiche")
	// Mobilités are ranked.
	if i, j := strings.Index(body, "M1802"), strings.Index(body, "M1806"); i < 0 || j < 0 || i > j {
		t.Errorf("mobilités not in rank order")
	}

	// Moderators do not propose evolutions; the version of the past is time travel.
	mod := ui.as(auth.RoleModerator, "mona", "")
	body = checkPage(t, mod.get("/referentiel/fiches/M1805?version=60"), 200, "Fiche M1805 – Développeur / Développeuse web (version 60)")
	mustContain(t, body, "<strong>Version 60</strong>", "telle qu'elle était à la version 60", `<option value="60" selected>`,
		"Cœur de métier : Principale", "Maquetter une interface")
	mustNotContain(t, body, "Proposer une évolution", "no-code")

	// A lower-case code goes to its address.
	if w := partner.get("/referentiel/fiches/m1805?version=60"); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/referentiel/fiches/M1805?version=60" {
		t.Errorf("lower case: %d %q", w.Code, w.Header().Get("Location"))
	}
}

func TestFichePageErrors(t *testing.T) {
	ui := newPagesUI(t, &fakeReferential{}, emptyNotifications())
	v := ui.as(auth.RolePartner, "alice", "opco-2i")
	mustContain(t, checkPage(t, v.get("/referentiel/fiches/M9999"), 404, "Page introuvable"), "Erreur 404")
	mustContain(t, checkPage(t, v.get("/referentiel/fiches/ZZ"), 404, "Page introuvable"), "n&#39;est pas un code ROME")
	mustContain(t, checkPage(t, v.get("/referentiel/fiches/M1805?version=12"), 404, "Page introuvable"),
		"La fiche M1805 n&#39;existe pas à la version 12", `href="/referentiel/fiches/M1805"`)
	checkPage(t, v.get("/referentiel/fiches/M1805?version=abc"), 400, "Demande incorrecte")
	mustContain(t, checkPage(t, v.get("/referentiel/fiches/M9999/historique"), 404, "Page introuvable"), "Erreur 404")

	// Signed out: to the sign-in page, and back.
	w := httptest.NewRecorder()
	ui.Handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/referentiel/fiches/M1805", nil))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/connexion?retour=%2Freferentiel%2Ffiches%2FM1805" {
		t.Errorf("signed out: %d %q", w.Code, w.Header().Get("Location"))
	}
}

func TestFicheFollow(t *testing.T) {
	notif := newFakeNotifications()
	ui := newPagesUI(t, &fakeReferential{}, notif)
	v := ui.as(auth.RolePartner, "alice", "opco-2i")

	location(t, v.post("/referentiel/fiches/M1805/suivi", nil), "/referentiel/fiches/M1805?message=suivie")
	if got := notif.calls("POST /v1/follows"); len(got) != 1 || got[0] != `{"codeRome":"M1805"}` {
		t.Fatalf("follow calls %q", got)
	}
	body := checkPage(t, v.get("/referentiel/fiches/M1805?message=suivie"), 200, "Fiche M1805 – Développeur / Développeuse web")
	mustContain(t, body, "Vous suivez désormais cet élément", "Vous suivez cette fiche", "Ne plus suivre cette fiche",
		`name="retour" value="/referentiel/fiches/M1805"`)
	mustNotContain(t, body, ">Suivre cette fiche<")

	// Without the form's CSRF token: refused, nothing followed.
	w := v.post("/referentiel/fiches/M1805/suivi", url.Values{"csrf": {"forged"}})
	checkPage(t, w, 403, "Accès refusé")
	if got := notif.calls("POST /v1/follows"); len(got) != 1 {
		t.Errorf("a forged form followed: %q", got)
	}
	checkPage(t, v.post("/referentiel/fiches/X1/suivi", nil), 404, "Page introuvable")
}

func TestFicheHistoryPage(t *testing.T) {
	ui := newPagesUI(t, &fakeReferential{}, emptyNotifications())
	v := ui.as(auth.RoleModerator, "mona", "")
	body := checkPage(t, v.get("/referentiel/fiches/M1805/historique"), 200, "Historique de la fiche M1805")
	mustContain(t, body, "<h1>Historique de la fiche M1805</h1>", "Version 61", "1 déc. 2026", `href="/demandes/req-1"`,
		"<strong>Ajout</strong> · appellation : Développeur / Développeuse no-code", "cœur de métier",
		"cœur de métier : Rédiger un cahier des charges", "Principale → Émergente", "<strong>Modification</strong> · texte — définition", "Conçoit, développe et maintient.",
		"fiche M1802, rang 1", `href="/referentiel/fiches/M1805/comparaison?de=60&amp;a=61"`, `href="/referentiel/fiches/M1805?version=61"`)
}

func TestFicheComparePage(t *testing.T) {
	ui := newPagesUI(t, &fakeReferential{}, emptyNotifications())
	v := ui.as(auth.RolePartner, "alice", "opco-2i")

	for _, path := range []string{"/referentiel/fiches/M1805/comparaison", "/referentiel/fiches/M1805/comparaison?de=60&a=61"} {
		body := checkPage(t, v.get(path), 200, "Comparer deux versions de la fiche M1805")
		mustContain(t, body, `<label class="fr-label" for="comparer-de">Version de départ</label>`, `<label class="fr-label" for="comparer-a">Version d&#39;arrivée</label>`,
			"De la version 60 à la version 61", `<caption id="tableau-resume">Résumé des différences par partie de la fiche</caption>`,
			`<a href="#diff-appellations">Appellations</a>`, "Développeur / Développeuse no-code", "Maquetter une interface",
			"cœur de métier", "<del>Principale</del>", "<ins>Émergente</ins>", "Ajout : ", "Retrait : ")
	}
	// Backwards: what 61 added, 60 does not have.
	body := checkPage(t, v.get("/referentiel/fiches/M1805/comparaison?de=61&a=60"), 200, "Comparer deux versions de la fiche M1805")
	mustContain(t, body, "De la version 61 à la version 60")

	// The same version twice, or one that does not exist: said next to the field.
	body = checkPage(t, v.get("/referentiel/fiches/M1805/comparaison?de=61&a=61"), 422, "Comparer deux versions de la fiche M1805")
	mustContain(t, body, `id="comparer-a-error"`, "différente de la version de départ", `aria-invalid="true"`)
	body = checkPage(t, v.get("/referentiel/fiches/M1805/comparaison?de=7&a=61"), 422, "Comparer deux versions de la fiche M1805")
	mustContain(t, body, `id="comparer-de-error"`, "La version 7 n&#39;existe pas")
	checkPage(t, v.get("/referentiel/fiches/M1805/comparaison?de=x"), 400, "Demande incorrecte")
}

// A large fiche (as H1206, the largest of ROME v460: 121 appellations) stays under 60 KB.
func TestFichePageSize(t *testing.T) {
	big := testFiche(61)
	big.Libelle = "Conception et dessin produits mécaniques et industriels"
	big.Appellations = nil
	for i := range 130 {
		big.Appellations = append(big.Appellations, backend.Appellation{CodeOgr: fmt.Sprint(10000 + i),
			Libelle:      fmt.Sprintf("Dessinateur projeteur / Dessinatrice projeteuse en construction mécanique %d", i),
			LibelleCourt: fmt.Sprintf("Dessinateur projeteur / Dessinatrice projeteuse %d", i), Classification: "SYNONYME"})
	}
	big.Competences.SavoirFaire = nil
	for m := range 20 {
		mc := backend.MacroCompetence{CodeOgr: fmt.Sprint(300000 + m), Libelle: fmt.Sprintf("Concevoir et dessiner des ensembles mécaniques %d", m)}
		for c := range 6 {
			mc.Competences = append(mc.Competences, backend.Item{CodeOgr: fmt.Sprint(120000 + m*10 + c),
				Libelle: fmt.Sprintf("Réaliser les plans de définition d'un produit mécanique %d-%d", m, c), CoeurMetier: ptr("PRINCIPALE")})
		}
		big.Competences.SavoirFaire = append(big.Competences.SavoirFaire, mc)
	}
	big.Savoirs = nil
	for c := range 5 {
		sc := backend.SavoirCategorie{Categorie: fmt.Sprintf("Catégorie de savoirs %d", c)}
		for s := range 12 {
			sc.Savoirs = append(sc.Savoirs, backend.Savoir{Item: backend.Item{CodeOgr: fmt.Sprint(100000 + c*100 + s), Libelle: fmt.Sprintf("Logiciels de conception assistée par ordinateur %d", s)}})
		}
		big.Savoirs = append(big.Savoirs, sc)
	}
	for i := range 10 {
		big.Mobilites = append(big.Mobilites, backend.Mobilite{CodeRome: fmt.Sprintf("H12%02d", i), Libelle: "Conception et dessin de produits électriques et électroniques", Rang: i + 3})
	}
	ref := &fakeReferential{fiche: big}
	ui := newPagesUI(t, ref, emptyNotifications())
	v := ui.as(auth.RolePartner, "alice", "opco-2i")
	w := v.get("/referentiel/fiches/M1805")
	checkPage(t, w, 200, "Fiche M1805 – Conception et dessin produits mécaniques et industriels")
	t.Logf("a fiche with 130 appellations, 120 compétences, 60 savoirs: %d bytes", w.Body.Len())
}

// --- The comparison, a pure function -----------------------------------------------------

func TestDiffFiches(t *testing.T) {
	before, after := testFiche(60), testFiche(61)
	after.Tags.EmploiReglemente = ptr(true)
	after.Mobilites = []backend.Mobilite{{CodeRome: "M1802", Libelle: "Expertise et support en systèmes d'information", Rang: 3}}
	after.Savoirs[0].Savoirs[0].Libelle = "HTML 5"
	d := diffFiches(before, after)

	sections := map[string]ficheDiffSection{}
	for _, s := range d.Sections {
		sections[s.ID] = s
	}
	if d.Empty() {
		t.Fatal("no difference found")
	}
	want := func(id string, added, removed, changed int) ficheDiffSection {
		t.Helper()
		s := sections[id]
		if len(s.Added) != added || len(s.Removed) != removed || len(s.Changed) != changed {
			t.Errorf("%s: %d added, %d removed, %d changed; want %d, %d, %d: %+v", id, len(s.Added), len(s.Removed), len(s.Changed), added, removed, changed, s)
		}
		return s
	}
	want("fiche", 0, 0, 0)
	if s := want("textes", 0, 0, 1); len(s.Changed) == 1 && (s.Changed[0].Libelle != "Définition" || !strings.HasPrefix(s.Changed[0].After, "Conçoit, développe")) {
		t.Errorf("textes: %+v", s.Changed)
	}
	if s := want("indicateurs", 0, 0, 1); len(s.Changed) == 1 && (s.Changed[0].Libelle != "Emploi réglementé" || s.Changed[0].Before != "Non renseigné" || s.Changed[0].After != "Oui") {
		t.Errorf("indicateurs: %+v", s.Changed)
	}
	if s := want("appellations", 1, 0, 0); len(s.Added) == 1 && (s.Added[0].Code != "900001" || s.Added[0].Detail != "Synonyme") {
		t.Errorf("appellations: %+v", s.Added)
	}
	if s := want("competences", 0, 1, 1); len(s.Removed) == 1 && len(s.Changed) == 1 {
		if s.Removed[0].Code != "120002" || s.Removed[0].Detail != "Savoir-faire · Concevoir une application" {
			t.Errorf("removed compétence: %+v", s.Removed[0])
		}
		if c := s.Changed[0]; c.Code != "120001" || c.Field != "cœur de métier" || c.Before != "Principale" || c.After != "Émergente" {
			t.Errorf("changed compétence: %+v", c)
		}
	}
	if s := want("savoirs", 0, 0, 1); len(s.Changed) == 1 && (s.Changed[0].Field != "libellé" || s.Changed[0].After != "HTML 5") {
		t.Errorf("savoirs: %+v", s.Changed)
	}
	want("contextes", 0, 0, 0)
	if s := want("mobilites", 0, 1, 1); len(s.Removed) == 1 && len(s.Changed) == 1 && (s.Removed[0].Code != "M1806" || s.Changed[0].Before != "1" || s.Changed[0].After != "3") {
		t.Errorf("mobilités: %+v", s)
	}
	if got := len(d.Changed()); got != 6 {
		t.Errorf("%d sections changed, want 6", got)
	}

	// The same fiche: nothing. A fiche that did not exist: all of it is added.
	if d := diffFiches(testFiche(61), testFiche(61)); !d.Empty() {
		t.Errorf("same fiche: %+v", d.Changed())
	}
	d = diffFiches(nil, testFiche(60))
	for _, s := range d.Sections {
		if len(s.Removed) > 0 {
			t.Errorf("new fiche: %s has removals", s.ID)
		}
	}
	if n := len(sections); n != 8 {
		t.Errorf("%d sections, want 8", n)
	}
	for _, s := range d.Sections {
		if s.ID == "appellations" && len(s.Added) != 2 {
			t.Errorf("new fiche: %d appellations added, want 2", len(s.Added))
		}
	}
	if d := diffFiches(testFiche(60), nil); d.Empty() {
		t.Error("a fiche gone: no difference")
	}
}

func TestChangeValueText(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{nil, "(vide)"}, {"", "(vide)"}, {"EMERGENTE", "Émergente"}, {true, "Oui"}, {false, "Non"}, {float64(3), "3"},
		{map[string]any{"codeRome": "M1802", "rang": float64(2)}, "fiche M1802, rang 2"},
		{map[string]any{"libelle": "X", "libelleCourt": "Y"}, "libellé : X, libellé court : Y"},
	} {
		if got := changeValueText(c.in); got != c.want {
			t.Errorf("changeValueText(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestBackWithMessage(t *testing.T) {
	for in, want := range map[string]string{
		"/notifications":                "/notifications?message=lue",
		"/notifications?curseur=12":     "/notifications?curseur=12&message=lue",
		"https://evil.example/x":        "/?message=lue",
		"//evil.example/x":              "/?message=lue",
		"/administration?message=autre": "/administration?message=lue",
	} {
		if got := backWithMessage(in, "lue"); got != want {
			t.Errorf("backWithMessage(%q) = %q, want %q", in, got, want)
		}
	}
}

// readAll is a request's body as a string (the fakes record what they got).
func readAll(r *http.Request) string {
	b, _ := io.ReadAll(r.Body)
	return strings.TrimSpace(string(b))
}
