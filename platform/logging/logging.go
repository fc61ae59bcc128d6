// Package logging builds the process-wide slog logger.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// Setup builds a logger from LOG_LEVEL (debug|info|warn|error, default info)
// and LOG_FORMAT (json|text, default json), tags every record with the
// service name and installs it as slog's default. An invalid setting falls
// back to its default and is reported as a warning rather than stopping the
// service.
func Setup(service string) *slog.Logger {
	logger, problems := build(os.Stderr, service, os.Getenv("LOG_LEVEL"), os.Getenv("LOG_FORMAT"))
	slog.SetDefault(logger)
	for _, p := range problems {
		logger.Warn("invalid logging setting, using the default", "error", p)
	}
	return logger
}

func build(w io.Writer, service, level, format string) (*slog.Logger, []error) {
	var problems []error
	lvl := slog.LevelInfo
	if level != "" {
		if err := lvl.UnmarshalText([]byte(level)); err != nil {
			problems = append(problems, fmt.Errorf("LOG_LEVEL=%q: use debug, info, warn or error", level))
			lvl = slog.LevelInfo
		}
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	switch strings.ToLower(format) {
	case "", "json":
		h = slog.NewJSONHandler(w, opts)
	case "text":
		h = slog.NewTextHandler(w, opts)
	default:
		problems = append(problems, fmt.Errorf("LOG_FORMAT=%q: use json or text", format))
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(contextHandler{h}).With("service", service), problems
}

type ctxKey struct{}

// With returns a context whose log records (through slog's *Context
// functions) carry attrs, e.g. the request id set by the HTTP middleware.
func With(ctx context.Context, attrs ...slog.Attr) context.Context {
	prev, _ := ctx.Value(ctxKey{}).([]slog.Attr)
	merged := make([]slog.Attr, 0, len(prev)+len(attrs))
	merged = append(append(merged, prev...), attrs...)
	return context.WithValue(ctx, ctxKey{}, merged)
}

// contextHandler adds the attributes stored by With and the current trace
// and span ids, so a log line can be found from its trace and vice versa.
type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if attrs, ok := ctx.Value(ctxKey{}).([]slog.Attr); ok {
		r.AddAttrs(attrs...)
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}
