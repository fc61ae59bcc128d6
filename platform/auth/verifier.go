package auth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/plateforme-rome/rome/platform/config"
	"github.com/plateforme-rome/rome/platform/httpx"
)

// Config says which tokens a Verifier accepts and how their claims map to a
// Principal.
type Config struct {
	// Issuer must equal the token's iss; without JWKSURL or KeySet its
	// OIDC discovery document locates the signing keys.
	Issuer   string
	Audience string
	// JWKSURL, when set, is fetched directly instead of using discovery.
	JWKSURL string
	// KeySet, when set, verifies signatures in-process (the dev issuer's own
	// keys in the intake); it takes precedence over JWKSURL.
	KeySet oidc.KeySet
	// RoleClaim holds the role: a string or an array of strings.
	RoleClaim string
	// RoleMap translates claim values (e.g. Entra app roles "Rome.Partner")
	// to roles. When empty, values are taken as role names; when set, only
	// mapped values count.
	RoleMap  map[string]Role
	OrgClaim string
	// EntraIDClaim holds the caller's Microsoft Entra object id (default oid).
	EntraIDClaim string
	// HTTPClient fetches discovery documents and keys (default: 10 s timeout).
	HTTPClient *http.Client
	// Directory, when set, must know every person presenting a token (services are not
	// people): it gives their role and organisation, and the token's claims must agree.
	Directory Directory
}

// ConfigFromEnv reads AUTH_ISSUER, AUTH_AUDIENCE, AUTH_JWKS_URL,
// AUTH_ROLE_CLAIM (default roles), AUTH_ROLE_MAP (e.g.
// "Rome.Partner=partner,Rome.Moderator=moderator"), AUTH_ORG_CLAIM
// (default org) and AUTH_ENTRA_ID_CLAIM (default oid). With ROME_DEV_MODE=true and no AUTH_ISSUER it targets the
// dev issuer served by the intake (DevIssuerURLFromEnv).
func ConfigFromEnv() (Config, error) {
	dev, err := config.DevMode()
	if err != nil {
		return Config{}, err
	}
	cfg := Config{
		Issuer:    config.String("AUTH_ISSUER", ""),
		Audience:  config.String("AUTH_AUDIENCE", ""),
		JWKSURL:   config.String("AUTH_JWKS_URL", ""),
		RoleClaim: config.String("AUTH_ROLE_CLAIM", "roles"),
		OrgClaim:  config.String("AUTH_ORG_CLAIM", "org"),

		EntraIDClaim: config.String("AUTH_ENTRA_ID_CLAIM", "oid"),
	}
	if cfg.Issuer == "" && dev {
		if cfg.Issuer, err = DevIssuerURLFromEnv(); err != nil {
			return Config{}, err
		}
		if cfg.JWKSURL == "" {
			cfg.JWKSURL = cfg.Issuer + "/jwks.json"
		}
		if cfg.Audience == "" {
			cfg.Audience = DevAudience
		}
	}
	if cfg.Issuer == "" {
		return Config{}, errors.New("AUTH_ISSUER is not set (or set ROME_DEV_MODE=true to use the dev issuer)")
	}
	if cfg.Audience == "" {
		return Config{}, errors.New("AUTH_AUDIENCE is not set")
	}
	cfg.RoleMap, err = ParseRoleMap(config.String("AUTH_ROLE_MAP", ""))
	return cfg, err
}

// ParseRoleMap parses "claimValue=role,…".
func ParseRoleMap(s string) (map[string]Role, error) {
	m := map[string]Role{}
	for entry := range strings.SplitSeq(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		from, to, ok := strings.Cut(entry, "=")
		from, role := strings.TrimSpace(from), Role(strings.TrimSpace(to))
		if !ok || from == "" || !role.Valid() {
			return nil, fmt.Errorf("AUTH_ROLE_MAP entry %q: want <claim value>=<role>, the role one of %s", entry, roleList())
		}
		m[from] = role
	}
	return m, nil
}

