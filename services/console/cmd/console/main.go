// Command console serves the web console (port CONSOLE_PORT, 8080): the pages partners,
// moderators and admins use in a browser. It calls the intake, referential and
// notifications services with the signed-in person's token and keeps only its sessions.
package main

import (
	"github.com/plateforme-rome/rome/platform/service"

	"github.com/plateforme-rome/rome/services/console/internal/session"
	"github.com/plateforme-rome/rome/services/console/internal/ui"
)

func main() {
	service.Main(service.Spec{
		Name:        "console",
		PortEnv:     "CONSOLE_PORT",
		DefaultPort: 8080,
		Migrations:  session.Migrations,
		Router:      ui.Build,
	})
}
