package store

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
)

// clock is a settable time for the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newStore(t *testing.T, db *gorm.DB) (*Store, *clock) {
	t.Helper()
	s := New(db, "test.local")
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	s.now = c.now
	return s, c
}

// user records a user as the API does and gives it an e-mail address when
// email is not empty.
func user(t *testing.T, s *Store, sub, role, org, email string) {
	t.Helper()
	ctx := context.Background()
	if err := s.TouchUser(ctx, User{Sub: sub, Name: sub, Role: role, Org: org}); err != nil {
		t.Fatal(err)
	}
	if email != "" {
		if _, err := s.SetPreferences(ctx, sub, notifclient.Preferences{Email: email}); err != nil {
			t.Fatal(err)
		}
	}
}

func notification(key string, to notifclient.Recipients) notifclient.Notification {
	return notifclient.Notification{
		Key: key, Event: notifclient.EventSubmitted, RequestID: "req-1", CodeRome: "M1805", Org: "opco-a",
		Title: "Request submitted", Actor: notifclient.Actor{Sub: "actor"}, To: to,
	}
}

func create(t *testing.T, s *Store, n notifclient.Notification) notifclient.Created {
	t.Helper()
	out, replayed, err := s.Create(context.Background(), n, "hash-"+n.Key)
	if err != nil || replayed {
		t.Fatalf("create %s: replayed=%v err=%v", n.Key, replayed, err)
	}
	return out
}

func TestCreateIsIdempotentByKey(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		s, _ := newStore(t, db)
		ctx := context.Background()
		user(t, s, "mod", "moderator", "", "mod@example.org")
		n := notification("k1", notifclient.Recipients{Roles: []string{"moderator"}})
		first, replayed, err := s.Create(ctx, n, "h1")
		if err != nil || replayed {
			t.Fatalf("first: %v %v", replayed, err)
		}
		again, replayed, err := s.Create(ctx, n, "h1")
		if err != nil || !replayed {
			t.Fatalf("replay: %v %v", replayed, err)
		}
		if first.ID != again.ID || !first.CreatedAt.Equal(again.CreatedAt) || !slices.Equal(first.Recipients, again.Recipients) {
			t.Fatalf("replay differs: %+v vs %+v", first, again)
		}
		if _, _, err := s.Create(ctx, n, "h2"); !errors.Is(err, ErrKeyReused) {
			t.Fatalf("other body: %v", err)
		}
		inbox, err := s.Inbox(ctx, "mod", 50, 0)
		if err != nil || len(inbox.Items) != 1 {
			t.Fatalf("inbox after replay: %+v %v", inbox, err)
		}
		mails, err := s.Outbox(ctx, first.ID)
		if err != nil || len(mails) != 1 {
			t.Fatalf("outbox after replay: %+v %v", mails, err)
		}
	})
}

func TestRecipients(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		s, _ := newStore(t, db)
		ctx := context.Background()
		user(t, s, "mod1", "moderator", "", "")
		user(t, s, "mod2", "moderator", "", "")
		user(t, s, "adm", "admin", "", "")
		user(t, s, "pa1", "partner", "opco-a", "")
		user(t, s, "pa2", "partner", "opco-a", "")
		user(t, s, "pb1", "partner", "opco-b", "")
		user(t, s, "pb2", "partner", "opco-b", "")
		user(t, s, "pb3", "partner", "opco-b", "")
		follow := func(sub string, f notifclient.Follow) {
			if _, _, err := s.Follow(ctx, sub, f); err != nil {
				t.Fatal(err)
			}
		}
		follow("adm", notifclient.Follow{RequestID: "req-1"})
		follow("pb1", notifclient.Follow{RequestID: "req-1"})  // another organisation's request: filtered out
		follow("pb2", notifclient.Follow{CodeRome: "M1805"})   // idem, through the fiche
		follow("pb3", notifclient.Follow{CodeRome: "K2111"})   // another fiche
		follow("mod2", notifclient.Follow{RequestID: "req-2"}) // another request

		cases := []struct {
			name string
			n    notifclient.Notification
			want []string
		}{
			{"roles and followers", notification("r1", notifclient.Recipients{Roles: []string{"moderator"}}),
				[]string{"adm", "mod1", "mod2"}},
			{"org partners", notification("r2", notifclient.Recipients{Orgs: []string{"opco-a"}}),
				[]string{"adm", "pa1", "pa2"}},
			{"named users, also unseen ones", notification("r3", notifclient.Recipients{Users: []string{"pa1", "ghost"}}),
				[]string{"adm", "ghost", "pa1"}},
			{"excluded actor", func() notifclient.Notification {
				n := notification("r4", notifclient.Recipients{Roles: []string{"moderator", "admin"}})
				n.ExcludeUsers = []string{"adm", "mod1"}
				return n
			}(), []string{"mod2"}},
		}
		for _, c := range cases {
			got := create(t, s, c.n).Recipients
			if !slices.Equal(got, c.want) {
				t.Errorf("%s: recipients %v, want %v", c.name, got, c.want)
			}
		}
		// A notification of organisation opco-b reaches its partner followers.
		n := notification("r5", notifclient.Recipients{})
		n.Org = "opco-b"
		if got, want := create(t, s, n).Recipients, []string{"adm", "pb1", "pb2"}; !slices.Equal(got, want) {
			t.Errorf("partner followers of their own organisation: %v, want %v", got, want)
		}
	})
}

