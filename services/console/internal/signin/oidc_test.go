package signin

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
)

const (
	testClientID = "console-client"
	testRedirect = "http://console.test/connexion/retour"
	testAPIAud   = "api://rome"
	testKID      = "k1"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func signingKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		var err error
		if testKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return testKey
}

// grant is what the fake provider remembers about an authorization code.
type grant struct {
	challenge, redirect, nonce string
}

// fakeProvider is an in-process OIDC provider: discovery, /authorize (PKCE
// S256 required), /token (authorization_code and refresh_token grants) and
// JWKS. Its knobs are set before the flow starts.
type fakeProvider struct {
	*httptest.Server
	key *rsa.PrivateKey

	deny         bool   // /authorize answers error=access_denied
	opaqueAccess bool   // access tokens are not JWTs
	idAudience   string // the ID token's aud, default testClientID

	mu       sync.Mutex
	codes    map[string]grant
	refresh  map[string]bool
	issued   int
	lastAuth url.Values
}

func newFakeProvider(t *testing.T) *fakeProvider {
	t.Helper()
	f := &fakeProvider{key: signingKey(t), codes: map[string]grant{}, refresh: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer":                                f.URL,
			"authorization_endpoint":                f.URL + "/authorize",
			"token_endpoint":                        f.URL + "/token",
			"jwks_uri":                              f.URL + "/keys",
			"end_session_endpoint":                  f.URL + "/logout",
			"response_types_supported":              []string{"code"},
			"code_challenge_methods_supported":      []string{"S256"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &f.key.PublicKey, KeyID: testKID, Algorithm: "RS256", Use: "sig"},
		}})
	})
	mux.HandleFunc("GET /authorize", f.authorize)
	mux.HandleFunc("POST /token", f.token)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeProvider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	f.lastAuth = q
	f.mu.Unlock()
	challenge := q.Get("code_challenge")
	if q.Get("response_type") != "code" || q.Get("client_id") != testClientID || q.Get("redirect_uri") != testRedirect ||
		q.Get("code_challenge_method") != "S256" || len(challenge) != 43 || !strings.Contains(q.Get("scope"), "openid") {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	back := url.Values{"state": {q.Get("state")}}
	if f.deny {
		back.Set("error", "access_denied")
		back.Set("error_description", "The user cancelled.")
	} else {
		code := randomString()
		f.mu.Lock()
		f.codes[code] = grant{challenge: challenge, redirect: q.Get("redirect_uri"), nonce: q.Get("nonce")}
		f.mu.Unlock()
		back.Set("code", code)
	}
	http.Redirect(w, r, q.Get("redirect_uri")+"?"+back.Encode(), http.StatusFound)
}

func (f *fakeProvider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// A public client: client_id in the body, no secret.
	if r.PostForm.Get("client_id") != testClientID {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	nonce := ""
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		g, ok := f.codes[r.PostForm.Get("code")]
		delete(f.codes, r.PostForm.Get("code")) // single use
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		switch {
		case !ok:
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "unknown code"})
			return
		case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "PKCE verification failed"})
			return
		case r.PostForm.Get("redirect_uri") != g.redirect:
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "redirect_uri mismatch"})
			return
		}
		nonce = g.nonce
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		if !f.refresh[rt] {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "refresh token expired"})
			return
		}
		delete(f.refresh, rt) // rotated
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}

	f.issued++
	now := time.Now()
	aud := f.idAudience
	if aud == "" {
		aud = testClientID
	}
	idClaims := map[string]any{"iss": f.URL, "sub": "user-1", "aud": aud, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "name": "Alice Martin"}
	if nonce != "" {
		idClaims["nonce"] = nonce
	}
	access := "opaque-" + randomString()
	if !f.opaqueAccess {
		access = f.sign(map[string]any{"iss": f.URL, "sub": "user-1", "aud": testAPIAud, "iat": now.Unix(),
			"exp": now.Add(time.Hour).Unix(), "roles": []string{"partner"}, "org": "opco", "n": f.issued})
	}
	refresh := randomString()
	f.refresh[refresh] = true
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": 3600,
		"refresh_token": refresh, "id_token": f.sign(idClaims),
	})
}

