package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/referential/internal/app"
	"github.com/plateforme-rome/rome/services/referential/internal/fiche"
	"github.com/plateforme-rome/rome/services/referential/internal/importer"
	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/services/referential/internal/romedata"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

// Two replicas of the referential on one database, as a deployment runs them behind a
// load balancer: what one publishes, the other serves, and a publication that races
// another replica's is neither lost nor doubled.

// smallRelease is v460 cut to two fiches (and the small tables), so that each replica
// loads it in a moment.
func smallRelease(t *testing.T) *importer.Release {
	t.Helper()
	full := romedata.Release(t)
	keep := map[string]bool{"M1805": true, "K2111": true}
	rows := map[string][]refdata.Row{}
	for _, ds := range romecsv.Datasets {
		tbl := full.Snapshot.T(ds.Name)
		if ds.RomeCol == "" && tbl.Len() > 1000 {
			continue
		}
		col := -1
		if ds.RomeCol != "" {
			col = ds.Col(ds.RomeCol)
		}
		for _, r := range tbl.Rows() {
			if col < 0 || keep[r.Cols[col]] {
				rows[ds.Name] = append(rows[ds.Name], r)
			}
		}
	}
	snap, err := refdata.New(full.Snapshot.Version, rows)
	if err != nil {
		t.Fatal(err)
	}
	return &importer.Release{Info: full.Info, Snapshot: snap}
}

// replicas imports the small release into a fresh database of dialect d and starts n
// replicas on it, publishing as cfg says, each with its own connections; url is the
// database's.
func replicas(t *testing.T, d database.Dialect, n int, cfg app.Config) (rs []*app.Service, url string) {
	t.Helper()
	ctx := context.Background()
	url = dbtest.URL(t, d)
	out := make([]*app.Service, n)
	for i := range out {
		st := store.New(dbtest.Connect(t, url))
		if i == 0 {
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if _, _, err := st.Import(ctx, smallRelease(t), false); err != nil {
				t.Fatal(err)
			}
		}
		out[i] = app.New(st, slog.New(slog.DiscardHandler).With("replica", i), cfg)
		if err := out[i].Load(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return out, url
}

// setDefinition is a change set rewriting M1805's definition.
func setDefinition(id string, base int, text string) app.ChangeSetRequest {
	return app.ChangeSetRequest{ID: id, RequestID: "req-" + id, CodeRome: "M1805", BaseVersion: base,
		Operations: []refclient.Operation{{ID: "op-1", Op: refclient.OpSetText, Field: refclient.FieldDefinition, Text: text}}}
}

func publish(t *testing.T, svc *app.Service, cs app.ChangeSetRequest) *app.Publication {
	t.Helper()
	pub, _, err := svc.Publish(context.Background(), cs)
	if err != nil {
		t.Fatalf("publish %s: %v", cs.ID, err)
	}
	return pub
}

func definition(t *testing.T, svc *app.Service) string {
	t.Helper()
	st := svc.Current()
	f, ok := fiche.Build(st.Snap, "M1805", st.Version())
	if !ok {
		t.Fatal("M1805 is not served")
	}
	return f.Definition
}

// What one replica publishes, the other serves within a moment: on PostgreSQL because the
// database announces it (the other replica's poll is an hour away), on SQLite by the poll.
func TestReplicaServesWhatAnotherPublished(t *testing.T) {
	t.Parallel()
	for d, poll := range map[database.Dialect]time.Duration{database.Postgres: time.Hour, database.SQLite: 20 * time.Millisecond} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			rs, url := replicas(t, d, 2, app.Config{})
			publisher, follower := rs[0], rs[1]
			ctx, cancel := context.WithCancel(context.Background())
			followed := make(chan struct{})
			go func() {
				defer close(followed)
				follower.Follow(ctx, poll, nil)
			}()
			defer func() { cancel(); <-followed }()
			if d == database.Postgres {
				waitListening(t, dbtest.Connect(t, url))
			}

			// The follower catches up once it listens (it may have missed a version): the
			// second publication can only reach it by the announcement, on PostgreSQL.
			for i, text := range []string{"Conçoit des logiciels.", "Conçoit et développe des logiciels."} {
				start := time.Now()
				pub := publish(t, publisher, setDefinition(fmt.Sprintf("cs-%d", i), publisher.Current().Version(), text))
				for follower.Current().Version() != pub.Version {
					if time.Since(start) > time.Minute {
						t.Fatalf("the other replica still serves version %d a minute after %d was published", follower.Current().Version(), pub.Version)
					}
					time.Sleep(time.Millisecond)
				}
				t.Logf("%s: the other replica served version %d %v after its publication", d, pub.Version, time.Since(start))
				if got := definition(t, follower); got != text {
					t.Fatalf("the other replica serves the definition %q, want %q", got, text)
				}
			}
		})
	}
}

