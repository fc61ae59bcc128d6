module github.com/plateforme-rome/rome/services/console

go 1.26.0

require (
	github.com/coreos/go-oidc/v3 v3.21.0
	github.com/gin-gonic/gin v1.12.0
	github.com/go-jose/go-jose/v4 v4.1.9
	github.com/plateforme-rome/rome/platform v0.0.0
	github.com/plateforme-rome/rome/services/notifications v0.0.0
	github.com/plateforme-rome/rome/services/referential v0.0.0
	github.com/plateforme-rome/rome/workflows v0.0.0
	golang.org/x/oauth2 v0.38.0
	gorm.io/gorm v1.31.2
)

replace github.com/plateforme-rome/rome/platform => ../../platform

replace github.com/plateforme-rome/rome/services/notifications => ../notifications

replace github.com/plateforme-rome/rome/services/referential => ../referential

replace github.com/plateforme-rome/rome/workflows => ../../workflows

replace github.com/plateforme-rome/rome/tools/smtpsink => ../../tools/smtpsink
