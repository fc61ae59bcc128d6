package app_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/auth"
	"github.com/plateforme-rome/rome/services/notifications/internal/app"
	"github.com/plateforme-rome/rome/services/notifications/internal/apptest"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

func TestDigestsQueueOnePerUserAndChannel(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, sqlite(t), nil)
	ctx := context.Background()
	e.Person("alice", "oid-alice", notifclient.Channels{InApp: true, Email: true, Teams: true, Frequency: notifclient.Daily})
	e.Person("bob", "", apptest.EmailDaily)
	titles := []string{"Première question", "Deuxième question", "Troisième question"}
	for i, title := range titles {
		e.Notify(apptest.Question("k"+title, title, "alice"))
		e.Clock.Add(time.Duration(i+1) * time.Minute)
	}
	e.Notify(apptest.Question("to bob", "Pour Bob", "bob"))
	if rows := e.Outbox(""); len(rows) != 0 {
		t.Fatalf("deliveries before the digests: %+v", rows)
	}
	if n, err := e.App.QueueDigests(ctx, e.Clock.Now().Add(time.Second)); err != nil || n != 3 {
		t.Fatalf("queued %d %v, want alice's e-mail and Teams digests and bob's e-mail one", n, err)
	}
	if n, err := e.App.QueueDigests(ctx, e.Clock.Now().Add(time.Second)); err != nil || n != 0 {
		t.Fatalf("queued again: %d %v", n, err)
	}
	var got []string
	for _, r := range e.Outbox("") {
		if r.Kind != store.KindDigest || !r.NextAttemptAt.Equal(e.Clock.Now()) {
			t.Errorf("digest row: %+v", r)
		}
		got = append(got, r.Channel+" "+r.ToAddr)
	}
	slices.Sort(got)
	if want := []string{"email alice@example.org", "email bob@example.org", "teams oid-alice"}; !slices.Equal(got, want) {
		t.Fatalf("digests %v, want %v", got, want)
	}

	// The digest e-mail lists alice's notifications, oldest first.
	m := &fakeMailer{}
	deliver(t, e, m, 2)
	i := slices.IndexFunc(m.sent, func(m app.Email) bool { return m.To == "alice@example.org" })
	if i < 0 || m.sent[i].Subject != "[ROME] Your daily digest: 3 notification(s)" {
		t.Fatalf("digest e-mails: %+v", m.sent)
	}
	last := -1
	for _, title := range titles {
		at := strings.Index(m.sent[i].Body, title)
		if at <= last {
			t.Fatalf("digest lacks %q or lists it out of order:\n%s", title, m.sent[i].Body)
		}
		last = at
	}
}

func TestDigestWaitsForSomewhereToGo(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, sqlite(t), nil)
	ctx := context.Background()
	e.Person("alice", "oid-alice", apptest.TeamsDaily)
	e.Notify(apptest.Question("n1", "Question", "alice"))
	// Her next token has no Entra id: the item waits, as an e-mail item
	// waits for an address.
	e.Clock.Add(time.Hour)
	e.Seen(auth.Principal{Subject: "alice", Name: "alice", Role: auth.RoleModerator})
	if n, err := e.App.QueueDigests(ctx, e.Clock.Now().Add(time.Second)); err != nil || n != 0 {
		t.Fatalf("queued without an Entra id: %d %v", n, err)
	}
	if subs, err := e.Store.DigestUsers(ctx, store.ChannelTeams); err != nil || !slices.Equal(subs, []string{"alice"}) {
		t.Fatalf("waiting: %v %v", subs, err)
	}
	e.Seen(auth.Principal{Subject: "alice", Name: "alice", Role: auth.RoleModerator, EntraID: "oid-alice"})
	if n, err := e.App.QueueDigests(ctx, e.Clock.Now().Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("queued once the Entra id is back: %d %v", n, err)
	}
}
