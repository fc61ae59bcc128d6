package e2e

import (
	"net/http"
	"testing"
)

// Every service recognises the dev tokens intake signs.
func testMe(t *testing.T, p *platform) {
	token := devToken(t, p, "e2e-partner", "partner", "opco-e2e")
	for name, base := range map[string]string{"intake": p.Intake, "notifications": p.Notifications} {
		var me struct {
			Sub  string `json:"sub"`
			Role string `json:"role"`
			Org  string `json:"org"`
		}
		callJSON(t, http.MethodGet, base+"/v1/me", token, nil, http.StatusOK, &me)
		if me.Sub != "e2e-partner" || me.Role != "partner" || me.Org != "opco-e2e" {
			t.Errorf("%s /v1/me = %+v, want the partner's sub, role and org", name, me)
		}
		wantProblem(t, http.MethodGet, base+"/v1/me", "", nil, http.StatusUnauthorized)
	}
}
