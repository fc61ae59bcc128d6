package api_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/httpx/openapitest"
	"github.com/plateforme-rome/rome/services/referential/internal/api"
	"github.com/plateforme-rome/rome/services/referential/internal/importer"
	"github.com/plateforme-rome/rome/services/referential/internal/reftest"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/services/referential/internal/romedata"
)

// env is a referential service on the real v460, backed by a fresh database. Every
// exchange of the tests is checked against the OpenAPI document the service serves.
type env struct {
	t      *testing.T
	srv    *reftest.Server
	client *http.Client
}

func newEnv(t *testing.T, d database.Dialect) *env {
	return newEnvOn(t, reftest.Start(t, d))
}

// newEnvOn is the env of a referential started on its own (reftest.StartWith).
func newEnvOn(t *testing.T, srv *reftest.Server) *env {
	v := openapitest.NewValidator(t, openAPIDocument(t, srv.Config.Handler))
	return &env{t: t, srv: srv, client: &http.Client{Transport: v.Transport(nil)}}
}

// openAPIDocument is the document a referential router serves.
func openAPIDocument(t *testing.T, h http.Handler) []byte {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d", w.Code)
	}
	return w.Body.Bytes()
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	r := api.Router(api.Deps{})
	openapitest.Check(t, openAPIDocument(t, r), api.DocumentedRoutes(r.Routes()))
}

func (e *env) token(role auth.Role) string { return e.srv.Token(e.t, role) }

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not JSON (%d): %s", r.status, r.body)
	}
	return m
}

func (e *env) do(method, path, token string, body any, header ...string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

func (e *env) get(path string) resp { return e.do(http.MethodGet, path, "", nil) }

func expect(t *testing.T, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
}

func problemCode(t *testing.T, r resp) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("content type %q for a %d", ct, r.status)
	}
	code, _ := r.json(t)["code"].(string)
	return code
}

func TestReadAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, database.Postgres)

	t.Run("version and stats", func(t *testing.T) {
		r := e.get("/v1/version")
		expect(t, r, 200)
		v := r.json(t)
		if v["version"].(float64) != 60 || v["label"] != "ROME 4.0 version 60 - 25M09" || v["lastModifiedDate"] == nil {
			t.Errorf("version %v", v)
		}
		s := e.get("/v1/stats").json(t)
		want := map[string]float64{"fiches": 1584, "appellations": 13120, "competences": 17810, "macroCompetences": 507, "savoirs": 15354,
			"contextesTravail": 179, "liensFicheItem": 118923, "mobilites": 14912, "textes": 11980, "grandsDomaines": 14, "domainesProfessionnels": 110}
		for k, n := range want {
			if s[k] != n {
				t.Errorf("stats %s = %v, want %v", k, s[k], n)
			}
		}
	})

	t.Run("fiche, ETag and 304", func(t *testing.T) {
		r := e.get("/v1/fiches/M1805")
		expect(t, r, 200)
		f := r.json(t)
		if f["codeRome"] != "M1805" || f["libelle"] != "Développeur / Développeuse informatique" {
			t.Errorf("fiche %v %v", f["codeRome"], f["libelle"])
		}
		etag := r.header.Get("ETag")
		if etag == "" {
			t.Fatal("no ETag")
		}
		expect(t, e.do("GET", "/v1/fiches/M1805", "", nil, "If-None-Match", etag), 304)
		expect(t, e.do("GET", "/rome-metiers/v1/metiers/metier/M1805", "", nil, "If-None-Match", etag), 304)
	})

	t.Run("fiche documents gzip-compressed for the clients that accept it", func(t *testing.T) {
		for _, path := range []string{"/v1/fiches/M1805", "/rome-metiers/v1/metiers/metier/M1805", "/rome-fiches-metiers/v1/fiches-rome/fiche-metier/M1805"} {
			plain := e.do("GET", path, "", nil, "Accept-Encoding", "identity")
			expect(t, plain, 200)
			zipped := e.do("GET", path, "", nil, "Accept-Encoding", "br, gzip;q=0.8")
			expect(t, zipped, 200)
			if plain.header.Get("Content-Encoding") != "" || zipped.header.Get("Content-Encoding") != "gzip" ||
				plain.header.Get("Vary") != "Accept-Encoding" || zipped.header.Get("Vary") != "Accept-Encoding" {
				t.Fatalf("%s: encodings %q / %q, Vary %q / %q", path, plain.header.Get("Content-Encoding"), zipped.header.Get("Content-Encoding"),
					plain.header.Get("Vary"), zipped.header.Get("Vary"))
			}
			zr, err := gzip.NewReader(bytes.NewReader(zipped.body))
			if err != nil {
				t.Fatal(err)
			}
			inflated, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(inflated, plain.body) || len(zipped.body)*3 > len(plain.body) {
				t.Fatalf("%s: gzip body of %d bytes inflates to %d, plain %d (%v)", path, len(zipped.body), len(inflated), len(plain.body), err)
			}
			// Each representation has its own ETag: a cache never answers one with the other.
			plainTag, zippedTag := plain.header.Get("ETag"), zipped.header.Get("ETag")
			if plainTag == "" || zippedTag == "" || plainTag == zippedTag {
				t.Fatalf("%s: ETags %q and %q", path, plainTag, zippedTag)
			}
			expect(t, e.do("GET", path, "", nil, "Accept-Encoding", "gzip", "If-None-Match", zippedTag), 304)
			expect(t, e.do("GET", path, "", nil, "Accept-Encoding", "identity", "If-None-Match", plainTag), 304)
			expect(t, e.do("GET", path, "", nil, "Accept-Encoding", "identity", "If-None-Match", zippedTag), 200)
			if r := e.do("GET", path, "", nil, "Accept-Encoding", "gzip;q=0"); r.header.Get("Content-Encoding") != "" || !bytes.Equal(r.body, plain.body) {
				t.Errorf("%s: gzip refused with q=0 but sent %q", path, r.header.Get("Content-Encoding"))
			}
		}
		// A projection (champs) is built per request: sent plain.
		if r := e.do("GET", "/rome-metiers/v1/metiers/metier/M1805?champs=code,libelle", "", nil, "Accept-Encoding", "gzip"); r.status != 200 || r.header.Get("Content-Encoding") != "" {
			t.Errorf("projection: %d %q", r.status, r.header.Get("Content-Encoding"))
		}
	})

	t.Run("absent and malformed fiches are 404 problems", func(t *testing.T) {
		for _, code := range []string{"Z9999", "M9999", "m1805", "M18051"} {
			r := e.get("/v1/fiches/" + code)
			expect(t, r, 404)
			if c := problemCode(t, r); c != "fiche_not_found" {
				t.Errorf("%s: code %q", code, c)
			}
		}
	})

	t.Run("list with filters and cursor pagination", func(t *testing.T) {
		seen := map[string]bool{}
		path := "/v1/fiches?domaineProfessionnel=M18&limit=10"
		for pages := 0; path != ""; pages++ {
			l := e.get(path).json(t)
			for _, it := range l["items"].([]any) {
				code := it.(map[string]any)["codeRome"].(string)
				if !strings.HasPrefix(code, "M18") || seen[code] {
					t.Fatalf("unexpected or repeated %s", code)
				}
				seen[code] = true
			}
			path = ""
			if next, ok := l["nextCursor"].(string); ok {
				path = "/v1/fiches?domaineProfessionnel=M18&limit=10&cursor=" + next
			}
			if pages > 20 {
				t.Fatal("pagination does not end")
			}
		}
		if !seen["M1805"] || len(seen) < 20 {
			t.Errorf("%d fiches in M18", len(seen))
		}
		q := e.get("/v1/fiches?q=developpeur").json(t)
		if len(q["items"].([]any)) == 0 {
			t.Error("text filter found nothing for developpeur")
		}
		r := e.get("/v1/fiches?limit=500")
		expect(t, r, 422)
	})

	t.Run("items", func(t *testing.T) {
		a := e.get("/v1/appellations/11987").json(t)
		if a["codeRome"] != "A1101" {
			t.Errorf("appellation %v", a)
		}
		c := e.get("/v1/competences/100023").json(t)
		if c["libelle"] != "Abattre un arbre" || len(c["fiches"].([]any)) == 0 {
			t.Errorf("competence %v", c)
		}
		s := e.get("/v1/savoirs/100007").json(t)
		if s["libelle"] != "Techniques de soudage" {
			t.Errorf("savoir %v", s)
		}
		ctx := e.get("/v1/contextes-travail").json(t)
		if n := len(ctx["items"].([]any)); n != 179 {
			t.Errorf("%d contextes", n)
		}
		expect(t, e.get("/v1/appellations/999999999"), 404)
	})

	t.Run("search on realistic queries", func(t *testing.T) {
		cases := map[string]string{
			"boulangere":     "Boulanger",
			"developeur web": "Développeur / Développeuse web",
			"aide soignante": "Aide-soignant",
			"Infirmière":     "Infirmier",
		}
		for q, wantPrefix := range cases {
			r := e.get("/v1/search/appellations?q=" + urlQuery(q))
			expect(t, r, 200)
			items := r.json(t)["items"].([]any)
			if len(items) == 0 {
				t.Errorf("%q: no hit", q)
				continue
			}
			top := items[0].(map[string]any)
			if !strings.HasPrefix(top["libelle"].(string), wantPrefix) || top["codeRome"] == "" || top["fiche"] == nil {
				t.Errorf("%q: top hit %v", q, top)
			}
		}
		comp := e.get("/v1/search/competences?q=abattre+arbre").json(t)["items"].([]any)
		if len(comp) == 0 || comp[0].(map[string]any)["libelle"] != "Abattre un arbre" {
			t.Errorf("competence search: %v", comp)
		}
		sav := e.get("/v1/search/savoirs?q=soudage").json(t)["items"].([]any)
		if len(sav) == 0 {
			t.Error("savoir search found nothing for soudage")
		}
		expect(t, e.get("/v1/search/appellations?q="), 422)
		expect(t, e.get("/v1/search/metiers?q=x"), 404)
	})

	t.Run("France Travail shapes", func(t *testing.T) {
		m := e.get("/rome-metiers/v1/metiers/metier/M1805").json(t)
		if m["code"] != "M1805" || m["domaineProfessionnel"].(map[string]any)["code"] != "M18" {
			t.Errorf("metier %v", m["code"])
		}
		if _, extra := m["codeRome"]; extra {
			t.Error("native field leaked into the France Travail shape")
		}
		v := e.get("/rome-metiers/v1/metiers/version").json(t)
		if v["version"] != "60" {
			t.Errorf("FT version %v", v)
		}
		expect(t, e.get("/rome-metiers/v1/metiers/appellation/11987"), 200)
		expect(t, e.get("/rome-fiches-metiers/v1/fiches-rome/fiche-metier/M1805"), 200)
		expect(t, e.get("/rome-metiers/v1/metiers/metier/Z0000"), 404)
		narrow := e.get("/rome-metiers/v1/metiers/metier/M1805?champs=code,libelle").json(t)
		if len(narrow) != 2 || narrow["code"] != "M1805" {
			t.Errorf("champs=code,libelle gave %v", narrow)
		}
		r := e.get("/rome-metiers/v1/metiers/metier/M1805?champs=nope")
		expect(t, r, 400)
		if c := problemCode(t, r); c != "invalid_champs" {
			t.Errorf("code %q", c)
		}
	})
}

