package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
)

// teamsUser records a user as the API does from a token carrying an Entra
// object id (empty: none), with an e-mail address and, for every event, the
// channels ch.
func teamsUser(t *testing.T, s *Store, sub, entraID string, ch notifclient.Channels) {
	t.Helper()
	ctx := context.Background()
	if err := s.TouchUser(ctx, User{Sub: sub, Name: sub, Role: "moderator", EntraID: entraID}); err != nil {
		t.Fatal(err)
	}
	p := notifclient.Preferences{Email: sub + "@example.org", Events: map[notifclient.Event]notifclient.Channels{}}
	for _, e := range notifclient.Events {
		p.Events[e] = ch
	}
	if _, err := s.SetPreferences(ctx, sub, p); err != nil {
		t.Fatal(err)
	}
}

func byChannel(rows []OutboxRow, channel string) []OutboxRow {
	var out []OutboxRow
	for _, r := range rows {
		if r.Channel == channel {
			out = append(out, r)
		}
	}
	return out
}

func TestMigrationV2KeepsV1Data(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		ctx := context.Background()
		if err := database.Migrate(ctx, db, Component, Migrations[:1]); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		err := database.ExecAll(db,
			`INSERT INTO users (sub, name, role, org, token_email, pref_email, updated_at)
				VALUES ('alice', 'Alice', 'moderator', '', 'alice@example.org', '', '2026-03-01 08:00:00')`,
			`INSERT INTO notifications (id, idem_key, body_hash, event, request_id, code_rome, org, title, text, link, actor, recipients, created_at)
				VALUES ('ntf_1', 'k1', 'h1', 'submitted', 'req-1', '', '', 'Waiting', '', '', '{}', '["alice"]', '2026-03-01 08:00:00'),
				       ('ntf_2', 'k2', 'h2', 'submitted', 'req-1', '', '', 'Queued', '', '', '{}', '["alice"]', '2026-03-01 08:00:00'),
				       ('ntf_3', 'k3', 'h3', 'submitted', 'req-1', '', '', 'Immediate', '', '', '{}', '["alice"]', '2026-03-01 08:00:00')`,
			`INSERT INTO outbox (id, message_id, kind, notification_id, sub, to_addr, status, attempts, next_attempt_at, lease_owner, last_error, created_at)
				VALUES ('mail_digest', '<mail_digest@test.local>', 'digest', '', 'alice', 'alice@example.org', 'pending', 0, '2026-03-01 08:00:00', '', '', '2026-03-01 08:00:00'),
				       ('mail_now', '<mail_now@test.local>', 'notification', 'ntf_3', 'alice', 'alice@example.org', 'pending', 0, '2026-03-01 08:00:00', '', '', '2026-03-01 08:00:00')`,
			`INSERT INTO digest_items (notification_id, sub, outbox_id, created_at)
				VALUES ('ntf_1', 'alice', '', '2026-03-01 08:00:00'), ('ntf_2', 'alice', 'mail_digest', '2026-03-01 08:00:00')`,
		)
		if err != nil {
			t.Fatal(err)
		}

		s := New(db, "test.local")
		s.now = func() time.Time { return at.Add(time.Hour) }
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("v2 on v1 data: %v", err)
		}
		u, err := s.User(ctx, "alice")
		if err != nil || u.EntraID != "" || u.Address() != "alice@example.org" {
			t.Fatalf("user after v2: %+v %v", u, err)
		}
		rows, err := s.Outbox(ctx, "")
		if err != nil || len(rows) != 2 || rows[0].Channel != ChannelEmail || rows[1].Channel != ChannelEmail {
			t.Fatalf("v1 outbox rows after v2: %+v %v", rows, err)
		}
		// The queued digest keeps its item; the waiting item is an e-mail one.
		if content, err := s.DigestContent(ctx, "mail_digest"); err != nil || len(content) != 1 || content[0].ID != "ntf_2" {
			t.Fatalf("queued digest after v2: %+v %v", content, err)
		}
		if subs, err := s.DigestUsers(ctx, ChannelEmail); err != nil || !slices.Equal(subs, []string{"alice"}) {
			t.Fatalf("e-mail digest users: %v %v", subs, err)
		}
		if subs, err := s.DigestUsers(ctx, ChannelTeams); err != nil || len(subs) != 0 {
			t.Fatalf("Teams digest users: %v %v", subs, err)
		}
		// The same notification may now wait for alice's Teams digest too.
		if err := db.Create(&digestItem{NotificationID: "ntf_1", Sub: "alice", Channel: ChannelTeams, CreatedAt: at}).Error; err != nil {
			t.Fatalf("Teams item beside the e-mail one: %v", err)
		}
		if ok, err := s.QueueDigest(ctx, ChannelEmail, "alice"); err != nil || !ok {
			t.Fatalf("queue the migrated items: %v %v", ok, err)
		}
		claimed, err := s.Claim(ctx, ChannelEmail, "w", 10, time.Minute)
		if err != nil || len(claimed) != 3 {
			t.Fatalf("claim the e-mails after v2: %+v %v", claimed, err)
		}
		if content, err := s.DigestContent(ctx, claimed[2].ID); err != nil || len(content) != 1 || content[0].ID != "ntf_1" {
			t.Fatalf("new digest of the migrated item: %+v %v", content, err)
		}
	})
}

