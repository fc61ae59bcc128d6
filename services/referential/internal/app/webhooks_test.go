package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/referential/internal/app"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
	"github.com/plateforme-rome/rome/services/referential/internal/webhook"
	"github.com/plateforme-rome/rome/services/referential/internal/webhook/webhooktest"
)

type hooksEnv struct {
	t     testing.TB
	st    *store.Store
	clock *webhooktest.Clock
	w     *app.Webhooks
	n     int // the last version published
}

func newHooksEnv(t testing.TB, db *gorm.DB) *hooksEnv {
	st := store.New(db)
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := &hooksEnv{t: t, st: st, clock: webhooktest.NewClock(time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC))}
	e.w = e.dispatcher()
	return e
}

// dispatcher is a replica's webhooks over the same database and clock.
func (e *hooksEnv) dispatcher() *app.Webhooks { return e.dispatcherOn(e.st) }

// dispatcherOn is a replica's webhooks over st, on the same clock.
func (e *hooksEnv) dispatcherOn(st *store.Store) *app.Webhooks {
	return app.NewWebhooks(st, app.WebhookConfig{Now: e.clock.Now, Jitter: func() float64 { return 0.5 }, AllowPrivate: true,
		Timeout: 5 * time.Second, Log: slog.New(slog.DiscardHandler)})
}

// register subscribes the receiver and lets it verify with the endpoint's secret.
func (e *hooksEnv) register(r *webhooktest.Receiver, events []string, codes ...string) *app.NewEndpoint {
	ep, err := e.w.Register(context.Background(), app.EndpointRequest{URL: r.URL(), Events: events, CodesRome: codes}, "u-admin")
	if err != nil {
		e.t.Fatal(err)
	}
	r.Trust(ep.Secret)
	return ep
}

// publish stores a version changing the fiches codes through the real publication
// transaction (store.Publish), as a change set does.
func (e *hooksEnv) publish(codes ...string) {
	e.t.Helper()
	e.n++
	now := e.clock.Now()
	cs, req := fmt.Sprintf("cs-%d", e.n), fmt.Sprintf("req-%d", e.n)
	p := store.Publication{Version: store.VersionRecord{Number: e.n, Label: "test", Source: store.SourceChangeSet, PublishedAt: now,
		LastModified: now, ChangesetID: &cs, RequestID: &req}}
	for i, c := range codes {
		p.Entries = append(p.Entries, store.ChangeEntry{Version: e.n, Seq: i + 1, CodeRome: c, ChangesetID: cs, RequestID: req,
			Entry: fmt.Sprintf(`{"operationId":"op-1","codeRome":%q,"action":"updated","entity":"texte","field":"definition"}`, c)})
	}
	if err := e.st.Publish(context.Background(), p); err != nil {
		e.t.Fatal(err)
	}
}

// deliver makes a dispatcher pass and returns its attempts.
func (e *hooksEnv) deliver() int {
	e.t.Helper()
	n, err := e.w.DeliverDue(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *hooksEnv) endpoint(id string) app.EndpointInfo {
	e.t.Helper()
	info, ok, err := e.w.Endpoint(context.Background(), id)
	if err != nil || !ok {
		e.t.Fatalf("endpoint %s: %v %v", id, ok, err)
	}
	return info
}

func (e *hooksEnv) log(id, state string) []app.DeliveryInfo {
	e.t.Helper()
	page, _, err := e.w.Deliveries(context.Background(), id, state, "", 200)
	if err != nil {
		e.t.Fatal(err)
	}
	return page.Items
}

func events(ds []webhooktest.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = fmt.Sprintf("%s %d %s", d.Type, d.Version, d.CodeRome)
	}
	return out
}

var both = []string{webhook.VersionPublished, webhook.FicheChanged}

