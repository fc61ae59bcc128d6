package openapitest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gin-gonic/gin"
	"golang.org/x/text/unicode/norm"
)

func init() {
	// The referential's export; kin-openapi knows no zip decoder of its own.
	openapi3filter.RegisterBodyDecoder("application/zip", openapi3filter.FileBodyDecoder)
}

// maxMessage keeps a violation readable: schema errors can quote a whole document.
const maxMessage = 2000

// Validator checks the HTTP traffic of a test against a service's OpenAPI 3.1 document
// (kin-openapi's openapi3filter, JSON Schema 2020-12): each request and each response,
// whatever the test itself asserts. It records every violation and fails the test when
// it ends:
//   - a response whose status is not documented for its operation, or whose headers or
//     body do not match the documented ones;
//   - a request the document rejects (parameters, body) that the service accepted (any
//     status below 400): the document is stricter than the handler;
//   - a request to a route the document does not have that the service did not answer
//     with 404 or 405.
//
// Requests the document rejects and the service refuses too (the tests of 4xx answers)
// are not violations. A request body is judged as the services read it (see asRead):
// texts cleaned as the platform's text rule measures them, null members as absent.
// Security is not checked: the services' own tests cover it.
type Validator struct {
	t      testing.TB
	router routers.Router
	faked  map[string]bool // operation ids answered by fakes

	mu         sync.Mutex
	violations map[string]int
	order      []string
}

// Option changes what a Validator checks.
type Option func(*Validator)

// AnsweredByFakes names operations (by operationId) whose acceptance the test's fakes
// decide, e.g. updates that a faked workflow accepts whatever they carry where the real
// one refuses what the document refuses: that the service accepted such a request says
// nothing about the document, so a request the document rejects is no violation there.
// Their responses are still checked.
func AnsweredByFakes(operationIDs ...string) Option {
	return func(v *Validator) {
		for _, id := range operationIDs {
			v.faked[id] = true
		}
	}
}

// NewValidator loads doc (it must be a valid OpenAPI document) and reports the
// violations it records when t ends.
func NewValidator(t testing.TB, doc []byte, options ...Option) *Validator {
	t.Helper()
	loader := openapi3.NewLoader()
	spec, err := loader.LoadFromData(doc)
	if err != nil {
		t.Fatalf("OpenAPI document does not load: %v", err)
	}
	if err := spec.Validate(loader.Context); err != nil {
		t.Fatalf("OpenAPI document is not valid: %v", err)
	}
	// Test servers listen anywhere: match the paths alone.
	spec.Servers = nil
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		t.Fatalf("OpenAPI document's paths: %v", err)
	}
	v := &Validator{t: t, router: router, faked: map[string]bool{}, violations: map[string]int{}}
	for _, o := range options {
		o(v)
	}
	for id := range v.faked {
		if !hasOperation(spec, id) {
			t.Fatalf("AnsweredByFakes: no operation %q in the document", id)
		}
	}
	t.Cleanup(v.report)
	return v
}

func (v *Validator) report() {
	v.t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, msg := range v.order {
		if n := v.violations[msg]; n > 1 {
			msg = fmt.Sprintf("%s (%d times)", msg, n)
		}
		v.t.Errorf("OpenAPI: %s", msg)
	}
}

// brief drops the schema and value that kin-openapi's schema errors quote (indented
// blocks under "Schema:" and "Value:"): the reason and the location are what matter, and
// the same violation then reads the same for every value.
func brief(err error) string {
	var kept []string
	for line := range strings.Lines(err.Error()) {
		t := strings.TrimSpace(line)
		if t == "" || t == "Schema:" || t == "Value:" || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		kept = append(kept, t)
	}
	return strings.Join(kept, " ")
}

