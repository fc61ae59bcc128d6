package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/glebarez/sqlite"
	"go.temporal.io/sdk/client"
	"gorm.io/gorm"
)

type response struct {
	Status  int
	Header  http.Header
	Body    map[string]any
	RawBody string
}

func do(t *testing.T, h http.Handler, method, path, body string, header ...string) response {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := response{Status: rec.Code, Header: rec.Header(), RawBody: rec.Body.String()}
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &res.Body); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %q", method, path, rec.Body.String())
		}
	}
	return res
}

func assertProblem(t *testing.T, res response, status int, code string) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status = %d, want %d (body %s)", res.Status, status, res.RawBody)
	}
	if ct := res.Header.Get("Content-Type"); ct != ContentTypeProblem {
		t.Fatalf("Content-Type = %q, want %q", ct, ContentTypeProblem)
	}
	if res.Body["code"] != code || res.Body["status"] != float64(status) ||
		res.Body["type"] != ProblemTypeBase+code || res.Body["title"] != http.StatusText(status) {
		t.Fatalf("problem members wrong: %v", res.Body)
	}
}

func TestProblemJSON(t *testing.T) {
	p := Unprocessable("invalid_body", "bad", FieldError{Field: "a", Message: "is required"}).With("currentStatus", "IN_REVIEW")
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"type": ProblemTypeBase + "invalid_body", "title": "Unprocessable Entity", "status": float64(422),
		"detail": "bad", "code": "invalid_body", "currentStatus": "IN_REVIEW",
		"errors": []any{map[string]any{"field": "a", "message": "is required"}},
	}
	if gb, wb := mustJSON(t, got), mustJSON(t, want); gb != wb {
		t.Fatalf("got %s\nwant %s", gb, wb)
	}
	if !strings.Contains(p.Error(), "a is required") {
		t.Fatalf("Error() should mention the field: %q", p.Error())
	}
}

func TestProblemExtensionsCannotReplaceStandardMembers(t *testing.T) {
	p := Conflict("invalid_transition", "no")
	p.Extensions = map[string]any{"status": "IN_REVIEW", "code": "x"}
	var got map[string]any
	if err := json.Unmarshal(mustMarshal(t, p), &got); err != nil {
		t.Fatal(err)
	}
	if got["status"] != float64(409) || got["code"] != "invalid_transition" {
		t.Fatalf("standard members overwritten: %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("With(\"status\") must panic: the member is the HTTP status")
		}
	}()
	Conflict("x", "y").With("status", "IN_REVIEW")
}

func TestErrorMiddleware(t *testing.T) {
	r := NewEngine("test")
	r.GET("/problem", func(c *gin.Context) {
		_ = c.Error(Conflict("invalid_transition", "already decided").With("currentStatus", "PUBLISHED"))
	})
	r.GET("/wrapped", func(c *gin.Context) {
		_ = c.Error(errors.Join(errors.New("context"), NotFound("request_not_found", "no such request")))
	})
	r.GET("/internal", func(c *gin.Context) {
		_ = c.Error(errors.New(`pq: relation "secret_table" does not exist`))
	})
	r.GET("/panic", func(c *gin.Context) { panic("boom: secret") })
	r.POST("/only-post", func(c *gin.Context) { c.Status(http.StatusNoContent) })

	res := do(t, r, "GET", "/problem", "")
	assertProblem(t, res, 409, "invalid_transition")
	if res.Body["currentStatus"] != "PUBLISHED" || res.Body["detail"] != "already decided" {
		t.Fatalf("extension or detail missing: %v", res.Body)
	}

	assertProblem(t, do(t, r, "GET", "/wrapped", ""), 404, "request_not_found")

	for _, path := range []string{"/internal", "/panic"} {
		res = do(t, r, "GET", path, "")
		assertProblem(t, res, 500, "internal_error")
		if strings.Contains(res.RawBody, "secret") {
			t.Fatalf("%s leaks internals: %s", path, res.RawBody)
		}
	}

	assertProblem(t, do(t, r, "GET", "/nowhere", ""), 404, "route_not_found")

	res = do(t, r, "GET", "/only-post", "")
	assertProblem(t, res, 405, "method_not_allowed")
	if res.Header.Get("Allow") != "POST" {
		t.Fatalf("Allow = %q", res.Header.Get("Allow"))
	}
}

