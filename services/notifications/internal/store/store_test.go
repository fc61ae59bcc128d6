package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
)

// at is when the tests' rows are written, unless they say otherwise.
var at = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// run runs fn on a fresh, migrated store of each dialect, in parallel with
// the other tests.
func run(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		t.Parallel()
		s := New(db)
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		fn(t, s)
	})
}

// user records a user with an e-mail address in their preferences when email
// is not empty.
func user(t *testing.T, s *Store, sub, role, org, email string) {
	t.Helper()
	ctx := context.Background()
	if err := s.UpsertUser(ctx, User{Sub: sub, Name: sub, Role: role, Org: org, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if email != "" {
		if err := s.SetPreferenceEmail(ctx, sub, email); err != nil {
			t.Fatal(err)
		}
	}
}

// notify stores the notification key, created at created, in the inbox of
// recipients, with an e-mail delivery to each of them.
func notify(t *testing.T, s *Store, key string, created time.Time, recipients ...string) Notification {
	t.Helper()
	n := Notification{ID: "ntf_" + key, Key: key, BodyHash: "hash-" + key, Event: "submitted", RequestID: "req-1",
		Title: "Request " + key, Actor: notifclient.Actor{Sub: "actor", Name: "Actor"}, Recipients: recipients, CreatedAt: created}
	var deliveries []OutboxRow
	for _, sub := range recipients {
		deliveries = append(deliveries, email(n.ID, sub, created))
	}
	if err := s.InsertNotification(context.Background(), n, deliveries, nil); err != nil {
		t.Fatal(err)
	}
	return n
}

// email is a pending e-mail of notification id to sub, due at due.
func email(notificationID, sub string, due time.Time) OutboxRow {
	id := "mail_" + notificationID + "_" + sub
	return OutboxRow{ID: id, MessageID: "<" + id + "@rome.test>", Channel: ChannelEmail, Kind: KindNotification,
		NotificationID: notificationID, Sub: sub, ToAddr: sub + "@example.org", Status: StatusPending, NextAttemptAt: due, CreatedAt: due}
}

func TestInsertNotificationAndReadItBack(t *testing.T) {
	run(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		n := Notification{ID: "ntf_1", Key: "k1", BodyHash: "h1", Event: "question", RequestID: "req-1", CodeRome: "M1805",
			Org: "opco-a", Title: "Question", Text: "Précisez", Link: "/requests/req-1",
			Actor: notifclient.Actor{Sub: "mod", Name: "Mod", Role: "moderator"}, Recipients: []string{"alice", "bob"}, CreatedAt: at}
		teams := OutboxRow{ID: "teams_1", MessageID: "teams_1", Channel: ChannelTeams, Kind: KindNotification, NotificationID: "ntf_1",
			Sub: "alice", ToAddr: "oid-alice", Status: StatusPending, NextAttemptAt: at, CreatedAt: at}
		item := DigestItem{NotificationID: "ntf_1", Sub: "bob", Channel: ChannelEmail, CreatedAt: at}
		if err := s.InsertNotification(ctx, n, []OutboxRow{email("ntf_1", "alice", at), teams}, []DigestItem{item}); err != nil {
			t.Fatal(err)
		}
		for _, read := range []func() (Notification, error){
			func() (Notification, error) { return s.NotificationByKey(ctx, "k1") },
			func() (Notification, error) { return s.Notification(ctx, "ntf_1") },
		} {
			got, err := read()
			if err != nil || got.Actor != n.Actor || !slices.Equal(got.Recipients, n.Recipients) || !got.CreatedAt.Equal(at) || got.Text != n.Text {
				t.Fatalf("read back: %+v %v", got, err)
			}
		}
		for _, sub := range n.Recipients {
			if entries, _, err := s.Inbox(ctx, sub, 10, 0); err != nil || len(entries) != 1 || entries[0].ID != "ntf_1" {
				t.Fatalf("%s's inbox: %+v %v", sub, entries, err)
			}
		}
		if rows, err := s.Outbox(ctx, "ntf_1"); err != nil || len(rows) != 2 || rows[0].Channel != ChannelEmail || rows[1].ID != "teams_1" {
			t.Fatalf("deliveries: %+v %v", rows, err)
		}
		if subs, err := s.DigestUsers(ctx, ChannelEmail); err != nil || !slices.Equal(subs, []string{"bob"}) {
			t.Fatalf("digest users: %v %v", subs, err)
		}

		// The key is unique: a second notification with it stores nothing.
		again := n
		again.ID, again.Recipients = "ntf_2", []string{"carol"}
		if err := s.InsertNotification(ctx, again, nil, nil); err == nil {
			t.Fatal("a second notification with the same key was stored")
		}
		if entries, _, err := s.Inbox(ctx, "carol", 10, 0); err != nil || len(entries) != 0 {
			t.Fatalf("carol's inbox: %+v %v", entries, err)
		}

		// Nobody told: an empty list (answered as []), not null.
		if err := s.InsertNotification(ctx, Notification{ID: "ntf_3", Key: "k3", Recipients: []string{}, CreatedAt: at}, nil, nil); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Notification(ctx, "ntf_3"); err != nil || got.Recipients == nil || len(got.Recipients) != 0 {
			t.Fatalf("no recipients read back as %#v %v", got.Recipients, err)
		}
		if _, err := s.NotificationByKey(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown key: %v", err)
		}
	})
}

func TestAudienceQueries(t *testing.T) {
	run(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		user(t, s, "mod", "moderator", "", "")
		user(t, s, "adm", "admin", "", "")
		user(t, s, "pa", "partner", "opco-a", "")
		user(t, s, "pb", "partner", "opco-b", "")
		user(t, s, "ma", "moderator", "opco-a", "") // an organisation on a moderator's token
		for _, f := range []Follow{
			{Sub: "adm", Kind: FollowRequest, Target: "req-1"}, {Sub: "pb", Kind: FollowFiche, Target: "M1805"},
			{Sub: "pa", Kind: FollowRequest, Target: "req-2"}, {Sub: "ghost", Kind: FollowRequest, Target: "req-1"}, // ghost is unknown
		} {
			f.CreatedAt = at
			if _, _, err := s.AddFollow(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
		subs := func(users []User, err error) []string {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, u := range users {
				out = append(out, u.Sub)
			}
			slices.Sort(out)
			return out
		}
		cases := []struct {
			name      string
			got, want []string
		}{
			{"by subject", subs(s.UsersBySub(ctx, []string{"pa", "ghost"})), []string{"pa"}},
			{"by role", subs(s.UsersByRole(ctx, []string{"moderator", "admin"})), []string{"adm", "ma", "mod"}},
			{"members", subs(s.Members(ctx, "partner", []string{"opco-a"})), []string{"pa"}},
			{"followers", subs(s.Followers(ctx, "req-1", "M1805")), []string{"adm", "pb"}},
			{"followers of a fiche", subs(s.Followers(ctx, "", "M1805")), []string{"pb"}},
			{"no subject", subs(s.UsersBySub(ctx, nil)), nil},
			{"no role", subs(s.UsersByRole(ctx, nil)), nil},
			{"no organisation", subs(s.Members(ctx, "partner", nil)), nil},
			{"nothing followed", subs(s.Followers(ctx, "", "")), nil},
		}
		for _, c := range cases {
			if !slices.Equal(c.got, c.want) {
				t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
			}
		}
	})
}

func TestInboxPagesAndRead(t *testing.T) {
	run(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		var ids []string
		for i, k := range []string{"a", "b", "c"} {
			ids = append(ids, notify(t, s, k, at.Add(time.Duration(i)*time.Second), "alice").ID)
		}
		other := notify(t, s, "d", at, "bob").ID

		page, more, err := s.Inbox(ctx, "alice", 2, 0)
		if err != nil || !more || len(page) != 2 || page[0].ID != ids[2] || page[1].ID != ids[1] {
			t.Fatalf("first page: %+v %v %v", page, more, err)
		}
		rest, more, err := s.Inbox(ctx, "alice", 2, page[1].Seq)
		if err != nil || more || len(rest) != 1 || rest[0].ID != ids[0] || rest[0].ReadAt != nil || rest[0].Actor.Sub != "actor" {
			t.Fatalf("second page: %+v %v %v", rest, more, err)
		}

		readAt := at.Add(time.Hour)
		if err := s.MarkRead(ctx, "alice", ids[0], readAt); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkRead(ctx, "alice", ids[0], readAt.Add(time.Hour)); err != nil {
			t.Fatalf("read again: %v", err)
		}
		for _, id := range []string{other, "ntf_nope"} { // bob's, and no one's
			if err := s.MarkRead(ctx, "alice", id, readAt); !errors.Is(err, ErrNotFound) {
				t.Fatalf("reading %s: %v", id, err)
			}
		}
		all, _, err := s.Inbox(ctx, "alice", 50, 0)
		if err != nil || all[2].ReadAt == nil || !all[2].ReadAt.Equal(readAt) || all[0].ReadAt != nil {
			t.Fatalf("after read: %+v %v", all, err)
		}
		if n, err := s.UnreadCount(ctx, "alice"); err != nil || n != 2 {
			t.Fatalf("alice's unread: %d %v", n, err)
		}
		if n, err := s.UnreadCount(ctx, "bob"); err != nil || n != 1 {
			t.Fatalf("bob's unread: %d %v", n, err)
		}
	})
}

func TestPreferenceRows(t *testing.T) {
	run(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		user(t, s, "alice", "partner", "opco-a", "")
		user(t, s, "bob", "partner", "opco-a", "")
		save := func(rows ...Preference) {
			t.Helper()
			if err := s.SavePreferences(ctx, rows); err != nil {
				t.Fatal(err)
			}
		}
		save(Preference{Sub: "alice", Event: "question", Email: true, Frequency: "daily"},
			Preference{Sub: "alice", Event: "decision", Teams: true, Frequency: "immediate"},
			Preference{Sub: "bob", Event: "question", Frequency: "immediate"})
		save(Preference{Sub: "alice", Event: "question", Teams: true, Frequency: "immediate"}) // replaces the first
		save()
		rows, err := s.Preferences(ctx, "alice")
		slices.SortFunc(rows, func(a, b Preference) int { return strings.Compare(a.Event, b.Event) })
		want := []Preference{
			{Sub: "alice", Event: "decision", Teams: true, Frequency: "immediate"},
			{Sub: "alice", Event: "question", Teams: true, Frequency: "immediate"},
		}
		if err != nil || !slices.Equal(rows, want) {
			t.Fatalf("alice's rows: %+v %v", rows, err)
		}
		rows, err = s.EventPreferences(ctx, "question", []string{"bob", "carol"})
		if err != nil || len(rows) != 1 || rows[0].Sub != "bob" {
			t.Fatalf("choices for question: %+v %v", rows, err)
		}
		if rows, err := s.EventPreferences(ctx, "question", nil); err != nil || rows != nil {
			t.Fatalf("nobody's choices: %+v %v", rows, err)
		}
		if err := s.SetPreferenceEmail(ctx, "alice", "alice@example.org"); err != nil {
			t.Fatal(err)
		}
		if u, err := s.User(ctx, "alice"); err != nil || u.PrefEmail != "alice@example.org" {
			t.Fatalf("address: %+v %v", u, err)
		}
		if err := s.SetPreferenceEmail(ctx, "nobody", "x@example.org"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
	})
}

func TestFollows(t *testing.T) {
	run(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f, created, err := s.AddFollow(ctx, Follow{Sub: "alice", Kind: FollowRequest, Target: "req-1", CreatedAt: at})
		if err != nil || !created || f.Target != "req-1" || !f.CreatedAt.Equal(at) {
			t.Fatalf("follow: %+v %v %v", f, created, err)
		}
		again, created, err := s.AddFollow(ctx, Follow{Sub: "alice", Kind: FollowRequest, Target: "req-1", CreatedAt: at.Add(time.Minute)})
		if err != nil || created || !again.CreatedAt.Equal(at) {
			t.Fatalf("follow again: %+v %v %v", again, created, err)
		}
		if _, _, err := s.AddFollow(ctx, Follow{Sub: "alice", Kind: FollowFiche, Target: "M1805", CreatedAt: at.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		list, err := s.Follows(ctx, "alice")
		if err != nil || len(list) != 2 || list[0].Target != "req-1" || list[1].Target != "M1805" {
			t.Fatalf("follows: %+v %v", list, err)
		}
		if err := s.RemoveFollow(ctx, "alice", FollowRequest, "req-1"); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveFollow(ctx, "alice", FollowRequest, "req-1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unfollow again: %v", err)
		}
		if list, err := s.Follows(ctx, "bob"); err != nil || len(list) != 0 {
			t.Fatalf("bob follows: %+v %v", list, err)
		}
	})
}

func TestFollowerCounts(t *testing.T) {
	run(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		user(t, s, "pa", "partner", "opco-a", "")
		user(t, s, "pb", "partner", "opco-b", "")
		user(t, s, "mod", "moderator", "", "")
		for _, f := range []Follow{
			{Sub: "pa", Kind: FollowFiche, Target: "M1805"}, {Sub: "pb", Kind: FollowFiche, Target: "M1805"},
			{Sub: "mod", Kind: FollowFiche, Target: "M1805"}, {Sub: "mod", Kind: FollowFiche, Target: "F1703"},
			{Sub: "ghost", Kind: FollowFiche, Target: "F1703"}, // ghost is unknown: nobody the notifications reach
			{Sub: "pa", Kind: FollowRequest, Target: "K2111"},  // a request whose id looks like a code ROME
		} {
			f.CreatedAt = at
			if _, _, err := s.AddFollow(ctx, f); err != nil {
				t.Fatal(err)
			}
		}
		counts, err := s.FollowerCounts(ctx, []string{"M1805", "F1703", "K2111"})
		if err != nil || len(counts) != 2 || counts["M1805"] != 3 || counts["F1703"] != 1 {
			t.Fatalf("counts: %v %v", counts, err)
		}
		if counts, err := s.FollowerCounts(ctx, nil); err != nil || counts != nil {
			t.Fatalf("no fiche: %v %v", counts, err)
		}
	})
}