func TestInboxOrderUnreadAndRead(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		s, c := newStore(t, db)
		ctx := context.Background()
		user(t, s, "alice", "moderator", "", "")
		user(t, s, "bob", "moderator", "", "")
		var ids []string
		for _, k := range []string{"a", "b", "c"} {
			ids = append(ids, create(t, s, notification(k, notifclient.Recipients{Users: []string{"alice"}})).ID)
			c.add(time.Second)
		}
		other := create(t, s, notification("d", notifclient.Recipients{Users: []string{"bob"}})).ID

		page, err := s.Inbox(ctx, "alice", 2, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 2 || page.Items[0].ID != ids[2] || page.Items[1].ID != ids[1] || page.UnreadCount != 3 || page.NextCursor == "" {
			t.Fatalf("first page: %+v", page)
		}
		cursor, _ := strconv.ParseInt(page.NextCursor, 10, 64)
		page, err = s.Inbox(ctx, "alice", 2, cursor)
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != ids[0] || page.NextCursor != "" {
			t.Fatalf("second page: %+v %v", page, err)
		}
		if page.Items[0].Actor.Sub != "actor" || page.Items[0].Read || page.Items[0].ReadAt != nil {
			t.Fatalf("item: %+v", page.Items[0])
		}

		if err := s.MarkRead(ctx, "alice", ids[0]); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkRead(ctx, "alice", ids[0]); err != nil {
			t.Fatalf("read again: %v", err)
		}
		if err := s.MarkRead(ctx, "alice", other); !errors.Is(err, ErrNotFound) {
			t.Fatalf("reading bob's notification: %v", err)
		}
		if err := s.MarkRead(ctx, "alice", "ntf_nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("reading an unknown notification: %v", err)
		}
		page, err = s.Inbox(ctx, "alice", 50, 0)
		if err != nil || page.UnreadCount != 2 || !page.Items[2].Read || page.Items[2].ReadAt == nil || page.Items[0].Read {
			t.Fatalf("after read: %+v %v", page, err)
		}
		bob, err := s.Inbox(ctx, "bob", 50, 0)
		if err != nil || bob.UnreadCount != 1 || len(bob.Items) != 1 {
			t.Fatalf("bob: %+v %v", bob, err)
		}
	})
}

