package database_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
)

func TestOpenDefaultsToSQLiteInStateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "state")
	t.Setenv("DATABASE_URL", "")
	t.Setenv("ROME_STATE_DIR", dir)
	db, d, err := database.Open(t.Context(), "intake")
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB(db)
	if d != database.SQLite || database.DialectOf(db) != database.SQLite {
		t.Fatalf("dialect = %s", d)
	}
	if _, err := os.Stat(filepath.Join(dir, "intake.db")); err != nil {
		t.Fatalf("database file not created: %v", err)
	}
	var journal string
	var fk, busy int
	db.Raw("PRAGMA journal_mode").Scan(&journal)
	db.Raw("PRAGMA foreign_keys").Scan(&fk)
	db.Raw("PRAGMA busy_timeout").Scan(&busy)
	if journal != "wal" || fk != 1 || busy < 1000 {
		t.Fatalf("pragmas not applied: journal=%s foreign_keys=%d busy_timeout=%d", journal, fk, busy)
	}
}

// A page size given to Open applies to the file it creates, which is still in WAL mode.
func TestOpenSetsSQLitePragmasFirst(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	t.Setenv("ROME_STATE_DIR", t.TempDir())
	db, _, err := database.Open(t.Context(), "referential", "page_size(65536)")
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB(db)
	if err := db.Exec("CREATE TABLE t (x INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	var pageSize int
	var journal string
	db.Raw("PRAGMA page_size").Scan(&pageSize)
	db.Raw("PRAGMA journal_mode").Scan(&journal)
	if pageSize != 65536 || journal != "wal" {
		t.Fatalf("page_size=%d journal_mode=%s, want 65536 and wal", pageSize, journal)
	}
}

func TestOpenURLSelectsDialect(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			db := dbtest.Open(t, d)
			if got := database.DialectOf(db); got != d {
				t.Fatalf("DialectOf = %s, want %s", got, d)
			}
		})
	}
	if _, _, err := database.OpenURL(t.Context(), "mysql://x"); err == nil {
		t.Fatal("unsupported URL accepted")
	}
	_, _, err := database.OpenURL(t.Context(), "postgres://postgres:s3cret@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("unreachable server reported as open")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("password leaked in error: %v", err)
	}
}

type counter struct{ n map[int]*atomic.Int32 }

func newCounter() *counter { return &counter{n: map[int]*atomic.Int32{}} }

func (c *counter) get(v int) int32 {
	if c.n[v] == nil {
		return 0
	}
	return c.n[v].Load()
}

// migrations returns migrations creating tables t1..tn, counting applications.
func (c *counter) migrations(names ...string) []database.Migration {
	var ms []database.Migration
	for i, name := range names {
		v := i + 1
		if c.n[v] == nil {
			c.n[v] = &atomic.Int32{}
		}
		n := c.n[v]
		ms = append(ms, database.Migration{Version: v, Name: "create " + name, Up: func(tx *gorm.DB, d database.Dialect) error {
			n.Add(1)
			time.Sleep(20 * time.Millisecond) // widen the window for concurrent starts
			return tx.Exec("CREATE TABLE " + name + " (id INTEGER PRIMARY KEY)").Error
		}})
	}
	return ms
}

