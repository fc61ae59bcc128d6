package temporalx

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
)

func TestOptionsFromEnv(t *testing.T) {
	t.Setenv("TEMPORAL_ADDRESS", "")
	t.Setenv("TEMPORAL_NAMESPACE", "")
	opts, err := Options(slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	if opts.HostPort != "127.0.0.1:7233" || opts.Namespace != "default" {
		t.Fatalf("defaults: %s %s", opts.HostPort, opts.Namespace)
	}
	if len(opts.Interceptors) != 1 || opts.MetricsHandler == nil || opts.Logger == nil {
		t.Fatal("tracing interceptor, metrics handler or logger missing")
	}
	t.Setenv("TEMPORAL_ADDRESS", "temporal:7233")
	t.Setenv("TEMPORAL_NAMESPACE", "rome")
	if opts, _ = Options(slog.Default()); opts.HostPort != "temporal:7233" || opts.Namespace != "rome" {
		t.Fatalf("env: %s %s", opts.HostPort, opts.Namespace)
	}
}

// TestDialWithoutServer: a service must start while Temporal is down, and
// its health check must say so.
func TestDialWithoutServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	t.Setenv("TEMPORAL_ADDRESS", addr)

	start := time.Now()
	c, err := Dial(t.Context(), slog.Default())
	if err != nil {
		t.Fatalf("Dial must not fail when Temporal is down: %v", err)
	}
	defer c.Close()
	if time.Since(start) > DialTimeout+2*time.Second {
		t.Fatalf("Dial blocked for %v", time.Since(start))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err == nil {
		t.Fatal("health check passed with no server")
	}
}