func (v *Validator) record(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if len(msg) > maxMessage {
		msg = strings.ToValidUTF8(msg[:maxMessage], "") + "…"
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.violations[msg] == 0 {
		v.order = append(v.order, msg)
	}
	v.violations[msg]++
}

func hasOperation(spec *openapi3.T, id string) bool {
	for _, item := range spec.Paths.Map() {
		for _, op := range item.Operations() {
			if op.OperationID == id {
				return true
			}
		}
	}
	return false
}

var filterOptions = &openapi3filter.Options{
	AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	IncludeResponseStatus: true,
	MultiError:            true,
}

// check validates one exchange; req's body was read into reqBody.
func (v *Validator) check(req *http.Request, reqBody []byte, status int, header http.Header, body []byte) {
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			v.record("%s %s: %s, yet answered %d", req.Method, req.URL.Path, brief(err), status)
		}
		return
	}
	// By operation, so that the same violation on other paths or values counts once.
	name := req.Method + " " + route.Path
	ctx := context.Background()
	r := withBody(req, asRead(reqBody))
	// The services decode a JSON body whatever its Content-Type says (httpx.BindJSON): a body
	// sent without one is read as the operation's only media type, as they read it.
	if len(reqBody) > 0 && r.Header.Get("Content-Type") == "" && route.Operation.RequestBody != nil {
		if content := route.Operation.RequestBody.Value.Content; len(content) == 1 {
			for mediaType := range content {
				r.Header.Set("Content-Type", mediaType)
			}
		}
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: filterOptions}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil && status < http.StatusBadRequest && !v.faked[route.Operation.OperationID] {
		v.record("%s: the document rejects the request, the service answered %d: %s", name, status, brief(err))
	}
	if header.Get("Content-Encoding") == "gzip" { // the document describes the content, whatever its encoding
		inflated, err := gunzip(body)
		if err != nil {
			v.record("%s: response %d says gzip but is not: %s", name, status, err)
			return
		}
		body = inflated
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header, Options: filterOptions}
	if err := openapi3filter.ValidateResponse(ctx, out.SetBodyBytes(body)); err != nil {
		v.record("%s: response %d does not match the document: %s", name, status, brief(err))
	}
}

// asRead is a JSON request body as the services read it, for the document to judge what
// they act on: every string cleaned as the platform's text rule does before it measures a
// text (request.CheckText: CR+LF folded to LF, surrounding space trimmed, NFC), so that a
// maxLength is checked on the text the service measures; and members whose value is null
// left out: the services read null as absent where a field can hold it (httpx.BindJSON
// refuses it with a 422 elsewhere), so the documents describe optional fields as absent
// and do not repeat null on each. Anything but one JSON value is returned as it is.
func asRead(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || dec.More() {
		return body
	}
	var clean func(any) any
	clean = func(v any) any {
		switch v := v.(type) {
		case string:
			return norm.NFC.String(strings.TrimSpace(strings.ReplaceAll(v, "\r\n", "\n")))
		case []any:
			for i := range v {
				v[i] = clean(v[i])
			}
		case map[string]any:
			for k := range v {
				if v[k] == nil {
					delete(v, k)
					continue
				}
				v[k] = clean(v[k])
			}
		}
		return v
	}
	out, err := json.Marshal(clean(v))
	if err != nil {
		return body
	}
	return out
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// withBody is a copy of r that reads body again.
func withBody(r *http.Request, body []byte) *http.Request {
	c := r.Clone(r.Context())
	c.Body = http.NoBody
	if len(body) > 0 {
		c.Body = io.NopCloser(bytes.NewReader(body))
	}
	return c
}

// readBody consumes r.Body and puts the same bytes back.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(r.Body)
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(b))
	return b, err
}

// Handler serves next and validates every exchange.
func (v *Validator) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rec := &responseRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, withBody(r, body))
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		v.check(r, body, rec.status, w.Header(), rec.body.Bytes())
	})
}

// responseRecorder passes a response through and keeps a copy.
type responseRecorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *responseRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *responseRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Engine is Handler(next) as a Gin engine with next's routes, for test helpers typed on
// *gin.Engine (its Routes() still lists next's, for Check).
func (v *Validator) Engine(next *gin.Engine) *gin.Engine {
	h := v.Handler(next)
	forward := func(c *gin.Context) { h.ServeHTTP(c.Writer, c.Request) }
	e := gin.New()
	// The same routing decisions as next, so next answers every request itself.
	e.RedirectTrailingSlash, e.RedirectFixedPath = next.RedirectTrailingSlash, next.RedirectFixedPath
	e.HandleMethodNotAllowed, e.RemoveExtraSlash = next.HandleMethodNotAllowed, next.RemoveExtraSlash
	e.UseRawPath, e.UnescapePathValues = next.UseRawPath, next.UnescapePathValues
	for _, r := range next.Routes() {
		e.Handle(r.Method, r.Path, forward)
	}
	e.NoRoute(forward)
	e.NoMethod(forward)
	return e
}

// Transport sends requests through next (nil: http.DefaultTransport) and validates every
// exchange, for tests that call a real server.
func (v *Validator) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		body, err := readBody(req)
		if err != nil {
			return nil, err
		}
		res, err := next.RoundTrip(withBody(req, body))
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return nil, err
		}
		res.Body = io.NopCloser(bytes.NewReader(b))
		v.check(req, body, res.StatusCode, res.Header, b)
		return res, nil
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
