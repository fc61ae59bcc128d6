// Command worker runs the platform's Temporal workflows and activities on the request task
// queue (the requests' and the release trains'), keeps the release-train schedule in line
// with RELEASE_SCHEDULE, and serves /healthz and /readyz on WORKER_PORT (default 8084) for
// orchestrators (and Go's profiles on WORKER_PPROF_ADDR when set, as every service does).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"golang.org/x/oauth2"

	"github.com/plateforme-rome/rome/activities/intake"
	"github.com/plateforme-rome/rome/activities/notifications"
	"github.com/plateforme-rome/rome/activities/referential"
	"github.com/plateforme-rome/rome/activities/teams"
	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/config"
	"github.com/plateforme-rome/rome/platform/httpx"
	"github.com/plateforme-rome/rome/platform/logging"
	"github.com/plateforme-rome/rome/platform/telemetry"
	"github.com/plateforme-rome/rome/platform/temporalx"
	intakeclient "github.com/plateforme-rome/rome/services/intake/client"
	"github.com/plateforme-rome/rome/services/worker/internal/groupsyncstart"
	"github.com/plateforme-rome/rome/services/worker/internal/releaseschedule"
	"github.com/plateforme-rome/rome/services/worker/internal/teamsfeed"
	"github.com/plateforme-rome/rome/workflows/access/flow"
	"github.com/plateforme-rome/rome/workflows/groupsync/syncflow"
	"github.com/plateforme-rome/rome/workflows/release/train"
	"github.com/plateforme-rome/rome/workflows/request"
	"github.com/plateforme-rome/rome/workflows/request/lifecycle"
)

func main() {
	log := logging.Setup("worker")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, log)
	stop()
	if err != nil {
		log.Error("worker stopped on error", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger) error {
	port, err := config.Port("WORKER_PORT", 8084)
	if err != nil {
		return err
	}
	taskQueue := config.String("TEMPORAL_TASK_QUEUE", request.TaskQueue)
	// Requests wait days between events: caching thousands of idle workflows costs memory
	// for nothing, while replaying a short history on the next event costs a millisecond.
	cacheSize, err := config.Int("TEMPORAL_WORKFLOW_CACHE_SIZE", 1000)
	if err != nil {
		return err
	}
	worker.SetStickyWorkflowCacheSize(cacheSize)
	// A workflow stays in memory while its task or its local activities run, beyond the
	// cache: the SDK's defaults (1,000 of each) let a backlog of thousands of requests pin
	// that many at once, for no gain on a few cores.
	concurrency, err := config.Int("TEMPORAL_WORKER_CONCURRENCY", 100)
	if err != nil {
		return err
	}
	if concurrency < 2 {
		return fmt.Errorf("TEMPORAL_WORKER_CONCURRENCY must be at least 2, got %d", concurrency)
	}
	shutdown, err := telemetry.Setup(ctx, "worker")
	if err != nil {
		return err
	}
	defer shutdown(context.WithoutCancel(ctx))

	tokens, err := auth.NewTokenSource(ctx, "worker")
	if err != nil {
		return err
	}
	referentialURL := config.String("REFERENTIAL_URL", "http://127.0.0.1:8082")
	intakeURL := config.String("INTAKE_URL", "http://127.0.0.1:8081")
	notificationsURL := config.String("NOTIFICATIONS_URL", "http://127.0.0.1:8083")
	httpClient := oauth2.NewClient(ctx, tokens)
	httpClient.Timeout = 30 * time.Second
	httpClient.Transport = httpx.OutboundTransport(httpClient.Transport)

	dev, err := config.DevMode()
	if err != nil {
		return err
	}
	temporalCfg, err := temporalx.ConfigFromEnv(dev)
	if err != nil {
		return err
	}
	tc, err := temporalCfg.Dial(ctx, log)
	if err != nil {
		return err
	}
	defer tc.Close()

	// Health first, so orchestrators see the worker while it waits for Temporal.
	r := httpx.NewEngine("worker")
	httpx.Health(r, httpx.TemporalCheck(tc))
	if _, err := telemetry.ServeProfiles(ctx, "worker"); err != nil {
		return fmt.Errorf("profiles: %w", err)
	}
	host := ""
	if dev {
		host = "127.0.0.1"
	}
	addr := net.JoinHostPort(config.String("LISTEN_HOST", host), strconv.Itoa(port))
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpx.Serve(ctx, addr, r) }()

	w := worker.New(tc, taskQueue, worker.Options{
		MaxConcurrentWorkflowTaskExecutionSize:  concurrency,
		MaxConcurrentLocalActivityExecutionSize: concurrency,
		MaxConcurrentActivityExecutionSize:      concurrency,
	})
	intakeAPI := intakeclient.New(intakeURL, httpClient)
	lifecycle.Register(w,
		&referential.Activities{Client: refclient.New(referentialURL, httpClient)},
		&intake.Activities{Intake: intakeAPI})
	train.Register(w) // its activities are the referential's, registered above
	// The access requests; their Entra invitations are the Teams activities, registered below.
	flow.Register(w, &intake.AccessActivities{Intake: intakeAPI})
	teamsActs, err := teamsActivities()
	if err != nil {
		return err
	}
	notifs := notifclient.New(notificationsURL, httpClient)
	lifecycle.RegisterMessaging(w, &notifications.Activities{Client: notifs}, teamsActs)
	// The Entra groups of the moderators and admins feed the directory; Graph reads them.
	groupSync, err := groupsyncstart.ConfigFromEnv()
	if err != nil {
		return err
	}
	if teamsActs != nil {
		syncflow.Register(w, &intake.DirectoryActivities{Intake: intakeAPI})
	} else if len(groupSync.Groups) > 0 {
		return fmt.Errorf("ENTRA_*_GROUP_ID: the groups are read through Graph, which is not configured (GRAPH_TENANT_ID)")
	}
	if teamsActs != nil {
		feed, err := teamsFeed(notifs, teamsActs, log)
		if err != nil {
			return err
		}
		go feed.Run(ctx)
	}
	if err := startWhenReachable(ctx, log, tc, w); err != nil {
		return err
	}
	if err := groupsyncstart.Ensure(ctx, tc, groupSync, taskQueue, log); err != nil {
		w.Stop()
		return err
	}
	// RELEASE_SCHEDULE (a cron expression, empty by default) is when releases are cut.
	if err := releaseschedule.Ensure(ctx, tc.ScheduleClient(), config.String("RELEASE_SCHEDULE", ""), taskQueue, log); err != nil {
		w.Stop()
		return err
	}
	log.Info("worker polling", "taskQueue", taskQueue, "health", addr, "referential", referentialURL, "intake", intakeURL)
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		w.Stop()
		return fmt.Errorf("health server: %w", err)
	}
	w.Stop() // waits for running activities (up to the worker's stop timeout)
	return <-serveErr
}

