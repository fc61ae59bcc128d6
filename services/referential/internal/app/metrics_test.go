package app_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/platform/telemetry"
	"github.com/plateforme-rome/rome/platform/telemetry/telemetrytest"
	"github.com/plateforme-rome/rome/services/referential/internal/app"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
	"github.com/plateforme-rome/rome/services/referential/internal/webhook/webhooktest"
)

// An empty referential serves version 0, stages nothing, and counts a change set it cannot
// take by its outcome.
func TestServiceMetrics(t *testing.T) {
	t.Parallel()
	st := store.New(dbtest.Open(t, database.SQLite))
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	meter, metrics := telemetrytest.NewMeter(t)
	svc := app.New(st, slog.New(slog.DiscardHandler), app.Config{Publication: refclient.PublicationReleaseTrains, Meter: meter})
	if got := metrics.Int64(telemetry.ReferentialVersion); got != 0 {
		t.Errorf("version %d, want 0", got)
	}
	if got := metrics.Int64(telemetry.ReferentialStagedChangeSets); got != 0 {
		t.Errorf("%d staged change sets, want 0", got)
	}
	var invalid *app.InvalidError
	if _, _, err := svc.Publish(t.Context(), app.ChangeSetRequest{}); !errors.As(err, &invalid) {
		t.Fatalf("a change set without id: %v", err)
	}
	if got := metrics.Int64(telemetry.ReferentialChangeSets, telemetry.AttrOutcome.String("invalid")); got != 1 {
		t.Errorf("%d invalid change sets, want 1", got)
	}
}

func TestWebhookAttemptsAreCountedByOutcome(t *testing.T) {
	t.Parallel()
	e := newHooksEnv(t, dbtest.Open(t, database.SQLite))
	meter, metrics := telemetrytest.NewMeter(t)
	e.w = app.NewWebhooks(e.st, app.WebhookConfig{Now: e.clock.Now, AllowPrivate: true, Timeout: 5 * time.Second,
		Log: slog.New(slog.DiscardHandler), Meter: meter})
	e.register(webhooktest.New(t), both)
	e.publish("M1805")
	if _, err := e.w.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := metrics.Int64(telemetry.ReferentialWebhookAttempts, telemetry.AttrOutcome.String(store.OutcomeDelivered)); got != 2 {
		t.Errorf("%d deliveries, want 2 (the version and its fiche)", got)
	}
}