func TestTeamsDeliveriesNeedPreferenceAndEntraID(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		s, _ := newStore(t, db)
		ctx := context.Background()
		teamsNow := notifclient.Channels{InApp: true, Email: true, Teams: true, Frequency: notifclient.Immediate}
		teamsOnly := notifclient.Channels{InApp: true, Email: false, Teams: true, Frequency: notifclient.Immediate}
		teamsDaily := notifclient.Channels{InApp: true, Email: true, Teams: true, Frequency: notifclient.Daily}
		teamsUser(t, s, "both", "oid-both", teamsNow)
		teamsUser(t, s, "feed", "oid-feed", teamsOnly)
		teamsUser(t, s, "noid", "", teamsNow)
		teamsUser(t, s, "daily", "oid-daily", teamsDaily)
		// A user who never chose: e-mail only, Teams is opt-in.
		user(t, s, "default", "moderator", "", "default@example.org")
		if err := s.TouchUser(ctx, User{Sub: "default", Role: "moderator", EntraID: "oid-default"}); err != nil {
			t.Fatal(err)
		}
		p, err := s.Preferences(ctx, "default")
		if err != nil || p.Events[notifclient.EventSubmitted].Teams || !p.Events[notifclient.EventSubmitted].Email {
			t.Fatalf("default preferences: %+v %v", p, err)
		}

		n := create(t, s, notification("n1", notifclient.Recipients{Roles: []string{"moderator"}}))
		rows, err := s.Outbox(ctx, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		teams := byChannel(rows, ChannelTeams)
		if len(teams) != 2 || teams[0].Sub != "both" || teams[1].Sub != "feed" {
			t.Fatalf("Teams rows: %+v", teams)
		}
		for _, r := range teams {
			if r.ToAddr != "oid-"+r.Sub || r.Kind != KindNotification || r.Status != StatusPending || !strings.HasPrefix(r.ID, "teams_") {
				t.Fatalf("Teams row: %+v", r)
			}
		}
		var mailed []string
		for _, r := range byChannel(rows, ChannelEmail) {
			mailed = append(mailed, r.Sub)
		}
		if want := []string{"both", "default", "noid"}; !slices.Equal(mailed, want) {
			t.Fatalf("e-mails to %v, want %v", mailed, want)
		}

		for _, channel := range Channels {
			if subs, err := s.DigestUsers(ctx, channel); err != nil || !slices.Equal(subs, []string{"daily"}) {
				t.Fatalf("%s digest users: %v %v", channel, subs, err)
			}
			if ok, err := s.QueueDigest(ctx, channel, "daily"); err != nil || !ok {
				t.Fatalf("queue the %s digest: %v %v", channel, ok, err)
			}
		}
		digests, err := s.Outbox(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		digests = slices.DeleteFunc(digests, func(r OutboxRow) bool { return r.Kind != KindDigest })
		if len(digests) != 2 || digests[0].Channel != ChannelEmail || digests[0].ToAddr != "daily@example.org" ||
			digests[1].Channel != ChannelTeams || digests[1].ToAddr != "oid-daily" {
			t.Fatalf("digests: %+v", digests)
		}
		for _, d := range digests {
			if content, err := s.DigestContent(ctx, d.ID); err != nil || len(content) != 1 || content[0].ID != n.ID {
				t.Fatalf("%s digest content: %+v %v", d.Channel, content, err)
			}
		}
	})
}

