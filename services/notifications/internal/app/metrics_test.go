package app_test

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/platform/telemetry"
	"github.com/plateforme-rome/rome/platform/telemetry/telemetrytest"
	"github.com/plateforme-rome/rome/services/notifications/internal/app"
	"github.com/plateforme-rome/rome/services/notifications/internal/apptest"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// The outbox's depth and dead letters follow the deliveries, on both dialects; every
// attempt is counted.
func TestMetricsFollowTheOutbox(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		t.Parallel()
		metricsFollowTheOutbox(t, db)
	})
}

func metricsFollowTheOutbox(t *testing.T, db *gorm.DB) {
	meter, metrics := telemetrytest.NewMeter(t)
	e := apptest.NewMetered(t, db, meter)
	reg, err := e.App.ObserveOutbox()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = reg.Unregister() }()
	ctx := context.Background()
	channel := func(c string) attribute.KeyValue { return telemetry.AttrNotificationChannel.String(c) }
	notification := telemetry.AttrNotificationKind.String(store.KindNotification)

	e.Person("alice", "oid-alice", apptest.Everywhere)
	e.Notify(apptest.Question("n1", "Question", "alice"))
	for _, c := range store.Channels {
		if got := metrics.Int64(telemetry.NotificationOutboxDepth, channel(c)); got != 1 {
			t.Errorf("%s outbox depth %d, want 1", c, got)
		}
	}

	mailer := &fakeMailer{fail: []error{&app.PermanentError{Err: errors.New("550 no such user")}}}
	if _, err := e.App.DeliverEmails(ctx, mailer, "w", 10); err != nil {
		t.Fatal(err)
	}
	teams, err := e.App.ClaimTeams(ctx, "w", 10)
	if err != nil || len(teams) != 1 {
		t.Fatalf("claim: %+v %v", teams, err)
	}
	if _, err := e.App.ReportTeams(ctx, teams[0].ID, notifclient.TeamsResult{Owner: "w"}); err != nil {
		t.Fatal(err)
	}

	for _, c := range store.Channels {
		if got := metrics.Int64(telemetry.NotificationOutboxDepth, channel(c)); got != 0 {
			t.Errorf("%s outbox depth %d after the deliveries, want 0", c, got)
		}
	}
	if got := metrics.Int64(telemetry.NotificationDeadLetterCount, channel(store.ChannelEmail), notification); got != 1 {
		t.Errorf("%d e-mail dead letters, want 1", got)
	}
	for c, outcome := range map[string]string{store.ChannelEmail: telemetry.OutcomeFailed, store.ChannelTeams: telemetry.OutcomeSent} {
		got := metrics.Int64(telemetry.NotificationDeliveryAttempts, channel(c), notification, telemetry.AttrNotificationOutcome.String(outcome))
		if got != 1 {
			t.Errorf("%s: %d attempts %s, want 1", c, got, outcome)
		}
	}

	if _, err := e.App.RetryDeadLetter(ctx, e.Row("", store.ChannelEmail).ID); err != nil {
		t.Fatal(err)
	}
	if got := metrics.Int64(telemetry.NotificationOutboxDepth, channel(store.ChannelEmail)); got != 1 {
		t.Errorf("e-mail outbox depth %d after the dead letter's revival, want 1", got)
	}
}
