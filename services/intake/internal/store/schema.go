// Package store keeps the intake's data with GORM: the append-only history of every
// request, the projection of requests that listings read (following the workflow, never
// ahead of it), the elements open requests touch (overlap detection) and the idempotency
// records of the API.
package store

import (
	"context"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/database"
)

// Component names the intake's migrations in schema_migrations.
const Component = "intake"

// Migrations are the intake's versioned schema changes.
var Migrations = []database.Migration{
	{Version: 1, Name: "request history, projection, elements and idempotency keys", Up: migrationV1},
	{Version: 2, Name: "the Teams channel of a request, for Graph change notifications", Up: migrationV2},
	{Version: 3, Name: "when each request entered its current status, for the overdue filter", Up: migrationV3},
	{Version: 4, Name: "elements by themselves, for the overlaps that cross fiches", Up: migrationV4},
	{Version: 5, Name: "the directory: organisations and the people who may sign in", Up: migrationV5},
	{Version: 6, Name: "ideas from people without an account", Up: migrationV6},
	{Version: 7, Name: "moderators' domains, absences and delegates", Up: migrationV7},
	{Version: 8, Name: "access requests, as their workflows record them", Up: migrationV8},
	{Version: 9, Name: "members of the identity provider's groups", Up: migrationV9},
	{Version: 10, Name: "requests assigned in turn", Up: migrationV10},
}

// Migrate brings the schema up to date.
func (s *Store) Migrate(ctx context.Context) error {
	return database.Migrate(ctx, s.db, Component, Migrations)
}

// migrationV1 creates the tables. JSON documents are TEXT on both dialects: they are
// served as they are stored, and PostgreSQL reads text faster than it converts jsonb.
// requests.pos is the listing order (submission order, whatever the shape of the id) and
// the cursor of its pages.
func migrationV1(tx *gorm.DB, d database.Dialect) error {
	ts, pos := d.Timestamp(), d.SerialKey("pos")
	return database.ExecAll(tx,
		`CREATE TABLE requests (
			`+pos+`,
			id TEXT NOT NULL UNIQUE,
			kind TEXT NOT NULL,
			code_rome TEXT NOT NULL,
			title TEXT NOT NULL,
			status TEXT NOT NULL,
			org TEXT NOT NULL,
			submitted_by TEXT NOT NULL,
			assignee TEXT NOT NULL,
			search_text TEXT NOT NULL,
			created_at `+ts+` NOT NULL,
			updated_at `+ts+` NOT NULL,
			last_seq INTEGER NOT NULL,
			state TEXT NOT NULL
		)`,
		`CREATE INDEX requests_org ON requests (org, pos)`,
		`CREATE INDEX requests_status ON requests (status, pos)`,
		`CREATE INDEX requests_code_rome ON requests (code_rome, pos)`,
		`CREATE INDEX requests_assignee ON requests (assignee, pos)`,
		`CREATE TABLE request_events (
			request_id TEXT NOT NULL,
			seq INTEGER NOT NULL,
			at `+ts+` NOT NULL,
			type TEXT NOT NULL,
			actor TEXT NOT NULL,
			data TEXT NOT NULL,
			PRIMARY KEY (request_id, seq)
		)`,
		`CREATE TABLE request_elements (
			request_id TEXT NOT NULL,
			code_rome TEXT NOT NULL,
			element TEXT NOT NULL,
			PRIMARY KEY (request_id, element)
		)`,
		`CREATE INDEX request_elements_fiche ON request_elements (code_rome, element)`,
		`CREATE TABLE idempotency_keys (
			scope TEXT NOT NULL,
			idem_key TEXT NOT NULL,
			body_hash TEXT NOT NULL,
			request_id TEXT NOT NULL,
			status INTEGER NOT NULL,
			response TEXT NOT NULL,
			created_at `+ts+` NOT NULL,
			PRIMARY KEY (scope, idem_key)
		)`,
	)
}

func migrationV2(tx *gorm.DB, _ database.Dialect) error {
	return database.ExecAll(tx,
		`ALTER TABLE requests ADD COLUMN teams_channel_id TEXT NOT NULL DEFAULT ''`,
		`CREATE INDEX requests_teams_channel ON requests (teams_channel_id)`,
	)
}

// migrationV3 adds requests.status_since, the moment the request entered its current
// status (what the overdue filter measures). Existing requests get their updated_at: the
// last change of a request is the latest its status can have changed, so none of them looks
// overdue sooner than it is. The constant default only lets the column be added NOT NULL to
// existing rows (SQLite needs one); PostgreSQL drops it afterwards, and every write sets the
// column anyway.
func migrationV3(tx *gorm.DB, d database.Dialect) error {
	stmts := []string{
		`ALTER TABLE requests ADD COLUMN status_since ` + d.Timestamp() + ` NOT NULL DEFAULT '1970-01-01 00:00:00+00:00'`,
		`UPDATE requests SET status_since = updated_at`,
		`CREATE INDEX requests_status_since ON requests (status, status_since)`,
	}
	if d == database.Postgres {
		stmts = append(stmts, `ALTER TABLE requests ALTER COLUMN status_since DROP DEFAULT`)
	}
	return database.ExecAll(tx, stmts...)
}

