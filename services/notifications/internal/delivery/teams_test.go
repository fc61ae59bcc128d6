package delivery

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

func TestRetryPolicy(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 5, Base: time.Second, Max: 5 * time.Second}
	cases := []struct {
		name       string
		attempt    int
		permanent  bool
		retryAfter time.Duration
		delay      time.Duration
		dead       bool
	}{
		{"first failure", 1, false, 0, time.Second, false},
		{"doubled", 2, false, 0, 2 * time.Second, false},
		{"doubled again", 3, false, 0, 4 * time.Second, false},
		{"capped", 4, false, 0, 5 * time.Second, false},
		{"last attempt", 5, false, 0, 5 * time.Second, true},
		{"permanent at once", 1, true, 0, time.Second, true},
		{"Retry-After beyond the backoff", 1, false, 3 * time.Second, 3 * time.Second, false},
		{"Retry-After beyond the cap", 4, false, time.Minute, time.Minute, false},
		{"Retry-After shorter than the backoff", 3, false, time.Second, 4 * time.Second, false},
	}
	for _, c := range cases {
		f := p.Failed(c.attempt, "boom", c.permanent, c.retryAfter)
		if f.Delay != c.delay || f.Dead != c.dead || f.Cause != "boom" {
			t.Errorf("%s: %+v, want delay %v dead %v", c.name, f, c.delay, c.dead)
		}
	}
}

// teamsRig is a store and its Teams channel, links resolved against
// http://rome.test.
type teamsRig struct {
	t     *testing.T
	store *store.Store
	teams *Teams
	cfg   TeamsConfig
}

var (
	teamsNow   = notifclient.Channels{InApp: true, Email: false, Teams: true, Frequency: notifclient.Immediate}
	teamsDaily = notifclient.Channels{InApp: true, Email: false, Teams: true, Frequency: notifclient.Daily}
	everywhere = notifclient.Channels{InApp: true, Email: true, Teams: true, Frequency: notifclient.Immediate}
)

func newTeamsRig(t *testing.T, db *gorm.DB, lease time.Duration) *teamsRig {
	t.Helper()
	st := store.New(db, "rome.test")
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	m, err := NewMetrics(st)
	if err != nil {
		t.Fatal(err)
	}
	cfg := TeamsConfig{
		Retry: RetryPolicy{MaxAttempts: 3, Base: backoff, Max: 4 * backoff}, Lease: lease,
		PublicURL: "http://rome.test/", InboxURL: "/v1/notifications",
	}
	return &teamsRig{t: t, store: st, teams: NewTeams(st, cfg, m, slog.New(slog.DiscardHandler)), cfg: cfg}
}

// user is a moderator whose token carried the Entra id "oid-<sub>", with an
// e-mail address and, for every event, the channels ch.
func (r *teamsRig) user(sub string, ch notifclient.Channels) {
	r.t.Helper()
	addUser(r.t, r.store, store.User{Sub: sub, Name: sub, Role: "moderator", EntraID: "oid-" + sub}, ch)
}