// A client that read a new version's number on one replica (or in a request's outcome)
// and asks another for it gets it: the other catches up then, without waiting to hear of it.
func TestReplicaServesAVersionAskedBeforeItHeardOfIt(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, _ *gorm.DB, d database.Dialect) {
		rs, _ := replicas(t, d, 2, app.Config{})
		publisher, other := rs[0], rs[1]
		pub := publish(t, publisher, setDefinition("cs-1", publisher.Current().Version(), "Conçoit des logiciels."))
		st, ok, err := other.At(context.Background(), pub.Version)
		if err != nil || !ok || st.Version() != pub.Version {
			t.Fatalf("version %d asked of the other replica: %v %v", pub.Version, ok, err)
		}
		if other.Current() != st {
			t.Error("the other replica read the version aside instead of catching up with it")
		}
		if got := definition(t, other); got != "Conçoit des logiciels." {
			t.Errorf("the other replica serves the definition %q", got)
		}
		if _, ok, err := other.At(context.Background(), pub.Version+1); ok || err != nil {
			t.Errorf("a version not published yet: found %v, %v", ok, err)
		}
	})
}

// A replica serves a version announced while it still builds the documents of the one
// before (seconds on a busy machine): the warming does not hold the catch-up back, and
// leaves a version no longer served for the newer one.
func TestReplicaCatchesUpWhileItWarms(t *testing.T) {
	t.Parallel()
	rs, _ := replicas(t, database.SQLite, 2, app.Config{})
	publisher, follower := rs[0], rs[1]
	warming, release := make(chan struct{}), make(chan struct{})
	var blocked, released sync.Once
	letGo := func() { released.Do(func() { close(release) }) }
	shapes := map[app.Shape]func(*fiche.Fiche) any{app.ShapeFiche: func(f *fiche.Fiche) any {
		blocked.Do(func() { close(warming); <-release }) // the first fiche of the first version warmed
		return f
	}}
	ctx, cancel := context.WithCancel(context.Background())
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		follower.Follow(ctx, 20*time.Millisecond, shapes)
	}()
	defer func() { letGo(); cancel(); <-followed }()
	ready := follower.ReadyCheck().Run
	<-warming

	pub := publish(t, publisher, setDefinition("cs-1", publisher.Current().Version(), "Conçoit des logiciels."))
	for deadline := time.Now().Add(time.Minute); follower.Current().Version() != pub.Version; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the replica warming version %d did not serve version %d in a minute", follower.Current().Version(), pub.Version)
		}
	}
	if err := ready(ctx); err == nil {
		t.Fatal("ready before any version was warmed whole")
	}
	letGo()
	for deadline := time.Now().Add(time.Minute); ready(ctx) != nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not ready a minute after the warming was let go")
		}
	}
}

// waitListening waits until a replica listens for new versions on db's database, so that
// only the announcement can explain what follows (a replica that starts listening also
// catches up).
func waitListening(t *testing.T, db *gorm.DB) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		var n int
		if err := db.Raw(`SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND query = ?`,
			`LISTEN "`+store.VersionsChannel+`"`).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no replica listens for new versions a minute after following")
		}
	}
}

