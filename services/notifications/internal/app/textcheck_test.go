package app_test

import (
	"testing"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/services/notifications/internal/apptest"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// Notifications stored before the text rules are found, and left as they were.
func TestStoredTextViolations(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, sqlite(t), nil)
	clean := e.Notify(apptest.Question("k-clean", "Question", "alice")).ID
	old := store.Notification{ID: "n-old", Key: "k-old", Event: "question", Title: "Ancienne\x07question", Text: "ok",
		Actor: notifclient.Actor{Sub: "mod", Name: "Mod\u202e"}, Recipients: []string{}, CreatedAt: apptest.Start}
	if err := e.Store.InsertNotification(t.Context(), old, nil, nil); err != nil {
		t.Fatal(err)
	}
	found, err := e.App.StoredTextViolations(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 || found[0].NotificationID != "n-old" || found[0].Problem.Field != "title" || found[1].Problem.Field != "actor.name" {
		t.Fatalf("found %+v, want the old notification's title and author (not %s)", found, clean)
	}
	if n, err := e.Store.Notification(t.Context(), "n-old"); err != nil || n.Title != old.Title {
		t.Errorf("the stored title was rewritten: %q %v", n.Title, err)
	}
}