func (f *fakeProvider) sign(claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: f.key, KeyID: testKID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		panic(err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		panic(err)
	}
	return tok
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func newTestOIDC(t *testing.T, f *fakeProvider) *OIDC {
	t.Helper()
	o, err := NewOIDC(t.Context(), OIDCConfig{Issuer: f.URL, ClientID: testClientID, RedirectURL: testRedirect,
		Scopes: strings.Fields("profile offline_access api://rome/.default"), HTTPClient: f.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// authorize starts a sign-in and follows the browser to the provider and
// back, returning the Pending and the redirect's query.
func authorize(t *testing.T, o *OIDC, returnTo string) (Pending, url.Values) {
	t.Helper()
	authURL, p := o.Start(returnTo)
	// The cookie round trip.
	p, err := DecodePending(p.Encode())
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := browser.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d", res.StatusCode)
	}
	back, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Scheme + "://" + back.Host + back.Path; got != testRedirect {
		t.Fatalf("redirected to %s", got)
	}
	return p, back.Query()
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFakeProvider(t)
	o := newTestOIDC(t, f)
	p, q := authorize(t, o, "/demandes?statut=SUBMITTED")
	if p.ReturnTo != "/demandes?statut=SUBMITTED" {
		t.Fatalf("returnTo = %q", p.ReturnTo)
	}
	if scope := f.lastAuth.Get("scope"); !strings.HasPrefix(scope, "openid ") || !strings.Contains(scope, "api://rome/.default") {
		t.Fatalf("scope = %q", scope)
	}

	tok, err := o.Finish(t.Context(), p, q)
	if err != nil {
		t.Fatal(err)
	}
	if exp, isJWT := jwtExpiry(tok.Bearer); !isJWT || strings.HasPrefix(tok.Bearer, "opaque-") || exp.IsZero() {
		t.Fatalf("bearer is not the access token JWT: %q", tok.Bearer)
	}
	if !strings.Contains(claim(t, tok.Bearer, "aud"), testAPIAud) {
		t.Fatalf("bearer audience = %s", claim(t, tok.Bearer, "aud"))
	}
	if tok.Refresh == "" || tok.IDToken == "" {
		t.Fatalf("tokens = %+v", tok)
	}
	if d := time.Until(tok.Expiry); d < 59*time.Minute || d > time.Hour {
		t.Fatalf("expiry in %v", d)
	}
	if o.EndSessionURL() != f.URL+"/logout" {
		t.Fatalf("end session = %q", o.EndSessionURL())
	}

	// The code is single use: replaying the redirect fails at the provider.
	_, err = o.Finish(t.Context(), p, q)
	var pe *ProviderError
	if !errors.As(err, &pe) || pe.Code != "invalid_grant" {
		t.Fatalf("replayed code: %v", err)
	}
}

func TestOpaqueAccessTokenFallsBackToIDToken(t *testing.T) {
	t.Parallel()
	f := newFakeProvider(t)
	f.opaqueAccess = true
	o := newTestOIDC(t, f)
	p, q := authorize(t, o, "/")
	tok, err := o.Finish(t.Context(), p, q)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Bearer != tok.IDToken || claim(t, tok.Bearer, "aud") != `"`+testClientID+`"` {
		t.Fatalf("bearer = %q, want the ID token", tok.Bearer)
	}
	if d := time.Until(tok.Expiry); d < 59*time.Minute || d > time.Hour {
		t.Fatalf("expiry in %v", d)
	}
}

func TestFinishRefusals(t *testing.T) {
	t.Parallel()
	f := newFakeProvider(t)
	o := newTestOIDC(t, f)

	t.Run("wrong state", func(t *testing.T) {
		t.Parallel()
		p, q := authorize(t, o, "/")
		q.Set("state", p.State[:len(p.State)-1]+"x")
		if _, err := o.Finish(t.Context(), p, q); !errors.Is(err, ErrStateMismatch) {
			t.Fatalf("err = %v", err)
		}
		q.Del("state")
		if _, err := o.Finish(t.Context(), p, q); !errors.Is(err, ErrStateMismatch) {
			t.Fatalf("no state: err = %v", err)
		}
	})
	t.Run("wrong verifier", func(t *testing.T) {
		t.Parallel()
		p, q := authorize(t, o, "/")
		p.Verifier = oauth2.GenerateVerifier()
		_, err := o.Finish(t.Context(), p, q)
		var pe *ProviderError
		if !errors.As(err, &pe) || pe.Code != "invalid_grant" || !strings.Contains(pe.Description, "PKCE") {
			t.Fatalf("err = %v", err)
		}
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) {
			t.Fatalf("the token endpoint's error is not wrapped: %v", err)
		}
	})
	t.Run("nonce mismatch", func(t *testing.T) {
		t.Parallel()
		p, q := authorize(t, o, "/")
		p.Nonce = randomString()
		if _, err := o.Finish(t.Context(), p, q); !errors.Is(err, ErrNonceMismatch) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		p, q := authorize(t, o, "/")
		p.Created = time.Now().Add(-PendingTTL - time.Second)
		if _, err := o.Finish(t.Context(), p, q); !errors.Is(err, ErrPendingExpired) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("another issuer", func(t *testing.T) {
		t.Parallel()
		p, q := authorize(t, o, "/")
		q.Set("iss", "https://evil.example")
		if _, err := o.Finish(t.Context(), p, q); !errors.Is(err, ErrIssuerMismatch) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("no code", func(t *testing.T) {
		t.Parallel()
		p, q := authorize(t, o, "/")
		q.Del("code")
		if _, err := o.Finish(t.Context(), p, q); !errors.Is(err, ErrMissingCode) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestIDTokenForAnotherClientRefused(t *testing.T) {
	t.Parallel()
	f := newFakeProvider(t)
	f.idAudience = "someone-else"
	o := newTestOIDC(t, f)
	p, q := authorize(t, o, "/")
	_, err := o.Finish(t.Context(), p, q)
	if err == nil || !strings.Contains(err.Error(), "ID token refused") {
		t.Fatalf("err = %v", err)
	}
}

func TestProviderError(t *testing.T) {
	t.Parallel()
	f := newFakeProvider(t)
	f.deny = true
	o := newTestOIDC(t, f)
	p, q := authorize(t, o, "/")
	_, err := o.Finish(t.Context(), p, q)
	var pe *ProviderError
	if !errors.As(err, &pe) || pe.Code != "access_denied" || pe.Description != "The user cancelled." {
		t.Fatalf("err = %v", err)
	}
	// A forged error redirect (without the browser's state) is not believed.
	q.Set("state", "forged")
	if _, err := o.Finish(t.Context(), p, q); !errors.Is(err, ErrStateMismatch) {
		t.Fatalf("forged error: %v", err)
	}
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	f := newFakeProvider(t)
	o := newTestOIDC(t, f)
	p, q := authorize(t, o, "/")
	first, err := o.Finish(t.Context(), p, q)
	if err != nil {
		t.Fatal(err)
	}
	second, err := o.Refresh(t.Context(), first.Refresh)
	if err != nil {
		t.Fatal(err)
	}
	if second.Bearer == first.Bearer || second.Refresh == "" || second.Refresh == first.Refresh || second.IDToken == "" {
		t.Fatalf("refreshed tokens = %+v", second)
	}
	if _, isJWT := jwtExpiry(second.Bearer); !isJWT || time.Until(second.Expiry) < 59*time.Minute {
		t.Fatalf("refreshed bearer %q expiring %v", second.Bearer, second.Expiry)
	}
	// The old refresh token was rotated away.
	_, err = o.Refresh(t.Context(), first.Refresh)
	var pe *ProviderError
	if !errors.As(err, &pe) || pe.Code != "invalid_grant" {
		t.Fatalf("rotated refresh token: %v", err)
	}
	if _, err := o.Refresh(t.Context(), ""); err == nil {
		t.Fatal("empty refresh token accepted")
	}
}

func TestNewOIDCDiscoveryFails(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	defer dead.Close()
	_, err := NewOIDC(t.Context(), OIDCConfig{Issuer: dead.URL, ClientID: testClientID, RedirectURL: testRedirect})
	if err == nil || !strings.Contains(err.Error(), dead.URL) {
		t.Fatalf("err = %v", err)
	}
}

func TestPendingEncoding(t *testing.T) {
	t.Parallel()
	p := Pending{State: "s", Nonce: "n", Verifier: "v", ReturnTo: "/x", Created: time.Now().UTC().Truncate(time.Second)}
	enc := p.Encode()
	if strings.ContainsAny(enc, "=+/;, ") {
		t.Fatalf("not a cookie-safe value: %q", enc)
	}
	got, err := DecodePending(enc)
	if err != nil || got != p {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	for _, bad := range []string{"", "%%%", base64.RawURLEncoding.EncodeToString([]byte(`{"s":"s"}`)), strings.Repeat("a", 9000)} {
		if _, err := DecodePending(bad); err == nil {
			t.Errorf("%.20q decoded", bad)
		}
	}
	// A returnTo tampered with in the cookie is sanitised again.
	p.ReturnTo = "//evil.example"
	if got, err := DecodePending(p.Encode()); err != nil || got.ReturnTo != "/" {
		t.Fatalf("tampered returnTo: %+v, %v", got, err)
	}
}

func TestSafeReturnTo(t *testing.T) {
	t.Parallel()
	f := newFakeProvider(t)
	o := newTestOIDC(t, f)
	for in, want := range map[string]string{
		"/demandes?x=1":                 "/demandes?x=1",
		"/demandes/42#ops":              "/demandes/42#ops",
		"/":                             "/",
		"":                              "/",
		"//evil.example":                "/",
		"///evil.example":               "/",
		"/\\evil.example":               "/",
		"/\t/evil.example":              "/",
		"/\r\nSet-Cookie:x":             "/",
		"https://evil":                  "/",
		"javascript:alert(1)":           "/",
		"demandes":                      "/",
		"/" + strings.Repeat("a", 2000): "/",
	} {
		if got := SafeReturnTo(in); got != want {
			t.Errorf("SafeReturnTo(%q) = %q, want %q", in, got, want)
		}
		if _, p := o.Start(in); p.ReturnTo != want {
			t.Errorf("Start(%q).ReturnTo = %q, want %q", in, p.ReturnTo, want)
		}
	}
}

func TestStart(t *testing.T) {
	t.Parallel()
	f := newFakeProvider(t)
	o := newTestOIDC(t, f)
	authURL, p := o.Start("/")
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	sum := sha256.Sum256([]byte(p.Verifier))
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") != base64.RawURLEncoding.EncodeToString(sum[:]) ||
		q.Get("state") != p.State || q.Get("nonce") != p.Nonce || q.Get("code_verifier") != "" {
		t.Fatalf("authorization URL %s for %+v", authURL, p)
	}
	if _, p2 := o.Start("/"); p2.State == p.State || p2.Nonce == p.Nonce || p2.Verifier == p.Verifier {
		t.Fatal("two sign-ins share a secret")
	}
	if time.Since(p.Created) > time.Minute {
		t.Fatalf("created %v", p.Created)
	}
}

// claim returns a JWT claim's raw JSON, unverified.
func claim(t *testing.T, token, name string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(b, &claims); err != nil {
		t.Fatal(err)
	}
	return string(claims[name])
}

func clearEnv(t *testing.T) {
	for _, k := range []string{"AUTH_ISSUER", "CONSOLE_OIDC_CLIENT_ID", "CONSOLE_OIDC_CLIENT_SECRET", "CONSOLE_OIDC_REDIRECT_URL",
		"CONSOLE_OIDC_SCOPES", "CONSOLE_PUBLIC_URL", "CONSOLE_PORT"} {
		t.Setenv(k, "")
	}
}

func TestOIDCConfigFromEnv(t *testing.T) {
	clearEnv(t)
	t.Setenv("AUTH_ISSUER", "https://login.microsoftonline.com/t/v2.0")
	if _, ok, err := OIDCConfigFromEnv(); ok || err != nil {
		t.Fatalf("without client id: ok=%v err=%v", ok, err)
	}

	t.Setenv("CONSOLE_OIDC_CLIENT_ID", "app-1")
	cfg, ok, err := OIDCConfigFromEnv()
	if err != nil || !ok {
		t.Fatalf("defaults: ok=%v err=%v", ok, err)
	}
	if cfg.Issuer != "https://login.microsoftonline.com/t/v2.0" || cfg.ClientID != "app-1" || cfg.ClientSecret != "" ||
		cfg.RedirectURL != "http://127.0.0.1:8080/connexion/retour" ||
		strings.Join(cfg.Scopes, " ") != "openid profile email offline_access" {
		t.Fatalf("defaults: %+v", cfg)
	}

	t.Setenv("CONSOLE_PORT", "9090")
	if cfg, _, err = OIDCConfigFromEnv(); err != nil || cfg.RedirectURL != "http://127.0.0.1:9090/connexion/retour" {
		t.Fatalf("CONSOLE_PORT: %+v, %v", cfg, err)
	}
	t.Setenv("CONSOLE_PUBLIC_URL", "https://console.rome.example/")
	if cfg, _, err = OIDCConfigFromEnv(); err != nil || cfg.RedirectURL != "https://console.rome.example/connexion/retour" {
		t.Fatalf("CONSOLE_PUBLIC_URL: %+v, %v", cfg, err)
	}
	t.Setenv("CONSOLE_OIDC_REDIRECT_URL", "https://rome.example/console/cb")
	t.Setenv("CONSOLE_OIDC_SCOPES", " openid  api://rome/.default offline_access ")
	t.Setenv("CONSOLE_OIDC_CLIENT_SECRET", "s3cret")
	cfg, _, err = OIDCConfigFromEnv()
	if err != nil || cfg.RedirectURL != "https://rome.example/console/cb" || cfg.ClientSecret != "s3cret" ||
		strings.Join(cfg.Scopes, "|") != "openid|api://rome/.default|offline_access" {
		t.Fatalf("explicit: %+v, %v", cfg, err)
	}

	for name, env := range map[string]map[string]string{
		"AUTH_ISSUER":               {"AUTH_ISSUER": ""},
		"CONSOLE_OIDC_REDIRECT_URL": {"CONSOLE_OIDC_REDIRECT_URL": "/connexion/retour"},
		"CONSOLE_PUBLIC_URL":        {"CONSOLE_OIDC_REDIRECT_URL": "", "CONSOLE_PUBLIC_URL": "console.rome.example"},
		"CONSOLE_PORT":              {"CONSOLE_OIDC_REDIRECT_URL": "", "CONSOLE_PUBLIC_URL": "", "CONSOLE_PORT": "http"},
	} {
		t.Run(name, func(t *testing.T) {
			for k, v := range env {
				t.Setenv(k, v)
			}
			if _, ok, err := OIDCConfigFromEnv(); ok || err == nil || !strings.Contains(err.Error(), name) {
				t.Fatalf("ok=%v err=%v", ok, err)
			}
		})
	}
}