func TestUsers(t *testing.T) {
	run(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if none, more, err := s.UsersAfter(ctx, "", 2); err != nil || len(none) != 0 || more {
			t.Fatalf("nobody known: %+v %v %v", none, more, err)
		}
		for _, sub := range []string{"carol", "alice", "bob", "dave"} {
			user(t, s, sub, "partner", "opco-a", "")
		}
		// Seen again: the new token's claims replace the old ones; the
		// preferences' address stays.
		if err := s.SetPreferenceEmail(ctx, "alice", "alice@example.org"); err != nil {
			t.Fatal(err)
		}
		later := at.Add(time.Hour)
		if err := s.UpsertUser(ctx, User{Sub: "alice", Name: "Alice Martin", Role: "partner", Org: "opco-b", TokenEmail: "a.martin@opco-b.fr",
			EntraID: "oid-2", UpdatedAt: later}); err != nil {
			t.Fatal(err)
		}
		want := User{Sub: "alice", Name: "Alice Martin", Role: "partner", Org: "opco-b", TokenEmail: "a.martin@opco-b.fr",
			PrefEmail: "alice@example.org", EntraID: "oid-2"}
		if u, err := s.User(ctx, "alice"); err != nil || !u.UpdatedAt.Equal(later) || func() User { u.UpdatedAt = time.Time{}; return u }() != want {
			t.Fatalf("alice: %+v %v", u, err)
		}
		if _, err := s.User(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}

		var subs []string
		after := ""
		for pages := 1; ; pages++ {
			page, more, err := s.UsersAfter(ctx, after, 3)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range page {
				subs = append(subs, u.Sub)
			}
			if !more {
				if pages != 2 {
					t.Errorf("%d pages of 3 for 4 users", pages)
				}
				break
			}
			after = page[len(page)-1].Sub
		}
		if !slices.Equal(subs, []string{"alice", "bob", "carol", "dave"}) {
			t.Fatalf("users by subject: %v", subs)
		}
	})
}

