package api_test

import (
	"net/http"
	"testing"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/platform/httpx/hostiletest"
)

// Every field of the change-set routes, given hostile values one at a time, on both
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
				{"/v1/changesets", `{"id":"cs-hostile-1","requestId":"req-hostile","baseVersion":60,"codeRome":"M1805","operations":` + ops + `}`},
			}
			for _, r := range routes {
				t.Run(r.path, func(t *testing.T) {
					n := hostiletest.Run(t, r.valid, hostiletest.Server(http.MethodPost, e.srv.URL+r.path, service))
					t.Logf("%d hostile bodies sent", n)
				})
			}
		})
	}
}