// teamsActivities are the Teams activities, or nil when Graph is not configured
// (GRAPH_TENANT_ID unset): requests then run without a channel.
func teamsActivities() (*teams.Activities, error) {
	if config.String("GRAPH_TENANT_ID", "") == "" {
		return nil, nil
	}
	cfg, err := teams.ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	return teams.New(cfg)
}

// teamsFeed is the loop delivering the notifications service's Teams outbox to people's
// activity feeds: TEAMS_FEED_BATCH deliveries per claim (default 20), a claim every
// TEAMS_FEED_POLL (default 2s) while the outbox is empty.
func teamsFeed(notifs *notifclient.Client, acts *teams.Activities, log *slog.Logger) (*teamsfeed.Loop, error) {
	batch, err := config.Int("TEAMS_FEED_BATCH", 20)
	if err != nil {
		return nil, err
	}
	if batch < 1 || batch > 100 {
		return nil, fmt.Errorf("TEAMS_FEED_BATCH must be between 1 and 100, got %d", batch)
	}
	poll, err := config.Duration("TEAMS_FEED_POLL", 2*time.Second)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	owner := fmt.Sprintf("worker-%s-%d", host, os.Getpid())
	return teamsfeed.New(notifs, teams.NewActivityFeed(acts), teamsfeed.Config{Owner: owner, Batch: batch, Poll: poll}, log), nil
}

// startWhenReachable starts the worker once Temporal answers, retrying meanwhile, so the
// worker can be started before the Temporal server.
func startWhenReachable(ctx context.Context, log *slog.Logger, tc client.Client, w worker.Worker) error {
	for delay := time.Second; ; delay = min(2*delay, 15*time.Second) {
		_, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{})
		if err == nil {
			return w.Start()
		}
		log.Warn("Temporal not reachable, retrying", "error", err, "in", delay)
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(delay):
		}
	}
}
