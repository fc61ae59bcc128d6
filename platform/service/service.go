// Package service runs the common life cycle of an HTTP service: logging,
// telemetry, database and migrations, Temporal client, HTTP server, and a
// graceful stop on SIGINT/SIGTERM. It knows nothing of any particular
// service; each one supplies its name, port, migrations and router.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/config"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/platform/logging"
	"github.com/plateforme-rome/rome/platform/telemetry"
	"github.com/plateforme-rome/rome/platform/temporalx"
)

// Spec describes a service.
type Spec struct {
	// Name names the logger, traces, SQLite file and migration component.
	Name        string
	PortEnv     string
	DefaultPort int
	Migrations  []database.Migration
	// SQLitePragmas tune the SQLite file of the embedded default (database.Open).
	SQLitePragmas []string
	// Temporal makes Runtime.Temporal available and adds its readiness check.
	Temporal bool
	// Router builds the service's handler from the started dependencies.
	Router func(ctx context.Context, rt *Runtime) (http.Handler, error)
}

// Runtime is what a service's router may use.
type Runtime struct {
	Name     string
	Port     int
	DevMode  bool
	Logger   *slog.Logger
	DB       *gorm.DB
	Dialect  database.Dialect
	Temporal client.Client // nil unless Spec.Temporal
	// TemporalConfig is what Temporal was dialed with (its payload codec included).
	TemporalConfig temporalx.Config
}

// Checks are the readiness checks of the started dependencies.
func (rt *Runtime) Checks() []httpx.Check {
	checks := []httpx.Check{httpx.DBCheck(rt.DB)}
	if rt.Temporal != nil {
		checks = append(checks, httpx.TemporalCheck(rt.Temporal))
	}
	return checks
}

// Main runs spec until SIGINT or SIGTERM and exits non-zero if it fails. `<service>
// migrate` only migrates its database, then exits (a deployment's migration Job).
func Main(spec Spec) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	switch cmd := strings.Join(os.Args[1:], " "); cmd {
	case "":
		err = Run(ctx, spec)
	case "migrate":
		err = Migrate(ctx, spec)
	default:
		err = fmt.Errorf("unknown command %q (none: serve; migrate)", cmd)
	}
	stop()
	if err != nil {
		slog.Error("service stopped on error", "error", err)
		os.Exit(1)
	}
}

// Migrate brings spec's database to its latest migration.
func Migrate(ctx context.Context, spec Spec) error {
	logging.Setup(spec.Name)
	db, _, err := database.Open(ctx, spec.Name, spec.SQLitePragmas...)
	if err != nil {
		return err
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}
	return database.Migrate(ctx, db, spec.Name, spec.Migrations)
}

// Run starts the dependencies, serves until ctx is done, then releases
// everything in reverse order.
func Run(ctx context.Context, spec Spec) (err error) {
	logger := logging.Setup(spec.Name)
	rt := &Runtime{Name: spec.Name, Logger: logger}
	if rt.Port, err = config.Port(spec.PortEnv, spec.DefaultPort); err != nil {
		return err
	}
	if rt.DevMode, err = config.DevMode(); err != nil {
		return err
	}

	shutdownTelemetry, err := telemetry.Setup(ctx, spec.Name)
	if err != nil {
		return fmt.Errorf("telemetry: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		err = errors.Join(err, shutdownTelemetry(sctx))
	}()

	if _, err = telemetry.ServeProfiles(ctx, spec.Name); err != nil {
		return fmt.Errorf("profiles: %w", err)
	}

	if rt.DB, rt.Dialect, err = database.Open(ctx, spec.Name, spec.SQLitePragmas...); err != nil {
		return err
	}
	defer func() {
		if sqlDB, derr := rt.DB.DB(); derr == nil {
			_ = sqlDB.Close()
		}
	}()
	if err = database.Migrate(ctx, rt.DB, spec.Name, spec.Migrations); err != nil {
		return err
	}

	if spec.Temporal {
		if rt.TemporalConfig, err = temporalx.ConfigFromEnv(rt.DevMode); err != nil {
			return fmt.Errorf("temporal client: %w", err)
		}
		if rt.Temporal, err = rt.TemporalConfig.Dial(ctx, logger); err != nil {
			return fmt.Errorf("temporal client: %w", err)
		}
		defer rt.Temporal.Close()
	}

	handler, err := spec.Router(ctx, rt)
	if err != nil {
		return err
	}
	// Dev mode serves a token endpoint that mints any identity: keep it on
	// the loopback interface unless LISTEN_HOST says otherwise.
	host := ""
	if rt.DevMode {
		host = "127.0.0.1"
	}
	addr := net.JoinHostPort(config.String("LISTEN_HOST", host), strconv.Itoa(rt.Port))
	logger.InfoContext(ctx, "service starting", "addr", addr, "database", string(rt.Dialect), "dev_mode", rt.DevMode)
	return httpx.Serve(ctx, addr, handler)
}
