package ui

// The OpenID Connect sign-in, end to end at the UI's level: a browser without JavaScript
// (a cookie jar that follows no redirect by itself) goes from the console's router to an
// in-process identity provider and back, through the real signin.OIDC and the platform's
// auth.Verifier configured as the services configure it.

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/console/internal/session"
	"github.com/plateforme-rome/rome/services/console/internal/signin"
)

func TestOIDCSignInPage(t *testing.T) {
	t.Parallel()
	u := newOIDCUI(t, false)
	b := u.browser()

	// The OIDC button, carrying where to go once signed in; no dev form.
	body := checkPage(t, b.get("/connexion?retour=%2Fdemandes%3Fstatut%3DSUBMITTED"), http.StatusOK, "Connexion")
	mustContain(t, body, "Se connecter avec le compte de son organisation")
	mustNotContain(t, body, `action="/connexion/dev"`, "Connexion de développement")
	m := oidcButton.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no OIDC button:\n%s", excerpt(body))
	}

	// Following the button signs in and lands where asked.
	location(t, b.signIn(strings.ReplaceAll(m[1], "&amp;", "&")), "/demandes?statut=SUBMITTED")

	// The dev sign-in does not exist without dev mode.
	if w := u.browser().post("/connexion/dev", url.Values{"sub": {"mallory"}, "role": {"admin"}}); w.Code != http.StatusNotFound {
		t.Errorf("POST /connexion/dev: %d, want 404", w.Code)
	}
}

func TestOIDCSignIn(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		t.Run("secure="+strconv.FormatBool(secure), func(t *testing.T) {
			t.Parallel()
			u := newOIDCUI(t, secure)
			b := u.browser()

			// The button sends the browser to the provider with PKCE (S256), a state and a
			// nonce, and keeps them in a short-lived cookie.
			w := b.get("/connexion/oidc?retour=%2Fdemandes")
			if w.Code != http.StatusFound || !strings.HasPrefix(w.Header().Get("Location"), u.idp.URL+"/authorize?") {
				t.Fatalf("%d to %q, want 302 to the provider", w.Code, w.Header().Get("Location"))
			}
			authURL := w.Header().Get("Location")
			q := mustParseURL(t, authURL).Query()
			if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 ||
				q.Get("state") == "" || q.Get("nonce") == "" || q.Get("response_type") != "code" ||
				q.Get("client_id") != idpClientID || q.Get("redirect_uri") != u.origin+signin.RedirectPath {
				t.Fatalf("authorization request %v", q)
			}
			if pending := u.mustSetCookie(t, w, "rome_oidc"); pending.MaxAge != int(signin.PendingTTL/time.Second) {
				t.Errorf("the pending sign-in's cookie lives %d s", pending.MaxAge)
			}

			// The provider sends the browser back; the console opens a session and goes on.
			w = b.get(b.provider(authURL))
			location(t, w, "/demandes")
			id := u.mustSetCookie(t, w, "rome_session").Value
			if c := setCookie(w, u.cookieName("rome_oidc")); c == nil || c.MaxAge >= 0 {
				t.Errorf("the pending sign-in's cookie is not deleted: %v", c)
			}
			s, err := u.Sessions.Get(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			want := auth.Principal{Subject: "alice", Name: "Alice Martin", Role: auth.RolePartner, Org: "opco-2i"}
			if s.Person != want || s.Token != u.idp.accessTokens()[0] || s.RefreshToken == "" {
				t.Fatalf("session %+v", s)
			}

			// Signed in: a page shows the person and calls the services with their token.
			body := checkPage(t, b.get("/referentiel"), http.StatusOK, "Rechercher dans le ROME")
			mustContain(t, body, "Alice Martin · opco-2i", `action="/deconnexion"`)
			if got := lastBearer(u.ref); got != "Bearer "+s.Token {
				t.Errorf("the referential got %q, want the access token", got)
			}
		})
	}
}

