package app_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/services/notifications/internal/app"
	"github.com/plateforme-rome/rome/services/notifications/internal/apptest"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	p := app.RetryPolicy{MaxAttempts: 5, Base: time.Second, Max: 5 * time.Second}
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
		if delay, dead := p.Failed(c.attempt, c.permanent, c.retryAfter); delay != c.delay || dead != c.dead {
			t.Errorf("%s: delay %v dead %v, want %v %v", c.name, delay, dead, c.delay, c.dead)
		}
	}
}

func TestDeadLettersOfEveryChannel(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, sqlite(t), nil)
	ctx := context.Background()
	e.Person("alice", "oid-alice", apptest.Everywhere)
	n := e.Notify(apptest.Question("n1", "Question", "alice"))
	mailer := &fakeMailer{fail: []error{&app.PermanentError{Err: errors.New("550 no such user")}}}
	if sent, err := e.App.DeliverEmails(ctx, mailer, "w", 10); err != nil || sent != 0 {
		t.Fatalf("deliver: %d %v", sent, err)
	}
	teams, err := e.App.ClaimTeams(ctx, "w", 10)
	if err != nil || len(teams) != 1 {
		t.Fatalf("claim: %+v %v", teams, err)
	}
	if _, err := e.App.ReportTeams(ctx, teams[0].ID, notifclient.TeamsResult{Owner: "w", Error: "403 Forbidden", Permanent: true}); err != nil {
		t.Fatal(err)
	}

	dl, err := e.App.DeadLetters(ctx, 1, 0)
	if err != nil || len(dl.Items) != 1 || dl.NextCursor == "" {
		t.Fatalf("first page: %+v %v", dl, err)
	}
	byTeams := dl.Items[0]
	if byTeams.Channel != store.ChannelTeams || byTeams.To != "oid-alice" || byTeams.MessageID != "" || byTeams.NotificationID != n.ID ||
		byTeams.LastError != "403 Forbidden" || byTeams.Attempts != 1 || !byTeams.DeadAt.Equal(apptest.Start) || byTeams.Kind != store.KindNotification {
		t.Fatalf("Teams dead letter: %+v", byTeams)
	}
	cursor, err := strconv.ParseInt(dl.NextCursor, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	dl, err = e.App.DeadLetters(ctx, 1, cursor)
	if err != nil || len(dl.Items) != 1 || dl.NextCursor != "" {
		t.Fatalf("last page: %+v %v", dl, err)
	}
	byMail := dl.Items[0]
	if byMail.Channel != store.ChannelEmail || byMail.To != "alice@example.org" || byMail.MessageID != "<"+byMail.ID+"@rome.test>" ||
		byMail.LastError != "550 no such user" {
		t.Fatalf("e-mail dead letter: %+v", byMail)
	}

	e.Clock.Add(time.Hour)
	r, err := e.App.RetryDeadLetter(ctx, byTeams.ID)
	if err != nil || r.ID != byTeams.ID || r.Status != store.StatusPending || !r.NextAttemptAt.Equal(e.Clock.Now()) {
		t.Fatalf("retry: %+v %v", r, err)
	}
	if r, err := e.App.RetryDeadLetter(ctx, byTeams.ID); !errors.Is(err, app.ErrNotDead) || r.Status != store.StatusPending {
		t.Fatalf("retry a pending delivery: %+v %v", r, err)
	}
	if _, err := e.App.RetryDeadLetter(ctx, "teams_nope"); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("retry an unknown delivery: %v", err)
	}
	if again, err := e.App.ClaimTeams(ctx, "w", 10); err != nil || len(again) != 1 || again[0].ID != byTeams.ID || again[0].Attempt != 1 {
		t.Fatalf("claim after retry: %+v %v", again, err)
	}
}
