package delivery

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
	"github.com/plateforme-rome/rome/tools/smtpsink"
)

const backoff = 100 * time.Millisecond

// rig is a store, the real SMTP sink and a dispatcher sending to it.
type rig struct {
	t     *testing.T
	store *store.Store
	sink  *smtpsink.Sink
	cfg   Config
	m     *Metrics
}

func newRig(t *testing.T) *rig {
	t.Helper()
	st := store.New(dbtest.Open(t, database.SQLite), Domain("ROME <notifications@rome.test>"))
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	sink, err := smtpsink.Start("127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	m, err := NewMetrics(st)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		From: "ROME <notifications@rome.test>", Retry: RetryPolicy{MaxAttempts: 3, Base: backoff, Max: 4 * backoff},
		Lease: 10 * time.Second, Poll: 20 * time.Millisecond, Batch: 10, PublicURL: "http://rome.test/",
	}
	return &rig{t: t, store: st, sink: sink, cfg: cfg, m: m}
}

func (r *rig) dispatcher(owner string) *Dispatcher {
	return NewDispatcher(r.store, SMTP{Addr: r.sink.SMTPAddr(), Timeout: 5 * time.Second}, r.cfg, owner, r.m, slog.New(slog.DiscardHandler))
}

// user is a moderator with an e-mail address and, for every event, the
// channels ch.
func (r *rig) user(sub string, ch notifclient.Channels) {
	r.t.Helper()
	addUser(r.t, r.store, store.User{Sub: sub, Name: sub, Role: "moderator"}, ch)
}

// addUser records u as the API does from a token, with the address
// <sub>@example.org and, for every event, the channels ch.
func addUser(t *testing.T, st *store.Store, u store.User, ch notifclient.Channels) {
	t.Helper()
	ctx := context.Background()
	if err := st.TouchUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	p := notifclient.Preferences{Email: u.Sub + "@example.org", Events: map[notifclient.Event]notifclient.Channels{}}
	for _, e := range notifclient.Events {
		p.Events[e] = ch
	}
	if _, err := st.SetPreferences(ctx, u.Sub, p); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) notify(key, title string, users ...string) notifclient.Created {
	r.t.Helper()
	out, _, err := r.store.Create(context.Background(), notifclient.Notification{
		Key: key, Event: notifclient.EventQuestion, RequestID: "req-42", CodeRome: "M1805", Title: title,
		Text: "Une question vous attend.", Link: "/requests/req-42", Actor: notifclient.Actor{Sub: "mod"},
		To: notifclient.Recipients{Users: users},
	}, "hash-"+key)
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

func (r *rig) tick(d *Dispatcher, want int) {
	r.t.Helper()
	sent, err := d.Tick(context.Background())
	if err != nil || sent != want {
		r.t.Fatalf("tick: sent %d (want %d), err %v", sent, want, err)
	}
}

func (r *rig) row(notificationID string) store.OutboxRow {
	r.t.Helper()
	rows, err := r.store.Outbox(context.Background(), notificationID)
	if err != nil || len(rows) != 1 {
		r.t.Fatalf("outbox of %s: %+v %v", notificationID, rows, err)
	}
	return rows[0]
}

var (
	immediate = notifclient.Channels{InApp: true, Email: true, Frequency: notifclient.Immediate}
	daily     = notifclient.Channels{InApp: true, Email: true, Frequency: notifclient.Daily}
	noEmail   = notifclient.Channels{InApp: true, Email: false, Frequency: notifclient.Immediate}
)

func TestImmediateEmailDeliveredOnce(t *testing.T) {
	r := newRig(t)
	r.user("alice", immediate)
	n := r.notify("k1", "Question sur votre demande", "alice")
	d := r.dispatcher("w1")
	r.tick(d, 1)
	r.tick(d, 0)
	msgs := r.sink.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages: %+v", msgs)
	}
	m, row := msgs[0], r.row(n.ID)
	if row.Status != store.StatusSent || row.SentAt == nil || row.Attempts != 1 {
		t.Fatalf("row: %+v", row)
	}
	if m.MessageID != row.MessageID || !strings.HasSuffix(m.MessageID, "@rome.test>") {
		t.Fatalf("Message-ID %q, row %q", m.MessageID, row.MessageID)
	}
	if m.Subject != "[ROME] Question sur votre demande" || m.From != "notifications@rome.test" || len(m.To) != 1 || m.To[0] != "alice@example.org" {
		t.Fatalf("envelope: %+v", m)
	}
	for _, want := range []string{"Une question vous attend.", "Request: req-42", "Fiche: M1805", "Link: http://rome.test/requests/req-42"} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, m.Body)
		}
	}
}

