module github.com/plateforme-rome/rome/tools/graphemu

go 1.26.0
