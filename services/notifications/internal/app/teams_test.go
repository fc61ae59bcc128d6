package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/services/notifications/internal/app"
	"github.com/plateforme-rome/rome/services/notifications/internal/apptest"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// claim has owner claim the due Teams deliveries and checks how many it got.
func claim(t *testing.T, e *apptest.Env, owner string, want int) []notifclient.TeamsDelivery {
	t.Helper()
	ds, err := e.App.ClaimTeams(context.Background(), owner, 20)
	if err != nil || len(ds) != want {
		t.Fatalf("claim by %s: %+v (want %d) %v", owner, ds, want, err)
	}
	return ds
}

// report reports res on the delivery id and checks the outcome.
func report(t *testing.T, e *apptest.Env, id string, res notifclient.TeamsResult, want notifclient.TeamsOutcome) {
	t.Helper()
	if got, err := e.App.ReportTeams(context.Background(), id, res); err != nil || got != want {
		t.Fatalf("report %+v: %+v %v, want %+v", res, got, err, want)
	}
}

func TestTeamsClaimComposesFeedNotifications(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, sqlite(t), nil)
	e.Person("alice", "oid-alice", apptest.TeamsNow)
	e.Person("bob", "oid-bob", apptest.TeamsDaily)
	long := "Première ligne\n" + strings.Repeat("une question détaillée ", 10)
	for _, n := range []notifclient.Notification{
		{Key: "k1", Title: "Question sur votre demande", Text: long, Link: "/requests/req-42"},
		{Key: "k2", Title: "Sans lien ni texte"},
		{Key: "k3", Title: "Lien absolu", Text: "Voir la demande", Link: "https://rome.example/requests/r1"},
	} {
		n.Event, n.Actor, n.To = notifclient.EventQuestion, notifclient.Actor{Sub: "mod"}, notifclient.Recipients{Users: []string{"alice"}}
		e.Notify(n)
	}

	ds := claim(t, e, "w1", 3)
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
	claim(t, e, "w2", 0) // leased to w1

	// Bob's arrive in his daily digest: one feed notification.
	e.Notify(apptest.Question("k4", "Première question", "bob"))
	e.Clock.Add(time.Second)
	e.Notify(apptest.Question("k5", "Deuxième question", "bob"))
	claim(t, e, "w1", 0)
	if n, err := e.App.QueueDigests(context.Background(), e.Clock.Now().Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("digests queued: %d %v", n, err)
	}
	digest := claim(t, e, "w1", 1)[0]
	if digest.Kind != store.KindDigest || digest.Recipient != "oid-bob" || digest.Topic != "Your daily digest: 2 notification(s)" ||
		digest.Preview != "Première question · Deuxième question" || digest.Link != "http://rome.test/v1/notifications" {
		t.Fatalf("digest: %+v", digest)
	}
}

