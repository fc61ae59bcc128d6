package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// MaxBodyBytes is the default request body limit of BindJSON, for routes that set none
// with BodyLimit.
const MaxBodyBytes = 1 << 20

// bodyLimitKey holds, in the gin context, the body limit BodyLimit set for the route.
const bodyLimitKey = "httpx.bodyLimit"

// BodyLimit caps the request bodies of the routes it is applied to at limit bytes: a
// Content-Length above it is answered 413 body_too_large before the handler runs, and a
// body that turns out longer (chunked, or a lying Content-Length) fails its read, which
// BindJSON reports as the same 413. Each route states the most its payload needs.
func BodyLimit(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > limit {
			_ = c.Error(bodyTooLarge(limit))
			c.Abort()
			return
		}
		c.Set(bodyLimitKey, limit)
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		c.Next()
	}
}

// BindJSON decodes the request body into dst strictly, with the route's size limit
// (BodyLimit) or else MaxBodyBytes. See BindJSONLimit.
func BindJSON(c *gin.Context, dst any) error {
	return BindJSONLimit(c, dst, RouteBodyLimit(c))
}

// RouteBodyLimit is the body limit BodyLimit set for the route, or MaxBodyBytes.
func RouteBodyLimit(c *gin.Context) int64 {
	if limit, ok := c.Get(bodyLimitKey); ok {
		return limit.(int64)
	}
	return MaxBodyBytes
}

func bodyTooLarge(limit int64) *Problem {
	return NewProblem(http.StatusRequestEntityTooLarge, "body_too_large",
		fmt.Sprintf("The request body exceeds %d bytes.", limit))
}

// BindJSONLimit decodes exactly one JSON value from the request body into
// dst, rejecting unknown fields. Its errors are problems ready to be passed
// to c.Error: 413 body_too_large, 400 malformed_json, or 422 invalid_body
// naming the offending field path (e.g. "operations[2].rank").
func BindJSONLimit(c *gin.Context, dst any, limit int64) error {
	body, err := readLimit(c, limit)
	if err != nil {
		return err
	}
	return decodeStrict(body, dst)
}

// ReadBody reads the request body whole, with the route's size limit (BodyLimit) or else
// MaxBodyBytes, for a route whose body is not JSON. Its errors are problems: 413
// body_too_large, 400 unreadable_body.
func ReadBody(c *gin.Context) ([]byte, error) {
	return readLimit(c, RouteBodyLimit(c))
}

func readLimit(c *gin.Context, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, bodyTooLarge(min(limit, tooLarge.Limit))
		}
		return nil, BadRequest("unreadable_body", "The request body could not be read.")
	}
	return body, nil
}

func decodeStrict(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return BadRequest("malformed_json", "The request body is empty; a JSON document is expected.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeProblem(body, dst, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return BadRequest("malformed_json", "The request body holds more than one JSON value.")
	}
	if field := nullFieldPath(body, reflect.TypeOf(dst)); field != "" {
		return Unprocessable("invalid_body", "A field is null.", FieldError{Field: field, Message: "must not be null: give a value or leave the field out"})
	}
	return nil
}

func decodeProblem(body []byte, dst any, err error) error {
	var (
		syntax    *json.SyntaxError
		typ       *json.UnmarshalTypeError
		invalid   *json.InvalidUnmarshalError
		problem   *Problem
		fieldErrs FieldErrors
	)
	switch {
	case errors.As(err, &problem):
		return problem
	case errors.As(err, &fieldErrs):
		return Unprocessable("invalid_body", "The request body is invalid.", fieldErrs...)
	case errors.As(err, &syntax):
		line, col := position(body, syntax.Offset)
		return BadRequest("malformed_json", fmt.Sprintf("Malformed JSON at line %d, column %d: %s.", line, col, strings.TrimPrefix(syntax.Error(), "json: ")))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest("malformed_json", "The JSON document ends too early.")
	case errors.As(err, &typ):
		path := pathAt(body, typ.Offset)
		field := formatPath(path)
		if typ.Field != "" && lastKey(path) != typ.Field[strings.LastIndexByte(typ.Field, '.')+1:] {
			// The error came from a nested decoder whose offsets are not the
			// body's: trust the decoder's own (index-less) field path.
			field = typ.Field
		}
		if field == "" {
			return Unprocessable("invalid_body", "The request body must be "+describe(typ.Type)+".")
		}
		return Unprocessable("invalid_body", "A field has the wrong type.",
			FieldError{Field: field, Message: "must be " + describe(typ.Type)})
	case errors.As(err, &invalid):
		return err // a programming error: rendered as a 500
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if unq, uerr := strconv.Unquote(name); uerr == nil {
			name = unq
		}
		return Unprocessable("invalid_body", "The request body has an unknown field.",
			FieldError{Field: unknownFieldPath(body, reflect.TypeOf(dst), name), Message: "is not a known field"})
	}
	// Errors from custom UnmarshalJSON methods describe the input.
	return Unprocessable("invalid_body", strings.TrimPrefix(err.Error(), "json: "))
}

// FieldErrors lets a custom UnmarshalJSON report field-level problems that
// BindJSON turns into a 422 listing them.
type FieldErrors []FieldError

func (fe FieldErrors) Error() string {
	parts := make([]string, len(fe))
	for i, f := range fe {
		parts[i] = f.Field + " " + f.Message
	}
	return strings.Join(parts, "; ")
}

// describe says which JSON value a Go type accepts.
func describe(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a valid " + t.String()
}

func position(body []byte, offset int64) (line, col int) {
	if offset > int64(len(body)) {
		offset = int64(len(body))
	}
	line, col = 1, 1
	for _, b := range body[:offset] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}