func TestRequestID(t *testing.T) {
	r := NewEngine("test")
	r.GET("/id", func(c *gin.Context) { c.String(http.StatusOK, RequestID(c)) })

	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/id", nil)
	req.Header.Set(HeaderRequestID, "abc-123")
	r.ServeHTTP(rec, req)
	if rec.Header().Get(HeaderRequestID) != "abc-123" || rec.Body.String() != "abc-123" {
		t.Fatalf("caller's id not kept: header %q body %q", rec.Header().Get(HeaderRequestID), rec.Body.String())
	}

	rec = httptest.NewRecorder()
	req = httptest.NewRequest("GET", "/id", nil)
	req.Header.Set(HeaderRequestID, "bad id\twith spaces")
	r.ServeHTTP(rec, req)
	id := rec.Header().Get(HeaderRequestID)
	if len(id) != 32 || id != rec.Body.String() {
		t.Fatalf("want a generated 32-hex id echoed, got header %q body %q", id, rec.Body.String())
	}
}

type rankOp struct {
	Op   string `json:"op"`
	Rank int    `json:"rank"`
}

type meta struct {
	Source string `json:"source"`
}

type submission struct {
	meta
	Title      string            `json:"title"`
	Operations []rankOp          `json:"operations"`
	Tags       []string          `json:"tags"`
	Labels     map[string]rankOp `json:"labels"`
	Strict     strictValue       `json:"strict"`
	Note       *string           `json:"note"` // optional: null is absent
}

// strictValue reports its own field errors, as an operation decoder would.
type strictValue struct{}

func (*strictValue) UnmarshalJSON(b []byte) error {
	if string(b) != "null" && string(b) != `"ok"` {
		return FieldErrors{{Field: "strict", Message: `must be "ok"`}}
	}
	return nil
}

