package api

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/notifications/internal/delivery"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

func testStore(t *testing.T) *store.Store {
	t.Helper()
	s := store.New(dbtest.Open(t, database.SQLite), "test.local")
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// testTeams is the Teams channel of st, links resolved against http://rome.test.
func testTeams(t *testing.T, st *store.Store) *delivery.Teams {
	t.Helper()
	m, err := delivery.NewMetrics(st)
	if err != nil {
		t.Fatal(err)
	}
	cfg := delivery.TeamsConfig{
		Retry: delivery.RetryPolicy{MaxAttempts: 3, Base: time.Second, Max: time.Minute}, Lease: time.Minute,
		PublicURL: "http://rome.test", InboxURL: "/v1/notifications",
	}
	return delivery.NewTeams(st, cfg, m, slog.New(slog.DiscardHandler))
}