func TestOIDCCallbackRefusals(t *testing.T) {
	t.Parallel()
	// Each case ends on the French sign-in page with its error, and no session.
	refused := func(t *testing.T, u *oidcUI, b *oidcBrowser, w *httptest.ResponseRecorder, status int, message string) {
		t.Helper()
		body := checkPage(t, w, status, "Connexion")
		mustContain(t, body, "Connexion impossible", htmlEscape(message), "Se connecter avec le compte de son organisation")
		if c := setCookie(w, u.cookieName("rome_session")); c != nil && c.Value != "" {
			t.Errorf("a session cookie was set: %v", c)
		}
		location(t, b.get("/referentiel"), "/connexion?retour=%2Freferentiel")
	}

	t.Run("wrong state", func(t *testing.T) {
		t.Parallel()
		u := newOIDCUI(t, false)
		b := u.browser()
		back := mustParseURL(t, b.provider(b.start("/connexion/oidc")))
		q := back.Query()
		q.Set("state", "forged")
		back.RawQuery = q.Encode()
		refused(t, u, b, b.get(back.String()), http.StatusBadRequest, "La connexion n'a pas abouti : recommencez.")
	})
	t.Run("no pending cookie", func(t *testing.T) {
		t.Parallel()
		u := newOIDCUI(t, false)
		alice := u.browser()
		back := alice.provider(alice.start("/connexion/oidc"))
		// Another browser (a link an attacker sent) cannot finish Alice's sign-in…
		other := u.browser()
		refused(t, u, other, other.get(back), http.StatusBadRequest,
			"La connexion a expiré ou a été ouverte dans un autre navigateur : recommencez.")
		// …which Alice still can: the code was not spent.
		location(t, alice.get(back), "/")
	})
	t.Run("provider refusal", func(t *testing.T) {
		t.Parallel()
		u := newOIDCUI(t, false)
		u.idp.set(func() { u.idp.deny = true })
		b := u.browser()
		refused(t, u, b, b.signIn("/connexion/oidc"), http.StatusForbidden,
			"La connexion a été refusée ou annulée auprès du fournisseur d'identité.")
	})
	t.Run("service account", func(t *testing.T) {
		t.Parallel()
		u := newOIDCUI(t, false)
		u.idp.set(func() { u.idp.role = "service" })
		b := u.browser()
		refused(t, u, b, b.signIn("/connexion/oidc"), http.StatusForbidden,
			"Un compte de service ne se connecte pas à la console.")
	})
	t.Run("no role", func(t *testing.T) {
		t.Parallel()
		u := newOIDCUI(t, false)
		u.idp.set(func() { u.idp.role = "Rome.Unknown" })
		b := u.browser()
		refused(t, u, b, b.signIn("/connexion/oidc"), http.StatusForbidden,
			"Votre compte n'a pas de rôle sur la plateforme, ou son jeton n'est pas valide.")
	})
}

func TestOIDCRefresh(t *testing.T) {
	t.Parallel()
	u := newOIDCUI(t, false)
	b := u.browser()
	w := b.signIn("/connexion/oidc")
	location(t, w, "/")
	id := setCookie(w, "rome_session").Value
	first, err := u.Sessions.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}

	// More than a minute before the token expires (in 120 s): no refresh.
	checkPage(t, b.get("/referentiel"), http.StatusOK, "Rechercher dans le ROME")
	if n := u.idp.refreshCount(); n != 0 {
		t.Fatalf("%d refreshes before the token nears its expiry", n)
	}

	// Less than a minute before: the page is served with the new token (which lives an hour).
	u.idp.set(func() { u.idp.expiresIn = 3600 })
	u.clock.advance(90 * time.Second)
	checkPage(t, b.get("/referentiel"), http.StatusOK, "Rechercher dans le ROME")
	tokens := u.idp.accessTokens()
	if n := u.idp.refreshCount(); n != 1 || len(tokens) != 2 {
		t.Fatalf("%d refreshes, %d tokens issued; want 1 and 2", n, len(tokens))
	}
	if got := lastBearer(u.ref); got != "Bearer "+tokens[1] {
		t.Errorf("the referential got %q, want the refreshed token", got)
	}
	s, err := u.Sessions.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if s.Token != tokens[1] || s.RefreshToken == "" || s.RefreshToken == first.RefreshToken ||
		s.TokenExpiry.Before(first.TokenExpiry.Add(50*time.Minute)) || s.Person != first.Person {
		t.Fatalf("after the refresh: %+v (before: %+v)", s, first)
	}

	// The new token is far from its expiry: kept.
	checkPage(t, b.get("/referentiel"), http.StatusOK, "Rechercher dans le ROME")
	if n := u.idp.refreshCount(); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}

	// A refresh the provider refuses (revoked): the session ends, the person signs in again.
	u.idp.set(func() { clear(u.idp.refreshTokens) })
	u.clock.advance(time.Hour)
	location(t, b.get("/referentiel"), "/connexion?retour=%2Freferentiel")
	if _, err := u.Sessions.Get(t.Context(), id); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("the session outlived a refused refresh: %v", err)
	}
}

