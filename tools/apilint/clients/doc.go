// Package clients pins what the Go clients generated from the services' OpenAPI documents
// are made and built with (../clients.sh): oapi-codegen, a tool of this module, and its
// runtime, which the generated code imports. The module is outside the workspace.
package clients

import _ "github.com/oapi-codegen/runtime"
