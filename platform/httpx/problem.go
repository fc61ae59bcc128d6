// Package httpx holds the HTTP plumbing every service shares: RFC 9457
// problem responses, the Gin engine and its middleware, strict JSON binding,
// health endpoints and a gracefully stopping server.
package httpx

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// ProblemTypeBase prefixes every problem's type URI; the code completes it.
const ProblemTypeBase = "https://plateforme-rome.fr/problems/"

// ContentTypeProblem is the media type of problem responses (RFC 9457).
const ContentTypeProblem = "application/problem+json"

// FieldError names one invalid input field and says what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Problem is an RFC 9457 problem detail and an error. Handlers return it
// through c.Error; the error middleware renders it.
type Problem struct {
	Type   string
	Title  string
	Status int
	Detail string
	// Code is the stable machine-readable code clients branch on.
	Code   string
	Errors []FieldError
	// Extensions are extra members merged into the JSON object, e.g. the
	// "currentStatus" of a request in a 409. The standard members' names
	// (type, title, status, detail, code, errors) are reserved.
	Extensions map[string]any
}

// NewProblem builds a problem whose type derives from code and whose title is
// the status text, so one code always renders the same type and title.
func NewProblem(status int, code, detail string, fields ...FieldError) *Problem {
	return &Problem{
		Type:   ProblemTypeBase + code,
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Code:   code,
		Errors: fields,
	}
}

// BadRequest is a 400: the request cannot be read at all.
func BadRequest(code, detail string) *Problem {
	return NewProblem(http.StatusBadRequest, code, detail)
}

// Unauthorized is a 401: no valid credentials.
func Unauthorized(code, detail string) *Problem {
	return NewProblem(http.StatusUnauthorized, code, detail)
}

// Forbidden is a 403: valid credentials, insufficient rights.
func Forbidden(code, detail string) *Problem {
	return NewProblem(http.StatusForbidden, code, detail)
}

// NotFound is a 404: absent, or not visible to the caller.
func NotFound(code, detail string) *Problem {
	return NewProblem(http.StatusNotFound, code, detail)
}

// Conflict is a 409: the current state forbids the action. Callers usually
// add the current state with With("currentStatus", …).
func Conflict(code, detail string) *Problem {
	return NewProblem(http.StatusConflict, code, detail)
}

// Unprocessable is a 422: well-formed input that is invalid, field by field.
func Unprocessable(code, detail string, fields ...FieldError) *Problem {
	return NewProblem(http.StatusUnprocessableEntity, code, detail, fields...)
}

// Internal is the 500 shown for any unexpected error; it says nothing about
// the cause, which is logged instead.
func Internal() *Problem {
	return NewProblem(http.StatusInternalServerError, "internal_error", "An unexpected error occurred; it has been logged.")
}

// With sets an extension member and returns p for chaining. It panics on a
// reserved member name: that is a programming error, and RFC 9457 gives
// "status" to the HTTP status code.
func (p *Problem) With(key string, value any) *Problem {
	if reserved[key] {
		panic("httpx: problem extension " + key + " is a reserved member")
	}
	if p.Extensions == nil {
		p.Extensions = map[string]any{}
	}
	p.Extensions[key] = value
	return p
}

var reserved = map[string]bool{"type": true, "title": true, "status": true, "detail": true, "code": true, "errors": true}

func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.Code)
	if p.Detail != "" {
		b.WriteString(": ")
		b.WriteString(p.Detail)
	}
	for _, f := range p.Errors {
		b.WriteString("; ")
		b.WriteString(f.Field)
		b.WriteString(" ")
		b.WriteString(f.Message)
	}
	return b.String()
}

// MarshalJSON writes the standard members plus the extensions.
func (p *Problem) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, 6+len(p.Extensions))
	for k, v := range p.Extensions {
		m[k] = v
	}
	m["type"] = p.Type
	m["title"] = p.Title
	m["status"] = p.Status
	m["code"] = p.Code
	if p.Detail != "" {
		m["detail"] = p.Detail
	}
	if len(p.Errors) > 0 {
		m["errors"] = p.Errors
	}
	return json.Marshal(m)
}

// WriteProblem renders p and aborts the handler chain.
func WriteProblem(c *gin.Context, p *Problem) {
	body, err := json.Marshal(p)
	if err != nil {
		// Only an unmarshalable extension gets here: drop the extensions.
		body, _ = json.Marshal(&Problem{Type: p.Type, Title: p.Title, Status: p.Status, Detail: p.Detail, Code: p.Code, Errors: p.Errors})
	}
	c.Abort()
	c.Data(p.Status, ContentTypeProblem, body)
}
