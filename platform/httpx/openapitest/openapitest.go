// Package openapitest keeps a service's OpenAPI document true: every route
// registered on its router is documented, and every documented operation is
// registered (Check); the requests and responses of a service's tests match the
// document (Validator).
package openapitest

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// ginParam is a Gin path parameter, a whole segment (/:id, /*path), or an escaped colon
// (\:), which is a literal one: the referential's /v1/changesets\:validate, which Gin
// lists with or without the backslash depending on its version.
var ginParam = regexp.MustCompile(`\\:|/[:*]([A-Za-z0-9_]+)`)

// openAPIPath writes a Gin route's path as OpenAPI does.
func openAPIPath(path string) string {
	return ginParam.ReplaceAllStringFunc(path, func(m string) string {
		if m == `\:` {
			return ":"
		}
		return "/{" + m[2:] + "}"
	})
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Check fails t when doc (OpenAPI 3.1 JSON) and routes disagree.
func Check(t testing.TB, doc []byte, routes gin.RoutesInfo) {
	t.Helper()
	var spec struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &spec); err != nil {
		t.Fatalf("OpenAPI document is not valid JSON: %v", err)
	}
	if !strings.HasPrefix(spec.OpenAPI, "3.1") {
		t.Fatalf("openapi = %q, want 3.1.x", spec.OpenAPI)
	}
	documented := map[string]bool{}
	for path, item := range spec.Paths {
		for m := range item {
			if slices.Contains(methods, m) {
				documented[strings.ToUpper(m)+" "+path] = true
			}
		}
	}
	registered := map[string]bool{}
	for _, r := range routes {
		registered[r.Method+" "+openAPIPath(r.Path)] = true
	}
	for op := range registered {
		if !documented[op] {
			t.Errorf("route %s is not in the OpenAPI document", op)
		}
	}
	for op := range documented {
		if !registered[op] {
			t.Errorf("OpenAPI operation %s is not registered on the router", op)
		}
	}
}
