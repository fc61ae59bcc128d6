package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

func TestBuildJSONWithContext(t *testing.T) {
	var buf bytes.Buffer
	logger, problems := build(&buf, "intake", "debug", "")
	if len(problems) != 0 {
		t.Fatalf("unexpected problems: %v", problems)
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled,
	})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	ctx = With(ctx, slog.String("request_id", "r-1"))
	logger.DebugContext(ctx, "hello", "k", "v")

	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not JSON: %q: %v", buf.String(), err)
	}
	for k, want := range map[string]string{
		"msg": "hello", "service": "intake", "k": "v", "request_id": "r-1",
		"trace_id": sc.TraceID().String(), "span_id": sc.SpanID().String(), "level": "DEBUG",
	} {
		if rec[k] != want {
			t.Errorf("%s = %v, want %q", k, rec[k], want)
		}
	}
}

func TestBuildTextAndLevel(t *testing.T) {
	var buf bytes.Buffer
	logger, problems := build(&buf, "svc", "warn", "text")
	if len(problems) != 0 {
		t.Fatalf("unexpected problems: %v", problems)
	}
	logger.Info("hidden")
	logger.Warn("shown")
	out := buf.String()
	if strings.Contains(out, "hidden") || !strings.Contains(out, "msg=shown") {
		t.Fatalf("level or format not applied: %q", out)
	}
}

func TestBuildInvalidSettings(t *testing.T) {
	var buf bytes.Buffer
	logger, problems := build(&buf, "svc", "loud", "xml")
	if len(problems) != 2 {
		t.Fatalf("want two problems, got %v", problems)
	}
	logger.Info("still logs")
	if !json.Valid(bytes.TrimSpace(buf.Bytes())) {
		t.Fatalf("fallback must be JSON at info: %q", buf.String())
	}
}
