package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

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

// fakeDirectory answers the intake's directory routes (organisations and people) from
// memory, with the intake's problems for what the tests send wrong, and records the
// changes it is sent ("METHOD /path body").
type fakeDirectory struct {
	mu     sync.Mutex
	orgs   map[string]map[string]any
	people map[string]map[string]any
	changeLog
}

var (
	fakeOrgID  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)
	fakeDomain = regexp.MustCompile(`^[A-N]([0-9]{4})?$`)
	fakeKinds  = []string{"opco", "branche_professionnelle", "institution", "france_travail"}
	fakeRoles  = []string{"partner", "moderator", "admin"}
)

func newFakeDirectory() *fakeDirectory {
	at := "2026-12-01T09:00:00Z"
	return &fakeDirectory{
		orgs: map[string]map[string]any{
			"opco-2i":     {"id": "opco-2i", "name": "OPCO 2i", "kind": "opco", "domains": []any{"H", "M1805"}, "active": true, "createdAt": at, "updatedAt": at},
			"branche-btp": {"id": "branche-btp", "name": "Branche du BTP", "kind": "branche_professionnelle", "domains": []any{"F"}, "active": false, "createdAt": at, "updatedAt": at},
		},
		people: map[string]map[string]any{
			"ada":   {"sub": "ada", "name": "Ada Admin", "role": "admin", "email": "ada@francetravail.example", "active": true, "orgActive": true, "source": "dev_token", "lastSeenAt": "2026-12-04T08:00:00Z", "createdAt": at, "updatedAt": at},
			"alice": {"sub": "alice", "name": "Alice Martin", "role": "partner", "org": "opco-2i", "email": "alice@opco.example", "active": true, "orgActive": true, "source": "admin", "createdAt": at, "updatedAt": at},
			"carla": {"sub": "carla", "name": "Carla Btp", "role": "partner", "org": "branche-btp", "active": true, "orgActive": false, "source": "import", "createdAt": at, "updatedAt": at},
			"mona":  {"sub": "mona", "name": "Mona Lefèvre", "role": "moderator", "email": "mona@francetravail.example", "active": false, "orgActive": true, "source": "admin", "createdAt": at, "updatedAt": at},
		},
	}
}

// changeLog records the changes a fake is sent, "METHOD /path body" each.
type changeLog struct {
	mu      sync.Mutex
	entries []string
}

func (l *changeLog) record(r *http.Request, body string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, r.Method+" "+r.URL.Path+" "+body)
}

// changed are the bodies of the changes sent as key ("METHOD /path"), in order.
func (l *changeLog) changed(key string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, c := range l.entries {
		if body, ok := strings.CutPrefix(c, key+" "); ok {
			out = append(out, body)
		}
	}
	return out
}

