package store_test

import (
	"context"
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/plateforme-rome/rome/platform/database/dbtest"
	"github.com/plateforme-rome/rome/services/referential/internal/refdata"
	"github.com/plateforme-rome/rome/services/referential/internal/romecsv"
	"github.com/plateforme-rome/rome/services/referential/internal/romedata"
	"github.com/plateforme-rome/rome/services/referential/internal/store"
)

// The dialects run side by side, each in its own database, on the release read once.
func TestImportLoadPublish(t *testing.T) {
	t.Parallel()
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			importLoadPublish(t, dbtest.Open(t, d))
		})
	}
}

func importLoadPublish(t *testing.T, db *gorm.DB) {
	rel := romedata.Release(t)
	ctx := context.Background()
	s := store.New(db)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Latest(ctx); !errors.Is(err, store.ErrNoVersion) {
		t.Fatalf("empty referential: %v", err)
	}
	outcome, n, err := s.Import(ctx, rel, false)
	if err != nil || outcome != store.Imported || n != 60 {
		t.Fatalf("import: %v %v %d", err, outcome, n)
	}
	loaded, err := s.Load(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range rel.Snapshot.Counts() {
		if got := loaded.T(name).Len(); got != want {
			t.Errorf("%s: loaded %d rows, imported %d", name, got, want)
		}
	}
	// Every row comes back identical, in the same order.
	for _, ds := range romecsv.Datasets {
		b := loaded.T(ds.Name)
		for i, ra := range rel.Snapshot.T(ds.Name).Rows() {
			if i >= b.Len() {
				t.Fatalf("%s row %d differs after a round trip", ds.Name, i)
			}
			rb := b.Row(i)
			if len(ra.Cols) != len(rb.Cols) || romecsvKey(ds, ra.Cols) != romecsvKey(ds, rb.Cols) {
				t.Fatalf("%s row %d differs after a round trip", ds.Name, i)
			}
			for j := range ra.Cols {
				if ra.Cols[j] != rb.Cols[j] {
					t.Fatalf("%s row %d column %s: %q became %q", ds.Name, i, ds.Columns[j], ra.Cols[j], rb.Cols[j])
				}
			}
		}
	}

	// The same release again is a no-op; another one is refused without --replace.
	if outcome, _, err := s.Import(ctx, rel, false); err != nil || outcome != store.AlreadyImported {
		t.Fatalf("re-import: %v %v", outcome, err)
	}
	other := *rel
	other.Info.Number, other.Info.Label = 61, "ROME 4.0 version 61"
	var refused *store.ErrOtherVersion
	if _, _, err := s.Import(ctx, &other, false); !errors.As(err, &refused) {
		t.Fatalf("another version must be refused, got %v", err)
	}

	// Publishing a version stores row changes that Load(61) sees and Load(60) does not.
	tx := loaded.Begin()
	row, _ := tx.Get(romecsv.Fiche, "M1805")
	renamed := append([]string(nil), row...)
	renamed[romecsv.MustByName(romecsv.Fiche).Col("emploi_cadre")] = romecsv.FlagNo
	tx.Put(romecsv.Fiche, renamed)
	err = s.Publish(ctx, store.Publication{
		Version: store.VersionRecord{Number: 61, Label: "test", Source: store.SourceChangeSet, PublishedAt: rel.Info.PublishedAt, LastModified: rel.Info.PublishedAt},
		Rows:    tx.Changes(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(ctx, store.Publication{Version: store.VersionRecord{Number: 61, Label: "again", Source: store.SourceChangeSet}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a second version 61 must conflict, got %v", err)
	}
	v61, err := s.Load(ctx, 61)
	if err != nil {
		t.Fatal(err)
	}
	v60, err := s.Load(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	if got := cadre(v61); got != romecsv.FlagNo {
		t.Errorf("v61 emploi_cadre = %q", got)
	}
	if got := cadre(v60); got != romecsv.FlagYes {
		t.Errorf("v60 emploi_cadre = %q (time travel broken)", got)
	}
	added, removed, err := s.VersionRows(ctx, 61)
	if err != nil || len(added) != 1 || len(removed) != 1 {
		t.Fatalf("delta of 61: %d added, %d removed, %v", len(added), len(removed), err)
	}
}

func cadre(s *refdata.Snapshot) string {
	r, _ := s.Get(romecsv.Fiche, "M1805")
	return r[romecsv.MustByName(romecsv.Fiche).Col("emploi_cadre")]
}

func romecsvKey(ds *romecsv.Dataset, cols []string) string { return ds.Key(cols) }
