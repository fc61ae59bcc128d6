// Package signin signs people in to the console.
//
// oidc.go runs the OpenID Connect authorization code flow with PKCE (S256)
// against the platform's identity provider (Microsoft Entra ID in
// production): Start builds the authorization URL and the Pending state the
// console keeps in a short-lived cookie, Finish handles the redirect back and
// returns the tokens the console keeps in its session, Refresh renews them.
package signin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/plateforme-rome/rome/platform/config"
	"github.com/plateforme-rome/rome/platform/httpx"
)

// RedirectPath is where the provider sends the browser back to the console.
const RedirectPath = "/connexion/retour"

// DefaultScopes are asked for when CONSOLE_OIDC_SCOPES is unset. offline_access
// asks for a refresh token. On Entra ID the API's scope (e.g.
// "api://rome/.default") must be added, or the access token is meant for
// Microsoft Graph and the platform's services refuse it.
const DefaultScopes = "openid profile email offline_access"

// PendingTTL is how long a sign-in may take between Start and Finish.
const PendingTTL = 10 * time.Minute

// pendingSkew tolerates clocks a little apart when several console
// instances share the cookie's Created time.
const pendingSkew = time.Minute

// maxReturnTo bounds the path kept in the cookie.
const maxReturnTo = 1024

// Errors returned by Finish (besides *ProviderError and transport errors).
var (
	// ErrStateMismatch: the redirect's state is not the one this browser
	// started with (a forged or replayed redirect, or a second tab).
	ErrStateMismatch = errors.New("signin: state mismatch")
	// ErrPendingExpired: the sign-in started more than PendingTTL ago.
	ErrPendingExpired = errors.New("signin: sign-in started too long ago")
	// ErrNonceMismatch: the ID token was not issued for this sign-in.
	ErrNonceMismatch = errors.New("signin: ID token nonce mismatch")
	// ErrIssuerMismatch: the redirect names another issuer (RFC 9207 mix-up defence).
	ErrIssuerMismatch = errors.New("signin: authorization response from another issuer")
	// ErrMissingCode: the redirect carries neither a code nor an error.
	ErrMissingCode = errors.New("signin: no authorization code in the redirect")
	// ErrNoIDToken: the token endpoint returned no ID token.
	ErrNoIDToken = errors.New("signin: the provider returned no ID token")
)

// ProviderError is an error the identity provider reported, either on the
// redirect back (error=access_denied…) or from its token endpoint
// (error=invalid_grant…). Code is the OAuth 2.0 / OpenID Connect error code,
// which the UI maps to a French message; Description is the provider's own
// (English, possibly technical) text, for logs rather than for people.
type ProviderError struct {
	Code        string
	Description string
	URI         string
	// Err is the underlying error, e.g. the *oauth2.RetrieveError.
	Err error
}

