package app_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/notifications/internal/app"
	"github.com/plateforme-rome/rome/services/notifications/internal/apptest"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// The use cases' tests run on SQLite (sqlite): the store's own tests run
// every query on both dialects. run runs fn on each dialect, for the few
// whose outcome a dialect could change (the precision of stored times,
// concurrent transactions).
func run(t *testing.T, fn func(t *testing.T, e *apptest.Env)) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		t.Parallel()
		fn(t, apptest.New(t, db, nil))
	})
}

// sqlite is a fresh SQLite database.
func sqlite(t *testing.T) *gorm.DB {
	return dbtest.Open(t, database.SQLite)
}

// person records sub calling the API with role and org and, when email is
// not empty, that address in their preferences.
func person(t *testing.T, e *apptest.Env, sub string, role auth.Role, org, email string) {
	t.Helper()
	e.Seen(auth.Principal{Subject: sub, Name: sub, Role: role, Org: org})
	if email != "" {
		if _, err := e.App.SetPreferences(context.Background(), sub, notifclient.Preferences{Email: email}); err != nil {
			t.Fatal(err)
		}
	}
}

// submitted is the submission of request req-1 (fiche M1805) of opco-a, keyed
// key, to to.
func submitted(key string, to notifclient.Recipients) notifclient.Notification {
	return notifclient.Notification{
		Key: key, Event: notifclient.EventSubmitted, RequestID: "req-1", CodeRome: "M1805", Org: "opco-a",
		Title: "Request submitted", Actor: notifclient.Actor{Sub: "actor"}, To: to,
	}
}

func TestNotifyIsIdempotentByKey(t *testing.T) {
	run(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		person(t, e, "mod", auth.RoleModerator, "", "mod@example.org")
		n := submitted("k1", notifclient.Recipients{Roles: []string{"moderator"}})
		first := e.Notify(n)
		if !slices.Equal(first.Recipients, []string{"mod"}) || first.Key != "k1" || first.Event != notifclient.EventSubmitted {
			t.Fatalf("created: %+v", first)
		}
		e.Clock.Add(apptest.Lease) // a retry, later: the same answer
		again, replayed, err := e.App.Notify(ctx, n)
		if err != nil || !replayed || again.ID != first.ID || !again.CreatedAt.Equal(first.CreatedAt) || !slices.Equal(again.Recipients, first.Recipients) {
			t.Fatalf("replay: %+v %v %v, first %+v", again, replayed, err, first)
		}
		other := n
		other.Title = "Another title"
		if _, _, err := e.App.Notify(ctx, other); !errors.Is(err, app.ErrKeyReused) {
			t.Fatalf("same key, another body: %v", err)
		}
		inbox, err := e.App.Inbox(ctx, "mod", 50, 0)
		if err != nil || len(inbox.Items) != 1 {
			t.Fatalf("inbox after replay: %+v %v", inbox, err)
		}
		if rows := e.Outbox(first.ID); len(rows) != 1 {
			t.Fatalf("outbox after replay: %+v", rows)
		}
	})
}

func TestNotifyOnceUnderConcurrentRetries(t *testing.T) {
	run(t, func(t *testing.T, e *apptest.Env) {
		person(t, e, "mod", auth.RoleModerator, "", "mod@example.org")
		n := submitted("k1", notifclient.Recipients{Roles: []string{"moderator"}})
		const callers = 4
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			ids     = map[string]bool{}
			created int
		)
		for range callers {
			wg.Go(func() {
				out, replayed, err := e.App.Notify(context.Background(), n)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				ids[out.ID] = true
				if !replayed {
					created++
				}
			})
		}
		wg.Wait()
		if len(ids) != 1 || created != 1 {
			t.Fatalf("%d calls answered %d notifications, %d of them new", callers, len(ids), created)
		}
		for id := range ids {
			if rows := e.Outbox(id); len(rows) != 1 {
				t.Fatalf("e-mails: %+v", rows)
			}
		}
	})
}

