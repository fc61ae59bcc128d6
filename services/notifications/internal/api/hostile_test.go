package api

import (
	"net/http"
	"net/url"
	"strings"
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

// The codes ROME of GET /v1/follows/counts, given hostile values on both databases: a
// 422 naming codeRome, never a 5xx nor a count.
func TestHostileFollowerCountQueries(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := newEnvOn(t, d, func(h http.Handler) http.Handler { return h })
			mod := e.token("mod", auth.RoleModerator, "")
			for _, code := range []string{"M1805\x00", "M1805\u202e", "M1805\n", "\ufeffM1805", "Ｍ1805", "M１805", "M1805 ",
				"' OR 1=1 --", "M1805') OR ('1'='1", "%", "M\xff805", strings.Repeat("M1805", 10_000)} {
				q := url.Values{"codeRome": {"K2111", code}}
				e.do("GET", "/v1/follows/counts?"+q.Encode(), mod, nil).problem(t, 422, "invalid_query", "codeRome")
			}
		})
	}
}