func TestBindJSON(t *testing.T) {
	r := NewEngine("test")
	var got submission
	r.POST("/s", func(c *gin.Context) {
		got = submission{}
		if err := BindJSONLimit(c, &got, 512); err != nil {
			_ = c.Error(err)
			return
		}
		c.Status(http.StatusNoContent)
	})

	ok := `{"title":"t","source":"s","operations":[{"op":"a","rank":1}],"tags":["x"],"strict":"ok"}`
	if res := do(t, r, "POST", "/s", ok); res.Status != 204 {
		t.Fatalf("valid body rejected: %d %s", res.Status, res.RawBody)
	}
	if got.Title != "t" || got.Source != "s" || len(got.Operations) != 1 || got.Operations[0].Rank != 1 {
		t.Fatalf("decoded wrongly: %+v", got)
	}

	cases := []struct {
		name, body, code string
		status           int
		field, message   string
	}{
		{"empty", "", "malformed_json", 400, "", ""},
		{"syntax", `{"title": "t",}`, "malformed_json", 400, "", ""},
		{"truncated", `{"title": "t"`, "malformed_json", 400, "", ""},
		{"two values", `{"title":"t"} {}`, "malformed_json", 400, "", ""},
		{"too large", `{"title":"` + strings.Repeat("x", 600) + `"}`, "body_too_large", 413, "", ""},
		{"type in array", `{"operations":[{"op":"a","rank":1},{"op":"b","rank":2},{"op":"c","rank":"3"}]}`, "invalid_body", 422, "operations[2].rank", "must be an integer"},
		{"type of object", `{"operations":{"op":"a"}}`, "invalid_body", 422, "operations", "must be an array"},
		{"type in slice", `{"tags":["a",2]}`, "invalid_body", 422, "tags[1]", "must be a string"},
		{"type in map", `{"labels":{"k":{"rank":true}}}`, "invalid_body", 422, "labels.k.rank", "must be an integer"},
		{"unknown top", `{"title":"t","titel":"typo"}`, "invalid_body", 422, "titel", "is not a known field"},
		{"unknown nested", `{"operations":[{"op":"a"},{"op":"b","rnak":2}]}`, "invalid_body", 422, "operations[1].rnak", "is not a known field"},
		{"unknown nested, same name as a map key", `{"labels":{"extra":{}},"operations":[{"extra":1}]}`, "invalid_body", 422, "operations[0].extra", "is not a known field"},
		{"custom field errors", `{"strict":"no"}`, "invalid_body", 422, "strict", `must be "ok"`},
		{"null text", `{"title":null}`, "invalid_body", 422, "title", "must not be null: give a value or leave the field out"},
		{"null in an array", `{"operations":[{"op":"a"},null]}`, "invalid_body", 422, "operations[1]", "must not be null: give a value or leave the field out"},
		{"null nested", `{"operations":[{"op":"a","rank":null}]}`, "invalid_body", 422, "operations[0].rank", "must not be null: give a value or leave the field out"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := do(t, r, "POST", "/s", tc.body)
			assertProblem(t, res, tc.status, tc.code)
			if tc.field == "" {
				return
			}
			errs, _ := res.Body["errors"].([]any)
			if len(errs) != 1 {
				t.Fatalf("want one field error, got %v", res.Body)
			}
			fe := errs[0].(map[string]any)
			if fe["field"] != tc.field || fe["message"] != tc.message {
				t.Fatalf("field error = %v, want %s %s", fe, tc.field, tc.message)
			}
		})
	}

	if res := do(t, r, "POST", "/s", `{"title":"t","note":null,"strict":null,"tags":null,"labels":null}`); res.Status != 204 {
		t.Fatalf("null for a pointer, a custom decoder, a slice or a map refused: %d %s", res.Status, res.RawBody)
	}

	res := do(t, r, "POST", "/s", `[1,2]`)
	assertProblem(t, res, 422, "invalid_body")
	if res.Body["detail"] != "The request body must be an object." {
		t.Fatalf("root type mismatch detail: %v", res.Body["detail"])
	}
}