func TestRecipients(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, sqlite(t), &fakeTargets{})
	ctx := context.Background()
	for _, p := range []struct {
		sub  string
		role auth.Role
		org  string
	}{
		{"mod1", auth.RoleModerator, ""}, {"mod2", auth.RoleModerator, ""}, {"adm", auth.RoleAdmin, ""},
		{"pa1", auth.RolePartner, "opco-a"}, {"pa2", auth.RolePartner, "opco-a"},
		{"pb1", auth.RolePartner, "opco-b"}, {"pb2", auth.RolePartner, "opco-b"}, {"pb3", auth.RolePartner, "opco-b"},
	} {
		person(t, e, p.sub, p.role, p.org, "")
	}
	follow := func(sub string, f notifclient.Follow) {
		t.Helper()
		if _, _, err := e.App.Follow(ctx, sub, "token-of-"+sub, f); err != nil {
			t.Fatal(err)
		}
	}
	follow("adm", notifclient.Follow{RequestID: "req-1"})
	follow("pb1", notifclient.Follow{RequestID: "req-1"})  // another organisation's request: filtered out
	follow("pb2", notifclient.Follow{CodeRome: "M1805"})   // idem, through the fiche
	follow("pb3", notifclient.Follow{CodeRome: "K2111"})   // another fiche
	follow("mod2", notifclient.Follow{RequestID: "req-2"}) // another request

	excluded := submitted("r4", notifclient.Recipients{Roles: []string{"moderator", "admin"}})
	excluded.ExcludeUsers = []string{"adm", "mod1"}
	ofOpcoB := submitted("r5", notifclient.Recipients{})
	ofOpcoB.Org = "opco-b"
	cases := []struct {
		name string
		n    notifclient.Notification
		want []string
	}{
		{"roles and followers", submitted("r1", notifclient.Recipients{Roles: []string{"moderator"}}), []string{"adm", "mod1", "mod2"}},
		{"org partners", submitted("r2", notifclient.Recipients{Orgs: []string{"opco-a"}}), []string{"adm", "pa1", "pa2"}},
		{"named users, also unseen ones", submitted("r3", notifclient.Recipients{Users: []string{"pa1", "ghost"}}), []string{"adm", "ghost", "pa1"}},
		{"excluded actor", excluded, []string{"mod2"}},
		{"partner followers of their own organisation", ofOpcoB, []string{"adm", "pb1", "pb2"}},
	}
	for _, c := range cases {
		if got := e.Notify(c.n).Recipients; !slices.Equal(got, c.want) {
			t.Errorf("%s: recipients %v, want %v", c.name, got, c.want)
		}
	}
}

func TestEmailFanOut(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, sqlite(t), nil)
	ctx := context.Background()
	for _, sub := range []string{"immediate", "daily", "off"} {
		person(t, e, sub, auth.RoleModerator, "", sub+"@example.org")
	}
	person(t, e, "noaddress", auth.RoleModerator, "", "")
	for sub, ch := range map[string]notifclient.Channels{"daily": apptest.EmailDaily, "off": apptest.InAppOnly} {
		p := notifclient.Preferences{Email: sub + "@example.org", Events: map[notifclient.Event]notifclient.Channels{notifclient.EventSubmitted: ch}}
		if _, err := e.App.SetPreferences(ctx, sub, p); err != nil {
			t.Fatal(err)
		}
	}
	out := e.Notify(submitted("n1", notifclient.Recipients{Roles: []string{"moderator"}}))
	if want := []string{"daily", "immediate", "noaddress", "off"}; !slices.Equal(out.Recipients, want) {
		t.Fatalf("recipients %v, want %v: in-app for everyone", out.Recipients, want)
	}
	mail := e.Row(out.ID, store.ChannelEmail)
	if mail.Sub != "immediate" || mail.ToAddr != "immediate@example.org" || mail.Status != store.StatusPending ||
		mail.MessageID != "<"+mail.ID+"@rome.test>" || !mail.NextAttemptAt.Equal(apptest.Start) {
		t.Fatalf("e-mail: %+v", mail)
	}
	if subs, err := e.Store.DigestUsers(ctx, store.ChannelEmail); err != nil || !slices.Equal(subs, []string{"daily"}) {
		t.Fatalf("digest users: %v %v", subs, err)
	}
}

func TestTeamsFanOutNeedsPreferenceAndEntraID(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, sqlite(t), nil)
	ctx := context.Background()
	e.Person("both", "oid-both", apptest.Everywhere)
	e.Person("feed", "oid-feed", apptest.TeamsNow)
	e.Person("noid", "", apptest.Everywhere)
	e.Person("daily", "oid-daily", notifclient.Channels{InApp: true, Email: true, Teams: true, Frequency: notifclient.Daily})
	// A user who never chose: e-mail only, Teams is opt-in.
	e.Seen(auth.Principal{Subject: "default", Role: auth.RoleModerator, Email: "default@example.org", EntraID: "oid-default"})

	n := e.Notify(submitted("n1", notifclient.Recipients{Roles: []string{"moderator"}}))
	var teams, mailed []string
	for _, r := range e.Outbox(n.ID) {
		switch r.Channel {
		case store.ChannelTeams:
			teams = append(teams, r.Sub)
			if r.ToAddr != "oid-"+r.Sub || r.Kind != store.KindNotification || r.Status != store.StatusPending || r.MessageID != r.ID {
				t.Errorf("Teams row: %+v", r)
			}
		case store.ChannelEmail:
			mailed = append(mailed, r.Sub)
		}
	}
	slices.Sort(teams)
	slices.Sort(mailed)
	if want := []string{"both", "feed"}; !slices.Equal(teams, want) {
		t.Errorf("Teams notifications to %v, want %v", teams, want)
	}
	if want := []string{"both", "default", "noid"}; !slices.Equal(mailed, want) {
		t.Errorf("e-mails to %v, want %v", mailed, want)
	}
	for _, channel := range store.Channels {
		if subs, err := e.Store.DigestUsers(ctx, channel); err != nil || !slices.Equal(subs, []string{"daily"}) {
			t.Errorf("%s digest users: %v %v", channel, subs, err)
		}
	}
}