func (e *ProviderError) Error() string {
	s := "signin: identity provider error " + e.Code
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

func (e *ProviderError) Unwrap() error { return e.Err }

// OIDCConfig says where and how the console signs people in.
type OIDCConfig struct {
	// Issuer is AUTH_ISSUER, the same variable the services verify tokens with.
	Issuer string
	// ClientID is CONSOLE_OIDC_CLIENT_ID.
	ClientID string
	// ClientSecret is CONSOLE_OIDC_CLIENT_SECRET; empty for a public client,
	// which relies on PKCE alone.
	ClientSecret string
	// RedirectURL is CONSOLE_OIDC_REDIRECT_URL, default CONSOLE_PUBLIC_URL +
	// RedirectPath. It must be registered with the provider.
	RedirectURL string
	// Scopes is CONSOLE_OIDC_SCOPES (space separated), default DefaultScopes.
	Scopes []string
	// HTTPClient talks to the provider (default: 10 s timeout).
	HTTPClient *http.Client
}

// OIDCConfigFromEnv reads AUTH_ISSUER, CONSOLE_OIDC_CLIENT_ID,
// CONSOLE_OIDC_CLIENT_SECRET, CONSOLE_OIDC_REDIRECT_URL (default
// CONSOLE_PUBLIC_URL + "/connexion/retour", CONSOLE_PUBLIC_URL defaulting to
// http://127.0.0.1:<CONSOLE_PORT or 8080>) and CONSOLE_OIDC_SCOPES. ok is
// false when CONSOLE_OIDC_CLIENT_ID is empty: OIDC sign-in is then off.
func OIDCConfigFromEnv() (cfg OIDCConfig, ok bool, err error) {
	cfg.ClientID = config.String("CONSOLE_OIDC_CLIENT_ID", "")
	if cfg.ClientID == "" {
		return OIDCConfig{}, false, nil
	}
	cfg.Issuer = config.String("AUTH_ISSUER", "")
	if cfg.Issuer == "" {
		return OIDCConfig{}, false, errors.New("CONSOLE_OIDC_CLIENT_ID is set but AUTH_ISSUER is not: OIDC sign-in needs the identity provider's issuer URL")
	}
	if err := checkURL("AUTH_ISSUER", cfg.Issuer); err != nil {
		return OIDCConfig{}, false, err
	}
	cfg.ClientSecret = config.String("CONSOLE_OIDC_CLIENT_SECRET", "")

	redirectVar := "CONSOLE_OIDC_REDIRECT_URL"
	cfg.RedirectURL = config.String(redirectVar, "")
	if cfg.RedirectURL == "" {
		port, err := config.Port("CONSOLE_PORT", 8080)
		if err != nil {
			return OIDCConfig{}, false, err
		}
		redirectVar = "CONSOLE_PUBLIC_URL"
		public := config.String(redirectVar, fmt.Sprintf("http://127.0.0.1:%d", port))
		if err := checkURL(redirectVar, public); err != nil {
			return OIDCConfig{}, false, err
		}
		cfg.RedirectURL = strings.TrimRight(public, "/") + RedirectPath
	}
	if err := checkURL(redirectVar, cfg.RedirectURL); err != nil {
		return OIDCConfig{}, false, err
	}
	cfg.Scopes = strings.Fields(config.String("CONSOLE_OIDC_SCOPES", DefaultScopes))
	return cfg, true, nil
}

// checkURL requires an absolute http(s) URL.
func checkURL(name, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s=%q: not an absolute http(s) URL", name, raw)
	}
	return nil
}

// OIDC signs people in against one provider. It is safe for concurrent use.
type OIDC struct {
	issuer     string
	client     *http.Client
	oauth      oauth2.Config
	verifier   *oidc.IDTokenVerifier
	endSession string
}

// NewOIDC fetches the provider's discovery document
// (<issuer>/.well-known/openid-configuration); ctx bounds that request only.
func NewOIDC(ctx context.Context, cfg OIDCConfig) (*OIDC, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, errors.New("signin: issuer, client id and redirect URL are required")
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second, Transport: httpx.OutboundTransport(nil)}
	}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, client), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("signin: discovering %s: %w", cfg.Issuer, err)
	}
	var meta struct {
		EndSession      string   `json:"end_session_endpoint"`
		ChallengeMethod []string `json:"code_challenge_methods_supported"`
	}
	if err := provider.Claims(&meta); err != nil {
		return nil, fmt.Errorf("signin: reading %s's discovery document: %w", cfg.Issuer, err)
	}
	// Entra ID does not advertise its PKCE methods; a provider that lists
	// them without S256 would ignore or refuse our challenge.
	if len(meta.ChallengeMethod) > 0 && !slices.Contains(meta.ChallengeMethod, "S256") {
		return nil, fmt.Errorf("signin: %s does not support PKCE S256 (supports %v)", cfg.Issuer, meta.ChallengeMethod)
	}

	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = strings.Fields(DefaultScopes)
	}
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		scopes = append([]string{oidc.ScopeOpenID}, scopes...)
	}
	endpoint := provider.Endpoint()
	if cfg.ClientSecret == "" {
		// A public client sends its client_id in the body and no
		// Authorization header; auto-detection would first try Basic
		// authentication with an empty secret.
		endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	return &OIDC{
		issuer: cfg.Issuer,
		client: client,
		oauth: oauth2.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
			Endpoint: endpoint, RedirectURL: cfg.RedirectURL, Scopes: scopes,
		},
		// Key fetches happen later, outside the discovery request's ctx.
		verifier:   provider.VerifierContext(oidc.ClientContext(context.Background(), client), &oidc.Config{ClientID: cfg.ClientID}),
		endSession: meta.EndSession,
	}, nil
}

// EndSessionURL is the provider's end_session_endpoint (RP-initiated
// sign-out), empty if it has none.
func (o *OIDC) EndSessionURL() string { return o.endSession }

// SignOutURL is where to send the browser to end the provider's session too, asking it
// to come back to afterwards (an absolute URL registered with the provider); empty when
// the provider has no end-session endpoint.
func (o *OIDC) SignOutURL(afterwards string) string {
	if o.endSession == "" {
		return ""
	}
	q := url.Values{"client_id": {o.oauth.ClientID}, "post_logout_redirect_uri": {afterwards}}
	sep := "?"
	if strings.Contains(o.endSession, "?") {
		sep = "&"
	}
	return o.endSession + sep + q.Encode()
}