// Verifier turns bearer tokens into principals. It makes no network call
// until the first token arrives, so a service starts while its identity
// provider is unreachable.
type Verifier struct {
	cfg Config

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
	failedAt time.Time
	lastErr  error
}

// NewVerifier checks cfg and returns a Verifier.
func NewVerifier(cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("auth: issuer and audience are required")
	}
	if cfg.RoleClaim == "" {
		cfg.RoleClaim = "roles"
	}
	if cfg.OrgClaim == "" {
		cfg.OrgClaim = "org"
	}
	if cfg.EntraIDClaim == "" {
		cfg.EntraIDClaim = "oid"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second, Transport: httpx.OutboundTransport(nil)}
	}
	v := &Verifier{cfg: cfg}
	keys := cfg.KeySet
	if keys == nil && cfg.JWKSURL != "" {
		keys = oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), cfg.HTTPClient), cfg.JWKSURL)
	}
	if keys != nil {
		v.verifier = oidc.NewVerifier(cfg.Issuer, keys, v.oidcConfig())
	}
	return v, nil
}

func (v *Verifier) oidcConfig() *oidc.Config {
	return &oidc.Config{ClientID: v.cfg.Audience}
}

// discoveryRetry spaces discovery attempts after a failure.
const discoveryRetry = 5 * time.Second

func (v *Verifier) idTokenVerifier(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.verifier != nil {
		return v.verifier, nil
	}
	if time.Since(v.failedAt) < discoveryRetry {
		return nil, v.lastErr
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, v.cfg.HTTPClient), 10*time.Second)
	defer cancel()
	provider, err := oidc.NewProvider(ctx, v.cfg.Issuer)
	if err != nil {
		v.failedAt, v.lastErr = time.Now(), err
		return nil, err
	}
	// Key fetches outlive this request.
	v.verifier = provider.VerifierContext(oidc.ClientContext(context.Background(), v.cfg.HTTPClient), v.oidcConfig())
	return v.verifier, nil
}

// Verify checks a raw JWT (signature, issuer, audience, expiry) and maps its
// claims to a Principal. Its errors are problems: 401 invalid_token,
// invalid_role or missing_org; 503 auth_unavailable when the issuer's
// discovery document cannot be fetched.
func (v *Verifier) Verify(ctx context.Context, raw string) (Principal, error) {
	iv, err := v.idTokenVerifier(ctx)
	if err != nil {
		slog.ErrorContext(ctx, "identity provider discovery failed", "issuer", v.cfg.Issuer, "error", err)
		return Principal{}, httpx.NewProblem(http.StatusServiceUnavailable, "auth_unavailable",
			"Tokens cannot be checked right now; retry later.")
	}
	tok, err := iv.Verify(ctx, raw)
	if err != nil {
		slog.InfoContext(ctx, "token rejected", "error", err)
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return Principal{}, httpx.Unauthorized("invalid_token", "The token has expired.")
		}
		return Principal{}, httpx.Unauthorized("invalid_token", "The token is invalid for this service.")
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return Principal{}, httpx.Unauthorized("invalid_token", "The token's claims cannot be read.")
	}
	p := Principal{Subject: tok.Subject, Name: stringClaim(claims, "name"), Org: stringClaim(claims, v.cfg.OrgClaim),
		Email: emailClaim(claims), EntraID: stringClaim(claims, v.cfg.EntraIDClaim)}
	if p.Subject == "" {
		return Principal{}, httpx.Unauthorized("invalid_token", "The token has no subject.")
	}
	roles := v.roles(claims[v.cfg.RoleClaim])
	switch {
	case len(roles) > 1 || (len(roles) == 0 && v.cfg.Directory == nil):
		return Principal{}, httpx.Unauthorized("invalid_role",
			fmt.Sprintf("The token must carry exactly one known role in its %q claim, one of %s.", v.cfg.RoleClaim, roleList()))
	case len(roles) == 1 && roles[0] == RoleService:
		p.Role = RoleService // services are not people: the directory does not list them
	case v.cfg.Directory != nil:
		if p, err = v.fromDirectory(ctx, p, roles); err != nil {
			return Principal{}, err
		}
	default:
		p.Role = roles[0]
	}
	if p.Role == RolePartner && p.Org == "" {
		return Principal{}, httpx.Unauthorized("missing_org",
			fmt.Sprintf("A partner token must name its organisation in the %q claim.", v.cfg.OrgClaim))
	}
	if errs := p.Validate(); len(errs) > 0 {
		// Its claims would reach the requests' histories: refused like the token they came in.
		return Principal{}, httpx.Unauthorized("invalid_token", "The token's "+errs[0].Field+" claim "+errs[0].Message+".")
	}
	return p, nil
}

