package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/plateforme-rome/rome/platform/httpx"
)

const (
	testAudience = "api://rome"
	testKID      = "key-1"
)

var (
	keysOnce          sync.Once
	goodKey, rogueKey *rsa.PrivateKey
)

func keys(t *testing.T) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if goodKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if rogueKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return goodKey, rogueKey
}

// idp is a local OIDC provider: discovery document plus JWKS with goodKey.
type idp struct {
	*httptest.Server
	jwksHits atomic.Int32
}

func newIDP(t *testing.T) *idp {
	good, _ := keys(t)
	p := &idp{}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.URL, "jwks_uri": p.URL + "/keys",
			"authorization_endpoint": p.URL + "/authorize", "token_endpoint": p.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		p.jwksHits.Add(1)
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &good.PublicKey, KeyID: testKID, Algorithm: "RS256", Use: "sig"},
		}})
	})
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

func sign(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func claims(iss string, overrides map[string]any) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss": iss, "aud": testAudience, "sub": "user-1", "name": "Alice Martin",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"roles": []string{"partner"}, "org": "opco-2i",
	}
	for k, v := range overrides {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func wantProblem(t *testing.T, err error, status int, code string) {
	t.Helper()
	var p *httpx.Problem
	if !errors.As(err, &p) || p.Status != status || p.Code != code {
		t.Fatalf("error = %v, want problem %d %s", err, status, code)
	}
}

func TestVerifyThroughDiscovery(t *testing.T) {
	good, rogue := keys(t)
	p := newIDP(t)
	v, err := NewVerifier(Config{Issuer: p.URL, Audience: testAudience})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	got, err := v.Verify(ctx, sign(t, good, testKID, claims(p.URL, nil)))
	if err != nil {
		t.Fatal(err)
	}
	want := Principal{Subject: "user-1", Name: "Alice Martin", Role: RolePartner, Org: "opco-2i"}
	if got != want {
		t.Fatalf("principal = %+v, want %+v", got, want)
	}

	cases := []struct {
		name   string
		token  string
		status int
		code   string
	}{
		{"expired", sign(t, good, testKID, claims(p.URL, map[string]any{"exp": time.Now().Add(-time.Minute).Unix(), "iat": time.Now().Add(-time.Hour).Unix()})), 401, "invalid_token"},
		{"wrong issuer", sign(t, good, testKID, claims("https://evil.example", nil)), 401, "invalid_token"},
		{"wrong audience", sign(t, good, testKID, claims(p.URL, map[string]any{"aud": "api://other"})), 401, "invalid_token"},
		{"wrong signature", sign(t, rogue, testKID, claims(p.URL, nil)), 401, "invalid_token"},
		{"unknown key", sign(t, rogue, "key-2", claims(p.URL, nil)), 401, "invalid_token"},
		{"not a jwt", "not-a-token", 401, "invalid_token"},
		{"no subject", sign(t, good, testKID, claims(p.URL, map[string]any{"sub": nil})), 401, "invalid_token"},
		{"unknown role", sign(t, good, testKID, claims(p.URL, map[string]any{"roles": []string{"superuser"}})), 401, "invalid_role"},
		{"no role", sign(t, good, testKID, claims(p.URL, map[string]any{"roles": nil})), 401, "invalid_role"},
		{"two roles", sign(t, good, testKID, claims(p.URL, map[string]any{"roles": []string{"partner", "admin"}})), 401, "invalid_role"},
		{"partner without org", sign(t, good, testKID, claims(p.URL, map[string]any{"org": nil})), 401, "missing_org"},
		{"partner with blank org", sign(t, good, testKID, claims(p.URL, map[string]any{"org": "  "})), 401, "missing_org"},
		{"name with a NUL", sign(t, good, testKID, claims(p.URL, map[string]any{"name": "Alice\u0000"})), 401, "invalid_token"},
		{"org with a right-to-left override", sign(t, good, testKID, claims(p.URL, map[string]any{"org": "opco\u202e"})), 401, "invalid_token"},
		{"name of 201 characters", sign(t, good, testKID, claims(p.URL, map[string]any{"name": strings.Repeat("a", 201)})), 401, "invalid_token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(ctx, tc.token)
			wantProblem(t, err, tc.status, tc.code)
		})
	}

	// A role given as a plain string, and a role without an organisation.
	got, err = v.Verify(ctx, sign(t, good, testKID, claims(p.URL, map[string]any{"roles": "moderator", "org": nil})))
	if err != nil || got.Role != RoleModerator || got.Org != "" {
		t.Fatalf("moderator: %+v, %v", got, err)
	}
	// The e-mail and the Entra object id come from their claims; an e-mail that is
	// not a bare address is dropped.
	got, err = v.Verify(ctx, sign(t, good, testKID, claims(p.URL, map[string]any{"email": "alice@opco.example", "oid": "aad-0001"})))
	if err != nil || got.Email != "alice@opco.example" || got.EntraID != "aad-0001" {
		t.Fatalf("email and oid: %+v, %v", got, err)
	}
	got, err = v.Verify(ctx, sign(t, good, testKID, claims(p.URL, map[string]any{"email": "Alice <alice@opco.example>"})))
	if err != nil || got.Email != "" {
		t.Fatalf("display-name e-mail kept: %+v, %v", got, err)
	}
	// The same role twice is still one role.
	if _, err := v.Verify(ctx, sign(t, good, testKID, claims(p.URL, map[string]any{"roles": []string{"admin", "admin"}}))); err != nil {
		t.Fatalf("duplicated role: %v", err)
	}
}

