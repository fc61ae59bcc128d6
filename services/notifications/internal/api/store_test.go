package api

import (
	"context"
	"testing"

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
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