func TestPreferences(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		s, _ := newStore(t, db)
		ctx := context.Background()
		user(t, s, "alice", "partner", "opco-a", "")
		p, err := s.Preferences(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if p.Email != "" || len(p.Events) != len(notifclient.Events) {
			t.Fatalf("defaults: %+v", p)
		}
		for _, e := range notifclient.Events {
			if p.Events[e] != defaultChannels() {
				t.Fatalf("default of %s: %+v", e, p.Events[e])
			}
		}
		daily := notifclient.Channels{InApp: true, Email: true, Teams: false, Frequency: notifclient.Daily}
		off := notifclient.Channels{InApp: true, Email: false, Teams: true, Frequency: notifclient.Immediate}
		p, err = s.SetPreferences(ctx, "alice", notifclient.Preferences{Email: "alice@example.org",
			Events: map[notifclient.Event]notifclient.Channels{notifclient.EventQuestion: daily, notifclient.EventDecision: off}})
		if err != nil {
			t.Fatal(err)
		}
		if p.Email != "alice@example.org" || p.Events[notifclient.EventQuestion] != daily || p.Events[notifclient.EventDecision] != off ||
			p.Events[notifclient.EventSubmitted] != defaultChannels() {
			t.Fatalf("after set: %+v", p)
		}
		// Setting one event keeps the others.
		p, err = s.SetPreferences(ctx, "alice", notifclient.Preferences{Email: "alice@example.org",
			Events: map[notifclient.Event]notifclient.Channels{notifclient.EventQuestion: defaultChannels()}})
		if err != nil || p.Events[notifclient.EventQuestion] != defaultChannels() || p.Events[notifclient.EventDecision] != off {
			t.Fatalf("partial update: %+v %v", p, err)
		}
		u, err := s.User(ctx, "alice")
		if err != nil || u.Address() != "alice@example.org" {
			t.Fatalf("address: %+v %v", u, err)
		}
		if _, err := s.SetPreferences(ctx, "nobody", notifclient.Preferences{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
	})
}

func TestFollows(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		s, c := newStore(t, db)
		ctx := context.Background()
		user(t, s, "alice", "partner", "opco-a", "")
		f, created, err := s.Follow(ctx, "alice", notifclient.Follow{RequestID: "req-1"})
		if err != nil || !created || f.RequestID != "req-1" || f.CreatedAt == nil {
			t.Fatalf("follow: %+v %v %v", f, created, err)
		}
		c.add(time.Minute)
		again, created, err := s.Follow(ctx, "alice", notifclient.Follow{RequestID: "req-1"})
		if err != nil || created || !again.CreatedAt.Equal(*f.CreatedAt) {
			t.Fatalf("follow again: %+v %v %v", again, created, err)
		}
		if _, _, err := s.Follow(ctx, "alice", notifclient.Follow{CodeRome: "M1805"}); err != nil {
			t.Fatal(err)
		}
		list, err := s.Follows(ctx, "alice")
		if err != nil || len(list) != 2 || list[0].RequestID != "req-1" || list[1].CodeRome != "M1805" {
			t.Fatalf("follows: %+v %v", list, err)
		}
		if err := s.Unfollow(ctx, "alice", notifclient.Follow{RequestID: "req-1"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Unfollow(ctx, "alice", notifclient.Follow{RequestID: "req-1"}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unfollow again: %v", err)
		}
		if list, err := s.Follows(ctx, "bob"); err != nil || len(list) != 0 {
			t.Fatalf("bob follows: %+v %v", list, err)
		}
	})
}

func TestEmailChannels(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		s, _ := newStore(t, db)
		ctx := context.Background()
		user(t, s, "immediate", "moderator", "", "imm@example.org")
		user(t, s, "daily", "moderator", "", "daily@example.org")
		user(t, s, "off", "moderator", "", "off@example.org")
		user(t, s, "noaddress", "moderator", "", "")
		set := func(sub string, ch notifclient.Channels) {
			if _, err := s.SetPreferences(ctx, sub, notifclient.Preferences{Email: sub + "@example.org",
				Events: map[notifclient.Event]notifclient.Channels{notifclient.EventSubmitted: ch}}); err != nil {
				t.Fatal(err)
			}
		}
		set("daily", notifclient.Channels{InApp: true, Email: true, Frequency: notifclient.Daily})
		set("off", notifclient.Channels{InApp: true, Email: false, Frequency: notifclient.Immediate})
		out := create(t, s, notification("n1", notifclient.Recipients{Roles: []string{"moderator"}}))
		if want := []string{"daily", "immediate", "noaddress", "off"}; !slices.Equal(out.Recipients, want) {
			t.Fatalf("recipients %v", out.Recipients)
		}
		mails, err := s.Outbox(ctx, out.ID)
		if err != nil || len(mails) != 1 || mails[0].Sub != "immediate" || mails[0].ToAddr != "imm@example.org" ||
			mails[0].Status != StatusPending || mails[0].MessageID != "<"+mails[0].ID+"@test.local>" {
			t.Fatalf("outbox: %+v %v", mails, err)
		}
		subs, err := s.DigestUsers(ctx, ChannelEmail)
		if err != nil || !slices.Equal(subs, []string{"daily"}) {
			t.Fatalf("digest users: %v %v", subs, err)
		}
	})
}

