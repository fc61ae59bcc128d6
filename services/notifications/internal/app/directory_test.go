package app_test

import (
	"context"
	"slices"
	"testing"

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
