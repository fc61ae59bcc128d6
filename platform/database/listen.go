package database

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// Listener follows a PostgreSQL notification channel (LISTEN/NOTIFY) on a connection of
// its own, outside the pool: the connection waits for the server, so it cannot serve
// queries. PostgreSQL drops what is sent on a channel while nobody listens, so Connected
// runs after every (re)connection, once LISTEN is in place: that is when a follower
// catches up on what it may have missed.
type Listener struct {
	Channel   string
	Connected func()               // after each (re)connection
	Notified  func(payload string) // for each notification, in order
	Log       *slog.Logger
}

// The listener's timings: a lost connection is dialled again after firstRetry, doubling
// up to lastRetry while it keeps failing; an idle connection is pinged every idlePing, so
// that one the network dropped silently is noticed.
const (
	firstRetry = 100 * time.Millisecond
	lastRetry  = 30 * time.Second
	idlePing   = 30 * time.Second
)

// Run listens until ctx ends, reconnecting whenever the connection is lost. db must be a
// PostgreSQL database opened from a URL or DSN (OpenURL): the listener dials the same one.
func (l Listener) Run(ctx context.Context, db *gorm.DB) error {
	cfg, err := listenConfig(db)
	if err != nil {
		return err
	}
	delay := firstRetry
	for {
		listening, err := l.listen(ctx, cfg)
		if ctx.Err() != nil {
			return nil
		}
		if listening {
			delay = firstRetry
		}
		l.Log.Warn("notification listener disconnected, reconnecting", "channel", l.Channel, "in", delay, "error", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, lastRetry)
	}
}

// listen holds one connection until it fails; listening says whether LISTEN was in place.
func (l Listener) listen(ctx context.Context, cfg *pgx.ConnConfig) (listening bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.Channel}.Sanitize()); err != nil {
		return false, err
	}
	l.Connected()
	for {
		waitCtx, cancel := context.WithTimeout(ctx, idlePing)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			l.Notified(n.Payload)
		case ctx.Err() != nil:
			return true, ctx.Err()
		case pgconn.Timeout(err): // idle: a timed-out wait leaves the connection usable
			if err := conn.Ping(ctx); err != nil {
				return true, err
			}
		default:
			return true, err
		}
	}
}

// listenConfig is the connection settings of the database db was opened on.
func listenConfig(db *gorm.DB) (*pgx.ConnConfig, error) {
	d, ok := db.Dialector.(*postgres.Dialector)
	if !ok || d.Config == nil || d.DSN == "" {
		return nil, errors.New("LISTEN needs a PostgreSQL database opened from a URL")
	}
	cfg, err := pgx.ParseConfig(d.DSN)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL settings for LISTEN: %w", err)
	}
	return cfg, nil
}

// LockTransaction holds a lock named name until tx ends, so that a job writing in tx runs
// in one replica at a time. On PostgreSQL it is a transaction-scoped advisory lock; a
// SQLite transaction already holds the database's one write lock from its start.
func LockTransaction(tx *gorm.DB, name string) error {
	if DialectOf(tx) != Postgres {
		return nil
	}
	return tx.Exec(`SELECT pg_advisory_xact_lock(hashtext(?))`, name).Error
}