func (r *teamsRig) create(n notifclient.Notification) notifclient.Created {
	r.t.Helper()
	if n.Event == "" {
		n.Event, n.Actor = notifclient.EventQuestion, notifclient.Actor{Sub: "mod"}
	}
	out, _, err := r.store.Create(context.Background(), n, "hash-"+n.Key)
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

func (r *teamsRig) notify(key, title string, users ...string) notifclient.Created {
	r.t.Helper()
	return r.create(notifclient.Notification{Key: key, Title: title, To: notifclient.Recipients{Users: users}})
}

func (r *teamsRig) claim(owner string, want int) []notifclient.TeamsDelivery {
	r.t.Helper()
	ds, err := r.teams.Claim(context.Background(), owner, 20)
	if err != nil || len(ds) != want {
		r.t.Fatalf("claim by %s: %+v (want %d) %v", owner, ds, want, err)
	}
	return ds
}

func (r *teamsRig) report(id string, res notifclient.TeamsResult, want notifclient.TeamsOutcome) {
	r.t.Helper()
	got, err := r.teams.Report(context.Background(), id, res)
	if err != nil || got != want {
		r.t.Fatalf("report %+v: %+v %v, want %+v", res, got, err, want)
	}
}

// row is the Teams row of a notification.
func (r *teamsRig) row(notificationID string) store.OutboxRow {
	r.t.Helper()
	rows, err := r.store.Outbox(context.Background(), notificationID)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, row := range rows {
		if row.Channel == store.ChannelTeams {
			return row
		}
	}
	r.t.Fatalf("no Teams row for %s: %+v", notificationID, rows)
	return store.OutboxRow{}
}

func TestTeamsClaimComposesFeedNotifications(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		r := newTeamsRig(t, db, time.Minute)
		r.user("alice", teamsNow)
		r.user("bob", teamsDaily)
		long := "Première ligne\n" + strings.Repeat("une question détaillée ", 10)
		r.create(notifclient.Notification{Key: "k1", Title: "Question sur votre demande", Text: long, Link: "/requests/req-42",
			To: notifclient.Recipients{Users: []string{"alice"}}})
		r.create(notifclient.Notification{Key: "k2", Title: "Sans lien ni texte", To: notifclient.Recipients{Users: []string{"alice"}}})
		r.create(notifclient.Notification{Key: "k3", Title: "Lien absolu", Text: "Voir la demande", Link: "https://rome.example/requests/r1",
			To: notifclient.Recipients{Users: []string{"alice"}}})

		ds := r.claim("w1", 3)
		first := ds[0]
		if first.Kind != store.KindNotification || first.Recipient != "oid-alice" || first.Attempt != 1 ||
			first.Topic != "Question sur votre demande" || first.Link != "http://rome.test/requests/req-42" {
			t.Fatalf("delivery: %+v", first)
		}
		if utf8.RuneCountInString(first.Preview) != 150 || !strings.HasSuffix(first.Preview, "…") ||
			!strings.HasPrefix(first.Preview, "Première ligne une question détaillée une") {
			t.Fatalf("preview (%d runes): %q", utf8.RuneCountInString(first.Preview), first.Preview)
		}
		if ds[1].Preview != "Sans lien ni texte" || ds[1].Link != "http://rome.test/v1/notifications" {
			t.Fatalf("without text or link: %+v", ds[1])
		}
		if ds[2].Preview != "Voir la demande" || ds[2].Link != "https://rome.example/requests/r1" {
			t.Fatalf("absolute link: %+v", ds[2])
		}
		r.claim("w2", 0) // leased to w1

		// Bob's arrive in his daily digest: one feed notification.
		r.notify("k4", "Première question", "bob")
		r.notify("k5", "Deuxième question", "bob")
		r.claim("w1", 0)
		if n, err := NewDigests(r.store, Schedule{}, slog.New(slog.DiscardHandler)).Tick(context.Background()); err != nil || n != 1 {
			t.Fatalf("digests queued: %d %v", n, err)
		}
		digest := r.claim("w1", 1)[0]
		if digest.Kind != store.KindDigest || digest.Recipient != "oid-bob" || digest.Topic != "Your daily digest: 2 notification(s)" ||
			digest.Preview != "Première question · Deuxième question" || digest.Link != "http://rome.test/v1/notifications" {
			t.Fatalf("digest: %+v", digest)
		}
	})
}

