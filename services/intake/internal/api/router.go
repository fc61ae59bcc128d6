// Package api is the intake's HTTP interface.
package api

import (
	"context"
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/config"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/platform/service"
)

//go:embed openapi.json
var openAPI []byte

// Deps are the router's collaborators.
type Deps struct {
	Checks   []httpx.Check
	Verifier *auth.Verifier
	// Dev is the dev token issuer; nil outside dev mode, and then the /dev
	// routes do not exist.
	Dev *auth.DevIssuer
}

// Router builds the intake's HTTP handler.
func Router(d Deps) *gin.Engine {
	r := httpx.NewEngine("intake")
	httpx.Health(r, d.Checks...)
	r.GET("/openapi.json", httpx.OpenAPI(openAPI))

	v1 := r.Group("/v1", auth.Authenticate(d.Verifier))
	v1.GET("/me", auth.Me)

	if d.Dev != nil {
		d.Dev.Register(r.Group("/dev"))
	}
	return r
}

// Build wires the router from the running service: in dev mode the intake
// hosts the dev issuer and checks its tokens with the issuer's own key;
// otherwise tokens come from the configured identity provider.
func Build(_ context.Context, rt *service.Runtime) (http.Handler, error) {
	d, err := NewDeps(rt.DevMode, rt.Port, rt.Checks())
	if err != nil {
		return nil, err
	}
	return Router(d), nil
}

// NewDeps reads the authentication settings (see auth.ConfigFromEnv).
func NewDeps(devMode bool, port int, checks []httpx.Check) (Deps, error) {
	d := Deps{Checks: checks}
	cfg, err := auth.ConfigFromEnv()
	if err != nil {
		return Deps{}, err
	}
	if devMode {
		if d.Dev, err = auth.NewDevIssuer(config.StateDir(), auth.DevIssuerURL(port)); err != nil {
			return Deps{}, err
		}
		if cfg.Issuer == d.Dev.Issuer() {
			cfg.KeySet = d.Dev.KeySet()
		}
	}
	if d.Verifier, err = auth.NewVerifier(cfg); err != nil {
		return Deps{}, err
	}
	return d, nil
}