func TestTeamsDigestWaitsForAnEntraID(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		s, _ := newStore(t, db)
		ctx := context.Background()
		teamsUser(t, s, "alice", "oid-alice", notifclient.Channels{InApp: true, Teams: true, Frequency: notifclient.Daily})
		create(t, s, notification("n1", notifclient.Recipients{Users: []string{"alice"}}))
		// Her next token has no Entra id: the item waits, as an e-mail item
		// waits for an address.
		if err := s.TouchUser(ctx, User{Sub: "alice", Role: "moderator"}); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.QueueDigest(ctx, ChannelTeams, "alice"); err != nil || ok {
			t.Fatalf("queued without an Entra id: %v %v", ok, err)
		}
		if subs, err := s.DigestUsers(ctx, ChannelTeams); err != nil || !slices.Equal(subs, []string{"alice"}) {
			t.Fatalf("waiting: %v %v", subs, err)
		}
	})
}

func TestClaimTakesOneChannel(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		s, _ := newStore(t, db)
		ctx := context.Background()
		teamsUser(t, s, "alice", "oid-alice", notifclient.Channels{InApp: true, Email: true, Teams: true, Frequency: notifclient.Immediate})
		create(t, s, notification("n1", notifclient.Recipients{Users: []string{"alice"}}))
		depth, err := s.OutboxDepth(ctx)
		if err != nil || depth[ChannelEmail] != 1 || depth[ChannelTeams] != 1 {
			t.Fatalf("depth: %v %v", depth, err)
		}
		for _, channel := range Channels {
			rows, err := s.Claim(ctx, channel, "w-"+channel, 10, time.Minute)
			if err != nil || len(rows) != 1 || rows[0].Channel != channel {
				t.Fatalf("claim %s: %+v %v", channel, rows, err)
			}
		}
	})
}

func TestLeaseOwnerReports(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		s, c := newStore(t, db)
		ctx := context.Background()
		teamsUser(t, s, "alice", "oid-alice", notifclient.Channels{InApp: true, Teams: true, Frequency: notifclient.Immediate})
		create(t, s, notification("n1", notifclient.Recipients{Users: []string{"alice"}}))
		first, err := s.Claim(ctx, ChannelTeams, "w1", 1, time.Minute)
		if err != nil || len(first) != 1 {
			t.Fatalf("claim: %+v %v", first, err)
		}
		id := first[0].ID
		if _, err := s.OutboxRow(ctx, ChannelEmail, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Teams row as an e-mail: %v", err)
		}
		for _, bad := range []string{"teams_\x00", "teams_\xff", "teams_nope"} {
			if _, err := s.OutboxRow(ctx, ChannelTeams, bad); !errors.Is(err, ErrNotFound) {
				t.Fatalf("row %q: %v", bad, err)
			}
		}

		// w1's lease expires and w2 claims the row: w1's reports change nothing.
		c.add(time.Minute + time.Second)
		if again, err := s.Claim(ctx, ChannelTeams, "w2", 1, time.Minute); err != nil || len(again) != 1 || again[0].Attempts != 2 {
			t.Fatalf("claim after expiry: %+v %v", again, err)
		}
		if ok, err := s.MarkSent(ctx, id, "w1"); err != nil || ok {
			t.Fatalf("w1 marked sent: %v %v", ok, err)
		}
		if ok, err := s.MarkFailed(ctx, id, "w1", Failure{Cause: "late", Dead: true}); err != nil || ok {
			t.Fatalf("w1 marked failed: %v %v", ok, err)
		}
		// PostgreSQL refuses NUL in TEXT: the cause is stored without it, cut.
		cause := "Graph said \x00" + strings.Repeat("é", 2*maxCause)
		if ok, err := s.MarkFailed(ctx, id, "w2", Failure{Cause: cause, Delay: time.Minute}); err != nil || !ok {
			t.Fatalf("w2 marked failed: %v %v", ok, err)
		}
		// The attempt is reported: reporting it again changes nothing.
		if ok, err := s.MarkSent(ctx, id, "w2"); err != nil || ok {
			t.Fatalf("second report recorded: %v %v", ok, err)
		}
		r, err := s.OutboxRow(ctx, ChannelTeams, id)
		if err != nil || r.Status != StatusPending || !r.NextAttemptAt.Equal(c.now().Add(time.Minute)) ||
			utf8.RuneCountInString(r.LastError) != maxCause || strings.ContainsRune(r.LastError, 0) {
			t.Fatalf("row after w2's failure: %+v %v", r, err)
		}
	})
}