// roles returns the distinct known roles a claim value maps to.
func (v *Verifier) roles(claim any) []Role {
	var values []string
	switch c := claim.(type) {
	case string:
		values = []string{c}
	case []any:
		for _, e := range c {
			if s, ok := e.(string); ok {
				values = append(values, s)
			}
		}
	}
	var roles []Role
	for _, s := range values {
		r := Role(s)
		if len(v.cfg.RoleMap) > 0 {
			r = v.cfg.RoleMap[s]
		}
		if r.Valid() && !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	return roles
}

// emailClaim is the token's "email" claim when it is a bare address.
func emailClaim(claims map[string]any) string {
	if s := stringClaim(claims, "email"); IsAddress(s) {
		return s
	}
	return ""
}

func stringClaim(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return strings.TrimSpace(s)
}

// fromDirectory is the principal of a person's token as the directory describes them: their
// role and organisation are the directory's, and so are their name, e-mail and Entra object
// id when it has them. A person it does not know, or deactivated, is refused (403), and so is
// a token whose role, organisation or Entra object id says otherwise than the directory.
func (v *Verifier) fromDirectory(ctx context.Context, p Principal, tokenRoles []Role) (Principal, error) {
	person, err := v.cfg.Directory.Person(ctx, p.Subject, p.EntraID)
	if errors.Is(err, ErrUnknownPerson) {
		return Principal{}, httpx.Forbidden("unknown_person",
			"This account is not registered on the platform: apply for access, or ask an administrator to add you.")
	}
	if err != nil {
		slog.ErrorContext(ctx, "directory lookup failed", "sub", p.Subject, "error", err)
		return Principal{}, httpx.NewProblem(http.StatusServiceUnavailable, "directory_unavailable",
			"The platform's directory cannot be reached right now; retry later.")
	}
	if !person.Active {
		return Principal{}, httpx.Forbidden("person_deactivated", "This account has been deactivated by an administrator.")
	}
	mismatch := func(claim, token, directory string) error {
		return httpx.Forbidden("claims_mismatch", fmt.Sprintf(
			"The token's %s claim (%q) does not match the platform's directory (%q): sign in again.", claim, token, directory))
	}
	switch {
	case len(tokenRoles) == 1 && tokenRoles[0] != person.Role:
		return Principal{}, mismatch(v.cfg.RoleClaim, string(tokenRoles[0]), string(person.Role))
	case p.Org != "" && p.Org != person.Org:
		return Principal{}, mismatch(v.cfg.OrgClaim, p.Org, person.Org)
	case p.EntraID != "" && person.EntraID != "" && p.EntraID != person.EntraID:
		return Principal{}, mismatch(v.cfg.EntraIDClaim, p.EntraID, person.EntraID)
	}
	p.Role, p.Org = person.Role, person.Org
	p.Name = cmp.Or(person.Name, p.Name)
	p.Email = cmp.Or(person.Email, p.Email)
	p.EntraID = cmp.Or(person.EntraID, p.EntraID)
	return p, nil
}