func TestClaimLeases(t *testing.T) {
	run(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		const n = 20
		for i := range n {
			sub := "u" + string(rune('a'+i))
			notify(t, s, "k"+sub, at, sub)
		}
		until := at.Add(time.Minute)
		// Four claimers at once: every row goes to exactly one of them.
		var (
			mu   sync.Mutex
			seen = map[string]string{}
			wg   sync.WaitGroup
		)
		for w := range 4 {
			owner := "worker-" + string(rune('0'+w))
			wg.Go(func() {
				rows, err := s.Claim(ctx, ChannelEmail, owner, n, at, until)
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
					if r.Attempts != 1 || r.LeaseOwner != owner || !r.LeaseUntil.Equal(until) {
						t.Errorf("claimed row: %+v", r)
					}
				}
			})
		}
		wg.Wait()
		if len(seen) != n {
			t.Fatalf("claimed %d rows, want %d", len(seen), n)
		}
		if rows, err := s.Claim(ctx, ChannelEmail, "late", n, until, until.Add(time.Minute)); err != nil || len(rows) != 0 {
			t.Fatalf("claim while leased: %d %v", len(rows), err)
		}
		// The leases end (their owners crashed): the rows are due again, and
		// the old owner can no longer mark them.
		later := until.Add(time.Second)
		rows, err := s.Claim(ctx, ChannelEmail, "rescuer", 1, later, later.Add(time.Minute))
		if err != nil || len(rows) != 1 || rows[0].Attempts != 2 {
			t.Fatalf("claim after expiry: %+v %v", rows, err)
		}
		if ok, err := s.MarkSent(ctx, rows[0].ID, seen[rows[0].ID], later); err != nil || ok {
			t.Fatalf("stale owner marked sent: %v %v", ok, err)
		}
		if ok, err := s.MarkSent(ctx, rows[0].ID, "rescuer", later); err != nil || !ok {
			t.Fatalf("owner mark sent: %v %v", ok, err)
		}
		if r, err := s.OutboxRow(ctx, ChannelEmail, rows[0].ID); err != nil || r.Status != StatusSent || !r.SentAt.Equal(later) {
			t.Fatalf("sent row: %+v %v", r, err)
		}
		depth, err := s.OutboxDepth(ctx)
		if err != nil || depth[ChannelEmail] != n-1 || depth[ChannelTeams] != 0 {
			t.Fatalf("depth %v %v", depth, err)
		}
	})
}

