package delivery

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/notifications/internal/app"
	"github.com/plateforme-rome/rome/services/notifications/internal/apptest"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
	"github.com/plateforme-rome/rome/tools/smtpsink"
)

const from = "ROME <notifications@rome.test>"

// rig is the app on a fresh store and the real SMTP sink.
type rig struct {
	*apptest.Env
	t    *testing.T
	sink *smtpsink.Sink
	url  string // the store's database
}

func newRig(t *testing.T) *rig { return newRigOn(t, database.SQLite) }

// newRigOn is newRig on a database of dialect d.
func newRigOn(t *testing.T, d database.Dialect) *rig {
	t.Helper()
	t.Parallel()
	sink, err := smtpsink.Start("127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	url := dbtest.URL(t, d)
	return &rig{Env: apptest.New(t, dbtest.Connect(t, url), nil), t: t, sink: sink, url: url}
}

// dispatcher sends through the sink, polling every minute of the rig's clock.
func (r *rig) dispatcher(owner string) *Dispatcher { return r.dispatcherOf(r.App, owner, 10) }

// replica is another replica of the service: the app on its own connections to the
// rig's database, on the rig's clock.
func (r *rig) replica() *app.Service { return r.Replica(dbtest.Connect(r.t, r.url)) }

// dispatcherOf is svc's dispatcher, through the sink, claiming batch e-mails at every
// minute of the rig's clock.
func (r *rig) dispatcherOf(svc *app.Service, owner string, batch int) *Dispatcher {
	mailer := SMTP{Addr: r.sink.SMTPAddr(), From: from, Timeout: 5 * time.Second}
	cfg := Config{Poll: time.Minute, Batch: batch, Clock: r.Clock}
	return NewDispatcher(svc, mailer, owner, cfg, slog.New(slog.DiscardHandler))
}

func (r *rig) tick(d *Dispatcher, want int) {
	r.t.Helper()
	sent, err := d.Tick(context.Background())
	if err != nil || sent != want {
		r.t.Fatalf("tick: sent %d (want %d), err %v", sent, want, err)
	}
}

func TestSMTPDeliversOnce(t *testing.T) {
	r := newRig(t)
	r.Person("alice", "", apptest.EmailNow)
	n := r.Notify(apptest.Question("k1", "Question sur votre demande", "alice"))
	d := r.dispatcher("w1")
	r.tick(d, 1)
	r.tick(d, 0)
	msgs := r.sink.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages: %+v", msgs)
	}
	m, row := msgs[0], r.Row(n.ID, store.ChannelEmail)
	if row.Status != store.StatusSent || m.MessageID != row.MessageID || !strings.HasSuffix(m.MessageID, "@rome.test>") {
		t.Fatalf("Message-ID %q, row %+v", m.MessageID, row)
	}
	if m.Subject != "[ROME] Question sur votre demande" || m.From != "notifications@rome.test" || len(m.To) != 1 || m.To[0] != "alice@example.org" {
		t.Fatalf("envelope: %+v", m)
	}
	for _, want := range []string{"Une question vous attend.", "Link: http://rome.test/requests/req-42"} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, m.Body)
		}
	}
}

func TestSMTPRefusals(t *testing.T) {
	r := newRig(t)
	r.Person("alice", "", apptest.EmailNow)
	d := r.dispatcher("w1")

	// 4xx: tried again after the backoff, with the same Message-ID.
	busy := r.Notify(apptest.Question("k1", "Retry me", "alice"))
	if err := r.sink.Inject(smtpsink.Faults{RejectNext: 1, Code: 451}); err != nil {
		t.Fatal(err)
	}
	r.tick(d, 0)
	row := r.Row(busy.ID, store.ChannelEmail)
	if row.Status != store.StatusPending || row.Attempts != 1 || !strings.Contains(row.LastError, "451") {
		t.Fatalf("after a 451: %+v", row)
	}
	r.Clock.Add(row.NextAttemptAt.Sub(r.Clock.Now()))
	r.tick(d, 1)
	if got := r.sink.Messages(); len(got) != 1 || got[0].MessageID != row.MessageID {
		t.Fatalf("messages: %+v", got)
	}

	// 5xx: a dead letter at once.
	refused := r.Notify(apptest.Question("k2", "Permanent", "alice"))
	if err := r.sink.Inject(smtpsink.Faults{RejectNext: 1, Code: 550}); err != nil {
		t.Fatal(err)
	}
	r.tick(d, 0)
	if row := r.Row(refused.ID, store.ChannelEmail); row.Status != store.StatusDead || row.Attempts != 1 || !strings.Contains(row.LastError, "550") {
		t.Fatalf("after a 550: %+v", row)
	}
}

// run starts loop in the background; the returned stop cancels it and waits
// for it to return.
func run(loop func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { loop(ctx) })
	return func() { cancel(); wg.Wait() }
}