// A failing endpoint is retried after 5 s, 10 s, 20 s…; its queue waits behind the
// failed delivery and then arrives in publication order, each event once.
func TestDispatcherBacksOffAndKeepsOrder(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		e := newHooksEnv(t, db)
		r := webhooktest.New(t)
		ep := e.register(r, both)
		filtered := webhooktest.New(t)
		e.register(filtered, []string{webhook.FicheChanged}, "M1806")
		r.Answer(http.StatusServiceUnavailable)
		e.publish("M1805")
		e.publish("M1806", "M1805")

		start := e.clock.Now()
		for i, wait := range []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second} {
			if n := e.deliver(); n < 1 {
				t.Fatalf("attempt %d: none made", i+1)
			}
			info := e.endpoint(ep.ID)
			if info.NextAttemptAt == nil || !info.NextAttemptAt.Equal(e.clock.Now().Add(wait)) || !info.FailingSince.Equal(start) {
				t.Fatalf("after failure %d: next %v, failing since %v; want +%s", i+1, info.NextAttemptAt, info.FailingSince, wait)
			}
			e.clock.Add(wait - time.Second)
			if n := e.deliver(); n != 0 {
				t.Fatalf("%d attempts before the retry is due", n)
			}
			e.clock.Add(time.Second)
		}
		r.Answer(http.StatusOK)
		e.deliver()
		want := []string{"version.published 1 ", "fiche.changed 1 M1805", "version.published 2 ", "fiche.changed 2 M1806", "fiche.changed 2 M1805"}
		if got := events(r.Delivered()); !slices.Equal(got, want) {
			t.Fatalf("delivered %q, want %q", got, want)
		}
		if got := events(filtered.Delivered()); !slices.Equal(got, []string{"fiche.changed 2 M1806"}) {
			t.Fatalf("the endpoint filtered on M1806 got %q", got)
		}
		if e.deliver() != 0 || len(r.Rejected())+len(filtered.Rejected()) > 0 {
			t.Fatalf("more deliveries, or bad signatures: %q", r.Rejected())
		}
		log := e.log(ep.ID, "")
		if len(log) != 5 || log[4].Attempts != 4 || log[4].State != store.DeliveryDelivered || log[0].Attempts != 1 {
			t.Fatalf("delivery log %+v", log)
		}
		if info := e.endpoint(ep.ID); info.FailingSince != nil || info.NextAttemptAt != nil {
			t.Fatalf("endpoint still failing: %+v", info)
		}
	})
}

// An endpoint down for a day loses nothing; one down for longer than the retry span has
// its deliveries dead-lettered, and they are replayed with the same webhook-ids.
func TestDispatcherDeadLettersAfterTheSpanAndReplays(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		e := newHooksEnv(t, db)
		r := webhooktest.New(t)
		ep := e.register(r, both)
		r.Stop()
		e.publish("M1805")
		run := func(d time.Duration) {
			for end := e.clock.Now().Add(d); e.clock.Now().Before(end); e.clock.Add(10 * time.Minute) {
				e.deliver()
			}
		}
		run(25 * time.Hour)
		if dead := e.log(ep.ID, store.DeliveryDead); len(dead) != 0 {
			t.Fatalf("dead letters after a day: %+v", dead)
		}
		run(24 * time.Hour)
		dead := e.log(ep.ID, store.DeliveryDead)
		if len(dead) != 2 {
			t.Fatalf("dead letters after two days: %+v", e.log(ep.ID, ""))
		}
		t.Logf("%d attempts before the first dead letter", dead[1].Attempts)
		// Still failing: a new event is dead-lettered at its first failure.
		e.publish("M1806")
		e.deliver()
		if dead = e.log(ep.ID, store.DeliveryDead); len(dead) != 4 || dead[0].Attempts != 1 {
			t.Fatalf("dead letters %+v", dead)
		}
		r.Restart()
		ctx := context.Background()
		n, ok, err := e.w.ReplayDead(ctx, ep.ID)
		if err != nil || !ok || n != 4 {
			t.Fatalf("replayed %d %v %v", n, ok, err)
		}
		e.deliver()
		got := r.Delivered()
		if want := []string{"version.published 1 ", "fiche.changed 1 M1805", "version.published 2 ", "fiche.changed 2 M1806"}; !slices.Equal(events(got), want) {
			t.Fatalf("replayed %q, want %q", events(got), want)
		}
		for i, d := range dead {
			if got[len(got)-1-i].ID != d.ID {
				t.Fatalf("replay %d has webhook-id %s, the dead letter had %s", i, got[len(got)-1-i].ID, d.ID)
			}
		}
		// A delivered message can be sent again on request; a pending one cannot.
		if _, _, err := e.w.Replay(ctx, ep.ID, got[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.w.Replay(ctx, ep.ID, got[0].ID); err != app.ErrDeliveryPending {
			t.Fatalf("replaying a pending delivery: %v", err)
		}
		e.deliver()
		if all := r.Delivered(); len(all) != 5 || all[4].ID != got[0].ID {
			t.Fatalf("resent %q", events(all))
		}
	})
}

// 410 Gone disables the endpoint: its pending delivery waits, new events are not queued
// for it, and enabling it resumes the queue.
func TestDispatcherDisablesAGoneEndpoint(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		e := newHooksEnv(t, db)
		r := webhooktest.New(t)
		ep := e.register(r, []string{webhook.VersionPublished})
		r.Answer(http.StatusGone)
		e.publish("M1805")
		e.deliver()
		info := e.endpoint(ep.ID)
		if info.Enabled || info.DisabledAt == nil || info.DisabledReason == "" {
			t.Fatalf("not disabled: %+v", info)
		}
		e.publish("M1806")
		e.clock.Add(time.Hour)
		if n := e.deliver(); n != 0 {
			t.Fatalf("%d attempts to a disabled endpoint", n)
		}
		if log := e.log(ep.ID, ""); len(log) != 1 || log[0].State != store.DeliveryPending || *log[0].LastStatusCode != http.StatusGone {
			t.Fatalf("delivery log %+v", log)
		}
		r.Answer(http.StatusOK)
		if _, ok, err := e.w.Enable(context.Background(), ep.ID); err != nil || !ok {
			t.Fatal(ok, err)
		}
		e.deliver()
		if got := events(r.Delivered()); !slices.Equal(got, []string{"version.published 1 "}) {
			t.Fatalf("after enabling: %q", got)
		}
	})
}

