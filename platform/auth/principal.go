// Package auth authenticates callers by bearer JWT (Microsoft Entra ID or any
// OIDC issuer in production, a local dev issuer in dev mode), authorises
// them by role, and obtains tokens for service-to-service calls.
package auth

import (
	"context"
	"strings"

	"github.com/plateforme-rome/rome/platform/httpx"
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
}

// Validate lists what makes p unusable: no subject, an unknown role, or a
// partner without an organisation.
func (p Principal) Validate() []httpx.FieldError {
	var errs []httpx.FieldError
	if strings.TrimSpace(p.Subject) == "" {
		errs = append(errs, httpx.FieldError{Field: "sub", Message: "is required"})
	}
	if !p.Role.Valid() {
		errs = append(errs, httpx.FieldError{Field: "role", Message: "must be one of " + roleList()})
	}
	if p.Role == RolePartner && strings.TrimSpace(p.Org) == "" {
		errs = append(errs, httpx.FieldError{Field: "org", Message: "is required for the partner role"})
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
