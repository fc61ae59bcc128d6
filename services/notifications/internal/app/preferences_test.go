package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/notifications/internal/app"
	"github.com/plateforme-rome/rome/services/notifications/internal/apptest"
)

func TestPreferences(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, sqlite(t), nil)
	ctx := context.Background()
	e.Seen(auth.Principal{Subject: "alice", Role: auth.RolePartner, Org: "opco-a", Email: "alice@opco-a.fr"})
	p, err := e.App.Preferences(ctx, "alice")
	if err != nil || p.Email != "" || len(p.Events) != len(notifclient.Events) {
		t.Fatalf("defaults: %+v %v", p, err)
	}
	// By default: in-app and e-mail at once; Teams is opt-in.
	for _, ev := range notifclient.Events {
		if p.Events[ev] != apptest.EmailNow {
			t.Fatalf("default of %s: %+v", ev, p.Events[ev])
		}
	}
	daily := apptest.EmailDaily
	off := apptest.TeamsNow
	p, err = e.App.SetPreferences(ctx, "alice", notifclient.Preferences{Email: "alice@example.org",
		Events: map[notifclient.Event]notifclient.Channels{notifclient.EventQuestion: daily, notifclient.EventDecision: off}})
	if err != nil || p.Email != "alice@example.org" || p.Events[notifclient.EventQuestion] != daily ||
		p.Events[notifclient.EventDecision] != off || p.Events[notifclient.EventSubmitted] != apptest.EmailNow {
		t.Fatalf("after set: %+v %v", p, err)
	}
	// Setting one event keeps the others.
	p, err = e.App.SetPreferences(ctx, "alice", notifclient.Preferences{Email: "alice@example.org",
		Events: map[notifclient.Event]notifclient.Channels{notifclient.EventQuestion: apptest.EmailNow}})
	if err != nil || p.Events[notifclient.EventQuestion] != apptest.EmailNow || p.Events[notifclient.EventDecision] != off {
		t.Fatalf("partial update: %+v %v", p, err)
	}
	if again, err := e.App.Preferences(ctx, "alice"); err != nil || again.Email != p.Email || again.Events[notifclient.EventDecision] != off {
		t.Fatalf("read back: %+v %v", again, err)
	}
	if _, err := e.App.SetPreferences(ctx, "nobody", notifclient.Preferences{}); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}