func TestTeamsDeadLetters(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		s, _ := newStore(t, db)
		ctx := context.Background()
		teamsUser(t, s, "alice", "oid-alice", notifclient.Channels{InApp: true, Email: true, Teams: true, Frequency: notifclient.Immediate})
		n := create(t, s, notification("n1", notifclient.Recipients{Users: []string{"alice"}}))
		for _, channel := range Channels {
			rows, err := s.Claim(ctx, channel, "w", 1, time.Minute)
			if err != nil || len(rows) != 1 {
				t.Fatalf("claim %s: %+v %v", channel, rows, err)
			}
			if ok, err := s.MarkFailed(ctx, rows[0].ID, "w", Failure{Cause: channel + " refused", Dead: true}); err != nil || !ok {
				t.Fatalf("dead %s: %v %v", channel, ok, err)
			}
		}
		dl, err := s.DeadLetters(ctx, 50, 0)
		if err != nil || len(dl.Items) != 2 {
			t.Fatalf("dead letters: %+v %v", dl, err)
		}
		teams, mail := dl.Items[0], dl.Items[1]
		if teams.Channel != ChannelTeams || teams.To != "oid-alice" || teams.MessageID != "" || teams.NotificationID != n.ID ||
			teams.LastError != "teams refused" {
			t.Fatalf("Teams dead letter: %+v", teams)
		}
		if mail.Channel != ChannelEmail || mail.To != "alice@example.org" || mail.MessageID != "<"+mail.ID+"@test.local>" {
			t.Fatalf("e-mail dead letter: %+v", mail)
		}
		if r, err := s.Retry(ctx, teams.ID); err != nil || r.Status != StatusPending || r.Channel != ChannelTeams {
			t.Fatalf("retry the Teams dead letter: %+v %v", r, err)
		}
		if rows, err := s.Claim(ctx, ChannelTeams, "w", 1, time.Minute); err != nil || len(rows) != 1 || rows[0].Attempts != 1 {
			t.Fatalf("claim after retry: %+v %v", rows, err)
		}
	})
}

func TestTouchUserRefreshesTokenClaims(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		s, _ := newStore(t, db)
		ctx := context.Background()
		if err := s.TouchUser(ctx, User{Sub: "alice", Role: "partner", Org: "opco-a", TokenEmail: "alice@opco-a.fr", EntraID: "oid-1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetPreferences(ctx, "alice", notifclient.Preferences{Email: "alice@example.org"}); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchUser(ctx, User{Sub: "alice", Role: "partner", Org: "opco-a", TokenEmail: "a.martin@opco-a.fr", EntraID: "oid-2"}); err != nil {
			t.Fatal(err)
		}
		u, err := s.User(ctx, "alice")
		if err != nil || u.TokenEmail != "a.martin@opco-a.fr" || u.EntraID != "oid-2" || u.PrefEmail != "alice@example.org" {
			t.Fatalf("user: %+v %v", u, err)
		}
	})
}