// A replica that has not heard of the other's version yet still dry-runs and publishes: on
// it, when the change set is based on it, or after it, when the change set races it. A
// change set the other replica published already is answered as it was.
func TestReplicaPublishesAfterAVersionItHasNotSeen(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, _ *gorm.DB, d database.Dialect) {
		rs, _ := replicas(t, d, 2, app.Config{})
		a, b := rs[0], rs[1]
		base := a.Current().Version()

		first := publish(t, a, setDefinition("cs-1", base, "Première définition."))
		dry, err := b.Validate(context.Background(), setDefinition("dry-run", first.Version, "Essai."), false)
		if err != nil || dry.Version != first.Version || !dry.Applies {
			t.Fatalf("a dry run on version %d: %+v %v", first.Version, dry, err)
		}
		second := publish(t, b, setDefinition("cs-2", first.Version, "Deuxième définition."))
		if second.Version != first.Version+1 {
			t.Fatalf("a change set based on version %d published as %d", first.Version, second.Version)
		}
		third := publish(t, a, setDefinition("cs-3", base, "Troisième définition."))
		if third.Version != second.Version+1 {
			t.Fatalf("a change set racing version %d published as %d", second.Version, third.Version)
		}
		again, replayed, err := b.Publish(context.Background(), setDefinition("cs-1", base, "Première définition."))
		if err != nil || !replayed || again.Version != first.Version {
			t.Fatalf("cs-1 sent again to the other replica: version %d, replayed %v, %v", again.Version, replayed, err)
		}
		if got := definition(t, a); got != "Troisième définition." {
			t.Fatalf("the replica that raced serves %q", got)
		}
	})
}

// Replicas publishing at once make one version per change set, none lost, none twice.
func TestReplicasPublishingAtOnce(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, _ *gorm.DB, d database.Dialect) {
		rs, _ := replicas(t, d, 2, app.Config{})
		base := rs[0].Current().Version()
		const perReplica = 6
		var wg sync.WaitGroup
		errs := make(chan error, 2*perReplica)
		for i, svc := range rs {
			wg.Go(func() {
				for j := range perReplica {
					id := fmt.Sprintf("cs-%d-%d", i, j)
					if _, _, err := svc.Publish(context.Background(), setDefinition(id, base, "Définition "+id+".")); err != nil {
						errs <- fmt.Errorf("%s: %w", id, err)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		versions, err := rs[0].Versions(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		published := map[string]int{}
		for i, v := range versions[1:] {
			if v.Number != base+1+i || v.ChangesetID == nil {
				t.Fatalf("version %d of the list is %d (change set %v): versions are not one per change set in a row", i+1, v.Number, v.ChangesetID)
			}
			published[*v.ChangesetID]++
		}
		if len(published) != 2*perReplica || len(versions) != 1+2*perReplica {
			t.Fatalf("%d versions for %d change sets: %v", len(versions)-1, 2*perReplica, published)
		}
	})
}

// Under release trains, a replica that has not heard of the version the last release made
// still publishes the next one, after it; and two replicas publishing the same release make
// one version.
func TestReplicasPublishReleases(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, _ *gorm.DB, d database.Dialect) {
		ctx := context.Background()
		rs, _ := replicas(t, d, 2, app.Config{Publication: refclient.PublicationReleaseTrains})
		a, b := rs[0], rs[1]
		base := a.Current().Version()
		release := func(svc *app.Service, cs app.ChangeSetRequest) int {
			t.Helper()
			if pub := publish(t, svc, cs); !pub.Staged() {
				t.Fatalf("%s published at once under release trains: %+v", cs.ID, pub)
			}
			r, err := svc.FreezeRelease(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return r.Number
		}

		first := release(a, setDefinition("cs-1", base, "Définition de la première release."))
		if r, err := a.PublishRelease(ctx, first); err != nil || r.Version == nil || *r.Version != base+1 {
			t.Fatalf("release %d: %+v %v, want version %d", first, r, err, base+1)
		}
		// b still serves the import: it publishes the next release after a's version.
		second := release(b, setDefinition("cs-2", base, "Définition de la deuxième release."))
		if r, err := b.PublishRelease(ctx, second); err != nil || r.Version == nil || *r.Version != base+2 {
			t.Fatalf("release %d: %+v %v, want version %d", second, r, err, base+2)
		}
		if got := definition(t, b); got != "Définition de la deuxième release." {
			t.Fatalf("the replica serves %q", got)
		}

		third := release(a, setDefinition("cs-3", base+2, "Définition de la troisième release."))
		var (
			wg        sync.WaitGroup
			published [2]*app.Release
		)
		for i, svc := range rs {
			wg.Go(func() {
				r, err := svc.PublishRelease(ctx, third)
				if err != nil {
					t.Errorf("replica %d: %v", i, err)
				}
				published[i] = r
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		for i, r := range published {
			if r.Version == nil || *r.Version != base+3 {
				t.Fatalf("replica %d answers release %d published as version %v, want %d", i, third, r.Version, base+3)
			}
		}
		versions, err := a.Versions(ctx)
		if err != nil || len(versions) != 4 {
			t.Fatalf("%d versions after three releases (%v)", len(versions), err)
		}
	})
}
