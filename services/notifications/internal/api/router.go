// Package api is the notifications service's HTTP interface.
package api

import (
	"context"
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/platform/service"
)

//go:embed openapi.json
var openAPI []byte

// Deps are the router's collaborators.
type Deps struct {
	Checks   []httpx.Check
	Verifier *auth.Verifier
}

// Router builds the notifications service's HTTP handler.
func Router(d Deps) *gin.Engine {
	r := httpx.NewEngine("notifications")
	httpx.Health(r, d.Checks...)
	r.GET("/openapi.json", httpx.OpenAPI(openAPI))

	v1 := r.Group("/v1", auth.Authenticate(d.Verifier))
	v1.GET("/me", auth.Me)
	return r
}

// Build wires the router from the running service. Tokens are checked
// against the configured identity provider, in dev mode the intake's dev
// issuer through its JWKS (see auth.ConfigFromEnv).
func Build(_ context.Context, rt *service.Runtime) (http.Handler, error) {
	cfg, err := auth.ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	v, err := auth.NewVerifier(cfg)
	if err != nil {
		return nil, err
	}
	return Router(Deps{Checks: rt.Checks(), Verifier: v}), nil
}
