package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database"
)

// list decodes a list answer.
func (r resp) list(t *testing.T) []map[string]any {
	t.Helper()
	var l []map[string]any
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("not a JSON list (%d): %.300s", r.status, r.body)
	}
	return l
}

func keys(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ",")
}

// Every France Travail route on the real v460: lists with nested and typed champs, the
// items by code, 404, 400 and the versions, each exchange checked against the OpenAPI
// document. Lists are read narrowed: the whole lists are the consumer test's.
func TestFranceTravailAPIs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, database.SQLite)

	t.Run("versions", func(t *testing.T) {
		for _, p := range []string{"/rome-metiers/v1/metiers/version", "/rome-fiches-metiers/v1/fiches-rome/version",
			"/rome-competences/v1/competences/version", "/rome-contextes-travail/v1/situations-travail/version"} {
			if v := e.get(p).json(t); v["version"] != "60" || v["lastModifiedDate"] == "" {
				t.Errorf("%s: %v", p, v)
			}
		}
	})

	t.Run("métiers", func(t *testing.T) {
		l := e.get("/rome-metiers/v1/metiers/metier?champs=code").list(t)
		if len(l) != 1584 || keys(l[0]) != "code" || l[0]["code"] != "A1101" {
			t.Fatalf("%d métiers, first %v", len(l), l[0])
		}
		l = e.get("/rome-metiers/v1/metiers/metier?champs=code,domaineprofessionnel(grandDomaine(code)),appellations(code)").list(t)
		m := l[len(l)-1]
		if keys(m) != "appellations,code,domaineProfessionnel" || keys(m["domaineProfessionnel"].(map[string]any)) != "grandDomaine" {
			t.Errorf("nested champs: %v", m)
		}
		r := e.get("/rome-metiers/v1/metiers/metier?champs=competencesMobilisees")
		expect(t, r, 400) // only metier/{code} has the compétences
		if c := problemCode(t, r); c != "invalid_champs" {
			t.Errorf("code %q", c)
		}
		one := e.get("/rome-metiers/v1/metiers/metier/M1805?champs=competencesmobilisees(code,@macrosavoiretreprofessionnel(riasecmajeur))").json(t)
		withRiasec := 0
		for _, c := range one["competencesMobilisees"].([]any) {
			c := c.(map[string]any)
			if _, has := c["riasecMajeur"]; has {
				withRiasec++
				if c["type"] != "MACRO-SAVOIR-ETRE-PROFESSIONNEL" {
					t.Errorf("typed champs: %v", c)
				}
			}
		}
		if withRiasec == 0 {
			t.Error("no savoir-être with its RIASEC")
		}
	})

	t.Run("appellations and search", func(t *testing.T) {
		l := e.get("/rome-metiers/v1/metiers/appellation?champs=code,metier(code)").list(t)
		if len(l) != 13120 || keys(l[0]) != "code,metier" {
			t.Fatalf("%d appellations, first %v", len(l), l[0])
		}
		a := e.get("/rome-metiers/v1/metiers/appellation/14153?champs=libelle,metier(code)").json(t)
		if a["libelle"] != "Développeur / Développeuse informatique" || a["metier"].(map[string]any)["code"] != "M1805" {
			t.Errorf("appellation %v", a)
		}
		expect(t, e.get("/rome-metiers/v1/metiers/appellation/494"), 404)
		q := e.get("/rome-metiers/v1/metiers/appellation/requete?q=" + url.QueryEscape("développeur informatique")).json(t)
		res := q["resultats"].([]any)
		if q["requete"] != "développeur informatique" || len(res) != 20 || q["totalResultats"].(float64) < 20 {
			t.Fatalf("requete %v", q)
		}
		if first := res[0].(map[string]any); first["metier"].(map[string]any)["code"] != "M1805" {
			t.Errorf("best result %v", first)
		}
		r := e.get("/rome-metiers/v1/metiers/appellation/requete")
		expect(t, r, 400)
		if c := problemCode(t, r); c != "query_required" {
			t.Errorf("code %q", c)
		}
		expect(t, e.get("/rome-metiers/v1/metiers/appellation/requete?q=x&champs=resultats(peuUsite)"), 400)
	})

	t.Run("domaines", func(t *testing.T) {
		gd := e.get("/rome-metiers/v1/metiers/grand-domaine?champs=code,domaineProfessionnels(code)").list(t)
		dp := e.get("/rome-metiers/v1/metiers/domaine-professionnel?champs=code,grandDomaine(code)").list(t)
		if len(gd) != 14 || len(dp) != 110 {
			t.Fatalf("%d grands domaines, %d domaines", len(gd), len(dp))
		}
		m := e.get("/rome-metiers/v1/metiers/grand-domaine/M?champs=libelle,domaineprofessionnels(code,metiers(code))").json(t)
		if m["libelle"] != "Support à l'entreprise" {
			t.Errorf("grand domaine M %v", m["libelle"])
		}
		d := e.get("/rome-metiers/v1/metiers/domaine-professionnel/M18").json(t)
		found := false
		for _, x := range d["metiers"].([]any) {
			found = found || x.(map[string]any)["code"] == "M1805"
		}
		if !found || d["grandDomaine"].(map[string]any)["code"] != "M" {
			t.Errorf("domaine M18 %v", d["grandDomaine"])
		}
		expect(t, e.get("/rome-metiers/v1/metiers/grand-domaine/Z"), 404)
		expect(t, e.get("/rome-metiers/v1/metiers/domaine-professionnel/M99"), 404)
	})

	t.Run("thèmes, centres d'intérêt and secteurs d'activité", func(t *testing.T) {
		for _, g := range []struct {
			path, code, libelle, notFound string
			count                         int
		}{
			{"theme", "001", "Métiers de l'environnement et du développement durable", "theme_not_found", 17},
			{"centre-interet", "1", "J'ai envie de créer, construire, rénover", "centre_interet_not_found", 30},
			{"secteur-activite", "110", "Activités juridiques et comptables", "secteur_activite_not_found", 35 + 40},
		} {
			base := "/rome-metiers/v1/metiers/" + g.path
			l := e.get(base + "?champs=code,libelle,metiers(code)").list(t)
			if len(l) != g.count || keys(l[0]) != "code,libelle,metiers" {
				t.Fatalf("%s: %d items, first %v", g.path, len(l), l[0])
			}
			r := e.get(base + "/" + g.code)
			expect(t, r, 200)
			one := r.json(t)
			if one["libelle"] != g.libelle || one["definition"] == "" || len(one["metiers"].([]any)) == 0 {
				t.Errorf("%s/%s: %v %v, %d métiers", g.path, g.code, one["libelle"], one["definition"], len(one["metiers"].([]any)))
			}
			if m := one["metiers"].([]any)[0].(map[string]any); m["appellations"] == nil || m["domaineProfessionnel"] != nil {
				t.Errorf("%s: a métier in the shape of a domaine's: %v", g.path, keys(m))
			}
			if k := keys(e.get(base + "/" + g.code + "?champs=metiers(code,appellations(libelle))").json(t)); k != "metiers" {
				t.Errorf("%s: champs kept %s", g.path, k)
			}
			expectProblem(t, e.get(base+"/"+g.code+"?champs=principal"), 400, "invalid_champs") // the link's flag is not in the answer
			expectProblem(t, e.get(base+"/999"), 404, g.notFound)
			expect(t, e.do(http.MethodGet, base+"/"+g.code, "", nil, "If-None-Match", r.header.Get("ETag")), 304)
			expect(t, e.do(http.MethodGet, base, "", nil, "If-None-Match", r.header.Get("ETag")), 304)
		}
		// A sous-secteur names its secteur; a secteur lists the fiches of its sous-secteurs too.
		ss := e.get("/rome-metiers/v1/metiers/secteur-activite/145").json(t)
		if p, _ := ss["secteurActivite"].(map[string]any); p["code"] != "110" || p["libelle"] != "Activités juridiques et comptables" {
			t.Errorf("sous-secteur 145 %v", ss["secteurActivite"])
		}
		if _, has := ss["definition"]; has {
			t.Errorf("an empty definition is sent: %v", ss["definition"])
		}
		secteur := map[string]bool{}
		for _, m := range e.get("/rome-metiers/v1/metiers/secteur-activite/110?champs=metiers(code)").json(t)["metiers"].([]any) {
			secteur[m.(map[string]any)["code"].(string)] = true
		}
		for _, m := range ss["metiers"].([]any) {
			if code := m.(map[string]any)["code"].(string); !secteur[code] {
				t.Errorf("%s is in sous-secteur 145, not in its secteur 110", code)
			}
		}
		if s := e.get("/rome-metiers/v1/metiers/secteur-activite/110").json(t); s["secteurActivite"] != nil {
			t.Errorf("a secteur with a parent: %v", s["secteurActivite"])
		}
	})

	t.Run("métier filters", func(t *testing.T) {
		all := e.get("/rome-metiers/v1/metiers/metier?champs=code,riasecMajeur,riasecMineur").list(t)
		codesOf := func(path string) []string {
			var out []string
			for _, m := range e.get(path).list(t) {
				out = append(out, m["code"].(string))
			}
			return out
		}
		for _, f := range []struct{ query, field, letter string }{
			{"riasec-majeur=R", "riasecMajeur", "R"}, {"riasec-majeur=investigatif", "riasecMajeur", "I"}, {"riasec-mineur=Conventionnel", "riasecMineur", "C"},
		} {
			var want []string
			for _, m := range all {
				if m[f.field] == f.letter {
					want = append(want, m["code"].(string))
				}
			}
			if got := codesOf("/rome-metiers/v1/metiers/metier?champs=code&" + f.query); len(want) == 0 || !slices.Equal(got, want) {
				t.Errorf("%s: %d métiers, want %d", f.query, len(got), len(want))
			}
		}
		naf := codesOf("/rome-metiers/v1/metiers/metier?champs=code&code-naf=01")
		if len(naf) == 0 || len(naf) == len(all) || !slices.Equal(naf, codesOf("/rome-metiers/v1/metiers/metier?champs=code&code-naf=1")) {
			t.Fatalf("code-naf=01: %d métiers, and not those of code-naf=1", len(naf))
		}
		divisions := e.get("/rome-metiers/v1/metiers/metier/" + naf[0] + "?champs=divisionsNaf(code)").json(t)["divisionsNaf"].([]any)
		if !slices.ContainsFunc(divisions, func(d any) bool { return d.(map[string]any)["code"] == "1" }) {
			t.Errorf("%s kept by code-naf=01 has no division 1: %v", naf[0], divisions)
		}
		// A compétence of M1805 keeps M1805 and other métiers that mobilise it, with their RIASEC.
		comp := e.get("/rome-metiers/v1/metiers/metier/M1805?champs=competencesMobilisees(code)").json(t)["competencesMobilisees"].([]any)[0].(map[string]any)["code"].(string)
		withComp := codesOf("/rome-metiers/v1/metiers/metier?champs=code&code-competence=" + comp)
		if !slices.Contains(withComp, "M1805") || len(withComp) == len(all) {
			t.Errorf("code-competence=%s: %v", comp, withComp)
		}
		both := codesOf("/rome-metiers/v1/metiers/metier?champs=code&riasec-majeur=I&code-competence=" + comp)
		if !slices.Contains(both, "M1805") || len(both) > len(withComp) {
			t.Errorf("riasec-majeur=I&code-competence=%s: %v", comp, both)
		}
		if l := e.get("/rome-metiers/v1/metiers/metier?code-competence=999999999").list(t); len(l) != 0 {
			t.Errorf("an unknown compétence kept %d métiers", len(l))
		}
		expectProblem(t, e.get("/rome-metiers/v1/metiers/metier?riasec-majeur=X"), 400, "invalid_riasec")
	})

	t.Run("fiches métiers", func(t *testing.T) {
		l := e.get("/rome-fiches-metiers/v1/fiches-rome/fiche-metier?champs=code,metier(libelle,code)").list(t)
		if len(l) != 1584 || keys(l[0]) != "code,metier" || keys(l[0]["metier"].(map[string]any)) != "code,libelle" {
			t.Fatalf("%d fiches, first %v", len(l), l[0])
		}
		f := e.get("/rome-fiches-metiers/v1/fiches-rome/fiche-metier/M1805?champs=groupescompetencesmobilisees(competences(code))").json(t)
		if keys(f) != "groupesCompetencesMobilisees" {
			t.Errorf("fiche %v", keys(f))
		}
		expect(t, e.get("/rome-fiches-metiers/v1/fiches-rome/fiche-metier/Z9999"), 404)
	})

	t.Run("compétences", func(t *testing.T) {
		l := e.get("/rome-competences/v1/competences/competence?champs=code," +
			"@competencedetaillee(macrocompetence(code,@macrosavoirfaire(objectif(codearborescence,enjeu(domainecompetence(codearborescence)))))),@macrocompetence(riasecmajeur),@savoir(categoriesavoir(libelle))").list(t)
		if len(l) != 17810+507+15354 {
			t.Fatalf("%d compétences", len(l))
		}
		seen := map[string]bool{}
		for _, c := range l {
			typ := c["type"].(string)
			seen[typ] = true
			switch typ {
			case "COMPETENCE-DETAILLEE":
				mc := c["macroCompetence"].(map[string]any)
				if mc["type"] != "MACRO-SAVOIR-FAIRE" || mc["objectif"].(map[string]any)["enjeu"].(map[string]any)["domaineCompetence"] == nil {
					t.Fatalf("détaillée %v", c)
				}
			case "SAVOIR":
				if keys(c) != "categorieSavoir,code,type" {
					t.Fatalf("savoir %v", c)
				}
			default: // RIASEC is absent when the official file has none
				if k := keys(c); k != "code,riasecMajeur,type" && k != "code,type" {
					t.Fatalf("macro %v", c)
				}
			}
		}
		if len(seen) != 4 {
			t.Errorf("types %v", seen)
		}
		for _, kind := range []string{"competence-detaillee", "macro-competence", "macro-savoir-faire", "macro-savoir-etre-professionnel", "savoir"} {
			if l := e.get("/rome-competences/v1/competences/" + kind + "?champs=code").list(t); len(l) == 0 {
				t.Errorf("%s is empty", kind)
			}
		}
		mc := e.get("/rome-competences/v1/competences/macro-competence/300230").json(t)
		if mc["codeOgr"] != "300230" || mc["codeArborescence"] == "" || mc["obsolete"] != false {
			t.Errorf("macro 300230 %v", mc)
		}
		expect(t, e.get("/rome-competences/v1/competences/savoir/100023"), 404) // a compétence, not a savoir
		expect(t, e.get("/rome-competences/v1/competences/competence/100023"), 200)
		for _, bad := range []string{"@inconnu(code)", "macrocompetence(nope)", "@savoir"} {
			expect(t, e.get("/rome-competences/v1/competences/competence?champs="+url.QueryEscape(bad)), 400)
		}
	})

	t.Run("contextes de travail", func(t *testing.T) {
		l := e.get("/rome-contextes-travail/v1/situations-travail/contexte-travail").list(t)
		if len(l) != 179 || keys(l[0]) != "categorie,code,libelle" {
			t.Fatalf("%d contextes, first %v", len(l), l[0])
		}
		code := l[0]["code"].(string)
		one := e.get("/rome-contextes-travail/v1/situations-travail/contexte-travail/" + code + "?champs=libelle").json(t)
		if keys(one) != "libelle" {
			t.Errorf("contexte %v", one)
		}
		expect(t, e.get("/rome-contextes-travail/v1/situations-travail/contexte-travail/0"), 404)
	})

	t.Run("ETag", func(t *testing.T) {
		r := e.get("/rome-metiers/v1/metiers/metier?champs=code")
		expect(t, e.do(http.MethodGet, "/rome-metiers/v1/metiers/metier?champs=code", "", nil, "If-None-Match", r.header.Get("ETag")), 304)
	})

	// One referential for the three: each import of v460 is seconds (minutes under -race).
	t.Run("token", func(t *testing.T) { testFranceTravailToken(t, e) })
	t.Run("consumer sync", func(t *testing.T) { testConsumerSync(t, e.srv) })
}

