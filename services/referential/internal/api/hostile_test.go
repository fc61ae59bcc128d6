package api_test

import (
	"encoding/json"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/platform/httpx/hostiletest"
)

// Every field of the write routes (change sets, API clients, the token route, webhooks), given hostile values one at a time, on both
// databases: no 5xx, and no text the platform must refuse is accepted (dry run or
// publication).
func TestHostileInputs(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d)
			service := e.token(auth.RoleService)
			ops := `[{"op":"add_appellation","libelle":"Développeur / Développeuse Rust","libelleCourt":"Dév. Rust"},
				{"op":"add_mobilite","toCodeRome":"M1403","rank":2},
				{"op":"add_savoir","new":{"libelle":"Langage Rust","categorie":"Techniques professionnelles"}},
				{"op":"set_text","field":"definition","text":"Conçoit des logiciels."}]`
			routes := []struct{ path, valid string }{
				{"/v1/changesets:validate", `{"codeRome":"M1805","operations":` + ops + `}`},
				{"/v1/changesets", `{"id":"cs-hostile-1","requestId":"req-hostile","requestTitle":"Ajouter Rust","baseVersion":60,"codeRome":"M1805","operations":` + ops + `}`},
			}
			for _, r := range routes {
				t.Run(r.path, func(t *testing.T) {
					n := hostiletest.Run(t, r.valid, hostiletest.Server(http.MethodPost, e.srv.URL+r.path, service))
					t.Logf("%d hostile bodies sent", n)
				})
			}
			t.Run("/v1/api-clients", func(t *testing.T) {
				n := hostiletest.Run(t, `{"name":"Job board sync","scopes":["api_rome-metiersv1","nomenclatureRome"]}`,
					hostiletest.Server(http.MethodPost, e.srv.URL+"/v1/api-clients", e.token(auth.RoleAdmin)))
				t.Logf("%d hostile bodies sent", n)
			})
			t.Run("/v1/webhooks", func(t *testing.T) {
				valid := `{"url":"http://127.0.0.1:9/hooks/rome?src=ref","events":["version.published","fiche.changed"],"codesRome":["M1805","M1806"]}`
				n := hostiletest.Run(t, valid, hostiletest.Server(http.MethodPost, e.srv.URL+"/v1/webhooks", e.token(auth.RoleAdmin)))
				t.Logf("%d hostile bodies sent", n)
			})
			t.Run("/connexion/oauth2/access_token", func(t *testing.T) {
				id, secret := registerClient(t, e.srv)
				valid := `{"grant_type":"client_credentials","client_id":"` + id + `","client_secret":"` + secret + `","scope":"api_rome-metiersv1 nomenclatureRome"}`
				n := hostiletest.Run(t, valid, formSend(t, e.srv.URL+"/connexion/oauth2/access_token?realm=/partenaire"))
				t.Logf("%d hostile forms sent", n)
			})
		})
	}
}

// formSend sends the battery's bodies as the token route reads them: each member a form
// field, a string as its text, any other value as its JSON.
func formSend(t *testing.T, url string) hostiletest.Send {
	return func(body []byte) int {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(body, &fields); err != nil {
			t.Fatalf("a variant that is not an object: %s", body)
		}
		form := make([]string, 0, len(fields))
		for k, raw := range fields {
			v := string(raw)
			if unq, err := strconv.Unquote(v); err == nil {
				v = unq
			}
			form = append(form, neturl.QueryEscape(k)+"="+neturl.QueryEscape(v))
		}
		res, err := http.Post(url, "application/x-www-form-urlencoded", strings.NewReader(strings.Join(form, "&")))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
}
