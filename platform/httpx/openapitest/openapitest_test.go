package openapitest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// recorder collects failures and cleanups instead of failing the real test.
type recorder struct {
	testing.TB
	failures []string
	cleanups []func()
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

const doc = `{"openapi":"3.1.0","paths":{
  "/v1/requests/{id}":{"get":{},"parameters":[]},
  "/healthz":{"get":{}},
  "/v1/changesets:validate":{"post":{}},
  "/files/{path}":{"get":{}}
}}`

func TestCheck(t *testing.T) {
	match := gin.RoutesInfo{{Method: "GET", Path: "/v1/requests/:id"}, {Method: "GET", Path: "/healthz"},
		{Method: "POST", Path: `/v1/changesets\:validate`}, {Method: "GET", Path: "/files/*path"}}
	unescaped := gin.RoutesInfo{{Method: "GET", Path: "/v1/requests/:id"}, {Method: "GET", Path: "/healthz"},
		{Method: "POST", Path: "/v1/changesets:validate"}, {Method: "GET", Path: "/files/*path"}}
	for _, routes := range []gin.RoutesInfo{match, unescaped} {
		rec := &recorder{TB: t}
		Check(rec, []byte(doc), routes)
		if len(rec.failures) != 0 {
			t.Fatalf("matching document rejected: %v", rec.failures)
		}
	}

	rec := &recorder{TB: t}
	Check(rec, []byte(doc), gin.RoutesInfo{{Method: "GET", Path: "/v1/requests/:id"}, {Method: "POST", Path: "/v1/requests"}})
	got := strings.Join(rec.failures, "\n")
	if !strings.Contains(got, "route POST /v1/requests is not in") || !strings.Contains(got, "operation GET /healthz is not registered") {
		t.Fatalf("differences not reported: %s", got)
	}

	rec = &recorder{TB: t}
	Check(rec, []byte(`{"openapi":"3.0.3","paths":{}}`), nil)
	if len(rec.failures) == 0 {
		t.Fatal("an OpenAPI 3.0 document was accepted")
	}
}