// Two replicas read the same due row; one claims it, fails it and sets its next attempt
// a minute later before the other's claim: the other does not claim it (it would try
// again at once, and count one attempt more).
func TestClaimChecksTheRowIsStillDue(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := dbtest.URL(t, d)
			first, secondDB := New(dbtest.Connect(t, url)), dbtest.Connect(t, url)
			if err := first.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			row := notify(t, first, "k", at, "alice")
			var interleaved sync.Once
			// Runs right after the second replica's read of the due rows.
			err := secondDB.Callback().Query().After("gorm:query").Register("test:first replica fails the row", func(tx *gorm.DB) {
				interleaved.Do(func() {
					rows, err := first.Claim(ctx, ChannelEmail, "first", 1, at, at.Add(time.Minute))
					if err != nil || len(rows) != 1 {
						t.Errorf("first claim: %+v %v", rows, err)
						return
					}
					if ok, err := first.MarkFailed(ctx, rows[0].ID, "first", Failure{Cause: "421 try again later", NextAttemptAt: at.Add(time.Minute)}); !ok || err != nil {
						t.Errorf("mark failed: %v %v", ok, err)
					}
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			rows, err := New(secondDB).Claim(ctx, ChannelEmail, "second", 10, at, at.Add(time.Minute))
			if err != nil || len(rows) != 0 {
				t.Fatalf("the second replica claimed %+v (%v), whose next attempt is a minute away", rows, err)
			}
			if r, err := first.OutboxRow(ctx, ChannelEmail, email(row.ID, "alice", at).ID); err != nil || r.Attempts != 1 || r.LeaseUntil != nil {
				t.Fatalf("row after one failed attempt: %+v %v", r, err)
			}
		})
	}
}

func TestFailuresDeadLettersAndRevive(t *testing.T) {
	run(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		id := notify(t, s, "k", at, "alice").ID
		claim := func(now time.Time) []OutboxRow {
			t.Helper()
			rows, err := s.Claim(ctx, ChannelEmail, "w", 10, now, now.Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			return rows
		}
		rows := claim(at)
		retryAt := at.Add(30 * time.Second)
		if ok, err := s.MarkFailed(ctx, rows[0].ID, "w", Failure{Cause: "451 try later", NextAttemptAt: retryAt}); err != nil || !ok {
			t.Fatalf("mark failed: %v %v", ok, err)
		}
		if rows := claim(retryAt.Add(-time.Second)); len(rows) != 0 {
			t.Fatalf("claimed before its next attempt: %+v", rows)
		}
		rows = claim(retryAt)
		if len(rows) != 1 || rows[0].Attempts != 2 || rows[0].LastError != "451 try later" {
			t.Fatalf("claim at its next attempt: %+v", rows)
		}
		deadAt := retryAt.Add(time.Second)
		if ok, err := s.MarkFailed(ctx, rows[0].ID, "w", Failure{Cause: "550 no such user", NextAttemptAt: deadAt, DeadAt: &deadAt}); err != nil || !ok {
			t.Fatalf("mark dead: %v %v", ok, err)
		}
		if rows := claim(deadAt.Add(time.Hour)); len(rows) != 0 {
			t.Fatalf("dead letter claimed: %+v", rows)
		}
		dead, more, err := s.DeadLetters(ctx, 50, 0)
		if err != nil || more || len(dead) != 1 {
			t.Fatalf("dead letters: %+v %v", dead, err)
		}
		d := dead[0]
		if d.NotificationID != id || d.Status != StatusDead || d.Attempts != 2 || d.LastError != "550 no such user" || !d.DeadAt.Equal(deadAt) {
			t.Fatalf("dead letter: %+v", d)
		}
		if depth, err := s.OutboxDepth(ctx); err != nil || depth[ChannelEmail] != 0 {
			t.Fatalf("depth %v %v", depth, err)
		}
		revivedAt := deadAt.Add(time.Hour)
		r, err := s.Revive(ctx, d.ID, revivedAt)
		if err != nil || r.Status != StatusPending || r.Attempts != 0 || r.DeadAt != nil || !r.NextAttemptAt.Equal(revivedAt) {
			t.Fatalf("revive: %+v %v", r, err)
		}
		if r, err := s.Revive(ctx, d.ID, revivedAt); !errors.Is(err, ErrNotDead) || r.Status != StatusPending {
			t.Fatalf("revive a pending row: %+v %v", r, err)
		}
		if _, err := s.Revive(ctx, "mail_nope", revivedAt); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revive unknown: %v", err)
		}
		rows = claim(revivedAt)
		if len(rows) != 1 || rows[0].Attempts != 1 || rows[0].MessageID != d.MessageID {
			t.Fatalf("claim after revival: %+v", rows)
		}
	})
}

