// Package store keeps the notifications service's data with GORM: the users
// it has seen, their preferences and follows, the notifications and every
// recipient's inbox row, the outbox of e-mails and Microsoft Teams
// activity-feed notifications (with its dead letters) and the items waiting
// for a daily digest. It is persistence only, queries and transactions: who
// is told of what, through which channel and when is the app's to decide.
package store

import (
	"context"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/database"
)

// Component names the service's migrations in schema_migrations.
const Component = "notifications"

// Migrations are the service's versioned schema changes.
var Migrations = []database.Migration{
	{Version: 1, Name: "users, preferences, follows, notifications, inbox, outbox, digests", Up: migrationV1},
	{Version: 2, Name: "Teams channel: users' Entra ids, outbox and digest items per channel", Up: migrationV2},
}

// Migrate brings the schema up to date.
func (s *Store) Migrate(ctx context.Context) error {
	return database.Migrate(ctx, s.db, Component, Migrations)
}

// migrationV1 creates the tables. inbox.seq and outbox.seq are the cursors of
// their listings (insertion order).
func migrationV1(tx *gorm.DB, d database.Dialect) error {
	ts, seq := d.Timestamp(), d.SerialKey("seq")
	return database.ExecAll(tx,
		`CREATE TABLE users (
			sub TEXT PRIMARY KEY,
			name TEXT NOT NULL,
			role TEXT NOT NULL,
			org TEXT NOT NULL,
			token_email TEXT NOT NULL,
			pref_email TEXT NOT NULL,
			updated_at `+ts+` NOT NULL
		)`,
		`CREATE INDEX users_role ON users (role)`,
		`CREATE INDEX users_org ON users (org)`,
		`CREATE TABLE preferences (
			sub TEXT NOT NULL,
			event TEXT NOT NULL,
			email BOOLEAN NOT NULL,
			teams BOOLEAN NOT NULL,
			frequency TEXT NOT NULL,
			PRIMARY KEY (sub, event)
		)`,
		`CREATE TABLE follows (
			sub TEXT NOT NULL,
			kind TEXT NOT NULL,
			target TEXT NOT NULL,
			created_at `+ts+` NOT NULL,
			PRIMARY KEY (sub, kind, target)
		)`,
		`CREATE INDEX follows_target ON follows (kind, target)`,
		`CREATE TABLE notifications (
			id TEXT PRIMARY KEY,
			idem_key TEXT NOT NULL UNIQUE,
			body_hash TEXT NOT NULL,
			event TEXT NOT NULL,
			request_id TEXT NOT NULL,
			code_rome TEXT NOT NULL,
			org TEXT NOT NULL,
			title TEXT NOT NULL,
			text TEXT NOT NULL,
			link TEXT NOT NULL,
			actor TEXT NOT NULL,
			recipients TEXT NOT NULL,
			created_at `+ts+` NOT NULL
		)`,
		`CREATE TABLE inbox (
			`+seq+`,
			sub TEXT NOT NULL,
			notification_id TEXT NOT NULL REFERENCES notifications (id),
			read_at `+ts+`,
			UNIQUE (sub, notification_id)
		)`,
		`CREATE INDEX inbox_sub ON inbox (sub, seq)`,
		`CREATE TABLE outbox (
			`+seq+`,
			id TEXT NOT NULL UNIQUE,
			message_id TEXT NOT NULL UNIQUE,
			kind TEXT NOT NULL,
			notification_id TEXT NOT NULL,
			sub TEXT NOT NULL,
			to_addr TEXT NOT NULL,
			status TEXT NOT NULL,
			attempts INTEGER NOT NULL,
			next_attempt_at `+ts+` NOT NULL,
			lease_owner TEXT NOT NULL,
			lease_until `+ts+`,
			last_error TEXT NOT NULL,
			sent_at `+ts+`,
			dead_at `+ts+`,
			created_at `+ts+` NOT NULL
		)`,
		`CREATE INDEX outbox_due ON outbox (status, next_attempt_at)`,
		`CREATE TABLE digest_items (
			notification_id TEXT NOT NULL REFERENCES notifications (id),
			sub TEXT NOT NULL,
			outbox_id TEXT NOT NULL,
			created_at `+ts+` NOT NULL,
			PRIMARY KEY (notification_id, sub)
		)`,
		`CREATE INDEX digest_items_pending ON digest_items (outbox_id, sub)`,
	)
}

// migrationV2 makes Microsoft Teams a delivery channel beside e-mail: the
// users' Entra object ids (what Teams knows them by), a channel on every
// outbox row, and digest items per channel. What v1 holds is e-mail.
// digest_items is rebuilt because SQLite cannot change a primary key in
// place.
func migrationV2(tx *gorm.DB, d database.Dialect) error {
	return database.ExecAll(tx,
		`ALTER TABLE users ADD COLUMN entra_id TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'email'`,
		`DROP INDEX outbox_due`,
		`CREATE INDEX outbox_due ON outbox (channel, status, next_attempt_at)`,
		`CREATE TABLE digest_items_by_channel (
			notification_id TEXT NOT NULL REFERENCES notifications (id),
			sub TEXT NOT NULL,
			channel TEXT NOT NULL,
			outbox_id TEXT NOT NULL,
			created_at `+d.Timestamp()+` NOT NULL,
			PRIMARY KEY (notification_id, sub, channel)
		)`,
		`INSERT INTO digest_items_by_channel (notification_id, sub, channel, outbox_id, created_at)
			SELECT notification_id, sub, 'email', outbox_id, created_at FROM digest_items`,
		`DROP TABLE digest_items`,
		`ALTER TABLE digest_items_by_channel RENAME TO digest_items`,
		`CREATE INDEX digest_items_pending ON digest_items (channel, outbox_id, sub)`,
	)
}