func TestTransientFailuresBackOffThenDeliver(t *testing.T) {
	r := newRig(t)
	r.user("alice", immediate)
	n := r.notify("k1", "Retry me", "alice")
	if err := r.sink.Inject(smtpsink.Faults{RejectNext: 2, Code: 451}); err != nil {
		t.Fatal(err)
	}
	d := r.dispatcher("w1")
	start := time.Now()
	r.tick(d, 0)
	row := r.row(n.ID)
	if row.Status != store.StatusPending || row.Attempts != 1 || !strings.Contains(row.LastError, "451") {
		t.Fatalf("after a 451: %+v", row)
	}
	if wait := row.NextAttemptAt.Sub(start); wait < backoff || wait > backoff+time.Second {
		t.Fatalf("first backoff %v", wait)
	}
	r.tick(d, 0) // not due yet: no attempt
	if r.sink.Rejected() != 1 {
		t.Fatalf("attempted during the backoff: %d", r.sink.Rejected())
	}
	time.Sleep(time.Until(row.NextAttemptAt))
	r.tick(d, 0)
	second := r.row(n.ID)
	if second.Attempts != 2 || second.NextAttemptAt.Sub(row.NextAttemptAt) < 2*backoff {
		t.Fatalf("second backoff not doubled: %v then %v", row.NextAttemptAt, second.NextAttemptAt)
	}
	time.Sleep(time.Until(second.NextAttemptAt))
	r.tick(d, 1)
	if got := r.sink.Messages(); len(got) != 1 || got[0].MessageID != row.MessageID {
		t.Fatalf("messages: %+v", got)
	}
	if row := r.row(n.ID); row.Status != store.StatusSent || row.Attempts != 3 {
		t.Fatalf("final row: %+v", row)
	}
}

func TestDeadLetters(t *testing.T) {
	r := newRig(t)
	r.user("alice", immediate)
	d := r.dispatcher("w1")

	perm := r.notify("k1", "Permanent", "alice")
	if err := r.sink.Inject(smtpsink.Faults{RejectNext: 1, Code: 550}); err != nil {
		t.Fatal(err)
	}
	r.tick(d, 0)
	if row := r.row(perm.ID); row.Status != store.StatusDead || row.Attempts != 1 || !strings.Contains(row.LastError, "550") {
		t.Fatalf("after a 550: %+v", row)
	}

	exhausted := r.notify("k2", "Exhausted", "alice")
	if err := r.sink.Inject(smtpsink.Faults{RejectNext: r.cfg.Retry.MaxAttempts, Code: 451}); err != nil {
		t.Fatal(err)
	}
	for range r.cfg.Retry.MaxAttempts {
		row := r.row(exhausted.ID)
		time.Sleep(time.Until(row.NextAttemptAt))
		r.tick(d, 0)
	}
	row := r.row(exhausted.ID)
	if row.Status != store.StatusDead || row.Attempts != r.cfg.Retry.MaxAttempts {
		t.Fatalf("after max attempts: %+v", row)
	}
	dl, err := r.store.DeadLetters(context.Background(), 10, 0)
	if err != nil || len(dl.Items) != 2 || dl.Items[0].ID != row.ID {
		t.Fatalf("dead letters: %+v %v", dl, err)
	}
	if len(r.sink.Messages()) != 0 {
		t.Fatalf("a dead letter was delivered: %+v", r.sink.Messages())
	}

	// An operator retries it: it is delivered with its Message-ID.
	if _, err := r.store.Retry(context.Background(), row.ID); err != nil {
		t.Fatal(err)
	}
	r.tick(d, 1)
	if got := r.sink.Messages(); len(got) != 1 || got[0].MessageID != row.MessageID {
		t.Fatalf("messages after retry: %+v", got)
	}
}

func TestDispatcherLeavesTeamsToTheWorker(t *testing.T) {
	r := newRig(t)
	r.user("alice", notifclient.Channels{InApp: true, Email: true, Teams: true, Frequency: notifclient.Immediate})
	if err := r.store.TouchUser(context.Background(), store.User{Sub: "alice", Role: "moderator", EntraID: "oid-alice"}); err != nil {
		t.Fatal(err)
	}
	n := r.notify("k1", "Both channels", "alice")
	d := r.dispatcher("w1")
	r.tick(d, 1)
	r.tick(d, 0)
	rows, err := r.store.Outbox(context.Background(), n.ID)
	if err != nil || len(rows) != 2 {
		t.Fatalf("outbox: %+v %v", rows, err)
	}
	for _, row := range rows {
		switch row.Channel {
		case store.ChannelEmail:
			if row.Status != store.StatusSent {
				t.Fatalf("e-mail: %+v", row)
			}
		case store.ChannelTeams:
			if row.Status != store.StatusPending || row.Attempts != 0 || row.LeaseOwner != "" {
				t.Fatalf("the dispatcher touched the Teams row: %+v", row)
			}
		}
	}
	if msgs := r.sink.Messages(); len(msgs) != 1 || msgs[0].To[0] != "alice@example.org" {
		t.Fatalf("messages: %+v", msgs)
	}
}