func TestOIDCSignOut(t *testing.T) {
	t.Parallel()
	u := newOIDCUI(t, false)
	b := u.browser()
	w := b.signIn("/connexion/oidc")
	location(t, w, "/")
	id := setCookie(w, "rome_session").Value
	body := checkPage(t, b.get("/referentiel"), http.StatusOK, "Rechercher dans le ROME")
	m := signOutCSRF.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no sign-out form:\n%s", excerpt(body))
	}

	// Without the CSRF token, nothing happens.
	if w := b.post("/deconnexion", url.Values{}); w.Code != http.StatusForbidden {
		t.Fatalf("sign-out without the CSRF token: %d, want 403", w.Code)
	}
	if _, err := u.Sessions.Get(t.Context(), id); err != nil {
		t.Fatalf("the session ended without the CSRF token: %v", err)
	}

	// With it, the session ends here and at the provider.
	w = b.post("/deconnexion", url.Values{session.CSRFField: {m[1]}})
	location(t, w, u.idp.URL+"/logout?client_id=rome-console&post_logout_redirect_uri="+url.QueryEscape("http://console.test/connexion?message=deconnecte"))
	if c := setCookie(w, "rome_session"); c == nil || c.MaxAge >= 0 {
		t.Errorf("the session cookie is not deleted: %v", c)
	}
	if _, err := u.Sessions.Get(t.Context(), id); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("the session outlived the sign-out: %v", err)
	}
	location(t, b.get("/referentiel"), "/connexion?retour=%2Freferentiel")
}

// --- The console with OIDC sign-in --------------------------------------------------------

const (
	idpClientID = "rome-console"
	idpAudience = "api://rome" // the services' AUTH_AUDIENCE
)

var (
	oidcButton  = regexp.MustCompile(`<a class="fr-btn fr-btn--lg" href="(/connexion/oidc\?[^"]*)">`)
	signOutCSRF = regexp.MustCompile(`(?s)<form method="post" action="/deconnexion"[^>]*>\s*<input type="hidden" name="csrf" value="([^"]+)">`)
)

// oidcUI is the console without the dev form, signing people in with a fake provider,
// its clock (Deps.Now) set by the test, in front of a fake referential.
type oidcUI struct {
	*testUI
	idp    *fakeIdP
	ref    *fakeReferential
	clock  *testClock
	secure bool
	origin string // where the browser reaches the console
}

func newOIDCUI(t *testing.T, secure bool) *oidcUI {
	t.Helper()
	ref := &fakeReferential{}
	u := &oidcUI{testUI: newTestUI(t, nil, ref, nil), ref: ref, clock: &testClock{now: time.Now()},
		secure: secure, origin: "http://console.test"}
	if secure {
		u.origin = "https://console.test"
	}
	u.idp = newFakeIdP(t, u.origin+signin.RedirectPath)
	o, err := signin.NewOIDC(t.Context(), signin.OIDCConfig{Issuer: u.idp.URL, ClientID: idpClientID,
		RedirectURL: u.origin + signin.RedirectPath, Scopes: []string{"profile", "offline_access", idpAudience + "/.default"},
		HTTPClient: u.idp.Client()})
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{Issuer: u.idp.URL, Audience: idpAudience, JWKSURL: u.idp.URL + "/keys",
		RoleClaim: "roles", OrgClaim: "org", HTTPClient: u.idp.Client()})
	if err != nil {
		t.Fatal(err)
	}
	d := u.Deps
	d.OIDC, d.Verifier, d.DevSignIn, d.Now, d.PublicURL = o, v, false, u.clock.Now, "http://console.test"
	d.Cookies.Secure = secure
	u.Deps, u.Handler = d, Router(d)
	return u
}

// cookieName is the console's name for a cookie: __Host- prefixed when Secure.
func (u *oidcUI) cookieName(name string) string {
	if u.secure {
		return "__Host-" + name
	}
	return name
}

