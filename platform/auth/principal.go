// Package auth authenticates callers by bearer JWT (Microsoft Entra ID or any
// OIDC issuer in production, a local dev issuer in dev mode), authorises
// them by role, and obtains tokens for service-to-service calls.
package auth

import (
	"context"
	"net/mail"
	"strings"

	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/platform/textrule"
)

// Role is what a caller may do on the platform.
type Role string

// The platform's roles.
const (
	RolePartner   Role = "partner"
	RoleModerator Role = "moderator"
	RoleAdmin     Role = "admin"
	RoleService   Role = "service"
)

// Roles lists every known role.
var Roles = []Role{RolePartner, RoleModerator, RoleAdmin, RoleService}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RolePartner, RoleModerator, RoleAdmin, RoleService:
		return true
	}
	return false
}

// Principal is the authenticated caller.
type Principal struct {
	Subject string `json:"sub"`
	Name    string `json:"name,omitempty"`
	Role    Role   `json:"role"`
	// Org is the partner's organisation; other roles may have none.
	Org string `json:"org,omitempty"`
	// Email is the token's e-mail claim, when it holds an address.
	Email string `json:"email,omitempty"`
	// EntraID is the caller's object id in Microsoft Entra ID (the claim named by
	// AUTH_ENTRA_ID_CLAIM, "oid" in Entra tokens): what Microsoft Teams knows the
	// person by, for channel membership and activity-feed notifications.
	EntraID string `json:"oid,omitempty"`
}

// claimRules are the text rules of the claims a principal carries into histories and
// messages: one line each, without control or bidirectional characters.
var claimRules = []struct {
	name  string
	value func(Principal) string
	rule  textrule.Rule
}{
	{"sub", func(p Principal) string { return p.Subject }, textrule.Rule{Name: "subject", Max: 255}},
	{"name", func(p Principal) string { return p.Name }, textrule.Rule{Name: "name", Max: 200}},
	{"org", func(p Principal) string { return p.Org }, textrule.Rule{Name: "organisation", Max: 100}},
	{"oid", func(p Principal) string { return p.EntraID }, textrule.Rule{Name: "Entra object id", Max: 64}},
}

// Validate lists what makes p unusable: no subject, an unknown role, a
// partner without an organisation, an e-mail that is not an address, or a
// claim that breaks the text rule (a control character, invalid UTF-8…).
func (p Principal) Validate() []httpx.FieldError {
	var errs []httpx.FieldError
	for _, c := range claimRules {
		if _, problem := textrule.Check(c.name, c.value(p), c.rule); problem != nil {
			errs = append(errs, httpx.FieldError{Field: problem.Field, Message: problem.Message})
		}
	}
	if strings.TrimSpace(p.Subject) == "" {
		errs = append(errs, httpx.FieldError{Field: "sub", Message: "is required"})
	}
	if !p.Role.Valid() {
		errs = append(errs, httpx.FieldError{Field: "role", Message: "must be one of " + roleList()})
	}
	if p.Role == RolePartner && strings.TrimSpace(p.Org) == "" {
		errs = append(errs, httpx.FieldError{Field: "org", Message: "is required for the partner role"})
	}
	if p.Email != "" && !IsAddress(p.Email) {
		errs = append(errs, httpx.FieldError{Field: "email", Message: "must be an e-mail address such as name@example.org"})
	}
	return errs
}

func roleList() string {
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal Authenticate stored in the request
// context (a *gin.Context works too).
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// IsAddress reports whether s is a bare e-mail address (name@example.org, no
// display name).
func IsAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}
