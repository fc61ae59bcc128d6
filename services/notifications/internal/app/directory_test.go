package app_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/notifications/internal/app"
	"github.com/plateforme-rome/rome/services/notifications/internal/apptest"
)

// fakeDirectory holds the active people of the directory.
type fakeDirectory struct{ active []app.Person }

func (d *fakeDirectory) ActivePeople(_ context.Context, q app.PeopleQuery) ([]app.Person, error) {
	var out []app.Person
	for _, p := range d.active {
		if slices.Contains(q.Roles, p.Role) || slices.Contains(q.Subs, p.Sub) ||
			(p.Role == string(auth.RolePartner) && slices.Contains(q.Orgs, p.Org)) {
			out = append(out, p)
		}
	}
	return out, nil
}

// TestRecipientsFromTheDirectory: with a directory, a notification reaches the active
// people it describes whether or not they ever called this service, at its addresses (or
// the one they chose in their preferences), and no longer reaches the people it lacks
// (deactivated), even those the service has seen or who follow the request.
func TestRecipientsFromTheDirectory(t *testing.T) {
	t.Parallel()
	dir := &fakeDirectory{active: []app.Person{
		{Sub: "mona", Name: "Mona", Email: "mona@francetravail.fr", Role: "moderator"},
		{Sub: "paul", Name: "Paul", Email: "paul@opco-a.fr", Role: "partner", Org: "opco-a"},
		{Sub: "pia", Name: "Pia", Email: "pia@opco-a.fr", Role: "partner", Org: "opco-a"},
		{Sub: "adm", Name: "Ada", Email: "ada@francetravail.fr", Role: "admin"},
	}}
	e := apptest.NewWithDirectory(t, sqlite(t), &fakeTargets{}, dir)
	ctx := context.Background()
	person(t, e, "gone", auth.RoleModerator, "", "gone@example.org") // seen, then deactivated
	person(t, e, "pia", auth.RolePartner, "opco-a", "pia.perso@example.org")
	person(t, e, "adm", auth.RoleAdmin, "", "")
	for _, sub := range []string{"gone", "adm"} {
		if _, _, err := e.App.Follow(ctx, sub, "token-of-"+sub, notifclient.Follow{RequestID: "req-1"}); err != nil {
			t.Fatal(err)
		}
	}

	out := e.Notify(submitted("s1", notifclient.Recipients{Roles: []string{"moderator"}}))
	if want := []string{"adm", "mona"}; !slices.Equal(out.Recipients, want) {
		t.Fatalf("submission: recipients %v, want %v", out.Recipients, want)
	}
	var addresses []string
	for _, row := range e.Outbox(out.ID) {
		addresses = append(addresses, row.ToAddr)
	}
	slices.Sort(addresses)
	if want := []string{"ada@francetravail.fr", "mona@francetravail.fr"}; !slices.Equal(addresses, want) {
		t.Fatalf("e-mails to %v, want %v", addresses, want)
	}

	out = e.Notify(submitted("s2", notifclient.Recipients{Orgs: []string{"opco-a"}, Users: []string{"ghost"}}))
	if want := []string{"adm", "ghost", "paul", "pia"}; !slices.Equal(out.Recipients, want) {
		t.Fatalf("organisation: recipients %v, want %v", out.Recipients, want)
	}
	addresses = nil
	for _, row := range e.Outbox(out.ID) {
		addresses = append(addresses, row.ToAddr)
	}
	slices.Sort(addresses)
	if want := []string{"ada@francetravail.fr", "paul@opco-a.fr", "pia.perso@example.org"}; !slices.Equal(addresses, want) {
		t.Fatalf("e-mails to %v, want %v (the chosen address for pia, none for ghost)", addresses, want)
	}
}

// TestRemindersGoToTheDelegate: while a moderator is away, the reminders and escalations
// meant for them are e-mailed to their delegate (their own inbox keeps a row); other
// notifications, and reminders after their return, are theirs.
func TestRemindersGoToTheDelegate(t *testing.T) {
	t.Parallel()
	back := apptest.Start.Add(72 * time.Hour)
	dir := &fakeDirectory{active: []app.Person{
		{Sub: "bob", Email: "bob@francetravail.fr", Role: "moderator", AbsentUntil: &back, Delegate: "mona"},
		{Sub: "mona", Email: "mona@francetravail.fr", Role: "moderator"},
	}}
	e := apptest.NewWithDirectory(t, sqlite(t), &fakeTargets{}, dir)
	mailed := func(n notifclient.Created) []string {
		var to []string
		for _, row := range e.Outbox(n.ID) {
			to = append(to, row.ToAddr)
		}
		return to
	}
	reminder := func(key string) notifclient.Notification {
		return notifclient.Notification{Key: key, Event: notifclient.EventReminder, RequestID: "req-9", Title: "Décision attendue",
			Actor: notifclient.Actor{Sub: "system"}, To: notifclient.Recipients{Users: []string{"bob"}}}
	}
	n := e.Notify(reminder("r1"))
	if got := mailed(n); !slices.Equal(got, []string{"mona@francetravail.fr"}) || !slices.Equal(n.Recipients, []string{"bob", "mona"}) {
		t.Fatalf("reminder while away: e-mails %v, inbox %v", got, n.Recipients)
	}
	question := apptest.Question("q1", "Une question", "bob")
	if got := mailed(e.Notify(question)); !slices.Equal(got, []string{"bob@francetravail.fr"}) {
		t.Fatalf("a question while away goes to bob: %v", got)
	}
	e.Clock.Add(72 * time.Hour)
	if got := mailed(e.Notify(reminder("r2"))); !slices.Equal(got, []string{"bob@francetravail.fr"}) {
		t.Fatalf("reminder after the return: %v", got)
	}
}
