// Command notifications delivers the platform's notifications (port
// NOTIFICATIONS_PORT, 8083): the API (with the internal routes through
// which the worker sends the Teams activity-feed notifications), and in the
// background the e-mail outbox dispatcher and the daily digest scheduler.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/config"
	"github.com/plateforme-rome/rome/platform/service"

	"github.com/plateforme-rome/rome/services/notifications/internal/api"
	"github.com/plateforme-rome/rome/services/notifications/internal/app"
	"github.com/plateforme-rome/rome/services/notifications/internal/delivery"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
	"github.com/plateforme-rome/rome/services/notifications/internal/targets"
)

// main is service.Main with one difference: on SIGINT/SIGTERM the
// dispatcher and the digest scheduler stop first (finishing the e-mails in
// flight), and only then the HTTP server and the database.
func main() {
	if len(os.Args) > 1 { // `notifications migrate`: nothing runs in the background then
		service.Main(service.Spec{Name: "notifications", Migrations: store.Migrations})
		return
	}
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
	directoryURL, directoryClient, err := auth.DirectoryClientFromEnv(ctx, rt.Name)
	if err != nil {
		return nil, err
	}
	cfg.Directory = auth.NewRemoteDirectory(directoryURL, directoryClient)
	v, err := auth.NewVerifier(cfg)
	if err != nil {
		return nil, err
	}
	set, err := deliverySettings()
	if err != nil {
		return nil, err
	}
	svc, err := app.New(app.Deps{
		Store:     store.New(rt.DB),
		Targets:   targets.New(set.intakeURL, set.referentialURL, nil),
		Directory: targets.NewDirectory(directoryURL, directoryClient),
		Config:    set.app,
		Log:       rt.Logger,
	})
	if err != nil {
		return nil, err
	}
	if _, err := svc.ObserveOutbox(); err != nil {
		return nil, err
	}
	go svc.ReportStoredTexts(ctx) // notifications made before the text rules are reported, never rewritten
	host, _ := os.Hostname()
	dispatcher := delivery.NewDispatcher(svc, set.smtp, fmt.Sprintf("%s/%d", host, os.Getpid()), set.dispatcher, rt.Logger)
	digests := delivery.NewDigests(svc, set.schedule, nil, rt.Logger)
	background.Go(func() { dispatcher.Run(ctx) })
	background.Go(func() { digests.Run(ctx) })
	return api.Router(api.Deps{Checks: rt.Checks(), Verifier: v, Service: svc}), nil
}

// settings configure the delivery channels and the digests, and where the
// services that follows are checked against are.
type settings struct {
	app        app.Config
	smtp       delivery.SMTP
	dispatcher delivery.Config
	schedule   delivery.Schedule

	intakeURL, referentialURL string
}