// testFranceTravailToken checks the token route and the client registry: an admin registers a client, the client gets
// a token as from France Travail, and the token is accepted by the France Travail routes;
// OAuth2 errors are RFC 6749's; a forged or revoked bearer is refused.
func testFranceTravailToken(t *testing.T, e *env) {
	admin := e.token(auth.RoleAdmin)
	expect(t, e.do(http.MethodPost, "/v1/api-clients", e.token(auth.RoleModerator), map[string]string{"name": "x"}), 403)
	expectProblem(t, e.do(http.MethodPost, "/v1/api-clients", admin, map[string]string{"name": " "}), 422, "invalid_client_name")
	r := e.do(http.MethodPost, "/v1/api-clients", admin, map[string]string{"name": "Job board sync"})
	expect(t, r, 201)
	client := r.json(t)
	id, secret := client["clientId"].(string), client["clientSecret"].(string)
	if got := strings.Join(anyStrings(client["scopes"]), " "); got != allScopes {
		t.Errorf("a client registered without scopes may ask for %q", got)
	}

	token := func(form url.Values) resp {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/connexion/oauth2/access_token?realm=/partenaire", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return resp{res.StatusCode, res.Header, b}
	}
	valid := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "scope": {"api_rome-metiersv1 nomenclatureRome"}}
	r = token(valid)
	expect(t, r, 200)
	tok := r.json(t)
	if tok["token_type"] != "Bearer" || tok["expires_in"].(float64) != 1499 || tok["scope"] != "api_rome-metiersv1 nomenclatureRome" || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("token %v", tok)
	}
	access := tok["access_token"].(string)
	expect(t, e.do(http.MethodGet, "/rome-metiers/v1/metiers/version", access, nil), 200)

	for name, c := range map[string]struct {
		form   url.Values
		status int
		err    string
	}{
		"wrong secret":  {url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {"nope"}}, 401, "invalid_client"},
		"unknown":       {url.Values{"grant_type": {"client_credentials"}, "client_id": {"PAR_x"}, "client_secret": {secret}}, 401, "invalid_client"},
		"grant":         {url.Values{"grant_type": {"password"}, "client_id": {id}, "client_secret": {secret}}, 400, "unsupported_grant_type"},
		"no grant":      {url.Values{"client_id": {id}, "client_secret": {secret}}, 400, "invalid_request"},
		"scope":         {url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "scope": {"api_offresdemploiv2"}}, 400, "invalid_scope"},
		"repeated":      {url.Values{"grant_type": {"client_credentials", "client_credentials"}, "client_id": {id}, "client_secret": {secret}}, 400, "invalid_request"},
		"missing creds": {url.Values{"grant_type": {"client_credentials"}}, 400, "invalid_request"},
	} {
		r := token(c.form)
		if r.status != c.status || r.json(t)["error"] != c.err {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}

	r = e.do(http.MethodGet, "/rome-metiers/v1/metiers/version", access+"x", nil)
	expect(t, r, 401)
	if c := problemCode(t, r); c != "invalid_token" || !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("forged token: %q %q", c, r.header.Get("WWW-Authenticate"))
	}

	t.Run("scopes", func(t *testing.T) { testTokenScopes(t, e, token, access) })
	t.Run("idempotent registration", func(t *testing.T) { testIdempotentRegistration(t, e) })

	list := e.do(http.MethodGet, "/v1/api-clients", admin, nil).json(t)["items"].([]any)
	for _, c := range list {
		if c.(map[string]any)["clientSecret"] != nil {
			t.Errorf("the list shows a secret: %v", c)
		}
	}
	if len(list) != 4 { // this one, the Métiers one of the scopes and the two idempotent registrations
		t.Errorf("%d clients: %v", len(list), list)
	}
	expect(t, e.do(http.MethodDelete, "/v1/api-clients/"+id, admin, nil), 204)
	expect(t, e.do(http.MethodDelete, "/v1/api-clients/PAR_nope", admin, nil), 404)
	expect(t, e.do(http.MethodDelete, "/v1/api-clients/%00", admin, nil), 404)
	if r := token(valid); r.status != 401 {
		t.Errorf("revoked client got %d", r.status)
	}
}