func TestTeamsReports(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		r := newTeamsRig(t, db, time.Minute)
		r.user("alice", teamsNow)

		sent := r.notify("k1", "Sent", "alice")
		id := r.claim("w1", 1)[0].ID
		r.report(id, notifclient.TeamsResult{Owner: "w1"}, notifclient.TeamsOutcome{Status: store.StatusSent, Recorded: true})
		r.report(id, notifclient.TeamsResult{Owner: "w1"}, notifclient.TeamsOutcome{Status: store.StatusSent})
		if row := r.row(sent.ID); row.Status != store.StatusSent || row.SentAt == nil || row.Attempts != 1 {
			t.Fatalf("sent row: %+v", row)
		}

		// A transient failure backs off; Graph's Retry-After delays beyond it.
		retried := r.notify("k2", "Retried", "alice")
		id = r.claim("w1", 1)[0].ID
		start := time.Now()
		r.report(id, notifclient.TeamsResult{Owner: "w1", Error: "503 Service Unavailable"},
			notifclient.TeamsOutcome{Status: store.StatusPending, Recorded: true})
		row := r.row(retried.ID)
		if wait := row.NextAttemptAt.Sub(start); wait < backoff || wait > backoff+time.Second || row.LastError != "503 Service Unavailable" {
			t.Fatalf("after a 503: %+v (wait %v)", row, wait)
		}
		r.claim("w1", 0) // not due yet
		time.Sleep(time.Until(row.NextAttemptAt))
		if d := r.claim("w1", 1)[0]; d.ID != id || d.Attempt != 2 {
			t.Fatalf("second attempt: %+v", d)
		}
		start = time.Now()
		r.report(id, notifclient.TeamsResult{Owner: "w1", Error: "429 Too Many Requests", RetryAfterSeconds: 5},
			notifclient.TeamsOutcome{Status: store.StatusPending, Recorded: true})
		if wait := r.row(retried.ID).NextAttemptAt.Sub(start); wait < 5*time.Second || wait > 6*time.Second {
			t.Fatalf("Retry-After 5s, next attempt in %v", wait)
		}

		refused := r.notify("k3", "Refused", "alice")
		id = r.claim("w1", 1)[0].ID
		r.report(id, notifclient.TeamsResult{Owner: "w1", Error: "403 Forbidden", Permanent: true},
			notifclient.TeamsOutcome{Status: store.StatusDead, Recorded: true})
		if row := r.row(refused.ID); row.Status != store.StatusDead || row.Attempts != 1 || row.DeadAt == nil {
			t.Fatalf("refused row: %+v", row)
		}

		exhausted := r.notify("k4", "Exhausted", "alice")
		for attempt := 1; attempt <= r.cfg.Retry.MaxAttempts; attempt++ {
			time.Sleep(time.Until(r.row(exhausted.ID).NextAttemptAt))
			d := r.claim("w1", 1)[0]
			want := store.StatusPending
			if attempt == r.cfg.Retry.MaxAttempts {
				want = store.StatusDead
			}
			if d.Attempt != attempt {
				t.Fatalf("attempt %d claimed as %d", attempt, d.Attempt)
			}
			r.report(d.ID, notifclient.TeamsResult{Owner: "w1", Error: "500 Internal Server Error"}, notifclient.TeamsOutcome{Status: want, Recorded: true})
		}
		dl, err := r.store.DeadLetters(context.Background(), 10, 0)
		if err != nil || len(dl.Items) != 2 || dl.Items[0].Channel != store.ChannelTeams || dl.Items[0].Attempts != r.cfg.Retry.MaxAttempts {
			t.Fatalf("dead letters: %+v %v", dl, err)
		}
	})
}

func TestTeamsReportAfterLostLease(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		const lease = 200 * time.Millisecond
		r := newTeamsRig(t, db, lease)
		r.user("alice", everywhere)
		n := r.notify("k1", "Slow worker", "alice")
		id := r.claim("w1", 1)[0].ID
		time.Sleep(lease + 50*time.Millisecond)
		if d := r.claim("w2", 1)[0]; d.ID != id || d.Attempt != 2 {
			t.Fatalf("claim after the lease: %+v", d)
		}
		pending := notifclient.TeamsOutcome{Status: store.StatusPending}
		r.report(id, notifclient.TeamsResult{Owner: "w1"}, pending)
		r.report(id, notifclient.TeamsResult{Owner: "w1", Error: "503", Permanent: true}, pending)
		if row := r.row(n.ID); row.Status != store.StatusPending || row.LeaseOwner != "w2" || row.LastError != "" {
			t.Fatalf("row changed by w1: %+v", row)
		}
		r.report(id, notifclient.TeamsResult{Owner: "w2"}, notifclient.TeamsOutcome{Status: store.StatusSent, Recorded: true})

		rows, err := r.store.Outbox(context.Background(), n.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, unknown := range []string{"teams_nope", rows[0].ID} { // rows[0] is the e-mail
			if _, err := r.teams.Report(context.Background(), unknown, notifclient.TeamsResult{Owner: "w2"}); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("report on %s: %v", unknown, err)
			}
		}
	})
}

func TestDigestsQueueOnePerUserAndChannel(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		r := newTeamsRig(t, db, time.Minute)
		r.user("alice", notifclient.Channels{InApp: true, Email: true, Teams: true, Frequency: notifclient.Daily})
		r.notify("k1", "One", "alice")
		r.notify("k2", "Two", "alice")
		digests := NewDigests(r.store, Schedule{}, slog.New(slog.DiscardHandler))
		if n, err := digests.Tick(context.Background()); err != nil || n != 2 {
			t.Fatalf("queued %d %v, want an e-mail and a Teams digest", n, err)
		}
		if n, err := digests.Tick(context.Background()); err != nil || n != 0 {
			t.Fatalf("queued again: %d %v", n, err)
		}
		rows, err := r.store.Outbox(context.Background(), "")
		if err != nil || len(rows) != 2 || rows[0].Channel != store.ChannelEmail || rows[1].Channel != store.ChannelTeams ||
			rows[0].Kind != store.KindDigest || rows[1].Kind != store.KindDigest {
			t.Fatalf("digests: %+v %v", rows, err)
		}
	})
}