func TestVerifyWithJWKSURLAndRoleMap(t *testing.T) {
	good, _ := keys(t)
	p := newIDP(t)
	roleMap, err := ParseRoleMap("Rome.Partner=partner, Rome.Moderator=moderator")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "https://login.microsoftonline.com/tenant/v2.0"
	v, err := NewVerifier(Config{Issuer: issuer, Audience: testAudience, JWKSURL: p.URL + "/keys",
		RoleClaim: "app_roles", OrgClaim: "extension_org", RoleMap: roleMap})
	if err != nil {
		t.Fatal(err)
	}
	tok := sign(t, good, testKID, claims(issuer, map[string]any{"roles": nil, "org": nil,
		"app_roles": []string{"Rome.Partner", "Other.Role"}, "extension_org": "cpme"}))
	got, err := v.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.Role != RolePartner || got.Org != "cpme" {
		t.Fatalf("principal = %+v", got)
	}
	// With a map, raw role names no longer count.
	_, err = v.Verify(t.Context(), sign(t, good, testKID, claims(issuer, map[string]any{"app_roles": []string{"admin"}})))
	wantProblem(t, err, 401, "invalid_role")
	if p.jwksHits.Load() == 0 {
		t.Fatal("the JWKS URL was never fetched")
	}
}

func TestDiscoveryUnavailable(t *testing.T) {
	good, _ := keys(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	v, err := NewVerifier(Config{Issuer: url, Audience: testAudience})
	if err != nil {
		t.Fatalf("a verifier must be created without reaching its issuer: %v", err)
	}
	_, err = v.Verify(t.Context(), sign(t, good, testKID, claims(url, nil)))
	wantProblem(t, err, 503, "auth_unavailable")
}

func TestParseRoleMap(t *testing.T) {
	for _, bad := range []string{"Rome.Partner", "=partner", "Rome.X=superuser"} {
		if _, err := ParseRoleMap(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	m, err := ParseRoleMap("")
	if err != nil || len(m) != 0 {
		t.Fatalf("empty map: %v %v", m, err)
	}
}

func clearAuthEnv(t *testing.T) {
	for _, k := range []string{"AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_JWKS_URL", "AUTH_ROLE_CLAIM", "AUTH_ROLE_MAP", "AUTH_ORG_CLAIM",
		"AUTH_CLIENT_ID", "AUTH_CLIENT_SECRET", "AUTH_TOKEN_URL", "AUTH_SCOPE", "ROME_DEV_MODE", "INTAKE_PORT"} {
		t.Setenv(k, "")
	}
}

func TestConfigFromEnv(t *testing.T) {
	clearAuthEnv(t)
	if _, err := ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), "AUTH_ISSUER") {
		t.Fatalf("production without issuer: %v", err)
	}
	t.Setenv("AUTH_ISSUER", "https://login.microsoftonline.com/t/v2.0")
	if _, err := ConfigFromEnv(); err == nil || !strings.Contains(err.Error(), "AUTH_AUDIENCE") {
		t.Fatalf("production without audience: %v", err)
	}
	t.Setenv("AUTH_AUDIENCE", "api://rome")
	t.Setenv("AUTH_ROLE_MAP", "Rome.Admin=admin")
	cfg, err := ConfigFromEnv()
	if err != nil || cfg.RoleClaim != "roles" || cfg.OrgClaim != "org" || cfg.RoleMap["Rome.Admin"] != RoleAdmin || cfg.JWKSURL != "" {
		t.Fatalf("production: %+v, %v", cfg, err)
	}

	clearAuthEnv(t)
	t.Setenv("ROME_DEV_MODE", "true")
	t.Setenv("INTAKE_PORT", "9181")
	cfg, err = ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Issuer != "http://127.0.0.1:9181/dev" || cfg.JWKSURL != "http://127.0.0.1:9181/dev/jwks.json" || cfg.Audience != DevAudience {
		t.Fatalf("dev defaults: %+v", cfg)
	}
}

func TestMiddleware(t *testing.T) {
	good, _ := keys(t)
	p := newIDP(t)
	v, err := NewVerifier(Config{Issuer: p.URL, Audience: testAudience})
	if err != nil {
		t.Fatal(err)
	}
	r := httpx.NewEngine("test")
	g := r.Group("/v1", Authenticate(v))
	g.GET("/me", func(c *gin.Context) {
		pr, ok := FromContext(c)
		if !ok {
			t.Error("no principal in context")
		}
		c.JSON(http.StatusOK, pr)
	})
	g.GET("/moderation", RequireRole(RoleModerator, RoleAdmin), func(c *gin.Context) { c.Status(http.StatusNoContent) })

	call := func(path, authz string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		return rec
	}
	code := func(rec *httptest.ResponseRecorder) string {
		var body map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		s, _ := body["code"].(string)
		return s
	}

	rec := call("/v1/me", "")
	if rec.Code != 401 || code(rec) != "unauthenticated" || rec.Header().Get("WWW-Authenticate") != "Bearer" {
		t.Fatalf("no token: %d %s %q", rec.Code, rec.Body, rec.Header().Get("WWW-Authenticate"))
	}
	rec = call("/v1/me", "Basic dXNlcjpwYXNz")
	if rec.Code != 401 || code(rec) != "unauthenticated" {
		t.Fatalf("basic auth: %d %s", rec.Code, rec.Body)
	}
	rec = call("/v1/me", "Bearer garbage")
	if rec.Code != 401 || code(rec) != "invalid_token" || !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("bad token: %d %s %q", rec.Code, rec.Body, rec.Header().Get("WWW-Authenticate"))
	}

	partner := sign(t, good, testKID, claims(p.URL, nil))
	rec = call("/v1/me", "Bearer "+partner)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"sub":"user-1"`) || !strings.Contains(rec.Body.String(), `"org":"opco-2i"`) {
		t.Fatalf("me: %d %s", rec.Code, rec.Body)
	}
	rec = call("/v1/moderation", "bearer "+partner)
	if rec.Code != 403 || code(rec) != "forbidden_role" {
		t.Fatalf("partner on moderation: %d %s", rec.Code, rec.Body)
	}
	moderator := sign(t, good, testKID, claims(p.URL, map[string]any{"roles": []string{"moderator"}, "org": nil}))
	if rec = call("/v1/moderation", "Bearer "+moderator); rec.Code != 204 {
		t.Fatalf("moderator on moderation: %d %s", rec.Code, rec.Body)
	}
}

func TestDevIssuer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	const iss = "http://127.0.0.1:8081/dev"

	// Concurrent first starts agree on one key.
	issuers := make([]*DevIssuer, 4)
	var wg sync.WaitGroup
	for i := range issuers {
		wg.Go(func() {
			d, err := NewDevIssuer(dir, iss)
			if err != nil {
				t.Error(err)
			}
			issuers[i] = d
		})
	}
	wg.Wait()
	for _, d := range issuers[1:] {
		if d == nil || issuers[0] == nil || d.kid != issuers[0].kid {
			t.Fatal("concurrent starts created different keys")
		}
	}
	info, err := os.Stat(filepath.Join(dir, DevKeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v", err, info.Mode())
	}

	paul := Principal{Subject: "p1", Name: "Paul", Role: RolePartner, Org: "opco", Email: "paul@opco.example", EntraID: "aad-p1"}
	tok, exp, err := issuers[0].Mint(paul)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(exp); d < DevTokenTTL-time.Minute || d > DevTokenTTL {
		t.Fatalf("expiry in %v, want about %v", d, DevTokenTTL)
	}

	// A restarted issuer (same state dir) still validates earlier tokens.
	restarted, err := NewDevIssuer(dir, iss)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(Config{Issuer: iss, Audience: DevAudience, KeySet: restarted.KeySet()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(t.Context(), tok)
	if err != nil || got != paul {
		t.Fatalf("verify dev token: %+v, %v", got, err)
	}

	for name, p := range map[string]Principal{
		"sub":   {Role: RoleAdmin},
		"role":  {Subject: "x", Role: "superuser"},
		"org":   {Subject: "x", Role: RolePartner},
		"email": {Subject: "x", Role: RoleAdmin, Email: "not an address"},
	} {
		_, _, err := issuers[0].Mint(p)
		var prob *httpx.Problem
		if !errors.As(err, &prob) || prob.Status != 422 || len(prob.Errors) != 1 || prob.Errors[0].Field != name {
			t.Errorf("mint without valid %s: %v", name, err)
		}
	}
}

// TestDevJWKSAndTokenSource runs the dev endpoints as the intake serves them
// and checks a service token obtained through them against the JWKS, as
// another service in dev mode would.
func TestDevJWKSAndTokenSource(t *testing.T) {
	clearAuthEnv(t)
	dev, err := NewDevIssuer(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	var tokenCalls atomic.Int32
	r := httpx.NewEngine("intake")
	r.Use(func(c *gin.Context) {
		if c.Request.URL.Path == "/dev/token" {
			tokenCalls.Add(1)
		}
	})
	dev.Register(r.Group("/dev"), nil)
	srv := httptest.NewServer(r)
	defer srv.Close()
	dev.issuer = srv.URL + "/dev"

	t.Setenv("ROME_DEV_MODE", "true")
	t.Setenv("AUTH_TOKEN_URL", srv.URL+"/dev/token")
	ts, err := NewTokenSource(t.Context(), "worker")
	if err != nil {
		t.Fatal(err)
	}
	tok1, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	tok2, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tokenCalls.Load() != 1 || tok1.AccessToken != tok2.AccessToken {
		t.Fatalf("token not cached: %d calls", tokenCalls.Load())
	}

	v, err := NewVerifier(Config{Issuer: dev.Issuer(), Audience: DevAudience, JWKSURL: srv.URL + "/dev/jwks.json"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(context.Background(), tok1.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if got.Role != RoleService || got.Subject != "service:worker" {
		t.Fatalf("service principal = %+v", got)
	}

	// A token close to its expiry is renewed before use.
	dev.ttl = 30 * time.Second
	ts, err = NewTokenSource(t.Context(), "worker")
	if err != nil {
		t.Fatal(err)
	}
	before := tokenCalls.Load()
	for range 2 {
		if _, err := ts.Token(); err != nil {
			t.Fatal(err)
		}
	}
	if n := tokenCalls.Load() - before; n != 2 {
		t.Fatalf("a token expiring within a minute must be renewed: %d calls for 2 uses", n)
	}

	// The endpoint's validation errors surface.
	res, err := http.Post(srv.URL+"/dev/token", "application/json", strings.NewReader(`{"sub":"x","role":"partner"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var prob map[string]any
	_ = json.NewDecoder(res.Body).Decode(&prob)
	if res.StatusCode != 422 || !strings.Contains(mustJSON(prob["errors"]), `"field":"org"`) {
		t.Fatalf("partner without org: %d %v", res.StatusCode, prob)
	}
}

func TestTokenSourceConfiguration(t *testing.T) {
	clearAuthEnv(t)
	if _, err := NewTokenSource(t.Context(), "worker"); err == nil {
		t.Fatal("production without client credentials accepted")
	}
	t.Setenv("AUTH_CLIENT_ID", "svc")
	if _, err := NewTokenSource(t.Context(), "worker"); err == nil || !strings.Contains(err.Error(), "AUTH_CLIENT_SECRET") {
		t.Fatalf("incomplete client credentials: %v", err)
	}

	// Client credentials against a local token endpoint.
	var form atomic.Value
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		form.Store(r.Form.Encode())
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"cc-token","token_type":"Bearer","expires_in":3600}`))
	}))
	defer tokenSrv.Close()
	t.Setenv("AUTH_CLIENT_SECRET", "secret")
	t.Setenv("AUTH_TOKEN_URL", tokenSrv.URL)
	t.Setenv("AUTH_SCOPE", "api://rome/.default")
	ts, err := NewTokenSource(t.Context(), "worker")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.Token()
	if err != nil || tok.AccessToken != "cc-token" {
		t.Fatalf("client credentials: %v %v", tok, err)
	}
	if f, _ := form.Load().(string); !strings.Contains(f, "grant_type=client_credentials") || !strings.Contains(f, "scope=api%3A%2F%2Frome%2F.default") {
		t.Fatalf("token request form = %q", f)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
