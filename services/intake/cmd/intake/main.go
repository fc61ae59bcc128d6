// Command intake serves the request-intake API (port INTAKE_PORT, 8081) and,
// in dev mode, the dev token issuer every local service trusts.
package main

import (
	"github.com/plateforme-rome/rome/platform/service"

	"github.com/plateforme-rome/rome/services/intake/internal/api"
)

func main() {
	service.Main(service.Spec{
		Name:        "intake",
		PortEnv:     "INTAKE_PORT",
		DefaultPort: 8081,
		Temporal:    true,
		// No tables yet: they arrive with the evolution-request API.
		Migrations: nil,
		Router:     api.Build,
	})
}