// mustSetCookie returns the cookie the response sets, checking its attributes: HttpOnly,
// SameSite=Lax, and Secure with the __Host- prefix's rules when the console is on HTTPS.
func (u *oidcUI) mustSetCookie(t *testing.T, w *httptest.ResponseRecorder, name string) *http.Cookie {
	t.Helper()
	name = u.cookieName(name)
	c := setCookie(w, name)
	if c == nil || c.Value == "" {
		t.Fatalf("no %s cookie set: %q", name, w.Header().Values("Set-Cookie"))
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != u.secure {
		t.Errorf("cookie %s: HttpOnly %v, SameSite %v, Secure %v", name, c.HttpOnly, c.SameSite, c.Secure)
	}
	if u.secure && (c.Path != "/" || c.Domain != "") {
		t.Errorf("cookie %s: Path %q, Domain %q break the __Host- prefix's rules", name, c.Path, c.Domain)
	}
	return c
}

// setCookie is the cookie of that name the response sets, nil if none.
func setCookie(w *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// lastBearer is the Authorization header of the referential's last request.
func lastBearer(f *fakeReferential) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.tokens) == 0 {
		return ""
	}
	return f.tokens[len(f.tokens)-1]
}

func mustParseURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// testClock is a clock the test moves forward.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// --- The browser ---------------------------------------------------------------------------

// oidcBrowser keeps cookies like a browser and follows no redirect by itself. The console
// is served in process; the provider over HTTP.
type oidcBrowser struct {
	t   *testing.T
	u   *oidcUI
	jar *cookiejar.Jar
}

func (u *oidcUI) browser() *oidcBrowser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		u.t.Fatal(err)
	}
	return &oidcBrowser{t: u.t, u: u, jar: jar}
}

// console sends a request to the console; target is a path or a URL on the console.
func (b *oidcBrowser) console(method, target string, form url.Values) *httptest.ResponseRecorder {
	b.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.u.origin + target
	}
	if !strings.HasPrefix(target, b.u.origin+"/") {
		b.t.Fatalf("%s is not on the console (%s)", target, b.u.origin)
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range b.jar.Cookies(r.URL) {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	b.u.Handler.ServeHTTP(w, r)
	b.jar.SetCookies(r.URL, w.Result().Cookies())
	return w
}

func (b *oidcBrowser) get(target string) *httptest.ResponseRecorder {
	b.t.Helper()
	return b.console(http.MethodGet, target, nil)
}

func (b *oidcBrowser) post(target string, form url.Values) *httptest.ResponseRecorder {
	b.t.Helper()
	return b.console(http.MethodPost, target, form)
}

// start follows the sign-in button (target: /connexion/oidc?…), returning the provider's
// authorization URL it redirects to.
func (b *oidcBrowser) start(target string) string {
	b.t.Helper()
	w := b.get(target)
	if w.Code != http.StatusFound {
		b.t.Fatalf("GET %s: %d, want 302; page:\n%s", target, w.Code, excerpt(w.Body.String()))
	}
	return w.Header().Get("Location")
}

// provider visits the provider's authorization URL (the person is signed in there) and
// returns where it sends the browser back.
func (b *oidcBrowser) provider(authURL string) string {
	b.t.Helper()
	client := *b.u.idp.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.Get(authURL)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusFound {
		msg, _ := io.ReadAll(res.Body)
		b.t.Fatalf("the provider answered %d: %s", res.StatusCode, msg)
	}
	return res.Header.Get("Location")
}

// signIn runs the whole sign-in from the button (target: /connexion/oidc?…) and returns
// the console's answer to the provider's redirect.
func (b *oidcBrowser) signIn(target string) *httptest.ResponseRecorder {
	b.t.Helper()
	return b.get(b.provider(b.start(target)))
}

// --- The identity provider --------------------------------------------------------------

// idpKey signs every fake provider's tokens.
var idpKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// fakeIdP is an in-process OpenID Connect provider with one person, Alice, signed in:
// discovery, /authorize (PKCE S256 required), /token (authorization_code and
// refresh_token grants, refresh tokens rotated), the JWKS and an end-session endpoint.
// Its knobs are changed with set.
type fakeIdP struct {
	*httptest.Server
	redirect string // the console's registered redirect URL

	mu            sync.Mutex
	role          string // the roles claim of the tokens issued next (default partner)
	expiresIn     int    // how many seconds the access tokens issued next live (default 120)
	deny          bool   // /authorize answers error=access_denied
	codes         map[string]idpGrant
	refreshTokens map[string]bool // the live ones
	issued        []string        // the access tokens issued, in order
	refreshes     int             // refresh_token grants served
}

// idpGrant is what the provider remembers of an authorization code.
type idpGrant struct{ challenge, nonce string }

func newFakeIdP(t *testing.T, redirect string) *fakeIdP {
	t.Helper()
	f := &fakeIdP{redirect: redirect, role: "partner", expiresIn: 120,
		codes: map[string]idpGrant{}, refreshTokens: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer":                                f.URL,
			"authorization_endpoint":                f.URL + "/authorize",
			"token_endpoint":                        f.URL + "/token",
			"jwks_uri":                              f.URL + "/keys",
			"end_session_endpoint":                  f.URL + "/logout",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"code_challenge_methods_supported":      []string{"S256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &idpKey().PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"},
		}})
	})
	mux.HandleFunc("GET /authorize", f.authorize)
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "signed out")
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