func (f *fakeDirectory) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	me, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer token-")
	if !ok {
		problem(w, 401, "unauthenticated", "no token")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var body map[string]any
	if r.Method != http.MethodGet {
		raw := readAll(r)
		f.record(r, raw)
		_ = json.Unmarshal([]byte(raw), &body)
		if strings.HasSuffix(r.URL.Path, ":import") {
			f.importPeople(w, r, raw)
			return
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/organisations", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"items": sortedValues(f.orgs)})
	})
	mux.HandleFunc("POST /v1/organisations", func(w http.ResponseWriter, r *http.Request) {
		var errs []map[string]string
		if !fakeOrgID.MatchString(str(body["id"])) {
			errs = append(errs, map[string]string{"field": "id", "message": "must be 2 to 63 lower-case letters, digits or hyphens, such as opco-2i"})
		}
		errs = append(errs, checkOrg(body)...)
		if len(errs) > 0 {
			problem(w, 422, "invalid_organisation", "The request is invalid; see errors.", errs...)
			return
		}
		id := str(body["id"])
		if existing, ok := f.orgs[id]; ok {
			if existing["name"] != body["name"] {
				problem(w, 409, "organisation_exists", "Another organisation has this id.", map[string]string{"field": "id", "message": "is taken"})
				return
			}
			writeJSON(w, 200, existing)
			return
		}
		body["active"] = true
		f.orgs[id] = body
		writeJSON(w, 201, body)
	})
	mux.HandleFunc("PATCH /v1/organisations/{id}", func(w http.ResponseWriter, r *http.Request) {
		o, ok := f.orgs[r.PathValue("id")]
		if !ok {
			problem(w, 404, "organisation_not_found", "No organisation of the directory has this id.")
			return
		}
		if errs := checkOrg(body); len(errs) > 0 {
			problem(w, 422, "invalid_organisation", "The request is invalid; see errors.", errs...)
			return
		}
		for k, v := range body {
			o[k] = v
		}
		writeJSON(w, 200, o)
	})
	mux.HandleFunc("GET /v1/people", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("cursor") == "bad" {
			problem(w, 422, "invalid_query", "The cursor is invalid.", map[string]string{"field": "cursor", "message": "must be a nextCursor returned by this listing"})
			return
		}
		limit := 100
		fmt.Sscan(q.Get("limit"), &limit)
		items := []map[string]any{}
		for _, p := range sortedValues(f.people) {
			if (q.Get("role") != "" && p["role"] != q.Get("role")) || (q.Get("org") != "" && p["org"] != q.Get("org")) ||
				(q.Get("active") != "" && fmt.Sprint(p["active"]) != q.Get("active")) || str(p["sub"]) <= q.Get("cursor") {
				continue
			}
			items = append(items, p)
		}
		next := ""
		if len(items) > limit {
			items, next = items[:limit], str(items[limit-1]["sub"])
		}
		writeJSON(w, 200, map[string]any{"items": items, "nextCursor": next})
	})
	mux.HandleFunc("GET /v1/people/{sub}", func(w http.ResponseWriter, r *http.Request) {
		if p, ok := f.people[r.PathValue("sub")]; ok {
			writeJSON(w, 200, p)
			return
		}
		problem(w, 404, "person_not_found", "No person of the directory has this subject.")
	})
	mux.HandleFunc("POST /v1/people", func(w http.ResponseWriter, r *http.Request) {
		if errs := f.checkPerson(body); len(errs) > 0 {
			problem(w, 422, "invalid_person", "The request is invalid; see errors.", errs...)
			return
		}
		sub := str(body["sub"])
		if _, ok := f.people[sub]; ok {
			problem(w, 409, "person_exists", "Another person has this subject.", map[string]string{"field": "sub", "message": "is taken"})
			return
		}
		body["active"], body["orgActive"], body["source"], body["createdAt"] = true, true, "admin", "2026-12-05T10:00:00Z"
		f.people[sub] = body
		writeJSON(w, 201, body)
	})
	mux.HandleFunc("PATCH /v1/people/{sub}", func(w http.ResponseWriter, r *http.Request) {
		p, ok := f.people[r.PathValue("sub")]
		if !ok {
			problem(w, 404, "person_not_found", "No person of the directory has this subject.")
			return
		}
		if r.PathValue("sub") == me && (body["active"] == false || (body["role"] != nil && body["role"] != "admin")) {
			problem(w, 409, "own_admin_access", "An admin cannot deactivate themselves or give up their own admin role.")
			return
		}
		next := map[string]any{}
		for k, v := range p {
			next[k] = v
		}
		for k, v := range body {
			next[k] = v
		}
		// An absence's last day is kept as the midnight that ends it; "" ends it.
		if until, ok := body["absentUntil"].(string); ok {
			if day, err := time.Parse(time.DateOnly, until); err == nil {
				next["absentUntil"] = day.AddDate(0, 0, 1).Format(time.RFC3339)
			} else {
				delete(next, "absentUntil")
			}
		}
		errs := f.checkPerson(next)
		if d := str(body["delegate"]); d != "" && (f.people[d] == nil || f.people[d]["active"] != true || f.people[d]["role"] == "partner") {
			errs = append(errs, map[string]string{"field": "delegate", "message": "must be an active moderator or admin"})
		}
		if len(errs) > 0 {
			problem(w, 422, "invalid_person", "The request is invalid; see errors.", errs...)
			return
		}
		f.people[r.PathValue("sub")] = next
		writeJSON(w, 200, next)
	})
	mux.ServeHTTP(w, r)
}

