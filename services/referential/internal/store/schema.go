// Package store persists the referential with GORM: every row of every official file,
// versioned by the range of referential versions in which it is valid, so that any
// version can be read back, exported or diffed.
package store

import (
	"context"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/database"
)

// Migrations are the referential's versioned schema changes.
var Migrations = []database.Migration{
	{Version: 1, Name: "referential rows, versions, change sets and changelog", Up: migrationV1},
	{Version: 2, Name: "France Travail API clients and token key", Up: migrationAPIClients},
	{Version: 3, Name: "webhooks: endpoints, event outbox, deliveries and attempts", Up: migrationWebhooks},
	{Version: 4, Name: "correspondences of removed appellations", Up: migrationCorrespondences},
	{Version: 5, Name: "release trains: releases and their staged change sets", Up: migrationReleases},
	{Version: 6, Name: "the scopes each API client may ask for", Up: migrationClientScopes},
	{Version: 7, Name: "Idempotency-Keys of the admins' creating calls", Up: migrationIdempotencyKeys},
	{Version: 8, Name: "ref_rows: an index of the closed rows only; keys compared bytewise", Up: migrationClosedRowsIndex},
	{Version: 9, Name: "PostgreSQL announces every new version to the replicas", Up: migrationAnnounceVersions},
}

// Migrate brings the schema up to date.
func (s *Store) Migrate(ctx context.Context) error {
	return database.Migrate(ctx, s.db, "referential", Migrations)
}

// The index of the rows' first versions, which the first import builds after loading.
const refRowsFromIndex = `CREATE INDEX ref_rows_from ON ref_rows (valid_from)`

// migrationV1 creates the referential tables. Rows are stored in the layout of the
// official files (one table for all 28 datasets, keyed by dataset and natural key): the
// export is lossless and versioning is the same mechanism for every file.
func migrationV1(tx *gorm.DB, d database.Dialect) error {
	ts := d.Timestamp()
	stmts := []string{
		`CREATE TABLE ref_versions (
			number INTEGER PRIMARY KEY,
			label TEXT NOT NULL,
			source TEXT NOT NULL,
			published_at ` + ts + ` NOT NULL,
			last_modified ` + ts + ` NOT NULL,
			version_file TEXT NOT NULL DEFAULT '',
			changeset_id TEXT,
			request_id TEXT
		)`,
		`CREATE TABLE ref_rows (
			dataset TEXT NOT NULL,
			row_key TEXT NOT NULL,
			valid_from INTEGER NOT NULL,
			valid_to INTEGER,
			ord BIGINT NOT NULL,
			cols TEXT NOT NULL,
			PRIMARY KEY (dataset, row_key, valid_from)
		)`,
		`CREATE INDEX ref_rows_current ON ref_rows (valid_to, dataset)`,
		`CREATE INDEX ref_rows_from ON ref_rows (valid_from)`,
		`CREATE TABLE ref_changesets (
			id TEXT PRIMARY KEY,
			request_id TEXT NOT NULL DEFAULT '',
			code_rome TEXT NOT NULL DEFAULT '',
			base_version INTEGER NOT NULL,
			version INTEGER NOT NULL REFERENCES ref_versions(number),
			payload_hash TEXT NOT NULL,
			response TEXT NOT NULL,
			created_at ` + ts + ` NOT NULL
		)`,
		`CREATE TABLE ref_changes (
			version INTEGER NOT NULL REFERENCES ref_versions(number),
			seq INTEGER NOT NULL,
			code_rome TEXT NOT NULL,
			changeset_id TEXT NOT NULL,
			request_id TEXT NOT NULL DEFAULT '',
			entry TEXT NOT NULL,
			PRIMARY KEY (version, seq)
		)`,
		`CREATE INDEX ref_changes_fiche ON ref_changes (code_rome, version)`,
		`CREATE TABLE ref_counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)`,
	}
	return database.ExecAll(tx, stmts...)
}

// migrationClosedRowsIndex replaces the index on (valid_to, dataset), which held every row,
// by one of the closed rows only: the queries by valid_to (a version's changes, provenance)
// ask for closed rows, and an import, which closes none, no longer builds it (BENCHMARKS.md).
// On PostgreSQL the keys compare bytewise (COLLATE "C", as SQLite does): the primary key an
// import builds sorts a third faster than under the database's locale.
func migrationClosedRowsIndex(tx *gorm.DB, d database.Dialect) error {
	stmts := []string{
		`DROP INDEX ref_rows_current`,
		`CREATE INDEX ref_rows_closed ON ref_rows (valid_to) WHERE valid_to IS NOT NULL`,
	}
	if d == database.Postgres {
		stmts = append(stmts, `ALTER TABLE ref_rows ALTER COLUMN dataset TYPE TEXT COLLATE "C", ALTER COLUMN row_key TYPE TEXT COLLATE "C"`)
	}
	return database.ExecAll(tx, stmts...)
}