func TestBodyLimit(t *testing.T) {
	r := NewEngine("test")
	var got submission
	r.POST("/s", BodyLimit(64), func(c *gin.Context) {
		if err := BindJSON(c, &got); err != nil {
			_ = c.Error(err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	if res := do(t, r, "POST", "/s", `{"title":"fits"}`); res.Status != 204 || got.Title != "fits" {
		t.Fatalf("a body under the route's limit: %d %s", res.Status, res.RawBody)
	}
	res := do(t, r, "POST", "/s", `{"title":"`+strings.Repeat("x", 100)+`"}`)
	assertProblem(t, res, 413, "body_too_large")
	if res.Body["detail"] != "The request body exceeds 64 bytes." {
		t.Fatalf("detail = %v, want the route's limit", res.Body["detail"])
	}

	// A body longer than its (absent) Content-Length is cut at the limit when read.
	req := httptest.NewRequest("POST", "/s", io.MultiReader(strings.NewReader(`{"title":"`), strings.NewReader(strings.Repeat("y", 100)+`"}`)))
	req.ContentLength = -1
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	if rec.Code != 413 || !strings.Contains(rec.Body.String(), "body_too_large") {
		t.Fatalf("chunked body over the limit: %d %s", rec.Code, rec.Body)
	}
}

func TestHealth(t *testing.T) {
	healthy := Check{Name: "database", Run: func(context.Context) error { return nil }}
	broken := Check{Name: "temporal", Run: func(context.Context) error { return errors.New("dial tcp 10.0.0.1:7233: refused") }}
	slow := Check{Name: "slow", Run: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}

	r := NewEngine("test")
	Health(r, healthy)
	if res := do(t, r, "GET", "/healthz", ""); res.Status != 200 || res.Body["status"] != "ok" {
		t.Fatalf("healthz: %d %v", res.Status, res.Body)
	}
	res := do(t, r, "GET", "/readyz", "")
	if res.Status != 200 || res.Body["status"] != "ready" || res.Body["checks"].(map[string]any)["database"] != "ok" {
		t.Fatalf("readyz healthy: %d %v", res.Status, res.Body)
	}

	r = NewEngine("test")
	Health(r, healthy, broken, slow)
	start := time.Now()
	res = do(t, r, "GET", "/readyz", "")
	if elapsed := time.Since(start); elapsed > CheckTimeout+time.Second {
		t.Fatalf("checks must run concurrently within the timeout, took %v", elapsed)
	}
	assertProblem(t, res, 503, "not_ready")
	checks := res.Body["checks"].(map[string]any)
	if checks["database"] != "ok" || checks["temporal"] != "failing" || checks["slow"] != "timeout" {
		t.Fatalf("checks = %v", checks)
	}
	if strings.Contains(res.RawBody, "10.0.0.1") {
		t.Fatalf("readiness leaks the cause: %s", res.RawBody)
	}
	if res := do(t, r, "GET", "/healthz", ""); res.Status != 200 {
		t.Fatalf("liveness must not depend on dependencies: %d", res.Status)
	}
}

func TestDBCheck(t *testing.T) {
	db, err := gorm.Open(sqlite.Open(filepath.Join(t.TempDir(), "h.db")), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	chk := DBCheck(db)
	if err := chk.Run(t.Context()); err != nil {
		t.Fatalf("open database reported unhealthy: %v", err)
	}
	sqlDB, _ := db.DB()
	_ = sqlDB.Close()
	if err := chk.Run(t.Context()); err == nil {
		t.Fatal("closed database reported healthy")
	}
}

func TestTemporalCheckUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there any more
	c, err := client.NewLazyClient(client.Options{HostPort: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), CheckTimeout)
	defer cancel()
	if err := TemporalCheck(c).Run(ctx); err == nil {
		t.Fatal("unreachable Temporal reported healthy")
	}
}

func TestServeGracefulShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(200 * time.Millisecond)
		_, _ = io.WriteString(w, "done")
	})
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- ServeListener(ctx, ln, h) }()

	got := make(chan string, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		got <- string(b)
	}()
	<-started
	cancel()
	if body := <-got; body != "done" {
		t.Fatalf("in-flight request not completed: %q", body)
	}
	if err := <-served; err != nil {
		t.Fatalf("graceful shutdown returned %v", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/"); err == nil {
		t.Fatal("server still accepts requests after shutdown")
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// Routes marked Quiet log at debug level, like the probes, unless they fail or are slow.
func TestQuietRoutesLogAtDebug(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	r := NewEngine("test")
	r.POST("/poll", Quiet, func(c *gin.Context) { c.Status(http.StatusOK) })
	r.POST("/poll-broken", Quiet, func(c *gin.Context) { c.Status(http.StatusInternalServerError) })
	r.POST("/poll-slow", Quiet, func(c *gin.Context) { time.Sleep(slowRequest); c.Status(http.StatusOK) })
	r.POST("/act", func(c *gin.Context) { c.Status(http.StatusOK) })
	levels := map[string]string{}
	for _, path := range []string{"/poll", "/poll-broken", "/poll-slow", "/act"} {
		buf.Reset()
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, path, nil))
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var rec struct{ Level, Msg, Path string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "http request" {
				levels[rec.Path] = rec.Level
			}
		}
	}
	if levels["/poll"] != "DEBUG" || levels["/poll-broken"] != "ERROR" || levels["/poll-slow"] != "INFO" || levels["/act"] != "INFO" {
		t.Fatalf("access log levels %v", levels)
	}
}