func TestClaimLeases(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		s, c := newStore(t, db)
		ctx := context.Background()
		const n = 20
		for i := range n {
			sub := "u" + string(rune('a'+i))
			user(t, s, sub, "partner", "opco-a", sub+"@example.org")
			create(t, s, notification("k"+sub, notifclient.Recipients{Users: []string{sub}}))
		}
		// Four claimers at once: every row goes to exactly one of them.
		var (
			mu   sync.Mutex
			seen = map[string]string{}
			wg   sync.WaitGroup
		)
		for w := range 4 {
			owner := "worker-" + string(rune('0'+w))
			wg.Go(func() {
				rows, err := s.Claim(ctx, ChannelEmail, owner, n, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for _, r := range rows {
					if prev, ok := seen[r.ID]; ok {
						t.Errorf("%s claimed by %s and %s", r.ID, prev, owner)
					}
					seen[r.ID] = owner
					if r.Attempts != 1 || r.LeaseOwner != owner {
						t.Errorf("claimed row: %+v", r)
					}
				}
			})
		}
		wg.Wait()
		if len(seen) != n {
			t.Fatalf("claimed %d rows, want %d", len(seen), n)
		}
		if rows, err := s.Claim(ctx, ChannelEmail, "late", n, time.Minute); err != nil || len(rows) != 0 {
			t.Fatalf("claim while leased: %d %v", len(rows), err)
		}
		// The leases expire (their owners crashed): the rows are due again,
		// and the old owner can no longer mark them.
		c.add(time.Minute + time.Second)
		rows, err := s.Claim(ctx, ChannelEmail, "rescuer", 1, time.Minute)
		if err != nil || len(rows) != 1 || rows[0].Attempts != 2 {
			t.Fatalf("claim after expiry: %+v %v", rows, err)
		}
		if ok, err := s.MarkSent(ctx, rows[0].ID, seen[rows[0].ID]); err != nil || ok {
			t.Fatalf("stale owner marked sent: %v %v", ok, err)
		}
		if ok, err := s.MarkSent(ctx, rows[0].ID, "rescuer"); err != nil || !ok {
			t.Fatalf("owner mark sent: %v %v", ok, err)
		}
		depth, err := s.OutboxDepth(ctx)
		if err != nil || depth[ChannelEmail] != n-1 || depth[ChannelTeams] != 0 {
			t.Fatalf("depth %v %v", depth, err)
		}
	})
}

func TestBackoffDeadLetterAndRetry(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		s, c := newStore(t, db)
		ctx := context.Background()
		user(t, s, "alice", "partner", "opco-a", "alice@example.org")
		id := create(t, s, notification("k", notifclient.Recipients{Users: []string{"alice"}})).ID
		claim := func() []OutboxRow {
			t.Helper()
			rows, err := s.Claim(ctx, ChannelEmail, "w", 10, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return rows
		}
		rows := claim()
		if len(rows) != 1 {
			t.Fatalf("claim: %+v", rows)
		}
		if ok, err := s.MarkFailed(ctx, rows[0].ID, "w", Failure{Cause: "451 try later", Delay: 30 * time.Second}); err != nil || !ok {
			t.Fatalf("mark failed: %v %v", ok, err)
		}
		if rows := claim(); len(rows) != 0 {
			t.Fatalf("claimed during backoff: %+v", rows)
		}
		c.add(30 * time.Second)
		rows = claim()
		if len(rows) != 1 || rows[0].Attempts != 2 {
			t.Fatalf("claim after backoff: %+v", rows)
		}
		if ok, err := s.MarkFailed(ctx, rows[0].ID, "w", Failure{Cause: "550 no such user", Dead: true}); err != nil || !ok {
			t.Fatalf("mark dead: %v %v", ok, err)
		}
		if rows := claim(); len(rows) != 0 {
			t.Fatalf("dead letter claimed: %+v", rows)
		}
		dl, err := s.DeadLetters(ctx, 50, 0)
		if err != nil || len(dl.Items) != 1 {
			t.Fatalf("dead letters: %+v %v", dl, err)
		}
		d := dl.Items[0]
		if d.NotificationID != id || d.To != "alice@example.org" || d.Attempts != 2 || d.LastError != "550 no such user" || d.DeadAt.IsZero() {
			t.Fatalf("dead letter: %+v", d)
		}
		if depth, err := s.OutboxDepth(ctx); err != nil || depth[ChannelEmail] != 0 {
			t.Fatalf("depth %v %v", depth, err)
		}
		r, err := s.Retry(ctx, d.ID)
		if err != nil || r.Status != StatusPending || r.Attempts != 0 || r.DeadAt != nil {
			t.Fatalf("retry: %+v %v", r, err)
		}
		if _, err := s.Retry(ctx, d.ID); !errors.Is(err, ErrNotDead) {
			t.Fatalf("retry a pending row: %v", err)
		}
		if _, err := s.Retry(ctx, "mail_nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("retry unknown: %v", err)
		}
		rows = claim()
		if len(rows) != 1 || rows[0].Attempts != 1 || rows[0].MessageID != d.MessageID {
			t.Fatalf("claim after retry: %+v", rows)
		}
	})
}

