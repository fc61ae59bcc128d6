package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

// A client registered before clients had scopes keeps every scope; a registration's
// Idempotency-Key is recorded with the client, and a second client under the same key is
// refused without being created.
func TestAPIClientScopesAndIdempotencyKeys(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		ctx := context.Background()
		before := store.Migrations[:5] // up to the release trains, before the scopes
		if err := database.Migrate(ctx, db, "referential", before); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		if err := db.Exec(`INSERT INTO ref_api_clients (client_id, name, secret_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?)`,
			"PAR_000000000000000000000001", "Old sync", "hash", "u-admin", at).Error; err != nil {
			t.Fatal(err)
		}
		s := store.New(db)
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		old, ok, err := s.APIClient(ctx, "PAR_000000000000000000000001")
		if err != nil || !ok || old.Scopes != "api_rome-metiersv1 api_rome-fiches-metiersv1 api_rome-competencesv1 api_rome-contextes-travailv1 nomenclatureRome" {
			t.Fatalf("a client registered before the scopes: %+v %v %v", old, ok, err)
		}

		key := store.IdempotencyRecord{Scope: "sub:u-admin", Key: "k-1", BodyHash: "h1", ResourceID: "PAR_000000000000000000000002", CreatedAt: at}
		first := store.APIClient{ClientID: key.ResourceID, Name: "Nightly", Scopes: "api_rome-metiersv1 nomenclatureRome", SecretHash: "h", CreatedBy: "u-admin", CreatedAt: at}
		if err := s.CreateAPIClient(ctx, first, &key); err != nil {
			t.Fatal(err)
		}
		second := first
		second.ClientID = "PAR_000000000000000000000003"
		retry := key
		retry.ResourceID = second.ClientID
		if err := s.CreateAPIClient(ctx, second, &retry); !errors.Is(err, store.ErrKeyTaken) {
			t.Fatalf("a second client under the same key: %v", err)
		}
		if _, created, _ := s.APIClient(ctx, second.ClientID); created {
			t.Error("the refused client was created")
		}
		rec, found, err := s.IdempotencyRecord(ctx, "sub:u-admin", "k-1")
		if err != nil || !found || rec.ResourceID != first.ClientID || rec.BodyHash != "h1" {
			t.Errorf("record %+v %v %v", rec, found, err)
		}
		if _, found, err := s.IdempotencyRecord(ctx, "sub:u-admin-2", "k-1"); found || err != nil {
			t.Errorf("another caller's key: %v %v", found, err)
		}
		if err := s.CreateAPIClient(ctx, second, nil); err != nil {
			t.Fatalf("without a key: %v", err)
		}
	})
}
