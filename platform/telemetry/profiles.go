package telemetry

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/plateforme-rome/rome/platform/config"
)

// ProfilesAddrEnv names the variable that turns on a service's Go profiles:
// <SERVICE>_PPROF_ADDR, e.g. INTAKE_PPROF_ADDR=127.0.0.1:6061.
func ProfilesAddrEnv(service string) string { return strings.ToUpper(service) + "_PPROF_ADDR" }

// ServeProfiles serves Go's runtime profiles (/debug/pprof/) on the address the service's
// PPROF_ADDR variable gives, until ctx ends; without it, it does nothing. The profiles are
// not authenticated, so they get a listener of their own (keep it on loopback or inside the
// cluster), never the service's public port. It returns the address it listens on, "" when
// off.
func ServeProfiles(ctx context.Context, service string) (string, error) {
	addr := config.String(ProfilesAddrEnv(service), "")
	if addr == "" {
		return "", nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Warn("profiles server stopped", "error", err)
		}
	}()
	slog.Info("Go profiles served", "addr", ln.Addr().String())
	return ln.Addr().String(), nil
}
