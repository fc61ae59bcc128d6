package openapitest

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

const petsDoc = `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{
 "/pets/{id}":{"get":{"operationId":"getPet",
   "parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string","pattern":"^[0-9]+$"}}],
   "responses":{
    "200":{"description":"a pet","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Pet"}}}},
    "404":{"description":"none","content":{"application/problem+json":{"schema":{"type":"object"}}}}}}},
 "/pets":{"post":{"operationId":"addPet",
   "requestBody":{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Pet"}}}},
   "responses":{
    "201":{"description":"added","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Pet"}}}},
    "422":{"description":"invalid","content":{"application/problem+json":{"schema":{"type":"object"}}}}}}}},
 "components":{"schemas":{"Pet":{"type":"object","required":["name"],"additionalProperties":false,
   "properties":{"name":{"type":"string","maxLength":10},"tag":{"type":["string","null"]}}}}}}`

// pets answers what each test case tells it to.
type pets struct {
	status int
	body   string
}

func (p *pets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ct := "application/json"
	if p.status >= 400 {
		ct = "application/problem+json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(p.status)
	w.Write([]byte(p.body))
}

func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

// finish runs the cleanups, as the end of a test does.
func (r *recorder) finish() []string {
	for _, f := range r.cleanups {
		f()
	}
	return r.failures
}

func TestValidator(t *testing.T) {
	cases := []struct {
		name, method, path, body string
		status                   int
		answer                   string
		want                     string // in the violation; empty: none
	}{
		{"valid read", "GET", "/pets/1", "", 200, `{"name":"Rex","tag":null}`, ""},
		{"documented error", "GET", "/pets/2", "", 404, `{}`, ""},
		{"missing required field", "GET", "/pets/1", "", 200, `{"tag":"x"}`, `GET /pets/{id}: response 200 does not match the document: response body doesn't match schema #/components/schemas/Pet: validation failed due to: at '': missing property 'name'`},
		{"undeclared field", "GET", "/pets/1", "", 200, `{"name":"Rex","age":3}`, `response 200 does not match`},
		{"undocumented status", "GET", "/pets/1", "", 500, `{}`, `response 500 does not match`},
		{"invalid request refused", "POST", "/pets", `{"name":"far too long a name"}`, 422, `{}`, ""},
		{"invalid request accepted", "POST", "/pets", `{"name":"far too long a name"}`, 201, `{"name":"ok"}`, `the document rejects the request, the service answered 201`},
		{"body without Content-Type", "POST", "/pets", `{"name":"Rex"}`, 201, `{"name":"Rex"}`, ""},
		{"text measured once cleaned", "POST", "/pets", "{\"name\":\"  R\u00e9e\u0301 \\r\\nX\\t \",\"tag\":null}", 201, `{"name":"Rée\nX"}`, ""},
		{"null member read as absent", "POST", "/pets", `{"name":"Rex","tag":null,"age":null}`, 201, `{"name":"Rex"}`, ""},
		{"cleaned text still too long", "POST", "/pets", `{"name":" far too long "}`, 201, `{"name":"ok"}`, `at '/name': maxLength: got 12, want 10`},
		{"invalid body without Content-Type accepted", "POST", "/pets", `{"name":1}`, 201, `{"name":"Rex"}`, `the document rejects the request`},
		{"invalid path parameter accepted", "GET", "/pets/abc", "", 200, `{"name":"Rex"}`, `the document rejects the request`},
		{"unknown route answered 404", "GET", "/owners", "", 404, `{}`, ""},
		{"unknown route answered 200", "GET", "/owners", "", 200, `{}`, `GET /owners: no matching operation was found, yet answered 200`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for via, serve := range map[string]func(*Validator, http.Handler, *http.Request) int{
				"handler": func(v *Validator, h http.Handler, req *http.Request) int {
					rec := httptest.NewRecorder()
					v.Handler(h).ServeHTTP(rec, req)
					return rec.Code
				},
				"transport": func(v *Validator, h http.Handler, req *http.Request) int {
					srv := httptest.NewServer(h)
					defer srv.Close()
					out, _ := http.NewRequest(req.Method, srv.URL+req.URL.Path, req.Body)
					out.Header = req.Header
					res, err := (&http.Client{Transport: v.Transport(nil)}).Do(out)
					if err != nil {
						t.Fatal(err)
					}
					res.Body.Close()
					return res.StatusCode
				},
			} {
				rec := &recorder{TB: t}
				v := NewValidator(rec, []byte(petsDoc))
				req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
				if !strings.Contains(tc.name, "without Content-Type") {
					req.Header.Set("Content-Type", "application/json")
				}
				if got := serve(v, &pets{tc.status, tc.answer}, req); got != tc.status {
					t.Fatalf("%s: status %d passed through as %d", via, tc.status, got)
				}
				failures := strings.Join(rec.finish(), "\n")
				if tc.want == "" && failures != "" {
					t.Errorf("%s: unexpected violations: %s", via, failures)
				}
				if tc.want != "" && !strings.Contains(failures, tc.want) {
					t.Errorf("%s: violations %q do not say %q", via, failures, tc.want)
				}
			}
		})
	}
}

