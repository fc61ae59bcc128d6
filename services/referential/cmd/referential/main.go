// Command referential serves the ROME 4.0 referential and imports official releases.
//
//	referential [serve]                         serve the API on REFERENTIAL_PORT (default 8082)
//	referential migrate                         bring the database schema up to date
//	referential import [--if-empty] [--replace] <folder-or-zip>
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/config"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/platform/logging"
	"github.com/plateforme-rome/rome/platform/service"
	"github.com/plateforme-rome/rome/services/referential/internal/api"
	"github.com/plateforme-rome/rome/services/referential/internal/app"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

func main() {
	log := logging.Setup("referential")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	args := os.Args[1:]
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx)
	case "migrate":
		err = withStore(ctx, func(s *store.Store) error { return nil })
	case "import":
		err = runImport(ctx, log, args)
	default:
		err = fmt.Errorf("unknown command %q (serve, migrate, import)", cmd)
	}
	if err != nil {
		log.Error("referential failed", "command", cmd, "error", err)
		os.Exit(1)
	}
}

// sqlitePragmas give the referential's SQLite file SQLite's largest pages: its rows are
// written in bulk and read whole, and an import of v460 then costs a tenth less CPU
// (BENCHMARKS.md).
var sqlitePragmas = []string{"page_size(65536)"}

// withStore opens the database, migrates it and runs fn.
func withStore(ctx context.Context, fn func(*store.Store) error) error {
	db, _, err := database.Open(ctx, "referential", sqlitePragmas...)
	if err != nil {
		return err
	}
	s := store.New(db)
	if err := s.Migrate(ctx); err != nil {
		return err
	}
	return fn(s)
}

func runImport(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	ifEmpty := fs.Bool("if-empty", false, "import only when the referential has no version yet")
	replace := fs.Bool("replace", false, "import a release other than the current one, as a new version")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: referential import [--if-empty] [--replace] <folder-or-zip>")
	}
	return withStore(ctx, func(s *store.Store) error {
		if *ifEmpty {
			if v, err := s.Latest(ctx); err == nil {
				log.Info("referential already holds a release, nothing to import", "version", v.Number, "label", v.Label)
				return nil
			} else if !errors.Is(err, store.ErrNoVersion) {
				return err
			}
		}
		start := time.Now()
		outcome, n, err := s.ImportFiles(ctx, fs.Arg(0), log, *replace)
		if err != nil {
			return err
		}
		log.Info("import finished", "outcome", outcome, "version", n, "ms", time.Since(start).Milliseconds())
		return nil
	})
}

// defaultMemoryLimit is the soft heap limit when GOMEMLIMIT is not set: the referential
// keeps about 145 MB live (encoded fiches 90, packed rows 31, search indexes 17; BENCHMARKS.md)
// and Go's default GC target would let the heap grow to twice that under load.
const defaultMemoryLimit = 256 << 20

func serve(ctx context.Context) error {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	authCfg, err := auth.ConfigFromEnv()
	if err != nil {
		return err
	}
	if authCfg.Directory, err = auth.RemoteDirectoryFromEnv(ctx, "referential"); err != nil {
		return err
	}
	verifier, err := auth.NewVerifier(authCfg)
	if err != nil {
		return err
	}
	// Consumers bulk-read the referential: a generous per-client rate.
	limit, err := httpx.RateLimitFromEnv(200, 400)
	if err != nil {
		return err
	}
	hooks, err := webhookConfig()
	if err != nil {
		return err
	}
	publication, err := publicationMode()
	if err != nil {
		return err
	}
	return service.Run(ctx, service.Spec{
		Name: "referential", PortEnv: "REFERENTIAL_PORT", DefaultPort: 8082, Migrations: store.Migrations, SQLitePragmas: sqlitePragmas,
		Router: func(ctx context.Context, rt *service.Runtime) (http.Handler, error) {
			st := store.New(rt.DB)
			refresh, err := refreshInterval(st)
			if err != nil {
				return nil, err
			}
			svc := app.New(st, rt.Logger, app.Config{Publication: publication})
			if err := svc.Load(ctx); errors.Is(err, app.ErrEmpty) {
				rt.Logger.Warn("the referential is empty: reads answer 503 until a release is imported (referential import <folder>)")
			} else if err != nil {
				return nil, err
			}
			go svc.ReportStoredTexts(ctx) // values published before the text rule are reported, never rewritten
			go svc.Follow(ctx, refresh, api.WarmShapes)
			hooks.Log = rt.Logger
			webhooks := app.NewWebhooks(st, hooks.WebhookConfig)
			go webhooks.Run(ctx, hooks.poll)
			return api.Router(api.Deps{
				Service:        svc,
				Authenticate:   auth.Authenticate(verifier),
				RequireService: auth.RequireRole(auth.RoleService),
				RequireAdmin:   auth.RequireRole(auth.RoleAdmin),
				Clients:        app.NewClients(st, time.Now),
				Webhooks:       webhooks,
				Checks:         append(rt.Checks(), svc.ReadyCheck()),
				RateLimit:      limit,
				SignedIn:       api.SignedInWith(verifier),
			}), nil
		},
	})
}

// refreshInterval reads REFERENTIAL_REFRESH_INTERVAL: how often a replica looks for the
// versions other processes stored. On SQLite that is how it learns of them (default 15 s);
// PostgreSQL announces them as they commit, and the poll is a safety net (default 2 min).
func refreshInterval(st *store.Store) (time.Duration, error) {
	def := 15 * time.Second
	if st.AnnouncesVersions() {
		def = 2 * time.Minute
	}
	every, err := config.Duration("REFERENTIAL_REFRESH_INTERVAL", def)
	if err == nil && every <= 0 {
		err = errors.New("REFERENTIAL_REFRESH_INTERVAL must be positive")
	}
	return every, err
}

// publicationMode reads PUBLICATION_MODE: immediate (the default: every accepted change set
// is a version at once) or release_trains (accepted change sets wait in the next release).
func publicationMode() (string, error) {
	mode := config.String("PUBLICATION_MODE", refclient.PublicationImmediate)
	if mode != refclient.PublicationImmediate && mode != refclient.PublicationReleaseTrains {
		return "", fmt.Errorf("PUBLICATION_MODE=%q: not a publication mode (%s or %s)", mode,
			refclient.PublicationImmediate, refclient.PublicationReleaseTrains)
	}
	return mode, nil
}

type webhookSettings struct {
	app.WebhookConfig
	poll time.Duration
}

// webhookConfig reads the webhooks' settings: WEBHOOK_ALLOW_PRIVATE (endpoints on loopback
// or private addresses; default: only in dev mode), WEBHOOK_TIMEOUT (how long a consumer
// has to answer, 15 s) and WEBHOOK_POLL_INTERVAL (how often each replica looks for due
// deliveries, 1 s).
func webhookConfig() (webhookSettings, error) {
	dev, err := config.DevMode()
	if err != nil {
		return webhookSettings{}, err
	}
	var s webhookSettings
	if s.AllowPrivate, err = config.Bool("WEBHOOK_ALLOW_PRIVATE", dev); err != nil {
		return s, err
	}
	if s.Timeout, err = config.Duration("WEBHOOK_TIMEOUT", 15*time.Second); err != nil {
		return s, err
	}
	if s.poll, err = config.Duration("WEBHOOK_POLL_INTERVAL", time.Second); err == nil && s.poll <= 0 {
		err = errors.New("WEBHOOK_POLL_INTERVAL must be positive")
	}
	return s, err
}
