// Command notifications delivers the platform's notifications (port
// NOTIFICATIONS_PORT, 8083): the API, and in the background the e-mail
// outbox dispatcher and the daily digest scheduler.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/config"
	"github.com/plateforme-rome/rome/platform/service"

	"github.com/plateforme-rome/rome/services/notifications/internal/api"
	"github.com/plateforme-rome/rome/services/notifications/internal/delivery"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// main is service.Main with one difference: on SIGINT/SIGTERM the
// dispatcher and the digest scheduler stop first (finishing the e-mails in
// flight), and only then the HTTP server and the database.
func main() {
	signals, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	serviceCtx, stopService := context.WithCancel(context.Background())
	var background sync.WaitGroup
	go func() {
		<-signals.Done()
		background.Wait()
		stopService()
	}()
	err := service.Run(serviceCtx, service.Spec{
		Name:        "notifications",
		PortEnv:     "NOTIFICATIONS_PORT",
		DefaultPort: 8083,
		Temporal:    true,
		Migrations:  store.Migrations,
		Router: func(_ context.Context, rt *service.Runtime) (http.Handler, error) {
			return build(signals, rt, &background)
		},
	})
	if err != nil {
		slog.Error("service stopped on error", "error", err)
		os.Exit(1)
	}
}

func build(ctx context.Context, rt *service.Runtime, background *sync.WaitGroup) (http.Handler, error) {
	cfg, err := auth.ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	v, err := auth.NewVerifier(cfg)
	if err != nil {
		return nil, err
	}
	dcfg, smtpCfg, schedule, err := deliveryConfig()
	if err != nil {
		return nil, err
	}
	st := store.New(rt.DB, delivery.Domain(dcfg.From))
	m, err := delivery.NewMetrics(st)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	host, _ := os.Hostname()
	dispatcher := delivery.NewDispatcher(st, smtpCfg, dcfg, fmt.Sprintf("%s/%d", host, os.Getpid()), m, rt.Logger)
	digests := delivery.NewDigests(st, schedule, rt.Logger)
	background.Go(func() { dispatcher.Run(ctx) })
	background.Go(func() { digests.Run(ctx) })
	return api.Router(api.Deps{Checks: rt.Checks(), Verifier: v, Store: st}), nil
}

// deliveryConfig reads the SMTP_*, OUTBOX_* and DIGEST_* variables.
func deliveryConfig() (delivery.Config, delivery.SMTP, delivery.Schedule, error) {
	var (
		d    delivery.Config
		s    delivery.SMTP
		sch  delivery.Schedule
		errs []error
	)
	get := func(key string, def time.Duration) time.Duration {
		v, err := config.Duration(key, def)
		errs = append(errs, err)
		return v
	}
	s = delivery.SMTP{
		Addr: config.String("SMTP_ADDR", "127.0.0.1:2525"), Username: config.String("SMTP_USERNAME", ""),
		Password: config.String("SMTP_PASSWORD", ""), Timeout: get("SMTP_TIMEOUT", 30*time.Second),
	}
	d = delivery.Config{
		From:        config.String("SMTP_FROM", "Plateforme du ROME <notifications@plateforme-rome.localhost>"),
		BaseBackoff: get("SMTP_RETRY_BASE", 30*time.Second),
		MaxBackoff:  get("SMTP_RETRY_MAX", time.Hour),
		Lease:       get("OUTBOX_LEASE", 2*time.Minute),
		Poll:        get("OUTBOX_POLL_INTERVAL", 2*time.Second),
		Batch:       50,
		PublicURL:   config.String("PUBLIC_URL", "http://127.0.0.1:8081"),
	}
	var err error
	d.MaxAttempts, err = config.Int("SMTP_MAX_ATTEMPTS", 8)
	errs = append(errs, err)
	if err == nil && d.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("SMTP_MAX_ATTEMPTS must be at least 1"))
	}
	sch.Hour, sch.Minute, err = delivery.ParseTime(config.String("DIGEST_TIME", "07:00"))
	errs = append(errs, err)
	sch.Interval = get("DIGEST_INTERVAL", 0)
	for _, e := range errs {
		if e != nil {
			return d, s, sch, e
		}
	}
	return d, s, sch, nil
}
