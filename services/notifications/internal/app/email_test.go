package app_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/services/notifications/internal/app"
	"github.com/plateforme-rome/rome/services/notifications/internal/apptest"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// fakeMailer accepts e-mails, but fails the next sends with fail's errors,
// in order.
type fakeMailer struct {
	mu    sync.Mutex
	fail  []error
	sent  []app.Email
	tries int
}

func (m *fakeMailer) Send(_ context.Context, e app.Email) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tries++
	if len(m.fail) > 0 {
		err := m.fail[0]
		m.fail = m.fail[1:]
		return err
	}
	m.sent = append(m.sent, e)
	return nil
}

// deliver has the app deliver the due e-mails through m and checks how many
// were sent.
func deliver(t *testing.T, e *apptest.Env, m app.Mailer, want int) {
	t.Helper()
	if sent, err := e.App.DeliverEmails(context.Background(), m, "w1", 10); err != nil || sent != want {
		t.Fatalf("deliver: sent %d (want %d), err %v", sent, want, err)
	}
}

func TestDeliverEmailsOnceAndLeavesTeamsToTheWorker(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, sqlite(t), nil)
	e.Person("alice", "oid-alice", apptest.Everywhere)
	n := e.Notify(apptest.Question("k1", "Question sur votre demande", "alice"))
	m := &fakeMailer{}
	deliver(t, e, m, 1)
	deliver(t, e, m, 0)
	if len(m.sent) != 1 {
		t.Fatalf("sent: %+v", m.sent)
	}
	mail, row := m.sent[0], e.Row(n.ID, store.ChannelEmail)
	if row.Status != store.StatusSent || row.SentAt == nil || !row.SentAt.Equal(apptest.Start) || row.Attempts != 1 {
		t.Fatalf("row: %+v", row)
	}
	if mail.MessageID != row.MessageID || mail.To != "alice@example.org" || mail.Subject != "[ROME] Question sur votre demande" {
		t.Fatalf("e-mail: %+v, row %+v", mail, row)
	}
	for _, want := range []string{"Une question vous attend.", "Request: req-42", "Fiche: M1805", "Link: http://rome.test/requests/req-42"} {
		if !strings.Contains(mail.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, mail.Body)
		}
	}
	if teams := e.Row(n.ID, store.ChannelTeams); teams.Status != store.StatusPending || teams.Attempts != 0 || teams.LeaseOwner != "" {
		t.Fatalf("the e-mails' delivery touched the Teams row: %+v", teams)
	}
}

func TestDeliverEmailsBacksOffThenDeadLetters(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, sqlite(t), nil)
	ctx := context.Background()
	e.Person("alice", "", apptest.EmailNow)
	n := e.Notify(apptest.Question("k1", "Retry me", "alice"))
	busy := errors.New("451 try again later")
	m := &fakeMailer{fail: []error{busy, busy, busy}}

	deliver(t, e, m, 0)
	row := e.Row(n.ID, store.ChannelEmail)
	if row.Status != store.StatusPending || row.Attempts != 1 || row.LastError != busy.Error() ||
		!row.NextAttemptAt.Equal(apptest.Start.Add(apptest.Retry.Base)) {
		t.Fatalf("after the first failure: %+v", row)
	}
	e.Clock.Add(apptest.Retry.Base - 1)
	deliver(t, e, m, 0) // not due yet
	if m.tries != 1 {
		t.Fatalf("tried %d times during the backoff", m.tries)
	}
	e.Clock.Add(1)
	deliver(t, e, m, 0)
	if row := e.Row(n.ID, store.ChannelEmail); row.Attempts != 2 || !row.NextAttemptAt.Equal(e.Clock.Now().Add(2*apptest.Retry.Base)) {
		t.Fatalf("second backoff not doubled: %+v", row)
	}
	e.Clock.Add(2 * apptest.Retry.Base)
	deliver(t, e, m, 0)
	dead := e.Row(n.ID, store.ChannelEmail)
	if dead.Status != store.StatusDead || dead.Attempts != apptest.Retry.MaxAttempts || !dead.DeadAt.Equal(e.Clock.Now()) {
		t.Fatalf("after the last attempt: %+v", dead)
	}
	e.Clock.Add(apptest.Retry.Max)
	deliver(t, e, m, 0) // a dead letter is not tried again
	if m.tries != apptest.Retry.MaxAttempts {
		t.Fatalf("tried %d times, want %d", m.tries, apptest.Retry.MaxAttempts)
	}

	// An operator retries it: it goes out with its Message-ID.
	if _, err := e.App.RetryDeadLetter(ctx, dead.ID); err != nil {
		t.Fatal(err)
	}
	deliver(t, e, m, 1)
	if len(m.sent) != 1 || m.sent[0].MessageID != dead.MessageID {
		t.Fatalf("sent after retry: %+v", m.sent)
	}

	// A permanent refusal is a dead letter at once.
	refused := e.Notify(apptest.Question("k2", "Refused", "alice"))
	m.fail = []error{&app.PermanentError{Err: errors.New("550 no such user")}}
	deliver(t, e, m, 0)
	if row := e.Row(refused.ID, store.ChannelEmail); row.Status != store.StatusDead || row.Attempts != 1 || row.LastError != "550 no such user" {
		t.Fatalf("after a permanent refusal: %+v", row)
	}
}

// TestEmailsToAddresses: a person without an account (an idea's author) is told by e-mail
// at their address, once, with no inbox row, whatever anyone's preferences.
func TestEmailsToAddresses(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, sqlite(t), nil)
	n := e.Notify(notifclient.Notification{Key: "idea-reply-1", Event: notifclient.EventIdeaReply, Title: "Réponse à votre idée",
		Text: "Merci : la fiche M1805 sera revue.", Actor: notifclient.Actor{Sub: "mod"},
		To: notifclient.Recipients{Emails: []string{"auteur@example.org", "auteur@example.org"}}})
	if len(n.Recipients) != 0 {
		t.Fatalf("inbox recipients %v for an address", n.Recipients)
	}
	m := &fakeMailer{}
	deliver(t, e, m, 1)
	if mail := m.sent[0]; mail.To != "auteur@example.org" || !strings.Contains(mail.Body, "Merci : la fiche M1805 sera revue.") ||
		!strings.Contains(mail.Body, "because you wrote to the ROME team") {
		t.Fatalf("e-mail: %+v", mail)
	}
}