// set changes the provider's knobs.
func (f *fakeIdP) set(change func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change()
}

func (f *fakeIdP) accessTokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.issued...)
}

func (f *fakeIdP) refreshCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refreshes
}

// authorize signs Alice in at once (or refuses, when deny is set) and sends the browser back.
func (f *fakeIdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("response_type") != "code" || q.Get("client_id") != idpClientID || q.Get("redirect_uri") != f.redirect ||
		q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 ||
		q.Get("state") == "" || q.Get("nonce") == "" || !strings.Contains(" "+q.Get("scope")+" ", " openid ") {
		http.Error(w, "bad authorization request: "+q.Encode(), http.StatusBadRequest)
		return
	}
	back := url.Values{"state": {q.Get("state")}}
	f.mu.Lock()
	if f.deny {
		back.Set("error", "access_denied")
		back.Set("error_description", "The user declined.")
	} else {
		code := rand.Text()
		f.codes[code] = idpGrant{challenge: q.Get("code_challenge"), nonce: q.Get("nonce")}
		back.Set("code", code)
	}
	f.mu.Unlock()
	http.Redirect(w, r, f.redirect+"?"+back.Encode(), http.StatusFound)
}

// token redeems a code (checking the PKCE verifier) or a refresh token.
func (f *fakeIdP) token(w http.ResponseWriter, r *http.Request) {
	form := func(k string) string { return r.PostFormValue(k) }
	if form("client_id") != idpClientID { // a public client: its id in the body, no secret
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	invalidGrant := func(why string) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": why})
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	nonce := ""
	switch form("grant_type") {
	case "authorization_code":
		g, ok := f.codes[form("code")]
		delete(f.codes, form("code")) // single use
		sum := sha256.Sum256([]byte(form("code_verifier")))
		switch {
		case !ok:
			invalidGrant("unknown code")
			return
		case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
			invalidGrant("PKCE verification failed")
			return
		case form("redirect_uri") != f.redirect:
			invalidGrant("redirect_uri mismatch")
			return
		}
		nonce = g.nonce
	case "refresh_token":
		if !f.refreshTokens[form("refresh_token")] {
			invalidGrant("refresh token expired or revoked")
			return
		}
		delete(f.refreshTokens, form("refresh_token")) // rotated
		f.refreshes++
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}

	now := time.Now()
	access := idpSign(map[string]any{"iss": f.URL, "aud": idpAudience, "sub": "alice", "name": "Alice Martin",
		"roles": []string{f.role}, "org": "opco-2i", "iat": now.Unix(),
		"exp": now.Add(time.Duration(f.expiresIn) * time.Second).Unix(), "jti": strconv.Itoa(len(f.issued) + 1)})
	idClaims := map[string]any{"iss": f.URL, "aud": idpClientID, "sub": "alice", "name": "Alice Martin",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if nonce != "" {
		idClaims["nonce"] = nonce
	}
	refresh := rand.Text()
	f.issued = append(f.issued, access)
	f.refreshTokens[refresh] = true
	writeJSON(w, http.StatusOK, map[string]any{"access_token": access, "token_type": "Bearer",
		"expires_in": f.expiresIn, "refresh_token": refresh, "id_token": idpSign(idClaims)})
}

func idpSign(claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: idpKey(), KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		panic(err)
	}
	token, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		panic(err)
	}
	return token
}
