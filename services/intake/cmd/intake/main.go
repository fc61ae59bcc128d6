// Command intake serves the evolution-request API (port INTAKE_PORT, 8081): partners file
// requests, moderators handle them, each request runs as a Temporal workflow whose history
// and projection the intake stores; in dev mode it also serves the dev token issuer every
// local service trusts.
package main

import (
	"github.com/plateforme-rome/rome/platform/service"

	"github.com/plateforme-rome/rome/services/intake/internal/api"
	"github.com/plateforme-rome/rome/services/intake/internal/store"
)

func main() {
	service.Main(service.Spec{
		Name:        "intake",
		PortEnv:     "INTAKE_PORT",
		DefaultPort: 8081,
		Temporal:    true,
		Migrations:  store.Migrations,
		Router:      api.Build,
	})
}
