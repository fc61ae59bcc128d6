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
	"github.com/plateforme-rome/rome/services/intake/internal/directory"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
)

func setEnv(t testing.TB, kv map[string]string) {
	t.Helper()
	for _, k := range []string{"AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_JWKS_URL", "AUTH_ROLE_CLAIM", "AUTH_ROLE_MAP", "AUTH_ORG_CLAIM", "INTAKE_PORT", "DEV_ISSUER_URL"} {
		t.Setenv(k, "")
	}
	t.Setenv("ROME_STATE_DIR", t.TempDir())
	for k, v := range kv {
		t.Setenv(k, v)
	}
}

func devRouter(t *testing.T) *gin.Engine {
	t.Helper()
	return newEnv(t).h
}

type result struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func call(t *testing.T, h http.Handler, method, path, body, token string, header ...string) result {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := result{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &res.body); err != nil {
			t.Fatalf("%s %s: not a JSON object: %s", method, path, rec.Body)
		}
	}
	return res
}

func devToken(t *testing.T, h http.Handler, body string) string {
	t.Helper()
	res := call(t, h, "POST", "/dev/token", body, "")
	tok, _ := res.body["token"].(string)
	if res.status != 200 || tok == "" || res.body["expiresAt"] == nil {
		t.Fatalf("dev token: %d %v", res.status, res.body)
	}
	return tok
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	openapitest.Check(t, openAPI, devRouter(t).Routes())
}

func TestServesOpenAPI(t *testing.T) {
	res := call(t, devRouter(t), "GET", "/openapi.json", "", "")
	if res.status != 200 || res.body["openapi"] != "3.1.0" || res.header.Get("ETag") == "" {
		t.Fatalf("openapi.json: %d %v", res.status, res.body["openapi"])
	}
}

// TestDevTokenRoundTrip: a token from /dev/token is accepted by /v1/me
// through the real verifier, which returns the identity it was minted for.
func TestDevTokenRoundTrip(t *testing.T) {
	h := devRouter(t)
	tok := devToken(t, h, `{"sub":"alice","name":"Alice Martin","role":"partner","org":"opco-2i"}`)
	res := call(t, h, "GET", "/v1/me", "", tok)
	want := map[string]any{"sub": "alice", "name": "Alice Martin", "role": "partner", "org": "opco-2i"}
	if res.status != 200 || len(res.body) != len(want) {
		t.Fatalf("me: %d %v", res.status, res.body)
	}
	for k, v := range want {
		if res.body[k] != v {
			t.Fatalf("me.%s = %v, want %v", k, res.body[k], v)
		}
	}

	mod := devToken(t, h, `{"sub":"bob","role":"moderator"}`)
	if res := call(t, h, "GET", "/v1/me", "", mod); res.status != 200 || res.body["role"] != "moderator" || res.body["org"] != nil {
		t.Fatalf("moderator me: %d %v", res.status, res.body)
	}

	res = call(t, h, "GET", "/v1/me", "", tok[:len(tok)-4]+"AAAA")
	if res.status != 401 || res.body["code"] != "invalid_token" {
		t.Fatalf("tampered token: %d %v", res.status, res.body)
	}
	res = call(t, h, "GET", "/v1/me", "", "")
	if res.status != 401 || res.body["code"] != "unauthenticated" || res.header.Get("WWW-Authenticate") != "Bearer" {
		t.Fatalf("no token: %d %v", res.status, res.body)
	}
}

// TestDevTokenSurvivesRestart: the key is persisted in the state dir, so a
// token minted before a restart is still accepted after it.
func TestDevTokenSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	tok := devToken(t, e.h, `{"sub":"alice","role":"admin"}`)
	d, err := NewDeps(true, nil, e.dir)
	if err != nil {
		t.Fatal(err)
	}
	if res := call(t, Router(d), "GET", "/v1/me", "", tok); res.status != 200 {
		t.Fatalf("token rejected after restart: %d %v", res.status, res.body)
	}
}

// Two intakes on their own ports behind one address (DEV_ISSUER_URL) and one state
// directory: a dev token one mints is good on the other, and the other services expect
// its issuer.
func TestDevTokenGoodOnEveryReplica(t *testing.T) {
	setEnv(t, map[string]string{"ROME_DEV_MODE": "true", "DEV_ISSUER_URL": "http://127.0.0.1:18080/dev/"})
	url := dbtest.URL(t, database.SQLite)
	replica := func(port string) http.Handler {
		t.Setenv("INTAKE_PORT", port)
		st := store.New(dbtest.Connect(t, url))
		if err := st.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		d, err := NewDeps(true, nil, directory.New(st, nil))
		if err != nil {
			t.Fatal(err)
		}
		return Router(d)
	}
	first, second := replica("18081"), replica("18082")
	tok := devToken(t, first, `{"sub":"alice","role":"admin"}`)
	if res := call(t, second, "GET", "/v1/me", "", tok); res.status != 200 || res.body["sub"] != "alice" {
		t.Fatalf("the other replica refused the token: %d %v", res.status, res.body)
	}
	t.Setenv("INTAKE_PORT", "18083") // another service's
	if cfg, err := auth.ConfigFromEnv(); err != nil || cfg.Issuer != "http://127.0.0.1:18080/dev" || cfg.JWKSURL != "http://127.0.0.1:18080/dev/jwks.json" {
		t.Fatalf("the services expect %q (keys at %q), %v", cfg.Issuer, cfg.JWKSURL, err)
	}
}

