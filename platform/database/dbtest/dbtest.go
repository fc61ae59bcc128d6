// Package dbtest gives tests a fresh database of each supported dialect.
//
// PostgreSQL tests create their own database from TEST_DATABASE_URL
// (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) and
// drop it afterwards. An unreachable server fails the test: it is never
// skipped.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/config"
	"github.com/plateforme-rome/rome/platform/database"
)

// DefaultURL is the administrative connection used when TEST_DATABASE_URL
// is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Dialects lists the dialects every repository test must pass on.
func Dialects() []database.Dialect {
	return []database.Dialect{database.SQLite, database.Postgres}
}

// Run runs fn as one subtest per dialect, each with a fresh database.
func Run(t *testing.T, fn func(t *testing.T, db *gorm.DB, d database.Dialect)) {
	for _, d := range Dialects() {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d), d)
		})
	}
}

// Open returns a fresh, empty database of dialect d, removed when the test
// ends.
func Open(t testing.TB, d database.Dialect) *gorm.DB {
	t.Helper()
	return Connect(t, URL(t, d))
}

// Connect opens a pool of connections to the database at u (from URL), closed
// when the test ends. Tests of several replicas give each its own, as separate
// processes have.
func Connect(t testing.TB, u string) *gorm.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, _, err := database.OpenURL(ctx, u)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	// Registered after URL's cleanup, so it runs first: close before dropping.
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	return db
}

// URL creates a fresh database of dialect d and returns its URL, for tests
// that open several connections to the same database. It is removed when
// the test ends (after every connection the test opened is closed).
func URL(t testing.TB, d database.Dialect) string {
	t.Helper()
	switch d {
	case database.SQLite:
		return "sqlite:" + filepath.Join(t.TempDir(), "test.db")
	case database.Postgres:
		return createPostgres(t)
	}
	t.Fatalf("dbtest: unknown dialect %q", d)
	return ""
}

func createPostgres(t testing.TB) string {
	t.Helper()
	adminURL := config.String("TEST_DATABASE_URL", DefaultURL)
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("TEST_DATABASE_URL must be a postgres:// URL, got %q", adminURL)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "rome_t_" + hex.EncodeToString(b[:])
	if err := adminExec(adminURL, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("PostgreSQL is required for this test (TEST_DATABASE_URL=%s): %v", u.Redacted(), err)
	}
	t.Cleanup(func() {
		if err := adminExec(adminURL, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// adminExec runs one statement on a short-lived administrative connection,
// so tests do not hold connections they no longer need.
func adminExec(adminURL, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, _, err := database.OpenURL(ctx, adminURL)
	if err != nil {
		return err
	}
	if sqlDB, err := admin.DB(); err == nil {
		defer sqlDB.Close()
	}
	return admin.WithContext(ctx).Exec(stmt).Error
}
