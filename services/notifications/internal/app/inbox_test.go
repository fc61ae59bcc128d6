package app_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/services/notifications/internal/app"
	"github.com/plateforme-rome/rome/services/notifications/internal/apptest"
)

func TestInboxAndMarkRead(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, sqlite(t), nil)
	ctx := context.Background()
	var ids []string
	for i := range 3 {
		ids = append(ids, e.Notify(apptest.Question("k"+strconv.Itoa(i), "Question "+strconv.Itoa(i), "alice")).ID)
		e.Clock.Add(time.Second)
	}
	other := e.Notify(apptest.Question("bob's", "Question", "bob")).ID

	page, err := e.App.Inbox(ctx, "alice", 2, 0)
	if err != nil || len(page.Items) != 2 || page.Items[0].ID != ids[2] || page.UnreadCount != 3 || page.NextCursor == "" {
		t.Fatalf("first page: %+v %v", page, err)
	}
	if it := page.Items[0]; it.Title != "Question 2" || it.Actor.Sub != "mod" || it.RequestID != "req-42" || it.Read || it.ReadAt != nil ||
		!it.CreatedAt.Equal(apptest.Start.Add(2*time.Second)) {
		t.Fatalf("item: %+v", it)
	}
	cursor, err := strconv.ParseInt(page.NextCursor, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.App.MarkRead(ctx, "alice", ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := e.App.MarkRead(ctx, "alice", other); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("reading bob's notification: %v", err)
	}
	page, err = e.App.Inbox(ctx, "alice", 2, cursor)
	if err != nil || len(page.Items) != 1 || !page.Items[0].Read || page.Items[0].ReadAt == nil || page.UnreadCount != 2 || page.NextCursor != "" {
		t.Fatalf("last page after read: %+v %v", page, err)
	}
}