func TestDevTokenValidation(t *testing.T) {
	h := devRouter(t)
	cases := []struct {
		name, body string
		status     int
		code       string
		field      string
	}{
		{"missing sub", `{"role":"admin"}`, 422, "invalid_principal", "sub"},
		{"unknown role", `{"sub":"x","role":"superuser"}`, 422, "invalid_principal", "role"},
		{"partner without org", `{"sub":"x","role":"partner"}`, 422, "invalid_principal", "org"},
		{"unknown field", `{"sub":"x","role":"admin","roles":["admin"]}`, 422, "invalid_body", "roles"},
		{"wrong type", `{"sub":"x","role":["admin"]}`, 422, "invalid_body", "role"},
		{"malformed", `{"sub":`, 400, "malformed_json", ""},
		{"empty", ``, 400, "malformed_json", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := call(t, h, "POST", "/dev/token", tc.body, "")
			if res.status != tc.status || res.body["code"] != tc.code {
				t.Fatalf("got %d %v", res.status, res.body)
			}
			if tc.field == "" {
				return
			}
			errs, _ := res.body["errors"].([]any)
			if len(errs) != 1 || errs[0].(map[string]any)["field"] != tc.field {
				t.Fatalf("errors = %v, want one naming %s", res.body["errors"], tc.field)
			}
		})
	}
}

// TestOtherServicesVerifyThroughJWKS: a service in dev mode validates the
// intake's tokens by fetching /dev/jwks.json, as notifications does.
func TestOtherServicesVerifyThroughJWKS(t *testing.T) {
	h := devRouter(t)
	srv := httptest.NewServer(h)
	defer srv.Close()
	tok := devToken(t, h, `{"sub":"svc","role":"service"}`)

	t.Setenv("AUTH_JWKS_URL", srv.URL+"/dev/jwks.json")
	cfg, err := auth.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(context.Background(), tok)
	if err != nil || p.Role != auth.RoleService || p.Subject != "svc" {
		t.Fatalf("verify through JWKS: %+v, %v", p, err)
	}
}

func TestDevRoutesAbsentOutsideDevMode(t *testing.T) {
	setEnv(t, map[string]string{"ROME_DEV_MODE": "false", "AUTH_ISSUER": "https://login.microsoftonline.com/tenant/v2.0", "AUTH_AUDIENCE": "api://rome"})
	d, err := NewDeps(false, nil, newDirectory(t))
	if err != nil {
		t.Fatal(err)
	}
	if d.Dev != nil {
		t.Fatal("dev issuer created outside dev mode")
	}
	h := Router(d)
	for _, rt := range [][2]string{{"POST", "/dev/token"}, {"GET", "/dev/jwks.json"}} {
		res := call(t, h, rt[0], rt[1], `{"sub":"x","role":"admin"}`, "")
		if res.status != 404 || res.body["code"] != "route_not_found" {
			t.Fatalf("%s %s outside dev mode: %d %v", rt[0], rt[1], res.status, res.body)
		}
	}
	if res := call(t, h, "GET", "/v1/me", "", ""); res.status != 401 {
		t.Fatalf("/v1/me without token: %d", res.status)
	}
}

func TestProductionNeedsAnIssuer(t *testing.T) {
	setEnv(t, map[string]string{"ROME_DEV_MODE": "false"})
	if _, err := NewDeps(false, nil, newDirectory(t)); err == nil || !strings.Contains(err.Error(), "AUTH_ISSUER") {
		t.Fatalf("started without an identity provider: %v", err)
	}
}

func TestReadinessUsesChecks(t *testing.T) {
	setEnv(t, map[string]string{"ROME_DEV_MODE": "true"})
	down := httpx.Check{Name: "temporal", Run: func(context.Context) error { return errors.New("down") }}
	d, err := NewDeps(true, []httpx.Check{down}, newDirectory(t))
	if err != nil {
		t.Fatal(err)
	}
	res := call(t, Router(d), "GET", "/readyz", "", "")
	if res.status != 503 || res.body["checks"].(map[string]any)["temporal"] != "failing" {
		t.Fatalf("readyz: %d %v", res.status, res.body)
	}
}
