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

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
)

func TestMigrationV2KeepsV1Data(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		t.Parallel()
		ctx := context.Background()
		if err := database.Migrate(ctx, db, Component, Migrations[:1]); err != nil {
			t.Fatal(err)
		}
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

		s := New(db)
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("v2 on v1 data: %v", err)
		}
		u, err := s.User(ctx, "alice")
		if err != nil || u.EntraID != "" || u.TokenEmail != "alice@example.org" {
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
		if err := db.Create(&DigestItem{NotificationID: "ntf_1", Sub: "alice", Channel: ChannelTeams, CreatedAt: at}).Error; err != nil {
			t.Fatalf("Teams item beside the e-mail one: %v", err)
		}
		items, err := s.WaitingDigestItems(ctx, ChannelEmail, "alice")
		if err != nil || len(items) != 1 {
			t.Fatalf("waiting e-mail items after v2: %+v %v", items, err)
		}
		digest := email("", "alice", at)
		digest.ID, digest.MessageID, digest.Kind = "mail_digest2", "<mail_digest2@test.local>", KindDigest
		if ok, err := s.QueueDigest(ctx, digest, items); err != nil || !ok {
			t.Fatalf("queue the migrated items: %v %v", ok, err)
		}
		claimed, err := s.Claim(ctx, ChannelEmail, "w", 10, at, at.Add(time.Minute))
		if err != nil || len(claimed) != 3 {
			t.Fatalf("claim the e-mails after v2: %+v %v", claimed, err)
		}
		if content, err := s.DigestContent(ctx, claimed[2].ID); err != nil || len(content) != 1 || content[0].ID != "ntf_1" {
			t.Fatalf("new digest of the migrated item: %+v %v", content, err)
		}
	})
}

func TestClaimsAndReportsByChannelAndOwner(t *testing.T) {
	run(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		n := Notification{ID: "ntf_1", Key: "k1", Recipients: []string{"alice"}, CreatedAt: at}
		row := OutboxRow{ID: "teams_1", MessageID: "teams_1", Channel: ChannelTeams, Kind: KindNotification, NotificationID: n.ID,
			Sub: "alice", ToAddr: "oid-alice", Status: StatusPending, NextAttemptAt: at, CreatedAt: at}
		if err := s.InsertNotification(ctx, n, []OutboxRow{email(n.ID, "alice", at), row}, nil); err != nil {
			t.Fatal(err)
		}
		for _, channel := range Channels { // one channel's claim takes its rows only
			if rows, err := s.Claim(ctx, channel, "w-"+channel, 10, at.Add(-time.Second), at); err != nil || len(rows) != 0 {
				t.Fatalf("claim %s before due: %+v %v", channel, rows, err)
			}
		}
		if rows, err := s.Claim(ctx, ChannelEmail, "w-email", 10, at, at.Add(time.Minute)); err != nil || len(rows) != 1 || rows[0].Channel != ChannelEmail {
			t.Fatalf("claim e-mails: %+v %v", rows, err)
		}
		first, err := s.Claim(ctx, ChannelTeams, "w1", 10, at, at.Add(time.Minute))
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
		later := at.Add(time.Minute + time.Second)
		if again, err := s.Claim(ctx, ChannelTeams, "w2", 1, later, later.Add(time.Minute)); err != nil || len(again) != 1 || again[0].Attempts != 2 {
			t.Fatalf("claim after expiry: %+v %v", again, err)
		}
		if ok, err := s.MarkSent(ctx, id, "w1", later); err != nil || ok {
			t.Fatalf("w1 marked sent: %v %v", ok, err)
		}
		if ok, err := s.MarkFailed(ctx, id, "w1", Failure{Cause: "late", NextAttemptAt: later, DeadAt: &later}); err != nil || ok {
			t.Fatalf("w1 marked failed: %v %v", ok, err)
		}
		// PostgreSQL refuses NUL in TEXT: the cause is stored without it, cut.
		cause := "Graph said \x00" + strings.Repeat("é", 2*maxCause)
		if ok, err := s.MarkFailed(ctx, id, "w2", Failure{Cause: cause, NextAttemptAt: later.Add(time.Minute)}); err != nil || !ok {
			t.Fatalf("w2 marked failed: %v %v", ok, err)
		}
		// The attempt is reported: reporting it again changes nothing.
		if ok, err := s.MarkSent(ctx, id, "w2", later); err != nil || ok {
			t.Fatalf("second report recorded: %v %v", ok, err)
		}
		r, err := s.OutboxRow(ctx, ChannelTeams, id)
		if err != nil || r.Status != StatusPending || !r.NextAttemptAt.Equal(later.Add(time.Minute)) ||
			utf8.RuneCountInString(r.LastError) != maxCause || strings.ContainsRune(r.LastError, 0) {
			t.Fatalf("row after w2's failure: %+v %v", r, err)
		}
	})
}