func TestConcurrentDispatchersSendEachOnce(t *testing.T) {
	r := newRig(t)
	const n = 12
	keys := map[string]bool{}
	for i := range n {
		sub := "u" + string(rune('a'+i))
		r.user(sub, immediate)
		r.notify("k"+sub, "To "+sub, sub)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, owner := range []string{"w1", "w2", "w3"} {
		d := r.dispatcher(owner)
		wg.Go(func() { d.Run(ctx) })
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(r.sink.Messages()) < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // room for a duplicate to show up
	cancel()
	wg.Wait()
	msgs := r.sink.Messages()
	for _, m := range msgs {
		if keys[m.MessageID] {
			t.Errorf("sent twice: %s", m.MessageID)
		}
		keys[m.MessageID] = true
	}
	if len(msgs) != n {
		t.Fatalf("sent %d, want %d", len(msgs), n)
	}
}

func TestDigestAtTheTick(t *testing.T) {
	r := newRig(t)
	r.user("alice", daily)
	r.user("bob", noEmail)
	titles := []string{"Première question", "Deuxième question", "Troisième question"}
	for i, title := range titles {
		r.notify("k"+string(rune('1'+i)), title, "alice", "bob")
	}
	d := r.dispatcher("w1")
	r.tick(d, 0) // nothing immediate: alice waits for her digest, bob wants no e-mail

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	digests := NewDigests(r.store, Schedule{Interval: 150 * time.Millisecond}, slog.New(slog.DiscardHandler))
	wg.Go(func() { digests.Run(ctx) })
	wg.Go(func() { d.Run(ctx) })
	deadline := time.Now().Add(10 * time.Second)
	for len(r.sink.Messages()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(400 * time.Millisecond) // more ticks: nothing more to send
	cancel()
	wg.Wait()

	msgs := r.sink.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages: %+v", msgs)
	}
	m := msgs[0]
	if m.To[0] != "alice@example.org" || m.Subject != "[ROME] Your daily digest: 3 notification(s)" {
		t.Fatalf("digest: %+v", m)
	}
	last := -1
	for _, title := range titles {
		i := strings.Index(m.Body, title)
		if i <= last {
			t.Fatalf("digest lacks %q or lists it out of order:\n%s", title, m.Body)
		}
		last = i
	}
	for _, sub := range []string{"alice", "bob"} {
		inbox, err := r.store.Inbox(context.Background(), sub, 50, 0)
		if err != nil || len(inbox.Items) != 3 || inbox.UnreadCount != 3 {
			t.Fatalf("in-app of %s: %+v %v", sub, inbox, err)
		}
	}
}

func TestScheduleNext(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	s := Schedule{Hour: 7, Minute: 0, Location: paris}
	cases := []struct{ now, want time.Time }{
		{time.Date(2026, 3, 2, 5, 0, 0, 0, paris), time.Date(2026, 3, 2, 7, 0, 0, 0, paris)},
		{time.Date(2026, 3, 2, 7, 0, 0, 0, paris), time.Date(2026, 3, 3, 7, 0, 0, 0, paris)},
		{time.Date(2026, 3, 28, 23, 0, 0, 0, paris), time.Date(2026, 3, 29, 7, 0, 0, 0, paris)}, // DST change
	}
	for _, c := range cases {
		if got := s.Next(c.now); !got.Equal(c.want) {
			t.Errorf("Next(%v) = %v, want %v", c.now, got, c.want)
		}
	}
	if got := (Schedule{Interval: time.Minute}).Next(cases[0].now); !got.Equal(cases[0].now.Add(time.Minute)) {
		t.Errorf("interval: %v", got)
	}
	if _, _, err := ParseTime("7h"); err == nil {
		t.Error("ParseTime accepted 7h")
	}
	if h, m, err := ParseTime("18:30"); err != nil || h != 18 || m != 30 {
		t.Errorf("ParseTime: %d %d %v", h, m, err)
	}
}
