package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
)

// The fake services the test console (pages_test.go) is wired to.

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
	if version >= 62 {
		f.Appellations = append(f.Appellations, backend.Appellation{CodeOgr: "900002", Libelle: "Développeur / Développeuse low-code", LibelleCourt: "Développeur low-code", Classification: "SYNONYME"})
	}
	if version >= 61 {
		f.Appellations = append(f.Appellations, backend.Appellation{CodeOgr: "900001", Libelle: "Développeur / Développeuse no-code", LibelleCourt: "Développeur no-code", Classification: "SYNONYME"})
		f.Competences.SavoirFaire[0].Competences = []backend.Item{{CodeOgr: "120001", Libelle: "Rédiger un cahier des charges", CoeurMetier: ptr("EMERGENTE")}}
		f.Definition = "Conçoit, développe et maintient des applications.\nAnalyse les besoins\nRédige la documentation"
	}
	return f
}

// nextRelease answers the referential's 409 when there are no release trains.
func (f *fakeReferential) nextRelease(w http.ResponseWriter) bool {
	if len(f.releases) == 0 {
		problem(w, 409, refclient.CodeReleaseTrainsOff, "this deployment publishes every change set at once")
		return false
	}
	return true
}

// fakeReferential answers the referential's routes the console calls, with M1805 at
// versions 60 and 61.
type fakeReferential struct {
	mu     sync.Mutex
	tokens []string
	// fiche overrides the fiche served (for size checks).
	fiche *backend.Fiche
	// provenanceDown makes the provenance route fail.
	provenanceDown bool
	// releases are the release trains, the next one first; none: the deployment
	// publishes every accepted request at once.
	releases []backend.Release
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
		if s := r.URL.Query().Get("version"); s == "next" {
			if !f.nextRelease(w) {
				return
			}
			v = 62 // the staged change sets on top of 61
		} else if s != "" {
			fmt.Sscan(s, &v)
		}
		if r.PathValue("code") != "M1805" || v < 60 || v > 62 {
			problem(w, 404, "fiche_not_found", "fiche does not exist")
			return
		}
		fc := testFiche(v)
		if f.fiche != nil {
			fc = f.fiche
		}
		writeJSON(w, 200, fc)
	})
	mux.HandleFunc("GET /v1/releases/next", func(w http.ResponseWriter, r *http.Request) {
		if f.nextRelease(w) {
			writeJSON(w, 200, f.releases[0])
		}
	})
	mux.HandleFunc("GET /v1/releases", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"items": f.releases})
	})
	mux.HandleFunc("GET /v1/releases/{n}", func(w http.ResponseWriter, r *http.Request) {
		for _, rel := range f.releases {
			if fmt.Sprint(rel.Number) == r.PathValue("n") {
				writeJSON(w, 200, rel)
				return
			}
		}
		problem(w, 404, "release_not_found", "no such release")
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
	mux.HandleFunc("GET /v1/fiches/{code}/provenance", func(w http.ResponseWriter, r *http.Request) {
		if f.provenanceDown {
			problem(w, 500, "internal", "the database is away")
			return
		}
		v := 61
		if r.URL.Query().Get("version") == "60" {
			v = 60
		}
		imported := map[string]any{"version": 60, "source": "import", "label": "ROME 4.0 version 60 - 25M09", "publishedAt": "2025-09-18T00:00:00Z"}
		req1 := map[string]any{"version": 61, "source": "changeset", "label": "Demande req-1", "publishedAt": "2026-12-01T10:00:00Z", "changesetId": "cs-1", "requestId": "req-1"}
		changed := func(from map[string]any) map[string]any {
			if v == 60 {
				return imported
			}
			return from
		}
		els := []map[string]any{
			{"kind": "fiche", "codeRome": "M1805", "libelle": "Développeur / Développeuse web", "introduced": imported, "lastChanged": imported},
			{"kind": "texte", "field": "definition", "introduced": imported, "lastChanged": changed(req1)},
			{"kind": "appellation", "codeOgr": "38584", "libelle": "Développeur / Développeuse web", "introduced": imported, "lastChanged": imported},
			{"kind": "competence", "codeOgr": "120001", "libelle": "Rédiger un cahier des charges", "introduced": imported, "lastChanged": changed(req1)},
		}
		if v == 61 {
			els = append(els,
				map[string]any{"kind": "appellation", "codeOgr": "900001", "libelle": "Développeur / Développeuse no-code", "introduced": req1, "lastChanged": req1},
				map[string]any{"kind": "mobilite", "codeRome": "M1802", "libelle": "Expertise", "introduced": req1, "lastChanged": req1})
		}
		writeJSON(w, 200, map[string]any{"codeRome": "M1805", "libelle": "Développeur / Développeuse web", "version": v, "elements": els})
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

// readAll is a request's body as a string (the fakes record what they got).
func readAll(r *http.Request) string {
	b, _ := io.ReadAll(r.Body)
	return strings.TrimSpace(string(b))
}