func TestDigestQueuesOneMailPerUser(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		s, c := newStore(t, db)
		ctx := context.Background()
		daily := map[notifclient.Event]notifclient.Channels{}
		for _, e := range notifclient.Events {
			daily[e] = notifclient.Channels{InApp: true, Email: true, Frequency: notifclient.Daily}
		}
		for _, sub := range []string{"alice", "bob"} {
			user(t, s, sub, "moderator", "", "")
			if _, err := s.SetPreferences(ctx, sub, notifclient.Preferences{Email: sub + "@example.org", Events: daily}); err != nil {
				t.Fatal(err)
			}
		}
		var ids []string
		for _, k := range []string{"1", "2", "3"} {
			ids = append(ids, create(t, s, notification(k, notifclient.Recipients{Users: []string{"alice"}})).ID)
			c.add(time.Second)
		}
		create(t, s, notification("4", notifclient.Recipients{Users: []string{"bob"}}))
		if rows, _ := s.Outbox(ctx, ""); len(rows) != 0 {
			t.Fatalf("immediate e-mails for daily users: %+v", rows)
		}
		subs, err := s.DigestUsers(ctx, ChannelEmail)
		if err != nil || !slices.Equal(subs, []string{"alice", "bob"}) {
			t.Fatalf("digest users %v %v", subs, err)
		}
		for _, sub := range subs {
			if ok, err := s.QueueDigest(ctx, ChannelEmail, sub); err != nil || !ok {
				t.Fatalf("queue %s: %v %v", sub, ok, err)
			}
		}
		if ok, err := s.QueueDigest(ctx, ChannelEmail, "alice"); err != nil || ok {
			t.Fatalf("queue again: %v %v", ok, err)
		}
		rows, err := s.Outbox(ctx, "")
		if err != nil || len(rows) != 2 || rows[0].Kind != KindDigest || rows[0].Sub != "alice" || rows[1].Sub != "bob" {
			t.Fatalf("digest rows: %+v %v", rows, err)
		}
		content, err := s.DigestContent(ctx, rows[0].ID)
		if err != nil || len(content) != 3 {
			t.Fatalf("content: %+v %v", content, err)
		}
		for i, n := range content {
			if n.ID != ids[i] {
				t.Fatalf("content order: %v", content)
			}
		}
		if subs, err := s.DigestUsers(ctx, ChannelEmail); err != nil || len(subs) != 0 {
			t.Fatalf("digest users after queueing: %v %v", subs, err)
		}
	})
}

func TestUsersPages(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		t.Parallel()
		s, c := newStore(t, db)
		ctx := context.Background()
		if none, err := s.Users(ctx, 2, ""); err != nil || none.Items == nil || len(none.Items) != 0 || none.NextCursor != "" {
			t.Fatalf("nobody known: %+v %v", none, err)
		}
		seen := c.now()
		for _, u := range []User{
			{Sub: "carol", Name: "Carol", Role: "moderator", TokenEmail: "carol@rome.example", EntraID: "oid-carol"},
			{Sub: "alice", Name: "Alice", Role: "partner", Org: "opco-a", TokenEmail: "alice@opco-a.fr"},
			{Sub: "bob", Role: "admin"},
			{Sub: "dave", Name: "Dave", Role: "partner", Org: "opco-b"},
		} {
			if err := s.TouchUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		c.add(time.Hour)
		// Seen again: the latest token wins, and the preferences' address overrides it.
		if err := s.TouchUser(ctx, User{Sub: "alice", Name: "Alice Martin", Role: "partner", Org: "opco-a", TokenEmail: "alice@opco-a.fr", EntraID: "oid-alice"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetPreferences(ctx, "dave", notifclient.Preferences{Email: "dave@opco-b.fr"}); err != nil {
			t.Fatal(err)
		}

		first, err := s.Users(ctx, 2, "")
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
		second, err := s.Users(ctx, 2, first.NextCursor)
		if err != nil || len(second.Items) != 2 || second.NextCursor != "" {
			t.Fatalf("second page: %+v %v", second, err)
		}
		if u := second.Items[0]; u != (notifclient.User{Sub: "carol", Name: "Carol", Role: "moderator", Email: "carol@rome.example", HasEntraID: true, LastSeenAt: seen}) {
			t.Fatalf("carol: %+v", u)
		}
		if u := second.Items[1]; u.Sub != "dave" || u.Email != "dave@opco-b.fr" || u.HasEntraID {
			t.Fatalf("dave: %+v", u)
		}
		all, err := s.Users(ctx, 50, "")
		if err != nil || len(all.Items) != 4 || all.NextCursor != "" {
			t.Fatalf("one page: %+v %v", all, err)
		}
		for _, bad := range []string{"!!", "="} {
			if _, err := s.Users(ctx, 2, bad); !errors.Is(err, ErrBadCursor) {
				t.Errorf("cursor %q: %v", bad, err)
			}
		}
	})
}
