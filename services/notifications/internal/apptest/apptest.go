// Package apptest sets up the notifications service's use cases for tests: a
// migrated store on a test database, the app on it with one configuration and
// a clock the test moves (clocktest), and the steps every test starts with
// (people calling the API, their preferences, notifications).
package apptest

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric"
	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/notifications/internal/app"
	"github.com/plateforme-rome/rome/services/notifications/internal/clocktest"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// Start is the time the clock shows when a test begins.
var Start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Config is the app's configuration in tests. Both channels retry three
// times, after a minute, then two, then give up; their leases last a minute.
var Config = app.Config{
	MessageIDDomain: "rome.test",
	PublicURL:       "http://rome.test/",
	InboxURL:        "/v1/notifications",
	Email:           app.Channel{Retry: Retry, Lease: Lease},
	Teams:           app.Channel{Retry: Retry, Lease: Lease},
}

// Retry and Lease are both channels' settings in tests.
var (
	Retry = app.RetryPolicy{MaxAttempts: 3, Base: time.Minute, Max: 4 * time.Minute}
	Lease = time.Minute
)

// Env is the app on a fresh store.
type Env struct {
	t     testing.TB
	Store *store.Store
	App   *app.Service
	Clock *clocktest.Clock
}

// New sets up the app on db (dbtest.Open) with Config, the clock at Start.
// targets answers the follows' checks; nil refuses them all as unavailable
// (the test follows nothing).
func New(t testing.TB, db *gorm.DB, targets app.Targets) *Env {
	t.Helper()
	return NewWithDirectory(t, db, targets, nil)
}

// NewWithDirectory is New with the directory that says who notifications reach (nil: the
// people who have called the service).
func NewWithDirectory(t testing.TB, db *gorm.DB, targets app.Targets, dir app.Directory) *Env {
	t.Helper()
	return newEnv(t, db, targets, dir, nil)
}

// NewMetered is New recording the app's metrics on meter.
func NewMetered(t testing.TB, db *gorm.DB, meter metric.Meter) *Env {
	t.Helper()
	return newEnv(t, db, nil, nil, meter)
}

func newEnv(t testing.TB, db *gorm.DB, targets app.Targets, dir app.Directory, meter metric.Meter) *Env {
	t.Helper()
	st := store.New(db)
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if targets == nil {
		targets = noTargets{}
	}
	clock := clocktest.New(Start)
	svc, err := app.New(app.Deps{Store: st, Targets: targets, Directory: dir, Config: Config, Now: clock.Now, Log: slog.New(slog.DiscardHandler), Meter: meter})
	if err != nil {
		t.Fatal(err)
	}
	return &Env{t: t, Store: st, App: svc, Clock: clock}
}

// Replica is another instance of the app on db, a second connection to the
// env's database (dbtest.Connect), with the same configuration and clock: the
// service's second replica.
func (e *Env) Replica(db *gorm.DB) *app.Service {
	e.t.Helper()
	svc, err := app.New(app.Deps{Store: store.New(db), Targets: noTargets{}, Config: Config, Now: e.Clock.Now, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		e.t.Fatal(err)
	}
	return svc
}

type noTargets struct{}

var errNoTargets = errors.New("apptest: this test checks no follow")

func (noTargets) RequestVisible(context.Context, string, string) error { return errNoTargets }
func (noTargets) FicheExists(context.Context, string) error            { return errNoTargets }

// Person records sub calling the API as a moderator whose token carried the
// Entra object id entraID (empty: none), with the address <sub>@example.org
// in their preferences and, for every event, the channels ch.
func (e *Env) Person(sub, entraID string, ch notifclient.Channels) {
	e.t.Helper()
	e.Seen(auth.Principal{Subject: sub, Name: sub, Role: auth.RoleModerator, EntraID: entraID})
	p := notifclient.Preferences{Email: sub + "@example.org", Events: map[notifclient.Event]notifclient.Channels{}}
	for _, ev := range notifclient.Events {
		p.Events[ev] = ch
	}
	if _, err := e.App.SetPreferences(context.Background(), sub, p); err != nil {
		e.t.Fatal(err)
	}
}

// Seen records p calling the API.
func (e *Env) Seen(p auth.Principal) {
	e.t.Helper()
	if err := e.App.Seen(context.Background(), p); err != nil {
		e.t.Fatal(err)
	}
}

// Notify creates n, which must be new.
func (e *Env) Notify(n notifclient.Notification) notifclient.Created {
	e.t.Helper()
	out, replayed, err := e.App.Notify(context.Background(), n)
	if err != nil || replayed {
		e.t.Fatalf("notify %s: replayed=%v err=%v", n.Key, replayed, err)
	}
	return out
}

// Question is a question on request req-42 (fiche M1805) from the moderator
// mod, keyed key, to users.
func Question(key, title string, users ...string) notifclient.Notification {
	return notifclient.Notification{
		Key: key, Event: notifclient.EventQuestion, RequestID: "req-42", CodeRome: "M1805", Title: title,
		Text: "Une question vous attend.", Link: "/requests/req-42", Actor: notifclient.Actor{Sub: "mod"},
		To: notifclient.Recipients{Users: users},
	}
}

// Outbox is the outbox's rows of a notification (all of them for ""), in
// the order they were queued.
func (e *Env) Outbox(notificationID string) []store.OutboxRow {
	e.t.Helper()
	rows, err := e.Store.Outbox(context.Background(), notificationID)
	if err != nil {
		e.t.Fatal(err)
	}
	return rows
}

// Row is the only row of channel that notification id made.
func (e *Env) Row(notificationID, channel string) store.OutboxRow {
	e.t.Helper()
	var found []store.OutboxRow
	for _, r := range e.Outbox(notificationID) {
		if r.Channel == channel {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		e.t.Fatalf("%s rows of %s: %+v", channel, notificationID, found)
	}
	return found[0]
}

// Channel choices people make in tests.
var (
	EmailNow   = notifclient.Channels{InApp: true, Email: true, Frequency: notifclient.Immediate}
	EmailDaily = notifclient.Channels{InApp: true, Email: true, Frequency: notifclient.Daily}
	InAppOnly  = notifclient.Channels{InApp: true, Frequency: notifclient.Immediate}
	TeamsNow   = notifclient.Channels{InApp: true, Teams: true, Frequency: notifclient.Immediate}
	TeamsDaily = notifclient.Channels{InApp: true, Teams: true, Frequency: notifclient.Daily}
	Everywhere = notifclient.Channels{InApp: true, Email: true, Teams: true, Frequency: notifclient.Immediate}
)