// checkOrg checks an organisation's name, kind and domains, as far as body names them.
func checkOrg(body map[string]any) []map[string]string {
	var errs []map[string]string
	if name, ok := body["name"]; ok && strings.TrimSpace(str(name)) == "" {
		errs = append(errs, map[string]string{"field": "name", "message": "is required (a single-line name of at most 200 characters)"})
	}
	if kind, ok := body["kind"]; ok && !slices.Contains(fakeKinds, str(kind)) {
		errs = append(errs, map[string]string{"field": "kind", "message": "must be one of " + strings.Join(fakeKinds, ", ")})
	}
	domains, _ := body["domains"].([]any)
	for i, d := range domains {
		if !fakeDomain.MatchString(str(d)) {
			errs = append(errs, map[string]string{"field": fmt.Sprintf("domains[%d]", i), "message": "must be a grand domaine (a letter A to N) or a code ROME such as M1805"})
		}
	}
	return errs
}

func (f *fakeDirectory) checkPerson(p map[string]any) []map[string]string {
	var errs []map[string]string
	if str(p["sub"]) == "" || strings.ContainsAny(str(p["sub"]), " /") {
		errs = append(errs, map[string]string{"field": "sub", "message": "must be 1 to 255 printable ASCII characters, without space or slash (the token's sub claim)"})
	}
	if strings.TrimSpace(str(p["name"])) == "" {
		errs = append(errs, map[string]string{"field": "name", "message": "is required (a single-line name of at most 200 characters)"})
	}
	if e := str(p["email"]); e != "" && !strings.Contains(e, "@") {
		errs = append(errs, map[string]string{"field": "email", "message": "must be an e-mail address such as name@example.org"})
	}
	if !slices.Contains(fakeRoles, str(p["role"])) {
		errs = append(errs, map[string]string{"field": "role", "message": "must be one of partner, moderator, admin"})
	}
	domains, _ := p["domains"].([]any)
	for i, d := range domains {
		if !fakeDomain.MatchString(str(d)) {
			errs = append(errs, map[string]string{"field": fmt.Sprintf("domains[%d]", i), "message": "must be a grand domaine (a letter A to N) or a code ROME such as M1805"})
		}
	}
	switch org := str(p["org"]); {
	case org == "" && p["role"] == "partner":
		errs = append(errs, map[string]string{"field": "org", "message": "is required for the partner role"})
	case org != "" && f.orgs[org] == nil:
		errs = append(errs, map[string]string{"field": "org", "message": "names no organisation of the directory (create it with POST /v1/organisations)"})
	}
	return errs
}

// importPeople answers POST /v1/people:import: a header line with sub, name and role, then
// one person per line.
func (f *fakeDirectory) importPeople(w http.ResponseWriter, r *http.Request, file string) {
	if r.Header.Get("Content-Type") != "text/csv" {
		problem(w, 415, "unsupported_media_type", "Send the people as text/csv.")
		return
	}
	rows := strings.Split(strings.ReplaceAll(file, "\r\n", "\n"), "\n")
	sep := ","
	if strings.Count(rows[0], ";") > strings.Count(rows[0], ",") {
		sep = ";"
	}
	cols := map[string]int{}
	for i, c := range strings.Split(rows[0], sep) {
		cols[strings.TrimSpace(c)] = i
	}
	if _, ok := cols["role"]; !ok {
		problem(w, 422, "invalid_import", `The header line lacks the column "role".`)
		return
	}
	type line struct {
		Line    int                 `json:"line"`
		Sub     string              `json:"sub"`
		Outcome string              `json:"outcome"`
		Errors  []map[string]string `json:"errors,omitempty"`
	}
	var (
		lines              []line
		created, unchanged int
		refused            bool
		toCreate           []map[string]any
	)
	for i, row := range rows[1:] {
		if strings.TrimSpace(row) == "" {
			continue
		}
		cells := strings.Split(row, sep)
		get := func(name string) string {
			if j, ok := cols[name]; ok && j < len(cells) {
				return strings.TrimSpace(cells[j])
			}
			return ""
		}
		p := map[string]any{"sub": get("sub"), "name": get("name"), "role": get("role"), "email": get("email"), "org": get("org")}
		l := line{Line: i + 2, Sub: get("sub"), Outcome: "created", Errors: f.checkPerson(p)}
		switch existing := f.people[l.Sub]; {
		case len(l.Errors) > 0:
			l.Outcome, refused = "refused", true
		case existing != nil:
			l.Outcome = "unchanged"
			unchanged++
		default:
			created++
			p["active"], p["orgActive"], p["source"], p["createdAt"] = true, true, "import", "2026-12-05T10:00:00Z"
			toCreate = append(toCreate, p)
		}
		lines = append(lines, l)
	}
	if refused {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(422)
		_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "status": 422, "code": "invalid_import",
			"detail": "Lines of the file are refused: nothing was imported; see lines.", "lines": lines})
		return
	}
	dryRun := r.URL.Query().Get("dryRun") == "true"
	if !dryRun {
		for _, p := range toCreate {
			f.people[str(p["sub"])] = p
		}
	}
	writeJSON(w, 200, map[string]any{"dryRun": dryRun, "created": created, "unchanged": unchanged, "lines": lines})
}

