package httpx

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"

	"github.com/plateforme-rome/rome/platform/logging"
	"github.com/plateforme-rome/rome/platform/telemetry"
)

// HeaderRequestID carries the request id in both directions.
const HeaderRequestID = "X-Request-Id"

const requestIDKey = "httpx.request_id"

// NewEngine returns a Gin engine in release mode with, from the outside in:
// OpenTelemetry tracing, request id + access log, panic recovery and the
// error middleware. Unknown routes and methods answer with problems.
func NewEngine(service string) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// Lets handlers pass the *gin.Context itself where a context.Context is
	// expected and still see values stored in the request context.
	r.ContextWithFallback = true
	// Spans and request metrics only when they are exported: on a stack without a collector
	// the middleware's attributes were a tenth of a fiche read's CPU (issue #11).
	if telemetry.Enabled() {
		r.Use(otelgin.Middleware(service, otelgin.WithFilter(func(req *http.Request) bool { return !isProbe(req.URL.Path) })))
	}
	r.Use(
		accessLog(),
		recovery(),
		handleErrors(),
	)
	r.NoRoute(func(c *gin.Context) {
		WriteProblem(c, NotFound("route_not_found", "No route matches "+c.Request.Method+" "+c.Request.URL.Path+"."))
	})
	r.NoMethod(func(c *gin.Context) {
		WriteProblem(c, NewProblem(http.StatusMethodNotAllowed, "method_not_allowed",
			c.Request.Method+" is not allowed here; allowed: "+c.Writer.Header().Get("Allow")+"."))
	})
	return r
}

// RequestID returns the id of the request being served.
func RequestID(c *gin.Context) string {
	return c.GetString(requestIDKey)
}

func isProbe(path string) bool {
	return path == "/healthz" || path == "/readyz"
}

const quietKey = "httpx.quiet"

// Quiet logs the requests of a route at debug level, like the probes, unless they fail
// or are slow: for routes other processes poll every few seconds, and for public reads
// served by the ten thousand a second, whose metrics and traces count them all (a JSON
// line each cost the referential 13 % of its CPU on fiche reads, issue #11).
func Quiet(c *gin.Context) { c.Set(quietKey, true) }

// slowRequest is how long a Quiet route's request may take before it is logged anyway.
const slowRequest = 250 * time.Millisecond

// accessLog assigns the request id (the caller's when it is sane, so a trace
// can follow a request across services) and logs one line per request.
// Probes and Quiet routes log at debug level so they do not drown the rest.
func accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		id := c.GetHeader(HeaderRequestID)
		if !validRequestID(id) {
			id = newRequestID()
		}
		c.Set(requestIDKey, id)
		c.Header(HeaderRequestID, id)
		c.Request = c.Request.WithContext(logging.With(c.Request.Context(), slog.String("request_id", id)))

		c.Next()

		status, took := c.Writer.Status(), time.Since(start)
		level := slog.LevelInfo
		switch {
		case isProbe(c.Request.URL.Path), c.GetBool(quietKey) && status < 500 && took < slowRequest:
			// Failing checks log their own cause.
			level = slog.LevelDebug
		case status >= 500:
			level = slog.LevelError
		}
		slog.LogAttrs(c.Request.Context(), level, "http request",
			slog.String("method", c.Request.Method),
			slog.String("route", c.FullPath()),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(took.Microseconds())/1000),
			slog.Int("bytes", c.Writer.Size()),
			slog.String("client_ip", c.ClientIP()),
		)
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		// Printable ASCII without spaces keeps log lines and headers clean.
		if r <= ' ' || r > '~' {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// recovery turns a panic into the generic 500 problem and logs the stack.
func recovery() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if err, ok := rec.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(rec)
			}
			slog.ErrorContext(c.Request.Context(), "panic while serving request",
				"panic", rec, "route", c.FullPath(), "stack", string(debug.Stack()))
			if c.Writer.Written() {
				c.Abort()
				return
			}
			WriteProblem(c, Internal())
		}()
		c.Next()
	}
}

// handleErrors renders the last error a handler attached with c.Error: a
// *Problem as itself, anything else as the generic 500 after logging it.
func handleErrors() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		if len(c.Errors) == 0 {
			return
		}
		err := c.Errors.Last().Err
		var p *Problem
		if !errors.As(err, &p) {
			slog.ErrorContext(c.Request.Context(), "request failed", "error", err, "route", c.FullPath())
			p = Internal()
		}
		if c.Writer.Written() {
			// Too late to change the response; keep the cause in the logs.
			slog.WarnContext(c.Request.Context(), "error after the response was written", "error", err)
			return
		}
		WriteProblem(c, p)
	}
}