// Three replicas' dispatchers poll at once, and the SMTP server refuses a few messages
// for a while: every message is sent once, those refused after their backoff.
func TestReplicasDispatchersSendEachOnce(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			r := newRigOn(t, d)
			const n = 12
			for i := range n {
				sub := "u" + string(rune('a'+i))
				r.Person(sub, "", apptest.EmailNow)
				r.Notify(apptest.Question("k"+sub, "To "+sub, sub))
			}
			if err := r.sink.Inject(smtpsink.Faults{RejectNext: 3, Code: 451}); err != nil {
				t.Fatal(err)
			}
			// At start and at every poll after it, for as long as the backoff lasts.
			owners := []string{"w1", "w2", "w3"}
			for i, owner := range owners {
				svc := r.App
				if i > 0 {
					svc = r.replica()
				}
				defer run(r.dispatcherOf(svc, owner, 3).Run)() // small claims: the replicas share the outbox
			}
			for range 3 {
				r.Clock.WaitForWaiters(t, len(owners)) // every dispatcher is done with its poll
				r.Clock.Add(time.Minute)
			}
			r.Clock.WaitForWaiters(t, len(owners))
			seen := map[string]bool{}
			msgs := r.sink.Messages()
			for _, m := range msgs {
				if seen[m.MessageID] {
					t.Errorf("sent twice: %s", m.MessageID)
				}
				seen[m.MessageID] = true
			}
			if len(msgs) != n {
				t.Fatalf("sent %d, want %d", len(msgs), n)
			}
			retried := 0
			for _, row := range r.Outbox("") {
				if row.Status != store.StatusSent {
					t.Errorf("%s is %s", row.ID, row.Status)
				}
				retried += row.Attempts - 1
			}
			if retried != 3 {
				t.Errorf("%d attempts again, want one for each of the 3 refusals", retried)
			}
		})
	}
}

// Every replica's scheduler queues the digests at the digest time: each person gets one.
func TestReplicasSchedulersSendOneDigest(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			r := newRigOn(t, d)
			people := []string{"alice", "bob", "carol", "dave"}
			for _, sub := range people {
				r.Person(sub, "", apptest.EmailDaily)
				r.Notify(apptest.Question("k"+sub, "Pour "+sub, sub))
			}
			// Digests every 10 minutes (09:10 first); the clock shows 09:00.
			schedule := Schedule{Interval: 10 * time.Minute}
			log := slog.New(slog.DiscardHandler)
			defer run(NewDigests(r.App, schedule, r.Clock, log).Run)()
			defer run(NewDigests(r.replica(), schedule, r.Clock, log).Run)()
			defer run(r.dispatcher("w1").Run)()
			r.Clock.WaitForWaiters(t, 3)
			r.Clock.Add(10 * time.Minute) // 09:10: both schedulers queue the digests
			r.Clock.WaitForWaiters(t, 3)
			r.Clock.Add(time.Minute) // the next poll sends them
			r.Clock.WaitForWaiters(t, 3)
			msgs := r.sink.Messages()
			to := map[string]int{}
			for _, m := range msgs {
				to[m.To[0]]++
			}
			for _, sub := range people {
				if to[sub+"@example.org"] != 1 {
					t.Errorf("%s got %d digests", sub, to[sub+"@example.org"])
				}
			}
			if len(msgs) != len(people) {
				t.Fatalf("%d messages for %d people", len(msgs), len(people))
			}
		})
	}
}

func TestDigestAtTheScheduledTime(t *testing.T) {
	r := newRig(t)
	r.Person("alice", "", apptest.EmailDaily)
	r.Person("bob", "", apptest.InAppOnly)
	for _, title := range []string{"Première question", "Deuxième question"} {
		r.Notify(apptest.Question("k"+title, title, "alice", "bob"))
	}
	// Digests at 09:30 UTC each day; the clock shows 09:00.
	schedule := Schedule{Hour: apptest.Start.Hour(), Minute: 30, Location: time.UTC}
	defer run(NewDigests(r.App, schedule, r.Clock, slog.New(slog.DiscardHandler)).Run)()
	defer run(r.dispatcher("w1").Run)()
	r.Clock.WaitForWaiters(t, 2)
	if got := r.sink.Messages(); len(got) != 0 {
		t.Fatalf("sent before the digest time: %+v", got)
	}

	r.Clock.Add(29 * time.Minute) // 09:29: the dispatcher polls, nothing is due
	r.Clock.WaitForWaiters(t, 2)
	r.Clock.Add(time.Minute) // 09:30: the digest is queued (and may be sent at once)
	r.Clock.WaitForWaiters(t, 2)
	r.Clock.Add(time.Minute) // the next poll sends it, if it had not been sent
	r.Clock.WaitForWaiters(t, 2)
	msgs := r.sink.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "alice@example.org" || msgs[0].Subject != "[ROME] Your daily digest: 2 notification(s)" {
		t.Fatalf("digests: %+v", msgs)
	}

	r.Clock.Add(24 * time.Hour) // the next day: nothing more to send
	r.Clock.WaitForWaiters(t, 2)
	if got := r.sink.Messages(); len(got) != 1 {
		t.Fatalf("sent again: %+v", got)
	}
}

func TestScheduleNext(t *testing.T) {
	t.Parallel()
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
	// Every replica, whenever it started, has the same digest times.
	every := Schedule{Interval: 10 * time.Minute}
	for _, now := range []time.Time{time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 9, 7, 30, 0, time.UTC)} {
		if got := every.Next(now); !got.Equal(time.Date(2026, 3, 2, 9, 10, 0, 0, time.UTC)) {
			t.Errorf("interval: Next(%v) = %v", now, got)
		}
	}
	if _, _, err := ParseTime("7h"); err == nil {
		t.Error("ParseTime accepted 7h")
	}
	if h, m, err := ParseTime("18:30"); err != nil || h != 18 || m != 30 {
		t.Errorf("ParseTime: %d %d %v", h, m, err)
	}
}