func sortedValues(m map[string]map[string]any) []map[string]any {
	keys := slices.Sorted(maps.Keys(m))
	out := make([]map[string]any, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// fakeIdeas answers the intake's ideas routes from memory (anyone may send one; the ROME
// team sees them all, a partner those handed to their organisation, without the author's
// address), and serves the rest from the fake directory, whose organisations it hands
// ideas to. It records what it is sent ("METHOD /path body") and the sending's headers.
type fakeIdeas struct {
	dir   *fakeDirectory
	mu    sync.Mutex
	ideas map[string]map[string]any
	changeLog
	// sent are the headers of each POST /v1/ideas.
	sent []http.Header
}

func newFakeIdeas(dir *fakeDirectory) *fakeIdeas {
	at := "2026-12-03T08:30:00Z"
	return &fakeIdeas{dir: dir, ideas: map[string]map[string]any{
		"idea_000000000000000000000001": {"id": "idea_000000000000000000000001", "status": "new", "text": "Les chauffeurs de navettes autonomes manquent.\nIls sont déjà 200.",
			"codeRome": "M1805", "email": "lecteur@example.org", "createdAt": at, "updatedAt": at},
		"idea_000000000000000000000002": {"id": "idea_000000000000000000000002", "status": "new", "text": "Une idée sans adresse.", "createdAt": at, "updatedAt": at},
		"idea_000000000000000000000003": {"id": "idea_000000000000000000000003", "status": "handed_over", "text": "Le métier de cordiste évolue.", "codeRome": "M1805",
			"email": "auteur@example.org", "org": "opco-2i", "handledBy": "mona", "createdAt": at, "updatedAt": at},
	}}
}

func (f *fakeIdeas) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/v1/ideas") {
		f.dir.ServeHTTP(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var body map[string]string
	if r.Method == http.MethodPost {
		raw := readAll(r)
		f.record(r, raw)
		_ = json.Unmarshal([]byte(raw), &body)
	}
	if r.Method == http.MethodPost && r.URL.Path == "/v1/ideas" {
		f.sent = append(f.sent, r.Header.Clone())
		f.submit(w, body)
		return
	}
	me, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer token-")
	if !ok {
		problem(w, 401, "unauthenticated", "no token")
		return
	}
	f.dir.mu.Lock()
	org := ""
	if p := f.dir.people[me]; p != nil && p["role"] == "partner" {
		org = str(p["org"])
	}
	orgs := f.dir.orgs
	f.dir.mu.Unlock()
	// visible is the idea as the caller sees it, nil when they do not.
	visible := func(i map[string]any) map[string]any {
		if i == nil || (org != "" && i["org"] != org) {
			return nil
		}
		out := maps.Clone(i)
		if org != "" {
			delete(out, "email")
		}
		return out
	}
	if r.Method == http.MethodGet && r.URL.Path == "/v1/ideas" {
		q := r.URL.Query()
		if q.Get("cursor") == "bad" {
			problem(w, 422, "invalid_query", "The cursor is invalid.", map[string]string{"field": "cursor", "message": "must be a nextCursor returned by this listing"})
			return
		}
		items := []map[string]any{}
		for _, i := range sortedValues(f.ideas) {
			if v := visible(i); v != nil && (q.Get("status") == "" || i["status"] == q.Get("status")) {
				items = append(items, v)
			}
		}
		writeJSON(w, 200, map[string]any{"items": items})
		return
	}
	id, action, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v1/ideas/"), "/")
	idea := f.ideas[id]
	if visible(idea) == nil {
		problem(w, 404, "idea_not_found", "No idea with this id is visible to the caller.")
		return
	}
	status := str(idea["status"])
	transition := func(allowed ...string) bool {
		if !slices.Contains(allowed, status) {
			problem(w, 409, "invalid_transition", "Not possible in the idea's status.")
			return false
		}
		return true
	}
	required := func(field, code string) bool {
		if strings.TrimSpace(body[field]) == "" {
			problem(w, 422, code, "The request is invalid; see errors.", map[string]string{"field": field, "message": "is required (a text of at most 2000 characters)"})
			return false
		}
		return true
	}
	switch action {
	case "":
	case "dismiss":
		if !transition("new") || !required("reason", "invalid_dismissal") {
			return
		}
		idea["status"], idea["reason"], idea["handledBy"] = "dismissed", body["reason"], me
	case "reply":
		if !transition("new") {
			return
		}
		if str(idea["email"]) == "" {
			problem(w, 409, "idea_without_email", "The author left no address.")
			return
		}
		if !required("text", "invalid_reply") {
			return
		}
		idea["status"], idea["reply"], idea["handledBy"] = "replied", body["text"], me
	case "handover":
		if !transition("new", "replied") {
			return
		}
		o := orgs[body["org"]]
		if o == nil || o["active"] != true {
			problem(w, 422, "invalid_handover", "The handover is invalid.", map[string]string{"field": "org", "message": "names no active organisation of the directory"})
			return
		}
		code := str(idea["codeRome"])
		domains, _ := o["domains"].([]any)
		if code != "" && !slices.ContainsFunc(domains, func(d any) bool { return d == code || d == code[:1] }) {
			problem(w, 422, "invalid_handover", "The handover is invalid.", map[string]string{"field": "org", "message": "has no domain covering " + code + " (its domains: F)"})
			return
		}
		idea["status"], idea["org"], idea["handledBy"] = "handed_over", body["org"], me
	case "request":
		if !required("requestId", "invalid_filing") {
			return
		}
		if body["requestId"] == "inconnue" {
			problem(w, 404, "request_not_found", "No request with this id is visible to the caller.")
			return
		}
		idea["requestId"] = body["requestId"]
	default:
		problem(w, 404, "route_not_found", "no such route")
		return
	}
	writeJSON(w, 200, visible(idea))
}

// submit answers POST /v1/ideas: a robot's idea (the honeypot filled in) is answered as
// any other and not kept; the address flood@example.org has sent too many.
func (f *fakeIdeas) submit(w http.ResponseWriter, body map[string]string) {
	var errs []map[string]string
	if strings.TrimSpace(body["text"]) == "" {
		errs = append(errs, map[string]string{"field": "text", "message": "is required (a text of at most 5000 characters)"})
	}
	if c := body["codeRome"]; c != "" && !regexp.MustCompile(`^[A-N][0-9]{4}$`).MatchString(c) {
		errs = append(errs, map[string]string{"field": "codeRome", "message": "must be a code ROME such as M1805"})
	}
	if c := body["codeOgr"]; c != "" && !regexp.MustCompile(`^[0-9]+$`).MatchString(c) {
		errs = append(errs, map[string]string{"field": "codeOgr", "message": "must be a code OGR (digits) such as 10944"})
	}
	if e := body["email"]; e != "" && !strings.Contains(e, "@") {
		errs = append(errs, map[string]string{"field": "email", "message": "must be an e-mail address such as name@example.org"})
	}
	if len(errs) > 0 {
		problem(w, 422, "invalid_idea", "The idea is invalid; see errors.", errs...)
		return
	}
	if body["email"] == "flood@example.org" {
		w.Header().Set("Retry-After", "3600")
		problem(w, 429, "rate_limited", "Too many ideas from this address.")
		return
	}
	id := fmt.Sprintf("idea_%024x", len(f.ideas)+1)
	if body["website"] == "" {
		at := "2026-12-05T10:00:00Z"
		f.ideas[id] = map[string]any{"id": id, "status": "new", "text": body["text"], "codeRome": body["codeRome"], "codeOgr": body["codeOgr"],
			"email": body["email"], "createdAt": at, "updatedAt": at}
	}
	writeJSON(w, 202, map[string]string{"id": id})
}