// allScopes are the scopes of a client registered without any: every one.
const allScopes = "api_rome-metiersv1 api_rome-fiches-metiersv1 api_rome-competencesv1 api_rome-contextes-travailv1 nomenclatureRome"

func anyStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

// testTokenScopes: a client registered for the Métiers API gets tokens for it alone; a
// token reads the APIs whose scope it was granted and gets 403 on the others, where a
// caller without a token is still served.
func testTokenScopes(t *testing.T, e *env, token func(url.Values) resp, metiersToken string) {
	admin := e.token(auth.RoleAdmin)
	for name, scopes := range map[string][]string{"unknown": {"api_offresdemploiv2"}, "no API": {"nomenclatureRome"}, "none": {}} {
		r := e.do(http.MethodPost, "/v1/api-clients", admin, map[string]any{"name": "x", "scopes": scopes})
		if expectProblem(t, r, 422, "invalid_client_scopes"); name == "unknown" && !strings.Contains(string(r.body), "scopes[0]") {
			t.Errorf("the problem does not name the scope: %s", r.body)
		}
	}
	r := e.do(http.MethodPost, "/v1/api-clients", admin, map[string]any{"name": "Métiers seulement", "scopes": []string{"api_rome-metiersv1", "api_rome-metiersv1"}})
	expect(t, r, 201)
	c := r.json(t)
	if got := anyStrings(c["scopes"]); !slices.Equal(got, []string{"api_rome-metiersv1", "nomenclatureRome"}) {
		t.Errorf("scopes %v", got)
	}
	creds := func(scope string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {c["clientId"].(string)}, "client_secret": {c["clientSecret"].(string)}, "scope": {scope}}
	}
	r = token(creds(""))
	if expect(t, r, 200); r.json(t)["scope"] != "api_rome-metiersv1 nomenclatureRome" {
		t.Errorf("a token asked without scope grants %v", r.json(t)["scope"])
	}
	r = token(creds("api_rome-metiersv1 api_rome-competencesv1"))
	if got := r.json(t); r.status != 400 || got["error"] != "invalid_scope" || !strings.Contains(got["error_description"].(string), "api_rome-competencesv1") {
		t.Errorf("a scope the client was not registered with: %d %s", r.status, r.body)
	}

	// The token of the first client, granted api_rome-metiersv1 and nomenclatureRome.
	for _, p := range []string{"/rome-fiches-metiers/v1/fiches-rome/version", "/rome-competences/v1/competences/competence/100023",
		"/rome-contextes-travail/v1/situations-travail/contexte-travail"} {
		r := e.do(http.MethodGet, p, metiersToken, nil)
		expectProblem(t, r, 403, "insufficient_scope")
		if h := r.header.Get("WWW-Authenticate"); !strings.Contains(h, `error="insufficient_scope"`) || !strings.Contains(h, `scope="api_rome-`) {
			t.Errorf("%s: WWW-Authenticate %q", p, h)
		}
		expect(t, e.get(p), 200) // anonymous: served, throttled
	}
	expect(t, e.do(http.MethodGet, "/rome-metiers/v1/metiers/theme/001", metiersToken, nil), 200)
	// nomenclatureRome alone opens no API; a platform token reads every one.
	r = token(creds("nomenclatureRome"))
	expect(t, r, 200)
	expectProblem(t, e.do(http.MethodGet, "/rome-metiers/v1/metiers/version", r.json(t)["access_token"].(string), nil), 403, "insufficient_scope")
	expect(t, e.do(http.MethodGet, "/rome-competences/v1/competences/version", e.token(auth.RolePartner), nil), 200)
}

