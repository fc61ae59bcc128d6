// Command notifications will deliver the platform's notifications (port
// NOTIFICATIONS_PORT, 8083). This version is the service shell: identity,
// health and its OpenAPI document.
package main

import (
	"github.com/plateforme-rome/rome/platform/service"

	"github.com/plateforme-rome/rome/services/notifications/internal/api"
)

func main() {
	service.Main(service.Spec{
		Name:        "notifications",
		PortEnv:     "NOTIFICATIONS_PORT",
		DefaultPort: 8083,
		Temporal:    true,
		// No tables yet: they arrive with the notification features.
		Migrations: nil,
		Router:     api.Build,
	})
}
