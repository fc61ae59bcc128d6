package api

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/notifications/internal/apptest"
	"github.com/plateforme-rome/rome/workflows/request"
)

// escaped is n characters beyond the Basic Multilingual Plane, each spelled
// as JSON's longest escape (a surrogate pair): 12 bytes a character.
func escaped(n int) string {
	return strings.Repeat(`\ud83d\ude00`, n)
}

func TestBodiesCappedPerRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	svc := e.token("worker", auth.RoleService, "")
	mod := e.token("mod", auth.RoleModerator, "")

	// The largest notification the platform sends fits: its title and text at
	// their limits, every character as long as JSON can write it.
	largest := fmt.Sprintf(`{"key": "k1", "event": "question", "requestId": "req-1", "codeRome": "M1805", "org": "opco-a",
		"title": "%s", "text": "%s", "link": "/requests/req-1", "actor": {"sub": "mod", "name": "Modératrice"},
		"to": {"users": ["alice", "bob"], "roles": ["moderator", "admin"], "orgs": ["opco-a"]}, "excludeUsers": ["mod"]}`,
		escaped(request.MaxNotificationTitle), escaped(request.MaxText))
	if r := e.do("POST", "/v1/notifications", svc, json.RawMessage(largest)); r.status != 201 {
		t.Fatalf("the largest notification: %d %v", r.status, r.body)
	}

	// Beyond its limit, refused before anything is read or stored.
	over := sample("k2")
	over.Text = strings.Repeat("x", maxNotificationBody)
	e.do("POST", "/v1/notifications", svc, over).problem(t, 413, "body_too_large")
	if r := e.do("POST", "/v1/notifications", svc, sample("k2")); r.status != 201 || r.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("k2 was stored by the refused request: %d %v", r.status, r.header)
	}

	// The preferences are small: a 16 KiB address is no address.
	prefs := notifclient.Preferences{Email: strings.Repeat("a", 16<<10) + "@example.org"}
	e.do("PUT", "/v1/notifications/preferences", mod, prefs).problem(t, 413, "body_too_large")
	e.do("POST", "/v1/follows", mod, notifclient.Follow{RequestID: strings.Repeat("r", maxFollowBody)}).problem(t, 413, "body_too_large")
}

// The routes without a body refuse one. The OpenAPI document does not list
// their 413 yet: the router is called directly.
func TestRoutesWithoutBodyRefuseOne(t *testing.T) {
	t.Parallel()
	issuer, err := auth.NewDevIssuer(t.TempDir(), "http://issuer.test/dev")
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{Issuer: issuer.Issuer(), Audience: auth.DevAudience, KeySet: issuer.KeySet()})
	if err != nil {
		t.Fatal(err)
	}
	router := Router(Deps{Verifier: v, Service: apptest.New(t, dbtest.Open(t, database.SQLite), newFakeTargets()).App})
	admin, _, err := issuer.Mint(auth.Principal{Subject: "root", Role: auth.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v1/notifications/ntf_x/read", "/v1/notifications/dead-letters/mail_x/retry"} {
		for body, want := range map[string]int{"": 404, "{}": 413} {
			req := httptest.NewRequest("POST", path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+admin)
			rec := httptest.NewRecorder()
			router.ServeHTTP(rec, req)
			if rec.Code != want {
				t.Errorf("POST %s with %q: %d %s, want %d", path, body, rec.Code, rec.Body, want)
			}
		}
	}
}
