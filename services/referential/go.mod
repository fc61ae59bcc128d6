module github.com/plateforme-rome/rome/services/referential

go 1.26.0

require (
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/pgx/v5 v5.7.6 // indirect
	github.com/jinzhu/inflection v1.0.0 // indirect
	github.com/jinzhu/now v1.1.5 // indirect
	github.com/plateforme-rome/rome/platform v0.0.0
	golang.org/x/crypto v0.37.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	gorm.io/gorm v1.31.1 // indirect
)

replace github.com/plateforme-rome/rome/platform => ../../platform
