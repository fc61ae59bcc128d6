module github.com/plateforme-rome/rome/tools/loadtest

go 1.26
