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
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

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

// Scopes are the scopes France Travail's four ROME 4.0 APIs ask for; a token is granted all
// of them when the request names none. Every scope reads the same public data: a token
// lifts the per-address rate limit, it does not open routes.
var Scopes = []string{"api_rome-metiersv1", "api_rome-fiches-metiersv1", "api_rome-competencesv1", "api_rome-contextes-travailv1", "nomenclatureRome"}

// Errors of the token request, named as RFC 6749 names them.
var (
	ErrInvalidClient = errors.New("client authentication failed")
	ErrInvalidScope  = errors.New("unknown scope")
	ErrInvalidToken  = errors.New("the access token is invalid or expired")
)

// ClientInfo is a registered client, without its secret.
type ClientInfo struct {
	ClientID  string     `json:"clientId"`
	Name      string     `json:"name"`
	CreatedBy string     `json:"createdBy"`
	CreatedAt time.Time  `json:"createdAt"`
	RevokedAt *time.Time `json:"revokedAt"`
}

// NewClient is a client just registered, with the secret shown this once.
type NewClient struct {
	ClientInfo
	ClientSecret string `json:"clientSecret"`
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
	return ClientInfo{ClientID: c.ClientID, Name: c.Name, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt, RevokedAt: c.RevokedAt}
}

// Register creates a client. Its secret is 256 random bits, so a SHA-256 of it is enough
// to store: nobody can guess it from the hash.
func (c *Clients) Register(ctx context.Context, name, createdBy string) (NewClient, error) {
	rec := store.APIClient{ClientID: "PAR_" + randomHex(12), Name: name, CreatedBy: createdBy, CreatedAt: c.now().UTC().Truncate(time.Microsecond)}
	secret := randomHex(32)
	rec.SecretHash = hashSecret(secret)
	if err := c.store.CreateAPIClient(ctx, rec); err != nil {
		return NewClient{}, err
	}
	return NewClient{ClientInfo: info(rec), ClientSecret: secret}, nil
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

// Issue checks a client's credentials and scope and returns an access token.
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
	granted := strings.Fields(scope)
	for _, s := range granted {
		if !slices.Contains(Scopes, s) {
			return Token{}, ErrInvalidScope
		}
	}
	if len(granted) == 0 {
		granted = Scopes
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

// Verify checks an access token and returns the client it was issued to.
func (c *Clients) Verify(ctx context.Context, token string) (string, error) {
	header, rest, ok := strings.Cut(token, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || header != jwtHeader {
		return "", ErrInvalidToken
	}
	key, err := c.signingKey(ctx)
	if err != nil {
		return "", err
	}
	if !hmac.Equal([]byte(sig), []byte(sign(key, header+"."+payload))) {
		return "", ErrInvalidToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	var cl claims
	if err != nil || json.Unmarshal(raw, &cl) != nil || cl.Subject == "" || c.now().Unix() >= cl.Expires {
		return "", ErrInvalidToken
	}
	return cl.Subject, nil
}