// migrationV4 indexes the elements alone: an appellation is matched on every fiche (a
// removal and a new fiche made from it), which the (code_rome, element) index cannot serve,
// and each request's checks would read every open request's elements.
func migrationV4(tx *gorm.DB, _ database.Dialect) error {
	return database.ExecAll(tx, `CREATE INDEX request_elements_element ON request_elements (element)`)
}

// migrationV5 creates the directory. An organisation's domains are a JSON array of grands
// domaines and codes ROME. A person's Entra object id is unique when known (empty until
// then); last_seen_at is null until they first sign in.
func migrationV5(tx *gorm.DB, d database.Dialect) error {
	ts := d.Timestamp()
	return database.ExecAll(tx,
		`CREATE TABLE organisations (
			id TEXT PRIMARY KEY,
			name TEXT NOT NULL,
			kind TEXT NOT NULL,
			domains TEXT NOT NULL,
			active BOOLEAN NOT NULL,
			created_at `+ts+` NOT NULL,
			updated_at `+ts+` NOT NULL
		)`,
		`CREATE TABLE people (
			sub TEXT PRIMARY KEY,
			entra_id TEXT NOT NULL,
			name TEXT NOT NULL,
			email TEXT NOT NULL,
			role TEXT NOT NULL,
			org TEXT NOT NULL,
			active BOOLEAN NOT NULL,
			source TEXT NOT NULL,
			last_seen_at `+ts+`,
			created_at `+ts+` NOT NULL,
			updated_at `+ts+` NOT NULL
		)`,
		`CREATE INDEX people_role ON people (role, sub)`,
		`CREATE INDEX people_org ON people (org, sub)`,
		`CREATE UNIQUE INDEX people_entra_id ON people (entra_id) WHERE entra_id <> ''`,
	)
}

// migrationV6 creates the ideas: their text and what they are about, the author's e-mail
// when they left one, and what the ROME team did with them (a reason, a reply, the
// organisation they were handed to, the request filed from them).
func migrationV6(tx *gorm.DB, d database.Dialect) error {
	ts := d.Timestamp()
	return database.ExecAll(tx,
		`CREATE TABLE ideas (
			id TEXT PRIMARY KEY,
			status TEXT NOT NULL,
			text TEXT NOT NULL,
			code_rome TEXT NOT NULL,
			code_ogr TEXT NOT NULL,
			email TEXT NOT NULL,
			handled_by TEXT NOT NULL,
			reason TEXT NOT NULL,
			reply TEXT NOT NULL,
			org TEXT NOT NULL,
			request_id TEXT NOT NULL,
			created_at `+ts+` NOT NULL,
			updated_at `+ts+` NOT NULL
		)`,
		`CREATE INDEX ideas_status ON ideas (status, created_at)`,
		`CREATE INDEX ideas_org ON ideas (org, created_at)`,
		`CREATE INDEX ideas_email ON ideas (email, created_at)`,
	)
}

// migrationV7 gives people domains of expertise (a JSON array: the moderators' decide the
// round-robin assignment) and an absence: until absent_until, the reminders meant for them
// go to their delegate.
func migrationV7(tx *gorm.DB, d database.Dialect) error {
	return database.ExecAll(tx,
		`ALTER TABLE people ADD COLUMN domains TEXT NOT NULL DEFAULT '[]'`,
		`ALTER TABLE people ADD COLUMN absent_until `+d.Timestamp(),
		`ALTER TABLE people ADD COLUMN delegate TEXT NOT NULL DEFAULT ''`,
	)
}

// migrationV8 creates the access requests' projection: each one's state as its workflow
// last recorded it (a JSON document, seq orders the records), with the columns the
// listings and the per-address limit filter on.
func migrationV8(tx *gorm.DB, d database.Dialect) error {
	ts := d.Timestamp()
	return database.ExecAll(tx,
		`CREATE TABLE access_requests (
			id TEXT PRIMARY KEY,
			seq INTEGER NOT NULL,
			status TEXT NOT NULL,
			email TEXT NOT NULL,
			document TEXT NOT NULL,
			created_at `+ts+` NOT NULL,
			updated_at `+ts+` NOT NULL
		)`,
		`CREATE INDEX access_requests_status ON access_requests (status, created_at)`,
		`CREATE INDEX access_requests_email ON access_requests (email, created_at)`,
	)
}

// migrationV9 keeps the members of the Entra groups whose members hold a role (moderators,
// admins), by Entra object id, as the worker's synchronisation last read them.
func migrationV9(tx *gorm.DB, _ database.Dialect) error {
	return database.ExecAll(tx,
		`CREATE TABLE group_members (
			role TEXT NOT NULL,
			entra_id TEXT NOT NULL,
			PRIMARY KEY (role, entra_id)
		)`,
		`CREATE INDEX group_members_entra_id ON group_members (entra_id)`,
	)
}

// migrationV10 records the requests the round-robin rule assigned and to whom, and each
// moderator's turn: when they were last assigned that way.
func migrationV10(tx *gorm.DB, d database.Dialect) error {
	return database.ExecAll(tx,
		`CREATE TABLE turn_assignments (
			request_id TEXT PRIMARY KEY,
			moderator TEXT NOT NULL,
			assigned_at `+d.Timestamp()+` NOT NULL
		)`,
		`CREATE TABLE moderator_turns (
			sub TEXT PRIMARY KEY,
			last_assigned_at `+d.Timestamp()+` NOT NULL
		)`,
	)
}