func TestDeadLettersPages(t *testing.T) {
	run(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for _, k := range []string{"a", "b", "c"} {
			notify(t, s, k, at, "alice")
		}
		rows, err := s.Claim(ctx, ChannelEmail, "w", 10, at, at.Add(time.Minute))
		if err != nil || len(rows) != 3 {
			t.Fatalf("claim: %+v %v", rows, err)
		}
		for _, r := range rows {
			if _, err := s.MarkFailed(ctx, r.ID, "w", Failure{Cause: "550", NextAttemptAt: at, DeadAt: &at}); err != nil {
				t.Fatal(err)
			}
		}
		first, more, err := s.DeadLetters(ctx, 2, 0)
		if err != nil || !more || len(first) != 2 || first[0].ID != rows[2].ID || first[1].ID != rows[1].ID {
			t.Fatalf("first page: %+v %v %v", first, more, err)
		}
		last, more, err := s.DeadLetters(ctx, 2, first[1].Seq)
		if err != nil || more || len(last) != 1 || last[0].ID != rows[0].ID {
			t.Fatalf("last page: %+v %v %v", last, more, err)
		}
	})
}

func TestQueueDigestTakesItemsOnce(t *testing.T) {
	run(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		var ids []string
		for i, k := range []string{"3", "1", "2"} {
			n := Notification{ID: "ntf_" + k, Key: k, Title: "Title " + k, Recipients: []string{"alice"}, CreatedAt: at.Add(time.Duration(i) * time.Minute)}
			item := DigestItem{NotificationID: n.ID, Sub: "alice", Channel: ChannelEmail, CreatedAt: n.CreatedAt}
			if err := s.InsertNotification(ctx, n, nil, []DigestItem{item}); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, n.ID)
		}
		items, err := s.WaitingDigestItems(ctx, ChannelEmail, "alice")
		if err != nil || len(items) != 3 {
			t.Fatalf("waiting items: %+v %v", items, err)
		}
		if teams, err := s.WaitingDigestItems(ctx, ChannelTeams, "alice"); err != nil || len(teams) != 0 {
			t.Fatalf("waiting Teams items: %+v %v", teams, err)
		}
		// Two schedulers at once with the same items: one digest is queued.
		var (
			wg     sync.WaitGroup
			queued = make(chan string, 2)
		)
		for _, id := range []string{"mail_d1", "mail_d2"} {
			digest := OutboxRow{ID: id, MessageID: "<" + id + "@rome.test>", Channel: ChannelEmail, Kind: KindDigest, Sub: "alice",
				ToAddr: "alice@example.org", Status: StatusPending, NextAttemptAt: at, CreatedAt: at}
			wg.Go(func() {
				ok, err := s.QueueDigest(ctx, digest, items)
				if err != nil {
					t.Error(err)
				}
				if ok {
					queued <- digest.ID
				}
			})
		}
		wg.Wait()
		close(queued)
		var winners []string
		for id := range queued {
			winners = append(winners, id)
		}
		if len(winners) != 1 {
			t.Fatalf("digests queued: %v", winners)
		}
		if rows, err := s.Outbox(ctx, ""); err != nil || len(rows) != 1 || rows[0].ID != winners[0] {
			t.Fatalf("outbox: %+v %v", rows, err)
		}
		content, err := s.DigestContent(ctx, winners[0])
		if err != nil || len(content) != 3 || content[0].ID != ids[0] || content[1].ID != ids[1] || content[2].ID != ids[2] {
			t.Fatalf("content, oldest first: %+v %v", content, err)
		}
		if subs, err := s.DigestUsers(ctx, ChannelEmail); err != nil || len(subs) != 0 {
			t.Fatalf("digest users after queueing: %v %v", subs, err)
		}
	})
}