func applied(t *testing.T, db *gorm.DB, component string) []int {
	t.Helper()
	var vs []int
	if err := db.Table("schema_migrations").Where("component = ?", component).Order("version").Pluck("version", &vs).Error; err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestMigrate(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, d database.Dialect) {
		ctx := t.Context()
		c := newCounter()
		if err := database.Migrate(ctx, db, "intake", c.migrations("a")); err != nil {
			t.Fatal(err)
		}
		// A later build adds a migration: only the new one runs.
		if err := database.Migrate(ctx, db, "intake", c.migrations("a", "b")); err != nil {
			t.Fatal(err)
		}
		if c.get(1) != 1 || c.get(2) != 1 {
			t.Fatalf("applications: v1=%d v2=%d, want 1 each", c.get(1), c.get(2))
		}
		if got := applied(t, db, "intake"); len(got) != 2 || got[0] != 1 || got[1] != 2 {
			t.Fatalf("recorded versions = %v", got)
		}
		var name string
		db.Table("schema_migrations").Where("component = ? AND version = 2", "intake").Pluck("name", &name)
		if name != "create b" {
			t.Fatalf("recorded name = %q", name)
		}
		if !db.Migrator().HasTable("a") || !db.Migrator().HasTable("b") {
			t.Fatal("tables not created")
		}

		// Components are independent.
		if err := database.Migrate(ctx, db, "notifications", newCounter().migrations("n1")); err != nil {
			t.Fatal(err)
		}
		if got := applied(t, db, "intake"); len(got) != 2 {
			t.Fatalf("another component changed intake's versions: %v", got)
		}

		// An older build refuses a newer schema, with or without migrations.
		err := database.Migrate(ctx, db, "intake", c.migrations("a"))
		if !errors.Is(err, database.ErrSchemaTooNew) {
			t.Fatalf("older build: err = %v, want ErrSchemaTooNew", err)
		}
		if err := database.Migrate(ctx, db, "intake", nil); !errors.Is(err, database.ErrSchemaTooNew) {
			t.Fatalf("build without migrations: err = %v, want ErrSchemaTooNew", err)
		}
	})
}

func TestMigrateEmptyRecordsNothing(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, d database.Dialect) {
		if err := database.Migrate(t.Context(), db, "intake", nil); err != nil {
			t.Fatal(err)
		}
		var n int64
		db.Table("schema_migrations").Count(&n)
		if n != 0 {
			t.Fatalf("%d rows recorded for no migration", n)
		}
	})
}

func TestMigrateFailureRollsBack(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, d database.Dialect) {
		ms := append(newCounter().migrations("ok"), database.Migration{Version: 2, Name: "broken", Up: func(tx *gorm.DB, d database.Dialect) error {
			if err := tx.Exec("CREATE TABLE half (id INTEGER)").Error; err != nil {
				return err
			}
			return tx.Exec("INSERT INTO no_such_table VALUES (1)").Error
		}})
		err := database.Migrate(t.Context(), db, "intake", ms)
		if err == nil || !strings.Contains(err.Error(), "intake 2 (broken)") {
			t.Fatalf("want an error naming the failed migration, got %v", err)
		}
		if got := applied(t, db, "intake"); len(got) != 1 || got[0] != 1 {
			t.Fatalf("recorded versions = %v, want [1]", got)
		}
		if db.Migrator().HasTable("half") {
			t.Fatal("the failed migration's DDL was not rolled back")
		}
	})
}

func TestMigrateConcurrentStarts(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			url := dbtest.URL(t, d)
			c := newCounter()
			ms := c.migrations("x", "y", "z")
			const starts = 4
			dbs := make([]*gorm.DB, starts)
			for i := range dbs {
				db, _, err := database.OpenURL(t.Context(), url)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { closeDB(db) })
				dbs[i] = db
			}
			var wg sync.WaitGroup
			errs := make([]error, starts)
			for i, db := range dbs {
				wg.Go(func() { errs[i] = database.Migrate(context.Background(), db, "intake", ms) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("start %d: %v", i, err)
				}
			}
			for v := 1; v <= 3; v++ {
				if c.get(v) != 1 {
					t.Fatalf("migration %d applied %d times", v, c.get(v))
				}
			}
			if got := applied(t, dbs[0], "intake"); len(got) != 3 {
				t.Fatalf("recorded versions = %v", got)
			}
		})
	}
}

func TestMigrateRejectsBadLists(t *testing.T) {
	db := dbtest.Open(t, database.SQLite)
	noop := func(*gorm.DB, database.Dialect) error { return nil }
	for name, ms := range map[string][]database.Migration{
		"duplicate": {{Version: 1, Name: "a", Up: noop}, {Version: 1, Name: "b", Up: noop}},
		"unordered": {{Version: 2, Name: "a", Up: noop}, {Version: 1, Name: "b", Up: noop}},
		"no up":     {{Version: 1, Name: "a"}},
		"zero":      {{Version: 0, Name: "a", Up: noop}},
	} {
		if err := database.Migrate(t.Context(), db, "intake", ms); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}
