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
	expect(t, e.do(http.MethodPost, "/v1/api-clients", admin, map[string]string{"name": " "}), 422)
	r := e.do(http.MethodPost, "/v1/api-clients", admin, map[string]string{"name": "Job board sync"})
	expect(t, r, 201)
	client := r.json(t)
	id, secret := client["clientId"].(string), client["clientSecret"].(string)

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

	list := e.do(http.MethodGet, "/v1/api-clients", admin, nil).json(t)["items"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["clientSecret"] != nil {
		t.Errorf("clients %v", list)
	}
	expect(t, e.do(http.MethodDelete, "/v1/api-clients/"+id, admin, nil), 204)
	expect(t, e.do(http.MethodDelete, "/v1/api-clients/PAR_nope", admin, nil), 404)
	expect(t, e.do(http.MethodDelete, "/v1/api-clients/%00", admin, nil), 404)
	if r := token(valid); r.status != 401 {
		t.Errorf("revoked client got %d", r.status)
	}
}