// Pending is what the console keeps between Start and Finish, in a
// short-lived HttpOnly cookie (see Encode). Verifier is the PKCE secret: it
// must never reach the page or the logs.
type Pending struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	ReturnTo string    `json:"r"`
	Created  time.Time `json:"c"`
}

// Encode returns p as base64url JSON, fit for a cookie value.
func (p Pending) Encode() string {
	b, _ := json.Marshal(p) // strings and a time: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodePending reverses Encode. It refuses values missing the state, nonce
// or verifier, so a truncated cookie fails here rather than at the provider.
func DecodePending(s string) (Pending, error) {
	if len(s) > 8192 {
		return Pending{}, errors.New("signin: pending sign-in too large")
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return Pending{}, fmt.Errorf("signin: pending sign-in: %w", err)
	}
	var p Pending
	if err := json.Unmarshal(b, &p); err != nil {
		return Pending{}, fmt.Errorf("signin: pending sign-in: %w", err)
	}
	if p.State == "" || p.Nonce == "" || p.Verifier == "" || p.Created.IsZero() {
		return Pending{}, errors.New("signin: pending sign-in incomplete")
	}
	p.ReturnTo = SafeReturnTo(p.ReturnTo)
	return p, nil
}

// Start returns the provider's authorization URL to redirect the browser to,
// and the Pending to keep until Finish. returnTo, where to go once signed
// in, is kept only if it is a local path (see SafeReturnTo).
func (o *OIDC) Start(returnTo string) (authURL string, p Pending) {
	p = Pending{
		State:    randomString(),
		Nonce:    randomString(),
		Verifier: oauth2.GenerateVerifier(),
		ReturnTo: SafeReturnTo(returnTo),
		Created:  time.Now().UTC(),
	}
	authURL = o.oauth.AuthCodeURL(p.State, oidc.Nonce(p.Nonce), oauth2.S256ChallengeOption(p.Verifier))
	return authURL, p
}

// SafeReturnTo returns returnTo when it is a path on this site ("/…"), "/"
// otherwise: "//host" and "/\host" are protocol-relative URLs to another
// site for browsers, and browsers drop tabs and newlines from URLs, so
// "/\t/host" is one too.
func SafeReturnTo(returnTo string) string {
	if !strings.HasPrefix(returnTo, "/") || len(returnTo) > maxReturnTo ||
		strings.HasPrefix(returnTo, "//") || strings.ContainsRune(returnTo, '\\') {
		return "/"
	}
	for _, r := range returnTo {
		if r < 0x20 || r == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(returnTo)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return returnTo
}

// Tokens are what the console keeps in the session.
type Tokens struct {
	// Bearer is sent to the platform's services as "Authorization: Bearer".
	// It is the access token when that is a JWT (on Entra ID, issued for the
	// API scope in CONSOLE_OIDC_SCOPES). A provider whose access tokens are
	// opaque gives the services nothing they can verify, so the ID token
	// is used instead: the services then need AUTH_AUDIENCE to be the
	// console's client id.
	Bearer string
	// Refresh is the refresh token; empty when the provider gave none (no
	// offline_access scope), in which case the person signs in again when
	// Bearer expires.
	Refresh string
	// Expiry is when Bearer expires (zero if unknown).
	Expiry time.Time
	// IDToken is the raw ID token (empty after a refresh that returned
	// none), e.g. for the id_token_hint of the end-session request.
	IDToken string
}

// Finish handles the redirect back to RedirectURL: query is its query
// string, p the Pending kept since Start (whatever the outcome, the console
// should delete its cookie). It returns *ProviderError when the provider
// reports an error (access_denied when the person cancels, invalid_grant for
// a bad code or verifier…), one of the Err… values of this package, or a
// transport error.
func (o *OIDC) Finish(ctx context.Context, p Pending, query url.Values) (Tokens, error) {
	// The state ties the redirect to this browser (CSRF on the redirect
	// endpoint); it is checked before anything else, errors included.
	state := query.Get("state")
	if p.State == "" || subtle.ConstantTimeCompare([]byte(state), []byte(p.State)) != 1 {
		return Tokens{}, ErrStateMismatch
	}
	if age := time.Since(p.Created); p.Created.IsZero() || age > PendingTTL || age < -pendingSkew {
		return Tokens{}, ErrPendingExpired
	}
	if iss := query.Get("iss"); iss != "" && iss != o.issuer {
		return Tokens{}, ErrIssuerMismatch
	}
	if code := query.Get("error"); code != "" {
		return Tokens{}, &ProviderError{Code: code, Description: query.Get("error_description"), URI: query.Get("error_uri")}
	}
	code := query.Get("code")
	if code == "" {
		return Tokens{}, ErrMissingCode
	}

	ctx = oidc.ClientContext(ctx, o.client)
	tok, err := o.oauth.Exchange(ctx, code, oauth2.VerifierOption(p.Verifier))
	if err != nil {
		return Tokens{}, providerError("exchanging the authorization code", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return Tokens{}, ErrNoIDToken
	}
	id, err := o.verifier.Verify(ctx, rawID)
	if err != nil {
		return Tokens{}, fmt.Errorf("signin: ID token refused: %w", err)
	}
	// go-oidc leaves the nonce to the caller: it binds the ID token to this
	// sign-in, so a token obtained elsewhere cannot be injected.
	if subtle.ConstantTimeCompare([]byte(id.Nonce), []byte(p.Nonce)) != 1 {
		return Tokens{}, ErrNonceMismatch
	}
	return o.tokens(tok, rawID, id, "")
}

// Refresh gets new tokens from a refresh token. Any error (a
// *ProviderError with code invalid_grant when the refresh token has expired
// or was revoked) means the person must sign in again.
func (o *OIDC) Refresh(ctx context.Context, refresh string) (Tokens, error) {
	if refresh == "" {
		return Tokens{}, errors.New("signin: no refresh token")
	}
	ctx = oidc.ClientContext(ctx, o.client)
	// An empty access token is never valid, so the source refreshes at once.
	tok, err := o.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: refresh}).Token()
	if err != nil {
		return Tokens{}, providerError("refreshing the tokens", err)
	}
	// A refresh response may carry a new ID token (Entra's does); it is
	// verified like the first, except for the nonce, which it need not carry.
	rawID, _ := tok.Extra("id_token").(string)
	var id *oidc.IDToken
	if rawID != "" {
		if id, err = o.verifier.Verify(ctx, rawID); err != nil {
			return Tokens{}, fmt.Errorf("signin: refreshed ID token refused: %w", err)
		}
	}
	return o.tokens(tok, rawID, id, refresh)
}

// tokens picks the bearer (see Tokens.Bearer) and its expiry. oldRefresh is
// kept when the provider does not rotate refresh tokens.
func (o *OIDC) tokens(tok *oauth2.Token, rawID string, id *oidc.IDToken, oldRefresh string) (Tokens, error) {
	if id != nil && id.AccessTokenHash != "" && tok.AccessToken != "" {
		if err := id.VerifyAccessToken(tok.AccessToken); err != nil {
			return Tokens{}, fmt.Errorf("signin: access token does not match the ID token: %w", err)
		}
	}
	t := Tokens{Refresh: tok.RefreshToken, IDToken: rawID}
	if t.Refresh == "" {
		t.Refresh = oldRefresh
	}
	switch exp, isJWT := jwtExpiry(tok.AccessToken); {
	case isJWT:
		// The services verify the access token themselves; the console only
		// forwards it, so its claims are read here for the expiry alone.
		t.Bearer, t.Expiry = tok.AccessToken, tok.Expiry
		if t.Expiry.IsZero() {
			t.Expiry = exp
		}
	case id != nil:
		t.Bearer, t.Expiry = rawID, id.Expiry
	default:
		return Tokens{}, errors.New("signin: the provider returned neither a JWT access token nor an ID token")
	}
	return t, nil
}

// jwtExpiry tells whether s looks like a signed JWT (three base64url parts,
// a JSON header naming an algorithm) and returns its unverified exp.
func jwtExpiry(s string) (exp time.Time, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if b, err := base64.RawURLEncoding.DecodeString(parts[0]); err != nil || json.Unmarshal(b, &header) != nil || header.Alg == "" {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil && json.Unmarshal(b, &claims) == nil {
		if n, err := claims.Exp.Float64(); err == nil && n > 0 {
			exp = time.Unix(int64(n), 0)
		}
	}
	return exp, true
}

// providerError turns an OAuth error response into a *ProviderError and
// wraps anything else (network errors, 5xx without an error code).
func providerError(doing string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		return &ProviderError{Code: re.ErrorCode, Description: re.ErrorDescription, URI: re.ErrorURI, Err: err}
	}
	return fmt.Errorf("signin: %s: %w", doing, err)
}

// randomString returns 256 random bits, base64url encoded.
func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}
