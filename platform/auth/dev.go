package auth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/plateforme-rome/rome/platform/config"
	"github.com/plateforme-rome/rome/platform/httpx"
)

// Dev issuer defaults shared by every service in dev mode.
const (
	DevAudience   = "rome-platform"
	DevTokenTTL   = 12 * time.Hour
	DevKeyFile    = "dev-jwt-key.pem"
	devKeyBits    = 2048
	devSigningAlg = jose.RS256
)

// DevIssuerURL is the dev issuer's iss, served by the intake.
func DevIssuerURL(intakePort int) string {
	return fmt.Sprintf("http://127.0.0.1:%d/dev", intakePort)
}

// DevIssuerURLFromEnv is the dev issuer's iss in dev mode: DEV_ISSUER_URL when set, else
// DevIssuerURL of INTAKE_PORT. Behind a proxy in front of several intakes, every replica
// must mint, and every service expect, the proxy's address (DEV_ISSUER_URL=
// http://<proxy>/dev): each intake's own port would make its tokens another's strangers.
func DevIssuerURLFromEnv() (string, error) {
	if u := config.String("DEV_ISSUER_URL", ""); u != "" {
		return strings.TrimSuffix(u, "/"), nil
	}
	port, err := config.Port("INTAKE_PORT", 8081)
	if err != nil {
		return "", err
	}
	return DevIssuerURL(port), nil
}

// DevIssuer mints RS256 tokens for local development. Its key lives in
// $ROME_STATE_DIR/dev-jwt-key.pem so tokens survive restarts and every
// service of the dev stack checks them against the same key.
type DevIssuer struct {
	issuer string
	key    *rsa.PrivateKey
	kid    string
	signer jose.Signer
	ttl    time.Duration
}

// NewDevIssuer loads the key from stateDir, creating it when missing.
func NewDevIssuer(stateDir, issuerURL string) (*DevIssuer, error) {
	key, err := loadOrCreateKey(filepath.Join(stateDir, DevKeyFile))
	if err != nil {
		return nil, fmt.Errorf("dev issuer key: %w", err)
	}
	jwk := jose.JSONWebKey{Key: &key.PublicKey}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	kid := base64.RawURLEncoding.EncodeToString(thumb)
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: devSigningAlg, Key: jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: string(devSigningAlg)}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, err
	}
	return &DevIssuer{issuer: issuerURL, key: key, kid: kid, signer: signer, ttl: DevTokenTTL}, nil
}

// Issuer is the iss of the tokens this issuer mints.
func (d *DevIssuer) Issuer() string { return d.issuer }

// KeySet verifies this issuer's tokens in-process.
func (d *DevIssuer) KeySet() oidc.KeySet {
	return &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{&d.key.PublicKey}}
}

// JWKS is the public key set other services fetch.
func (d *DevIssuer) JWKS() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &d.key.PublicKey, KeyID: d.kid, Algorithm: string(devSigningAlg), Use: "sig",
	}}}
}

type devClaims struct {
	jwt.Claims
	Name  string   `json:"name,omitempty"`
	Roles []string `json:"roles"`
	Org   string   `json:"org,omitempty"`
	Email string   `json:"email,omitempty"`
	OID   string   `json:"oid,omitempty"`
}

// Mint signs a token for p, valid DevTokenTTL. An invalid principal is a 422
// problem naming the fields.
func (d *DevIssuer) Mint(p Principal) (token string, expiresAt time.Time, err error) {
	if errs := p.Validate(); len(errs) > 0 {
		return "", time.Time{}, httpx.Unprocessable("invalid_principal", "The token request is invalid.", errs...)
	}
	now := time.Now().Truncate(time.Second)
	expiresAt = now.Add(d.ttl)
	token, err = jwt.Signed(d.signer).Claims(devClaims{
		Claims: jwt.Claims{
			Issuer: d.issuer, Subject: p.Subject, Audience: jwt.Audience{DevAudience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(expiresAt),
		},
		Name: p.Name, Roles: []string{string(p.Role)}, Org: p.Org, Email: p.Email, OID: p.EntraID,
	}).Serialize()
	return token, expiresAt, err
}

// DevTokenRequest is the body of POST /dev/token.
type DevTokenRequest struct {
	Sub   string `json:"sub"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	Org   string `json:"org"`
	Email string `json:"email"`
	// OID plays the Microsoft Entra object id (Teams membership and activity feed).
	OID string `json:"oid"`
}

// DevTokenResponse is its answer.
type DevTokenResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Register serves POST <g>/token and GET <g>/jwks.json. Only dev mode may
// call it: anyone reaching the token endpoint can act as anyone. record, when
// set, is told of every principal before its token is minted (the directory
// records the person); its error refuses the token.
func (d *DevIssuer) Register(g gin.IRouter, record func(context.Context, Principal) error) {
	g.POST("/token", func(c *gin.Context) {
		var req DevTokenRequest
		if err := httpx.BindJSON(c, &req); err != nil {
			_ = c.Error(err)
			return
		}
		p := Principal{Subject: req.Sub, Name: req.Name, Role: Role(req.Role), Org: req.Org, Email: req.Email, EntraID: req.OID}
		if errs := p.Validate(); len(errs) > 0 {
			_ = c.Error(httpx.Unprocessable("invalid_principal", "The token request is invalid.", errs...))
			return
		}
		if record != nil {
			if err := record(c.Request.Context(), p); err != nil {
				_ = c.Error(err)
				return
			}
		}
		token, exp, err := d.Mint(p)
		if err != nil {
			_ = c.Error(err)
			return
		}
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusOK, DevTokenResponse{Token: token, ExpiresAt: exp.UTC()})
	})
	g.GET("/jwks.json", func(c *gin.Context) {
		c.JSON(http.StatusOK, d.JWKS())
	})
}

// loadOrCreateKey reads the PEM key at path or creates it. Concurrent
// starts agree on one key: the file appears atomically (link of a complete
// temporary file) and the loser reads the winner's key.
func loadOrCreateKey(path string) (*rsa.PrivateKey, error) {
	if key, err := readKey(path); !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, devKeyBits)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".dev-jwt-key-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		_ = tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKey(path)
		}
		return nil, err
	}
	return key, nil
}

func readKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an RSA key", path)
	}
	return key, nil
}
