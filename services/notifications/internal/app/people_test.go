package app_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/notifications/internal/app"
	"github.com/plateforme-rome/rome/services/notifications/internal/apptest"
)

func TestSeenWritesOnlyWhatChangedOrGrewStale(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, sqlite(t), nil)
	ctx := context.Background()
	lastSeen := func() time.Time {
		t.Helper()
		u, err := e.Store.User(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		return u.UpdatedAt
	}
	alice := auth.Principal{Subject: "alice", Name: "Alice Martin", Role: auth.RolePartner, Org: "opco-2i", Email: "alice@opco-2i.fr", EntraID: "oid-1"}
	e.Seen(alice)
	first := e.Clock.Now()
	if u, err := e.Store.User(ctx, "alice"); err != nil || u.Name != "Alice Martin" || u.Org != "opco-2i" || u.TokenEmail != "alice@opco-2i.fr" ||
		u.EntraID != "oid-1" || !u.UpdatedAt.Equal(first) {
		t.Fatalf("recorded: %+v %v", u, err)
	}

	e.Clock.Add(4 * time.Minute)
	e.Seen(alice)
	if !lastSeen().Equal(first) {
		t.Fatal("the same token within five minutes was written again")
	}
	renamed := alice
	renamed.Name = "Alice Dupont"
	e.Seen(renamed)
	if !lastSeen().Equal(e.Clock.Now()) {
		t.Fatal("a change of the token's claims was not written")
	}
	e.Clock.Add(5 * time.Minute)
	e.Seen(renamed)
	if !lastSeen().Equal(e.Clock.Now()) {
		t.Fatal("last seen is never refreshed")
	}

	e.Seen(auth.Principal{Subject: "worker", Role: auth.RoleService})
	if _, err := e.Store.User(ctx, "worker"); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("a service was recorded as a person: %v", err)
	}
}

func TestUsers(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, sqlite(t), nil)
	ctx := context.Background()
	if none, err := e.App.Users(ctx, 2, ""); err != nil || none.Items == nil || len(none.Items) != 0 || none.NextCursor != "" {
		t.Fatalf("nobody known: %+v %v", none, err)
	}
	seen := e.Clock.Now()
	for _, p := range []auth.Principal{
		{Subject: "carol", Name: "Carol", Role: auth.RoleModerator, Email: "carol@rome.example", EntraID: "oid-carol"},
		{Subject: "alice", Name: "Alice", Role: auth.RolePartner, Org: "opco-a", Email: "alice@opco-a.fr"},
		{Subject: "bob", Role: auth.RoleAdmin},
		{Subject: "dave", Name: "Dave", Role: auth.RolePartner, Org: "opco-b"},
	} {
		e.Seen(p)
	}
	e.Clock.Add(time.Hour)
	// Seen again: the latest token wins, and the preferences' address overrides it.
	e.Seen(auth.Principal{Subject: "alice", Name: "Alice Martin", Role: auth.RolePartner, Org: "opco-a", Email: "alice@opco-a.fr", EntraID: "oid-alice"})
	if _, err := e.App.SetPreferences(ctx, "dave", notifclient.Preferences{Email: "dave@opco-b.fr"}); err != nil {
		t.Fatal(err)
	}

	first, err := e.App.Users(ctx, 2, "")
	if err != nil || len(first.Items) != 2 || first.NextCursor == "" {
		t.Fatalf("first page: %+v %v", first, err)
	}
	want := []notifclient.User{
		{Sub: "alice", Name: "Alice Martin", Role: "partner", Org: "opco-a", Email: "alice@opco-a.fr", HasEntraID: true, LastSeenAt: seen.Add(time.Hour)},
		{Sub: "bob", Role: "admin", LastSeenAt: seen},
	}
	if !slices.Equal(first.Items, want) {
		t.Fatalf("first page %+v\nwant %+v", first.Items, want)
	}
	second, err := e.App.Users(ctx, 2, first.NextCursor)
	if err != nil || len(second.Items) != 2 || second.NextCursor != "" {
		t.Fatalf("second page: %+v %v", second, err)
	}
	if u := second.Items[0]; u != (notifclient.User{Sub: "carol", Name: "Carol", Role: "moderator", Email: "carol@rome.example", HasEntraID: true, LastSeenAt: seen}) {
		t.Fatalf("carol: %+v", u)
	}
	if u := second.Items[1]; u.Sub != "dave" || u.Email != "dave@opco-b.fr" || u.HasEntraID {
		t.Fatalf("dave: %+v", u)
	}
	for _, bad := range []string{"!!", "="} {
		if _, err := e.App.Users(ctx, 2, bad); !errors.Is(err, app.ErrBadCursor) {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}
}
