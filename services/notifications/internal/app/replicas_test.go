package app_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plateforme-rome/rome/clients/notifclient"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/notifications/internal/app"
	"github.com/plateforme-rome/rome/services/notifications/internal/apptest"
	"github.com/plateforme-rome/rome/services/notifications/internal/store"
)

// Two replicas of the service on one database, as a deployment runs them: what one
// hands out or queues, the other does not hand out or queue again.

// replicated runs fn on each dialect with the app and a second replica of it, each on its
// own connections to one fresh database.
func replicated(t *testing.T, fn func(t *testing.T, e *apptest.Env, other *app.Service)) {
	t.Parallel()
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			url := dbtest.URL(t, d)
			e := apptest.New(t, dbtest.Connect(t, url), nil)
			fn(t, e, e.Replica(dbtest.Connect(t, url)))
		})
	}
}

// Workers claiming Teams deliveries from both replicas at once get each delivery once,
// and each is sent once.
func TestTeamsDeliveriesClaimedOnceAcrossReplicas(t *testing.T) {
	replicated(t, func(t *testing.T, e *apptest.Env, other *app.Service) {
		const people = 15
		for i := range people {
			sub := fmt.Sprintf("u%02d", i)
			e.Person(sub, "oid-"+sub, apptest.TeamsNow)
			e.Notify(apptest.Question("k"+sub, "Pour "+sub, sub))
		}
		var (
			mu      sync.Mutex
			claimed = map[string]string{}
			wg      sync.WaitGroup
		)
		for i, replica := range []*app.Service{e.App, other, e.App, other} {
			owner := fmt.Sprintf("worker-%d", i)
			wg.Go(func() {
				for {
					ds, err := replica.ClaimTeams(context.Background(), owner, 3)
					if err != nil || len(ds) == 0 {
						if err != nil {
							t.Error(err)
						}
						return
					}
					for _, d := range ds {
						mu.Lock()
						if prev, ok := claimed[d.ID]; ok {
							t.Errorf("%s claimed by %s and %s", d.ID, prev, owner)
						}
						claimed[d.ID] = owner
						mu.Unlock()
						out, err := replica.ReportTeams(context.Background(), d.ID, notifclient.TeamsResult{Owner: owner})
						if err != nil || !out.Recorded || out.Status != store.StatusSent {
							t.Errorf("report %s: %+v %v", d.ID, out, err)
						}
					}
				}
			})
		}
		wg.Wait()
		if len(claimed) != people {
			t.Fatalf("%d deliveries claimed, want %d", len(claimed), people)
		}
		for _, r := range e.Outbox("") {
			if r.Status != store.StatusSent || r.Attempts != 1 {
				t.Errorf("row %s: %s after %d attempts", r.ID, r.Status, r.Attempts)
			}
		}
	})
}

// Both replicas' schedulers queue the digests of the same digest time at once: each
// person gets one digest per channel, with every item made before that time.
func TestDigestsQueuedOnceAcrossReplicas(t *testing.T) {
	replicated(t, func(t *testing.T, e *apptest.Env, other *app.Service) {
		const people = 12
		for i := range people {
			sub := fmt.Sprintf("u%02d", i)
			e.Person(sub, "oid-"+sub, notifclient.Channels{InApp: true, Email: true, Teams: true, Frequency: notifclient.Daily})
			for j := range 3 {
				e.Notify(apptest.Question(fmt.Sprintf("k%s-%d", sub, j), "Question", sub))
			}
		}
		at := e.Clock.Now().Add(time.Minute)
		var (
			wg     sync.WaitGroup
			queued [2]int
		)
		for i, replica := range []*app.Service{e.App, other} {
			wg.Go(func() {
				n, err := replica.QueueDigests(context.Background(), at)
				if err != nil {
					t.Error(err)
				}
				queued[i] = n
			})
		}
		wg.Wait()
		if queued[0]+queued[1] != 2*people {
			t.Fatalf("queued %v digests, want %d in all (e-mail and Teams for each person)", queued, 2*people)
		}
		perPerson := map[string]int{}
		for _, r := range e.Outbox("") {
			if r.Kind != store.KindDigest {
				t.Fatalf("not a digest: %+v", r)
			}
			perPerson[r.Sub+" "+r.Channel]++
		}
		for k, n := range perPerson {
			if n != 1 {
				t.Errorf("%s: %d digests", k, n)
			}
		}
		for _, channel := range store.Channels {
			if subs, err := e.Store.DigestUsers(context.Background(), channel); err != nil || len(subs) != 0 {
				t.Errorf("%s items still waiting for %v (%v)", channel, subs, err)
			}
		}
	})
}

// A replica that runs a digest time late does not send a second digest with what came
// since: that waits for the next digest time.
func TestLateReplicaLeavesNewItemsToTheNextDigest(t *testing.T) {
	replicated(t, func(t *testing.T, e *apptest.Env, other *app.Service) {
		ctx := context.Background()
		e.Person("alice", "", apptest.EmailDaily)
		e.Notify(apptest.Question("k1", "Avant", "alice"))
		at := e.Clock.Now().Add(time.Minute)
		if n, err := e.App.QueueDigests(ctx, at); err != nil || n != 1 {
			t.Fatalf("first replica queued %d %v", n, err)
		}
		e.Clock.Add(2 * time.Minute)
		e.Notify(apptest.Question("k2", "Après", "alice"))
		if n, err := other.QueueDigests(ctx, at); err != nil || n != 0 {
			t.Fatalf("the late replica queued %d digests (%v) for the same digest time", n, err)
		}
		if n, err := other.QueueDigests(ctx, at.Add(24*time.Hour)); err != nil || n != 1 {
			t.Fatalf("next digest time: %d %v", n, err)
		}
	})
}
