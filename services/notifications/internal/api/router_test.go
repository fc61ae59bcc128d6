package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/platform/httpx/openapitest"
	"github.com/plateforme-rome/rome/services/notifications/internal/apptest"
)

// devSetup serves a dev issuer's JWKS the way the intake does and points
// the notifications service at it through the standard dev settings.
func devSetup(t *testing.T) (*auth.DevIssuer, *gin.Engine) {
	t.Helper()
	for _, k := range []string{"AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_ROLE_CLAIM", "AUTH_ROLE_MAP", "AUTH_ORG_CLAIM"} {
		t.Setenv(k, "")
	}
	t.Setenv("ROME_DEV_MODE", "true")
	t.Setenv("INTAKE_PORT", "8081")
	dev, err := auth.NewDevIssuer(t.TempDir(), auth.DevIssuerURL(8081))
	if err != nil {
		t.Fatal(err)
	}
	jwks := gin.New()
	dev.Register(jwks.Group("/dev"), nil)
	srv := httptest.NewServer(jwks)
	t.Cleanup(srv.Close)
	t.Setenv("AUTH_JWKS_URL", srv.URL+"/dev/jwks.json")

	cfg, err := auth.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	down := httpx.Check{Name: "temporal", Run: func(context.Context) error { return errors.New("down") }}
	a := apptest.New(t, dbtest.Open(t, database.SQLite), newFakeTargets())
	return dev, Router(Deps{Verifier: v, Checks: []httpx.Check{down}, Service: a.App})
}

func get(t *testing.T, h http.Handler, path, token string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("GET %s: not JSON: %s", path, rec.Body)
	}
	return rec.Code, body
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	_, r := devSetup(t)
	openapitest.Check(t, openAPI, r.Routes())
}

func TestMeWithIntakeDevToken(t *testing.T) {
	dev, r := devSetup(t)
	tok, _, err := dev.Mint(auth.Principal{Subject: "alice", Name: "Alice", Role: auth.RolePartner, Org: "opco-2i"})
	if err != nil {
		t.Fatal(err)
	}
	status, body := get(t, r, "/v1/me", tok)
	if status != 200 || body["sub"] != "alice" || body["role"] != "partner" || body["org"] != "opco-2i" {
		t.Fatalf("me: %d %v", status, body)
	}
	status, body = get(t, r, "/v1/me", "")
	if status != 401 || body["code"] != "unauthenticated" {
		t.Fatalf("no token: %d %v", status, body)
	}
}

func TestNoDevRoutes(t *testing.T) {
	_, r := devSetup(t)
	for _, path := range []string{"/dev/token", "/dev/jwks.json"} {
		if status, body := get(t, r, path, ""); status != 404 || body["code"] != "route_not_found" {
			t.Fatalf("%s: %d %v", path, status, body)
		}
	}
}

func TestHealth(t *testing.T) {
	_, r := devSetup(t)
	if status, body := get(t, r, "/healthz", ""); status != 200 || body["status"] != "ok" {
		t.Fatalf("healthz: %d %v", status, body)
	}
	status, body := get(t, r, "/readyz", "")
	if status != 503 || !strings.Contains(body["type"].(string), "not_ready") {
		t.Fatalf("readyz with Temporal down: %d %v", status, body)
	}
}
