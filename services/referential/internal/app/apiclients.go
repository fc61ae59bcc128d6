package app

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plateforme-rome/rome/platform/textrule"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

// Clients registers the clients of the France Travail–compatible API and issues and
// verifies their access tokens, as France Travail's OAuth2 client-credentials flow does:
// an existing consumer keeps its token code and only changes its base URLs. A token is
// an HS256 JWT signed with a key kept in the database, so that every replica verifies the
// tokens of the others.
type Clients struct {
	store *store.Store
	now   func() time.Time

	keyMu sync.Mutex
	key   []byte
}

// NewClients creates the client registry; now is the clock (time.Now in production).
func NewClients(s *store.Store, now func() time.Time) *Clients {
	return &Clients{store: s, now: now}
}

// TokenLifetime is how long an access token is valid: France Travail's tokens are valid
// for 25 minutes (its consumers cache them that long).
const TokenLifetime = 1499 * time.Second

// The scopes of France Travail's four ROME 4.0 APIs: an access token reads an API only if
// it was granted the API's scope, and a client may ask only for the scopes it was
// registered with.
const (
	ScopeMetiers          = "api_rome-metiersv1"
	ScopeFichesMetiers    = "api_rome-fiches-metiersv1"
	ScopeCompetences      = "api_rome-competencesv1"
	ScopeContextesTravail = "api_rome-contextes-travailv1"
	// ScopeNomenclatureRome is listed by France Travail beside each ROME API's own scope,
	// and its consumers send it with it. Every client may ask for it; it opens no API by
	// itself, and no API demands it (some consumers ask for the APIs' scopes alone).
	ScopeNomenclatureRome = "nomenclatureRome"
)

// Scope is a scope of the token route.
type Scope struct {
	Name   string
	API    string // the API it opens; "" for nomenclatureRome, which opens none
	Source string // where France Travail's spelling of it was read
}

// Scopes are every scope the token route knows, the APIs' own first.
var Scopes = []Scope{
	{ScopeMetiers, "ROME 4.0 - Métiers", "francetravail.io, ROME 4.0 - Métiers, \"Scopes nécessaires\" (API doc version 12.0)"},
	{ScopeFichesMetiers, "ROME 4.0 - Fiches métiers", "francetravail.io, ROME 4.0 - Fiches métiers, \"Scopes nécessaires\" (API doc version 12.0)"},
	{ScopeCompetences, "ROME 4.0 - Compétences", "consumers' token requests (a PHP and a Python client, a TypeScript sync module): \"api_rome-competencesv1 nomenclatureRome\""},
	{ScopeContextesTravail, "ROME 4.0 - Contextes de travail", "consumers' token requests (a Python client's ROME_SCOPES, a deployment's FT_SCOPE_CONTEXTES): \"api_rome-contextes-travailv1 nomenclatureRome\""},
	{ScopeNomenclatureRome, "", "both francetravail.io pages above, \"Scopes nécessaires\""},
}

// scopeNames are the names of Scopes, in their order; apisOnly leaves nomenclatureRome out.
func scopeNames(apisOnly bool) []string {
	var names []string
	for _, s := range Scopes {
		if s.API != "" || !apisOnly {
			names = append(names, s.Name)
		}
	}
	return names
}

func knownScope(name string) bool { return slices.Contains(scopeNames(false), name) }

// Errors of the token request, named as RFC 6749 names them.
var (
	ErrInvalidClient = errors.New("client authentication failed")
	ErrInvalidToken  = errors.New("the access token is invalid or expired")
)

// ScopeError is a scope the token request may not have (RFC 6749's invalid_scope): one the
// token route does not know, or one the client was not registered with.
type ScopeError struct {
	Scope   string
	Allowed []string // the client's scopes
}

func (e *ScopeError) Error() string {
	if !knownScope(e.Scope) {
		return fmt.Sprintf("unknown scope %q: the scopes are %s", e.Scope, strings.Join(scopeNames(false), " "))
	}
	return fmt.Sprintf("this client may not ask for %s: its scopes are %s", e.Scope, strings.Join(e.Allowed, " "))
}

// ClientInfo is a registered client, without its secret.
type ClientInfo struct {
	ClientID  string     `json:"clientId"`
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	CreatedBy string     `json:"createdBy"`
	CreatedAt time.Time  `json:"createdAt"`
	RevokedAt *time.Time `json:"revokedAt"`
}