func urlQuery(s string) string { return strings.ReplaceAll(s, " ", "+") }

func TestChangeSets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, database.Postgres)
	partner, service := e.token(auth.RolePartner), e.token(auth.RoleService)
	ops := []map[string]any{
		{"op": "add_appellation", "libelle": "Développeur / Développeuse Rust"},
		{"op": "set_text", "field": "accesEmploi", "text": "Bac+3 à Bac+5 en informatique.\nAccessible aussi par la VAE."},
		{"op": "add_mobilite", "toCodeRome": "M1402", "rank": 1},
		{"op": "remove_competence", "codeOgr": "999999"},
	}

	t.Run("validate needs a token", func(t *testing.T) {
		r := e.do("POST", "/v1/changesets:validate", "", map[string]any{"codeRome": "M1805", "operations": ops})
		expect(t, r, 401)
	})

	t.Run("validate reports per operation with a preview and a diff", func(t *testing.T) {
		r := e.do("POST", "/v1/changesets:validate", partner, map[string]any{"codeRome": "M1805", "operations": ops})
		expect(t, r, 200)
		v := r.json(t)
		if v["applies"] != false {
			t.Error("an operation on an unknown compétence cannot apply")
		}
		results := v["results"].([]any)
		for i, want := range []bool{true, true, true, false} {
			if got := results[i].(map[string]any)["applies"]; got != want {
				t.Errorf("op %d applies=%v: %v", i, got, results[i])
			}
		}
		if results[3].(map[string]any)["code"] != "unknown_competence" {
			t.Errorf("reason %v", results[3])
		}
		preview := v["preview"].(map[string]any)
		if !strings.Contains(preview["accesEmploi"].(string), "VAE") {
			t.Error("preview does not show the new text")
		}
		if first := preview["mobilites"].([]any)[0].(map[string]any); first["codeRome"] != "M1402" {
			t.Errorf("preview first mobilité %v", first)
		}
		if len(v["diff"].([]any)) < 3 {
			t.Errorf("diff %v", v["diff"])
		}
		// The dry run changed nothing.
		if f := e.get("/v1/fiches/M1805").json(t); strings.Contains(f["accesEmploi"].(string), "VAE") {
			t.Error("validate modified the referential")
		}
	})

	t.Run("invalid change sets", func(t *testing.T) {
		r := e.do("POST", "/v1/changesets:validate", partner, map[string]any{"codeRome": "M1805", "operations": []any{}})
		expect(t, r, 422)
		r = e.do("POST", "/v1/changesets:validate", partner, map[string]any{"codeRome": "M1805", "operations": []any{map[string]any{"op": "add_mobilite", "rank": "first"}}})
		expect(t, r, 422)
		r = e.do("POST", "/v1/changesets:validate", partner, map[string]any{"codeRome": "M1805", "bogus": 1, "operations": ops})
		expect(t, r, 422)
	})

	t.Run("syntax, number of operations and base version are 422 before the engine", func(t *testing.T) {
		valid := map[string]any{"op": "remove_competence", "codeOgr": "999999"}
		many := make([]any, 101)
		for i := range many {
			many[i] = valid
		}
		cases := []struct {
			name, path, token string
			body              map[string]any
			code, field       string
		}{
			{"101 operations", "/v1/changesets:validate", partner, map[string]any{"codeRome": "M1805", "operations": many}, "too_many_operations", "operations"},
			{"101 operations published", "/v1/changesets", service, map[string]any{"id": "cs-many", "baseVersion": 60, "codeRome": "M1805", "operations": many}, "too_many_operations", "operations"},
			{"rank -5", "/v1/changesets:validate", partner, map[string]any{"codeRome": "M1805", "operations": []any{map[string]any{"op": "add_mobilite", "toCodeRome": "M1402", "rank": -5}}}, "invalid_operations", "operations[0].rank"},
			{"empty libellé", "/v1/changesets:validate", partner, map[string]any{"codeRome": "M1805", "operations": []any{valid, map[string]any{"op": "add_appellation", "libelle": ""}}}, "invalid_operations", "operations[1].libelle"},
			{"set_text on an unknown field", "/v1/changesets:validate", partner, map[string]any{"codeRome": "M1805", "operations": []any{map[string]any{"op": "set_text", "field": "foo", "text": "T"}}}, "invalid_operations", "operations[0].field"},
			{"unknown operation", "/v1/changesets", service, map[string]any{"id": "cs-unknown-op", "baseVersion": 60, "codeRome": "M1805", "operations": []any{map[string]any{"op": "rename_fiche"}}}, "invalid_operations", "operations[0].op"},
			{"malformed codeRome", "/v1/changesets:validate", partner, map[string]any{"codeRome": "M18055", "operations": []any{valid}}, "invalid_operations", "codeRome"},
			{"validate base -1", "/v1/changesets:validate", partner, map[string]any{"baseVersion": -1, "codeRome": "M1805", "operations": []any{valid}}, "invalid_base_version", "baseVersion"},
			{"validate base 2^62", "/v1/changesets:validate", partner, map[string]any{"baseVersion": int64(1) << 62, "codeRome": "M1805", "operations": []any{valid}}, "invalid_base_version", "baseVersion"},
			{"publish base -1", "/v1/changesets", service, map[string]any{"id": "cs-base-neg", "baseVersion": -1, "codeRome": "M1805", "operations": []any{valid}}, "invalid_base_version", "baseVersion"},
			{"publish base 2^62", "/v1/changesets", service, map[string]any{"id": "cs-base-big", "baseVersion": int64(1) << 62, "codeRome": "M1805", "operations": []any{valid}}, "invalid_base_version", "baseVersion"},
			{"publish without base", "/v1/changesets", service, map[string]any{"id": "cs-base-none", "codeRome": "M1805", "operations": []any{valid}}, "invalid_base_version", "baseVersion"},
		}
		for _, tc := range cases {
			r := e.do("POST", tc.path, tc.token, tc.body)
			expect(t, r, 422)
			if c := problemCode(t, r); c != tc.code {
				t.Errorf("%s: code %q, want %q", tc.name, c, tc.code)
			}
			if !strings.Contains(string(r.body), `"field":"`+tc.field+`"`) {
				t.Errorf("%s: errors do not name %s: %s", tc.name, tc.field, r.body)
			}
		}
		// A semantic problem stays a result of the dry run; a current base is accepted.
		r := e.do("POST", "/v1/changesets:validate", partner, map[string]any{"baseVersion": 60, "codeRome": "M1805", "operations": []any{valid}})
		expect(t, r, 200)
		if v := r.json(t); v["applies"] != false || v["results"].([]any)[0].(map[string]any)["code"] != "unknown_competence" {
			t.Errorf("unknown code OGR: %s", r.body)
		}
		if got := e.get("/v1/version").json(t); got["version"] != float64(60) {
			t.Errorf("a refused change set was published: %v", got)
		}
	})

	applicable := ops[:3]
	cs := map[string]any{"id": "cs-req-42-1", "requestId": "req-42", "baseVersion": 60, "codeRome": "M1805", "operations": applicable}

	t.Run("publishing is for the service role", func(t *testing.T) {
		expect(t, e.do("POST", "/v1/changesets", partner, cs), 403)
		expect(t, e.do("POST", "/v1/changesets", "", cs), 401)
	})

	var first resp
	t.Run("publish, then the same change set again", func(t *testing.T) {
		first = e.do("POST", "/v1/changesets", service, cs)
		expect(t, first, 201)
		p := first.json(t)
		if p["version"].(float64) != 61 {
			t.Fatalf("published %v", p)
		}
		again := e.do("POST", "/v1/changesets", service, cs)
		expect(t, again, 201)
		if !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay differs: %s", again.body)
		}
		if v := e.get("/v1/version").json(t); v["version"].(float64) != 61 {
			t.Errorf("current version %v after publishing twice", v["version"])
		}
		changed := map[string]any{"id": "cs-req-42-1", "codeRome": "M1805", "operations": ops[:1]}
		r := e.do("POST", "/v1/changesets", service, changed)
		expect(t, r, 422)
		if c := problemCode(t, r); c != "changeset_id_reused" {
			t.Errorf("code %q", c)
		}
		expect(t, e.get("/v1/changesets/cs-req-42-1"), 200)
	})

	t.Run("the new version is readable, the old one too", func(t *testing.T) {
		f := e.get("/v1/fiches/M1805").json(t)
		if f["version"].(float64) != 61 || !strings.Contains(f["accesEmploi"].(string), "VAE") {
			t.Errorf("current fiche: version %v, accès %q", f["version"], f["accesEmploi"])
		}
		found := false
		for _, a := range f["appellations"].([]any) {
			a := a.(map[string]any)
			if a["libelle"] == "Développeur / Développeuse Rust" {
				found = true
				if ogr := a["codeOgr"].(string); len(ogr) < 8 || ogr[0] != '9' {
					t.Errorf("new appellation code OGR %s is not in the platform range", ogr)
				}
			}
		}
		if !found {
			t.Error("new appellation missing")
		}
		old := e.get("/v1/fiches/M1805?version=60").json(t)
		if old["version"].(float64) != 60 || strings.Contains(old["accesEmploi"].(string), "VAE") {
			t.Errorf("time travel: %v %q", old["version"], old["accesEmploi"])
		}
		expect(t, e.get("/v1/fiches/M1805?version=99"), 404)
	})

	t.Run("history, versions and delta", func(t *testing.T) {
		h := e.get("/v1/fiches/M1805/history").json(t)["items"].([]any)
		if len(h) < 3 || h[0].(map[string]any)["requestId"] != "req-42" {
			t.Errorf("history %v", h)
		}
		vs := e.get("/v1/versions").json(t)["items"].([]any)
		if len(vs) != 2 || vs[1].(map[string]any)["changesetId"] != "cs-req-42-1" {
			t.Errorf("versions %v", vs)
		}
		d := e.get("/v1/versions/61/changes").json(t)
		if len(d["changes"].([]any)) == 0 || len(d["rowsAdded"].([]any)) == 0 || len(d["rowsRemoved"].([]any)) == 0 {
			t.Errorf("delta %v", d)
		}
	})

	t.Run("conflict when an operation no longer applies, rebase when it still does", func(t *testing.T) {
		rm := map[string]any{"id": "cs-rm-1", "requestId": "req-43", "baseVersion": 60, "codeRome": "M1805",
			"operations": []any{map[string]any{"op": "remove_mobilite", "toCodeRome": "M1402"}}}
		expect(t, e.do("POST", "/v1/changesets", service, rm), 201) // base 60, still applies on 61
		rm2 := map[string]any{"id": "cs-rm-2", "requestId": "req-44", "baseVersion": 61, "codeRome": "M1805",
			"operations": []any{map[string]any{"op": "remove_mobilite", "toCodeRome": "M1402"}}}
		r := e.do("POST", "/v1/changesets", service, rm2)
		expect(t, r, 409)
		if c := problemCode(t, r); c != "changeset_conflict" {
			t.Errorf("code %q", c)
		}
		if v := e.get("/v1/version").json(t); v["version"].(float64) != 62 {
			t.Errorf("a conflict must not publish: version %v", v["version"])
		}
	})

	t.Run("create a fiche from a known appellation", func(t *testing.T) {
		create := map[string]any{"id": "cs-new-1", "requestId": "req-45", "baseVersion": 62, "operations": []any{
			map[string]any{"op": "create_fiche", "domaineProfessionnel": "M18", "definition": "Conçoit des applications en Rust.",
				"accesEmploi": "Bac+5.", "appellationPrincipale": map[string]any{"codeOgr": "38823"}},
			map[string]any{"op": "add_competence", "codeOgr": "100023", "coeurMetier": "PRINCIPALE"},
		}}
		v := e.do("POST", "/v1/changesets:validate", partner, create)
		expect(t, v, 200)
		r := e.do("POST", "/v1/changesets", service, create)
		expect(t, r, 201)
		code := r.json(t)["codeRome"].(string)
		f := e.get("/v1/fiches/" + code).json(t)
		apps := f["appellations"].([]any)
		if len(apps) != 1 || apps[0].(map[string]any)["codeOgr"] != "38823" || apps[0].(map[string]any)["classification"] != "PRINCIPALE" {
			t.Errorf("new fiche %s appellations %v", code, apps)
		}
		if f["libelle"] != apps[0].(map[string]any)["libelle"] {
			t.Errorf("the fiche label %q is not its principal appellation's", f["libelle"])
		}
	})

	t.Run("export round trip", func(t *testing.T) {
		zipPath := e.download(t, "/v1/export?version=60")
		rel, err := importer.Read(zipPath, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("the v60 export does not re-import: %v", err)
		}
		official := romedata.V460(t)
		for _, ds := range romecsv.Datasets {
			a, b := official.T(ds.Name), rel.Snapshot.T(ds.Name)
			if a.Len() != b.Len() {
				t.Fatalf("%s: %d rows exported, %d official", ds.Name, b.Len(), a.Len())
			}
			for i, ra := range a.Rows() {
				if rb := b.Row(i); strings.Join(ra.Cols, "|") != strings.Join(rb.Cols, "|") {
					t.Fatalf("%s row %d: exported %q, official %q", ds.Name, i+1, rb.Cols, ra.Cols)
				}
			}
		}
		latest := e.download(t, "/v1/export")
		rel, err = importer.Read(latest, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("the latest export does not re-import: %v", err)
		}
		if rel.Info.Number != 63 {
			t.Errorf("latest export is version %d", rel.Info.Number)
		}
		expect(t, e.get("/v1/export?format=xlsx"), 422)
	})
}

func (e *env) download(t *testing.T, path string) string {
	r := e.get(path)
	expect(t, r, 200)
	if _, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body))); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "RefRomeCsv.zip")
	if err := os.WriteFile(p, r.body, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
