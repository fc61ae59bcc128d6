package database_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
)

// A listener hears what is sent on its channel, and when its connection is cut (a
// database restart, a failover), it connects again and says so before hearing more.
func TestListenerReconnects(t *testing.T) {
	t.Parallel()
	db := dbtest.Open(t, database.Postgres)
	connected, notified := make(chan struct{}, 10), make(chan string, 10)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		done <- database.Listener{Channel: "test_channel", Log: slog.New(slog.DiscardHandler),
			Connected: func() { connected <- struct{}{} }, Notified: func(p string) { notified <- p }}.Run(ctx, db)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("listener stopped on error: %v", err)
		}
	}()
	receive(t, connected, "the first connection")
	notify(t, db, "1")
	if got := receive(t, notified, "the first notification"); got != "1" {
		t.Fatalf("payload %q, want 1", got)
	}

	var cut int
	if err := db.Raw(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN %'`).Scan(&cut).Error; err != nil || cut != 1 {
		t.Fatalf("listening connections cut: %d %v", cut, err)
	}
	receive(t, connected, "the connection again")
	notify(t, db, "2")
	if got := receive(t, notified, "a notification after reconnecting"); got != "2" {
		t.Fatalf("payload %q, want 2", got)
	}
}

func notify(t *testing.T, db *gorm.DB, payload string) {
	t.Helper()
	if err := db.Exec(`SELECT pg_notify('test_channel', ?)`, payload).Error; err != nil {
		t.Fatal(err)
	}
}

func receive[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("no %s within 30 s", what)
	}
	var none T
	return none
}

// A transaction holding a named lock makes another replica's transaction asking for it
// wait until it ends.
func TestLockTransactionAcrossConnections(t *testing.T) {
	t.Parallel()
	url := dbtest.URL(t, database.Postgres)
	first, second := dbtest.Connect(t, url), dbtest.Connect(t, url)
	release := make(chan struct{})
	locked := make(chan struct{})
	firstDone := make(chan error)
	go func() {
		firstDone <- first.Transaction(func(tx *gorm.DB) error {
			if err := database.LockTransaction(tx, "job"); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	secondLocked := make(chan error)
	go func() {
		secondLocked <- second.Transaction(func(tx *gorm.DB) error { return database.LockTransaction(tx, "job") })
	}()
	select {
	case err := <-secondLocked:
		t.Fatalf("the second transaction took the lock while the first held it (%v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	if err := receive(t, secondLocked, "lock once the first transaction ended"); err != nil {
		t.Fatal(err)
	}
}