// testIdempotentRegistration: a registration retried with its Idempotency-Key answers the
// same client once, without its secret; the key with another body is refused.
func testIdempotentRegistration(t *testing.T, e *env) {
	admin := e.token(auth.RoleAdmin)
	body := map[string]any{"name": "Synchronisation nocturne", "scopes": []string{"api_rome-competencesv1"}}
	first := e.do(http.MethodPost, "/v1/api-clients", admin, body, "Idempotency-Key", "register-nightly-1")
	expect(t, first, 201)
	created := first.json(t)
	if created["clientSecret"] == nil || first.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first registration %s", first.body)
	}
	again := e.do(http.MethodPost, "/v1/api-clients", admin, body, "Idempotency-Key", "register-nightly-1")
	expect(t, again, 201)
	replayed := again.json(t)
	if again.header.Get("Idempotent-Replayed") != "true" || again.header.Get("Location") != first.header.Get("Location") {
		t.Errorf("replay headers %v", again.header)
	}
	if _, shown := replayed["clientSecret"]; shown || replayed["clientId"] != created["clientId"] || replayed["createdAt"] != created["createdAt"] {
		t.Errorf("replay %s, first %s", again.body, first.body)
	}
	other := map[string]any{"name": "Synchronisation nocturne", "scopes": []string{"api_rome-metiersv1"}}
	r := e.do(http.MethodPost, "/v1/api-clients", admin, other, "Idempotency-Key", "register-nightly-1")
	expectProblem(t, r, 422, "idempotency_key_reused")
	if !strings.Contains(string(r.body), `"field":"Idempotency-Key"`) {
		t.Errorf("the problem does not name the header: %s", r.body)
	}
	expectProblem(t, e.do(http.MethodPost, "/v1/api-clients", admin, body, "Idempotency-Key", strings.Repeat("k", 256)), 422, "invalid_idempotency_key")
	// Keys are each admin's own: another admin's same key is another registration.
	otherAdmin, _, err := e.srv.Issuer.Mint(auth.Principal{Subject: "u-admin-2", Name: "Autre", Role: auth.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	theirs := e.do(http.MethodPost, "/v1/api-clients", otherAdmin, body, "Idempotency-Key", "register-nightly-1")
	if expect(t, theirs, 201); theirs.json(t)["clientId"] == created["clientId"] || theirs.json(t)["clientSecret"] == nil {
		t.Errorf("another admin's key replayed the first admin's registration: %s", theirs.body)
	}
}
