package database

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"gorm.io/gorm"
)

// Migration is one forward schema change of a component.
type Migration struct {
	Version int
	Name    string
	Up      func(tx *gorm.DB, d Dialect) error
}

// migrationLockKey is the PostgreSQL advisory lock serialising migrations of
// every component ("rome" in ASCII).
const migrationLockKey = 0x726f6d65

type schemaMigration struct {
	Component string
	Version   int
	Name      string
	AppliedAt time.Time
}

func (schemaMigration) TableName() string { return "schema_migrations" }

// ErrSchemaTooNew means the database was migrated by a newer build.
var ErrSchemaTooNew = errors.New("database schema is newer than this build")

// Migrate applies the migrations of component that the database lacks, in
// version order, each in its own transaction together with its row in
// schema_migrations. Concurrent starts are safe: on PostgreSQL each
// transaction holds an advisory lock and re-reads what is applied; on SQLite
// the transaction takes the write lock at BEGIN. It refuses to run when the
// database has a version this build does not know.
func Migrate(ctx context.Context, db *gorm.DB, component string, ms []Migration) error {
	if err := validate(ms); err != nil {
		return fmt.Errorf("migrations of %s: %w", component, err)
	}
	d := DialectOf(db)
	db = db.WithContext(ctx)
	if err := db.Transaction(func(tx *gorm.DB) error {
		if err := lock(tx, d); err != nil {
			return err
		}
		return createTable(tx, d)
	}); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}

	for _, m := range ms {
		start := time.Now()
		applied := false
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := lock(tx, d); err != nil {
				return err
			}
			done, err := appliedVersions(tx, component)
			if err != nil {
				return err
			}
			if err := checkKnown(done, ms); err != nil {
				return err
			}
			if slices.Contains(done, m.Version) {
				return nil
			}
			if err := m.Up(tx, d); err != nil {
				return err
			}
			applied = true
			return tx.Create(&schemaMigration{Component: component, Version: m.Version, Name: m.Name, AppliedAt: time.Now().UTC()}).Error
		})
		if err != nil {
			return fmt.Errorf("migration %s %d (%s): %w", component, m.Version, m.Name, err)
		}
		if applied {
			slog.InfoContext(ctx, "applied migration", "component", component, "version", m.Version, "name", m.Name,
				"duration_ms", time.Since(start).Milliseconds())
		}
	}
	if len(ms) == 0 {
		// Nothing to apply, but a newer build's versions must still stop us.
		done, err := appliedVersions(db, component)
		if err != nil {
			return err
		}
		return checkKnown(done, ms)
	}
	return nil
}

func validate(ms []Migration) error {
	for i, m := range ms {
		if m.Version <= 0 || m.Name == "" || m.Up == nil {
			return fmt.Errorf("migration #%d needs a positive version, a name and an Up function", i)
		}
		if i > 0 && m.Version <= ms[i-1].Version {
			return fmt.Errorf("versions must increase: %d follows %d", m.Version, ms[i-1].Version)
		}
	}
	return nil
}

func checkKnown(done []int, ms []Migration) error {
	for _, v := range done {
		if !slices.ContainsFunc(ms, func(m Migration) bool { return m.Version == v }) {
			latest := 0
			if len(ms) > 0 {
				latest = ms[len(ms)-1].Version
			}
			return fmt.Errorf("%w: version %d is applied, this build knows up to %d", ErrSchemaTooNew, v, latest)
		}
	}
	return nil
}

func lock(tx *gorm.DB, d Dialect) error {
	if d != Postgres {
		return nil
	}
	return tx.Exec("SELECT pg_advisory_xact_lock(?)", migrationLockKey).Error
}

func createTable(tx *gorm.DB, d Dialect) error {
	ts := "TIMESTAMPTZ"
	if d == SQLite {
		ts = "DATETIME"
	}
	return tx.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
	component  TEXT    NOT NULL,
	version    INTEGER NOT NULL,
	name       TEXT    NOT NULL,
	applied_at ` + ts + ` NOT NULL,
	PRIMARY KEY (component, version))`).Error
}

func appliedVersions(tx *gorm.DB, component string) ([]int, error) {
	var vs []int
	err := tx.Model(&schemaMigration{}).Where("component = ?", component).Order("version").Pluck("version", &vs).Error
	return vs, err
}