// Two replicas never deliver to the same endpoint at once: while one waits for the
// consumer, the other skips the endpoint; once the lease expires, it takes over.
func TestDispatcherLeasesEndpoints(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		e := newHooksEnv(t, db)
		r := webhooktest.New(t)
		e.register(r, []string{webhook.VersionPublished})
		e.publish("M1805")
		arrived, release := r.Hold()
		done := make(chan int)
		go func() { done <- e.deliver() }()
		<-arrived
		other := e.dispatcher()
		if n, err := other.DeliverDue(context.Background()); n != 0 || err != nil {
			t.Fatalf("the other replica made %d attempts (%v) while the first one was delivering", n, err)
		}
		release()
		if n := <-done; n != 1 {
			t.Fatalf("%d attempts", n)
		}
		if got := r.Delivered(); len(got) != 1 {
			t.Fatalf("delivered %d times", len(got))
		}
	})
}

// Two replicas delivering at the same time, each on its own connections, send every event
// once to every endpoint, in publication order.
func TestTwoDispatchersDeliverEachEventOnce(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			url := dbtest.URL(t, d)
			e := newHooksEnv(t, dbtest.Connect(t, url))
			var receivers []*webhooktest.Receiver
			for range 4 {
				r := webhooktest.New(t)
				e.register(r, []string{webhook.VersionPublished})
				receivers = append(receivers, r)
			}
			const versions = 8
			for range versions {
				e.publish("M1805")
			}
			replicas := []*app.Webhooks{e.w, e.dispatcherOn(store.New(dbtest.Connect(t, url)))}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var wg sync.WaitGroup
			for _, w := range replicas {
				wg.Go(func() {
					for ctx.Err() == nil && slices.ContainsFunc(receivers, func(r *webhooktest.Receiver) bool { return len(r.Delivered()) < versions }) {
						if _, err := w.DeliverDue(ctx); err != nil && ctx.Err() == nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			for i, r := range receivers {
				got := r.Delivered()
				var order []int
				ids := map[string]bool{}
				for _, d := range got {
					order = append(order, d.Version)
					ids[d.ID] = true
				}
				if len(got) != versions || len(ids) != versions || !slices.IsSorted(order) {
					t.Errorf("endpoint %d received versions %v (%d distinct webhook-ids), want 1 to %d once each, in order", i, order, len(ids), versions)
				}
			}
		})
	}
}

func TestDispatcherTakesOverAnExpiredLease(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		e := newHooksEnv(t, db)
		ctx := context.Background()
		r := webhooktest.New(t)
		ep := e.register(r, []string{webhook.VersionPublished})
		e.publish("M1805")
		now := e.clock.Now()
		// A replica that died while delivering left its lease behind.
		if ok, err := e.st.ClaimWebhookEndpoint(ctx, ep.ID, "crashed", now, now.Add(time.Minute)); err != nil || !ok {
			t.Fatal(ok, err)
		}
		if n := e.deliver(); n != 0 {
			t.Fatalf("%d attempts under another replica's lease", n)
		}
		e.clock.Add(time.Minute)
		if n := e.deliver(); n != 1 || len(r.Delivered()) != 1 {
			t.Fatalf("%d attempts once the lease expired", n)
		}
	})
}

// A rotated secret keeps signing next to the new one for the grace period only.
func TestSecretRotation(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		e := newHooksEnv(t, db)
		ctx := context.Background()
		old := webhooktest.New(t)
		ep := e.register(old, []string{webhook.VersionPublished})
		rotated, ok, err := e.w.RotateSecret(ctx, ep.ID)
		if err != nil || !ok || rotated.Secret == ep.Secret || rotated.PreviousSecretExpiresAt == nil {
			t.Fatalf("rotation: %+v %v %v", rotated, ok, err)
		}
		e.publish("M1805")
		e.deliver() // the consumer still verifies with the old secret
		if got := old.Delivered(); len(got) != 1 || got[0].Signatures != 2 {
			t.Fatalf("during the grace period: %+v, rejected %q", got, old.Rejected())
		}
		e.clock.Add(app.SecretGrace)
		e.publish("M1806")
		old.Answer(http.StatusOK)
		e.deliver()
		if len(old.Delivered()) != 1 || len(old.Rejected()) != 1 {
			t.Fatalf("the old secret verified after the grace period: rejected %q", old.Rejected())
		}
		old.Trust(rotated.Secret)
		e.clock.Add(time.Minute)
		e.deliver()
		if got := old.Delivered(); len(got) != 2 || got[1].Signatures != 1 {
			t.Fatalf("with the new secret: %+v", got)
		}
	})
}
