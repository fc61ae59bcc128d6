package ui

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/config"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/platform/service"
	"github.com/plateforme-rome/rome/services/console/internal/assets"
	"github.com/plateforme-rome/rome/services/console/internal/backend"
	"github.com/plateforme-rome/rome/services/console/internal/session"
	"github.com/plateforme-rome/rome/services/console/internal/signin"
)

// Deps are the console's collaborators.
type Deps struct {
	Checks   []httpx.Check
	Sessions *session.Store
	Cookies  session.Cookies
	// Verifier checks the tokens people sign in with, exactly as the services will, and
	// reads their role and organisation from them.
	Verifier *auth.Verifier
	Backend  *backend.Backend
	Assets   *assets.Set
	// OIDC signs people in with the identity provider; nil when none is configured.
	OIDC *signin.OIDC
	// DevSignIn shows the dev sign-in form (dev mode only: it signs anyone in as anyone).
	DevSignIn bool
	// SessionMaxAge bounds a session, however long its token lives.
	SessionMaxAge time.Duration
	// PublicURL is where people reach the console (the provider sends them back there after
	// signing out).
	PublicURL string
	// TemporalUI is the Temporal UI's address, linked from the request page for ops; empty hides it.
	TemporalUI string
	Now        func() time.Time
}

type handlers struct {
	Deps
	pages *pages
}

func newHandlers(d Deps) *handlers {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &handlers{Deps: d, pages: mustParsePages(d.Assets)}
}

// Build wires the console from the running service's settings (see README):
// CONSOLE_PUBLIC_URL, INTAKE_URL, REFERENTIAL_URL, NOTIFICATIONS_URL, CONSOLE_SESSION_MAX_AGE,
// CONSOLE_OIDC_* and the AUTH_* variables the services verify tokens with.
func Build(ctx context.Context, rt *service.Runtime) (http.Handler, error) {
	set, err := assets.Load()
	if err != nil {
		return nil, err
	}
	authCfg, err := auth.ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	if authCfg.Directory, err = auth.RemoteDirectoryFromEnv(ctx, rt.Name); err != nil {
		return nil, err
	}
	verifier, err := auth.NewVerifier(authCfg)
	if err != nil {
		return nil, err
	}
	maxAge, err := config.Duration("CONSOLE_SESSION_MAX_AGE", 10*time.Hour)
	if err != nil {
		return nil, err
	}
	timeout, err := config.Duration("CONSOLE_BACKEND_TIMEOUT", 15*time.Second)
	if err != nil {
		return nil, err
	}
	publicURL := strings.TrimSuffix(config.String("CONSOLE_PUBLIC_URL", fmt.Sprintf("http://127.0.0.1:%d", rt.Port)), "/")
	d := Deps{
		Checks:   rt.Checks(),
		Sessions: session.NewStore(rt.DB, nil),
		// Plain HTTP only in dev mode on loopback: everywhere else the cookies are Secure.
		Cookies:  session.Cookies{Secure: !rt.DevMode || strings.HasPrefix(publicURL, "https://")},
		Verifier: verifier,
		Backend: backend.New(backend.Config{
			IntakeURL:        config.String("INTAKE_URL", "http://127.0.0.1:8081"),
			ReferentialURL:   config.String("REFERENTIAL_URL", "http://127.0.0.1:8082"),
			NotificationsURL: config.String("NOTIFICATIONS_URL", "http://127.0.0.1:8083"),
			Timeout:          timeout,
		}),
		Assets:        set,
		PublicURL:     publicURL,
		DevSignIn:     rt.DevMode,
		SessionMaxAge: maxAge,
		TemporalUI:    config.String("TEMPORAL_UI_URL", ""),
	}
	oidcCfg, ok, err := signin.OIDCConfigFromEnv()
	if err != nil {
		return nil, err
	}
	if ok {
		if d.OIDC, err = signin.NewOIDC(ctx, oidcCfg); err != nil {
			return nil, fmt.Errorf("OpenID Connect provider %s: %w", oidcCfg.Issuer, err)
		}
	}
	if d.OIDC == nil && !d.DevSignIn {
		return nil, fmt.Errorf("nobody could sign in: set CONSOLE_OIDC_CLIENT_ID (and AUTH_ISSUER), or ROME_DEV_MODE=true for the dev sign-in form")
	}
	go sweepSessions(ctx, rt, d.Sessions)
	rt.Logger.InfoContext(ctx, "console ready", "public_url", publicURL, "oidc", d.OIDC != nil, "dev_sign_in", d.DevSignIn)
	return http.NewCrossOriginProtection().Handler(Router(d)), nil
}

// sweepSessions deletes ended sessions every hour.
func sweepSessions(ctx context.Context, rt *service.Runtime, s *session.Store) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := s.DeleteExpired(ctx); err != nil && ctx.Err() == nil {
			rt.Logger.WarnContext(ctx, "ended sessions not deleted", "error", err)
		} else if n > 0 {
			rt.Logger.InfoContext(ctx, "ended sessions deleted", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
