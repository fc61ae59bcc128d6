package api

import (
	"net/http"
	"testing"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/platform/httpx/hostiletest"
)

// Every field of every write route, given hostile values one at a time, on both
// databases: no 5xx, and no text the platform must refuse is accepted.
func TestHostileInputs(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnvOn(t, d, func(h http.Handler) http.Handler { return h })
			alice := e.token("alice", auth.RolePartner, "opco-a")
			service := e.token("service:worker", auth.RoleService, "")
			routes := []struct {
				method, path, token, valid string
			}{
				{"POST", "/v1/notifications", service, `{"key":"k-1","event":"submitted","requestId":"req-1","codeRome":"M1805","org":"opco-a",
					"title":"Nouvelle demande","text":"Développeur Rust","link":"https://console.example/demandes/req-1",
					"actor":{"sub":"alice","name":"Alice"},"to":{"roles":["moderator"],"users":["bob"],"orgs":["opco-a"]},"excludeUsers":["alice"]}`},
				{"PUT", "/v1/notifications/preferences", alice, `{"email":"alice@example.org",
					"events":{"question":{"inApp":true,"email":true,"teams":false,"frequency":"daily"}}}`},
				{"POST", "/v1/follows", alice, `{"requestId":"req-1"}`},
				{"POST", "/v1/follows", alice, `{"codeRome":"M1805"}`},
				{"DELETE", "/v1/follows", alice, `{"requestId":"req-1"}`},
				{"POST", "/internal/v1/teams-deliveries/claim", service, `{"owner":"worker-1","max":10}`},
				{"POST", "/internal/v1/teams-deliveries/teams_1/result", service, `{"owner":"worker-1","error":"Graph answered 503","retryAfterSeconds":30}`},
			}
			sent := 0
			for _, r := range routes {
				t.Run(r.method+" "+r.path, func(t *testing.T) {
					sent += hostiletest.Run(t, r.valid, hostiletest.Server(r.method, e.srv.URL+r.path, r.token))
				})
			}
			t.Logf("%d hostile bodies sent", sent)
		})
	}
}
