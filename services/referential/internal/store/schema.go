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
}

// Migrate brings the schema up to date.
func (s *Store) Migrate(ctx context.Context) error {
	return database.Migrate(ctx, s.db, "referential", Migrations)
}

// Secondary indexes of ref_rows (the first import rebuilds them after loading).
const (
	refRowsCurrentIndex = `CREATE INDEX ref_rows_current ON ref_rows (valid_to, dataset)`
	refRowsFromIndex    = `CREATE INDEX ref_rows_from ON ref_rows (valid_from)`
)

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
		refRowsCurrentIndex,
		refRowsFromIndex,
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
