package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/clients/refclient"
	"github.com/plateforme-rome/rome/platform/database"
	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

// Releases open on first use, one at a time; freezing one opens the next; a change set is
// staged only in the release that is still open; every change of the staged set moves
// the revision the view of the next release is built for.
func TestReleaseLifecycle(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, db *gorm.DB, _ database.Dialect) {
		ctx := context.Background()
		s := store.New(db)
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)
		if _, err := s.FreezeRelease(ctx, at); !errors.Is(err, store.ErrNothingStaged) {
			t.Fatalf("freezing an empty release: %v", err)
		}
		if rs, err := s.Releases(ctx, false); err != nil || len(rs) != 0 {
			t.Fatalf("a refused freeze left releases behind: %+v %v", rs, err)
		}
		n, err := s.OpenRelease(ctx, at)
		if again, err2 := s.OpenRelease(ctx, at); err != nil || err2 != nil || n != 1 || again != 1 {
			t.Fatalf("open release %d then %d: %v %v", n, again, err, err2)
		}
		stage := func(id string, release int) error {
			return s.Stage(ctx, store.StagedChangeSet{ID: id, ReleaseNumber: release, RequestID: "req-" + id, Payload: "{}",
				PayloadHash: "h", Response: "{}", Status: refclient.StagedWaiting, StagedAt: at})
		}
		for _, id := range []string{"cs-1", "cs-2"} {
			if err := stage(id, 1); err != nil {
				t.Fatal(err)
			}
		}
		before, _ := s.StagedRevision(ctx)
		frozen, err := s.FreezeRelease(ctx, at)
		if err != nil || frozen != 1 {
			t.Fatalf("freeze: %d %v", frozen, err)
		}
		if again, err := s.FreezeRelease(ctx, at.Add(time.Hour)); err != nil || again != 1 {
			t.Fatalf("freezing again answers the frozen release: %d %v", again, err)
		}
		if err := stage("cs-3", 1); !errors.Is(err, store.ErrReleaseMoved) {
			t.Fatalf("staged in a frozen release: %v", err)
		}
		if open, err := s.OpenRelease(ctx, at); err != nil || open != 2 {
			t.Fatalf("the release open after the freeze: %d %v", open, err)
		}
		if err := stage("cs-3", 2); err != nil {
			t.Fatal(err)
		}
		css, err := s.ReleaseChangeSets(ctx, []int{1, 2})
		if err != nil || len(css) != 3 || css[0].Seq != 1 || css[1].Seq != 2 || css[2].ReleaseNumber != 2 || css[2].Seq != 1 {
			t.Fatalf("staged change sets %+v %v", css, err)
		}

		if err := s.RecordVerdicts(ctx, 2, nil); !errors.Is(err, store.ErrReleaseMoved) {
			t.Fatalf("verdicts on an open release: %v", err)
		}
		err = s.RecordVerdicts(ctx, 1, []store.Verdict{{ID: "cs-1", Status: refclient.StagedIncluded, Results: "[]"},
			{ID: "cs-2", Status: refclient.StagedReturned, Results: "[]"}})
		if err != nil {
			t.Fatal(err)
		}
		if pending, err := s.CountPendingChangeSets(ctx); err != nil || pending != 2 {
			t.Fatalf("%d change sets pending, want cs-1 and cs-3: %v", pending, err)
		}
		outcome := store.ReleaseOutcome{Number: 1, PublishedAt: at, Notes: "# Release 1", Verdicts: []store.Verdict{
			{ID: "cs-1", Status: refclient.StagedReturned, Results: "[]"}, {ID: "cs-2", Status: refclient.StagedReturned, Results: "[]"}}}
		if err := s.CloseRelease(ctx, outcome); err != nil {
			t.Fatal(err)
		}
		if err := s.CloseRelease(ctx, outcome); !errors.Is(err, store.ErrReleaseMoved) {
			t.Fatalf("closing a release twice: %v", err)
		}
		r, _, err := s.Release(ctx, 1)
		if err != nil || r.Status != refclient.ReleasePublished || r.Version != nil || r.Notes != "# Release 1" {
			t.Fatalf("release 1 %+v %v", r, err)
		}
		if pending, err := s.PendingChangeSets(ctx); err != nil || len(pending) != 1 || pending[0].ID != "cs-3" {
			t.Fatalf("pending after release 1: %+v %v", pending, err)
		}
		if published, err := s.Releases(ctx, true); err != nil || len(published) != 1 || published[0].Number != 1 {
			t.Fatalf("published releases %+v %v", published, err)
		}
		// The freeze changes nothing the next release shows: cs-3 staged, the verdicts and
		// the release's close do.
		if after, _ := s.StagedRevision(ctx); after != before+3 {
			t.Errorf("staged revision %d → %d, want three moves", before, after)
		}
	})
}