// deliverySettings reads the variables below (defaults in parentheses).
//
// E-mail, sent by this service:
//
//	SMTP_ADDR             the SMTP server, host:port; STARTTLS when it offers it (127.0.0.1:2525)
//	SMTP_USERNAME         with SMTP_PASSWORD, PLAIN authentication when set; needs TLS except on localhost (empty)
//	SMTP_FROM             the sender; its domain ends the Message-IDs (Plateforme du ROME <notifications@plateforme-rome.localhost>)
//	SMTP_TIMEOUT          per message (30s)
//	SMTP_MAX_ATTEMPTS     attempts before the dead-letter list (8)
//	SMTP_RETRY_BASE       delay after the first failure, doubled after each next one (30s)
//	SMTP_RETRY_MAX        cap of that delay (1h)
//	OUTBOX_LEASE          how long the dispatcher holds an e-mail it claimed (2m)
//	OUTBOX_POLL_INTERVAL  how often the dispatcher looks for due e-mails (2s)
//
// Microsoft Teams activity-feed notifications, sent by the worker through
// POST /internal/v1/teams-deliveries/claim and …/{id}/result:
//
//	TEAMS_DELIVERY_LEASE  how long a worker holds the deliveries it claimed before they are handed out again:
//	                      long enough to send a claim's worth (2m; at least 1s)
//	TEAMS_MAX_ATTEMPTS    attempts before the dead-letter list (8)
//	TEAMS_RETRY_BASE      delay after the first failure, doubled after each next one (30s)
//	TEAMS_RETRY_MAX       cap of that delay (1h); Graph's Retry-After, when longer, wins
//
// Both channels:
//
//	PUBLIC_URL            base of the relative links of notifications (http://127.0.0.1:8081)
//	INBOX_URL             where a Teams digest, or a notification without a link, leads people: their inbox,
//	                      absolute or relative to PUBLIC_URL (/v1/notifications)
//	DIGEST_TIME           when the daily digests are queued, HH:MM local time (07:00)
//	DIGEST_INTERVAL       queue them at this interval instead, at its whole multiples, for tests and demos (unset)
//
// Follows (POST /v1/follows) are recorded only for what they may name, checked
// each time (5s timeout; unreachable: 503, nothing recorded):
//
//	INTAKE_URL            the intake, asked with the caller's token whether they may see the request (http://127.0.0.1:8081)
//	REFERENTIAL_URL       the referential, asked whether the fiche exists (http://127.0.0.1:8082)
func deliverySettings() (settings, error) {
	var (
		set  settings
		errs []error
	)
	duration := func(key string, def time.Duration) time.Duration {
		v, err := config.Duration(key, def)
		errs = append(errs, err)
		return v
	}
	// retry reads a channel's policy: <prefix>_MAX_ATTEMPTS, _RETRY_BASE, _RETRY_MAX.
	retry := func(prefix string) app.RetryPolicy {
		attempts, err := config.Int(prefix+"_MAX_ATTEMPTS", 8)
		errs = append(errs, err)
		if err == nil && attempts < 1 {
			errs = append(errs, fmt.Errorf("%s_MAX_ATTEMPTS must be at least 1", prefix))
		}
		return app.RetryPolicy{
			MaxAttempts: attempts, Base: duration(prefix+"_RETRY_BASE", 30*time.Second), Max: duration(prefix+"_RETRY_MAX", time.Hour),
		}
	}
	set.smtp = delivery.SMTP{
		Addr: config.String("SMTP_ADDR", "127.0.0.1:2525"), Username: config.String("SMTP_USERNAME", ""),
		Password: config.String("SMTP_PASSWORD", ""), Timeout: duration("SMTP_TIMEOUT", 30*time.Second),
		From: config.String("SMTP_FROM", "Plateforme du ROME <notifications@plateforme-rome.localhost>"),
	}
	set.app = app.Config{
		MessageIDDomain: delivery.Domain(set.smtp.From),
		PublicURL:       config.String("PUBLIC_URL", "http://127.0.0.1:8081"),
		InboxURL:        config.String("INBOX_URL", "/v1/notifications"),
		Email:           app.Channel{Retry: retry("SMTP"), Lease: duration("OUTBOX_LEASE", 2*time.Minute)},
		Teams:           app.Channel{Retry: retry("TEAMS"), Lease: duration("TEAMS_DELIVERY_LEASE", 2*time.Minute)},
	}
	set.dispatcher = delivery.Config{Poll: duration("OUTBOX_POLL_INTERVAL", 2*time.Second), Batch: 50}
	if set.app.Teams.Lease < time.Second {
		// A delivery would be claimable again at once: two workers would send it. The
		// claim tells the worker the lease in whole seconds.
		errs = append(errs, errors.New("TEAMS_DELIVERY_LEASE must be at least 1s"))
	}
	var err error
	set.schedule.Hour, set.schedule.Minute, err = delivery.ParseTime(config.String("DIGEST_TIME", "07:00"))
	errs = append(errs, err)
	set.schedule.Interval = duration("DIGEST_INTERVAL", 0)
	set.intakeURL = serviceURL("INTAKE_URL", "http://127.0.0.1:8081", &errs)
	set.referentialURL = serviceURL("REFERENTIAL_URL", "http://127.0.0.1:8082", &errs)
	return set, errors.Join(errs...)
}

// serviceURL reads the base URL of another service: http or https, with a host.
func serviceURL(key, def string, errs *[]error) string {
	v := config.String(key, def)
	if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		*errs = append(*errs, fmt.Errorf("%s must be an http(s) URL such as %s, not %q", key, def, v))
	}
	return v
}