// NewClient is a client just registered, with the secret shown this once: the replay of
// its registration (same Idempotency-Key) has no secret, since only its hash is kept.
type NewClient struct {
	ClientInfo
	ClientSecret string `json:"clientSecret,omitempty"`
}

// ClientRequest is the registration of a client: its name and the scopes it may ask for
// (nil: every scope).
type ClientRequest struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

// clientNameRule is the text rule of a client's name.
var clientNameRule = textrule.Rule{Name: "client name", Max: 200}

// checkClient validates a registration and returns it cleaned: the name by its text rule,
// the scopes known, in the order of Scopes, with nomenclatureRome, which every client may ask.
func checkClient(req ClientRequest) (ClientRequest, error) {
	name, p := textrule.Check("name", req.Name, clientNameRule)
	if p == nil && name == "" {
		p = &textrule.Problem{Field: "name", Message: "is required"}
	}
	if p != nil {
		return req, &InvalidError{p.Field, "invalid_client_name", "the client's name is one line of at most 200 characters: " + p.Message}
	}
	if req.Scopes == nil {
		return ClientRequest{Name: name, Scopes: scopeNames(false)}, nil
	}
	for i, sc := range req.Scopes {
		if !knownScope(sc) {
			return req, &InvalidError{fmt.Sprintf("scopes[%d]", i), "invalid_client_scopes",
				fmt.Sprintf("unknown scope %q: the scopes are %s", sc, strings.Join(scopeNames(false), " "))}
		}
	}
	scopes := []string{}
	for _, sc := range scopeNames(true) {
		if slices.Contains(req.Scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	if len(scopes) == 0 {
		return req, &InvalidError{"scopes", "invalid_client_scopes", "a client needs the scope of at least one API: " + strings.Join(scopeNames(true), " ")}
	}
	return ClientRequest{Name: name, Scopes: append(scopes, ScopeNomenclatureRome)}, nil
}

// clientIDPattern is the shape of the ids Register gives: anything else names no client
// (and never reaches the database, which refuses some bytes, NUL first).
var clientIDPattern = regexp.MustCompile(`^PAR_[0-9a-f]{24}$`)

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func info(c store.APIClient) ClientInfo {
	return ClientInfo{ClientID: c.ClientID, Name: c.Name, Scopes: strings.Fields(c.Scopes), CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt, RevokedAt: c.RevokedAt}
}

// Register validates and creates a client. Its secret is 256 random bits, so a SHA-256 of
// it is enough to store: nobody can guess it from the hash. With an Idempotency-Key, a
// retry of the same registration answers the client the first one created (replayed), a
// different registration under the same key is an *InvalidError.
func (c *Clients) Register(ctx context.Context, req ClientRequest, createdBy string, key IdempotencyKey) (client NewClient, replayed bool, err error) {
	if req, err = checkClient(req); err != nil {
		return NewClient{}, false, err
	}
	if client, replayed, err = c.replay(ctx, key); replayed || err != nil {
		return client, replayed, err
	}
	now := c.now().UTC().Truncate(time.Microsecond)
	secret := randomHex(32)
	rec := store.APIClient{ClientID: "PAR_" + randomHex(12), Name: req.Name, Scopes: strings.Join(req.Scopes, " "),
		SecretHash: hashSecret(secret), CreatedBy: createdBy, CreatedAt: now}
	err = c.store.CreateAPIClient(ctx, rec, key.record(rec.ClientID, now))
	if errors.Is(err, store.ErrKeyTaken) { // a concurrent retry got there first
		return c.replay(ctx, key)
	}
	if err != nil {
		return NewClient{}, false, err
	}
	return NewClient{ClientInfo: info(rec), ClientSecret: secret}, false, nil
}

// replay answers a registration whose Idempotency-Key is already recorded, and tells
// whether it did: the client that registration created, without the secret, which its
// first answer alone showed (an admin who lost it revokes the client and registers another).
func (c *Clients) replay(ctx context.Context, key IdempotencyKey) (NewClient, bool, error) {
	clientID, found, err := firstUse(ctx, c.store, key)
	if err != nil || !found {
		return NewClient{}, false, err
	}
	rec, ok, err := c.store.APIClient(ctx, clientID)
	if err == nil && !ok {
		err = fmt.Errorf("idempotency key of a client that does not exist: %s", clientID)
	}
	if err != nil {
		return NewClient{}, false, err
	}
	return NewClient{ClientInfo: info(rec)}, true, nil
}

// List lists the clients.
func (c *Clients) List(ctx context.Context) ([]ClientInfo, error) {
	recs, err := c.store.APIClients(ctx)
	out := make([]ClientInfo, 0, len(recs))
	for _, r := range recs {
		out = append(out, info(r))
	}
	return out, err
}

// Revoke stops a client from getting tokens; the tokens it holds expire within
// TokenLifetime. ok is false when the client does not exist.
func (c *Clients) Revoke(ctx context.Context, clientID string) (bool, error) {
	if !clientIDPattern.MatchString(clientID) {
		return false, nil
	}
	return c.store.RevokeAPIClient(ctx, clientID, c.now().UTC())
}

// Token is the answer of the token route, in France Travail's field order.
type Token struct {
	Scope       string `json:"scope"`
	ExpiresIn   int    `json:"expires_in"`
	TokenType   string `json:"token_type"`
	AccessToken string `json:"access_token"`
}

type claims struct {
	Subject  string `json:"sub"`
	Scope    string `json:"scope"`
	IssuedAt int64  `json:"iat"`
	Expires  int64  `json:"exp"`
}

// jwtHeader is the only header the referential writes and accepts.
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

func (c *Clients) signingKey(ctx context.Context) ([]byte, error) {
	c.keyMu.Lock()
	defer c.keyMu.Unlock()
	if c.key == nil {
		k, err := c.store.TokenKey(ctx, "ft-access-token")
		if err != nil {
			return nil, err
		}
		c.key = k
	}
	return c.key, nil
}

func sign(key []byte, signed string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signed))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Issue checks a client's credentials and the scopes it asks for (space-separated; none:
// every scope it was registered with) and returns an access token granting them.
func (c *Clients) Issue(ctx context.Context, clientID, secret, scope string) (Token, error) {
	if !clientIDPattern.MatchString(clientID) {
		return Token{}, ErrInvalidClient
	}
	rec, ok, err := c.store.APIClient(ctx, clientID)
	if err != nil {
		return Token{}, err
	}
	if !ok || rec.RevokedAt != nil || subtle.ConstantTimeCompare([]byte(rec.SecretHash), []byte(hashSecret(secret))) != 1 {
		return Token{}, ErrInvalidClient
	}
	allowed := strings.Fields(rec.Scopes)
	granted := []string{}
	for _, s := range strings.Fields(scope) {
		if !slices.Contains(allowed, s) {
			return Token{}, &ScopeError{Scope: s, Allowed: allowed}
		}
		if !slices.Contains(granted, s) {
			granted = append(granted, s)
		}
	}
	if len(granted) == 0 {
		granted = allowed
	}
	key, err := c.signingKey(ctx)
	if err != nil {
		return Token{}, err
	}
	now := c.now()
	cl := claims{Subject: clientID, Scope: strings.Join(granted, " "), IssuedAt: now.Unix(), Expires: now.Add(TokenLifetime).Unix()}
	payload, err := json.Marshal(cl)
	if err != nil {
		return Token{}, err
	}
	signed := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	return Token{Scope: cl.Scope, ExpiresIn: int(TokenLifetime / time.Second), TokenType: "Bearer", AccessToken: signed + "." + sign(key, signed)}, nil
}

// Grant is what a valid access token allows: the client it was issued to and its scopes.
type Grant struct {
	ClientID string
	Scopes   []string
}

// Has tells whether the token was granted scope.
func (g Grant) Has(scope string) bool { return slices.Contains(g.Scopes, scope) }

// Verify checks an access token and returns what it grants.
func (c *Clients) Verify(ctx context.Context, token string) (Grant, error) {
	header, rest, ok := strings.Cut(token, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || header != jwtHeader {
		return Grant{}, ErrInvalidToken
	}
	key, err := c.signingKey(ctx)
	if err != nil {
		return Grant{}, err
	}
	if !hmac.Equal([]byte(sig), []byte(sign(key, header+"."+payload))) {
		return Grant{}, ErrInvalidToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	var cl claims
	if err != nil || json.Unmarshal(raw, &cl) != nil || cl.Subject == "" || c.now().Unix() >= cl.Expires {
		return Grant{}, ErrInvalidToken
	}
	return Grant{ClientID: cl.Subject, Scopes: strings.Fields(cl.Scope)}, nil
}