func TestTeamsReports(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, sqlite(t), nil)
	e.Person("alice", "oid-alice", apptest.TeamsNow)

	sent := e.Notify(apptest.Question("k1", "Sent", "alice"))
	id := claim(t, e, "w1", 1)[0].ID
	report(t, e, id, notifclient.TeamsResult{Owner: "w1"}, notifclient.TeamsOutcome{Status: store.StatusSent, Recorded: true})
	report(t, e, id, notifclient.TeamsResult{Owner: "w1"}, notifclient.TeamsOutcome{Status: store.StatusSent})
	if row := e.Row(sent.ID, store.ChannelTeams); row.Status != store.StatusSent || row.SentAt == nil || row.Attempts != 1 {
		t.Fatalf("sent row: %+v", row)
	}

	// A transient failure backs off; Graph's Retry-After delays beyond it.
	retried := e.Notify(apptest.Question("k2", "Retried", "alice"))
	id = claim(t, e, "w1", 1)[0].ID
	report(t, e, id, notifclient.TeamsResult{Owner: "w1", Error: "503 Service Unavailable"},
		notifclient.TeamsOutcome{Status: store.StatusPending, Recorded: true})
	row := e.Row(retried.ID, store.ChannelTeams)
	if !row.NextAttemptAt.Equal(e.Clock.Now().Add(apptest.Retry.Base)) || row.LastError != "503 Service Unavailable" {
		t.Fatalf("after a 503: %+v", row)
	}
	claim(t, e, "w1", 0) // not due yet
	e.Clock.Add(apptest.Retry.Base)
	if d := claim(t, e, "w1", 1)[0]; d.ID != id || d.Attempt != 2 {
		t.Fatalf("second attempt: %+v", d)
	}
	const retryAfter = 5 * time.Minute // beyond the backoff (2 min) and its cap (4 min)
	report(t, e, id, notifclient.TeamsResult{Owner: "w1", Error: "429 Too Many Requests", RetryAfterSeconds: int(retryAfter.Seconds())},
		notifclient.TeamsOutcome{Status: store.StatusPending, Recorded: true})
	if next := e.Row(retried.ID, store.ChannelTeams).NextAttemptAt; !next.Equal(e.Clock.Now().Add(retryAfter)) {
		t.Fatalf("Retry-After %v, next attempt at %v (now %v)", retryAfter, next, e.Clock.Now())
	}

	refused := e.Notify(apptest.Question("k3", "Refused", "alice"))
	id = claim(t, e, "w1", 1)[0].ID
	report(t, e, id, notifclient.TeamsResult{Owner: "w1", Error: "403 Forbidden", Permanent: true},
		notifclient.TeamsOutcome{Status: store.StatusDead, Recorded: true})
	if row := e.Row(refused.ID, store.ChannelTeams); row.Status != store.StatusDead || row.Attempts != 1 || row.DeadAt == nil {
		t.Fatalf("refused row: %+v", row)
	}

	exhausted := e.Row(e.Notify(apptest.Question("k4", "Exhausted", "alice")).ID, store.ChannelTeams)
	for attempt := 1; attempt <= apptest.Retry.MaxAttempts; attempt++ {
		e.Clock.Add(e.Row(exhausted.NotificationID, store.ChannelTeams).NextAttemptAt.Sub(e.Clock.Now()))
		d := claim(t, e, "w1", 1)[0]
		want := store.StatusPending
		if attempt == apptest.Retry.MaxAttempts {
			want = store.StatusDead
		}
		if d.ID != exhausted.ID || d.Attempt != attempt {
			t.Fatalf("attempt %d claimed as %+v", attempt, d)
		}
		report(t, e, d.ID, notifclient.TeamsResult{Owner: "w1", Error: "500 Internal Server Error"}, notifclient.TeamsOutcome{Status: want, Recorded: true})
	}
}

func TestTeamsReportAfterLostLease(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, sqlite(t), nil)
	e.Person("alice", "oid-alice", apptest.Everywhere)
	n := e.Notify(apptest.Question("k1", "Slow worker", "alice"))
	id := claim(t, e, "w1", 1)[0].ID
	e.Clock.Add(apptest.Lease + time.Second)
	if d := claim(t, e, "w2", 1)[0]; d.ID != id || d.Attempt != 2 {
		t.Fatalf("claim after the lease: %+v", d)
	}
	pending := notifclient.TeamsOutcome{Status: store.StatusPending}
	report(t, e, id, notifclient.TeamsResult{Owner: "w1"}, pending)
	report(t, e, id, notifclient.TeamsResult{Owner: "w1", Error: "503", Permanent: true}, pending)
	if row := e.Row(n.ID, store.ChannelTeams); row.Status != store.StatusPending || row.LeaseOwner != "w2" || row.LastError != "" {
		t.Fatalf("row changed by w1: %+v", row)
	}
	report(t, e, id, notifclient.TeamsResult{Owner: "w2"}, notifclient.TeamsOutcome{Status: store.StatusSent, Recorded: true})

	for _, unknown := range []string{"teams_nope", e.Row(n.ID, store.ChannelEmail).ID} {
		if _, err := e.App.ReportTeams(context.Background(), unknown, notifclient.TeamsResult{Owner: "w2"}); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("report on %s: %v", unknown, err)
		}
	}
}