// A gzip-encoded answer is judged on its content; one that says gzip but is not, is a violation.
func TestValidatorReadsGzipBodies(t *testing.T) {
	gzipped := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	for _, tc := range []struct {
		name string
		body []byte
		want string
	}{
		{"valid", gzipped(`{"name":"Rex"}`), ""},
		{"invalid content", gzipped(`{"tag":"x"}`), "missing property 'name'"},
		{"not gzip", []byte(`{"name":"Rex"}`), "says gzip but is not"},
	} {
		rec := &recorder{TB: t}
		h := NewValidator(rec, []byte(petsDoc)).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(tc.body)
		}))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/pets/1", nil))
		failures := strings.Join(rec.finish(), "\n")
		if tc.want == "" && failures != "" || tc.want != "" && !strings.Contains(failures, tc.want) {
			t.Errorf("%s: violations %q, want %q", tc.name, failures, tc.want)
		}
	}
}

func TestValidatorCountsRepeats(t *testing.T) {
	rec := &recorder{TB: t}
	h := NewValidator(rec, []byte(petsDoc)).Handler(&pets{500, `{}`})
	for range 3 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/pets/1", nil))
	}
	if got := rec.finish(); len(got) != 1 || !strings.HasSuffix(got[0], "(3 times)") {
		t.Fatalf("violations %q", got)
	}
}

func TestValidatorEngine(t *testing.T) {
	gin.SetMode(gin.TestMode)
	inner := gin.New()
	inner.GET("/pets/:id", func(c *gin.Context) { c.JSON(200, gin.H{"name": "Rex", "age": 3}) })
	rec := &recorder{TB: t}
	e := NewValidator(rec, []byte(petsDoc)).Engine(inner)
	if r := e.Routes(); len(r) != 1 || r[0].Method != "GET" || r[0].Path != "/pets/:id" {
		t.Fatalf("routes %v", r)
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest("GET", "/pets/1", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"age":3`) {
		t.Fatalf("answer %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest("GET", "/owners", nil))
	if w.Code != 404 {
		t.Fatalf("unknown route: %d", w.Code)
	}
	if got := strings.Join(rec.finish(), "\n"); !strings.Contains(got, "GET /pets/{id}: response 200 does not match") || strings.Contains(got, "/owners") {
		t.Fatalf("violations %q", got)
	}
}

func TestNewValidatorRejectsBadDocuments(t *testing.T) {
	for _, doc := range []string{`{`, `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/x":{"get":{"responses":{"200":{"description":"x","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Missing"}}}}}}}}}`} {
		rec := fatalRecorder{&recorder{TB: t}}
		done := make(chan struct{})
		go func() {
			defer close(done)
			NewValidator(rec, []byte(doc))
		}()
		<-done
		if len(rec.failures) == 0 {
			t.Errorf("document accepted: %s", doc)
		}
	}
}

// fatalRecorder stops the goroutine at Fatalf, as a test does.
type fatalRecorder struct{ *recorder }

func (r fatalRecorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func TestAnsweredByFakes(t *testing.T) {
	rec := &recorder{TB: t}
	v := NewValidator(rec, []byte(petsDoc), AnsweredByFakes("addPet"))
	post := func(answer string) {
		req := httptest.NewRequest("POST", "/pets", strings.NewReader(`{"tag":"no name"}`))
		req.Header.Set("Content-Type", "application/json")
		v.Handler(&pets{201, answer}).ServeHTTP(httptest.NewRecorder(), req)
	}
	post(`{"name":"Rex"}`)
	post(`{"name":1}`)
	got := strings.Join(rec.finish(), "\n")
	if strings.Contains(got, "the document rejects the request") || !strings.Contains(got, "POST /pets: response 201 does not match") {
		t.Fatalf("violations %q", got)
	}

	rec = &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		NewValidator(fatalRecorder{rec}, []byte(petsDoc), AnsweredByFakes("nope"))
	}()
	<-done
	if len(rec.failures) == 0 || !strings.Contains(rec.failures[0], `no operation "nope"`) {
		t.Fatalf("unknown operation accepted: %v", rec.failures)
	}
}
